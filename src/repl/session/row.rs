//! A row of the command table ([`super::table`]): what every group module fills in for
//! each of its commands.

use super::Session;
use crate::experiment::notebook::Output;
use crate::repl::command::{Call, Command, Complete};

/// A command's handler: runs the parsed command against the session and returns the
/// cell's outputs (or the error the cell shows). `cell` is the command's index in the
/// transcript (where `train` draws its run, what `save` writes as its own output).
/// Handlers take the whole session: the data cache, the selected model and the active
/// run they share are the session's (see each group module).
pub type Handler = fn(&mut Session, Command, usize) -> Result<Vec<Output>, String>;

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
