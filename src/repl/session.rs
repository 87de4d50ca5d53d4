//! The session: what a notebook holds at run time, driven by command lines.
//!
//! A [`Session`] owns the experiment (with its notebook section), its file, the loaded
//! data, the model of the selected run with its stepping state, and the active run (the
//! background [`Runner`]). [`Session::execute`] takes one command line and returns a
//! [`Cell`] of typed outputs, which it also appends to the notebook's transcript. Front
//! ends (the terminal, scripts, the window) call [`Session::poll`] to take the runner's
//! events; the session keeps its own record of them (the run list, the run's cell).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ndarray::{Array2, Array3};

use super::command::{self, Command, Length, SampleArgs, ShowWhat, Split, StateCommand, COMMANDS};
use crate::data::{LabelSource, SequenceSource, ValidationSplit};
use crate::experiment::fields;
use crate::experiment::file::{self, resolve_paths, to_ron_string};
use crate::experiment::notebook::{
    relative_to, Cell, Confusion, Line, NamedState, Output, RunDigest, RunEntry, Series,
    StateLayer, Table, HISTORY_LIMIT,
};
use crate::experiment::rundir::{next_run_dir, RunDir, RunRecord};
use crate::experiment::schema::{DataSpec, LayerSpec, LayerType, TextSpec};
use crate::experiment::{validate, Experiment};
use crate::nn::network::{LayerState, NetState};
use crate::train::eval::EvalMetrics;
use crate::train::memory::layer_sizes;
use crate::train::runner::Wake;
use crate::train::sample::{sample_text, SampleOptions};
use crate::train::trainer::{load_trained, TrainedModel};
use crate::train::{Event, Runner, Trainer, TrainingData};

/// How many next-step probabilities `step` shows for text models.
pub const TOP_K: usize = 5;

/// The model of the selected run, with its stepping state (kept in the network).
struct Selected {
    /// The run's name as listed (`003`).
    name: String,
    folder: PathBuf,
    model: TrainedModel,
}

/// The run under way.
struct ActiveRun {
    runner: Runner,
    /// Index in the notebook's runs.
    entry: usize,
    /// Index of the `train` cell in the transcript.
    cell: usize,
    max_iterations: u64,
    iteration: u64,
    score: Option<f64>,
    tokens_per_s: f64,
    elapsed_s: f64,
    paused: bool,
}

/// A snapshot of the active run's progress (for progress lines and status bars).
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub run: String,
    pub iteration: u64,
    pub max_iterations: u64,
    pub score: Option<f64>,
    pub tokens_per_s: f64,
    pub elapsed_s: f64,
    pub paused: bool,
}

/// Called with each runner event while `wait` blocks.
pub type ProgressHook = Box<dyn FnMut(&Event) + Send>;

/// A run the session has just started, for a front end that follows it live.
pub struct RunStart {
    /// The `train` cell's index in the transcript.
    pub cell: usize,
    /// The run's index in the notebook's runs.
    pub run: usize,
    /// The run's name as listed (`003`).
    pub name: String,
    /// The run folder (absolute).
    pub folder: PathBuf,
    /// The folder of the run listed before it, if any (the monitor overlays it).
    pub previous: Option<PathBuf>,
    /// Every event of the run, delivered to this front end directly by the training
    /// thread (so it keeps streaming while the session is busy with another command).
    pub events: crate::train::runner::EventStream,
}

/// Called on the session's thread with each run it starts.
pub type RunObserver = Box<dyn FnMut(RunStart) + Send>;

/// One notebook session.
pub struct Session {
    /// The settings and the notebook section (transcript, history, states, runs).
    pub experiment: Experiment,
    file: Option<PathBuf>,
    /// The experiment's text when it was last opened or saved (for unsaved changes).
    saved_text: Option<String>,
    /// The opened file had RON comments, which saving drops.
    file_has_comments: bool,
    data: Option<(DataSpec, TrainingData)>,
    selected: Option<Selected>,
    active: Option<ActiveRun>,
    wake: Wake,
    /// False in the window, where `wait` would freeze the display.
    blocking_allowed: bool,
    /// Counts `new`/`open`, which replace the transcript.
    transcript_epoch: u64,
    /// Called with each event while `wait` blocks (a front end's progress line).
    progress_hook: Option<ProgressHook>,
    /// The problems the opened file had (it opened with what could be read).
    load_problems: Vec<String>,
    /// How many of them are entries that could not be read (they come first).
    load_dropped: usize,
    /// Ctrl-C as a front end reports it: see [`Session::interrupt_handle`].
    interrupt: Arc<std::sync::atomic::AtomicU8>,
    /// Told of each run started (the kernel hands the run's event stream to the window).
    run_observer: Option<RunObserver>,
}

/// [`Session::interrupt_handle`]'s states.
pub const INTERRUPT_NONE: u8 = 0;
/// Ctrl-C was pressed and not yet acted on.
pub const INTERRUPT_PENDING: u8 = 1;
/// `wait` asked the run to stop after its current iteration.
pub const INTERRUPT_STOPPING: u8 = 2;

impl Default for Session {
    fn default() -> Self {
        Session::new()
    }
}

/// Output helpers.
fn text(s: impl Into<String>) -> Output {
    Output::Text(s.into())
}

impl Session {
    /// A session on a new, unsaved experiment.
    pub fn new() -> Self {
        Session {
            experiment: Experiment::default(),
            file: None,
            saved_text: None,
            file_has_comments: false,
            data: None,
            selected: None,
            active: None,
            wake: Arc::new(|| {}),
            blocking_allowed: true,
            transcript_epoch: 0,
            progress_hook: None,
            load_problems: Vec::new(),
            load_dropped: 0,
            interrupt: Arc::default(),
            run_observer: None,
        }
    }

    /// Tells `observer` of each run this session starts, with a stream of its events
    /// that does not pass through the session (see [`RunStart`]).
    pub fn set_run_observer(&mut self, observer: RunObserver) {
        self.run_observer = Some(observer);
    }

    /// The flag a front end's Ctrl-C handler sets to [`INTERRUPT_PENDING`] (a terminal
    /// REPL's signal handler). While `wait` blocks, it answers by asking the run to stop
    /// after its current iteration (its checkpoint, weights and summary are written, so
    /// it stays resumable) and sets [`INTERRUPT_STOPPING`]; a handler that sees any state
    /// but [`INTERRUPT_NONE`] should quit at once. [`Session::take_interrupt`] reads and
    /// clears it.
    pub fn interrupt_handle(&self) -> Arc<std::sync::atomic::AtomicU8> {
        self.interrupt.clone()
    }

    /// True if Ctrl-C was pressed since the last call; clears the flag.
    pub fn take_interrupt(&self) -> bool {
        self.interrupt
            .swap(INTERRUPT_NONE, std::sync::atomic::Ordering::SeqCst)
            != INTERRUPT_NONE
    }

    /// Called after every runner event (the window passes `request_repaint`).
    pub fn set_wake(&mut self, wake: Wake) {
        self.wake = wake;
    }

    /// A hook called with each runner event while `wait` blocks (progress lines).
    pub fn set_progress_hook(&mut self, hook: ProgressHook) {
        self.progress_hook = Some(hook);
    }

    /// Whether `wait` may block (not in the window).
    pub fn set_blocking_allowed(&mut self, allowed: bool) {
        self.blocking_allowed = allowed;
    }

    /// The experiment file, if the notebook has been saved or opened.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// True when there are changes that are not in the file.
    pub fn is_dirty(&self) -> bool {
        match &self.saved_text {
            None => true,
            Some(t) => *t != to_ron_string(&self.saved_form()),
        }
    }

    /// The problems of the file as it was opened (values out of range, entries that
    /// could not be read and took their defaults), as messages naming the file and field;
    /// empty after `new` and for a file without problems.
    pub fn load_problems(&self) -> &[String] {
        &self.load_problems
    }

    /// The entries of the opened file that could not be read at all (a wrong type, an
    /// unknown field or kind) and took their defaults: the part of
    /// [`Session::load_problems`] that the experiment itself no longer shows.
    pub fn unreadable_entries(&self) -> &[String] {
        &self.load_problems[..self.load_dropped]
    }

    /// Counts the times the transcript was replaced (`new`, `open`, a replay).
    pub fn transcript_epoch(&self) -> u64 {
        self.transcript_epoch
    }

    /// True while a run is under way.
    pub fn is_running(&self) -> bool {
        self.active.is_some()
    }

    /// The active run's progress.
    pub fn progress(&self) -> Option<Progress> {
        self.active.as_ref().map(|a| Progress {
            run: self.experiment.notebook.runs[a.entry].name(),
            iteration: a.iteration,
            max_iterations: a.max_iterations,
            score: a.score,
            tokens_per_s: a.tokens_per_s,
            elapsed_s: a.elapsed_s,
            paused: a.paused,
        })
    }

    /// The transcript index of the active run's `train` cell (where a front end draws
    /// the live monitor), and the run's index in the notebook's runs.
    pub fn active_cell(&self) -> Option<(usize, usize)> {
        self.active.as_ref().map(|a| (a.cell, a.entry))
    }

    /// Removes cell `index` from the transcript (the front ends' "delete"); the active
    /// run's cell moves with the cells after it. False when there is no such cell or it
    /// is the active run's (stop the run first).
    pub fn delete_cell(&mut self, index: usize) -> bool {
        let cells = &mut self.experiment.notebook.cells;
        if index >= cells.len() || self.active.as_ref().is_some_and(|a| a.cell == index) {
            return false;
        }
        cells.remove(index);
        if let Some(a) = self.active.as_mut().filter(|a| a.cell > index) {
            a.cell -= 1;
        }
        true
    }

    /// Removes cell `earlier`, an editor's `set` that the newest cell (a `set` of the
    /// same field) supersedes, with its line in the history: consecutive changes of one
    /// field are one cell.
    pub fn fold_edit(&mut self, earlier: usize) {
        let Some(command) = self
            .experiment
            .notebook
            .cells
            .get(earlier)
            .map(|c| c.command.clone())
        else {
            return;
        };
        if self.delete_cell(earlier) {
            let history = &mut self.experiment.notebook.history;
            if let Some(pos) = history.iter().rposition(|h| *h == command) {
                history.remove(pos);
            }
        }
    }

    /// The folder relative paths are read from: the file's, or the current folder.
    pub fn base_dir(&self) -> PathBuf {
        self.file
            .as_deref()
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
    }

    /// Opens an experiment file as a session (its notebook, runs found in its runs
    /// folder included).
    pub fn open(path: &Path) -> Result<Session, String> {
        let mut s = Session::new();
        s.open_file(path)?;
        Ok(s)
    }

    fn open_file(&mut self, path: &Path) -> Result<Vec<Output>, String> {
        // the reader names what is wrong (a folder, not UTF-8, a newer format, ...)
        let read = file::load_lenient(path).map_err(|e| e.to_string())?;
        let raw = std::fs::read(path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        self.stop_active();
        self.experiment = read.experiment;
        self.load_problems = read.problems.iter().map(|p| p.to_string()).collect();
        self.load_dropped = read.dropped;
        self.transcript_epoch += 1;
        self.file = Some(path.to_path_buf());
        let base = self.base_dir();
        self.experiment.notebook.upgrade_run_references();
        self.experiment.notebook.read_curves(&base);
        self.file_has_comments = has_comments(&raw);
        self.data = None;
        self.selected = None;
        let found = self.discover_runs();
        self.saved_text = Some(to_ron_string(&self.saved_form()));
        let mut out = vec![text(format!(
            "opened {} ({}; {} cells, {} runs)",
            path.display(),
            self.experiment.name,
            self.experiment.notebook.cells.len(),
            self.experiment.notebook.runs.len()
        ))];
        if found > 0 {
            out.push(text(format!("found {found} run(s) in the runs folder that the notebook did not list (headless runs); they are listed now")));
        }
        if !read.problems.is_empty() {
            let dropped = if read.dropped > 0 {
                format!(
                    "; {} entr{} could not be read and {} the default",
                    read.dropped,
                    if read.dropped == 1 { "y" } else { "ies" },
                    if read.dropped == 1 { "has" } else { "have" }
                )
            } else {
                String::new()
            };
            out.push(text(format!(
                "the file has {} problem(s){dropped}; fix them with `set` (or in the window's editor) before training:",
                read.problems.len()
            )));
            out.extend(self.load_problems.iter().map(|p| Output::Error(p.clone())));
        }
        Ok(out)
    }

    /// Adds run folders under `<stem>.runs/` that the notebook does not list yet, and
    /// refreshes the digest of listed runs whose summary appeared since. Returns how many
    /// were added.
    fn discover_runs(&mut self) -> usize {
        let Some(file) = self.file.clone() else {
            return 0;
        };
        let base = self.base_dir();
        let root = next_run_dir(&file)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.join("run.ron").is_file())
                    .collect()
            })
            .unwrap_or_default();
        folders.sort();
        let mut added = 0;
        for folder in folders {
            let rel = relative_to(&folder, &base);
            if self
                .experiment
                .notebook
                .runs
                .iter()
                .any(|r| r.folder(&base) == folder || r.path == rel)
            {
                continue;
            }
            self.experiment.notebook.runs.push(RunEntry {
                path: rel,
                summary: read_digest(&folder).unwrap_or_default(),
            });
            added += 1;
        }
        for (i, entry) in self.experiment.notebook.runs.iter_mut().enumerate() {
            let running = self.active.as_ref().is_some_and(|a| a.entry == i);
            if entry.summary.stop_reason.is_empty() && !running {
                if let Some(d) = read_digest(&entry.folder(&base)) {
                    entry.summary = d;
                }
            }
        }
        added
    }

    /// What is written to the file: the experiment with the notebook thinned for saving.
    fn saved_form(&self) -> Experiment {
        let mut e = self.experiment.clone();
        e.notebook = e.notebook.for_saving();
        e
    }

    /// Runs one command line; the cell is also appended to the transcript (and the line
    /// to the history).
    pub fn execute(&mut self, line: &str) -> Cell {
        let line = line.trim();
        let nb = &mut self.experiment.notebook;
        if !line.is_empty() && nb.history.last().map(String::as_str) != Some(line) {
            nb.history.push(line.to_string());
            let excess = nb.history.len().saturating_sub(HISTORY_LIMIT);
            nb.history.drain(..excess);
        }
        let index = self.experiment.notebook.cells.len();
        if index == 0 && self.experiment.notebook.origin.is_none() {
            // where a replay of this transcript starts
            let mut origin = self.experiment.clone();
            origin.notebook = Default::default();
            self.experiment.notebook.origin = Some(Box::new(origin));
        }
        // the cell is in the transcript before the command runs, so `save` writes it
        self.experiment.notebook.cells.push(Cell {
            command: line.to_string(),
            outputs: Vec::new(),
            ok: true,
        });
        let epoch = self.transcript_epoch;
        let parsed = command::parse(line);
        let result = parsed.and_then(|cmd| self.run(cmd, index));
        let cell = match result {
            Ok(outputs) => Cell {
                command: line.to_string(),
                outputs,
                ok: true,
            },
            Err(e) => Cell {
                command: line.to_string(),
                outputs: vec![Output::Error(e)],
                ok: false,
            },
        };
        // `new`/`open` replace the notebook: it starts as it is in its file, without
        // the command that opened it
        if epoch == self.transcript_epoch {
            self.experiment.notebook.cells[index] = cell.clone();
        }
        cell
    }

    /// Starts a replay of the notebook's transcript and returns the command lines to run,
    /// in order, and whether the notebook recorded where it started.
    ///
    /// The experiment goes back to how it was before the first cell
    /// ([`Notebook::origin`](crate::experiment::notebook::Notebook::origin); a new
    /// experiment when the notebook has none) with an empty transcript; the file, its
    /// folder and its runs stay, so relative paths resolve as before and the runs the
    /// replay starts go to the same runs folder. `save`, `open` and `new` are left out:
    /// a replay never writes the file or leaves it. Lines that do not parse are kept, so
    /// the replay reports them as the original session did.
    pub fn begin_replay(&mut self) -> (Vec<String>, bool) {
        self.stop_active();
        let nb = std::mem::take(&mut self.experiment.notebook);
        let recorded = nb.origin.is_some();
        let lines = nb
            .cells
            .iter()
            .map(|c| c.command.trim().to_string())
            .filter(|line| !line.is_empty())
            .filter(|line| {
                !matches!(
                    command::parse(line),
                    Ok(Command::Save { .. } | Command::Open { .. } | Command::New { .. })
                )
            })
            .collect();
        self.experiment = nb.origin.map(|o| *o).unwrap_or_default();
        self.experiment.notebook = crate::experiment::notebook::Notebook {
            runs: nb.runs,
            history: nb.history,
            ..Default::default()
        };
        self.transcript_epoch += 1;
        self.data = None;
        self.selected = None;
        (lines, recorded)
    }

    fn run(&mut self, cmd: Command, cell: usize) -> Result<Vec<Output>, String> {
        match cmd {
            Command::Help(topic) => help(topic.as_deref()),
            Command::Open { path, force } => {
                let path = self.resolve(&path);
                if self.is_dirty() && !force && !self.only_transcript_changed() {
                    return Err(
                        "there are unsaved changes; `save` first, or `open! FILE` to discard them"
                            .into(),
                    );
                }
                self.open_file(&path)
            }
            Command::Save { path, force } => self.save(path, force, cell),
            Command::New { force } => {
                if self.is_dirty() && !force && !self.only_transcript_changed() {
                    return Err(
                        "there are unsaved changes; `save` first, or `new!` to discard them".into(),
                    );
                }
                self.stop_active();
                let mut fresh = Session::new();
                fresh.progress_hook = self.progress_hook.take();
                fresh.run_observer = self.run_observer.take();
                fresh.interrupt = self.interrupt.clone();
                fresh.wake = self.wake.clone();
                fresh.blocking_allowed = self.blocking_allowed;
                fresh.transcript_epoch = self.transcript_epoch + 1;
                *self = fresh;
                Ok(vec![text("new experiment (not saved yet)")])
            }
            Command::Show(what) => self.show(what),
            Command::Set { path, value, force } => {
                let file = self.file_label();
                let updated = if force {
                    fields::set_unchecked(&self.experiment, &path, &value, &file)
                } else {
                    fields::set(&self.experiment, &path, &value, &file)
                }
                .map_err(|e| e.to_string())?;
                self.experiment = updated;
                let now = fields::get(&self.experiment, &path).map_err(|e| e.to_string())?;
                let mut out = vec![text(format!("{path} = {now}"))];
                if force {
                    let mut settings = self.experiment.clone();
                    settings.notebook = Default::default();
                    let problems = validate::problems(&settings, &file);
                    if !problems.is_empty() {
                        out.push(text(format!(
                            "kept; the experiment now has {} problem(s), and `train` waits until they are fixed:",
                            problems.len()
                        )));
                        out.extend(problems.iter().map(|p| text(format!("  {p}"))));
                    }
                }
                Ok(out)
            }
            Command::LoadData { paths, labels } => self.load_data(&paths, labels.as_deref()),
            Command::Align(mode) => {
                let DataSpec::Csv(c) = &mut self.experiment.data else {
                    return Err("alignment applies to CSV data; load CSV sequences first (load data FOLDER)".into());
                };
                c.alignment = mode;
                let mut out = vec![text(format!("data.alignment = {mode:?}"))];
                if let Ok(p) = self.show(ShowWhat::Data) {
                    out.extend(p);
                }
                Ok(out)
            }
            Command::Add { kind, size, at } => {
                let layers = &mut self.experiment.model.layers;
                let at = at.unwrap_or(layers.len());
                if at > layers.len() {
                    return Err(format!(
                        "there are {} layers; add at 0..={}",
                        layers.len(),
                        layers.len()
                    ));
                }
                layers.insert(
                    at,
                    LayerSpec {
                        kind,
                        size,
                        ..LayerSpec::default()
                    },
                );
                self.after_model_change(format!("added {kind:?}({size}) as layer {at}"))
            }
            Command::Remove(n) => {
                let layers = &mut self.experiment.model.layers;
                if n >= layers.len() {
                    return Err(format!(
                        "there are {} layers (0..{}); `show model` lists them",
                        layers.len(),
                        layers.len()
                    ));
                }
                if layers.len() == 1 {
                    return Err("a model needs at least one hidden layer; add another first".into());
                }
                let l = layers.remove(n);
                self.after_model_change(format!("removed layer {n} ({:?}({}))", l.kind, l.size))
            }
            Command::Move { from, to } => {
                let layers = &mut self.experiment.model.layers;
                if from >= layers.len() || to >= layers.len() {
                    return Err(format!(
                        "there are {} layers (0..{}); `show model` lists them",
                        layers.len(),
                        layers.len()
                    ));
                }
                let l = layers.remove(from);
                layers.insert(to, l);
                self.after_model_change(format!("moved layer {from} to {to}"))
            }
            Command::Analyze => self.analyze(),
            Command::Train(length) => self.train(length, cell),
            Command::Pause => self.send(crate::train::Command::Pause, "pause requested"),
            Command::Resume => self.send(crate::train::Command::Resume, "resume requested"),
            Command::Stop => self.send(
                crate::train::Command::Stop,
                "stop requested: the run ends after this iteration",
            ),
            Command::Lr(lr) => self.send(
                crate::train::Command::SetLearningRate(lr),
                &format!("learning rate {lr} from the next iteration"),
            ),
            Command::Checkpoint => {
                self.send(crate::train::Command::CheckpointNow, "checkpoint requested")
            }
            Command::Wait => {
                if !self.blocking_allowed {
                    return Err(
                        "`wait` is for scripts and the terminal; the window shows the run live"
                            .into(),
                    );
                }
                if self.active.is_none() {
                    return Ok(vec![text("no run is under way")]);
                }
                let waited = self.active.as_ref().map(|a| a.entry);
                let mut hook = self.progress_hook.take();
                match hook.as_mut() {
                    Some(h) => self.wait(&mut **h),
                    None => self.wait(&mut |_| {}),
                }
                self.progress_hook = hook;
                // a run that failed or diverged fails `wait`, so a script stops there (and
                // exits with failure) as `seqlab --run` does
                if let Some(run) = waited.and_then(|i| self.experiment.notebook.runs.get(i)) {
                    let d = &run.summary;
                    if d.error.is_some() || d.stop_reason == "Diverged" {
                        return Err(format!("run {} {}", run.name(), describe_digest(d)));
                    }
                }
                // the run's record, as its `train` cell now holds it
                let record: Vec<Output> = self
                    .experiment
                    .notebook
                    .cells
                    .iter()
                    .rev()
                    .find(|c| c.command.starts_with("train") && c.ok)
                    .map(|c| c.outputs.iter().skip(1).cloned().collect())
                    .unwrap_or_default();
                if !record.is_empty() {
                    return Ok(record);
                }
                let entry = self
                    .experiment
                    .notebook
                    .runs
                    .last()
                    .cloned()
                    .unwrap_or_default();
                Ok(vec![text(format!(
                    "run {} {}",
                    entry.name(),
                    describe_digest(&entry.summary)
                ))])
            }
            Command::Eval { run, split } => self.eval(run.as_deref(), split),
            Command::Sample(args) => self.sample(&args),
            Command::Predict { path, out } => self.predict(&path, out.as_deref()),
            Command::Runs => self.runs_table(),
            Command::Use(run) => {
                self.select(&run)?;
                let s = self.selected.as_ref().expect("selected");
                Ok(vec![text(format!(
                    "using run {} ({})",
                    s.name,
                    s.folder.display()
                ))])
            }
            Command::Compare(runs) => self.compare(&runs),
            Command::RunNow(cmd) => {
                let what = match cmd {
                    crate::train::Command::SampleNow => "a sample at the next iteration",
                    _ => "an evaluation at the next iteration",
                };
                self.send(cmd, &format!("{what} requested"))
            }
            Command::Branch(run) => self.branch(&run),
            Command::Export { run, out } => self.export_metrics(&run, out.as_deref()),
            Command::Note(t) => Ok(vec![Output::Markdown(t)]),
            Command::Step(t) => self.step(&t),
            Command::State(s) => self.state(s),
            Command::Sweep(c) => super::sweep::execute(self, c),
        }
    }

    /// True when there are edits that are not in the file: changed settings, or runs
    /// added. Running commands (the transcript and history) or a new experiment nobody
    /// edited has nothing to lose, so `new`/`open` and a window's prompts do not ask.
    pub fn has_unsaved_edits(&self) -> bool {
        self.is_dirty() && !self.only_transcript_changed()
    }

    /// True when only the transcript/history differ from the file (running commands is
    /// not an edit worth a prompt).
    fn only_transcript_changed(&self) -> bool {
        let Some(saved) = &self.saved_text else {
            return self.experiment.model == Experiment::default().model
                && self.experiment.data == Experiment::default().data
                && self.experiment.training == Experiment::default().training
                && self.experiment.notebook.runs.is_empty();
        };
        let Ok(old) = file::from_ron_str(saved, &self.file_label()) else {
            return false;
        };
        let mut a = old.clone();
        let mut b = self.experiment.clone();
        a.notebook.cells.clear();
        a.notebook.history.clear();
        b.notebook.cells.clear();
        b.notebook.history.clear();
        a == b
    }

    fn file_label(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from("(unsaved)"))
    }

    /// A path typed by the user: relative to the current folder.
    fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        }
    }

    /// Saves to `path` (or the file). The `save` cell (`cell`) is written with the
    /// output it will have, so the file and the session hold the same transcript.
    fn save(
        &mut self,
        path: Option<PathBuf>,
        force: bool,
        cell: usize,
    ) -> Result<Vec<Output>, String> {
        let target = match path {
            Some(p) => {
                let p = self.resolve(&p);
                if p.is_dir() {
                    return Err(format!(
                        "{} is a folder; give a file name in it: save {}",
                        p.display(),
                        p.join(format!(
                            "{}.ron",
                            self.experiment.name.replace(['/', '\\'], "_")
                        ))
                        .display()
                    ));
                }
                if p.extension().is_none() {
                    p.with_extension("ron")
                } else {
                    p
                }
            }
            None => self
                .file
                .clone()
                .ok_or("the notebook has no file yet; give one: save NAME.ron")?,
        };
        let same_file = self.file.as_deref().is_some_and(|f| same_path(f, &target));
        if same_file && self.file_has_comments && !force {
            return Err(format!(
                "{} has comments (`// ...`), and saving writes the file anew without them (RON comments do not survive); \
                 move what they say into the notes (set notes \"...\"), then `save!` to save anyway, or save to another file",
                target.display()
            ));
        }
        let old_base = self.base_dir();
        let new_base = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
        let done = vec![text(format!("saved {}", target.display()))];
        let mut exp = self.experiment.clone();
        exp.notebook.cells[cell].outputs = done.clone();
        if !same_path(&old_base, &new_base) {
            rebase_paths(&mut exp, &old_base, &new_base);
        }
        let mut saved = exp.clone();
        saved.notebook = saved.notebook.for_saving();
        file::save(&saved, &target).map_err(|e| e.to_string())?;
        self.experiment = exp;
        if !same_file {
            self.file_has_comments = false;
        }
        self.file = Some(target.clone());
        self.saved_text = Some(to_ron_string(&saved));
        Ok(done)
    }

    fn after_model_change(&mut self, what: String) -> Result<Vec<Output>, String> {
        let mut out = vec![text(what)];
        out.push(self.model_table(None)?);
        Ok(out)
    }

    fn show(&mut self, what: ShowWhat) -> Result<Vec<Output>, String> {
        match what {
            ShowWhat::Experiment => {
                let mut e = self.experiment.clone();
                e.notebook = Default::default();
                Ok(vec![text(to_ron_string(&e))])
            }
            ShowWhat::Field(path) => {
                let v = fields::get(&self.experiment, &path).map_err(|e| e.to_string())?;
                Ok(vec![text(format!("{path} = {v}"))])
            }
            ShowWhat::Model => Ok(vec![self.model_table(None)?]),
            ShowWhat::Runs => self.runs_table(),
            ShowWhat::State => self.state(StateCommand::Show),
            ShowWhat::Data => self.show_data(),
        }
    }

    /// The experiment with its paths made absolute (what the trainer reads).
    fn resolved(&self) -> Experiment {
        let mut e = self.experiment.clone();
        e.notebook = Default::default();
        resolve_paths(&mut e, &self.base_dir());
        e
    }

    /// Loads the data (cached while its settings stay the same).
    fn data(&mut self) -> Result<&TrainingData, String> {
        let exp = self.resolved();
        let fresh = self
            .data
            .as_ref()
            .is_some_and(|(spec, _)| *spec == exp.data);
        if !fresh {
            validate::validate(&exp, &self.file_label()).map_err(|e| e.to_string())?;
            let data = TrainingData::load(&exp, &mut |_| {}).map_err(|e| e.to_string())?;
            self.data = Some((exp.data.clone(), data));
        }
        Ok(&self.data.as_ref().expect("loaded").1)
    }

    fn show_data(&mut self) -> Result<Vec<Output>, String> {
        let spec = self.experiment.data.clone();
        let data = self.data()?;
        let shape = data.shape();
        let mut out = Vec::new();
        match data {
            TrainingData::Sequences {
                train,
                validation,
                alignment,
                task,
                ..
            } => {
                let preview = train.preview(*alignment, 8);
                let mut t = Table {
                    title: format!(
                        "{} training sequences ({} validation), {} features per step, {:?}, aligned {:?}: ■ real step, □ padding (masked)",
                        train.len(),
                        validation.as_ref().map_or(0, |v| v.len()),
                        shape.input,
                        task,
                        alignment
                    ),
                    columns: vec!["example".into(), "file".into(), "feature steps".into(), "label steps".into(), "features".into(), "labels".into()],
                    rows: Vec::new(),
                };
                for e in &preview.examples {
                    let bar = |f: &dyn Fn(&crate::data::StepPreview) -> bool| -> String {
                        e.steps
                            .iter()
                            .map(|s| if f(s) { '■' } else { '□' })
                            .collect()
                    };
                    t.rows.push(vec![
                        e.index.to_string(),
                        e.source
                            .as_deref()
                            .and_then(Path::file_name)
                            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
                        e.feature_len.to_string(),
                        e.label_len.to_string(),
                        bar(&|s| s.feature_real),
                        bar(&|s| s.label_real),
                    ]);
                }
                out.push(Output::Table(t));
                if let Some(p) = &preview.problem {
                    out.push(Output::Error(p.clone()));
                }
            }
            TrainingData::Stream { vocab, .. } => {
                let what = match &spec {
                    DataSpec::Text(t) => format!("text corpus {}", t.path.display()),
                    DataSpec::Sentence(_) => "one sentence (learned by heart)".into(),
                    DataSpec::Echo(e) => format!(
                        "echo task: a random bit stream, target = input {} steps earlier",
                        e.echo
                    ),
                    DataSpec::Csv(_) => "CSV".into(),
                };
                let mut rows = vec![
                    vec!["data".into(), what],
                    vec!["inputs per step".into(), shape.input.to_string()],
                    vec!["outputs per step".into(), shape.output.to_string()],
                ];
                if let Some(v) = vocab {
                    let chars: String = v
                        .chars()
                        .iter()
                        .map(|c| c.escape_debug().to_string())
                        .collect();
                    rows.push(vec![
                        "vocabulary".into(),
                        format!("{} characters: {chars}", v.len()),
                    ]);
                }
                out.push(Output::Table(Table {
                    title: "data".into(),
                    columns: vec!["".into(), "".into()],
                    rows,
                }));
            }
        }
        Ok(out)
    }

    /// `branch RUN`: the run's model and training settings (where they differ) and its
    /// final weights as the initial weights, each applied as `set` would apply it; the
    /// user edits, then trains.
    fn branch(&mut self, which: &str) -> Result<Vec<Output>, String> {
        let index = self.find_run(which)?;
        let entry = self.experiment.notebook.runs[index].clone();
        let base = self.base_dir();
        let folder = entry.folder(&base);
        let weights = folder.join("weights.safetensors");
        if !weights.is_file() {
            return Err(format!(
                "run {}: {} is missing, so there is nothing to branch from (the run wrote no final weights)",
                entry.name(),
                weights.display()
            ));
        }
        let record = RunDir::read_record(&folder).map_err(|e| format!("run {}: {e}", entry.name()))?;
        let one_line = |v: String| v.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        let mut exp = self.experiment.clone();
        let mut out = Vec::new();
        for field in ["model", "training"] {
            let (Ok(theirs), Ok(ours)) = (
                fields::get(&record.experiment, field),
                fields::get(&exp, field),
            ) else {
                continue;
            };
            if theirs != ours {
                exp = fields::set(&exp, field, &one_line(theirs), &self.file_label())
                    .map_err(|e| format!("run {}: {e}", entry.name()))?;
                out.push(text(format!("{field} = the run's {field} settings")));
            }
        }
        let path = match self.file {
            Some(_) => relative_to(&weights, &base),
            None => weights,
        };
        exp.initial_weights = Some(path.clone());
        self.experiment = exp;
        out.push(text(format!("initial_weights = {}", path.display())));
        out.push(Output::Markdown(format!(
            "Branched from run **{}**: its final weights are the initial weights. \
             Edit the settings (e.g. `set training.updater ...`), then `train`.",
            entry.name()
        )));
        Ok(out)
    }

    /// `export RUN [FILE]`: the run's metrics and validation scores as one CSV file
    /// (`<name>-run<NNN>-metrics.csv` beside the experiment by default).
    fn export_metrics(&mut self, which: &str, out: Option<&Path>) -> Result<Vec<Output>, String> {
        let index = self.find_run(which)?;
        let entry = self.experiment.notebook.runs[index].clone();
        let base = self.base_dir();
        let dest = match out {
            Some(p) => self.resolve(p),
            None => base.join(format!(
                "{}-run{}-metrics.csv",
                self.experiment.name,
                entry.name()
            )),
        };
        let rows = crate::experiment::notebook::export_metrics_csv(&entry.folder(&base), &dest)
            .map_err(|e| format!("run {}: export failed: {e}", entry.name()))?;
        Ok(vec![text(format!(
            "run {}: {rows} rows of metrics written to {}",
            entry.name(),
            dest.display()
        ))])
    }

    fn load_data(&mut self, paths: &[String], labels: Option<&str>) -> Result<Vec<Output>, String> {
        let base = self.base_dir();
        let rel = |p: &str| -> PathBuf {
            let abs = self.resolve(Path::new(p));
            if self.file.is_some() {
                relative_to(&abs, &base)
            } else {
                abs
            }
        };
        if paths.is_empty() && !matches!(self.experiment.data, DataSpec::Csv(_)) {
            return Err(
                "labels go with CSV sequences; load the features first (load data FOLDER --labels PATH)"
                    .into(),
            );
        }
        let first = paths.first().cloned().unwrap_or_default();
        let first_abs = self.resolve(Path::new(&first));
        let is_text = paths.len() == 1
            && labels.is_none()
            && first_abs.is_file()
            && first_abs
                .extension()
                .is_none_or(|e| !e.eq_ignore_ascii_case("csv"));
        if is_text {
            let old_split = match &self.experiment.data {
                DataSpec::Text(t) => (t.validation, t.test, t.lowercase),
                _ => (TextSpec::default().validation, 0.0, false),
            };
            self.experiment.data = DataSpec::Text(TextSpec {
                path: rel(&first),
                validation: old_split.0,
                test: old_split.1,
                lowercase: old_split.2,
            });
        } else {
            let source = |list: &[String]| -> Result<SequenceSource, String> {
                if list.len() == 1 {
                    let p = &list[0];
                    let abs = self.resolve(Path::new(p));
                    let rel_text = rel(p).to_string_lossy().into_owned();
                    if crate::data::source::NumberedPattern::is_pattern(p) {
                        // open-ended from the first index that exists (0 or 1)
                        for start in [0, 1] {
                            let abs_source = SequenceSource::from_cli(
                                &abs.to_string_lossy(),
                                Some((start, None)),
                            )
                            .map_err(|e| e.to_string())?;
                            if abs_source.files().is_ok() {
                                return Ok(SequenceSource::Pattern {
                                    pattern: rel_text,
                                    start,
                                    end: None,
                                });
                            }
                        }
                        return Err(format!("{p}: no numbered file from index 0 or 1 exists; check the pattern (e.g. data/seq_%d.csv)"));
                    }
                    if p.contains(['*', '?']) {
                        return Ok(SequenceSource::Glob(rel_text));
                    }
                    if abs.is_dir() {
                        return Ok(SequenceSource::Directory(rel(p)));
                    }
                    if !abs.is_file() {
                        return Err(format!("{p}: no such file or folder; check the path"));
                    }
                }
                for p in list {
                    if !self.resolve(Path::new(p)).is_file() {
                        return Err(format!("{p}: no such file; check the path"));
                    }
                }
                Ok(SequenceSource::Files(list.iter().map(|p| rel(p)).collect()))
            };
            let mut config = match &self.experiment.data {
                DataSpec::Csv(c) => c.clone(),
                _ => crate::data::CsvDataConfig::default(),
            };
            if !paths.is_empty() {
                config.features = source(paths)?;
            }
            if let Some(l) = labels {
                config.labels = LabelSource::Files(source(&[l.to_string()])?);
            }
            if let ValidationSplit::Folders { .. } = config.validation {
                config.validation = ValidationSplit::None;
            }
            self.experiment.data = DataSpec::Csv(config);
        }
        self.data = None;
        let mut out = vec![text(format!(
            "data = {}",
            fields::get(&self.experiment, "data").unwrap_or_default()
        ))];
        match self.show_data() {
            Ok(o) => out.extend(o),
            Err(e) => out.push(Output::Error(format!("the data cannot be read yet: {e}"))),
        }
        Ok(out)
    }

    /// The layer table: kind, input and output size, parameters; with memory when
    /// `memory` carries (batch, steps).
    fn model_table(&mut self, memory: Option<(usize, usize)>) -> Result<Output, String> {
        let exp = self.experiment.clone();
        let shape = self.data().map(|d| (d.shape(), d.default_loss()));
        let (input, output, loss, note) = match &shape {
            Ok((s, l)) => (
                s.input,
                s.output,
                exp.model.output.loss.unwrap_or(*l),
                String::new(),
            ),
            Err(e) => (
                0,
                0,
                exp.model
                    .output
                    .loss
                    .unwrap_or(crate::experiment::schema::LossSpec::CrossEntropy),
                format!(" (sizes need the data: {e})"),
            ),
        };
        let mut t = Table {
            title: format!("model{note}"),
            columns: vec![
                "layer".into(),
                "kind".into(),
                "input".into(),
                "output".into(),
                "parameters".into(),
            ],
            rows: Vec::new(),
        };
        if shape.is_err() {
            for (i, l) in exp.model.layers.iter().enumerate() {
                t.rows.push(vec![
                    i.to_string(),
                    format!("{:?}", l.kind),
                    "?".into(),
                    l.size.to_string(),
                    "?".into(),
                ]);
            }
            return Ok(Output::Table(t));
        }
        let config = exp.model.to_nn(input, output, loss);
        let sizes = layer_sizes(&config);
        for (i, (l, spec)) in sizes.iter().zip(&exp.model.layers).enumerate() {
            t.rows.push(vec![
                i.to_string(),
                format!("{:?}", spec.kind),
                l.input.to_string(),
                l.output.to_string(),
                l.parameters.to_string(),
            ]);
        }
        let out = sizes.last().expect("the output layer");
        t.rows.push(vec![
            "output".into(),
            format!("{loss:?}, {:?}", config.output.mode),
            out.input.to_string(),
            out.output.to_string(),
            out.parameters.to_string(),
        ]);
        let total: usize = sizes.iter().map(|l| l.parameters).sum();
        t.rows.push(vec![
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            total.to_string(),
        ]);
        if let Some((batch, steps)) = memory {
            let estimate = crate::train::memory::estimate(&config, batch, steps);
            t.rows.push(vec![
                "training memory (estimate)".into(),
                format!("batch {batch} × {steps} steps"),
                String::new(),
                String::new(),
                crate::train::memory::human_bytes(estimate.total()),
            ]);
        }
        Ok(Output::Table(t))
    }

    fn analyze(&mut self) -> Result<Vec<Output>, String> {
        let t = self.experiment.training.clone();
        let shape = match self.data() {
            Ok(data) => crate::train::memory::minibatch_shape(&t, data.longest_sequence()),
            // the table says why the sizes are missing
            Err(_) => (
                t.batch_size,
                t.tbptt.map_or(t.sequence_length, |tb| tb.forward),
            ),
        };
        Ok(vec![self.model_table(Some(shape))?])
    }

    fn train(&mut self, length: Option<Length>, cell: usize) -> Result<Vec<Output>, String> {
        if let Some(a) = &self.active {
            return Err(format!(
                "run {} is under way; `stop` it or `wait` for it first",
                self.experiment.notebook.runs[a.entry].name()
            ));
        }
        let mut exp = self.resolved();
        match length {
            Some(Length::Iterations(n)) => {
                exp.training.iterations = Some(n);
                exp.training.epochs = None;
            }
            Some(Length::Epochs(n)) => {
                exp.training.iterations = None;
                exp.training.epochs = Some(n);
            }
            None => {}
        }
        let problems = validate::problems(&exp, &self.file_label());
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return Err(format!(
                "training not started; fix the experiment first:\n{}",
                list.join("\n")
            ));
        }
        let file = self.file.clone().unwrap_or_else(|| {
            std::env::current_dir()
                .unwrap_or_default()
                .join("untitled.ron")
        });
        let folder = self.next_free_run_dir(&file);
        let started_unix = now_unix();
        let record = RunRecord {
            experiment: exp.clone(),
            experiment_file: std::path::absolute(&file).unwrap_or(file.clone()),
            started_unix,
            ..RunRecord::default()
        };
        let (taps, stream) = match self.run_observer {
            Some(_) => {
                let (tap, stream) = crate::train::runner::tap(1024);
                (vec![tap], Some(stream))
            }
            None => (Vec::new(), None),
        };
        let runner = Runner::spawn_experiment_tapped(
            exp,
            Some((folder.clone(), record)),
            self.wake.clone(),
            taps,
        )
        .map_err(|e| format!("could not start the training thread: {e}"))?;
        let base = self.base_dir();
        let previous = self
            .experiment
            .notebook
            .runs
            .last()
            .map(|r| r.folder(&base));
        let entry = RunEntry {
            path: relative_to(&folder, &base),
            summary: RunDigest {
                started_unix,
                ..RunDigest::default()
            },
        };
        let name = entry.name();
        self.experiment.notebook.runs.push(entry);
        self.active = Some(ActiveRun {
            runner,
            entry: self.experiment.notebook.runs.len() - 1,
            cell,
            max_iterations: 0,
            iteration: 0,
            score: None,
            tokens_per_s: 0.0,
            elapsed_s: 0.0,
            paused: false,
        });
        if let (Some(observer), Some(events)) = (self.run_observer.as_mut(), stream) {
            observer(RunStart {
                cell,
                run: self.experiment.notebook.runs.len() - 1,
                name: name.clone(),
                folder: folder.clone(),
                previous,
                events,
            });
        }
        let stored = self.experiment.notebook.runs[self.experiment.notebook.runs.len() - 1]
            .path
            .clone();
        Ok(vec![Output::Run {
            name,
            folder: stored,
        }])
    }

    /// Sends a runner command that has no command line of its own (the window's
    /// "sample now" and "evaluate now" during a run); false when no run is under way.
    pub fn send_to_run(&self, cmd: crate::train::Command) -> bool {
        match &self.active {
            Some(a) => {
                a.runner.send(cmd);
                true
            }
            None => false,
        }
    }

    /// The next numbered run folder beside `file` whose number no listed run has (runs
    /// of the notebook may live in another runs folder, e.g. from before it was saved
    /// under its name), so run names stay unique.
    fn next_free_run_dir(&self, file: &Path) -> PathBuf {
        let first = next_run_dir(file);
        let root = first.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut n: u32 = first
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let taken: Vec<String> = self
            .experiment
            .notebook
            .runs
            .iter()
            .map(RunEntry::name)
            .collect();
        loop {
            let candidate = root.join(format!("{n:03}"));
            if !taken.contains(&format!("{n:03}")) && !candidate.exists() {
                return candidate;
            }
            n += 1;
        }
    }

    fn send(&mut self, cmd: crate::train::Command, what: &str) -> Result<Vec<Output>, String> {
        let Some(a) = &self.active else {
            return Err("no run is under way; start one with `train`".into());
        };
        a.runner.send(cmd);
        Ok(vec![text(what)])
    }

    /// Takes every event the active run has queued (never waits) and updates the
    /// notebook; returns them for the front end.
    pub fn poll(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(e) = self.active.as_ref().and_then(|a| a.runner.try_recv()) {
            self.handle(&e);
            events.push(e);
        }
        events
    }

    /// Blocks until the active run finishes, passing each event to `on_event`.
    pub fn wait(&mut self, on_event: &mut dyn FnMut(&Event)) {
        use std::sync::atomic::Ordering;
        while self.active.is_some() {
            if self
                .interrupt
                .compare_exchange(
                    INTERRUPT_PENDING,
                    INTERRUPT_STOPPING,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok()
            {
                if let Some(a) = &self.active {
                    a.runner.send(crate::train::Command::Stop);
                }
            }
            let e = self
                .active
                .as_ref()
                .and_then(|a| a.runner.recv_timeout(Duration::from_millis(200)));
            if let Some(e) = e {
                self.handle(&e);
                on_event(&e);
            }
        }
    }

    fn handle(&mut self, e: &Event) {
        let Some(a) = self.active.as_mut() else {
            return;
        };
        match e {
            Event::Started { max_iterations, .. } => a.max_iterations = *max_iterations,
            Event::Iteration {
                metrics,
                tokens_per_s,
                elapsed_s,
                ..
            } => {
                a.iteration = metrics.iteration;
                a.score = Some(metrics.score);
                a.tokens_per_s = *tokens_per_s;
                a.elapsed_s = *elapsed_s;
            }
            Event::Paused { .. } => a.paused = true,
            Event::Resumed { .. } => a.paused = false,
            Event::Finished(summary) => {
                let a = self.active.take().expect("active");
                let (entry, cell) = (a.entry, a.cell);
                drop(a.runner.join());
                let digest = RunDigest {
                    started_unix: self.experiment.notebook.runs[entry].summary.started_unix,
                    stop_reason: format!("{:?}", summary.stop_reason),
                    iterations: summary.iterations,
                    final_score: summary.final_score,
                    best_score: summary
                        .best_score
                        .or(summary.evaluation.as_ref().map(|e| e.score)),
                    wall_seconds: summary.wall_seconds,
                    error: summary.error.clone(),
                };
                let base = self.base_dir();
                let run = &mut self.experiment.notebook.runs[entry];
                run.summary = digest;
                let stored = run.path.clone();
                let name = run.name();
                let mut outputs = vec![text(format!(
                    "run {name} {}",
                    describe_digest(&run.summary)
                ))];
                if let Some(series) = run_curves(&base, &stored, &name) {
                    outputs.push(Output::Series(series));
                }
                if let Some(ev) = &summary.evaluation {
                    outputs.extend(evaluation_outputs(ev, None, None, false));
                }
                if let Some(c) = self.experiment.notebook.cells.get_mut(cell) {
                    c.outputs.extend(outputs);
                }
                // the newest finished run is the one sample/step/eval use next
                self.selected = None;
            }
            _ => {}
        }
    }

    fn stop_active(&mut self) {
        if let Some(a) = &self.active {
            a.runner.send(crate::train::Command::Stop);
        }
        let mut sink = |_: &Event| {};
        if self.active.is_some() {
            let blocking = self.blocking_allowed;
            self.blocking_allowed = true;
            self.wait(&mut sink);
            self.blocking_allowed = blocking;
        }
    }

    /// Finds a run by number (1-based, as `runs` lists them), folder name or path.
    fn find_run(&self, which: &str) -> Result<usize, String> {
        let runs = &self.experiment.notebook.runs;
        if runs.is_empty() {
            return Err("the notebook has no runs yet; start one with `train`".into());
        }
        if let Ok(n) = which.parse::<usize>() {
            if let Some(i) = runs.iter().position(|r| r.name() == which) {
                return Ok(i);
            }
            if (1..=runs.len()).contains(&n) {
                return Ok(n - 1);
            }
        }
        let base = self.base_dir();
        runs.iter()
            .position(|r| {
                r.name() == which
                    || r.path == Path::new(which)
                    || same_path(&r.folder(&base), &self.resolve(Path::new(which)))
            })
            .ok_or_else(|| {
                let names: Vec<String> = runs.iter().map(RunEntry::name).collect();
                format!(
                    "no run {which:?}; the runs are {} (see `runs`)",
                    names.join(", ")
                )
            })
    }

    /// Loads the model of `which` (or keeps the loaded one).
    fn select(&mut self, which: &str) -> Result<(), String> {
        let i = self.find_run(which)?;
        if self.active.as_ref().is_some_and(|a| a.entry == i) {
            return Err("that run is still under way; `wait` or `stop` it first".into());
        }
        let entry = &self.experiment.notebook.runs[i];
        let folder = entry.folder(&self.base_dir());
        let name = entry.name();
        if self.selected.as_ref().is_some_and(|s| s.folder == folder) {
            return Ok(());
        }
        if !folder.is_dir() {
            return Err(format!(
                "run {name}: its folder {} is missing",
                folder.display()
            ));
        }
        let model = load_trained(&folder, false).map_err(|e| format!("run {name}: {e}"))?;
        self.selected = Some(Selected {
            name,
            folder,
            model,
        });
        Ok(())
    }

    /// The selected model, or the newest finished run's.
    fn model(&mut self) -> Result<&mut Selected, String> {
        if self.selected.is_none() {
            let runs = &self.experiment.notebook.runs;
            let base = self.base_dir();
            let newest = (0..runs.len())
                .rev()
                .find(|&i| {
                    self.active.as_ref().is_none_or(|a| a.entry != i)
                        && runs[i].folder(&base).join("weights.safetensors").is_file()
                })
                .ok_or("no run with weights yet; `train` one (and `wait`), or `use RUN`")?;
            self.select(&(newest + 1).to_string())?;
        }
        Ok(self.selected.as_mut().expect("selected"))
    }

    fn runs_table(&mut self) -> Result<Vec<Output>, String> {
        self.discover_runs();
        let base = self.base_dir();
        let selected = self.selected.as_ref().map(|s| s.folder.clone());
        let mut t = Table {
            title: "runs (`use N` selects one for sample/step/eval)".into(),
            columns: [
                "#",
                "run",
                "started (UTC)",
                "stop reason",
                "iterations",
                "best validation",
                "final score",
                "wall time",
                "",
            ]
            .map(String::from)
            .to_vec(),
            rows: Vec::new(),
        };
        for (i, r) in self.experiment.notebook.runs.iter().enumerate() {
            let folder = r.folder(&base);
            let running = self.active.as_ref().is_some_and(|a| a.entry == i);
            let mark = if !folder.is_dir() {
                "missing"
            } else if running {
                "running"
            } else if selected.as_ref() == Some(&folder) {
                "selected"
            } else {
                ""
            };
            let d = &r.summary;
            t.rows.push(vec![
                (i + 1).to_string(),
                r.name(),
                format_unix(d.started_unix),
                if d.stop_reason.is_empty() {
                    "-".into()
                } else {
                    d.stop_reason.clone()
                },
                d.iterations.to_string(),
                d.best_score.map_or("-".into(), |s| format!("{s:.4}")),
                d.final_score.map_or("-".into(), |s| format!("{s:.4}")),
                format!("{:.1} s", d.wall_seconds),
                mark.into(),
            ]);
        }
        Ok(vec![Output::Table(t)])
    }

    fn compare(&mut self, runs: &[String]) -> Result<Vec<Output>, String> {
        let base = self.base_dir();
        let mut names = Vec::new();
        let mut settings = Vec::new();
        let mut digests = Vec::new();
        let mut curves = Series {
            title: "training score".into(),
            x_label: "iteration".into(),
            y_label: "score".into(),
            log_y: false,
            lines: Vec::new(),
        };
        for which in runs {
            let i = self.find_run(which)?;
            let r = self.experiment.notebook.runs[i].clone();
            let folder = r.folder(&base);
            let record =
                RunDir::read_record(&folder).map_err(|e| format!("run {}: {e}", r.name()))?;
            settings.push(fields::leaves(&record.experiment));
            if let Some(s) = run_curves(&base, &r.path, &r.name()) {
                curves.lines.extend(s.lines.into_iter().map(|mut l| {
                    l.name = format!("{} {}", r.name(), l.name);
                    l
                }));
            }
            names.push(r.name());
            digests.push(r.summary);
        }
        let mut paths: Vec<String> = Vec::new();
        for s in &settings {
            for (p, _) in s {
                if !paths.contains(p) {
                    paths.push(p.clone());
                }
            }
        }
        let mut diff = Table {
            title: "settings that differ".into(),
            columns: std::iter::once("setting".to_string())
                .chain(names.iter().cloned())
                .collect(),
            rows: Vec::new(),
        };
        for p in &paths {
            let values: Vec<String> = settings
                .iter()
                .map(|s| {
                    s.iter()
                        .find(|(k, _)| k == p)
                        .map_or("—".into(), |(_, v)| v.clone())
                })
                .collect();
            if values.iter().any(|v| *v != values[0]) {
                diff.rows
                    .push(std::iter::once(p.clone()).chain(values).collect());
            }
        }
        let mut scores = Table {
            title: "scores".into(),
            columns: std::iter::once(String::new())
                .chain(names.iter().cloned())
                .collect(),
            rows: Vec::new(),
        };
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.4}"));
        scores.rows.push(
            std::iter::once("final score".to_string())
                .chain(digests.iter().map(|d| fmt(d.final_score)))
                .collect(),
        );
        scores.rows.push(
            std::iter::once("best validation".to_string())
                .chain(digests.iter().map(|d| fmt(d.best_score)))
                .collect(),
        );
        scores.rows.push(
            std::iter::once("iterations".to_string())
                .chain(digests.iter().map(|d| d.iterations.to_string()))
                .collect(),
        );
        scores.rows.push(
            std::iter::once("stop reason".to_string())
                .chain(digests.iter().map(|d| d.stop_reason.clone()))
                .collect(),
        );
        let mut out = Vec::new();
        if diff.rows.is_empty() {
            out.push(text("the runs have the same settings"));
        } else {
            out.push(Output::Table(diff));
        }
        out.push(Output::Table(scores));
        if !curves.lines.is_empty() {
            out.push(Output::Series(curves));
        }
        Ok(out)
    }

    fn eval(&mut self, run: Option<&str>, split: Split) -> Result<Vec<Output>, String> {
        if let Some(r) = run {
            self.select(r)?;
        }
        let sel = self.model()?;
        let name = sel.name.clone();
        let folder = sel.folder.clone();
        let params = sel.model.net.params().to_vec();
        let record = RunDir::read_record(&folder).map_err(|e| format!("run {name}: {e}"))?;
        let mut trainer =
            Trainer::for_file(record.experiment, &folder.join("run.ron"), &mut |_| {})
                .map_err(|e| format!("run {name}: {e}"))?;
        if trainer.net.params().len() != params.len() {
            return Err(format!(
                "run {name}: its weights do not fit the network its run.ron describes"
            ));
        }
        trainer.net.params_mut().copy_from_slice(&params);
        trainer.iteration = self.experiment.notebook.runs[self.find_run(&name)?]
            .summary
            .iterations;
        // Stop in the window, Ctrl-C in the terminal: the scoring ends at the next batch
        let interrupt = self.interrupt.clone();
        let stop = move || {
            interrupt
                .compare_exchange(
                    INTERRUPT_PENDING,
                    INTERRUPT_NONE,
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                )
                .is_ok()
        };
        let ev = match split {
            Split::Validation => {
                trainer
                    .evaluate_until(&stop)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!("run {name}: its data has no validation split (data.validation)")
                    })?
            }
            Split::Test => {
                let (last, _best) = trainer
                    .evaluate_test_until(&stop)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("run {name}: its data has no test split (data.test)"))?;
                last
            }
        };
        let vocab = self.selected.as_ref().and_then(|s| s.model.vocab.clone());
        Ok(evaluation_outputs(&ev, Some(&name), vocab.as_ref(), true))
    }

    fn sample(&mut self, args: &SampleArgs) -> Result<Vec<Output>, String> {
        let defaults = self.experiment.sampling.clone();
        let seed = self.experiment.training.seed;
        let sel = self.model()?;
        let vocab = sel.model.vocab.as_ref().ok_or_else(|| {
            format!(
                "run {}: `sample` needs a text model; for sequence models use `step` or `predict`",
                sel.name
            )
        })?;
        let opts = SampleOptions {
            length: args.length.unwrap_or(defaults.length),
            prime: args.prime.clone().or(defaults.prime).unwrap_or_default(),
            temperature: args.temperature.unwrap_or(defaults.temperature),
            greedy: args.greedy || (args.temperature.is_none() && defaults.greedy),
            seed: args.seed.unwrap_or(seed),
        };
        let text = sample_text(&sel.model.net, vocab, &opts)
            .map_err(|e| format!("run {}: {e}", sel.name))?;
        Ok(vec![Output::Sample(text)])
    }

    fn predict(&mut self, path: &str, out: Option<&Path>) -> Result<Vec<Output>, String> {
        use crate::train::predict::{predict, predictions_csv, read_new_data, NewDataSpec};
        let data_path = self.resolve(Path::new(path));
        let features = crate::data::SequenceSource::from_cli(&data_path.to_string_lossy(), None)
            .map_err(|e| e.to_string())?;
        let out_path = out.map(|o| self.resolve(o));
        let sel = self.model()?;
        let spec = NewDataSpec {
            features,
            labels: None,
            output_steps: None,
        };
        let name = sel.name.clone();
        let data = read_new_data(&sel.model, &spec, &mut |_| {})
            .map_err(|e| format!("run {name}: {e}"))?;
        let predictions = predict(&mut sel.model, &data).map_err(|e| format!("run {name}: {e}"))?;
        let csv = predictions_csv(&sel.model, &predictions);
        match out_path {
            Some(o) => {
                crate::experiment::notebook::write_text_atomic(&o, &csv)
                    .map_err(|e| e.to_string())?;
                Ok(vec![text(format!(
                    "predictions of run {name} written to {}",
                    o.display()
                ))])
            }
            None => Ok(vec![Output::Table(csv_table(
                &csv,
                &format!("predictions of run {name}"),
            ))]),
        }
    }

    fn step(&mut self, input: &str) -> Result<Vec<Output>, String> {
        let sel = self.model()?;
        let net = &mut sel.model.net;
        let i = net.config().input_size;
        if let Some(vocab) = &sel.model.vocab {
            let chars: Vec<char> = input.chars().collect();
            let mut x = Array3::<f32>::zeros((chars.len(), 1, i));
            for (t, c) in chars.iter().enumerate() {
                let id = vocab.id(*c).ok_or_else(|| {
                    format!(
                        "{c:?} (position {}) is not in the model's vocabulary",
                        t + 1
                    )
                })?;
                x[[t, 0, id]] = 1.0;
            }
            let y = net.rnn_time_step(x.view(), None);
            let last = y.index_axis(ndarray::Axis(0), y.dim().0 - 1);
            let mut probs: Vec<(String, f64)> = last
                .iter()
                .enumerate()
                .map(|(k, &p)| {
                    (
                        vocab
                            .char(k)
                            .map_or("?".into(), |c| c.escape_debug().to_string()),
                        p as f64,
                    )
                })
                .collect();
            probs.sort_by(|a, b| b.1.total_cmp(&a.1));
            probs.truncate(TOP_K);
            return Ok(vec![
                text(format!(
                    "fed {} step(s); next-character probabilities:",
                    chars.len()
                )),
                Output::Probabilities(probs),
            ]);
        }
        let mut rows: Vec<Vec<f32>> = Vec::new();
        for (n, step) in input.split(';').enumerate() {
            let values: Result<Vec<f32>, _> =
                step.split(',').map(|v| v.trim().parse::<f32>()).collect();
            let values = values.map_err(|_| {
                format!(
                    "step {}: {step:?} is not a list of numbers; write step 0.1,0.2;0.3,0.4",
                    n + 1
                )
            })?;
            if values.len() != i {
                return Err(format!(
                    "step {}: {} values, but the model reads {i} features per step",
                    n + 1,
                    values.len()
                ));
            }
            rows.push(values);
        }
        let mut x = Array2::<f32>::zeros((rows.len(), i));
        for (t, r) in rows.iter().enumerate() {
            for (k, v) in r.iter().enumerate() {
                x[[t, k]] = *v;
            }
        }
        if let Some(norm) = &sel.model.normalizer {
            norm.transform(x.view_mut()).map_err(|e| e.to_string())?;
        }
        let t_len = rows.len();
        let x = x
            .into_shape_with_order((t_len, 1, i))
            .map_err(|e| e.to_string())?;
        let y = net.rnn_time_step(x.view(), None);
        let mut t = Table {
            title: format!("outputs (state kept; run {})", sel.name),
            columns: std::iter::once("step".to_string())
                .chain((0..y.dim().2).map(|k| format!("output {k}")))
                .collect(),
            rows: Vec::new(),
        };
        for s in 0..y.dim().0 {
            t.rows.push(
                std::iter::once((s + 1).to_string())
                    .chain((0..y.dim().2).map(|k| format!("{:.6}", y[[s, 0, k]])))
                    .collect(),
            );
        }
        Ok(vec![Output::Table(t)])
    }

    fn state(&mut self, cmd: StateCommand) -> Result<Vec<Output>, String> {
        match cmd {
            StateCommand::Reset => {
                let sel = self.model()?;
                sel.model.net.rnn_clear_previous_state();
                Ok(vec![text(format!(
                    "stepping state of run {} reset to zero",
                    sel.name
                ))])
            }
            StateCommand::Show => {
                let sel = self.model()?;
                let state = sel.model.net.rnn_get_state();
                let mut t = Table {
                    title: format!("stepping state of run {}", sel.name),
                    columns: ["layer", "kind", "‖h‖", "‖c‖"].map(String::from).to_vec(),
                    rows: Vec::new(),
                };
                for (k, l) in sel.model.experiment.model.layers.iter().enumerate() {
                    let s = state.get(k).and_then(Option::as_ref);
                    let norm = |a: &Array2<f32>| {
                        format!("{:.4}", a.iter().map(|v| v * v).sum::<f32>().sqrt())
                    };
                    t.rows.push(vec![
                        k.to_string(),
                        format!("{:?}", l.kind),
                        s.map_or("0 (reset)".into(), |s| norm(&s.h)),
                        s.and_then(|s| s.c.as_ref()).map_or("-".into(), norm),
                    ]);
                }
                Ok(vec![Output::Table(t)])
            }
            StateCommand::Save(name) => {
                let sel = self.model()?;
                let state = sel.model.net.rnn_get_state();
                if state.is_empty() {
                    return Err("the state is zero (nothing fed yet); `step` first".into());
                }
                if state.iter().flatten().any(|s| s.h.nrows() != 1) {
                    return Err("only a one-example stepping state can be saved".into());
                }
                let layers = state
                    .iter()
                    .map(|s| {
                        s.as_ref().map(|s| StateLayer {
                            h: s.h.iter().copied().collect(),
                            c: s.c.as_ref().map(|c| c.iter().copied().collect()),
                        })
                    })
                    .collect();
                let run = sel.name.clone();
                let states = &mut self.experiment.notebook.states;
                states.retain(|s| s.name != name);
                states.push(NamedState {
                    name: name.clone(),
                    run,
                    layers,
                });
                Ok(vec![text(format!(
                    "state saved as {name:?} (kept with the notebook)"
                ))])
            }
            StateCommand::Load(name) => {
                let saved = self
                    .experiment
                    .notebook
                    .states
                    .iter()
                    .find(|s| s.name == name)
                    .cloned()
                    .ok_or_else(|| {
                        let names: Vec<&str> = self
                            .experiment
                            .notebook
                            .states
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect();
                        format!(
                            "no state {name:?}; saved states: {}",
                            if names.is_empty() {
                                "none".into()
                            } else {
                                names.join(", ")
                            }
                        )
                    })?;
                let sel = self.model()?;
                let sizes: Vec<usize> = sel
                    .model
                    .net
                    .config()
                    .layers
                    .iter()
                    .map(|l| l.size)
                    .collect();
                let fits = saved.layers.len() == sizes.len()
                    && saved.layers.iter().zip(&sizes).all(|(l, &h)| {
                        l.as_ref().is_none_or(|l| {
                            l.h.len() == h && l.c.as_ref().is_none_or(|c| c.len() == h)
                        })
                    });
                if !fits {
                    return Err(format!(
                        "state {name:?} was saved from run {} and does not fit run {}'s layers",
                        saved.run, sel.name
                    ));
                }
                let state: NetState<f32> = saved
                    .layers
                    .iter()
                    .map(|l| {
                        l.as_ref().map(|l| LayerState {
                            h: Array2::from_shape_vec((1, l.h.len()), l.h.clone())
                                .expect("sizes checked"),
                            c: l.c.as_ref().map(|c| {
                                Array2::from_shape_vec((1, c.len()), c.clone())
                                    .expect("sizes checked")
                            }),
                        })
                    })
                    .collect();
                sel.model.net.rnn_set_state(state);
                Ok(vec![text(format!(
                    "state {name:?} loaded into run {}",
                    sel.name
                ))])
            }
        }
    }

    /// Completions for the word before `pos` in `line`: commands, field paths, runs,
    /// state names and file names. Returns the start of the word and the candidates.
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        complete(&self.experiment, line, pos)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // a run never outlives its session: stop it and let it write its folder
        if let Some(a) = &self.active {
            a.runner.send(crate::train::Command::Stop);
        }
    }
}

fn help(topic: Option<&str>) -> Result<Vec<Output>, String> {
    match topic {
        None => {
            let t = Table {
                title: "commands (`help COMMAND` for one; field paths as in `show experiment`, values in RON)".into(),
                columns: ["command", "what it does", "in the window"].map(String::from).to_vec(),
                rows: COMMANDS
                    .iter()
                    .map(|c| vec![c.usage.to_string(), c.summary.to_string(), c.window.to_string()])
                    .collect(),
            };
            Ok(vec![Output::Table(t)])
        }
        Some(name) => {
            let c = command::help_for(name).ok_or_else(|| {
                let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
                let hint = fields::closest(name, &names)
                    .map(|c| format!(" (did you mean `{c}`?)"))
                    .unwrap_or_default();
                format!("no command `{name}`{hint}; `help` lists them")
            })?;
            Ok(vec![text(format!(
                "{}\n  {}\n  in the window: {}",
                c.usage, c.summary, c.window
            ))])
        }
    }
}

/// The outputs of an evaluation: a metrics table, and for classification with
/// `detail` the per-class table (classes that occur) and the confusion matrix. `labels`
/// names the classes (a text model's characters), else they are numbered.
pub fn evaluation_outputs(
    ev: &crate::train::Evaluation,
    run: Option<&str>,
    labels: Option<&crate::data::Vocabulary>,
    detail: bool,
) -> Vec<Output> {
    let name = |c: usize| -> String {
        labels
            .and_then(|v| v.char(c))
            .map_or(c.to_string(), |ch| format!("{:?}", ch))
    };
    // new data scored by `seqlab eval` has no iteration of its own
    let when = match ev.iteration {
        0 => String::new(),
        n => format!(" (after iteration {n})"),
    };
    let title = match run {
        Some(r) => format!("run {r}, {} split{when}", ev.split),
        None => format!("{} split{when}", ev.split),
    };
    let mut rows = vec![
        vec!["score".to_string(), format!("{:.6}", ev.score)],
        vec!["positions".to_string(), ev.positions.to_string()],
    ];
    let mut out = Vec::new();
    match &ev.metrics {
        EvalMetrics::Classification {
            accuracy,
            precision,
            recall,
            f1,
            macro_f1,
            confusion,
        } => {
            rows.push(vec!["accuracy".into(), format!("{accuracy:.4}")]);
            rows.push(vec!["macro F1".into(), format!("{macro_f1:.4}")]);
            out.push(Output::Table(Table {
                title,
                columns: vec!["metric".into(), "value".into()],
                rows,
            }));
            if !detail {
                return out;
            }
            out.push(Output::Table(Table {
                title: "per class (classes that occur)".into(),
                columns: ["class", "precision", "recall", "F1"]
                    .map(String::from)
                    .to_vec(),
                rows: (0..precision.len())
                    .filter(|&c| {
                        confusion
                            .get(c)
                            .is_some_and(|row| row.iter().sum::<u64>() > 0)
                    })
                    .map(|c| {
                        vec![
                            name(c),
                            format!("{:.4}", precision[c]),
                            format!("{:.4}", recall[c]),
                            format!("{:.4}", f1[c]),
                        ]
                    })
                    .collect(),
            }));
            out.push(Output::Confusion(Confusion {
                classes: (0..confusion.len()).map(name).collect(),
                counts: confusion.clone(),
            }));
        }
        EvalMetrics::Regression { mse, mae, r2 } => {
            rows.push(vec!["MSE".into(), format!("{mse:.6}")]);
            rows.push(vec!["MAE".into(), format!("{mae:.6}")]);
            rows.push(vec!["R²".into(), format!("{r2:.4}")]);
            out.push(Output::Table(Table {
                title,
                columns: vec!["metric".into(), "value".into()],
                rows,
            }));
        }
    }
    out
}

/// A run's training and validation score curves, read from its logs; the lines keep
/// their source, so a saved notebook stores the reference, not the points. `stored` is
/// the run folder as the notebook names it (relative to `base`, the file's folder).
pub fn run_curves(base: &Path, stored: &Path, name: &str) -> Option<Series> {
    let mut lines = Vec::new();
    for (line, file) in [("training", "metrics.csv"), ("validation", "eval.csv")] {
        let source = crate::experiment::notebook::CurveSource {
            run: stored.to_path_buf(),
            file: file.into(),
            x: "iteration".into(),
            y: "score".into(),
        };
        if let Some(points) = source.read(base).filter(|p| !p.is_empty()) {
            lines.push(Line {
                name: line.into(),
                points,
                source: Some(source),
                emphasis: false,
            });
        }
    }
    (!lines.is_empty()).then(|| Series {
        title: format!("run {name}: score"),
        x_label: "iteration".into(),
        y_label: "score".into(),
        log_y: false,
        lines,
    })
}

fn read_digest(folder: &Path) -> Option<RunDigest> {
    crate::experiment::notebook::read_run_digest(folder)
}

fn describe_digest(d: &RunDigest) -> String {
    if d.stop_reason.is_empty() {
        return "has not finished (running, or interrupted before its summary)".into();
    }
    let mut s = format!(
        "ended: {} after {} iterations in {:.1} s",
        d.stop_reason, d.iterations, d.wall_seconds
    );
    if let Some(f) = d.final_score {
        s.push_str(&format!(", final score {f:.4}"));
    }
    if let Some(b) = d.best_score {
        s.push_str(&format!(", validation score {b:.4}"));
    }
    if let Some(e) = &d.error {
        s.push_str(&format!("; error: {e}"));
    }
    s
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix time; `-` for 0.
pub fn format_unix(t: u64) -> String {
    if t == 0 {
        return "-".into();
    }
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    // civil from days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

fn same_path(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()))
    };
    norm(a) == norm(b)
}

/// Whether RON text has comments outside strings.
fn has_comments(text: &str) -> bool {
    let s = text.as_bytes();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => {
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if matches!(s.get(i + 1), Some(b'/') | Some(b'*')) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Makes relative paths that were relative to `old` relative to `new` (absolute when
/// `new` is not above them), so a copy saved elsewhere still finds its data and runs.
fn rebase_paths(exp: &mut Experiment, old: &Path, new: &Path) {
    let old = std::path::absolute(old).unwrap_or(old.to_path_buf());
    let new = std::path::absolute(new).unwrap_or(new.to_path_buf());
    let fix = |p: &Path| -> PathBuf {
        if p.is_absolute() || p.as_os_str().is_empty() {
            return p.to_path_buf();
        }
        let abs = normalize(&old.join(p));
        relative_path(&abs, &new)
    };
    file::map_paths(exp, &fix);
    if let Some(origin) = exp.notebook.origin.as_deref_mut() {
        file::map_paths(origin, &fix);
    }
    for run in &mut exp.notebook.runs {
        run.path = fix(&run.path);
    }
    for cell in &mut exp.notebook.cells {
        for out in &mut cell.outputs {
            if let Output::Series(s) = out {
                for source in s.lines.iter_mut().filter_map(|l| l.source.as_mut()) {
                    source.run = fix(&source.run);
                }
            }
        }
    }
}

/// Removes `.` and `..` components without touching the filesystem.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `target` relative to the folder `base` (with `..` as needed).
fn relative_path(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let base = normalize(base);
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return target.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

/// Tab completion of `line` at byte `pos` for an experiment (its field paths, states
/// and runs): the start of the word being completed and the candidates. Reads nothing
/// but the experiment and, for file arguments, the folder named.
pub fn complete(exp: &Experiment, line: &str, pos: usize) -> (usize, Vec<String>) {
    use super::command::{help_for, Complete};
    let before = &line[..pos.min(line.len())];
    let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let word = &before[start..];
    let head: Vec<&str> = before[..start].split_whitespace().collect();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let runs = || exp.notebook.runs.iter().map(RunEntry::name).collect();
    let commands = || COMMANDS.iter().map(|c| c.name.to_string()).collect();
    let Some((name, args)) = head.split_first() else {
        let mut out: Vec<String> = commands();
        out.retain(|c| c.starts_with(word));
        return (start, out);
    };
    let how = help_for(name).map_or(Complete::Nothing, |c| c.complete);
    let mut out: Vec<String> = match (how, args) {
        (Complete::Commands, []) => commands(),
        (Complete::Fields, []) => fields::all_paths(exp),
        (Complete::Show, []) => {
            let mut v = words(&["experiment", "data", "model", "runs", "state"]);
            v.extend(fields::all_paths(exp));
            v
        }
        (Complete::Alignments, []) => words(&["start", "end", "equal"]),
        (Complete::LayerKinds, []) => LayerType::ALL.iter().map(|(_, n)| n.to_string()).collect(),
        (Complete::State, []) => words(&["reset", "show", "save", "load"]),
        (Complete::State, ["load"]) => exp.notebook.states.iter().map(|s| s.name.clone()).collect(),
        (Complete::Runs, _) => runs(),
        (Complete::Files, _) => complete_file(word),
        (Complete::LoadData, []) => vec!["data".into()],
        (Complete::LoadData, ["data", ..]) => complete_file(word),
        (Complete::TrainLength, [_]) => words(&["iterations", "epochs"]),
        _ => Vec::new(),
    };
    out.retain(|c| c.starts_with(word));
    out.sort();
    out.dedup();
    (start, out)
}

fn complete_file(word: &str) -> Vec<String> {
    let (dir, stem) = match word.rfind('/') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let read = if dir.is_empty() { "." } else { dir };
    std::fs::read_dir(read)
        .map(|rd| {
            rd.filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_string_lossy().into_owned();
                if !n.starts_with(stem) || (n.starts_with('.') && !stem.starts_with('.')) {
                    return None;
                }
                let slash = if e.path().is_dir() { "/" } else { "" };
                Some(format!("{dir}{n}{slash}"))
            })
            .collect()
        })
        .unwrap_or_default()
}

/// A CSV text as a table (first line = header).
fn csv_table(csv: &str, title: &str) -> Table {
    let mut lines = csv.lines();
    let columns = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(String::from)
        .collect();
    Table {
        title: title.to_string(),
        columns,
        rows: lines
            .map(|l| l.split(',').map(String::from).collect())
            .collect(),
    }
}
