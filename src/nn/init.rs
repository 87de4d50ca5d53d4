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
    Uniform { low: f64, high: f64 },
    /// `N(mean, std^2)`.
    Normal { mean: f64, std: f64 },
    /// A (semi-)orthogonal matrix per gate block (QR of a Gaussian matrix), times `gain`.
    Orthogonal { gain: f64 },
    /// PyTorch's default for recurrent layers and `Linear`: `U(-1/sqrt(H), 1/sqrt(H))`
    /// with `H` the block's row count (hidden size), for weights and biases alike.
    PyTorch,
    /// All zeros.
    Zeros,
}

/// Fills a row-major `(gates * rows, cols)` matrix, block by block.
pub fn fill_matrix<F: Float>(
    init: WeightInit,
    gates: usize,
    rows: usize,
    cols: usize,
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
                let a = 1.0 / fan_out.sqrt();
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
