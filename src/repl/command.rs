//! The command language's parts: the typed arguments a line parses into ([`Command`]),
//! the line split for a parser ([`Call`], with the helpers every parser uses), the words
//! of an argument list and what Tab completes. The commands themselves (their parsers,
//! help and handlers) are the rows of the session's command table
//! ([`crate::repl::session::table`]), which [`crate::repl::parse`] reads.

use std::path::PathBuf;

use crate::data::AlignmentMode;
use crate::experiment::schema::LayerType;

/// What `show` shows.
#[derive(Clone, Debug, PartialEq)]
pub enum ShowWhat {
    /// The whole experiment as RON.
    Experiment,
    /// How the data is read: the preview of the first examples (CSV) or corpus facts.
    Data,
    /// The layer stack with sizes and parameter counts (like `analyze`).
    Model,
    Runs,
    /// The stepping state (norms per layer).
    State,
    /// One setting by field path.
    Field(String),
}

/// How long `train` runs (instead of the experiment's own length).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Length {
    Iterations(u64),
    Epochs(u64),
}

/// Which held-out split `eval` scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Validation,
    Test,
}

/// `state ...`
#[derive(Clone, Debug, PartialEq)]
pub enum StateCommand {
    Reset,
    Show,
    Save(String),
    Load(String),
}

/// `sample ...` options; `None` takes the experiment's `sampling` settings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampleArgs {
    pub length: Option<usize>,
    pub prime: Option<String>,
    pub temperature: Option<f64>,
    pub greedy: bool,
    pub seed: Option<u64>,
}

/// One parsed command.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Help(Option<String>),
    /// `open FILE`; `open! FILE` discards unsaved changes.
    Open {
        path: PathBuf,
        force: bool,
    },
    /// `save [FILE]`; `save!` saves even when it drops the file's comments.
    Save {
        path: Option<PathBuf>,
        force: bool,
    },
    /// `new`; `new!` discards unsaved changes.
    New {
        force: bool,
    },
    Show(ShowWhat),
    /// `set PATH VALUE`; `set! PATH VALUE` keeps a value that reads but is out of range
    /// (listed as a problem; `train` refuses until it is fixed), as the window's editor
    /// does while a setting is on its way to a valid one.
    Set {
        path: String,
        value: String,
        force: bool,
    },
    /// `load data PATH... [--labels PATH]`
    LoadData {
        paths: Vec<String>,
        labels: Option<String>,
    },
    Align(AlignmentMode),
    Add {
        kind: LayerType,
        size: usize,
        at: Option<usize>,
    },
    Remove(usize),
    Move {
        from: usize,
        to: usize,
    },
    Analyze,
    Train(Option<Length>),
    Pause,
    Resume,
    Stop,
    Lr(f64),
    Checkpoint,
    Wait,
    Eval {
        run: Option<String>,
        split: Split,
    },
    Sample(SampleArgs),
    /// `sample now` / `eval now`: the active run samples or evaluates at its next
    /// iteration (the result arrives with the run's events and in its cell).
    RunNow(crate::train::Command),
    /// `branch RUN`: a new experiment state from a run: its model and training
    /// settings and its final weights as the initial weights.
    Branch(String),
    /// `export RUN [FILE.csv]`: the run's metrics and validation scores as one CSV file;
    /// `export!` replaces an existing FILE.
    Export {
        run: String,
        out: Option<PathBuf>,
        force: bool,
    },
    Predict {
        path: String,
        out: Option<PathBuf>,
    },
    Runs,
    Use(String),
    Compare(Vec<String>),
    Note(String),
    Step(String),
    State(StateCommand),
    /// `sweep ...` (see [`super::sweep`]).
    Sweep(super::sweep::SweepCommand),
    /// A command with no variant of its own (one a group module adds by itself): the
    /// line as its row's parser checked it; its handler reads the arguments with
    /// [`Call`]'s helpers.
    Other(Call),
}

/// One command line split for its row's parser: the command's name as typed (lower
/// case), whether it ended in `!`, the text after it and the row's usage, which every
/// message about the arguments ends with.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: String,
    /// `open!`, `save!`, `set!`, ...: the row says what the `!` does.
    pub force: bool,
    /// The arguments, trimmed.
    pub rest: String,
    /// The row's usage (`add lstm|gru|rnn|dense SIZE [at N]`).
    pub usage: &'static str,
}

impl Call {
    /// `line` split into the name, the `!` and the arguments (no usage yet).
    pub fn split(line: &str) -> Call {
        let line = line.trim();
        let (word, rest) = match line.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (line, ""),
        };
        let (word, force) = match word.strip_suffix('!') {
            Some(w) => (w, true),
            None => (word, false),
        };
        Call {
            name: word.to_ascii_lowercase(),
            force,
            rest: rest.to_string(),
            usage: "",
        }
    }

    /// `usage: ...`, the end of every message about the arguments.
    pub fn usage(&self) -> String {
        format!("usage: {}", self.usage)
    }

    /// The arguments as words (see [`words`]).
    pub fn args(&self) -> Result<Vec<String>, String> {
        words(&self.rest).map_err(|e| format!("{e}; {}", self.usage()))
    }

    /// `cmd` when nothing follows the name.
    pub fn none(&self, cmd: Command) -> Result<Command, String> {
        if self.rest.is_empty() {
            Ok(cmd)
        } else {
            Err(format!(
                "`{}` takes nothing after it (got {:?}); {}",
                self.name,
                self.rest,
                self.usage()
            ))
        }
    }

    /// A whole number from 0; `what` names it in the message.
    pub fn number(&self, text: &str, what: &str) -> Result<usize, String> {
        text.parse::<usize>().map_err(|_| {
            format!(
                "{what} must be a whole number from 0, not {text:?}; {}",
                self.usage()
            )
        })
    }
}

/// What Tab completes in a command's arguments; the candidates come from registries
/// (the commands, the layer kinds, the alignments) and from the experiment (its field
/// paths, runs and saved states), never from a list written here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Complete {
    Nothing,
    /// Command names (`help`).
    Commands,
    /// Field paths (`set`).
    Fields,
    /// `show`'s words, then field paths.
    Show,
    /// Alignment modes (`align`).
    Alignments,
    /// Layer kinds, from [`LayerType::ALL`] (`add`).
    LayerKinds,
    /// `state`'s words; after `state load`, the saved states.
    State,
    /// Run names (`use`, `eval`, `compare`, `branch`, `export`).
    Runs,
    /// File names (`open`, `save`, `predict`).
    Files,
    /// `data`, then file names (`load`).
    LoadData,
    /// After a number, `iterations` or `epochs` (`train`).
    TrainLength,
}

/// Splits arguments into words; `"..."` keeps spaces (with `\"` and `\\` escapes).
pub fn words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else {
            return Ok(out);
        };
        let mut word = String::new();
        if c == '"' {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some('n') => word.push('\n'),
                        Some('t') => word.push('\t'),
                        Some(other) => word.push(other),
                        None => word.push('\\'),
                    },
                    c => word.push(c),
                }
            }
            if !closed {
                return Err("a `\"` is not closed".into());
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
}

/// `"text"` unquoted (with escapes); anything else as it is.
pub fn unquote(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.starts_with('"') {
        let w = words(t)?;
        if w.len() == 1 {
            return Ok(w.into_iter().next().unwrap_or_default());
        }
    }
    Ok(t.to_string())
}
