//! A row of the command table ([`super::table`]): what every group module fills in for
//! each of its commands, and what each kind of handler is given.

use std::path::{Path, PathBuf};

use super::Session;
use crate::experiment::notebook::Output;
use crate::experiment::schema::DataSpec;
use crate::experiment::Experiment;
use crate::repl::command::{Call, Command, Complete};
use crate::train::{Runner, TrainingData};

/// A command's handler: runs the parsed command and returns the cell's outputs (or the
/// error the cell shows). Each is given the least of the session it needs.
pub enum Handler {
    /// Steers the run under way (`pause`, `resume`, `stop`, `lr`, `checkpoint`): its
    /// runner, `None` when no run is under way.
    Run(fn(Option<&Runner>, Command) -> Result<Vec<Output>, String>),
    /// Reads or edits the experiment and the data it reads, nothing of runs (`help`,
    /// `set`, `note`, `load`, `align`, `add`, `remove`, `move`, `analyze`).
    Edit(fn(&mut Edit<'_>, Command) -> Result<Vec<Output>, String>),
    /// Needs the whole session: its file, the data it loaded, the selected run's model,
    /// the active run (each group's module says which). `cell` is the command's index in
    /// the transcript (where `train` draws its run, what `save` writes as its own output).
    Session(fn(&mut Session, Command, usize) -> Result<Vec<Output>, String>),
}

/// What a [`Handler::Edit`] is given: the session's experiment, its file and the data
/// loaded for it, nothing of its runs.
pub struct Edit<'a> {
    /// The settings and the notebook section.
    pub experiment: &'a mut Experiment,
    /// The experiment's file, if it has been saved or opened.
    pub file: Option<&'a Path>,
    /// The data as last loaded, with the settings it was loaded with (see `Edit::data`).
    pub data: &'a mut Option<(DataSpec, TrainingData)>,
}

impl Edit<'_> {
    /// The file as messages name it (`(unsaved)` before the first save).
    pub fn file_label(&self) -> PathBuf {
        file_label(self.file)
    }

    /// The folder relative paths are read from: the file's, or the current folder.
    pub fn base_dir(&self) -> PathBuf {
        base_dir(self.file)
    }
}

/// The file as messages name it (`(unsaved)` before the first save).
pub(super) fn file_label(file: Option<&Path>) -> PathBuf {
    file.map_or_else(|| PathBuf::from("(unsaved)"), Path::to_path_buf)
}

/// The folder relative paths are read from: the file's, or the current folder.
pub(super) fn base_dir(file: Option<&Path>) -> PathBuf {
    file.and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
}

/// A path typed by the user: relative to the current folder.
pub(super) fn resolve(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// One command.
pub struct CommandRow {
    /// What is typed (lower case).
    pub name: &'static str,
    /// Other spellings `parse` accepts (`analyse`, `?`).
    pub aliases: &'static [&'static str],
    /// The argument signature, as `help` and the parser's messages show it.
    pub usage: &'static str,
    /// What it does (`help`).
    pub summary: &'static str,
    /// Where the window offers it (`help`).
    pub window: &'static str,
    /// What Tab completes after it.
    pub complete: Complete,
    /// The arguments (the line split into a [`Call`]) to a [`Command`]; errors say what
    /// to type.
    pub parse: fn(&Call) -> Result<Command, String>,
    /// Runs what `parse` made.
    pub run: Handler,
}

/// What a handler does when given a command its row's parser never makes (a
/// programming error: the row's `parse` and `run` disagree).
pub(super) fn mismatch(row: &str) -> ! {
    unreachable!("the {row} row's handler was given another row's command")
}
