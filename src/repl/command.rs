//! The command language: one line in, one [`Command`] out, or an error that says what to
//! type. The same parser serves the terminal (`seqlab repl`), scripts and the window's
//! command line.

use std::path::PathBuf;

use crate::data::AlignmentMode;
use crate::experiment::fields::closest;
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
}

/// One row of the command table: the command's name, usage, what it does, where the
/// window offers it, and what Tab completes after it. `help`, `parse`'s messages and
/// Tab completion read this table.
pub struct CommandHelp {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
    pub window: &'static str,
    pub complete: Complete,
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

/// Every command, in the order `help` lists them.
pub const COMMANDS: &[CommandHelp] = &[
    CommandHelp { name: "help", usage: "help [COMMAND]", summary: "list the commands, or explain one", window: "the command line", complete: Complete::Commands },
    CommandHelp { name: "open", usage: "open FILE.ron", summary: "open an experiment/notebook file (asks first when there are unsaved changes: `open! FILE` discards them)", window: "Open… (Ctrl+O)", complete: Complete::Files },
    CommandHelp { name: "save", usage: "save [FILE.ron]", summary: "save the experiment and the notebook (transcript, history, states, runs); to another folder, relative data paths are rebased; `save!` saves even if it drops comments from the file", window: "Save (Ctrl+S), Save as…", complete: Complete::Files },
    CommandHelp { name: "new", usage: "new", summary: "start a new experiment (`new!` discards unsaved changes)", window: "New", complete: Complete::Nothing },
    CommandHelp { name: "show", usage: "show experiment|data|model|runs|state|FIELD", summary: "show the experiment as RON, the data preview, the layer stack, the runs, the stepping state, or one setting (e.g. show training.updater)", window: "the editor panel and the notebook", complete: Complete::Show },
    CommandHelp { name: "set", usage: "set FIELD VALUE", summary: "change one setting; the value is RON as in the file (set training.updater Adam(lr: 0.002), set model.layers[1].size 256, set data.alignment AlignEnd); checked at once, an invalid value changes nothing; `set!` keeps a value out of range and lists it as a problem (train refuses until it is fixed)", window: "the editor panel (its changes are `set!` cells)", complete: Complete::Fields },
    CommandHelp { name: "load", usage: "load data PATH... [--labels PATH]", summary: "use a text corpus (a .txt file) or CSV sequences (a folder, a %d pattern or .csv files) as the data; `load data --labels PATH` alone changes only the labels of CSV data", window: "the Data section's Browse…, dropping files on the window", complete: Complete::LoadData },
    CommandHelp { name: "align", usage: "align start|end|equal", summary: "how CSV sequences of different lengths line up (ALIGN_START, ALIGN_END, EQUAL_LENGTH)", window: "the Data section's alignment", complete: Complete::Alignments },
    CommandHelp { name: "add", usage: "add lstm|gru|rnn|dense SIZE [at N]", summary: "add a hidden layer at the end or at position N (from 0)", window: "the Layers section's Add", complete: Complete::LayerKinds },
    CommandHelp { name: "remove", usage: "remove N", summary: "remove hidden layer N (from 0)", window: "the Layers section's ✖", complete: Complete::Nothing },
    CommandHelp { name: "move", usage: "move N M", summary: "move hidden layer N to position M", window: "the Layers section's ⬆/⬇", complete: Complete::Nothing },
    CommandHelp { name: "analyze", usage: "analyze", summary: "per-layer input/output sizes, parameter counts and the estimated training memory for the batch and sequence length", window: "the Layers section", complete: Complete::Nothing },
    CommandHelp { name: "train", usage: "train [N iterations|N epochs]", summary: "start a run in the background (a new run folder); the experiment's length unless given", window: "Train", complete: Complete::TrainLength },
    CommandHelp { name: "pause", usage: "pause", summary: "pause the active run", window: "Pause", complete: Complete::Nothing },
    CommandHelp { name: "resume", usage: "resume", summary: "resume the paused run", window: "Resume", complete: Complete::Nothing },
    CommandHelp { name: "stop", usage: "stop", summary: "stop the active run (weights, checkpoint and summary are still written)", window: "Stop", complete: Complete::Nothing },
    CommandHelp { name: "lr", usage: "lr VALUE", summary: "change the active run's base learning rate from the next iteration on", window: "the learning-rate control", complete: Complete::Nothing },
    CommandHelp { name: "checkpoint", usage: "checkpoint", summary: "write a checkpoint of the active run now", window: "Checkpoint", complete: Complete::Nothing },
    CommandHelp { name: "wait", usage: "wait", summary: "block until the active run finishes (for scripts)", window: "not needed: the window shows the run live", complete: Complete::Nothing },
    CommandHelp { name: "eval", usage: "eval [RUN] [validation|test] | eval now", summary: "score a run's weights on the validation (default) or test split: score, accuracy, per-class precision/recall/F1 and confusion matrix, or MSE/MAE/R²; `eval now`: the active run evaluates at its next iteration", window: "the notebook, Evaluate now", complete: Complete::Runs },
    CommandHelp { name: "sample", usage: "sample [N] [--prime TEXT] [--temperature T | --greedy] [--seed S] | sample now", summary: "generate N characters from the selected run's text model; `sample now`: the active run samples at its next iteration", window: "Sample now", complete: Complete::Nothing },
    CommandHelp { name: "predict", usage: "predict PATH [-o FILE]", summary: "predictions of the selected run for CSV sequence files (training normalisation applied)", window: "the notebook", complete: Complete::Files },
    CommandHelp { name: "runs", usage: "runs", summary: "the notebook's runs: date, stop reason, iterations, best validation score, wall time (missing folders marked)", window: "the runs list", complete: Complete::Nothing },
    CommandHelp { name: "use", usage: "use RUN", summary: "select the run (number, folder name or path) whose weights sample/step/eval/predict use", window: "the runs list", complete: Complete::Runs },
    CommandHelp { name: "compare", usage: "compare RUN RUN...", summary: "the settings that differ between runs, and their final and best scores side by side", window: "the runs list", complete: Complete::Runs },
    CommandHelp { name: "branch", usage: "branch RUN", summary: "take a run's model and training settings (where they differ) and its final weights as the initial weights, to edit and train again", window: "the runs list's Branch", complete: Complete::Runs },
    CommandHelp { name: "export", usage: "export RUN [FILE.csv]", summary: "write a run's metrics and validation scores as one CSV file (default: NAME-runNNN-metrics.csv beside the experiment, replaced when it is there); an existing FILE is kept unless `export!` replaces it, and the notebook, its data and its run folders are never written", window: "the runs list's Export", complete: Complete::Runs },
    CommandHelp { name: "note", usage: "note TEXT", summary: "add a Markdown note to the notebook", window: "the notebook", complete: Complete::Nothing },
    CommandHelp { name: "step", usage: "step TEXT | step v1,v2,...[; v1,v2,...]", summary: "feed steps to the selected model keeping its state (rnnTimeStep): characters for text models (prints the top next-character probabilities), one feature vector per step otherwise (prints the outputs)", window: "the notebook", complete: Complete::Nothing },
    CommandHelp { name: "state", usage: "state reset|show|save NAME|load NAME", summary: "forget, show (norms of h and c per layer), keep or restore the stepping state (named states are saved with the notebook)", window: "the notebook", complete: Complete::State },
    CommandHelp { name: "sweep", usage: "sweep [--parallel N] [--slurm ...] | sweep status|wait|cancel [DIR]", summary: "run the experiment's sweep section (saved file) in the background, on this machine or as a Slurm job array (--slurm --partition P --time HH:MM:SS --cpus-per-task C --mem M --max-parallel K --sbatch-arg ARG --dry-run); status: the trials table, their validation curves and the objective against each field, the trials added as runs; wait: until it ends; cancel: stop it (trials stay resumable)", window: "the command line", complete: Complete::Nothing },
];

/// The help entry of `name`.
pub fn help_for(name: &str) -> Option<&'static CommandHelp> {
    COMMANDS.iter().find(|c| c.name == name)
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
fn unquote(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.starts_with('"') {
        let w = words(t)?;
        if w.len() == 1 {
            return Ok(w.into_iter().next().unwrap_or_default());
        }
    }
    Ok(t.to_string())
}

fn usage_of(name: &str) -> String {
    help_for(name).map_or(String::new(), |h| h.usage.to_string())
}

/// Parses one line. Errors name what is wrong and what to type.
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    let (word, force) = match word.strip_suffix('!') {
        Some(w) => (w, true),
        None => (word, false),
    };
    let name = word.to_ascii_lowercase();
    let usage = || format!("usage: {}", usage_of(&name));
    let none = |cmd: Command| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(format!(
                "`{name}` takes nothing after it (got {rest:?}); {}",
                usage()
            ))
        }
    };
    let args = || words(rest).map_err(|e| format!("{e}; {}", usage()));
    let number = |text: &str, what: &str| -> Result<usize, String> {
        text.parse::<usize>().map_err(|_| {
            format!(
                "{what} must be a whole number from 0, not {text:?}; {}",
                usage()
            )
        })
    };
    match name.as_str() {
        "" => Err("type a command, or `help` to list them".into()),
        "sweep" => super::sweep::parse(&args()?).map(Command::Sweep),
        "help" | "?" => Ok(Command::Help(
            (!rest.is_empty()).then(|| rest.to_ascii_lowercase()),
        )),
        "open" => {
            let a = args()?;
            match a.as_slice() {
                [p] => Ok(Command::Open {
                    path: PathBuf::from(p),
                    force,
                }),
                _ => Err(format!("give one file; {}", usage())),
            }
        }
        "save" => {
            let a = args()?;
            match a.as_slice() {
                [] => Ok(Command::Save { path: None, force }),
                [p] => Ok(Command::Save {
                    path: Some(PathBuf::from(p)),
                    force,
                }),
                _ => Err(format!(
                    "give at most one file (quote a path with spaces); {}",
                    usage()
                )),
            }
        }
        "new" => none(Command::New { force }),
        "show" => match rest {
            "" => Err(format!("show what? {}", usage())),
            "experiment" => Ok(Command::Show(ShowWhat::Experiment)),
            "data" => Ok(Command::Show(ShowWhat::Data)),
            "model" => Ok(Command::Show(ShowWhat::Model)),
            "runs" => Ok(Command::Show(ShowWhat::Runs)),
            "state" => Ok(Command::Show(ShowWhat::State)),
            field => Ok(Command::Show(ShowWhat::Field(field.to_string()))),
        },
        "set" => {
            let (path, value) = rest
                .split_once(char::is_whitespace)
                .map(|(p, v)| (p.trim(), v.trim()))
                .unwrap_or((rest, ""));
            if path.is_empty() || value.is_empty() {
                return Err(format!(
                    "give a field and a value, e.g. set training.batch_size 16; {}",
                    usage()
                ));
            }
            Ok(Command::Set {
                path: path.to_string(),
                value: value.to_string(),
                force,
            })
        }
        "load" => {
            let a = args()?;
            let Some((what, paths)) = a.split_first() else {
                return Err(format!("load what? {}", usage()));
            };
            if what != "data" {
                return Err(format!(
                    "only data can be loaded (got {what:?}); {}",
                    usage()
                ));
            }
            let mut files = Vec::new();
            let mut labels = None;
            let mut it = paths.iter();
            while let Some(p) = it.next() {
                if p == "--labels" {
                    labels = Some(
                        it.next()
                            .cloned()
                            .ok_or_else(|| format!("--labels needs a path; {}", usage()))?,
                    );
                } else {
                    files.push(p.clone());
                }
            }
            if files.is_empty() && labels.is_none() {
                return Err(format!("give the data's path; {}", usage()));
            }
            Ok(Command::LoadData {
                paths: files,
                labels,
            })
        }
        "align" => match rest.to_ascii_lowercase().as_str() {
            "start" | "alignstart" | "align_start" => Ok(Command::Align(AlignmentMode::AlignStart)),
            "end" | "alignend" | "align_end" => Ok(Command::Align(AlignmentMode::AlignEnd)),
            "equal" | "equallength" | "equal_length" => {
                Ok(Command::Align(AlignmentMode::EqualLength))
            }
            other => Err(format!("{other:?} is not an alignment; {}", usage())),
        },
        "add" => {
            let a = args()?;
            let (kind, size, at) = match a.as_slice() {
                [k, s] => (k, s, None),
                [k, s, at_word, n] if at_word == "at" => (k, s, Some(number(n, "the position")?)),
                _ => {
                    return Err(format!(
                        "give a kind and a size, e.g. add lstm 128; {}",
                        usage()
                    ))
                }
            };
            let kind = match LayerType::from_name(kind) {
                Some(k) => k,
                None => {
                    return Err(format!(
                        "{kind:?} is not a layer kind ({}); {}",
                        LayerType::names(),
                        usage()
                    ))
                }
            };
            let size = number(size, "the size")?;
            if size == 0 {
                return Err(format!("a layer needs at least 1 unit; {}", usage()));
            }
            let most = crate::experiment::validate::MAX_UNITS;
            if size > most {
                return Err(format!(
                    "a layer has at most {most} units (its weights would not fit in memory); {}",
                    usage()
                ));
            }
            Ok(Command::Add { kind, size, at })
        }
        "remove" => {
            let a = args()?;
            match a.as_slice() {
                [n] => Ok(Command::Remove(number(n, "the layer")?)),
                _ => Err(format!("give the layer's position; {}", usage())),
            }
        }
        "move" => {
            let a = args()?;
            match a.as_slice() {
                [n, m] => Ok(Command::Move {
                    from: number(n, "the layer")?,
                    to: number(m, "the new position")?,
                }),
                _ => Err(format!("give two positions; {}", usage())),
            }
        }
        "analyze" | "analyse" => none(Command::Analyze),
        "train" => {
            let a = args()?;
            match a.as_slice() {
                [] => Ok(Command::Train(None)),
                [n, unit] => {
                    let n: u64 = n.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                        format!("{n:?} is not a whole number above 0; {}", usage())
                    })?;
                    match unit.as_str() {
                        "iteration" | "iterations" | "it" => {
                            Ok(Command::Train(Some(Length::Iterations(n))))
                        }
                        "epoch" | "epochs" => Ok(Command::Train(Some(Length::Epochs(n)))),
                        other => Err(format!("{other:?}: say iterations or epochs; {}", usage())),
                    }
                }
                _ => Err(usage()),
            }
        }
        "pause" => none(Command::Pause),
        "resume" => none(Command::Resume),
        "stop" => none(Command::Stop),
        "checkpoint" => none(Command::Checkpoint),
        "wait" => none(Command::Wait),
        "lr" => match rest.parse::<f64>() {
            Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(Command::Lr(lr)),
            Ok(lr) => Err(format!(
                "the learning rate must be greater than 0 (got {lr}); e.g. lr 0.001"
            )),
            Err(_) if rest.is_empty() => Err("give the learning rate: lr 0.001".into()),
            Err(_) => Err(format!("{rest:?} is not a number; e.g. lr 0.001")),
        },
        "eval" | "evaluate" if rest == "now" => {
            Ok(Command::RunNow(crate::train::Command::EvaluateNow))
        }
        "sample" if rest == "now" => Ok(Command::RunNow(crate::train::Command::SampleNow)),
        "branch" => {
            let a = args()?;
            match a.as_slice() {
                [r] => Ok(Command::Branch(r.clone())),
                _ => Err(format!("give one run; {}", usage())),
            }
        }
        "export" => {
            let a = args()?;
            match a.as_slice() {
                [r] => Ok(Command::Export {
                    run: r.clone(),
                    out: None,
                    force,
                }),
                [r, f] => Ok(Command::Export {
                    run: r.clone(),
                    out: Some(PathBuf::from(f)),
                    force,
                }),
                _ => Err(format!("give one run and at most one file; {}", usage())),
            }
        }
        "eval" | "evaluate" => {
            let mut run = None;
            let mut split = Split::Validation;
            for w in args()? {
                match w.as_str() {
                    "validation" | "val" => split = Split::Validation,
                    "test" => split = Split::Test,
                    _ if run.is_none() => run = Some(w),
                    _ => return Err(format!("unexpected {w:?}; {}", usage())),
                }
            }
            Ok(Command::Eval { run, split })
        }
        "sample" => {
            let a = args()?;
            let mut s = SampleArgs::default();
            let mut it = a.iter();
            while let Some(w) = it.next() {
                let mut value = |flag: &str| {
                    it.next()
                        .cloned()
                        .ok_or_else(|| format!("{flag} needs a value; {}", usage()))
                };
                match w.as_str() {
                    "--prime" => s.prime = Some(value("--prime")?),
                    "--temperature" | "-t" => {
                        let v = value("--temperature")?;
                        let t: f64 = v.parse().map_err(|_| {
                            format!("--temperature {v:?} is not a number; {}", usage())
                        })?;
                        if !(t.is_finite() && t > 0.0) {
                            return Err(format!("the temperature must be greater than 0 (got {v}); use --greedy for the most likely character"));
                        }
                        s.temperature = Some(t);
                    }
                    "--greedy" => s.greedy = true,
                    "--seed" => {
                        let v = value("--seed")?;
                        s.seed = Some(v.parse().map_err(|_| {
                            format!("--seed {v:?} is not a whole number from 0; {}", usage())
                        })?);
                    }
                    n if s.length.is_none() && !n.starts_with('-') => {
                        s.length = Some(number(n, "the length")?)
                    }
                    other => return Err(format!("unexpected {other:?}; {}", usage())),
                }
            }
            if s.greedy && s.temperature.is_some() {
                return Err("give --temperature or --greedy, not both".into());
            }
            // the text is built (and kept in the notebook) whole
            if s.length.is_some_and(|n| n > 1_000_000) {
                return Err("give at most 1000000 characters: sample 1000".into());
            }
            Ok(Command::Sample(s))
        }
        "predict" => {
            let a = args()?;
            match a.as_slice() {
                [p] => Ok(Command::Predict {
                    path: p.clone(),
                    out: None,
                }),
                [p, o, f] if o == "-o" || o == "--output" => Ok(Command::Predict {
                    path: p.clone(),
                    out: Some(PathBuf::from(f)),
                }),
                _ => Err(usage()),
            }
        }
        "runs" => none(Command::Runs),
        "use" => {
            let a = args()?;
            match a.as_slice() {
                [r] => Ok(Command::Use(r.clone())),
                _ => Err(format!("give one run; {}", usage())),
            }
        }
        "compare" => {
            let a = args()?;
            if a.len() < 2 {
                return Err(format!("give two or more runs; {}", usage()));
            }
            Ok(Command::Compare(a))
        }
        "note" => {
            if rest.is_empty() {
                return Err(format!("give the note's text; {}", usage()));
            }
            Ok(Command::Note(rest.to_string()))
        }
        "step" => {
            let text = unquote(rest)?;
            if text.is_empty() {
                return Err(format!("give the steps to feed; {}", usage()));
            }
            Ok(Command::Step(text))
        }
        "state" => {
            let a = args()?;
            match a.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                ["reset"] => Ok(Command::State(StateCommand::Reset)),
                ["show"] | [] => Ok(Command::State(StateCommand::Show)),
                ["save", n] => Ok(Command::State(StateCommand::Save(n.to_string()))),
                ["load", n] => Ok(Command::State(StateCommand::Load(n.to_string()))),
                _ => Err(usage()),
            }
        }
        other => {
            let names: Vec<&str> = COMMANDS.iter().map(|c| c.name).collect();
            let hint = closest(other, &names)
                .map(|c| format!("did you mean `{c}`? "))
                .unwrap_or_default();
            Err(format!(
                "unknown command `{other}`; {hint}type `help` for the list"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_too_long_to_keep_is_refused() {
        assert!(parse("sample 1000000").is_ok());
        let e = parse("sample 1000001").unwrap_err();
        assert!(e.contains("at most 1000000"), "{e}");
    }

    #[test]
    fn parses_commands_with_arguments() {
        assert_eq!(parse("train"), Ok(Command::Train(None)));
        assert_eq!(
            parse("train 50 iterations"),
            Ok(Command::Train(Some(Length::Iterations(50))))
        );
        assert_eq!(
            parse("train 2 epochs"),
            Ok(Command::Train(Some(Length::Epochs(2))))
        );
        assert_eq!(parse("  PAUSE "), Ok(Command::Pause));
        assert_eq!(parse("lr 1e-3"), Ok(Command::Lr(1e-3)));
        assert_eq!(
            parse("set training.updater Adam(lr: 0.002)"),
            Ok(Command::Set {
                path: "training.updater".into(),
                value: "Adam(lr: 0.002)".into(),
                force: false
            })
        );
        assert_eq!(
            parse("add lstm 64 at 0"),
            Ok(Command::Add {
                kind: LayerType::Lstm,
                size: 64,
                at: Some(0)
            })
        );
        assert_eq!(parse("move 1 0"), Ok(Command::Move { from: 1, to: 0 }));
        assert_eq!(
            parse(r#"sample 40 --prime "The " --temperature 0.5 --seed 3"#),
            Ok(Command::Sample(SampleArgs {
                length: Some(40),
                prime: Some("The ".into()),
                temperature: Some(0.5),
                greedy: false,
                seed: Some(3)
            }))
        );
        assert_eq!(parse("step \"ab \""), Ok(Command::Step("ab ".into())));
        assert_eq!(
            parse("save \"my file.ron\""),
            Ok(Command::Save {
                path: Some("my file.ron".into()),
                force: false
            })
        );
        assert_eq!(
            parse("save!"),
            Ok(Command::Save {
                path: None,
                force: true
            })
        );
        assert_eq!(
            parse("state save warm"),
            Ok(Command::State(StateCommand::Save("warm".into())))
        );
        assert_eq!(
            parse("eval 2 test"),
            Ok(Command::Eval {
                run: Some("2".into()),
                split: Split::Test
            })
        );
    }

    #[test]
    fn bad_lines_say_what_to_type() {
        assert!(parse("trian").unwrap_err().contains("did you mean `train`"));
        assert!(parse("lr").unwrap_err().contains("lr 0.001"));
        assert!(parse("lr -1").unwrap_err().contains("greater than 0"));
        assert!(parse("add lstm").unwrap_err().contains("usage: add"));
        assert!(parse("add cnn 3").unwrap_err().contains("not a layer kind"));
        assert!(parse("train 0 iterations").unwrap_err().contains("above 0"));
        assert!(parse("sample --temperature 0")
            .unwrap_err()
            .contains("greater than 0"));
        assert!(parse("sample --temperature x")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse("set training.batch_size")
            .unwrap_err()
            .contains("give a field and a value"));
        assert!(parse("pause now").unwrap_err().contains("takes nothing"));
        assert!(parse("save \"unclosed").unwrap_err().contains("not closed"));
        assert!(parse("compare 1").unwrap_err().contains("two or more"));
    }

    #[test]
    fn every_command_has_help_and_parses_its_name() {
        for c in COMMANDS {
            assert!(c.usage.starts_with(c.name), "{}", c.name);
            // a bare name either parses or says its usage (never "unknown command")
            if let Err(e) = parse(c.name) {
                assert!(!e.contains("unknown command"), "{}: {e}", c.name);
            }
        }
    }
}
