//! Output layer: a dense projection at every step (or only at each sequence's last
//! real step) followed by its loss.
//!
//! The score is the **mean loss over unmasked (example, step) positions**, so it reads
//! as nats per step and equals PyTorch's `CrossEntropyLoss`, `MSELoss` and
//! `BCEWithLogitsLoss` with `reduction="mean"` (MSE and BCE average over the output
//! columns too). DL4J instead divides the summed loss by the minibatch size only.

use super::pool::SharedMut;
use ndarray::{linalg::general_mat_mul, Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut3};

use super::activation::sigmoid;
use super::kernels::add_rows;
use super::mask::mask_at;
use super::Float;

/// An output activation together with its loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Softmax + multi-class cross-entropy (labels one-hot or probabilities).
    SoftmaxCrossEntropy,
    /// Identity + mean squared error (regression).
    Mse,
    /// Sigmoid + binary cross-entropy (multi-label).
    SigmoidBinaryCrossEntropy,
}

/// Where the output layer produces predictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputMode {
    /// One prediction per time step; labels `(T, B, O)`.
    EveryStep,
    /// One prediction per sequence from its last unmasked step (DL4J's LastTimeStep);
    /// labels `(1, B, O)`.
    LastStep,
}

/// Sum of the per-position losses and the number of positions that count.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossValue {
    /// Sum of the losses of the positions that count.
    pub sum: f64,
    /// Positions that count (mask weights summed).
    pub count: f64,
}

impl LossValue {
    /// Mean loss per counted position (0 when nothing counted).
    pub fn mean(&self) -> f64 {
        if self.count > 0.0 {
            self.sum / self.count
        } else {
            0.0
        }
    }
}

/// The output projection: `weight (O, H)`, `bias (O)` in the flat buffer.
pub struct OutputLayer<F: Float> {
    /// Input width (the top hidden layer's size, or `I`).
    pub input: usize,
    /// Outputs `O`.
    pub size: usize,
    /// The loss and its activation.
    pub loss: Loss,
    /// Every step or the last step only.
    pub mode: OutputMode,
    rows: Array2<F>,      // (N, H) gathered inputs (LastStep only)
    z: Array2<F>,         // (N, O) pre-activations
    dz: Array2<F>,        // (N, O) d loss / d pre-activations
    last: Vec<usize>,     // per example, the step used in LastStep mode
    row_losses: Vec<f64>, // (N) loss of each row of the last `loss` call
}

impl<F: Float> OutputLayer<F> {
    /// An output layer `input -> size`.
    pub fn new(input: usize, size: usize, loss: Loss, mode: OutputMode) -> Self {
        OutputLayer {
            input,
            size,
            loss,
            mode,
            rows: Array2::zeros((0, 0)),
            z: Array2::zeros((0, 0)),
            dz: Array2::zeros((0, 0)),
            row_losses: Vec::new(),
            last: Vec::new(),
        }
    }

    /// Number of parameters: `O * input + O`.
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

    /// Computes the pre-activations for `a (T, B, H)`; returns them as `(N, O)` rows,
    /// N = T*B (every step, time-major) or B (last step).
    pub fn forward(
        &mut self,
        p: &[F],
        a: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
    ) -> ArrayView2<'_, F> {
        let (t_len, b, h) = a.dim();
        let (w, bias) = self.params(p);
        let n = match self.mode {
            OutputMode::EveryStep => t_len * b,
            OutputMode::LastStep => b,
        };
        if self.z.dim() != (n, self.size) {
            self.z = Array2::zeros((n, self.size));
            self.dz = Array2::zeros((n, self.size));
        }
        match self.mode {
            OutputMode::EveryStep => {
                let a2 = a.to_shape((n, h)).expect("contiguous activations");
                super::pool::par_mat_mul(
                    F::one(),
                    &a2.view(),
                    &w.t(),
                    F::zero(),
                    &mut self.z.view_mut(),
                );
            }
            OutputMode::LastStep => {
                if self.rows.dim() != (b, h) {
                    self.rows = Array2::zeros((b, h));
                }
                self.last = last_steps(t_len, b, mask);
                for (bi, &t) in self.last.iter().enumerate() {
                    self.rows
                        .row_mut(bi)
                        .assign(&a.slice(ndarray::s![t, bi, ..]));
                }
                general_mat_mul(F::one(), &self.rows, &w.t(), F::zero(), &mut self.z);
            }
        }
        add_rows(self.z.as_slice_mut().expect("contiguous"), bias);
        self.z.view()
    }

    /// The activated predictions for the rows of the last forward pass, `(N, O)`:
    /// probabilities (softmax, sigmoid) or values (identity).
    pub fn predictions(&self) -> Array2<F> {
        let mut y = self.z.clone();
        for mut row in y.rows_mut() {
            let r = row.as_slice_mut().expect("contiguous");
            match self.loss {
                Loss::SoftmaxCrossEntropy => softmax_in_place(r),
                Loss::Mse => {}
                Loss::SigmoidBinaryCrossEntropy => r.iter_mut().for_each(|v| *v = sigmoid(*v)),
            }
        }
        y
    }

    /// Loss of the last forward pass against `labels` ((T, B, O) or (1, B, O)), with
    /// the gradient w.r.t. the pre-activations kept for [`Self::backward`], scaled by
    /// `1 / count` so the gradient is that of the mean.
    pub fn loss(&mut self, labels: ArrayView3<F>, label_mask: Option<ArrayView2<F>>) -> LossValue {
        let o = self.size;
        let (lt, lb, lo) = labels.dim();
        assert_eq!(lo, o, "label width must equal the output size");
        assert_eq!(lt * lb, self.z.nrows(), "labels must match the output rows");
        let labels2 = labels.to_shape((lt * lb, o)).expect("contiguous labels");
        let ys = labels2.as_slice().expect("standard layout");
        let n = self.z.nrows();
        // the weights of the counted rows, in row order
        let count: f64 = (0..n)
            .map(|r| mask_at(label_mask, r / lb, r % lb))
            .filter(|&w| w != F::zero())
            .map(|w| w.f64())
            .sum();
        let inv = if count > 0.0 {
            F::c(1.0 / count)
        } else {
            F::one()
        };
        self.row_losses.resize(n, 0.0);
        let (zs, loss) = (self.z.as_slice().expect("contiguous"), self.loss);
        let dz = SharedMut(self.dz.as_mut_ptr());
        let losses = SharedMut(self.row_losses.as_mut_ptr());
        // each row on its own: the rows can be split over threads with the same result
        let rows_loss = |rows: std::ops::Range<usize>| {
            // SAFETY: ranges run at the same time are disjoint rows of `dz (N, O)` and
            // `row_losses (N)`, both borrowed mutably by this call.
            let (ds, ls) = unsafe {
                (
                    dz.slice(rows.start * o, rows.len() * o),
                    losses.slice(rows.start, rows.len()),
                )
            };
            for ((r, ds), l) in rows.zip(ds.chunks_exact_mut(o)).zip(ls) {
                let w = mask_at(label_mask, r / lb, r % lb);
                if w == F::zero() {
                    ds.iter_mut().for_each(|d| *d = F::zero());
                    *l = 0.0;
                    continue;
                }
                *l = row_loss(loss, &zs[r * o..(r + 1) * o], &ys[r * o..(r + 1) * o], ds);
                ds.iter_mut().for_each(|d| *d = *d * w * inv);
            }
        };
        let run = |rows: std::ops::Range<usize>| {
            super::kernels::dispatch(
                #[inline(always)]
                || rows_loss(rows),
            )
        };
        super::pool::split_ranges(n * o >= 1 << 14, n, 4, 1, &run);
        let sum = (0..n)
            .map(|r| (mask_at(label_mask, r / lb, r % lb), self.row_losses[r]))
            .filter(|&(w, _)| w != F::zero())
            .fold(0.0, |s, (w, l)| s + w.f64() * l);
        LossValue { sum, count }
    }

    /// Drops the loss gradient of the first `rows` rows (positions before a truncated
    /// backward window).
    pub fn drop_rows_before(&mut self, rows: usize) {
        self.dz.slice_mut(ndarray::s![..rows, ..]).fill(F::zero());
    }

    /// Backpropagates the kept loss gradient: accumulates `weight`/`bias` gradients and
    /// writes d loss / d `a` into `da (T, B, H)`.
    pub fn backward(&mut self, p: &[F], g: &mut [F], a: ArrayView3<F>, mut da: ArrayViewMut3<F>) {
        let (t_len, b, h) = a.dim();
        let (w, _) = self.params(p);
        let (gw, gb) = g.split_at_mut(self.size * self.input);
        let mut gw =
            ndarray::ArrayViewMut2::from_shape((self.size, self.input), gw).expect("shape");
        for row in self.dz.rows() {
            gb.iter_mut().zip(row.iter()).for_each(|(g, &d)| *g += d);
        }
        match self.mode {
            OutputMode::EveryStep => {
                let a2 = a.to_shape((t_len * b, h)).expect("contiguous activations");
                super::pool::par_mat_mul(F::one(), &self.dz.t(), &a2.view(), F::one(), &mut gw);
                let mut da2 = da
                    .view_mut()
                    .into_shape_with_order((t_len * b, h))
                    .expect("contiguous da");
                super::pool::par_mat_mul(F::one(), &self.dz.view(), &w, F::zero(), &mut da2);
            }
            OutputMode::LastStep => {
                general_mat_mul(F::one(), &self.dz.t(), &self.rows, F::one(), &mut gw);
                da.fill(F::zero());
                let drows = self.dz.dot(&w);
                for (bi, &t) in self.last.iter().enumerate() {
                    da.slice_mut(ndarray::s![t, bi, ..]).assign(&drows.row(bi));
                }
            }
        }
    }

    /// Activated predictions reshaped to `(T', B, O)`.
    pub fn predictions3(&self, t_len: usize, b: usize) -> Array3<F> {
        let t_out = match self.mode {
            OutputMode::EveryStep => t_len,
            OutputMode::LastStep => 1,
        };
        self.predictions()
            .into_shape_with_order((t_out, b, self.size))
            .expect("prediction rows")
    }
}

/// Per example, the last step whose mask is non-zero (the last step when unmasked).
pub fn last_steps<F: Float>(t_len: usize, b: usize, mask: Option<ArrayView2<F>>) -> Vec<usize> {
    (0..b)
        .map(|bi| match mask {
            None => t_len - 1,
            Some(m) => (0..t_len)
                .rev()
                .find(|&t| m[[t, bi]] != F::zero())
                .unwrap_or(t_len - 1),
        })
        .collect()
}

/// Loss of one position and its gradient w.r.t. the pre-activations `z` (written to `dz`).
fn row_loss<F: Float>(loss: Loss, z: &[F], y: &[F], dz: &mut [F]) -> f64 {
    let inv_o = 1.0 / z.len() as f64;
    match loss {
        Loss::SoftmaxCrossEntropy => {
            // one exponential per entry (fast_exp: vectorised for f32, exact for f64)
            let m = z.iter().fold(F::neg_infinity(), |a, &b| a.max(b));
            dz.iter_mut()
                .zip(z)
                .for_each(|(d, &v)| *d = (v - m).fast_exp());
            let sum_exp: F = dz.iter().copied().sum();
            let lse = m + sum_exp.ln();
            let y_sum: F = y.iter().copied().sum();
            // d/dz of -sum y log softmax(z) = softmax(z) * sum(y) - y
            let scale = y_sum / sum_exp;
            dz.iter_mut()
                .zip(y)
                .for_each(|(d, &yv)| *d = *d * scale - yv);
            let mut l = 0.0;
            for (&zv, &yv) in z.iter().zip(y) {
                if yv != F::zero() {
                    l += (yv * (lse - zv)).f64();
                }
            }
            l
        }
        Loss::Mse => {
            let mut l = 0.0;
            for ((d, &zv), &yv) in dz.iter_mut().zip(z).zip(y) {
                let e = zv - yv;
                *d = F::c(2.0 * inv_o) * e;
                l += (e * e).f64();
            }
            l * inv_o
        }
        Loss::SigmoidBinaryCrossEntropy => {
            let mut l = 0.0;
            for ((d, &zv), &yv) in dz.iter_mut().zip(z).zip(y) {
                // stable: max(z, 0) - z y + log(1 + exp(-|z|))
                l += (zv.max(F::zero()) - zv * yv + (-zv.abs()).exp().ln_1p()).f64();
                *d = (sigmoid(zv) - yv) * F::c(inv_o);
            }
            l * inv_o
        }
    }
}

/// Numerically stable softmax of one row, in place.
pub fn softmax_in_place<F: Float>(r: &mut [F]) {
    let m = r.iter().fold(F::neg_infinity(), |a, &b| a.max(b));
    let mut s = F::zero();
    for v in r.iter_mut() {
        *v = (*v - m).exp();
        s += *v;
    }
    r.iter_mut().for_each(|v| *v /= s);
}
