//! The `f32` approximations of the hot loops stay within their documented error
//! (`src/nn/kernels.rs`), and the BLAS entry point agrees with a plain product.

use ndarray::{Array2, ShapeBuilder};
use seqlab::nn::kernels::{exp_f32, gemm, sigmoid_f32, tanh_f32};

/// (max absolute error, max relative error) of `f` against `exact` over [-30, 30].
fn errors(f: fn(f32) -> f32, exact: fn(f64) -> f64) -> (f64, f64) {
    let (mut abs, mut rel) = (0.0f64, 0.0f64);
    for i in -300_000..=300_000 {
        let x = i as f32 * 1e-4;
        let (got, want) = (f(x) as f64, exact(x as f64));
        let e = (got - want).abs();
        abs = abs.max(e);
        if want.abs() > 1e-30 {
            rel = rel.max(e / want.abs());
        }
    }
    (abs, rel)
}

#[test]
fn fast_exp_is_within_3e_7_relative() {
    let (_, rel) = errors(exp_f32, f64::exp);
    assert!(rel <= 3e-7, "exp relative error {rel:e}");
    assert!(exp_f32(200.0).is_finite() && exp_f32(-200.0) >= 0.0);
}

#[test]
fn fast_sigmoid_is_within_documented_error() {
    let (abs, rel) = errors(sigmoid_f32, |x| 1.0 / (1.0 + (-x).exp()));
    assert!(
        abs <= 1.2e-7 && rel <= 4e-7,
        "sigmoid errors abs {abs:e} rel {rel:e}"
    );
    assert_eq!(sigmoid_f32(100.0), 1.0);
    assert!(sigmoid_f32(-100.0) >= 0.0 && sigmoid_f32(-100.0) < 1e-30);
}

#[test]
fn fast_tanh_is_within_documented_error() {
    let (abs, rel) = errors(tanh_f32, f64::tanh);
    assert!(
        abs <= 1.2e-7 && rel <= 4e-7,
        "tanh errors abs {abs:e} rel {rel:e}"
    );
    assert_eq!(tanh_f32(0.0), 0.0);
    assert_eq!(tanh_f32(50.0), 1.0);
    assert_eq!(tanh_f32(-50.0), -1.0);
}

/// `A B` by three loops.
fn plain(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    Array2::from_shape_fn((m, n), |(i, j)| (0..k).map(|l| a[[i, l]] * b[[l, j]]).sum())
}

#[test]
fn gemm_matches_a_plain_product_on_odd_shapes() {
    for &(m, k, n) in &[
        (1, 1, 1),
        (1, 7, 13),
        (3, 1, 5),
        (17, 9, 1),
        (1, 33, 65),
        (31, 65, 47),
    ] {
        let a = Array2::from_shape_fn((m, k), |(i, j)| ((i * 7 + j * 3) % 11) as f64 - 5.0);
        let b = Array2::from_shape_fn((k, n), |(i, j)| ((i * 5 + j * 2) % 13) as f64 * 0.5);
        let want = plain(&a, &b);
        // row-major and column-major operands, transposed views, a one-row view with a
        // stride-0 unit axis (as sliced out of a (T, 1, H) array)
        let b_f = {
            let mut f = Array2::zeros((k, n).f());
            f.assign(&b);
            f
        };
        for bv in [b.view(), b_f.view()] {
            let mut c = Array2::from_elem((m, n), 1.0);
            gemm(1.0, &a, &bv, 0.0, &mut c);
            assert!(c.abs_diff_eq(&want, 1e-9), "{m}x{k}x{n}");
            let mut c2 = Array2::from_elem((n, m), 1.0);
            gemm(1.0, &bv.t(), &a.t(), 0.0, &mut c2);
            assert!(c2.abs_diff_eq(&want.t(), 1e-9), "{m}x{k}x{n} transposed");
        }
        let mut c = Array2::from_elem((m, n), 2.0);
        gemm(0.5, &a, &b, 1.0, &mut c);
        assert!(
            c.abs_diff_eq(&(want.mapv(|v| 0.5 * v + 2.0)), 1e-9),
            "{m}x{k}x{n} beta"
        );
    }
    let mut three = ndarray::Array3::<f64>::zeros((4, 1, 5));
    let (h0, mut h1) = three.multi_slice_mut((ndarray::s![0, .., ..], ndarray::s![1, .., ..]));
    assert_eq!(h0.strides()[0], 0, "the case gemm exists for");
    let w = Array2::from_shape_fn((5, 5), |(i, j)| (i + 2 * j) as f64);
    let x = Array2::from_shape_fn((1, 5), |(_, j)| j as f64);
    h1.assign(&x);
    let mut out = Array2::zeros((1, 5));
    gemm(1.0, &h1.view(), &w, 0.0, &mut out);
    assert!(out.abs_diff_eq(&plain(&x, &w), 1e-12));
}
