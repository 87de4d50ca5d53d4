//! Static validation of experiments: each out-of-range or inapplicable value is reported
//! with its field path and what is allowed, before anything runs.

use std::path::Path;

use seqlab::experiment::error::ExperimentError;
use seqlab::experiment::file::from_ron_str;
use seqlab::experiment::schema::Experiment;
use seqlab::experiment::validate::{problems, validate, validate_against_data, DataShape};

/// The field and message of the (first) problem of `text`.
fn problem(text: &str) -> (String, String) {
    match from_ron_str(text, Path::new("exp.ron")) {
        Ok(e) => panic!("expected a problem in {text:?}, got {e:?}"),
        Err(e @ ExperimentError::Field { .. }) => {
            (e.field_path().unwrap().to_string(), e.to_string())
        }
        Err(other) => panic!("expected a field problem in {text:?}, got {other}"),
    }
}

/// Asserts the first problem of `text` is at `field` and its message contains `needle`.
fn check(text: &str, field: &str, needle: &str) {
    let (got, msg) = problem(text);
    assert_eq!(got, field, "{msg}");
    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
    assert!(msg.starts_with("exp.ron: "), "{msg}");
}

const CSV_CLASSES: &str =
    "data: Csv(features: Files([\"a.csv\"]), task: Classification(classes: 6))";
const CSV_REGRESSION: &str = "data: Csv(features: Files([\"a.csv\"]), task: Regression)";

#[test]
fn valid_files_pass() {
    for text in [
        "()",
        "(model: (layers: []))", // the output layer directly on the inputs
        "(data: Echo(), training: (updater: Sgd(lr: 0.1), tbptt: (forward: 15, backward: 15)))",
        &format!("({CSV_CLASSES}, model: (output: (size: 6, mode: LastStep)))"),
        &format!("({CSV_REGRESSION}, model: (output: (loss: BinaryCrossEntropy)))"),
        "(model: (layers: [(kind: Rnn, activation: Relu), (kind: Dense, activation: LeakyRelu(0.1))]))",
        "(model: (layers: [(gate_activation: HardSigmoid, peephole: true, activation: Softsign)]))",
    ] {
        if let Err(e) = from_ron_str(text, Path::new("exp.ron")) {
            panic!("{text}: {e}");
        }
    }
}

/// Training stops at the first limit reached, so a zero limit beside another one still
/// trains nothing (a run of `seqlab --run --set training.iterations=0` on a file with
/// `epochs: 2` completed after 0 iterations).
#[test]
fn a_zero_limit_is_refused_even_beside_another() {
    for (text, field) in [
        (
            "(training: (iterations: 0, epochs: 2))",
            "training.iterations",
        ),
        ("(training: (iterations: 5, epochs: 0))", "training.epochs"),
    ] {
        let e = from_ron_str(text, Path::new("exp.ron"))
            .expect_err(text)
            .to_string();
        assert!(
            e.contains(field) && e.contains("nothing would be trained"),
            "{text}: {e}"
        );
    }
}

#[test]
fn learning_rate_must_be_positive_and_finite() {
    check(
        "(training: (updater: Adam(lr: 0.0)))",
        "training.updater.Adam.lr",
        "greater than 0",
    );
    check(
        "(training: (updater: RmsProp(lr: -1.0)))",
        "training.updater.RmsProp.lr",
        "is -1",
    );
    check(
        "(training: (updater: Sgd(lr: inf)))",
        "training.updater.Sgd.lr",
        "finite",
    );
    check(
        "(training: (updater: AdaDelta(lr: NaN)))",
        "training.updater.AdaDelta.lr",
        "is NaN",
    );
}

#[test]
fn betas_must_be_in_unit_interval_and_eps_positive() {
    check(
        "(training: (updater: Adam(beta1: 1.0)))",
        "training.updater.Adam.beta1",
        "[0, 1)",
    );
    check(
        "(training: (updater: AdamW(beta2: -0.1)))",
        "training.updater.AdamW.beta2",
        "[0, 1)",
    );
    check(
        "(training: (updater: Nadam(eps: 0.0)))",
        "training.updater.Nadam.eps",
        "greater than 0",
    );
    check(
        "(training: (updater: RmsProp(alpha: 1.5)))",
        "training.updater.RmsProp.alpha",
        "[0, 1)",
    );
    check(
        "(training: (updater: Momentum(momentum: 1.0)))",
        "training.updater.Momentum.momentum",
        "[0, 1)",
    );
    check(
        "(training: (updater: Momentum(momentum: 0.0, nesterov: true)))",
        "training.updater.Momentum.nesterov",
        "needs momentum > 0",
    );
}

#[test]
fn sizes_must_be_at_least_one() {
    check(
        "(model: (layers: [(size: 8), (size: 0)]))",
        "model.layers[1].size",
        "at least 1 unit",
    );
    check(
        "(training: (batch_size: 0))",
        "training.batch_size",
        "at least 1",
    );
    check(
        "(training: (sequence_length: 0))",
        "training.sequence_length",
        "at least 1",
    );
    check(
        "(model: (output: (size: 0)))",
        "model.output.size",
        "at least 1",
    );
}

#[test]
fn dropout_and_regularisation_ranges() {
    check(
        "(model: (layers: [(dropout: 1.0)]))",
        "model.layers[0].dropout",
        "[0, 1)",
    );
    check(
        "(model: (output: (dropout: -0.5)))",
        "model.output.dropout",
        "[0, 1)",
    );
    check(
        "(model: (layers: [(l2: -0.1)]))",
        "model.layers[0].l2",
        ">= 0",
    );
    check(
        "(model: (output: (l1_bias: -1.0)))",
        "model.output.l1_bias",
        ">= 0",
    );
}

#[test]
fn tbptt_backward_at_most_forward_and_not_zero() {
    check(
        "(training: (tbptt: (forward: 10, backward: 20)))",
        "training.tbptt.backward",
        "is 20 but forward is 10; backward must be at most forward",
    );
    check(
        "(training: (tbptt: (forward: 0, backward: 0)))",
        "training.tbptt.forward",
        "at least 1",
    );
    check(
        "(training: (tbptt: (forward: 10, backward: 0)))",
        "training.tbptt.backward",
        "at least 1",
    );
}

#[test]
fn tbptt_does_not_go_with_last_step_output() {
    check(
        &format!("({CSV_CLASSES}, model: (output: (mode: LastStep)), training: (tbptt: (forward: 10, backward: 10)))"),
        "training.tbptt",
        "LastStep",
    );
}

#[test]
fn last_step_output_needs_sequences() {
    check(
        "(model: (output: (mode: LastStep)))",
        "model.output.mode",
        "use EveryStep",
    );
}

#[test]
fn early_stopping_patience_zero_is_refused() {
    check(
        "(training: (early_stopping: (patience: 0)))",
        "training.early_stopping.patience",
        "at least 1",
    );
}

#[test]
fn sampling_temperature_must_be_positive() {
    check(
        "(sampling: (temperature: 0.0))",
        "sampling.temperature",
        "greater than 0",
    );
    check(
        "(sampling: (temperature: -1.0))",
        "sampling.temperature",
        "greedy: true",
    );
}

#[test]
fn periods_must_be_at_least_one() {
    check("(evaluation: (every: 0))", "evaluation.every", "at least 1");
    check("(sampling: (every: 0))", "sampling.every", "at least 1");
    check(
        "(training: (checkpoint_every: 0))",
        "training.checkpoint_every",
        "at least 1",
    );
    check("(training: (threads: 0))", "training.threads", "at least 1");
    check(
        "(training: (schedule: Warmup(steps: 5, then: Step(every: 0, gamma: 0.5))))",
        "training.schedule.Warmup.then.Step.every",
        "at least 1",
    );
}

#[test]
fn epochs_and_iterations_both_zero_train_nothing() {
    check(
        "(training: (iterations: 0, epochs: 0))",
        "training.iterations",
        "nothing would be trained",
    );
    check(
        "(training: (epochs: 0))",
        "training.epochs",
        "nothing would be trained",
    );
}

#[test]
fn loss_must_fit_the_data() {
    check(
        "(model: (output: (loss: Mse)))",
        "model.output.loss",
        "use CrossEntropy",
    );
    check(
        "(data: Echo(), model: (output: (loss: BinaryCrossEntropy)))",
        "model.output.loss",
        "use CrossEntropy",
    );
    check(
        &format!("({CSV_CLASSES}, model: (output: (loss: Mse)))"),
        "model.output.loss",
        "is Mse but the task is classification",
    );
    check(
        &format!("({CSV_REGRESSION}, model: (output: (loss: CrossEntropy)))"),
        "model.output.loss",
        "is CrossEntropy but the task is regression; use Mse",
    );
}

#[test]
fn output_size_must_match_the_class_count() {
    check(
        &format!("({CSV_CLASSES}, model: (output: (size: 5)))"),
        "model.output.size",
        "is 5 but the task has 6 classes; remove `size` or set it to 6",
    );
}

#[test]
fn activations_must_suit_the_layer_kind() {
    check(
        "(model: (layers: [(kind: Rnn, activation: Sigmoid)]))",
        "model.layers[0].activation",
        "Tanh or Relu",
    );
    check(
        "(model: (layers: [(gate_activation: Tanh)]))",
        "model.layers[0].gate_activation",
        "Sigmoid or HardSigmoid",
    );
    check(
        "(model: (layers: [(kind: Gru, activation: Tanh)]))",
        "model.layers[0].activation",
        "fixed",
    );
}

#[test]
fn lstm_only_fields_are_refused_elsewhere() {
    check(
        "(model: (layers: [(kind: Gru, peephole: true)]))",
        "model.layers[0].peephole",
        "is set on a Gru layer; it only applies to Lstm layers",
    );
    check(
        "(model: (layers: [(kind: Rnn, gate_activation: Sigmoid)]))",
        "model.layers[0].gate_activation",
        "only applies to Lstm",
    );
    check(
        "(model: (layers: [(kind: Dense, forget_bias: 0.0)]))",
        "model.layers[0].forget_bias",
        "only applies to Lstm",
    );
    check(
        "(model: (layers: [(kind: Dense, recurrent_init: Orthogonal(gain: 1.0))]))",
        "model.layers[0].recurrent_init",
        "recurrent layers",
    );
}

#[test]
fn init_parameters_are_checked() {
    check(
        "(model: (layers: [(weight_init: Uniform(low: 1.0, high: -1.0))]))",
        "model.layers[0].weight_init.Uniform",
        "low must be less than high",
    );
    check(
        "(model: (layers: [(recurrent_init: Normal(mean: 0.0, std: 0.0))]))",
        "model.layers[0].recurrent_init.Normal.std",
        "greater than 0",
    );
}

#[test]
fn data_settings_are_checked() {
    check(
        "(data: Text())",
        "data.Text.path",
        "set it to the text file",
    );
    check(
        "(data: Text(path: \"a.txt\", validation: 0.6, test: 0.5))",
        "data.Text.test",
        "less than 1",
    );
    check(
        "(data: Sentence(text: \"a\"))",
        "data.Sentence.text",
        "at least 2 characters",
    );
    check(
        "(data: Echo(length: 3, echo: 3))",
        "data.Echo.length",
        "longer than the echo",
    );
    check("(data: Csv())", "data.Csv.features", "names no files");
    check(
        "(data: Csv(features: Pattern(pattern: \"a.csv\", start: 0, end: 3)))",
        "data.Csv.features.Pattern.pattern",
        "number placeholder",
    );
    check(
        "(data: Csv(features: Directory(\"d\"), task: Classification(classes: 0)))",
        "data.Csv.task.Classification.classes",
        "number of classes",
    );
    check(
        "(data: Csv(features: Directory(\"d\"), validation: Fraction(fraction: 1.0)))",
        "data.Csv.validation.Fraction.fraction",
        "between 0 and 1",
    );
    check(
        "(data: Csv(features: Directory(\"d\"), labels: Files(Directory(\"l\")), \
         validation: Folders(features: Directory(\"v\"))))",
        "data.Csv.validation.Folders.labels",
        "set `labels`",
    );
}

#[test]
fn all_problems_are_listed_in_file_order() {
    let mut e = Experiment::default();
    e.model.layers[0].size = 0;
    e.training.batch_size = 0;
    e.sampling.temperature = 0.0;
    let all = problems(&e, Path::new("exp.ron"));
    let fields: Vec<_> = all.iter().map(|p| p.field_path().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "model.layers[0].size",
            "training.batch_size",
            "sampling.temperature"
        ]
    );
    let first = validate(&e, Path::new("exp.ron")).unwrap_err();
    assert_eq!(first.field_path(), Some("model.layers[0].size"));
}

#[test]
fn output_size_is_checked_against_the_loaded_data() {
    let mut e: Experiment = from_ron_str(
        &format!("({CSV_CLASSES}, model: (output: (size: 6)))"),
        Path::new("exp.ron"),
    )
    .unwrap();
    let file = Path::new("exp.ron");
    let data = DataShape {
        input: 1,
        output: 6,
        classification: true,
    };
    validate_against_data(&e, file, &data).unwrap();
    e.model.output.size = Some(5);
    let msg = validate_against_data(&e, file, &data)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "exp.ron: model.output.size: is 5 but the data has 6 classes; remove `size` or set it to 6"
    );

    let text = Experiment {
        model: seqlab::experiment::schema::ModelSpec {
            output: seqlab::experiment::schema::OutputSpec {
                size: Some(30),
                ..Default::default()
            },
            ..Default::default()
        },
        ..Experiment::default()
    };
    let vocab = DataShape {
        input: 28,
        output: 28,
        classification: true,
    };
    let msg = validate_against_data(&text, file, &vocab)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("is 30 but the data has a vocabulary of 28 characters"),
        "{msg}"
    );
}

#[test]
fn loss_is_checked_against_the_loaded_data() {
    let e: Experiment = from_ron_str(
        &format!("({CSV_REGRESSION}, model: (output: (loss: Mse)))"),
        Path::new("exp.ron"),
    )
    .unwrap();
    let one_hot = DataShape {
        input: 3,
        output: 4,
        classification: true,
    };
    let err = validate_against_data(&e, Path::new("exp.ron"), &one_hot).unwrap_err();
    assert_eq!(err.field_path(), Some("model.output.loss"));
}

/// Sizes that would exhaust the memory before training could refuse them are refused
/// when the file is read: the echo task's series (generated in memory) and a sweep's
/// random draws.
#[test]
fn sizes_that_would_exhaust_the_memory_are_refused() {
    check(
        "(data: Echo(length: 99999999999999))",
        "data.Echo.length",
        "at most 100000000 steps",
    );
    check(
        "(data: Echo(validation_length: 99999999999999))",
        "data.Echo.validation_length",
        "at most 100000000 steps",
    );
}
