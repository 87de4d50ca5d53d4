//! Weight initialisation. Gate-stacked matrices (LSTM `(4H, I)`, GRU `(3H, I)`) are
//! initialised block by block, each block `(H, I)` with fan-in `I` and fan-out `H`.

use ndarray::Array2;
use ndarray_linalg::QR;
use rand::rngs::StdRng;
use rand::Rng;
use rand_distr::{Distribution, Normal, StandardNormal};

use super::Float;

/// How a weight matrix is initialised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightInit {
    /// Glorot: `U(-a, a)` with `a = sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Glorot: `N(0, 2 / (fan_in + fan_out))`.
    XavierNormal,
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound.
        high: f64,
    },
    /// `N(mean, std^2)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// A (semi-)orthogonal matrix per gate block (QR of a Gaussian matrix), times `gain`.
    Orthogonal {
        /// Scale of the orthogonal matrix.
        gain: f64,
    },
    /// PyTorch's defaults, `U(-k, k)` for weights and biases alike: `k = 1/sqrt(H)` with
    /// `H` the hidden size for recurrent layers (`nn.LSTM`/`GRU`/`RNN`'s
    /// `reset_parameters`), `k = 1/sqrt(in_features)` for dense and output layers
    /// (`nn.Linear`: `kaiming_uniform_(a=sqrt(5))` on the weight gives
    /// `sqrt(6 / ((1 + 5) fan_in))`, and the bias uses `1/sqrt(fan_in)`). The caller
    /// passes `k` to [`fill_matrix`].
    PyTorch,
    /// All zeros.
    Zeros,
}

/// Fills a row-major `(gates * rows, cols)` matrix, block by block; each `(rows, cols)`
/// block is one tensor to the formulas above (fan-in `cols`, fan-out `rows`, as
/// `torch.nn.init.xavier_uniform_` etc. on that block). `pytorch_bound` is the `k` of
/// [`WeightInit::PyTorch`] (unused by the other initialisers).
pub fn fill_matrix<F: Float>(
    init: WeightInit,
    gates: usize,
    rows: usize,
    cols: usize,
    pytorch_bound: f64,
    rng: &mut StdRng,
    out: &mut [F],
) {
    assert_eq!(out.len(), gates * rows * cols, "init buffer size");
    let (fan_in, fan_out) = (cols as f64, rows as f64);
    for block in out.chunks_mut(rows * cols) {
        match init {
            WeightInit::XavierUniform => {
                let a = (6.0 / (fan_in + fan_out)).sqrt();
                block
                    .iter_mut()
                    .for_each(|w| *w = F::c(rng.random_range(-a..a)));
            }
            WeightInit::XavierNormal => {
                let std = (2.0 / (fan_in + fan_out)).sqrt();
                let n = Normal::new(0.0, std).expect("positive std");
                block.iter_mut().for_each(|w| *w = F::c(n.sample(rng)));
            }
            WeightInit::Uniform { low, high } => {
                block
                    .iter_mut()
                    .for_each(|w| *w = F::c(uniform(rng, low, high)));
            }
            WeightInit::Normal { mean, std } => {
                block.iter_mut().for_each(|w| {
                    let z: f64 = StandardNormal.sample(rng);
                    *w = F::c(mean + std * z)
                });
            }
            WeightInit::Orthogonal { gain } => {
                let q = orthogonal(rows, cols, rng);
                block
                    .iter_mut()
                    .zip(q.iter())
                    .for_each(|(w, &v)| *w = F::c(gain * v));
            }
            WeightInit::PyTorch => {
                let a = pytorch_bound;
                block
                    .iter_mut()
                    .for_each(|w| *w = F::c(uniform(rng, -a, a)));
            }
            WeightInit::Zeros => block.iter_mut().for_each(|w| *w = F::zero()),
        }
    }
}

fn uniform(rng: &mut StdRng, low: f64, high: f64) -> f64 {
    if high > low {
        rng.random_range(low..high)
    } else {
        low
    }
}

/// A `(rows, cols)` matrix with orthonormal rows (rows <= cols) or columns (rows > cols).
fn orthogonal(rows: usize, cols: usize, rng: &mut StdRng) -> Array2<f64> {
    let (big, small) = (rows.max(cols), rows.min(cols));
    let a = Array2::from_shape_fn((big, small), |_| StandardNormal.sample(rng));
    let (q, r) = a.qr().expect("QR of a Gaussian matrix");
    // make the decomposition unique (and the distribution uniform): sign of diag(R)
    let mut q = q;
    for j in 0..small {
        if r[[j, j]] < 0.0 {
            q.column_mut(j).mapv_inplace(|v: f64| -v);
        }
    }
    if rows >= cols {
        q
    } else {
        q.t().to_owned()
    }
}
