//! `seqlab --run`, `seqlab sample`, `seqlab predict`: headless training and use of a
//! trained model.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::data::SequenceSource;
use crate::experiment::rundir::{next_run_dir, RunDir, RunRecord};
use crate::experiment::{checkpoint, file, Experiment};
use crate::train::eval::EvalMetrics;
use crate::train::predict::{read_new_data, NewDataSpec};
use crate::train::runner::{Event, RunnerOptions};
use crate::train::sample::{sample_text, SampleOptions};
use crate::train::trainer::{load_trained, StopReason};
use crate::train::{Command, Runner, Trainer};

/// Options of a headless run.
#[derive(clap::Args, Debug, Default)]
pub struct RunArgs {
    /// Run folder to write (default: a new numbered folder under `<experiment>.runs/`).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Train for this many iterations (minibatches) instead of the file's budget.
    #[arg(long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Train for this many epochs instead of the file's budget.
    #[arg(long, value_name = "N", conflicts_with = "iterations")]
    pub epochs: Option<u64>,
    /// Override the seed.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Print only the final summary.
    #[arg(long)]
    pub quiet: bool,
    /// Change one setting for this run: `FIELD=VALUE` with a field path and a RON value,
    /// as in the REPL's `set` (e.g. `--set training.updater.Adam.lr=0.003`,
    /// `--set model.layers[0].size=256`). Repeatable; checked before training and
    /// recorded in the run's `run.ron`.
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
}

fn apply_overrides(exp: &mut Experiment, args: &RunArgs) {
    if let Some(n) = args.iterations {
        exp.training.iterations = Some(n);
        exp.training.epochs = None;
    }
    if let Some(n) = args.epochs {
        exp.training.epochs = Some(n);
        exp.training.iterations = None;
    }
    if let Some(s) = args.seed {
        exp.training.seed = s;
    }
}

/// `seqlab --run FILE` / `seqlab --run --resume RUN_DIR`.
pub fn run(file_arg: Option<&Path>, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let mut progress = |p: crate::data::Progress| {
        if !args.quiet && p.total > 20 && (p.done.is_multiple_of(50) || p.done == p.total) {
            eprintln!("loading data: {}/{} files", p.done, p.total);
        }
    };
    let (trainer, run_dir) = if let Some(dir) = &args.resume {
        if !args.set.is_empty() {
            bail!(
                "--set with --resume: a resumed run keeps the settings it started with (so it ends as if never stopped); \
                 start a new run with --set instead"
            );
        }
        let record = RunDir::read_record(dir)?;
        let mut exp = record.experiment;
        apply_overrides(&mut exp, args);
        let mut trainer = Trainer::new(exp, &mut progress)?;
        let ck_path = RunDir::latest_checkpoint(dir)?;
        let ck = checkpoint::load(&ck_path)?;
        trainer.restore(&ck)?;
        if !args.quiet {
            eprintln!(
                "resuming {} after iteration {}",
                dir.display(),
                ck.info.iteration
            );
        }
        (trainer, RunDir::reopen(dir, ck.info.iteration)?)
    } else {
        let path = file_arg.context("give an experiment file: seqlab --run experiment.ron")?;
        let mut exp = file::load(path)?;
        for s in &args.set {
            let (field, value) = s.split_once('=').with_context(|| {
                format!("--set {s}: write it as FIELD=VALUE, e.g. --set training.batch_size=16")
            })?;
            exp = crate::experiment::fields::set(&exp, field.trim(), value, path)
                .map_err(|e| anyhow::anyhow!("--set {s}: {e}"))?;
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        file::resolve_paths(&mut exp, &base);
        apply_overrides(&mut exp, args);
        let trainer = Trainer::new(exp.clone(), &mut progress)?;
        let out = args.out.clone().unwrap_or_else(|| next_run_dir(path));
        let record = RunRecord {
            experiment: exp,
            experiment_file: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            overrides: args.set.clone(),
            ..RunRecord::default()
        };
        let record = crate::train::runner::complete_record(&trainer, record)?;
        (trainer, RunDir::create(&out, &record)?)
    };
    let dir = run_dir.path.clone();
    let max = trainer.max_iterations();
    if !args.quiet {
        eprintln!(
            "training {} ({} parameters, {} iterations) with {}; writing {}",
            trainer.exp.name,
            trainer.net.num_params(),
            max,
            crate::blas::blas_info(),
            dir.display()
        );
    }
    let options = RunnerOptions::from_trainer(&trainer, Some(run_dir));
    let runner = Runner::spawn(trainer, options, Arc::new(|| {}))
        .context("could not start the training thread")?;
    let stop = runner.command_sender();
    // Ctrl-C: stop after the current iteration (a second Ctrl-C exits at once)
    let _ = ctrlc::set_handler(move || {
        if stop.send(Command::Stop).is_err() {
            std::process::exit(130);
        }
    });
    let mut display = Display::new(max, args.quiet);
    let summary = loop {
        let Some(event) = runner.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        match event {
            Event::Finished(s) => break s,
            other => display.show(&other),
        }
    };
    display.finish();
    runner.join();

    println!("{}", summary_line(&summary));
    if let Some(ev) = &summary.evaluation {
        match &ev.metrics {
            EvalMetrics::Classification {
                accuracy, macro_f1, ..
            } => {
                println!(
                    "validation: score {:.4}, accuracy {:.4}, macro F1 {:.4}",
                    ev.score, accuracy, macro_f1
                )
            }
            EvalMetrics::Regression { mse, mae, r2 } => println!(
                "validation: score {:.6}, MSE {mse:.6}, MAE {mae:.6}, R^2 {r2:.4}",
                ev.score
            ),
        }
    }
    if let Some(test) = &summary.test {
        for ev in std::iter::once(&test.last).chain(&test.best) {
            let which = if ev.split == "test_best" {
                format!("best weights (iteration {})", ev.iteration)
            } else {
                "final weights".to_string()
            };
            let (name, v) = ev.headline();
            println!("test, {which}: score {:.4}, {name} {v:.4}", ev.score);
        }
    }
    println!("results: {}", dir.display());
    Ok(match (summary.stop_reason, &summary.error) {
        (StopReason::Diverged, _) | (_, Some(_)) => {
            eprintln!(
                "seqlab: {}",
                summary.error.as_deref().unwrap_or("training failed")
            );
            ExitCode::FAILURE
        }
        (StopReason::Stopped, None) => ExitCode::from(130),
        _ => ExitCode::SUCCESS,
    })
}

/// Writes to standard output; a closed pipe (`seqlab ... | head`) is not an error.
fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn summary_line(s: &crate::train::runner::RunSummary) -> String {
    let reason = match s.stop_reason {
        StopReason::Completed => "completed",
        StopReason::EarlyStopped => "stopped early (validation score stopped improving)",
        StopReason::Stopped => "stopped by the user",
        StopReason::Diverged => "diverged",
    };
    let score = s.final_score.map_or("-".to_string(), |v| format!("{v:.4}"));
    format!(
        "{reason} after {} iterations ({} epochs) in {:.1} s; final score {score}",
        s.iterations, s.epochs, s.wall_seconds
    )
}

/// Progress display: a bar on a terminal, periodic log lines otherwise.
struct Display {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
    last_log: Instant,
}

impl Display {
    fn new(max: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(max);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} it  {msg}  ETA {eta}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Display {
            bar,
            quiet,
            last_log: Instant::now(),
        }
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn show(&mut self, e: &Event) {
        if self.quiet {
            return;
        }
        match e {
            Event::Iteration {
                metrics: m,
                tokens_per_s,
                elapsed_s,
                ..
            } => {
                let its = m.iteration as f64 / elapsed_s.max(1e-9);
                let msg = format!(
                    "score {:.4}  {:.1} it/s  {:.0} tokens/s",
                    m.score, its, tokens_per_s
                );
                if let Some(b) = &self.bar {
                    b.set_position(m.iteration);
                    b.set_message(msg);
                } else if self.last_log.elapsed() >= Duration::from_secs(2) || m.iteration == 1 {
                    self.last_log = Instant::now();
                    eprintln!(
                        "iteration {} epoch {}  {msg}  lr {:.3e}",
                        m.iteration, m.epoch, m.lr
                    );
                }
            }
            Event::Validation(ev) => {
                let (name, v) = ev.headline();
                self.line(&format!(
                    "validation at iteration {}: score {:.4}, {name} {v:.4}",
                    ev.iteration, ev.score
                ));
            }
            Event::Sample { iteration, text } => self.line(&format!(
                "sample at iteration {iteration}:\n{}",
                text.trim_end()
            )),
            Event::Checkpoint { iteration, path } => self.line(&format!(
                "checkpoint at iteration {iteration}: {}",
                path.display()
            )),
            Event::Failed { message, .. } => self.line(&format!("error: {message}")),
            Event::LearningRateSet { iteration, lr } => self.line(&format!(
                "learning rate {lr:e} from iteration {}",
                iteration + 1
            )),
            Event::Paused { iteration } => {
                self.line(&format!("paused after iteration {iteration}"))
            }
            Event::Resumed { iteration } => {
                self.line(&format!("resumed after iteration {iteration}"))
            }
            Event::Started { .. } | Event::Finished(_) => {}
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// `seqlab sample`.
#[derive(clap::Args, Debug)]
pub struct SampleArgs {
    /// A run folder written by `seqlab --run`.
    pub run_dir: PathBuf,
    /// Characters to generate.
    #[arg(long, default_value_t = 200)]
    pub length: usize,
    /// Text to feed first (default: the first character of the vocabulary).
    #[arg(long, default_value = "")]
    pub prime: String,
    /// Softmax temperature.
    #[arg(long, default_value_t = 1.0, conflicts_with = "greedy")]
    pub temperature: f64,
    /// Always take the most likely character.
    #[arg(long)]
    pub greedy: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Use best.safetensors (early stopping's best) instead of the final weights.
    #[arg(long)]
    pub best: bool,
}

pub fn sample(args: &SampleArgs) -> anyhow::Result<ExitCode> {
    if args.temperature <= 0.0 || !args.temperature.is_finite() {
        bail!(
            "--temperature must be a number greater than 0 (got {})",
            args.temperature
        );
    }
    let model = load_trained(&args.run_dir, args.best)?;
    let vocab = model.vocab.as_ref().with_context(|| {
        format!(
            "{}: not a text model (no vocabulary); use `seqlab predict` for sequence data",
            args.run_dir.display()
        )
    })?;
    let opts = SampleOptions {
        length: args.length,
        prime: args.prime.clone(),
        temperature: args.temperature,
        greedy: args.greedy,
        seed: args.seed,
    };
    let text = sample_text(&model.net, vocab, &opts).map_err(anyhow::Error::msg)?;
    print_stdout(&(text + "\n"));
    Ok(ExitCode::SUCCESS)
}

/// Which files `seqlab predict` / `seqlab eval` read.
#[derive(clap::Args, Debug)]
pub struct DataSelection {
    /// A run folder written by `seqlab --run`.
    pub run_dir: PathBuf,
    /// CSV sequence files laid out like the training files (the label column may stay):
    /// a file, a directory, a glob (`'dir/seq_*.csv'`) or a numbered pattern
    /// (`dir/seq_%d.csv`, `dir/seq_%04d.csv`, with --range).
    pub data: String,
    /// Label files paired with the data files by position (same forms), for a model
    /// trained with separate label files.
    #[arg(long)]
    pub labels: Option<String>,
    /// Index range for a numbered pattern, inclusive: `A..B`, or `A..` to read until a
    /// file is missing. Refused with anything but a pattern.
    #[arg(long, value_name = "A..B")]
    pub range: Option<super::data::IndexRange>,
    /// Use best.safetensors (early stopping's best) instead of the final weights.
    #[arg(long)]
    pub best: bool,
}

impl DataSelection {
    fn spec(&self, output_steps: Option<usize>) -> anyhow::Result<NewDataSpec> {
        let range = self.range.map(|r| (r.start, r.end));
        Ok(NewDataSpec {
            features: SequenceSource::from_cli(&self.data, range)?,
            labels: self
                .labels
                .as_deref()
                .map(|l| SequenceSource::from_cli(l, range))
                .transpose()?,
            output_steps,
        })
    }
}

/// `seqlab predict`.
#[derive(clap::Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    pub select: DataSelection,
    /// Output steps per sequence (one-to-many models: how many steps to generate from
    /// each one-line input). Default: as in the training data (one per input step,
    /// one for many-to-one, the label length for one-to-many).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// Where to write the predictions (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

/// `seqlab predict`: the run's model on new CSV sequences, read, normalised and batched
/// as training read its data; one CSV line per output step.
pub fn predict(args: &PredictArgs) -> anyhow::Result<ExitCode> {
    let mut model = load_trained(&args.select.run_dir, args.select.best)?;
    let spec = args.select.spec(args.steps)?;
    let data = read_new_data(&model, &spec, &mut |_| {})?;
    let predictions = crate::train::predict::predict(&mut model, &data)?;
    let out = crate::train::predict::predictions_csv(&model, &predictions);
    match &args.output {
        Some(p) => {
            std::fs::write(p, out).with_context(|| format!("could not write {}", p.display()))?
        }
        None => print_stdout(&out),
    }
    Ok(ExitCode::SUCCESS)
}

/// `seqlab eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    #[command(flatten)]
    pub select: DataSelection,
    /// Print one JSON object (the evaluation) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `seqlab eval`: scores labelled data with the run's weights and training normalisation
/// (the same data path as `predict`): score, accuracy, per-class precision / recall / F1
/// and the confusion matrix, or MSE / MAE / R².
pub fn eval(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let mut model = load_trained(&args.select.run_dir, args.select.best)?;
    let spec = args.select.spec(None)?;
    let data = read_new_data(&model, &spec, &mut |_| {})?;
    let ev = crate::train::predict::evaluate(&mut model, &data, "eval")?;
    if args.json {
        print_stdout(&(serde_json::to_string(&ev).expect("plain data") + "\n"));
    } else {
        print_stdout(&format!(
            "{} sequences, {} scored positions\n{}",
            data.dataset.len(),
            ev.positions,
            describe_evaluation(&ev)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// An evaluation as text: the score and metrics, per-class figures and the confusion
/// matrix for classification.
pub fn describe_evaluation(ev: &crate::train::Evaluation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    match &ev.metrics {
        EvalMetrics::Classification {
            accuracy,
            precision,
            recall,
            f1,
            macro_f1,
            confusion,
        } => {
            let _ = writeln!(
                out,
                "score {:.4}, accuracy {accuracy:.4}, macro F1 {macro_f1:.4}",
                ev.score
            );
            let _ = writeln!(out, "class  precision  recall  F1");
            for c in 0..precision.len() {
                let _ = writeln!(
                    out,
                    "{c:>5}  {:>9.4}  {:>6.4}  {:>6.4}",
                    precision[c], recall[c], f1[c]
                );
            }
            let _ = writeln!(out, "confusion (rows: actual, columns: predicted)");
            for row in confusion {
                let cells: Vec<String> = row.iter().map(|v| format!("{v:>6}")).collect();
                let _ = writeln!(out, "{}", cells.join(""));
            }
        }
        EvalMetrics::Regression { mse, mae, r2 } => {
            let _ = writeln!(
                out,
                "score {:.6}, MSE {mse:.6}, MAE {mae:.6}, R^2 {r2:.4}",
                ev.score
            );
        }
    }
    out
}
