//! The background runner: a named thread that drives a [`Trainer`], takes [`Command`]s
//! and reports [`Event`]s over crossbeam channels, and writes the run folder.
//!
//! # Slow consumers
//! Events travel on two channels. Per-iteration metrics go on a bounded channel
//! ([`RunnerOptions::metrics_capacity`]); when it is full the newest metrics event is
//! not queued (training never waits) and the next delivered one says how many were
//! skipped in `skipped`. Every metrics row is still written to `metrics.csv`. All other
//! events (validation results, samples, checkpoints, pause/resume, the final event) go
//! on an unbounded channel and are never dropped; they are rare, so memory stays bounded.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, unbounded, Receiver, Sender, TrySendError};

use crate::experiment::rundir::{MetricsRow, RunDir, RunRecord};
use crate::experiment::{checkpoint, weights};

use super::eval::{EvalMetrics, Evaluation};
pub use super::event::{Event, RunSummary, TestScores};
use super::trainer::{StopReason, Trainer};
use super::view::{self, RunView, SharedView};
use super::TrainError;

/// What the consumer can ask while training runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Pause,
    Resume,
    /// Stop after the current iteration; weights and summary are still written.
    Stop,
    /// New base learning rate from the next iteration on.
    SetLearningRate(f64),
    SampleNow,
    CheckpointNow,
    EvaluateNow,
}

/// How often the runner evaluates, samples and checkpoints.
pub struct RunnerOptions {
    pub run_dir: Option<RunDir>,
    /// Iterations between evaluations (default: once per epoch).
    pub evaluate_every: Option<u64>,
    pub sample_every: Option<u64>,
    pub checkpoint_every: Option<u64>,
    /// Capacity of the metrics channel.
    pub metrics_capacity: usize,
}

impl RunnerOptions {
    /// The experiment's own settings.
    pub fn from_trainer(trainer: &Trainer, run_dir: Option<RunDir>) -> Self {
        let e = &trainer.exp;
        RunnerOptions {
            run_dir,
            evaluate_every: e
                .evaluation
                .every
                .or(Some(trainer.batches_per_epoch() as u64)),
            sample_every: e.sampling.every,
            checkpoint_every: e.training.checkpoint_every,
            metrics_capacity: 1024,
        }
    }
}

/// A running training thread.
pub struct Runner {
    commands: Sender<Command>,
    events: EventStream,
    /// The run's view, updated by the training thread before each event is sent.
    view: SharedView,
    handle: Option<JoinHandle<Option<Trainer>>>,
}

/// The sending ends of one consumer's pair of event channels (important events
/// unbounded, metrics bounded): the runner sends every event to its own consumer and to
/// each tap given at spawn, so a second consumer (a window drawing the run while the
/// session thread is busy) sees the run without going through the first.
#[derive(Clone)]
pub struct Tap {
    important: Sender<Event>,
    metrics: Sender<Event>,
}

/// The receiving ends of one consumer's event channels, with the delivery order the
/// module doc describes (`Finished` after every metrics event sent before it).
pub struct EventStream {
    important: Receiver<Event>,
    metrics: Receiver<Event>,
    /// `Finished`, taken from the important channel while metrics events sent before
    /// it were still queued: it is delivered after them.
    held: std::sync::Mutex<Option<Event>>,
}

/// A consumer's pair of channels: pass the [`Tap`] to a spawn, read the
/// [`EventStream`]. `metrics_capacity` bounds the queued per-iteration events (the
/// newest are dropped when it is full; training never waits for a consumer).
pub fn tap(metrics_capacity: usize) -> (Tap, EventStream) {
    let (imp_tx, imp_rx) = unbounded();
    let (met_tx, met_rx) = bounded(metrics_capacity.max(1));
    (
        Tap {
            important: imp_tx,
            metrics: met_tx,
        },
        EventStream {
            important: imp_rx,
            metrics: met_rx,
            held: Default::default(),
        },
    )
}

impl EventStream {
    /// The next event without waiting; important events first.
    ///
    /// Important events come first, except `Finished`: it waits until the metrics
    /// events sent before it are delivered, so a consumer that stops at `Finished` has
    /// every iteration.
    pub fn try_recv(&self) -> Option<Event> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_none() {
            match self.important.try_recv() {
                Ok(e @ Event::Finished(_)) => *held = Some(e),
                Ok(e) => return Some(e),
                Err(_) => {}
            }
        }
        self.metrics.try_recv().ok().or_else(|| held.take())
    }

    /// The next event, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        if let Some(e) = self.try_recv() {
            return Some(e);
        }
        select! {
            recv(self.important) -> e => match e {
                Ok(e @ Event::Finished(_)) => {
                    *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    self.try_recv()
                }
                e => e.ok(),
            },
            recv(self.metrics) -> e => e.ok(),
            default(timeout) => None,
        }
    }
}

/// Called after every event so a GUI can repaint.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

impl Runner {
    /// Starts training on a thread named `seqlab-trainer`.
    pub fn spawn(trainer: Trainer, options: RunnerOptions, wake: Wake) -> std::io::Result<Runner> {
        let capacity = options.metrics_capacity;
        Self::start(capacity, Vec::new(), wake.clone(), move |ch| {
            Some(Worker::new(trainer, options, ch, wake).run_to_end())
        })
    }

    /// Loads the experiment's data and builds the trainer on the training thread (so a
    /// large folder never blocks the caller), then trains. Loading problems arrive as
    /// [`Event::Failed`] followed by [`Event::Finished`]. `run_dir` is created once the
    /// data has loaded.
    pub fn spawn_experiment(
        exp: crate::experiment::Experiment,
        run_dir: Option<(PathBuf, RunRecord)>,
        wake: Wake,
    ) -> std::io::Result<Runner> {
        Self::spawn_experiment_tapped(exp, run_dir, wake, Vec::new())
    }

    /// [`Runner::spawn_experiment`], sending every event also to each of `taps` (see
    /// [`tap`]).
    pub fn spawn_experiment_tapped(
        exp: crate::experiment::Experiment,
        run_dir: Option<(PathBuf, RunRecord)>,
        wake: Wake,
        taps: Vec<Tap>,
    ) -> std::io::Result<Runner> {
        Self::start(1024, taps, wake.clone(), move |ch| {
            // errors name the experiment's file when the run has a record of it
            let file = run_dir
                .as_ref()
                .map(|(_, rec)| rec.experiment_file.clone())
                .filter(|f| !f.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from(&exp.name));
            let prepared = Trainer::for_file(exp, &file, &mut |_| {})
                .map_err(|e| e.to_string())
                .and_then(|trainer| {
                    let dir = run_dir
                        .map(|(p, rec)| {
                            complete_record(&trainer, rec).and_then(|rec| RunDir::create(&p, &rec))
                        })
                        .transpose()
                        .map_err(|e| e.to_string())?;
                    Ok((trainer, dir))
                });
            match prepared {
                Ok((trainer, dir)) => {
                    let options = RunnerOptions::from_trainer(&trainer, dir);
                    Some(Worker::new(trainer, options, ch, wake).run_to_end())
                }
                Err(message) => {
                    fail(&ch.outlets, &ch.view, &wake, message);
                    None
                }
            }
        })
    }

    /// The channels and the named thread running `body`. A panic in `body` (a bug) still
    /// ends with [`Event::Failed`] and [`Event::Finished`], so no consumer waits for ever.
    fn start(
        metrics_capacity: usize,
        taps: Vec<Tap>,
        wake: Wake,
        body: impl FnOnce(Channels) -> Option<Trainer> + Send + 'static,
    ) -> std::io::Result<Runner> {
        let (cmd_tx, cmd_rx) = unbounded();
        let (own, events) = tap(metrics_capacity);
        let mut outlets = vec![own];
        outlets.extend(taps);
        let reporter = outlets.clone();
        let view = RunView::default().shared();
        let reporter_view = view.clone();
        let channels = Channels {
            commands: cmd_rx,
            outlets,
            view: view.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("seqlab-trainer".into())
            .spawn(move || {
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(channels))) {
                    Ok(trainer) => trainer,
                    Err(payload) => {
                        let what = payload
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "no message".into());
                        fail(
                            &reporter,
                            &reporter_view,
                            &wake,
                            format!(
                                "the training thread stopped on an internal error ({what}); \
                                 this is a bug in seqlab: please report it with the \
                                 experiment file"
                            ),
                        );
                        None
                    }
                }
            })?;
        Ok(Runner {
            commands: cmd_tx,
            events,
            view,
            handle: Some(handle),
        })
    }

    /// The run's view ([`super::view`]): every event's effect, applied on the training
    /// thread before the event is sent, so it is complete whoever reads it and whenever.
    pub fn view(&self) -> SharedView {
        self.view.clone()
    }

    /// Sends a command (ignored once the run has ended).
    pub fn send(&self, cmd: Command) {
        let _ = self.commands.send(cmd);
    }

    /// A clone of the command sender (e.g. for a Ctrl-C handler).
    pub fn command_sender(&self) -> Sender<Command> {
        self.commands.clone()
    }

    /// The next event without waiting; see [`EventStream::try_recv`].
    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv()
    }

    /// The next event, waiting up to `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        self.events.recv_timeout(timeout)
    }

    /// True once the training thread has ended (its last events may still be queued).
    pub fn is_finished(&self) -> bool {
        self.handle.as_ref().is_none_or(|h| h.is_finished())
    }

    /// Waits for the thread and returns the trainer (after `Finished`).
    pub fn join(mut self) -> Option<Trainer> {
        self.handle.take().and_then(|h| h.join().ok()).flatten()
    }
}

/// Reports a run that ended before or outside training: [`Event::Failed`] then
/// [`Event::Finished`] with the message as the error.
fn fail(outlets: &[Tap], view: &SharedView, wake: &Wake, message: String) {
    let failed = Event::Failed {
        iteration: 0,
        message: message.clone(),
    };
    view::write(view).apply(&failed);
    for o in outlets {
        let _ = o.important.send(failed.clone());
    }
    let summary = RunSummary {
        stop_reason: StopReason::Stopped,
        iterations: 0,
        epochs: 0,
        final_score: None,
        best_score: None,
        best_iteration: None,
        evaluation: None,
        test: None,
        wall_seconds: 0.0,
        run_dir: None,
        error: Some(message),
    };
    let finished = Event::Finished(summary);
    view::write(view).apply(&finished);
    for o in outlets {
        let _ = o.important.send(finished.clone());
    }
    wake();
}

/// Fills what a run record leaves empty: the data files' hashes (read here, on the
/// training thread), and always the thread setup the trainer really uses (whatever the
/// record held before).
pub fn complete_record(
    trainer: &Trainer,
    mut rec: RunRecord,
) -> Result<RunRecord, crate::experiment::ExperimentError> {
    if rec.data_hashes.is_empty() {
        for f in super::TrainingData::files(&trainer.exp) {
            let hash = crate::experiment::rundir::sha256_file(&f)?;
            rec.data_hashes.push((f, hash));
        }
    }
    rec.blas = trainer.thread_setup().to_string();
    rec.blas_kernel_decision = crate::blas::kernel_decision()
        .map(|d| d.to_string())
        .unwrap_or_default();
    if rec.started_unix == 0 {
        rec.started_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
    }
    Ok(rec)
}

/// The training thread's ends of the channels.
struct Channels {
    commands: Receiver<Command>,
    /// The runner's own consumer first, then the taps.
    outlets: Vec<Tap>,
    view: SharedView,
}

struct Worker {
    trainer: Trainer,
    options: RunnerOptions,
    commands: Receiver<Command>,
    /// The runner's own consumer first, then the taps.
    outlets: Vec<Tap>,
    view: SharedView,
    /// Events not yet applied to `view` because a reader held it: applied with the next
    /// event (training never waits for a reader, except for the last event).
    unapplied: std::cell::RefCell<Vec<Event>>,
    wake: Wake,
    skipped: u64,
    /// Metrics events each tap (after the runner's own consumer) could not queue since
    /// its last delivered one.
    tap_skipped: Vec<u64>,
    last_eval: Option<Evaluation>,
    /// Iteration of the newest checkpoint written (or resumed from).
    last_checkpoint: Option<u64>,
    /// The first failed write to the run folder: the run stops there.
    write_error: Option<String>,
}

fn due(every: Option<u64>, iteration: u64) -> bool {
    every.is_some_and(|e| e > 0 && iteration.is_multiple_of(e))
}

impl Worker {
    fn new(trainer: Trainer, options: RunnerOptions, ch: Channels, wake: Wake) -> Self {
        let trainer_iteration = trainer.iteration;
        let taps = ch.outlets.len().saturating_sub(1);
        Worker {
            trainer,
            options,
            commands: ch.commands,
            outlets: ch.outlets,
            view: ch.view,
            unapplied: Default::default(),
            wake,
            skipped: 0,
            tap_skipped: vec![0; taps],
            last_eval: None,
            last_checkpoint: (trainer_iteration > 0).then_some(trainer_iteration),
            write_error: None,
        }
    }

    /// Trains to the end and hands the trainer back.
    fn run_to_end(mut self) -> Trainer {
        self.run();
        self.trainer
    }

    /// Applies `e` (and any event a reader held back) to the run's view, without waiting
    /// for a reader except for the last event ([`Event::Finished`]).
    fn publish(&self, e: &Event) {
        let mut unapplied = self.unapplied.borrow_mut();
        let guard = if matches!(e, Event::Finished(_)) {
            Some(view::write(&self.view))
        } else {
            match self.view.try_write() {
                Ok(g) => Some(g),
                Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
                Err(std::sync::TryLockError::WouldBlock) => None,
            }
        };
        match guard {
            Some(mut v) => {
                for held in unapplied.drain(..) {
                    v.apply(&held);
                }
                v.apply(e);
            }
            None => unapplied.push(e.clone()),
        }
    }

    fn emit(&self, e: Event) {
        self.publish(&e);
        if let Some((last, rest)) = self.outlets.split_last() {
            for o in rest {
                let _ = o.important.send(e.clone());
            }
            let _ = last.important.send(e);
        }
        (self.wake)();
    }

    fn run(&mut self) {
        let start = Instant::now();
        let run_dir = self.options.run_dir.as_ref().map(|d| d.path.clone());
        self.emit(Event::Started {
            parameters: self.trainer.net.num_params(),
            max_iterations: self.trainer.max_iterations(),
            run_dir: run_dir.clone(),
            setup: self.trainer.thread_setup().to_string(),
        });
        let mut paused = false;
        let mut stop = false;
        let mut tokens = 0usize;
        let mut last_score = None;
        let mut error: Option<String> = None;
        let reason = loop {
            // commands: block while paused, otherwise take what is queued
            loop {
                let cmd = if paused {
                    self.commands.recv().ok()
                } else {
                    self.commands.try_recv().ok()
                };
                let Some(cmd) = cmd else {
                    if paused {
                        stop = true; // the consumer is gone
                    }
                    break;
                };
                match cmd {
                    Command::Pause => {
                        paused = true;
                        self.emit(Event::Paused {
                            iteration: self.trainer.iteration,
                        });
                    }
                    Command::Resume => {
                        if paused {
                            paused = false;
                            self.emit(Event::Resumed {
                                iteration: self.trainer.iteration,
                            });
                        }
                    }
                    Command::Stop => {
                        stop = true;
                        paused = false;
                    }
                    Command::SetLearningRate(lr) => {
                        self.trainer.lr.base = lr;
                        self.emit(Event::LearningRateSet {
                            iteration: self.trainer.iteration,
                            lr,
                        });
                    }
                    Command::SampleNow => self.sample(),
                    Command::CheckpointNow => {
                        if let Err(e) = self.checkpoint() {
                            self.write_failed(e);
                        }
                    }
                    Command::EvaluateNow => {
                        let _ = self.evaluate();
                    }
                }
                if stop {
                    break;
                }
            }
            if stop {
                break StopReason::Stopped;
            }
            if self.trainer.is_complete() {
                break StopReason::Completed;
            }
            let metrics = match self.trainer.step() {
                Ok(m) => m,
                Err(e) => {
                    let diverged = matches!(e, TrainError::Diverged { .. });
                    error = Some(e.to_string());
                    self.emit(Event::Failed {
                        iteration: self.trainer.iteration + 1,
                        message: e.to_string(),
                    });
                    if diverged {
                        break StopReason::Diverged;
                    }
                    break StopReason::Stopped;
                }
            };
            tokens += metrics.tokens;
            last_score = Some(metrics.score);
            let elapsed = start.elapsed().as_secs_f64();
            let tps = tokens as f64 / elapsed.max(1e-9);
            let it = metrics.iteration;
            if let Some(dir) = self.options.run_dir.as_mut() {
                let layers: Vec<(String, f64, f64)> = metrics
                    .layers
                    .iter()
                    .map(|l| (l.name.clone(), l.grad_norm, l.ratio))
                    .collect();
                let row = MetricsRow {
                    iteration: it,
                    epoch: metrics.epoch,
                    score: metrics.score,
                    lr: metrics.lr,
                    global_grad_norm: metrics.global_grad_norm,
                    layers: &layers,
                    tokens_per_s: tps,
                    elapsed_s: elapsed,
                };
                if let Err(e) = dir.append_metrics(&row) {
                    self.write_failed(e);
                }
            }
            let ev = Event::Iteration {
                metrics,
                tokens_per_s: tps,
                elapsed_s: elapsed,
                skipped: self.skipped,
            };
            self.publish(&ev);
            // the taps drop what they cannot queue, as the runner's own consumer does,
            // each counting its own skipped events
            for (tap, skipped) in self.outlets[1..].iter().zip(&mut self.tap_skipped) {
                let mut own = ev.clone();
                if let Event::Iteration { skipped: s, .. } = &mut own {
                    *s = *skipped;
                }
                match tap.metrics.try_send(own) {
                    Ok(()) => *skipped = 0,
                    Err(TrySendError::Full(_)) => *skipped += 1,
                    Err(TrySendError::Disconnected(_)) => {}
                }
            }
            match self.outlets[0].metrics.try_send(ev) {
                Ok(()) => {
                    self.skipped = 0;
                    (self.wake)();
                }
                Err(TrySendError::Full(_)) => self.skipped += 1,
                Err(TrySendError::Disconnected(_)) => {}
            }
            if self.write_error.is_some() {
                break StopReason::Stopped;
            }
            let last = self.trainer.is_complete();
            if due(self.options.evaluate_every, it) && !last {
                if let Some(ev) = self.evaluate() {
                    if self.trainer.exp.training.early_stopping.is_some()
                        && self.trainer.early_stopping_update(&ev)
                    {
                        break StopReason::EarlyStopped;
                    }
                }
            }
            if due(self.options.sample_every, it) && !last {
                self.sample();
            }
            if due(self.options.checkpoint_every, it) && !last {
                if let Err(e) = self.checkpoint() {
                    self.write_failed(e);
                }
            }
            if self.write_error.is_some() {
                break StopReason::Stopped;
            }
        };
        if let Some(e) = &self.write_error {
            error.get_or_insert_with(|| e.clone());
        }

        // the end: final evaluation, sample, weights, checkpoint, summary
        if reason != StopReason::Diverged && error.is_none() {
            if self.last_eval.as_ref().map(|e| e.iteration) != Some(self.trainer.iteration) {
                if let Some(ev) = self.evaluate() {
                    if self.trainer.exp.training.early_stopping.is_some() {
                        self.trainer.early_stopping_update(&ev);
                    }
                }
            }
            self.sample();
        }
        let test = if reason != StopReason::Diverged && error.is_none() {
            self.evaluate_test()
        } else {
            None
        };
        if let Err(e) = self.write_final(reason) {
            if error.is_none() {
                self.write_failed(e);
                error = self.write_error.clone();
            }
        }
        let summary = RunSummary {
            stop_reason: reason,
            iterations: self.trainer.iteration,
            epochs: self.trainer.epoch,
            final_score: last_score,
            best_score: self.trainer.early.best_score,
            best_iteration: self
                .trainer
                .early
                .best_score
                .map(|_| self.trainer.early.best_iteration),
            evaluation: self.last_eval.clone(),
            test,
            wall_seconds: start.elapsed().as_secs_f64(),
            run_dir,
            error,
        };
        if let Some(dir) = self.options.run_dir.as_mut() {
            let written = dir.flush().and_then(|()| {
                dir.write_summary(&serde_json::to_value(&summary).expect("plain data"))
            });
            if let Err(e) = written {
                self.emit(Event::Warning {
                    iteration: self.trainer.iteration,
                    message: format!("the run's records were not all written: {e}"),
                });
            }
        }
        self.emit(Event::Finished(summary));
    }

    /// Appends an evaluation to `eval.csv`.
    fn record_eval(&mut self, ev: &Evaluation) {
        if let Some(dir) = self.options.run_dir.as_mut() {
            let named: Vec<(&str, f64)> = match &ev.metrics {
                EvalMetrics::Classification {
                    accuracy, macro_f1, ..
                } => vec![("accuracy", *accuracy), ("macro_f1", *macro_f1)],
                EvalMetrics::Regression { mse, mae, r2 } => {
                    vec![("mse", *mse), ("mae", *mae), ("r2", *r2)]
                }
            };
            if let Err(e) = dir.append_eval(ev.iteration, &ev.split, ev.score, &named) {
                self.write_failed(e);
            }
        }
    }

    /// The test split's one score (rows `test` and `test_best` in `eval.csv`).
    fn evaluate_test(&mut self) -> Option<TestScores> {
        match self.trainer.evaluate_test() {
            Ok(Some((last, best))) => {
                self.record_eval(&last);
                if let Some(b) = &best {
                    self.record_eval(b);
                }
                Some(TestScores { last, best })
            }
            Ok(None) => None,
            Err(e) => {
                self.emit(Event::Warning {
                    iteration: self.trainer.iteration,
                    message: format!("test split: {e}"),
                });
                None
            }
        }
    }

    fn evaluate(&mut self) -> Option<Evaluation> {
        match self.trainer.evaluate() {
            Ok(Some(ev)) => {
                self.record_eval(&ev);
                self.last_eval = Some(ev.clone());
                self.emit(Event::Validation(ev.clone()));
                Some(ev)
            }
            Ok(None) => None,
            Err(e) => {
                self.emit(Event::Warning {
                    iteration: self.trainer.iteration,
                    message: format!("validation: {e}"),
                });
                None
            }
        }
    }

    fn sample(&mut self) {
        match self.trainer.sample() {
            Ok(text) => {
                if let Some(dir) = self.options.run_dir.as_mut() {
                    if let Err(e) = dir.append_sample(self.trainer.iteration, &text) {
                        self.write_failed(e);
                    }
                }
                self.emit(Event::Sample {
                    iteration: self.trainer.iteration,
                    text,
                });
            }
            Err(e) => self.emit(Event::Warning {
                iteration: self.trainer.iteration,
                message: format!("sampling: {e}"),
            }),
        }
    }

    /// Records the first failed write to the run folder (the run stops after the
    /// current step) with what was kept.
    fn write_failed(&mut self, e: crate::experiment::ExperimentError) {
        if self.write_error.is_some() {
            return;
        }
        let dir = self
            .options
            .run_dir
            .as_ref()
            .map(|d| d.path.display().to_string())
            .unwrap_or_default();
        let kept = match self.last_checkpoint {
            Some(k) => format!(
                "kept: the checkpoint of iteration {k} and the logs up to it; when the \
                 problem is fixed, continue with `seqlab --run --resume {dir}`"
            ),
            None => "kept: no checkpoint yet (training.checkpoint_every sets how often one \
                     is written)"
                .to_string(),
        };
        let message = format!(
            "{e}; training stopped at iteration {} at this first failed write; {kept}",
            self.trainer.iteration
        );
        self.emit(Event::Failed {
            iteration: self.trainer.iteration,
            message: message.clone(),
        });
        self.write_error = Some(message);
    }

    fn checkpoint(&mut self) -> Result<(), crate::experiment::ExperimentError> {
        let Some(dir) = self.options.run_dir.as_mut() else {
            return Ok(());
        };
        let path = dir.checkpoint_path(self.trainer.iteration);
        // the logs up to this iteration reach the disk before the checkpoint is named
        dir.flush()?;
        checkpoint::save(&path, &self.trainer.checkpoint())?;
        dir.set_latest_checkpoint(&path)?;
        self.last_checkpoint = Some(self.trainer.iteration);
        self.emit(Event::Checkpoint {
            iteration: self.trainer.iteration,
            path,
        });
        Ok(())
    }

    fn write_final(
        &mut self,
        reason: StopReason,
    ) -> Result<(), crate::experiment::ExperimentError> {
        let Some(dir) = self.options.run_dir.as_ref() else {
            return Ok(());
        };
        // after divergence the trainer holds the last finite parameters (those of
        // `iteration`): they become the run's weights, marked as such; no checkpoint
        // (the updater state is not finite)
        let mut meta = self.trainer.model_metadata();
        meta.push((
            "seqlab.iteration".to_string(),
            self.trainer.iteration.to_string(),
        ));
        if reason == StopReason::Diverged {
            meta.push((
                "seqlab.diverged_at".to_string(),
                (self.trainer.iteration + 1).to_string(),
            ));
        }
        weights::save_weights(
            &dir.path.join("weights.safetensors"),
            &self.trainer.weights(),
            &meta,
        )?;
        if let Some(best) = self.trainer.best_weights() {
            let mut meta = self.trainer.model_metadata();
            meta.push((
                "seqlab.iteration".to_string(),
                self.trainer.early.best_iteration.to_string(),
            ));
            weights::save_weights(&dir.path.join("best.safetensors"), &best, &meta)?;
        }
        if reason == StopReason::Diverged {
            return Ok(());
        }
        self.checkpoint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_on_the_training_thread_arrives_as_a_failure_and_an_end() {
        let runner = Runner::start(4, Vec::new(), Arc::new(|| {}), |_ch| panic!("boom")).unwrap();
        let start = Instant::now();
        let mut events = Vec::new();
        while !matches!(events.last(), Some(Event::Finished(_))) {
            assert!(start.elapsed() < Duration::from_secs(10), "{events:?}");
            if let Some(e) = runner.recv_timeout(Duration::from_millis(50)) {
                events.push(e);
            }
        }
        assert!(
            matches!(&events[0], Event::Failed { message, .. } if message.contains("boom")),
            "{events:?}"
        );
        let Some(Event::Finished(summary)) = events.last() else {
            unreachable!()
        };
        assert!(summary.error.as_deref().is_some_and(|e| e.contains("bug")));
        assert!(runner.join().is_none());
    }
}
