//! Finite-difference gradient checks (f64) of every layer and output kind, with and
//! without masks (padding at the end and at the start), peepholes, regularisation, and
//! from a state carried across a TBPTT segment boundary: every parameter, every input
//! value and every initial-state value.

use seqlab::nn::gradcheck::{run_case, standard_suite, Tolerance};

#[test]
fn every_suite_case_passes_the_gradient_check() {
    let suite = standard_suite();
    assert!(suite.len() >= 100, "suite shrank to {}", suite.len());
    let mut worst = (0.0f64, String::new());
    for case in &suite {
        let report = run_case(case, 7, Tolerance::default());
        for t in &report.tensors {
            assert!(t.checked > 0, "{}: {} checked nothing", report.case, t.name);
            assert_eq!(
                t.failures, 0,
                "{}: {} has {} entries off (worst rel {:.3e}, abs {:.3e})",
                report.case, t.name, t.failures, t.max_rel, t.max_abs
            );
        }
        if report.worst_rel() > worst.0 {
            worst = (report.worst_rel(), report.case.clone());
        }
    }
    eprintln!(
        "worst relative error over the suite: {:.3e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn suite_covers_every_layer_output_and_mask_kind() {
    let names: Vec<String> = standard_suite().into_iter().map(|c| c.name).collect();
    for needle in [
        "lstm_",
        "lstm_peephole",
        "hardsigmoid_softsign",
        "gru",
        "rnn_tanh",
        "rnn_relu",
        "dense",
        "_ce",
        "_mse",
        "_bce",
        "_ce_last",
        "masked_end",
        "masked_start",
        "one_to_many",
        "second_segment",
    ] {
        assert!(
            names.iter().any(|n| n.contains(needle)),
            "no case with {needle}"
        );
    }
}
