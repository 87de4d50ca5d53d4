//! The examples in `experiments/`: every file parses, validates and fits its data, and
//! each example, run through `seqlab --run`'s own code path with its shipped budget,
//! reaches the outcome its header comment promises (read back from the run folder).
//!
//! Budgets on a 2-core CI machine (dev profile): learn_string about 35 s, char_text
//! about 30 s, sequence_classification about 5 s, sine_regression and echo about 1 s.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use seqlab::cli::run::{run, RunArgs};
use seqlab::experiment::file;
use seqlab::experiment::schema::DEFAULT_SENTENCE;
use seqlab::train::sample::{sample_text, SampleOptions};
use seqlab::train::trainer::load_trained;
use seqlab::train::Trainer;

fn experiments_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments")
}

fn example(name: &str) -> PathBuf {
    experiments_dir().join(format!("{name}.ron"))
}

/// A run folder under the system temp directory, removed when dropped.
struct TempRun(PathBuf);

impl TempRun {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "seqlab-example-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        TempRun(path)
    }
}

impl Drop for TempRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `experiments/{name}.ron` as `seqlab --run FILE --out TMP --quiet` does and
/// returns the run folder and its `summary.json`.
fn run_example(name: &str) -> (TempRun, serde_json::Value) {
    let out = TempRun::new(name);
    let args = RunArgs {
        out: Some(out.0.clone()),
        quiet: true,
        ..Default::default()
    };
    let code = run(Some(&example(name)), &args).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    assert_eq!(code, ExitCode::SUCCESS, "{name}: the run failed");
    let text = std::fs::read_to_string(out.0.join("summary.json")).expect("summary.json");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("summary.json is JSON");
    assert_eq!(summary["stop_reason"], "completed", "{name}: {summary}");
    (out, summary)
}

/// `evaluation.metrics.{key}` of a summary, checking the metrics' kind.
fn metric(summary: &serde_json::Value, kind: &str, key: &str) -> f64 {
    let metrics = &summary["evaluation"]["metrics"];
    assert_eq!(metrics["kind"], kind, "{summary}");
    metrics[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key} in {metrics}"))
}

#[test]
fn every_example_parses_validates_and_fits_its_data() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(experiments_dir())
        .expect("experiments/")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "examples: {files:?}");
    for path in &files {
        let mut exp = file::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        file::resolve_paths(&mut exp, path.parent().expect("experiments/"));
        // loads the data and validates the model against it (class counts, sizes, loss)
        Trainer::new(exp, &mut |_| {}).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

#[test]
fn learn_string_reproduces_the_sentence_greedily() {
    let (out, _) = run_example("learn_string");
    let model = load_trained(&out.0, false).expect("trained model");
    let vocab = model.vocab.as_ref().expect("a text model has a vocabulary");
    let opts = SampleOptions {
        length: 100,
        prime: "*".into(),
        temperature: 1.0,
        greedy: true,
        seed: 0,
    };
    let text = sample_text(&model.net, vocab, &opts).expect("sample");
    assert_eq!(text, DEFAULT_SENTENCE);
}

#[test]
fn echo_reaches_validation_accuracy_0_99() {
    let (_out, summary) = run_example("echo");
    let accuracy = metric(&summary, "classification", "accuracy");
    assert!(accuracy >= 0.99, "validation accuracy {accuracy}");
}

#[test]
fn sequence_classification_reaches_validation_accuracy_0_95() {
    let (_out, summary) = run_example("sequence_classification");
    let accuracy = metric(&summary, "classification", "accuracy");
    assert!(accuracy >= 0.95, "validation accuracy {accuracy}");
}

/// The MSE of predicting the next value as the current one, over every
/// `value,next_value` line of the CSV files in `dir`.
fn last_value_mse(dir: &Path) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for entry in std::fs::read_dir(dir).expect("validation folder") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("csv");
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (x, y) = line.split_once(',').expect("value,next_value");
            let (x, y): (f64, f64) = (x.trim().parse().unwrap(), y.trim().parse().unwrap());
            sum += (y - x) * (y - x);
            n += 1;
        }
    }
    assert!(n > 0, "no steps in {}", dir.display());
    sum / n as f64
}

#[test]
fn sine_regression_beats_predicting_the_last_value_tenfold() {
    let baseline =
        last_value_mse(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sine/validation"));
    let (_out, summary) = run_example("sine_regression");
    let mse = metric(&summary, "regression", "mse");
    assert!(
        mse < baseline / 10.0,
        "validation MSE {mse}, last-value baseline {baseline}"
    );
}

/// Lower-case runs of letters.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

#[test]
fn char_text_samples_are_mostly_words_of_the_corpus() {
    let corpus =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/corpus.txt"))
            .expect("corpus");
    let known: HashSet<String> = words(&corpus).into_iter().collect();
    let (out, _) = run_example("char_text");
    let samples = std::fs::read_to_string(out.0.join("samples.txt")).expect("samples.txt");
    let last = samples
        .rsplit("== iteration ")
        .next()
        .and_then(|s| s.split_once("==\n"))
        .map(|(_, text)| text)
        .expect("a sample");
    // whitespace-separated tokens, punctuation stripped from their ends
    let tokens: Vec<String> = last
        .split_whitespace()
        .map(|t| t.trim_matches(|c: char| !c.is_ascii_alphabetic()))
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let spelled: Vec<&String> = tokens.iter().filter(|t| known.contains(*t)).collect();
    let distinct: HashSet<&String> = spelled.iter().copied().collect();
    assert!(tokens.len() >= 30, "too few tokens: {last}");
    assert!(
        spelled.len() * 2 > tokens.len() && distinct.len() >= 15,
        "{} of {} tokens ({} distinct) are words of the corpus:\n{last}",
        spelled.len(),
        tokens.len(),
        distinct.len()
    );
}
