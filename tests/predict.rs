//! `seqlab predict` and `seqlab eval` read new data on training's own path: the same
//! column selection (the label column may stay in the files or be left out), the
//! training normaliser, the training alignment, and every data shape.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use seqlab::cli::run::{eval, predict, run, DataSelection, EvalArgs, PredictArgs, RunArgs};

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("seqlab-predict-{name}-{}", std::process::id()));
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

    fn path(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Trains `experiment` (RON text, paths relative to the scratch folder) and returns the
/// run folder.
fn train(dir: &Scratch, name: &str, experiment: &str) -> PathBuf {
    let file = dir.write(&format!("{name}.ron"), experiment);
    let out = dir.0.join(format!("{name}.run"));
    let args = RunArgs {
        out: Some(out.clone()),
        quiet: true,
        ..Default::default()
    };
    assert_eq!(run(Some(&file), &args).expect("run"), ExitCode::SUCCESS);
    out
}

fn selection(run_dir: &Path, data: String, labels: Option<String>) -> DataSelection {
    DataSelection {
        run_dir: run_dir.to_path_buf(),
        data,
        labels,
        range: None,
        best: false,
    }
}

/// Runs `seqlab predict` and returns its rows: (file name, step, outputs).
fn predictions(
    dir: &Scratch,
    select: DataSelection,
    steps: Option<usize>,
) -> anyhow::Result<Vec<(String, usize, Vec<f64>)>> {
    let out = dir.0.join("predictions.csv");
    predict(&PredictArgs {
        select,
        steps,
        output: Some(out.clone()),
    })?;
    let text = std::fs::read_to_string(out).expect("predictions");
    let header: Vec<&str> = text.lines().next().expect("header").split(',').collect();
    let first_output = header
        .iter()
        .position(|h| h.starts_with("output_"))
        .expect("output columns");
    Ok(text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let name = Path::new(f[0])
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            let values = f[first_output..]
                .iter()
                .map(|v| v.parse().expect("number"))
                .collect();
            (name, f[1].parse().expect("step"), values)
        })
        .collect())
}

const REGRESSION: &str = r#"(
    name: "regression",
    data: Csv(
        features: Directory("data"),
        labels: Column(LABEL),
        task: Regression,
        normalization: NORM,
    ),
    model: (layers: [(kind: Lstm, size: 4)]),
    training: (batch_size: 2, iterations: 2),
)"#;

fn issue_regression_files(dir: &Scratch) {
    dir.write("data/0.csv", "0.1,0.5,0.2\n0.3,0.4,0.6\n0.5,0.2,0.9\n");
    dir.write("data/1.csv", "0.9,0.1,0.4\n0.7,0.3,0.1\n0.2,0.8,0.5\n");
}

#[test]
fn predict_reads_files_with_or_without_the_label_column_under_every_normalisation() {
    let dir = Scratch::new("columns");
    issue_regression_files(&dir);
    // the same sequences without the label column (last or first)
    dir.write("last/0.csv", "0.1,0.5\n0.3,0.4\n0.5,0.2\n");
    dir.write("first/0.csv", "0.5,0.2\n0.4,0.6\n0.2,0.9\n");
    for (label, norm, features_only) in [
        ("-1", "None", "last/0.csv"),
        ("-1", "Standardize", "last/0.csv"),
        ("-1", "MinMax", "last/0.csv"),
        ("0", "Standardize", "first/0.csv"),
    ] {
        let exp = REGRESSION.replace("LABEL", label).replace("NORM", norm);
        let run_dir = train(&dir, &format!("r{label}{norm}"), &exp);
        let with_label = predictions(
            &dir,
            selection(&run_dir, dir.path("data/0.csv"), None),
            None,
        )
        .unwrap_or_else(|e| panic!("Column({label}), {norm}: {e:#}"));
        assert_eq!(with_label.len(), 3, "one row per step: {with_label:?}");
        assert_eq!(
            with_label.iter().map(|r| r.1).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        let without = predictions(
            &dir,
            selection(&run_dir, dir.path(features_only), None),
            None,
        )
        .expect("feature columns only");
        let values = |rows: &[(String, usize, Vec<f64>)]| -> Vec<Vec<f64>> {
            rows.iter().map(|r| r.2.clone()).collect()
        };
        assert_eq!(
            values(&with_label),
            values(&without),
            "Column({label}), {norm}"
        );

        // eval scores the labelled files; its MSE is the one of predict's outputs
        let ev = seqlab::train::predict::evaluate(
            &mut seqlab::train::trainer::load_trained(&run_dir, false).expect("model"),
            &seqlab::train::predict::read_new_data(
                &seqlab::train::trainer::load_trained(&run_dir, false).expect("model"),
                &seqlab::train::predict::NewDataSpec {
                    features: seqlab::data::SequenceSource::Files(vec![dir.0.join("data/0.csv")]),
                    ..Default::default()
                },
                &mut |_| {},
            )
            .expect("labelled data"),
            "eval",
        )
        .expect("eval");
        // Stop / Ctrl-C: prediction asks before each minibatch and ends when told
        let mut model = seqlab::train::trainer::load_trained(&run_dir, false).expect("model");
        let data = seqlab::train::predict::read_new_data(
            &model,
            &seqlab::train::predict::NewDataSpec {
                features: seqlab::data::SequenceSource::Files(vec![dir.0.join("data/0.csv")]),
                ..Default::default()
            },
            &mut |_| {},
        )
        .expect("labelled data");
        match seqlab::train::predict::predict_until(&mut model, &data, &|| true) {
            Err(e @ seqlab::train::TrainError::Interrupted { .. }) => {
                assert!(
                    e.to_string().contains("stopped predicting after 0 of 1"),
                    "{e}"
                )
            }
            other => panic!("not interrupted: {other:?}"),
        }
        let k = if label == "0" { 0 } else { 2 };
        let targets: Vec<f64> = std::fs::read_to_string(dir.0.join("data/0.csv"))
            .expect("csv")
            .lines()
            .map(|l| l.split(',').nth(k).unwrap().parse().unwrap())
            .collect();
        let mse = with_label
            .iter()
            .zip(&targets)
            .map(|(r, y)| (r.2[0] - y).powi(2))
            .sum::<f64>()
            / 3.0;
        let got = match ev.metrics {
            seqlab::train::eval::EvalMetrics::Regression { mse, .. } => mse,
            other => panic!("{other:?}"),
        };
        assert!(
            (got - mse).abs() < 1e-5,
            "eval MSE {got}, from predict {mse}"
        );
    }
}

#[test]
fn predict_refuses_files_with_other_columns_naming_file_and_columns() {
    let dir = Scratch::new("bad-columns");
    issue_regression_files(&dir);
    let exp = REGRESSION.replace("LABEL", "-1").replace("NORM", "None");
    let run_dir = train(&dir, "r", &exp);
    let bad = dir.write("wide/0.csv", "1,2,3,4\n");
    let err = predictions(
        &dir,
        selection(&run_dir, bad.display().to_string(), None),
        None,
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("0.csv") && text.contains("4 columns") && text.contains("2 feature columns"),
        "{text}"
    );
}

#[test]
fn many_to_one_predicts_once_per_file_at_the_label_step_and_eval_takes_label_files() {
    let dir = Scratch::new("many-to-one");
    for i in 0..6 {
        let n = 3 + i % 3;
        let x = i % 2;
        let lines: String = (0..n)
            .map(|t| format!("{}\n", (t + x) as f64 * 0.5))
            .collect();
        dir.write(&format!("f/{i}.csv"), &lines);
        dir.write(&format!("l/{i}.csv"), &format!("{x}\n"));
    }
    for (mode, align) in [
        ("EveryStep", "AlignEnd"),
        ("LastStep", "AlignEnd"),
        ("EveryStep", "AlignStart"),
    ] {
        let exp = format!(
            r#"(
    name: "m2o",
    data: Csv(
        features: Directory("f"),
        labels: Files(Directory("l")),
        task: Classification(classes: 2),
        alignment: {align},
        normalization: Standardize,
    ),
    model: (layers: [(kind: Gru, size: 4)], output: (mode: {mode})),
    training: (batch_size: 3, iterations: 3),
)"#
        );
        let run_dir = train(&dir, &format!("{mode}{align}"), &exp);
        let rows = predictions(&dir, selection(&run_dir, dir.path("f"), None), None)
            .unwrap_or_else(|e| panic!("{mode} {align}: {e:#}"));
        assert_eq!(
            rows.len(),
            6,
            "{mode} {align}: one output per file: {rows:?}"
        );
        for (name, step, _) in &rows {
            let i: usize = name.trim_end_matches(".csv").parse().unwrap();
            let want = if align == "AlignStart" && mode == "EveryStep" {
                0
            } else {
                2 + i % 3
            };
            assert_eq!(*step, want, "{mode} {align}: {name}");
        }
        // labelled: `seqlab eval` with the label files
        let code = eval(&EvalArgs {
            select: selection(&run_dir, dir.path("f"), Some(dir.path("l"))),
            json: true,
        })
        .expect("eval");
        assert_eq!(code, ExitCode::SUCCESS);
        // without labels there is nothing to score
        let err = eval(&EvalArgs {
            select: selection(&run_dir, dir.path("f"), None),
            json: true,
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("--labels"), "{err:#}");
    }
}

#[test]
fn predict_steps_sets_the_output_steps_of_a_one_line_input() {
    let dir = Scratch::new("steps");
    for i in 0..4 {
        let x = i % 2;
        dir.write(&format!("f/{i}.csv"), &format!("{x}\n"));
        dir.write(&format!("l/{i}.csv"), &format!("{x}\n{}\n{x}\n", 1 - x));
    }
    let exp = r#"(
    name: "o2m",
    data: Csv(
        features: Directory("f"),
        labels: Files(Directory("l")),
        task: Classification(classes: 2),
        alignment: AlignStart,
    ),
    model: (layers: [(kind: Rnn, size: 4)]),
    training: (batch_size: 4, iterations: 2),
)"#;
    let run_dir = train(&dir, "o2m", exp);
    let default =
        predictions(&dir, selection(&run_dir, dir.path("f/0.csv"), None), None).expect("predict");
    assert_eq!(default.iter().map(|r| r.1).collect::<Vec<_>>(), [0, 1, 2]);
    let five = predictions(
        &dir,
        selection(&run_dir, dir.path("f/0.csv"), None),
        Some(5),
    )
    .expect("predict --steps 5");
    assert_eq!(
        five.iter().map(|r| r.1).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    // the first three steps do not depend on how many follow
    for (a, b) in default.iter().zip(&five) {
        for (x, y) in a.2.iter().zip(&b.2) {
            assert!((x - y).abs() < 1e-6, "step {}: {x} vs {y}", a.1);
        }
    }
    let err = predictions(
        &dir,
        selection(&run_dir, dir.path("f/0.csv"), None),
        Some(0),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("--steps"), "{err:#}");
}

/// `predict -o` never writes over what it would destroy: the files being predicted,
/// the run folder (weights, checkpoints), a notebook or weights file, or a folder; each
/// refusal says what the path is, and nothing is written.
#[test]
fn predict_output_never_replaces_its_input_the_run_or_a_notebook() {
    let dir = Scratch::new("output-guard");
    issue_regression_files(&dir);
    let exp = REGRESSION.replace("LABEL", "-1").replace("NORM", "None");
    let run_dir = train(&dir, "guard", &exp);
    let weights = run_dir.join("weights.safetensors");
    let before = std::fs::read(&weights).unwrap();
    let input = dir.0.join("data/0.csv");
    let input_text = std::fs::read_to_string(&input).unwrap();
    for (out, says) in [
        (input.clone(), "one of the files being predicted"),
        (weights.clone(), "inside the run folder"),
        (dir.0.join("guard.ron"), "a notebook or weights file"),
        (dir.0.join("data"), "is a folder"),
    ] {
        let err = predict(&PredictArgs {
            select: selection(&run_dir, dir.path("data"), None),
            steps: None,
            output: Some(out.clone()),
        })
        .expect_err(&format!("{} refused", out.display()));
        assert!(err.to_string().contains(says), "{}: {err}", out.display());
    }
    assert_eq!(std::fs::read(&weights).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&input).unwrap(), input_text);
    // a new file is fine
    let ok = dir.0.join("out/predictions.csv");
    std::fs::create_dir_all(ok.parent().unwrap()).unwrap();
    predict(&PredictArgs {
        select: selection(&run_dir, dir.path("data"), None),
        steps: None,
        output: Some(ok.clone()),
    })
    .expect("a new file");
    assert!(std::fs::read_to_string(&ok)
        .unwrap()
        .starts_with("file,step"));
}
