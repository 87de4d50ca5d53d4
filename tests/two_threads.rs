//! Training with two threads, in its own test binary: the thread settings are global to
//! the process (OpenBLAS's and seqlab's own), so no other test runs beside it.

use std::path::Path;

use seqlab::experiment::file;

const EXPERIMENT: &str = r#"(
    name: "two_threads",
    data: Echo(length: 3000, echo: 3, validation_length: 600, seed: 3),
    model: (layers: [(kind: Lstm, size: 256)]),
    training: (updater: Adam(lr: 0.01), batch_size: 32, sequence_length: 20, threads: 2,
               iterations: 4, seed: 5, gradient_normalization: ClipGlobalL2(5.0)),
)"#;

/// Two BLAS threads on a model whose per-step products are split by seqlab's own helper
/// thread: training works and repeats bit for bit.
#[test]
fn two_thread_training_splits_products_and_is_deterministic() {
    let text = EXPERIMENT;
    let run = || {
        let e = file::from_ron_str(text, Path::new("two.ron")).unwrap();
        let mut t = seqlab::train::Trainer::new(e, &mut |_| {}).unwrap();
        assert!(
            seqlab::nn::gemm::own_threads() >= 2,
            "the split mode is on for this model"
        );
        let scores: Vec<f64> = (0..4).map(|_| t.step().unwrap().score).collect();
        (scores, t.net.params().to_vec())
    };
    let (s1, p1) = run();
    let (s2, p2) = run();
    assert!(s1.iter().all(|s| s.is_finite()));
    assert_eq!(s1, s2);
    assert!(p1 == p2, "parameters differ between two identical runs");
}
