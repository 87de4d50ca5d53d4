//! `seqlab --run`, `seqlab sample`, `seqlab predict`: headless training and use of a
//! trained model.

use super::args::{whole_number, whole_usize};
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
    /// Not with --resume: a resumed run continues in its own folder.
    #[arg(long, value_name = "DIR", conflicts_with = "resume")]
    pub out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint.
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Train for this many iterations (minibatches) instead of the file's budget.
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = whole_number)]
    pub iterations: Option<u64>,
    /// Train for this many epochs instead of the file's budget.
    #[arg(
        long,
        value_name = "N",
        conflicts_with = "iterations",
        allow_negative_numbers = true,
        value_parser = whole_number
    )]
    pub epochs: Option<u64>,
    /// Override the seed.
    #[arg(long, value_name = "S", allow_negative_numbers = true, value_parser = whole_number)]
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

/// Applies the command-line overrides and checks the result with the same validation
/// as a file's values: a value refused in a file is refused on the command line, and
/// the message names the option.
fn apply_overrides(exp: &mut Experiment, args: &RunArgs) -> anyhow::Result<()> {
    let mut given = Vec::new();
    if let Some(n) = args.iterations {
        exp.training.iterations = Some(n);
        exp.training.epochs = None;
        given.push(("training.iterations", format!("--iterations {n}")));
    }
    if let Some(n) = args.epochs {
        exp.training.epochs = Some(n);
        exp.training.iterations = None;
        given.push(("training.epochs", format!("--epochs {n}")));
    }
    if let Some(s) = args.seed {
        exp.training.seed = s;
        given.push(("training.seed", format!("--seed {s}")));
    }
    for (field, option) in given {
        let problem = crate::experiment::validate::problems(exp, Path::new(&option))
            .into_iter()
            .find(|p| p.field_path() == Some(field));
        if let Some(problem) = problem {
            return Err(problem.into());
        }
    }
    Ok(())
}

/// Loads the data and builds the trainer. Checks made against the loaded data name
/// the experiment by its `name`; on the command line the file is the place, so the
/// message names `file` instead.
fn new_trainer(
    exp: Experiment,
    file: &Path,
    progress: &mut dyn FnMut(crate::data::Progress),
) -> anyhow::Result<Trainer> {
    Ok(Trainer::for_file(exp, file, progress)?)
}

/// Why a run folder cannot be continued, when its own files say so: a run that never
/// started, or one that diverged.
fn check_resumable(dir: &Path) -> anyhow::Result<()> {
    if dir.is_dir() && !dir.join("run.ron").exists() {
        bail!(
            "{}: this run never started (there is no run.ron); start it again with \
             `seqlab --run EXPERIMENT --out {}`",
            dir.display(),
            dir.display()
        );
    }
    if let Some(diverged) = diverged_note(dir) {
        bail!(
            "{}: {diverged}; resuming would repeat it: start a new run with a lower learning \
             rate or gradient clipping (initial_weights: {:?} continues from those weights)",
            dir.display(),
            dir.join("weights.safetensors")
        );
    }
    Ok(())
}

/// "this run diverged at iteration N ..." when the run folder's summary says so.
fn diverged_note(dir: &Path) -> Option<String> {
    let summary = RunDir::read_summary(dir)?;
    if summary.get("stop_reason")?.as_str()? != "diverged" {
        return None;
    }
    let kept = summary
        .get("iterations")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    Some(format!(
        "this run diverged at iteration {} (summary.json); its weights.safetensors holds \
         the last finite parameters, those of iteration {kept}",
        kept + 1
    ))
}

/// Loads a run folder's trained model; when that fails, says what happened to the run
/// (diverged, still running or killed before the end, never started).
fn load_model(dir: &Path, best: bool) -> anyhow::Result<crate::train::trainer::TrainedModel> {
    match load_trained(dir, best) {
        Ok(model) => {
            if let Some(note) = diverged_note(dir) {
                eprintln!("seqlab: note: {note}");
            }
            Ok(model)
        }
        Err(e) => {
            let weights = dir.join(if best {
                "best.safetensors"
            } else {
                "weights.safetensors"
            });
            if !dir.join("run.ron").exists() || weights.exists() {
                return Err(e.into());
            }
            let what = if let Some(note) = diverged_note(dir) {
                note
            } else if RunDir::read_summary(dir).is_none() {
                let latest = RunDir::intact_checkpoints(dir).first().map(|(k, _)| *k);
                match latest {
                    Some(k) => format!(
                        "the run has not finished (still running, or stopped before the end); \
                         its newest intact checkpoint is at iteration {k}: finish it with \
                         `seqlab --run --resume {}`",
                        dir.display()
                    ),
                    None => "the run has not finished (still running, or stopped before the \
                             end) and has no checkpoint"
                        .to_string(),
                }
            } else if best {
                "the run kept no best weights (best.safetensors is written with \
                 early stopping); leave out --best"
                    .to_string()
            } else {
                "the run wrote no weights".to_string()
            };
            Err(anyhow::anyhow!("{}: {what}", weights.display()))
        }
    }
}

/// The checkpoint `--resume` continues from: the one `checkpoints/latest` names; when
/// that is missing or damaged, the message lists the intact earlier checkpoints.
fn resume_checkpoint(dir: &Path) -> anyhow::Result<(PathBuf, checkpoint::Checkpoint)> {
    let loaded =
        RunDir::latest_checkpoint(dir).and_then(|p| checkpoint::load(&p).map(|ck| (p, ck)));
    loaded.map_err(|e| {
        let intact = RunDir::intact_checkpoints(dir);
        match intact.first() {
            None => anyhow::anyhow!(
                "{e}; {} has no intact checkpoint to resume from: start the run again",
                dir.display()
            ),
            Some((k, p)) => {
                let list: Vec<String> = intact
                    .iter()
                    .map(|(k, p)| {
                        format!(
                            "{} (iteration {k})",
                            p.file_name().unwrap_or_default().to_string_lossy()
                        )
                    })
                    .collect();
                let latest = dir.join("checkpoints").join("latest");
                anyhow::anyhow!(
                    "{e}; intact earlier checkpoints: {}; to resume from the newest \
                     (iteration {k}), write its name into {} (`echo {} > {}`) and run \
                     --resume again",
                    list.join(", "),
                    latest.display(),
                    p.file_name().unwrap_or_default().to_string_lossy(),
                    latest.display(),
                )
            }
        }
    })
}

/// `seqlab --run FILE` / `seqlab --run --resume RUN_DIR`.
/// Ctrl-C for a headless run. It is installed before anything is read or written, so no
/// press meets the default action (which would end the process by the signal, with no exit
/// code and no message). Until training starts a press exits at once with 130: nothing is
/// trained yet and every file written so far is complete (they are written whole). Once
/// the training thread runs, the first press asks it to stop after the current iteration
/// (it writes its checkpoint and summary) and the second exits at once.
struct CtrlC {
    stop: Arc<std::sync::Mutex<Option<crossbeam_channel::Sender<Command>>>>,
}

impl CtrlC {
    fn install() -> Self {
        let stop: Arc<std::sync::Mutex<Option<crossbeam_channel::Sender<Command>>>> =
            Arc::default();
        let slot = stop.clone();
        let presses = std::sync::atomic::AtomicU32::new(0);
        let _ = ctrlc::set_handler(move || {
            let n = presses.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let sent = match slot.lock() {
                Ok(guard) => guard
                    .as_ref()
                    .is_some_and(|tx| tx.send(Command::Stop).is_ok()),
                Err(_) => false,
            };
            if n > 0 || !sent {
                super::exit_now(130);
            }
            eprintln!("stopping after the current iteration (press Ctrl-C again to quit at once)");
        });
        CtrlC { stop }
    }

    /// From now on the first press stops `runner` after its current iteration.
    fn training(&self, runner: &Runner) {
        if let Ok(mut slot) = self.stop.lock() {
            *slot = Some(runner.command_sender());
        }
    }
}

pub fn run(file_arg: Option<&Path>, args: &RunArgs) -> anyhow::Result<ExitCode> {
    let ctrl_c = CtrlC::install();
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
        if let Some(file) = file_arg {
            bail!(
                "--run {} --resume {}: give either an experiment file or --resume RUN_DIR \
                 (a resumed run uses the experiment in its run.ron)",
                file.display(),
                dir.display()
            );
        }
        check_resumable(dir)?;
        let record = RunDir::read_record(dir)?;
        let mut exp = record.experiment;
        apply_overrides(&mut exp, args)?;
        let (ck_path, ck) = resume_checkpoint(dir)?;
        // lock the folder and reconcile its logs with the checkpoint before anything else
        let run_dir = RunDir::reopen(dir, ck.info.iteration)?;
        let mut trainer = new_trainer(exp, &dir.join("run.ron"), &mut progress)?;
        trainer.restore(&ck).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; the checkpoint does not belong to the network in {}: restore \
                 run.ron as the run wrote it, or start a new run",
                ck_path.display(),
                dir.join("run.ron").display()
            )
        })?;
        if trainer.is_complete() {
            println!(
                "{}: the run already finished at iteration {} (of {}); nothing to do. Give \
                 --iterations N (more than {}) to train further",
                dir.display(),
                trainer.iteration,
                trainer.max_iterations(),
                trainer.iteration
            );
            return Ok(ExitCode::SUCCESS);
        }
        if !args.quiet {
            eprintln!(
                "resuming {} after iteration {}",
                dir.display(),
                ck.info.iteration
            );
        }
        (trainer, run_dir)
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
        apply_overrides(&mut exp, args)?;
        let trainer = new_trainer(exp.clone(), path, &mut progress)?;
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
            trainer.thread_setup(),
            dir.display()
        );
    }
    let options = RunnerOptions::from_trainer(&trainer, Some(run_dir));
    let runner = Runner::spawn(trainer, options, Arc::new(|| {}))
        .context("could not start the training thread")?;
    ctrl_c.training(&runner);
    let mut display = Display::new(max, args.quiet);
    let summary = loop {
        let Some(event) = runner.recv_timeout(Duration::from_millis(200)) else {
            if runner.is_finished() {
                if let Some(event) = runner.try_recv() {
                    if let Event::Finished(s) = event {
                        break s;
                    }
                    display.show(&event);
                    continue;
                }
                bail!("the training thread ended without reporting a result (a bug in seqlab)");
            }
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
    let reason = s.stop_reason.describe(s.error.is_some());
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
            Event::Warning { message, .. } => self.line(&format!("warning: {message}")),
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

/// The longest text `seqlab sample` generates in one go.
pub const MAX_SAMPLE_LENGTH: usize = 10_000_000;

/// `seqlab sample`.
#[derive(clap::Args, Debug)]
pub struct SampleArgs {
    /// A run folder written by `seqlab --run`.
    pub run_dir: PathBuf,
    /// Characters to generate.
    #[arg(long, default_value_t = 200, allow_negative_numbers = true, value_parser = whole_usize)]
    pub length: usize,
    /// Text to feed first (default: the first character of the vocabulary).
    #[arg(long, default_value = "")]
    pub prime: String,
    /// Softmax temperature (greater than 0).
    #[arg(
        long,
        default_value_t = 1.0,
        conflicts_with = "greedy",
        allow_negative_numbers = true
    )]
    pub temperature: f64,
    /// Always take the most likely character.
    #[arg(long)]
    pub greedy: bool,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = whole_number)]
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
    // the text is built whole before it is printed
    if args.length > MAX_SAMPLE_LENGTH {
        bail!(
            "--length {}: give at most {MAX_SAMPLE_LENGTH} characters (sample longer texts in pieces with --prime)",
            args.length
        );
    }
    let model = load_model(&args.run_dir, args.best)?;
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
    let mut model = load_model(&args.select.run_dir, args.select.best)?;
    let spec = args.select.spec(args.steps)?;
    if let Some(p) = &args.output {
        crate::train::predict::check_output(p, &args.select.run_dir, &spec)
            .map_err(|e| anyhow::anyhow!("--output {e}"))?;
    }
    let data = read_new_data(&model, &spec, &mut |_| {})
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.select.run_dir.display()))?;
    let predictions = crate::train::predict::predict(&mut model, &data)?;
    let out = crate::train::predict::predictions_csv(&model, &predictions);
    match &args.output {
        Some(p) => crate::experiment::io::write_text_atomic(p, &out)
            .map_err(|e| anyhow::anyhow!("could not write the predictions: {e}"))?,
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
    let mut model = load_model(&args.select.run_dir, args.select.best)?;
    let spec = args.select.spec(None)?;
    let data = read_new_data(&model, &spec, &mut |_| {})
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.select.run_dir.display()))?;
    let ev = crate::train::predict::evaluate(&mut model, &data, "eval")?;
    if args.json {
        print_stdout(&(serde_json::to_string(&ev).expect("plain data") + "\n"));
    } else {
        // the same tables and confusion matrix as the REPL's `eval`
        let outputs = crate::repl::session::evaluation_outputs(
            &ev,
            Some(&args.select.run_dir.display().to_string()),
            model.vocab.as_ref(),
            true,
        );
        let text: Vec<String> = outputs.iter().map(crate::repl::render::render).collect();
        print_stdout(&format!(
            "{} sequences, {} scored positions\n{}\n",
            data.dataset.len(),
            ev.positions,
            text.join("\n")
        ));
    }
    Ok(ExitCode::SUCCESS)
}
