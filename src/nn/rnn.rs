//! Simple (Elman) RNN layer: `h' = act(x W_ih^T + h W_hh^T + b)` with tanh or relu, `b`
//! being `b_ih + b_hh` (PyTorch's two biases, each trained) or one bias.

use ndarray::{linalg::general_mat_mul, s, Array3, ArrayView2, ArrayView3, Axis};

use super::kernels::{add_rows, gemv_acc_view};
use super::layer::{Gradients, Layer, LayerState, StateShape, Window};
use super::mask::mask_at;
use super::params::{ParamKind, ParamShape};
use super::window::{accumulate_window, WindowGrads};
use super::{Activation, Float};

/// One simple RNN layer. Parameters: `weight_ih (H, I)`, `weight_hh (H, H)`,
/// `bias_ih (H)`, `bias_hh (H)` (PyTorch's; with `two_biases` false one `bias (H)`).
pub struct Rnn<F: Float> {
    /// Input width `I`.
    pub input: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// `tanh` or `relu`.
    pub act: Activation,
    /// `bias_ih` and `bias_hh` (PyTorch) rather than one `bias`.
    pub two_biases: bool,
    hs: Array3<F>, // (T+1, B, H)
    da: Array3<F>, // (T, B, H) d loss / d pre-activation
    dh: ndarray::Array2<F>,
}

impl<F: Float> Rnn<F> {
    /// An RNN layer `I -> H` with activation `act`, two biases or one.
    pub fn new(input: usize, hidden: usize, act: Activation, two_biases: bool) -> Self {
        Rnn {
            input,
            hidden,
            act,
            two_biases,
            hs: Array3::zeros((0, 0, 0)),
            da: Array3::zeros((0, 0, 0)),
            dh: ndarray::Array2::zeros((0, 0)),
        }
    }

    /// Number of parameters in the flat buffer.
    pub fn param_len(input: usize, hidden: usize, two_biases: bool) -> usize {
        hidden * input + hidden * hidden + if two_biases { 2 * hidden } else { hidden }
    }

    /// `(W_ih (H, I), W_hh (H, H), bias_ih or bias (H), bias_hh (H) with two biases)`.
    #[allow(clippy::type_complexity)]
    fn params<'a>(
        &self,
        p: &'a [F],
    ) -> (
        ArrayView2<'a, F>,
        ArrayView2<'a, F>,
        &'a [F],
        Option<&'a [F]>,
    ) {
        let (h, i) = (self.hidden, self.input);
        let (w_ih, rest) = p.split_at(h * i);
        let (w_hh, bias) = rest.split_at(h * h);
        let (bias, bias_hh) = match self.two_biases {
            true => {
                let (b_ih, b_hh) = bias.split_at(h);
                (b_ih, Some(b_hh))
            }
            false => (bias, None),
        };
        (
            ArrayView2::from_shape((h, i), w_ih).expect("w_ih shape"),
            ArrayView2::from_shape((h, h), w_hh).expect("w_hh shape"),
            bias,
            bias_hh,
        )
    }
}

impl<F: Float> Layer<F> for Rnn<F> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn size(&self) -> usize {
        self.hidden
    }

    fn param_shapes(&self) -> Vec<ParamShape> {
        let (h, i) = (self.hidden, self.input);
        let mut v = vec![
            ParamShape::new("weight_ih", ParamKind::InputWeight, vec![h, i]),
            ParamShape::new("weight_hh", ParamKind::RecurrentWeight, vec![h, h]),
        ];
        if self.two_biases {
            v.push(ParamShape::new("bias_ih", ParamKind::Bias, vec![h]));
            v.push(ParamShape::new("bias_hh", ParamKind::Bias, vec![h]));
        } else {
            v.push(ParamShape::new("bias", ParamKind::Bias, vec![h]));
        }
        v
    }

    fn state_shapes(&self) -> Vec<StateShape> {
        vec![StateShape {
            name: "h",
            width: self.hidden,
        }]
    }

    fn forward(
        &mut self,
        p: &[F],
        x: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
        state: Option<&mut LayerState<F>>,
        out: &mut Array3<F>,
    ) {
        let state = state.expect("RNN state");
        let (t_len, b, i_len) = x.dim();
        let h = self.hidden;
        assert_eq!(i_len, self.input, "RNN input width");
        if self.hs.dim() != (t_len + 1, b, h) {
            self.hs = Array3::zeros((t_len + 1, b, h));
            self.da = Array3::zeros((t_len, b, h));
            self.dh = ndarray::Array2::zeros((b, h));
        }
        let (w_ih, w_hh, bias, bias_hh) = self.params(p);
        // pre-activations of every step's input part into `out`, one GEMM, plus biases
        {
            let x2 = x.to_shape((t_len * b, i_len)).expect("contiguous input");
            let mut o2 = out
                .view_mut()
                .into_shape_with_order((t_len * b, h))
                .expect("out");
            general_mat_mul(F::one(), &x2, &w_ih.t(), F::zero(), &mut o2);
            add_rows(o2.as_slice_mut().expect("contiguous"), bias);
            if let Some(b_hh) = bias_hh {
                add_rows(o2.as_slice_mut().expect("contiguous"), b_hh);
            }
        }
        self.hs.index_axis_mut(Axis(0), 0).assign(state.tensor(0));
        for t in 0..t_len {
            let (h_prev, mut h_next) = self.hs.multi_slice_mut((s![t, .., ..], s![t + 1, .., ..]));
            let mut ot = out.index_axis_mut(Axis(0), t);
            super::kernels::gemm(F::one(), &h_prev, &w_hh.t(), F::one(), &mut ot);
            let os = ot.as_slice_mut().expect("contiguous");
            self.act.apply_slice(os);
            let hp = h_prev.as_slice().expect("contiguous");
            let hn = h_next.as_slice_mut().expect("contiguous");
            for bi in 0..b {
                let r = bi * h..(bi + 1) * h;
                if mask_at(mask, t, bi) == F::zero() {
                    hn[r.clone()].copy_from_slice(&hp[r.clone()]);
                    os[r].iter_mut().for_each(|v| *v = F::zero());
                } else {
                    hn[r.clone()].copy_from_slice(&os[r]);
                }
            }
        }
        state
            .tensor_mut(0)
            .assign(&self.hs.index_axis(Axis(0), t_len));
    }

    fn backward(&mut self, p: &[F], window: Window<F>, grads: Gradients<F>) {
        let Window {
            x,
            mask,
            from,
            dout,
            ..
        } = window;
        let Gradients { g, dx, dstate } = grads;
        let dstate = dstate.expect("RNN state gradient");
        let (t_len, b, i_len) = x.dim();
        let h = self.hidden;
        let (w_ih, w_hh, _, _) = self.params(p);
        let (gw_ih, rest) = g.split_at_mut(h * i_len);
        let (gw_hh, gb) = rest.split_at_mut(h * h);
        // two biases: `bias_hh` gets the same gradient as `bias_ih`
        let (gb, gb_hh) = match self.two_biases {
            true => {
                let (g_ih, g_hh) = gb.split_at_mut(h);
                (g_ih, Some(g_hh))
            }
            false => (gb, None),
        };
        self.dh.assign(dstate.tensor(0));
        for t in (from..t_len).rev() {
            let hnt = self.hs.index_axis(Axis(0), t + 1);
            let hn = hnt.as_slice().expect("contiguous");
            let do_t = dout.index_axis(Axis(0), t);
            let dos = do_t.as_standard_layout();
            let dos = dos.as_slice().expect("contiguous");
            let mut dat = self.da.index_axis_mut(Axis(0), t);
            let da = dat.as_slice_mut().expect("contiguous");
            let dh = self.dh.as_slice_mut().expect("contiguous");
            for bi in 0..b {
                let r = bi * h..(bi + 1) * h;
                if mask_at(mask, t, bi) == F::zero() {
                    da[r].iter_mut().for_each(|v| *v = F::zero());
                    continue;
                }
                for k in r {
                    // backprop through act(a)
                    da[k] = (dos[k] + dh[k]) * self.act.derivative_from_output(hn[k]);
                    dh[k] = F::zero(); // refilled by the recurrent GEMM below
                }
            }
            super::kernels::gemm(F::one(), &dat, &w_hh, F::one(), &mut self.dh);
        }
        let hp = self.hs.slice(s![..t_len, .., ..]);
        let grads = WindowGrads {
            gw_ih: Some(gw_ih),
            gw_hh,
            gb_ih: Some(gb),
            gb_hh,
            sparse_scratch: None,
        };
        accumulate_window(from, x, hp, self.da.view(), self.da.view(), w_ih, grads, dx);
        dstate.tensor_mut(0).assign(&self.dh);
        if from > 0 {
            dstate.fill_zero();
        }
    }

    fn step_scratch(&self) -> usize {
        self.hidden
    }

    /// `state` is `h (H)`; `z (H)` is scratch.
    fn step_one(&self, p: &[F], x: &[F], h: &mut [F], out: &mut [F], z: &mut [F]) {
        let (w_ih, w_hh, bias, bias_hh) = self.params(p);
        z.copy_from_slice(bias);
        if let Some(b_hh) = bias_hh {
            z.iter_mut().zip(b_hh).for_each(|(z, &v)| *z += v);
        }
        gemv_acc_view(w_ih, x, z);
        gemv_acc_view(w_hh, h, z);
        self.act.apply_slice(z);
        h.copy_from_slice(z);
        out.copy_from_slice(z);
    }
}
