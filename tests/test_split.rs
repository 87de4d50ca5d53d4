//! The held-out test split of CSV data: scored once at the end with the final and (with
//! early stopping) the best weights, reported apart from validation in `summary.json`
//! and `eval.csv`, never steering training; `seqlab eval` gives the same scores.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use seqlab::cli::run::{run, DataSelection, RunArgs};

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("seqlab-test-split-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(&p, text).expect("write");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `n` files `value,class` of 4 steps in `dir`; the class is 1 when the value is
/// positive (flipped when `flip`, so a second test folder scores differently).
fn write_files(s: &Scratch, dir: &str, n: usize, phase: f64, flip: bool) {
    for i in 0..n {
        let text: String = (0..4)
            .map(|t| {
                let v = ((i * 4 + t) as f64 * 0.77 + phase).sin();
                let c = u8::from((v > 0.0) != flip);
                format!("{v:.4},{c}\n")
            })
            .collect();
        s.write(&format!("{dir}/{i}.csv"), &text);
    }
}

fn experiment(s: &Scratch, name: &str, test_dir: &str) -> PathBuf {
    s.write(
        &format!("{name}.ron"),
        &format!(
            r#"(
    name: "{name}",
    data: Csv(
        features: Directory("train"),
        labels: Column(-1),
        task: Classification(classes: 2),
        validation: Fraction(fraction: 0.25, seed: Some(3)),
        test: Folders(features: Directory("{test_dir}")),
    ),
    model: (layers: [(kind: Gru, size: 6)]),
    training: (updater: Adam(lr: 0.01), batch_size: 6, iterations: 60, early_stopping: (patience: 3), threads: Some(1)),
    evaluation: (every: 5),
)"#
        ),
    )
}

fn train(s: &Scratch, name: &str, test_dir: &str) -> (PathBuf, serde_json::Value) {
    let file = experiment(s, name, test_dir);
    let out = s.0.join(format!("{name}.run"));
    let args = RunArgs {
        out: Some(out.clone()),
        quiet: true,
        ..Default::default()
    };
    let code = run(Some(&file), &args).expect("run");
    assert_eq!(code, ExitCode::SUCCESS);
    let summary =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    (out, summary)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_test_split_is_scored_once_apart_from_validation_and_never_steers_training() {
    let s = Scratch::new("steer");
    write_files(&s, "train", 24, 0.0, false);
    write_files(&s, "test_a", 8, 1.3, false);
    write_files(&s, "test_b", 8, 2.1, true);
    let (run_a, sum_a) = train(&s, "a", "test_a");
    let (run_b, sum_b) = train(&s, "b", "test_b");

    // reported apart: summary.json "test" with the final and the best weights
    let test = &sum_a["test"];
    assert_eq!(test["final"]["split"], "test", "{sum_a}");
    assert_eq!(test["best"]["split"], "test_best", "{sum_a}");
    assert_eq!(
        test["best"]["iteration"], sum_a["best_iteration"],
        "{sum_a}"
    );
    assert_eq!(sum_a["evaluation"]["split"], "validation");
    // 8 files x 4 steps scored
    assert_eq!(test["final"]["positions"], 32);
    // eval.csv: one test row of each kind, at the end; every other row is validation
    let eval = read(&run_a.join("eval.csv"));
    let splits: Vec<&str> = eval
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).expect("split"))
        .collect();
    assert_eq!(splits.iter().filter(|&&s| s == "test").count(), 1, "{eval}");
    assert_eq!(
        splits.iter().filter(|&&s| s == "test_best").count(),
        1,
        "{eval}"
    );
    assert!(
        splits[..splits.len() - 2]
            .iter()
            .all(|&s| s == "validation"),
        "{eval}"
    );

    // never steers: another test folder changes nothing but the test scores
    assert_eq!(
        read(&run_a.join("metrics.csv")).lines().count(),
        read(&run_b.join("metrics.csv")).lines().count()
    );
    let strip = |text: String| -> Vec<String> {
        // metrics.csv minus its timing columns (the last two)
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                f[..f.len() - 2].join(",")
            })
            .collect()
    };
    assert_eq!(
        strip(read(&run_a.join("metrics.csv"))),
        strip(read(&run_b.join("metrics.csv")))
    );
    for key in [
        "best_iteration",
        "best_score",
        "iterations",
        "stop_reason",
        "evaluation",
    ] {
        assert_eq!(sum_a[key], sum_b[key], "{key}");
    }
    assert_ne!(
        sum_a["test"]["final"]["score"],
        sum_b["test"]["final"]["score"]
    );

    // `seqlab eval` on the test folder gives the same scores
    for (best, key) in [(false, "final"), (true, "best")] {
        let mut model = seqlab::train::trainer::load_trained(&run_a, best).expect("model");
        let data = seqlab::train::predict::read_new_data(
            &model,
            &seqlab::train::predict::NewDataSpec {
                features: seqlab::data::SequenceSource::Directory(s.0.join("test_a")),
                ..Default::default()
            },
            &mut |_| {},
        )
        .expect("test files");
        let ev = seqlab::train::predict::evaluate(&mut model, &data, "eval").expect("eval");
        let want = test[key]["score"].as_f64().expect("score");
        assert!(
            (ev.score - want).abs() < 1e-6,
            "{key}: eval {} vs summary {want}",
            ev.score
        );
        // and the command itself runs
        let code = seqlab::cli::run::eval(&seqlab::cli::run::EvalArgs {
            select: DataSelection {
                run_dir: run_a.clone(),
                data: s.0.join("test_a").display().to_string(),
                labels: None,
                range: None,
                best,
            },
            json: true,
        })
        .expect("seqlab eval");
        assert_eq!(code, ExitCode::SUCCESS);
    }
}

#[test]
fn a_test_fraction_is_held_out_of_training_and_validation() {
    let s = Scratch::new("fraction");
    write_files(&s, "train", 20, 0.0, false);
    let file = s.write(
        "f.ron",
        r#"(
    data: Csv(
        features: Directory("train"),
        labels: Column(-1),
        task: Classification(classes: 2),
        validation: Fraction(fraction: 0.25, seed: Some(3)),
        test: Fraction(fraction: 0.2, seed: Some(4)),
    ),
    model: (layers: [(kind: Gru, size: 4)]),
    training: (batch_size: 4, iterations: 3),
)"#,
    );
    let mut exp = seqlab::experiment::file::load(&file).expect("experiment");
    seqlab::experiment::file::resolve_paths(&mut exp, &s.0);
    let trainer = seqlab::train::Trainer::new(exp, &mut |_| {}).expect("trainer");
    let seqlab::train::TrainingData::Sequences {
        train,
        validation,
        test,
        ..
    } = &trainer.data
    else {
        panic!("sequence data")
    };
    // 20 files: 4 to test, then a quarter of the other 16 to validation
    let (v, t) = (
        validation.as_ref().expect("validation"),
        test.as_ref().expect("test"),
    );
    assert_eq!((train.len(), v.len(), t.len()), (12, 4, 4));
    let names = |d: &seqlab::data::SequenceDataset| -> Vec<String> {
        d.examples().iter().map(|e| e.name()).collect()
    };
    for name in names(t) {
        assert!(
            !names(train).contains(&name) && !names(v).contains(&name),
            "{name}"
        );
    }
    // a validation and test fraction leaving no training data is refused before loading
    let err = seqlab::experiment::file::from_ron_str(
        "(data: Csv(features: Directory(\"d\"), validation: Fraction(fraction: 0.5, seed: None), test: Fraction(fraction: 0.5, seed: None)))",
        Path::new("e.ron"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("data.Csv.test.Fraction.fraction"), "{err}");
}
