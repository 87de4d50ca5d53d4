//! The examples in `experiments/`: every file parses, validates and fits its data, and
//! each example, run through `seqlab --run`'s own code path with its shipped budget,
//! reaches the outcome its `notes` promise (read back from the run folder). The notes
//! are the examples' documentation (a comment would be lost on the first save from the
//! notebook), and every number they state (data sizes, lengths, held-out counts,
//! iterations, thresholds, baselines) is checked here, and shipped data said to come
//! from seqlab's generator is generated again and compared byte for byte.
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

/// The documentation is in `notes`, not in comments a save would drop, and the notes
/// state the numbers the tests below check.
#[test]
fn every_example_documents_itself_in_its_notes() {
    let promised: &[(&str, &[&str])] = &[
        (
            "char_text",
            &["600 iterations", "25 KB", "at least 15 different"],
        ),
        ("echo", &["1334", "0.99", "AdaGrad 0.3", "echo` = 3"]),
        ("learn_string", &["--greedy", "3 x LSTM(100)"]),
        (
            "sequence_classification",
            &["600 sequences", "150 sequences", "2900 iterations", "0.95"],
        ),
        (
            "sine_regression",
            &["0.0696", "1375 steps", "R^2 above 0.99", "1000 iterations"],
        ),
    ];
    for (name, numbers) in promised {
        let path = example(name);
        let text = std::fs::read_to_string(&path).expect("example");
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with("//")),
            "{name}: documentation belongs in notes, not comments"
        );
        let exp = file::load(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        for n in *numbers {
            assert!(
                exp.notes.contains(n),
                "{name}: the notes do not say {n:?}:\n{}",
                exp.notes
            );
        }
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
fn echo_reaches_validation_accuracy_0_99_in_1334_iterations() {
    let (_out, summary) = run_example("echo");
    assert_eq!(summary["iterations"], 1334, "{summary}");
    let accuracy = metric(&summary, "classification", "accuracy");
    assert!(accuracy >= 0.99, "validation accuracy {accuracy}");
}

/// Every file of `dir` (recursively) has the same bytes as the same path under `other`,
/// and the two hold the same number of files.
fn same_files(dir: &Path, other: &Path) {
    fn list(d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("entry").path();
            if p.is_dir() {
                list(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    list(dir, &mut a);
    list(other, &mut b);
    assert_eq!(a.len(), b.len(), "{} vs {}", dir.display(), other.display());
    for p in &a {
        let q = other.join(p.strip_prefix(dir).expect("under dir"));
        assert_eq!(
            std::fs::read(p).expect("shipped file"),
            std::fs::read(&q).unwrap_or_else(|e| panic!("{}: {e}", q.display())),
            "{} differs from the generator's output",
            p.display()
        );
    }
}

#[test]
fn sequence_classification_data_is_the_generators_600_charts_of_40_to_60_steps() {
    use seqlab::data::synthetic::ControlChartTask;
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/control_charts");
    let out = TempRun::new("control-charts");
    let task = ControlChartTask {
        sequences: 600,
        min_length: 40,
        max_length: 60,
        seed: 0,
    };
    let config = task.write_csv(&out.0).expect("generate");
    same_files(&assets, &out.0);
    let data = seqlab::data::load_csv(&config, &mut |_| {}).expect("charts");
    assert_eq!(data.len(), 600);
    let mut per_class = [0usize; 6];
    for e in data.examples() {
        assert!((40..=60).contains(&e.feature_steps()), "{}", e.name());
        let class = e
            .labels
            .row(0)
            .iter()
            .position(|&v| v == 1.0)
            .expect("one-hot");
        per_class[class] += 1;
    }
    assert_eq!(per_class, [100; 6]);
}

#[test]
fn sequence_classification_reaches_validation_accuracy_0_95_in_2900_iterations() {
    let (_out, summary) = run_example("sequence_classification");
    assert_eq!(summary["iterations"], 2900, "{summary}");
    // a seeded quarter held out: 150 sequences, one label each
    assert_eq!(summary["evaluation"]["positions"], 150, "{summary}");
    let accuracy = metric(&summary, "classification", "accuracy");
    assert!(accuracy >= 0.95, "validation accuracy {accuracy}");
}

/// The MSE of predicting the next value as the current one, over every
/// `value,next_value` line of the CSV files in `dir`, and the number of lines.
fn last_value_mse(dir: &Path) -> (f64, usize) {
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
    (sum / n as f64, n)
}

#[test]
fn sine_data_is_the_generators_waves_of_30_to_80_steps() {
    use seqlab::data::synthetic::SineTask;
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sine");
    for (split, sequences, seed) in [("train", 100, 0), ("validation", 25, 1)] {
        let out = TempRun::new("sine");
        let task = SineTask {
            sequences,
            min_length: 30,
            max_length: 80,
            min_period: 10.0,
            max_period: 30.0,
            seed,
        };
        let config = task.write_csv(&out.0).expect("generate");
        same_files(&assets.join(split), &out.0);
        let data = seqlab::data::load_csv(&config, &mut |_| {}).expect("waves");
        assert_eq!(data.len(), sequences);
        for e in data.examples() {
            assert!((30..=80).contains(&e.feature_steps()), "{}", e.name());
        }
    }
}

#[test]
fn sine_regression_beats_predicting_the_last_value_tenfold_in_1000_iterations() {
    let (baseline, steps) =
        last_value_mse(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/sine/validation"));
    // the notes' baseline: 0.0696 over 1375 steps
    assert_eq!(steps, 1375);
    assert!((baseline - 0.0696).abs() < 5e-5, "baseline {baseline}");
    let (_out, summary) = run_example("sine_regression");
    assert_eq!(summary["iterations"], 1000, "{summary}");
    let mse = metric(&summary, "regression", "mse");
    let r2 = metric(&summary, "regression", "r2");
    assert!(
        mse < baseline / 10.0,
        "validation MSE {mse}, last-value baseline {baseline}"
    );
    assert!(r2 > 0.99, "validation R^2 {r2}");
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
    // the notes: about 25 KB of plain ASCII
    assert!(corpus.is_ascii());
    assert!(
        (24_000..26_000).contains(&corpus.len()),
        "{} bytes",
        corpus.len()
    );
    let known: HashSet<String> = words(&corpus).into_iter().collect();
    let (out, summary) = run_example("char_text");
    assert_eq!(summary["iterations"], 600, "{summary}");
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
