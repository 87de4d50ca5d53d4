//! The BLAS layer: kernel decision on every branch, OpenBLAS introspection, the thread
//! setting, and BLAS sgemm against a plain triple loop on odd shapes.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ShapeBuilder};
use seqlab::blas::{
    self, decide_kernel, is_generic_kernel, library_from_config, BlasInfo, KernelAction,
    KernelDecision, KernelInputs,
};
use seqlab::threads::threads_policy;

fn inputs<'a>(
    loaded: &'a str,
    cpu_best: Option<&'static str>,
    coretype_var: Option<&'a str>,
    restarted_from: Option<&'a str>,
) -> KernelInputs<'a> {
    KernelInputs {
        loaded,
        cpu_best,
        coretype_var,
        restarted_from,
    }
}

#[test]
fn generic_kernel_on_avx512_cpu_restarts_with_the_best_kernel() {
    let action = decide_kernel(inputs("Prescott", Some("SkylakeX"), None, None));
    assert_eq!(action, KernelAction::Restart { to: "SkylakeX" });
}

#[test]
fn generic_kernel_on_avx2_cpu_restarts_with_haswell() {
    let action = decide_kernel(inputs("Nehalem", Some("Haswell"), None, None));
    assert_eq!(action, KernelAction::Restart { to: "Haswell" });
}

#[test]
fn good_kernel_is_kept() {
    for loaded in ["SkylakeX", "Cooperlake", "Haswell", "Zen", "SapphireRapids"] {
        let action = decide_kernel(inputs(loaded, Some("SkylakeX"), None, None));
        assert_eq!(
            action,
            KernelAction::Keep(KernelDecision::AlreadyGood),
            "{loaded}"
        );
    }
}

#[test]
fn user_coretype_is_never_overridden() {
    // even when the user's choice left a generic kernel loaded
    for loaded in ["Haswell", "Prescott"] {
        let action = decide_kernel(inputs(loaded, Some("SkylakeX"), Some("Haswell"), None));
        let expected = KernelDecision::UserSet {
            value: "Haswell".into(),
        };
        assert_eq!(action, KernelAction::Keep(expected), "{loaded}");
    }
}

#[test]
fn generic_kernel_without_a_better_cpu_kernel_cannot_be_fixed() {
    let action = decide_kernel(inputs("Prescott", None, None, None));
    let KernelAction::Keep(KernelDecision::CannotFix { reason }) = action else {
        panic!("expected CannotFix, got {action:?}");
    };
    assert!(reason.contains("Prescott"), "{reason}");
}

#[test]
fn restarted_process_with_the_new_kernel_reports_fixed() {
    let action = decide_kernel(inputs(
        "SkylakeX",
        Some("SkylakeX"),
        Some("SkylakeX"),
        Some("Prescott"),
    ));
    let expected = KernelDecision::Fixed {
        from: "Prescott".into(),
        to: "SkylakeX".into(),
    };
    assert_eq!(action, KernelAction::Keep(expected));
}

#[test]
fn restarted_process_still_generic_reports_cannot_fix_and_does_not_restart_again() {
    let action = decide_kernel(inputs(
        "Prescott",
        Some("SkylakeX"),
        Some("SkylakeX"),
        Some("Prescott"),
    ));
    let KernelAction::Keep(KernelDecision::CannotFix { reason }) = action else {
        panic!("expected CannotFix, got {action:?}");
    };
    assert!(
        reason.contains("OPENBLAS_CORETYPE=SkylakeX") && reason.contains("Prescott"),
        "{reason}"
    );
}

#[test]
fn generic_kernel_names_are_recognised() {
    for name in [
        "Prescott", "prescott", "Katmai", "Core2", "Nehalem", "Atom", "Opteron",
    ] {
        assert!(is_generic_kernel(name), "{name}");
    }
    for name in ["Opteron_SSE3", "Barcelona", "Unknown", "generic", ""] {
        assert!(is_generic_kernel(name), "{name}");
    }
    for name in [
        "Haswell",
        "Zen",
        "SkylakeX",
        "Cooperlake",
        "Sandybridge",
        "SapphireRapids",
    ] {
        assert!(!is_generic_kernel(name), "{name}");
    }
}

#[test]
fn decision_display_names_the_kernels() {
    let fixed = KernelDecision::Fixed {
        from: "Prescott".into(),
        to: "SkylakeX".into(),
    };
    let text = fixed.to_string();
    assert!(
        text.contains("SkylakeX") && text.contains("Prescott"),
        "{text}"
    );
    let json = serde_json::to_string(&fixed).unwrap();
    assert_eq!(
        json,
        r#"{"decision":"fixed","from":"Prescott","to":"SkylakeX"}"#
    );
}

#[test]
fn library_is_parsed_from_the_config_string() {
    let config = "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Cooperlake MAX_THREADS=64";
    assert_eq!(library_from_config(config), "OpenBLAS 0.3.21");
    assert_eq!(library_from_config("OpenBLAS"), "OpenBLAS");
    assert_eq!(library_from_config(""), "OpenBLAS");
}

#[test]
fn blas_info_names_openblas_and_a_kernel() {
    let info = blas::blas_info();
    assert!(info.library.starts_with("OpenBLAS"), "{info:?}");
    assert!(!info.kernel.is_empty(), "{info:?}");
    assert!(info.threads >= 1, "{info:?}");
    let text = info.to_string();
    assert!(text.starts_with(&info.library), "{text}");
    assert!(text.contains(&format!("kernel {}", info.kernel)), "{text}");
}

#[test]
fn blas_info_display_matches_the_documented_form() {
    let info = BlasInfo {
        library: "OpenBLAS 0.3.21".into(),
        kernel: "SkylakeX".into(),
        threads: 2,
        own_threads: 0,
        config: String::new(),
    };
    assert_eq!(
        info.to_string(),
        "OpenBLAS 0.3.21 kernel SkylakeX, 2 threads"
    );
    let one = BlasInfo {
        threads: 1,
        ..info.clone()
    };
    assert_eq!(one.to_string(), "OpenBLAS 0.3.21 kernel SkylakeX, 1 thread");
    let own = BlasInfo {
        threads: 1,
        own_threads: 2,
        ..info
    };
    assert_eq!(
        own.to_string(),
        "OpenBLAS 0.3.21 kernel SkylakeX, 2 threads (split by seqlab, BLAS calls on 1 each)"
    );
}

// The only test that changes OpenBLAS's global thread count; it restores it.
#[test]
fn set_threads_round_trips() {
    let before = blas::threads();
    blas::set_threads(1);
    assert_eq!(blas::threads(), 1);
    blas::set_threads(2);
    assert_eq!(blas::threads(), 2);
    blas::set_threads(0); // clamped to one
    assert_eq!(blas::threads(), 1);
    blas::set_threads(before);
    assert_eq!(blas::threads(), before);
}

#[test]
fn thread_policy_uses_two_threads_only_where_the_batch_splits_and_a_core_is_free() {
    let free = || 1.8;
    let busy = || 1.0;
    let never = || -> f64 { panic!("the probe runs only when the rest allows two threads") };
    // small, medium, large (batch 32/32/64, hidden 128/256/512) on an idle second core
    assert_eq!(threads_policy(32, 128, 2, free), 2);
    assert_eq!(threads_policy(32, 256, 2, free), 2);
    assert_eq!(threads_policy(64, 512, 8, free), 2);
    // a busy second core
    assert_eq!(threads_policy(32, 256, 2, busy), 1);
    // tiny (one example) and other steps too small to split; one core
    assert_eq!(threads_policy(1, 100, 2, never), 1);
    assert_eq!(threads_policy(3, 512, 2, never), 1);
    assert_eq!(threads_policy(32, 32, 2, never), 1);
    assert_eq!(threads_policy(64, 512, 1, never), 1);
    assert!(seqlab::threads::training_threads(1, 100) == 1 || blas::user_threads().is_some());
}

/// Deterministic, irregular values in [-1, 1).
fn filled(rows: usize, cols: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        let x = (i * 31 + j * 17 + seed * 7) % 97;
        x as f32 / 48.5 - 1.0
    })
}

/// Plain triple loop in f64: `alpha * a b + beta * c`.
fn reference(
    alpha: f32,
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    beta: f32,
    c: &Array2<f32>,
) -> Array2<f64> {
    let (m, k) = a.dim();
    let n = b.ncols();
    let mut out = Array2::<f64>::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let mut sum = 0.0f64;
            for p in 0..k {
                sum += f64::from(a[[i, p]]) * f64::from(b[[p, j]]);
            }
            out[[i, j]] = f64::from(alpha) * sum + f64::from(beta) * f64::from(c[[i, j]]);
        }
    }
    out
}

/// Asserts `actual` matches `expected` within `tol` relative to the largest magnitude of
/// `expected` (at least 1); on failure prints the shape, the first values and the worst
/// difference.
fn assert_close(what: &str, actual: &Array2<f32>, expected: &Array2<f64>, tol: f64) {
    assert_eq!(actual.dim(), expected.dim(), "{what}: shape");
    let scale = expected.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let (worst, at) = actual
        .indexed_iter()
        .map(|(ix, &x)| ((f64::from(x) - expected[ix]).abs(), ix))
        .fold(
            (0.0, (0, 0)),
            |best, cur| if cur.0 > best.0 { cur } else { best },
        );
    let first: Vec<_> = actual.iter().take(4).collect();
    let first_expected: Vec<_> = expected.iter().take(4).collect();
    assert!(
        worst / scale <= tol,
        "{what}: max difference {worst:e} at {at:?} (scale {scale}); \
         first values {first:?}, expected {first_expected:?}"
    );
}

/// Runs `general_mat_mul` on `a (m, k)` and `b (k, n)` given as views (possibly
/// transposed), into a C- or F-order output, and compares with the triple loop.
fn check_gemm(what: &str, a: ArrayView2<f32>, b: ArrayView2<f32>, c_fortran: bool) {
    let (m, n) = (a.nrows(), b.ncols());
    let (alpha, beta) = (0.75f32, -0.5f32);
    let c0 = filled(m, n, 3);
    let mut c = Array2::<f32>::zeros((m, n).set_f(c_fortran));
    c.assign(&c0);
    let expected = reference(alpha, a, b, beta, &c0);
    general_mat_mul(alpha, &a, &b, beta, &mut c);
    assert_close(what, &c, &expected, 1e-5);
}

// ndarray sends a product to BLAS when any of m, n, k exceeds 7 and every operand is
// contiguous in one dimension (C or F order); the shapes below all qualify.
#[test]
fn blas_sgemm_matches_triple_loop_on_odd_shapes() {
    for (m, k, n) in [
        (7, 13, 5),
        (33, 65, 1),
        (1, 64, 1),
        (1, 1, 64),
        (9, 1, 9),
        (31, 17, 63),
    ] {
        let a = filled(m, k, 1);
        let b = filled(k, n, 2);
        for c_fortran in [false, true] {
            let what = format!("{m}x{k} * {k}x{n}, C in F order: {c_fortran}");
            check_gemm(&what, a.view(), b.view(), c_fortran);
        }
    }
}

#[test]
fn blas_sgemm_matches_triple_loop_with_transposed_operands() {
    for (m, k, n) in [(7, 13, 5), (33, 65, 1), (1, 64, 1), (17, 9, 33)] {
        // stored transposed, viewed as (m, k) and (k, n)
        let at = filled(k, m, 1);
        let bt = filled(n, k, 2);
        let a = filled(m, k, 1);
        let b = filled(k, n, 2);
        check_gemm(&format!("{m}x{k}: A^T"), at.t(), b.view(), false);
        check_gemm(&format!("{m}x{k}: B^T"), a.view(), bt.t(), false);
        check_gemm(&format!("{m}x{k}: A^T B^T"), at.t(), bt.t(), true);
    }
}

#[test]
fn blas_sgemm_matches_triple_loop_on_submatrix_views() {
    // a column block of a wider matrix: row stride larger than the row length
    let wide = filled(19, 40, 5);
    let a = wide.slice(ndarray::s![.., 3..14]); // (19, 11)
    let b = filled(11, 23, 6);
    check_gemm("19x11 block * 11x23", a, b.view(), false);
}
