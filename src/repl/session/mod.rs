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

use super::command::{Command, Length, SampleArgs, ShowWhat, Split, StateCommand};
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
use crate::train::sample::{sample_text_until, SampleOptions};
use crate::train::trainer::{load_trained, TrainedModel};
use crate::train::{Event, Runner, Trainer, TrainingData};

mod complete;
mod data;
mod document;
mod inspect;
mod model;
pub mod row;
mod runs;
mod state;
mod stepping;
mod sweep;
pub mod table;
mod train;

pub use complete::complete;
use document::*;
pub use inspect::evaluation_outputs;
use runs::*;
pub use runs::{format_unix, run_curves};
pub use table::parse;

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
    /// The run's view, kept by its training thread: the progress every front end reads.
    view: crate::train::view::SharedView,
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
    /// The run's view (progress, curves, validations, samples), kept by its training
    /// thread: the same one the session reads.
    pub view: crate::train::view::SharedView,
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

    /// What long work (an evaluation, sampling) asks between its pieces: true, once,
    /// when Stop (the window) or Ctrl-C (the terminal) asked it to end early.
    fn stop_requested(&self) -> impl Fn() -> bool + 'static {
        let interrupt = self.interrupt.clone();
        move || {
            interrupt
                .compare_exchange(
                    INTERRUPT_PENDING,
                    INTERRUPT_NONE,
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                )
                .is_ok()
        }
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
        self.active.as_ref().map(|a| {
            let v = crate::train::view::read(&a.view);
            Progress {
                run: self.experiment.notebook.runs[a.entry].name(),
                iteration: v.iteration,
                max_iterations: v.max_iterations,
                score: v.score,
                tokens_per_s: v.tokens_per_s,
                elapsed_s: v.elapsed_s,
                paused: v.phase == crate::train::view::RunPhase::Paused,
            }
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
        row::base_dir(self.file.as_deref())
    }

    /// The experiment, its file and its data: what a [`row::Handler::Edit`] is given.
    fn edit(&mut self) -> row::Edit<'_> {
        row::Edit {
            experiment: &mut self.experiment,
            file: self.file.as_deref(),
            data: &mut self.data,
        }
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
        // the row the line names parses it and runs it
        let result = table::parse_row(line).and_then(|(row, cmd)| self.run(&row.run, cmd, index));
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
                    table::parse(line),
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

    /// Runs a row's handler with what it needs of the session.
    fn run(
        &mut self,
        handler: &row::Handler,
        cmd: Command,
        cell: usize,
    ) -> Result<Vec<Output>, String> {
        // data read while the command runs (`load data`, an evaluation's data) stops
        // on request, as the evaluation's batches do
        let stop = self.stop_requested();
        crate::data::load::with_stop(stop, || match handler {
            row::Handler::Run(f) => f(self.active.as_ref().map(|a| &a.runner), cmd),
            row::Handler::Edit(f) => f(&mut self.edit(), cmd),
            row::Handler::Session(f) => f(self, cmd, cell),
        })
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
