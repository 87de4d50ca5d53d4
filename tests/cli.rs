//! The `seqlab` binary as a user runs it: headless runs, sampling, prediction, bad
//! files, `--version` and `gradcheck`.

mod common;

use common::temp_dir;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn seqlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .output()
        .expect("seqlab runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Trains a shipped example for a few iterations into `run_dir`; returns the experiment
/// path and the (successful) output.
fn train_briefly(example: &str, run_dir: &Path, iterations: &str) -> (PathBuf, Output) {
    let exp = root().join(format!("experiments/{example}.ron"));
    let args = [
        "--run",
        exp.to_str().unwrap(),
        "--out",
        run_dir.to_str().unwrap(),
        "--iterations",
        iterations,
        "--quiet",
    ];
    let out = seqlab(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (exp, out)
}

#[test]
fn version_names_the_blas_kernel_and_threads() {
    let out = seqlab(&["--version"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(
        s.contains("BLAS: OpenBLAS") && s.contains("kernel") && s.contains("thread"),
        "{s}"
    );
}

#[test]
fn run_then_sample_a_text_model() {
    let dir = temp_dir("cli-sample");
    let run_dir = dir.join("run");
    let (exp, out) = train_briefly("learn_string", &run_dir, "5");
    assert!(text(&out.stdout).contains(&format!("results: {}", run_dir.display())));
    for f in [
        "run.ron",
        "metrics.csv",
        "eval.csv",
        "samples.txt",
        "weights.safetensors",
        "summary.json",
    ] {
        assert!(run_dir.join(f).is_file(), "{f}");
    }
    let rd = run_dir.to_str().unwrap();
    let out = seqlab(&[
        "sample", rd, "--length", "20", "--prime", "*A", "--seed", "3",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert_eq!(s.trim_end_matches('\n').chars().count(), 22, "{s:?}");
    assert!(s.starts_with("*A"));
    // same seed, same text
    assert_eq!(
        text(&seqlab(&["sample", rd, "--length", "20", "--prime", "*A", "--seed", "3"]).stdout),
        s
    );
    let bad = seqlab(&["sample", rd, "--prime", "#"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("not in the model's vocabulary"),
        "{}",
        text(&bad.stderr)
    );
    let bad = seqlab(&["sample", rd, "--temperature", "0"]);
    assert!(!bad.status.success());
    // a second run into the same folder is refused with advice
    let again = seqlab(&[
        "--run",
        exp.to_str().unwrap(),
        "--out",
        rd,
        "--iterations",
        "1",
        "--quiet",
    ]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("--resume"),
        "{}",
        text(&again.stderr)
    );
    // --out naming a file, or a folder of other files: no --resume advice, nothing touched
    let file = dir.join("notes.txt");
    let other = dir.join("photos");
    std::fs::write(&file, "keep me").unwrap();
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("a.jpg"), "jpeg").unwrap();
    for (out, says) in [
        (&file, "it is a file, not a folder"),
        (&other, "holds files that are not a seqlab run"),
    ] {
        let refused = seqlab(&[
            "--run",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        let err = text(&refused.stderr);
        assert!(!refused.status.success(), "{err}");
        assert!(err.contains(says) && !err.contains("--resume"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn predict_writes_one_row_per_sequence_for_a_many_to_one_model() {
    let dir = temp_dir("cli-predict");
    let run_dir = dir.join("run");
    train_briefly("sequence_classification", &run_dir, "10");
    // the run record names the BLAS kernel and hashes every data file read
    let record = std::fs::read_to_string(run_dir.join("run.ron")).unwrap();
    assert!(record.contains("kernel"), "{record}");
    // (the experiment's notes, which mention the folder too, left out)
    let hashed = record
        .lines()
        .filter(|l| !l.trim_start().starts_with("notes:"))
        .map(|l| l.matches("control_charts/").count())
        .sum::<usize>();
    assert_eq!(
        hashed,
        2 * 600 + 2,
        "features and labels hashed, plus the two folders in the experiment"
    );
    let pattern = root().join("assets/control_charts/features/%d.csv");
    let csv = dir.join("pred.csv");
    let out = seqlab(&[
        "predict",
        run_dir.to_str().unwrap(),
        pattern.to_str().unwrap(),
        "--range",
        "0..4",
        "-o",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(
        lines[0],
        "file,step,predicted_class,output_0,output_1,output_2,output_3,output_4,output_5"
    );
    assert_eq!(lines.len(), 6, "{body}");
    for l in &lines[1..] {
        let f: Vec<&str> = l.split(',').collect();
        let class: usize = f[2].parse().unwrap();
        assert!(class < 6);
        let p: f64 = f[3..].iter().map(|v| v.parse::<f64>().unwrap()).sum();
        assert!((p - 1.0).abs() < 1e-4, "probabilities sum to 1: {l}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_experiment_file_fails_before_training_with_the_place_and_the_fix() {
    let dir = temp_dir("cli-bad");
    let exp = dir.join("bad.ron");
    std::fs::write(
        &exp,
        "(\n    data: Sentence(),\n    training: (tbptt: (forward: 10, backward: 20)),\n)\n",
    )
    .unwrap();
    let out = seqlab(&["--run", exp.to_str().unwrap(), "--quiet"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("bad.ron") && err.contains("training.tbptt.backward"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        !dir.join("bad.runs").exists(),
        "no run folder for a file that never ran"
    );
    std::fs::write(
        &exp,
        "(\n    data: Sentence(),\n    training: (batch_size: 4\n",
    )
    .unwrap();
    let err = text(&seqlab(&["--run", exp.to_str().unwrap()]).stderr);
    assert!(err.contains("bad.ron:") && err.contains("syntax"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gradcheck_passes_and_says_so() {
    let out = seqlab(&["gradcheck", "--filter", "peephole_ce_masked"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("2 passed, 0 failed"), "{s}");
}

/// `seqlab sample --length` beyond what can be built in memory is refused before the run
/// folder is even read.
#[test]
fn a_sample_too_long_is_refused() {
    let out = seqlab(&["sample", "no-such-run", "--length", "1000000000"]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("at most 10000000 characters"), "{err}");
}
