//! Dense layer applied at every time step: `y_t = act(x_t W^T + b)`; zero at masked steps.

use ndarray::{linalg::general_mat_mul, Array3, ArrayView2, ArrayView3};

use super::kernels::{add_rows, gemv_acc_view};
use super::layer::{Gradients, Layer, LayerState, Window};
use super::mask::mask_at;
use super::params::{ParamKind, ParamShape};
use super::{Activation, Float};

/// A time-distributed dense layer. Parameters: `weight (O, I)`, `bias (O)`.
pub struct Dense<F: Float> {
    /// Input width `I`.
    pub input: usize,
    /// Outputs `O`.
    pub size: usize,
    /// Activation applied after the affine map.
    pub act: Activation,
    da: Array3<F>, // (T, B, O) d loss / d pre-activation
}

impl<F: Float> Dense<F> {
    /// A dense layer `I -> O` with activation `act`.
    pub fn new(input: usize, size: usize, act: Activation) -> Self {
        Dense {
            input,
            size,
            act,
            da: Array3::zeros((0, 0, 0)),
        }
    }

    /// Number of parameters in the flat buffer: `O * I + O`.
    pub fn param_len(input: usize, size: usize) -> usize {
        size * input + size
    }

    fn params<'a>(&self, p: &'a [F]) -> (ArrayView2<'a, F>, &'a [F]) {
        let (w, b) = p.split_at(self.size * self.input);
        (
            ArrayView2::from_shape((self.size, self.input), w).expect("weight shape"),
            b,
        )
    }
}

impl<F: Float> Layer<F> for Dense<F> {
    fn input_size(&self) -> usize {
        self.input
    }

    fn size(&self) -> usize {
        self.size
    }

    fn param_shapes(&self) -> Vec<ParamShape> {
        vec![
            ParamShape::new(
                "weight",
                ParamKind::InputWeight,
                vec![self.size, self.input],
            ),
            ParamShape::new("bias", ParamKind::Bias, vec![self.size]),
        ]
    }

    /// `out (T, B, O)` from `x (T, B, I)`; no state.
    fn forward(
        &mut self,
        p: &[F],
        x: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
        _state: Option<&mut LayerState<F>>,
        out: &mut Array3<F>,
    ) {
        let (t_len, b, i_len) = x.dim();
        let (w, bias) = self.params(p);
        let x2 = x.to_shape((t_len * b, i_len)).expect("contiguous input");
        let mut o2 = out
            .view_mut()
            .into_shape_with_order((t_len * b, self.size))
            .expect("out");
        general_mat_mul(F::one(), &x2, &w.t(), F::zero(), &mut o2);
        let os = o2.as_slice_mut().expect("contiguous");
        add_rows(os, bias);
        self.act.apply_slice(os);
        if mask.is_some() {
            for (r, row) in os.chunks_exact_mut(self.size).enumerate() {
                if mask_at(mask, r / b, r % b) == F::zero() {
                    row.iter_mut().for_each(|v| *v = F::zero());
                }
            }
        }
    }

    /// Accumulates gradients from `dout (T, B, O)` given the forward's `out`; writes
    /// `dx (T, B, I)` when asked.
    fn backward(&mut self, p: &[F], window: Window<F>, grads: Gradients<F>) {
        let Window {
            x, mask, out, dout, ..
        } = window;
        let Gradients { g, dx, .. } = grads;
        let (t_len, b, i_len) = x.dim();
        let n = t_len * b;
        if self.da.dim() != out.dim() {
            self.da = Array3::zeros(out.dim());
        }
        self.da.assign(&dout);
        let (w, _) = self.params(p);
        {
            let das = self.da.as_slice_mut().expect("contiguous");
            let ys = out.to_slice().expect("contiguous out");
            // backprop through the activation; masked steps contribute nothing
            self.act.backward_slice(ys, das);
            if mask.is_some() {
                for (r, row) in das.chunks_exact_mut(self.size).enumerate() {
                    if mask_at(mask, r / b, r % b) == F::zero() {
                        row.iter_mut().for_each(|v| *v = F::zero());
                    }
                }
            }
        }
        let da2 = self.da.to_shape((n, self.size)).expect("contiguous");
        let x2 = x.to_shape((n, i_len)).expect("contiguous input");
        let (gw, gb) = g.split_at_mut(self.size * self.input);
        let mut gw =
            ndarray::ArrayViewMut2::from_shape((self.size, self.input), gw).expect("shape");
        general_mat_mul(F::one(), &da2.t(), &x2, F::one(), &mut gw);
        for row in da2.rows() {
            gb.iter_mut().zip(row.iter()).for_each(|(g, &d)| *g += d);
        }
        if let Some(mut dx) = dx {
            let mut dx2 = dx
                .view_mut()
                .into_shape_with_order((n, i_len))
                .expect("contiguous dx");
            general_mat_mul(F::one(), &da2, &w, F::zero(), &mut dx2);
        }
    }

    fn step_scratch(&self) -> usize {
        0
    }

    /// `out (O) = act(W x + b)`; no state, no scratch.
    fn step_one(&self, p: &[F], x: &[F], _state: &mut [F], h: &mut [F], _z: &mut [F]) {
        let (w, bias) = self.params(p);
        h.copy_from_slice(bias);
        gemv_acc_view(w, x, h);
        self.act.apply_slice(h);
    }
}
