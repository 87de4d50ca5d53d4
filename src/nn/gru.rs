//! GRU layer, PyTorch's formulation and gate order `r, z, n`:
//!
//! ```text
//! r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
//! z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//! n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
//! h' = (1 - z) * n + z * h
//! ```
//! Both biases are kept (`b_hn` sits inside `r * (...)`, so it cannot be merged).

use ndarray::{linalg::general_mat_mul, s, Array2, Array3, ArrayView2, ArrayView3, Axis};

use super::activation::sigmoid;
use super::kernels::{add_rows, gemv_acc_view};
use super::layer::{Gradients, Layer, LayerState, StateShape, Window};
use super::mask::mask_at;
use super::params::{ParamKind, ParamShape};
use super::window::{accumulate_window, WindowGrads};
use super::Float;

/// One GRU layer. Parameters: `weight_ih (3H, I)`, `weight_hh (3H, H)`, `bias_ih (3H)`,
/// `bias_hh (3H)`.
pub struct Gru<F: Float> {
    /// Input width `I`.
    pub input: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    gx: Array3<F>,  // (T, B, 3H) input projections, then activated r, z, n
    gh: Array3<F>,  // (T, B, 3H) recurrent projections h W_hh^T + b_hh
    hs: Array3<F>,  // (T+1, B, H)
    dgx: Array3<F>, // (T, B, 3H) d loss / d input-side pre-activations
    dgh: Array3<F>, // (T, B, 3H) d loss / d recurrent-side pre-activations
    dh: Array2<F>,  // (B, H)
}

struct GruParams<'a, F> {
    w_ih: ArrayView2<'a, F>, // (3H, I)
    w_hh: ArrayView2<'a, F>, // (3H, H)
    b_ih: &'a [F],           // (3H)
    b_hh: &'a [F],           // (3H)
}

impl<F: Float> Gru<F> {
    /// A GRU layer `I -> H` (PyTorch's two biases).
    pub fn new(input: usize, hidden: usize) -> Self {
        let e3 = Array3::zeros((0, 0, 0));
        Gru {
            input,
            hidden,
            gx: e3.clone(),
            gh: e3.clone(),
            hs: e3.clone(),
            dgx: e3.clone(),
            dgh: e3,
            dh: Array2::zeros((0, 0)),
        }
    }

    /// Number of parameters in the flat buffer: `3H*I + 3H*H + 6H`.
    pub fn param_len(input: usize, hidden: usize) -> usize {
        3 * hidden * input + 3 * hidden * hidden + 6 * hidden
    }

    fn params<'a>(&self, p: &'a [F]) -> GruParams<'a, F> {
        let (h, i) = (self.hidden, self.input);
        let (w_ih, rest) = p.split_at(3 * h * i);
        let (w_hh, rest) = rest.split_at(3 * h * h);
        let (b_ih, b_hh) = rest.split_at(3 * h);
        GruParams {
            w_ih: ArrayView2::from_shape((3 * h, i), w_ih).expect("w_ih shape"),
            w_hh: ArrayView2::from_shape((3 * h, h), w_hh).expect("w_hh shape"),
            b_ih,
            b_hh,
        }
    }

    fn resize(&mut self, t_len: usize, b: usize) {
        let h = self.hidden;
        if self.gx.dim() != (t_len, b, 3 * h) {
            self.gx = Array3::zeros((t_len, b, 3 * h));
            self.gh = Array3::zeros((t_len, b, 3 * h));
            self.dgx = Array3::zeros((t_len, b, 3 * h));
            self.dgh = Array3::zeros((t_len, b, 3 * h));
            self.hs = Array3::zeros((t_len + 1, b, h));
        }
        if self.dh.dim() != (b, h) {
            self.dh = Array2::zeros((b, h));
        }
    }
}

impl<F: Float> Layer<F> for Gru<F> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn size(&self) -> usize {
        self.hidden
    }

    fn param_shapes(&self) -> Vec<ParamShape> {
        let (h, i) = (self.hidden, self.input);
        vec![
            ParamShape::new("weight_ih", ParamKind::InputWeight, vec![3 * h, i]),
            ParamShape::new("weight_hh", ParamKind::RecurrentWeight, vec![3 * h, h]),
            ParamShape::new("bias_ih", ParamKind::Bias, vec![3 * h]),
            ParamShape::new("bias_hh", ParamKind::Bias, vec![3 * h]),
        ]
    }

    /// `r, z, n`.
    fn gate_blocks(&self) -> usize {
        3
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
        let state = state.expect("GRU state");
        let (t_len, b, i_len) = x.dim();
        let h = self.hidden;
        assert_eq!(i_len, self.input, "GRU input width");
        self.resize(t_len, b);
        let prm = self.params(p);
        // input projection for every step in one GEMM, plus b_ih
        {
            let x2 = x.to_shape((t_len * b, i_len)).expect("contiguous input");
            let mut z2 = self
                .gx
                .view_mut()
                .into_shape_with_order((t_len * b, 3 * h))
                .expect("gx");
            general_mat_mul(F::one(), &x2, &prm.w_ih.t(), F::zero(), &mut z2);
            add_rows(z2.as_slice_mut().expect("contiguous"), prm.b_ih);
        }
        self.hs.index_axis_mut(Axis(0), 0).assign(state.tensor(0));
        for t in 0..t_len {
            let (h_prev, mut h_next) = self.hs.multi_slice_mut((s![t, .., ..], s![t + 1, .., ..]));
            let mut ght = self.gh.index_axis_mut(Axis(0), t);
            // recurrent projection with its own bias
            for row in ght
                .as_slice_mut()
                .expect("contiguous")
                .chunks_exact_mut(3 * h)
            {
                row.copy_from_slice(prm.b_hh);
            }
            super::kernels::gemm(F::one(), &h_prev, &prm.w_hh.t(), F::one(), &mut ght);
            let zh = ght.as_slice().expect("contiguous");
            let mut gxt = self.gx.index_axis_mut(Axis(0), t);
            let zx = gxt.as_slice_mut().expect("contiguous");
            let hp = h_prev.as_slice().expect("contiguous");
            let hn = h_next.as_slice_mut().expect("contiguous");
            let mut ot = out.index_axis_mut(Axis(0), t);
            let o_out = ot.as_slice_mut().expect("contiguous");
            for bi in 0..b {
                let r = bi * h..(bi + 1) * h;
                if mask_at(mask, t, bi) == F::zero() {
                    hn[r.clone()].copy_from_slice(&hp[r.clone()]);
                    o_out[r].iter_mut().for_each(|v| *v = F::zero());
                    continue;
                }
                let zxb = &mut zx[bi * 3 * h..(bi + 1) * 3 * h];
                let zhb = &zh[bi * 3 * h..(bi + 1) * 3 * h];
                for j in 0..h {
                    let rg = sigmoid(zxb[j] + zhb[j]);
                    let zg = sigmoid(zxb[h + j] + zhb[h + j]);
                    let ng = (zxb[2 * h + j] + rg * zhb[2 * h + j]).tanh();
                    let hv = (F::one() - zg) * ng + zg * hp[bi * h + j];
                    zxb[j] = rg;
                    zxb[h + j] = zg;
                    zxb[2 * h + j] = ng;
                    hn[bi * h + j] = hv;
                    o_out[bi * h + j] = hv;
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
        let dstate = dstate.expect("GRU state gradient");
        let (t_len, b, i_len) = x.dim();
        let h = self.hidden;
        let prm = self.params(p);
        let (gw_ih, rest) = g.split_at_mut(3 * h * i_len);
        let (gw_hh, rest) = rest.split_at_mut(3 * h * h);
        let (gb_ih, gb_hh) = rest.split_at_mut(3 * h);
        self.dh.assign(dstate.tensor(0));
        for t in (from..t_len).rev() {
            let gxt = self.gx.index_axis(Axis(0), t);
            let gates = gxt.as_slice().expect("contiguous");
            let ght = self.gh.index_axis(Axis(0), t);
            let zh = ght.as_slice().expect("contiguous");
            let hpt = self.hs.index_axis(Axis(0), t);
            let hp = hpt.as_slice().expect("contiguous");
            let do_t = dout.index_axis(Axis(0), t);
            let dos = do_t.as_standard_layout();
            let dos = dos.as_slice().expect("contiguous");
            let mut dgx_t = self.dgx.index_axis_mut(Axis(0), t);
            let dzx = dgx_t.as_slice_mut().expect("contiguous");
            let mut dgh_t = self.dgh.index_axis_mut(Axis(0), t);
            let dzh = dgh_t.as_slice_mut().expect("contiguous");
            let dh = self.dh.as_slice_mut().expect("contiguous");
            for bi in 0..b {
                let gr = bi * 3 * h..(bi + 1) * 3 * h;
                if mask_at(mask, t, bi) == F::zero() {
                    dzx[gr.clone()].iter_mut().for_each(|v| *v = F::zero());
                    dzh[gr].iter_mut().for_each(|v| *v = F::zero());
                    continue;
                }
                let (gb, zhb) = (&gates[gr.clone()], &zh[gr.clone()]);
                let (dxb, dhb_) = (&mut dzx[gr.clone()], &mut dzh[gr]);
                for j in 0..h {
                    let (rg, zg, ng) = (gb[j], gb[h + j], gb[2 * h + j]);
                    let k = bi * h + j;
                    let dhn = dos[k] + dh[k];
                    // backprop through h' = (1 - z) n + z h
                    let dn = dhn * (F::one() - zg);
                    let dzg = dhn * (hp[k] - ng);
                    dh[k] = dhn * zg; // direct path; the recurrent GEMM adds the rest
                    let dan = dn * (F::one() - ng * ng);
                    let dar = dan * zhb[2 * h + j] * rg * (F::one() - rg);
                    let daz = dzg * zg * (F::one() - zg);
                    dxb[j] = dar;
                    dxb[h + j] = daz;
                    dxb[2 * h + j] = dan;
                    dhb_[j] = dar;
                    dhb_[h + j] = daz;
                    dhb_[2 * h + j] = dan * rg;
                }
            }
            super::kernels::gemm(F::one(), &dgh_t, &prm.w_hh, F::one(), &mut self.dh);
        }
        let hp = self.hs.slice(s![..t_len, .., ..]);
        let grads = WindowGrads {
            gw_ih: Some(gw_ih),
            gw_hh,
            gb_ih: Some(gb_ih),
            gb_hh: Some(gb_hh),
            sparse_scratch: None,
        };
        accumulate_window(
            from,
            x,
            hp,
            self.dgx.view(),
            self.dgh.view(),
            prm.w_ih,
            grads,
            dx,
        );
        dstate.tensor_mut(0).assign(&self.dh);
        if from > 0 {
            dstate.fill_zero();
        }
    }

    fn step_scratch(&self) -> usize {
        6 * self.hidden
    }

    /// `state` is `h (H)`; `z (6H)` is scratch.
    fn step_one(&self, p: &[F], x: &[F], h: &mut [F], out: &mut [F], z: &mut [F]) {
        let hid = self.hidden;
        let prm = self.params(p);
        let (zx, zh) = z.split_at_mut(3 * hid);
        zx.copy_from_slice(prm.b_ih);
        zh.copy_from_slice(prm.b_hh);
        gemv_acc_view(prm.w_ih, x, zx);
        gemv_acc_view(prm.w_hh, h, zh);
        for j in 0..hid {
            let rg = sigmoid(zx[j] + zh[j]);
            let zg = sigmoid(zx[hid + j] + zh[hid + j]);
            let ng = (zx[2 * hid + j] + rg * zh[2 * hid + j]).tanh();
            h[j] = (F::one() - zg) * ng + zg * h[j];
        }
        out.copy_from_slice(h);
    }
}
