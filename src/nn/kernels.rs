//! Hot-loop building blocks: the matrix-product entry point, fast `f32` transcendental
//! functions, and the CPU-feature dispatch that lets the elementwise loops use AVX2 /
//! AVX-512 in a binary built for baseline x86-64.
//!
//! # Accuracy of the `f32` functions
//! `f64` always uses the standard library's `exp`/`tanh` (gradient checks and the
//! PyTorch reference tests run in `f64` and agree to 1e-12). `f32` uses branch-free
//! approximations that the compiler vectorises (Cephes' `expf` and `tanhf` polynomials);
//! measured against `f64` over `[-30, 30]` in steps of 1e-4 (`tests/fast_math.rs`):
//! - [`exp_f32`]: relative error <= 3e-7 for `x` in `[-87, 88]` (inputs are clamped to that
//!   range, so larger inputs saturate at `exp(88)` / `exp(-87.3)` instead of `inf` / 0);
//! - [`sigmoid_f32`]: absolute error <= 1.2e-7, relative error <= 4e-7;
//! - [`tanh_f32`]: absolute error <= 1.2e-7, relative error <= 4e-7.
//!
//! That is within a few units in the last place of `f32`, far below the noise of
//! training in `f32`.

use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{ArrayRef2, LinalgScalar};

/// `C = alpha A B + beta C` through BLAS. A one-row `A` goes through GEMV
/// (`c^T = alpha B^T a^T + beta c^T`): single-example steps are matrix-vector products,
/// and a one-row view sliced out of a `(T, 1, H)` array has stride 0 on its unit axis,
/// which `ndarray` would otherwise hand to its slow non-BLAS fallback.
#[inline]
pub fn gemm<F: LinalgScalar>(
    alpha: F,
    a: &ArrayRef2<F>,
    b: &ArrayRef2<F>,
    beta: F,
    c: &mut ArrayRef2<F>,
) {
    if a.nrows() == 1 && c.nrows() == 1 {
        let x = a.row(0);
        let mut y = c.row_mut(0);
        general_mat_vec_mul(alpha, &b.t(), &x, beta, &mut y);
    } else {
        general_mat_mul(alpha, a, b, beta, c);
    }
}

/// `exp(x)` for `f32`, vectorisable (Cephes `expf`): `x` clamped to `[-87.3, 88]`,
/// `n = round(x / ln 2)`, `exp(r)` of the remainder by a degree-6 polynomial, times `2^n`
/// built in the exponent bits.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' published coefficients
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let x = x.clamp(-87.3, 88.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let e = p * r * r + r + 1.0;
    // the low mantissa bits of `shifted` hold n (two's complement, |n| <= 127)
    let ni = (shifted.to_bits() as i32).wrapping_sub(0x4B40_0000);
    let scale = f32::from_bits((ni.wrapping_add(127) as u32) << 23);
    e * scale
}

/// Logistic sigmoid for `f32`, vectorisable: `1 / (1 + exp(-x))` with [`exp_f32`].
#[inline(always)]
pub fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// `tanh(x)` for `f32`, vectorisable (Cephes `tanhf`): an odd polynomial for
/// `|x| < 0.625`, else `1 - 2 / (exp(2|x|) + 1)` with the sign of `x`; both are computed
/// and one is selected, so there is no branch.
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes' published coefficients
pub fn tanh_f32(x: f32) -> f32 {
    let ax = x.abs();
    // large |x|
    let e = exp_f32(2.0 * ax);
    let big = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    // small |x|
    let z = x * x;
    let mut p = -5.704_988_7e-3_f32;
    p = p * z + 2.063_908_9e-2;
    p = p * z - 5.373_971_6e-2;
    p = p * z + 1.333_144_2e-1;
    p = p * z - 3.333_328_2e-1;
    let small = p * z * x + x;
    if ax < 0.625 {
        small
    } else {
        big
    }
}

/// Runs `f` compiled for the best instruction set this CPU has (AVX-512, AVX2 + FMA, or
/// baseline). `f` and what it calls must be `#[inline(always)]` (or closures) for the
/// wider instructions to reach them. Floating-point results do not depend on the choice:
/// no operation is contracted or reordered, only vectorised.
#[inline(always)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        match level() {
            Level::Avx512 => {
                // SAFETY: `level` checked that the CPU has these features.
                return unsafe { with_avx512(f) };
            }
            Level::Avx2 => {
                // SAFETY: as above.
                return unsafe { with_avx2(f) };
            }
            Level::Baseline => {}
        }
    }
    f()
}

#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Baseline,
    Avx2,
    Avx512,
}

#[cfg(target_arch = "x86_64")]
fn level() -> Level {
    use std::sync::atomic::{AtomicU8, Ordering};
    static LEVEL: AtomicU8 = AtomicU8::new(0); // 0 = not yet detected
    match LEVEL.load(Ordering::Relaxed) {
        1 => Level::Baseline,
        2 => Level::Avx2,
        3 => Level::Avx512,
        _ => {
            let l = if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512vl")
                && is_x86_feature_detected!("avx512dq")
                && is_x86_feature_detected!("avx2")
                && is_x86_feature_detected!("fma")
            {
                Level::Avx512
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                Level::Avx2
            } else {
                Level::Baseline
            };
            let code = match l {
                Level::Baseline => 1,
                Level::Avx2 => 2,
                Level::Avx512 => 3,
            };
            LEVEL.store(code, Ordering::Relaxed);
            l
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl,avx512dq,avx2,fma")]
unsafe fn with_avx512<R>(f: impl FnOnce() -> R) -> R {
    f()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// `y += W x` for a row-major `W (R, C)` stored in `w`, `x (C)`, `y (R)`: the
/// single-example step's matrix-vector product. A sparse `x` (at most one in eight
/// entries non-zero, such as a one-hot character) adds only the columns of its non-zero
/// entries; otherwise BLAS GEMV.
pub fn gemv_acc<F: crate::nn::Float>(w: &[F], x: &[F], y: &mut [F]) {
    let (rows, cols) = (y.len(), x.len());
    assert_eq!(w.len(), rows * cols, "gemv: W must be (y.len(), x.len())");
    let nnz = x.iter().filter(|&&v| v != F::zero()).count();
    if nnz * 8 <= cols {
        for (j, &xj) in x.iter().enumerate() {
            if xj != F::zero() {
                for (wr, yr) in w.chunks_exact(cols).zip(y.iter_mut()) {
                    *yr += wr[j] * xj;
                }
            }
        }
        return;
    }
    let wv = ndarray::ArrayView2::from_shape((rows, cols), w).expect("shape checked");
    let xv = ndarray::ArrayView1::from(x);
    let mut yv = ndarray::ArrayViewMut1::from(y);
    general_mat_vec_mul(F::one(), &wv, &xv, F::one(), &mut yv);
}

/// `y += W x` for `W (R, C)` in any layout, `x (C)`, `y (R)`: [`gemv_acc`] for a
/// row-major `W`, BLAS GEMV otherwise. Panics (programmer error) on mismatched lengths.
pub fn gemv_acc_view<F: crate::nn::Float>(w: ndarray::ArrayView2<F>, x: &[F], y: &mut [F]) {
    match w.as_slice() {
        Some(ws) => gemv_acc(ws, x, y),
        None => {
            let xv = ndarray::ArrayView1::from(x);
            let mut yv = ndarray::ArrayViewMut1::from(y);
            general_mat_vec_mul(F::one(), &w, &xv, F::one(), &mut yv);
        }
    }
}

/// Adds `bias (N)` to every row of a row-major `(M, N)` matrix stored in `m`.
pub fn add_rows<F: crate::nn::Float>(m: &mut [F], bias: &[F]) {
    for row in m.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(z, &b)| *z += b);
    }
}
