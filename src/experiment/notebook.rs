//! The notebook section of an experiment file: what a session adds to the settings —
//! the transcript (each command with its outputs, so the file reopens without re-running
//! anything), the command history, named stepping states and the runs.
//!
//! Outputs are typed, as Jupyter's nbformat types a cell's outputs: a front end draws
//! each kind as well as it can (the window as tables, plots and heat maps; the terminal
//! as aligned text).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Commands kept in [`Notebook::history`] (the oldest are dropped).
pub const HISTORY_LIMIT: usize = 1000;

/// Points kept per line of a saved [`Series`] (longer curves are thinned when saved;
/// a run's full curves stay in its `metrics.csv`).
pub const SAVED_POINTS: usize = 400;

/// The notebook: empty for a file that was never used as one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Notebook {
    /// Every command run, with its outputs, in order.
    pub cells: Vec<Cell>,
    /// Command lines for history recall (newest last), at most [`HISTORY_LIMIT`].
    pub history: Vec<String>,
    /// Named stepping states (`state save NAME`).
    pub states: Vec<NamedState>,
    /// The runs started from this notebook or found in its runs folder.
    pub runs: Vec<RunEntry>,
    /// The experiment (without its notebook) as it was before the first cell ran: where
    /// `seqlab repl FILE --replay` starts the transcript again. `None` in notebooks
    /// written before it was kept; a replay of those starts from a new experiment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Box<super::Experiment>>,
}

impl Notebook {
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
            && self.history.is_empty()
            && self.states.is_empty()
            && self.runs.is_empty()
            && self.origin.is_none()
    }

    /// A copy for saving: curves of run logs keep only their source, other long plot
    /// series are thinned to [`SAVED_POINTS`] per line.
    pub fn for_saving(&self) -> Notebook {
        let mut nb = self.clone();
        for line in nb.lines_mut() {
            if line.source.is_some() {
                line.points.clear();
            } else {
                line.points = thin(&line.points, SAVED_POINTS);
            }
        }
        nb
    }

    /// Notebooks written before `train` cells held a typed run reference said
    /// `run 003 started in FOLDER (...)` as text: that line becomes [`Output::Run`]
    /// (done once, when a file is read).
    pub fn upgrade_run_references(&mut self) {
        for cell in &mut self.cells {
            if !cell.command.trim_start().starts_with("train") {
                continue;
            }
            let Some(Output::Text(first)) = cell.outputs.first() else {
                continue;
            };
            let Some((name, rest)) = first
                .strip_prefix("run ")
                .and_then(|r| r.split_once(" started in "))
            else {
                continue;
            };
            let folder = rest
                .rsplit_once(" (")
                .map_or(rest, |(f, _)| f)
                .trim()
                .to_string();
            cell.outputs[0] = Output::Run {
                name: name.to_string(),
                folder: PathBuf::from(folder),
            };
        }
    }

    pub(crate) fn lines_mut(&mut self) -> impl Iterator<Item = &mut Line> {
        self.cells
            .iter_mut()
            .flat_map(|c| c.outputs.iter_mut())
            .filter_map(|o| match o {
                Output::Series(s) => Some(s.lines.iter_mut()),
                _ => None,
            })
            .flatten()
    }
}

/// Every `n`-th point so that at most `max` remain (the last point always kept).
pub fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let step = points.len().div_ceil(max - 1);
    let mut out: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if out.last() != points.last() {
        out.push(*points.last().expect("not empty"));
    }
    out
}

/// One command and what it printed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cell {
    /// The command line as typed.
    pub command: String,
    pub outputs: Vec<Output>,
    /// False when the command failed (its error is among the outputs).
    pub ok: bool,
}

/// One typed output of a command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Output {
    /// Plain text.
    Text(String),
    /// A Markdown note (`note TEXT`).
    Markdown(String),
    Table(Table),
    /// Curves for a plot.
    Series(Series),
    /// A confusion matrix (rows: actual class, columns: predicted class).
    Confusion(Confusion),
    /// Generated text.
    Sample(String),
    /// Next-step probabilities, most likely first: `(label, probability)`.
    Probabilities(Vec<(String, f64)>),
    /// What went wrong and what to do.
    Error(String),
    /// The run a `train` cell started: its name as the runs list shows it (`003`) and
    /// its folder (relative to the notebook's file when it is saved, as in
    /// [`RunEntry::path`]). Front ends find the run's record by it.
    Run {
        name: String,
        folder: PathBuf,
    },
}

impl Output {
    /// The run this output refers to, by name (a `train` cell's first output).
    pub fn run_name(&self) -> Option<&str> {
        match self {
            Output::Run { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// A table of text cells.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Curves sharing one x axis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Series {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Draw the y axis on a log scale.
    pub log_y: bool,
    pub lines: Vec<Line>,
}

/// One named curve of `(x, y)` points.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Line {
    pub name: String,
    /// Saved as one line of `x,y` pairs (`"1,2.5 2,2.25"`), exact.
    #[serde(with = "compact::pairs")]
    pub points: Vec<(f64, f64)>,
    /// Where the points come from when they are a run's log: then the file keeps only
    /// this reference and the points are read back on opening ([`read_notebook_curves`](super::rundir::read_notebook_curves)).
    pub source: Option<CurveSource>,
    /// Draw this line stronger than the others (a sweep's best trial). Not written when
    /// false, so files without it read as before.
    #[serde(skip_serializing_if = "is_false")]
    pub emphasis: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Two columns of a run's CSV log.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CurveSource {
    /// The run folder, relative to the experiment file (absolute if elsewhere).
    pub run: PathBuf,
    /// `metrics.csv` or `eval.csv`.
    pub file: String,
    pub x: String,
    pub y: String,
}

/// Counts of (actual, predicted) class pairs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Confusion {
    pub classes: Vec<String>,
    /// `counts[actual][predicted]`; saved one row a line (`"3 0 1"`).
    #[serde(with = "compact::rows")]
    pub counts: Vec<Vec<u64>>,
}

/// A stepping state kept under a name: per hidden layer, its named state tensors of one
/// example (`h`, and `c` for LSTM), or nothing for a layer without state (dense).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamedState {
    pub name: String,
    /// The run whose model produced it (as listed in [`Notebook::runs`]).
    pub run: String,
    pub layers: Vec<Option<StateLayer>>,
}

/// One layer's state for one example: its named tensors in the layer's order (`h (H)`,
/// and `c (H)` for LSTM). Files written before states were named hold `(h: ..., c:
/// ...)`; they read as the tensors `h` and `c`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "StateLayerFile")]
pub struct StateLayer {
    pub tensors: Vec<StateTensor>,
}

impl StateLayer {
    /// The values of the tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.tensors
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.values.as_slice())
    }
}

/// One named state tensor of one example.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateTensor {
    /// The layer's name for it (`h`, `c`).
    pub name: String,
    /// Saved as one line of numbers (`"0.1 -0.25 ..."`), exact.
    #[serde(with = "compact::numbers")]
    pub values: Vec<f32>,
}

/// [`StateLayer`] as files hold it: `tensors`, or the older `h` and `c`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StateLayerFile {
    tensors: Vec<StateTensor>,
    #[serde(with = "compact::optional_numbers")]
    h: Option<Vec<f32>>,
    #[serde(with = "compact::optional_numbers")]
    c: Option<Vec<f32>>,
}

impl From<StateLayerFile> for StateLayer {
    fn from(f: StateLayerFile) -> Self {
        let old = [("h", f.h), ("c", f.c)]
            .into_iter()
            .filter_map(|(name, values)| {
                values.map(|values| StateTensor {
                    name: name.into(),
                    values,
                })
            });
        StateLayer {
            tensors: f.tensors.into_iter().chain(old).collect(),
        }
    }
}

/// A run in the notebook: where its folder is and what it ended with (kept so the list
/// shows even when the folder is gone).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunEntry {
    /// The run folder, relative to the experiment file (absolute if it is elsewhere).
    pub path: PathBuf,
    pub summary: RunDigest,
}

/// Why a run ended: written in `summary.json` and the notebook's runs list by its
/// [`StopReason::name`], and shown to people in [`StopReason::describe`]'s words only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The iteration or epoch budget was reached.
    Completed,
    /// Early stopping: the validation score stopped improving.
    EarlyStopped,
    /// The user stopped it (Stop command, Ctrl-C), or it failed (with an error).
    Stopped,
    /// The score became NaN or infinite.
    Diverged,
}

impl StopReason {
    /// Every reason, in the order above.
    pub const ALL: [StopReason; 4] = [
        StopReason::Completed,
        StopReason::EarlyStopped,
        StopReason::Stopped,
        StopReason::Diverged,
    ];

    /// The name in files: `completed`, `early_stopped`, `stopped`, `diverged`.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::EarlyStopped => "early_stopped",
            StopReason::Stopped => "stopped",
            StopReason::Diverged => "diverged",
        }
    }

    /// The reason named `text`: a file name ([`StopReason::name`]) or the variant's
    /// name that notebooks written before held (`Completed`, `EarlyStopped`, ...).
    pub fn parse(text: &str) -> Option<StopReason> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|r| r.name() == text || format!("{r:?}") == text)
    }

    /// How the run ended, in words (the one wording every front end uses); `failed`
    /// when the run ended on an error.
    pub fn describe(self, failed: bool) -> &'static str {
        match self {
            StopReason::Completed => "completed",
            StopReason::EarlyStopped => "stopped early (the validation score stopped improving)",
            StopReason::Stopped if failed => "failed",
            StopReason::Stopped => "stopped by the user",
            StopReason::Diverged => "diverged",
        }
    }
}

/// `Option<StopReason>` in a file: its name as a string, `""` while the run goes on.
/// Reading also takes the variant names older notebooks were written with.
pub mod stop_reason_text {
    use super::StopReason;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(r: &Option<StopReason>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.map_or("", StopReason::name))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StopReason>, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        StopReason::parse(&text).map(Some).ok_or_else(|| {
            D::Error::custom(format!(
                "`{text}` is not a stop reason; it is one of completed, early_stopped, stopped, diverged"
            ))
        })
    }
}

/// What a run ended with, from its `summary.json` (all empty while it runs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunDigest {
    /// Seconds since the Unix epoch at the start.
    pub started_unix: u64,
    /// Why it ended; `None` while it runs (or when it was cut off before its summary).
    #[serde(with = "stop_reason_text")]
    pub stop_reason: Option<StopReason>,
    pub iterations: u64,
    pub final_score: Option<f64>,
    /// Best validation score (the last one without early stopping).
    pub best_score: Option<f64>,
    pub wall_seconds: f64,
    /// The error that ended it, if any.
    pub error: Option<String>,
}

impl RunDigest {
    /// How the run ended, in [`StopReason::describe`](StopReason::describe)'s
    /// words; `None` while it runs.
    pub fn ended(&self) -> Option<&'static str> {
        self.stop_reason.map(|r| r.describe(self.error.is_some()))
    }
}

impl RunEntry {
    /// The folder as an absolute path (relative paths are taken from `base`).
    pub fn folder(&self, base: &Path) -> PathBuf {
        if self.path.is_absolute() {
            self.path.clone()
        } else {
            base.join(&self.path)
        }
    }

    /// The short name shown in lists: the folder's last component (`003`).
    pub fn name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

/// `path` relative to `base` when it is inside it, else unchanged.
pub fn relative_to(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Numbers saved as text, so a notebook file keeps a state vector, a curve or a
/// confusion-matrix row on one line instead of one number per line (RON's pretty form).
/// Rust's `Display` of a float is the shortest text that reads back to the same value,
/// so the round trip is exact. Reading also takes the plain RON list form.
mod compact {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};
    use std::fmt::Display;
    use std::str::FromStr;

    /// Either the compact text or the plain list.
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form<T> {
        Text(String),
        List(T),
    }

    fn join<T: Display>(values: &[T]) -> String {
        let mut out = String::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(&v.to_string());
        }
        out
    }

    fn split<T: FromStr, E: serde::de::Error>(text: &str) -> Result<Vec<T>, E> {
        text.split_whitespace()
            .map(|w| {
                w.parse()
                    .map_err(|_| E::custom(format!("`{w}` is not a number")))
            })
            .collect()
    }

    pub mod numbers {
        use super::*;
        pub fn serialize<T: Display, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&join(v))
        }
        pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<T>, D::Error>
        where
            T: FromStr + Deserialize<'de>,
            D: Deserializer<'de>,
        {
            match Form::<Vec<T>>::deserialize(d)? {
                Form::Text(t) => split(&t),
                Form::List(v) => Ok(v),
            }
        }
    }

    /// Read only: the older `c` of [`super::StateLayer`].
    pub mod optional_numbers {
        use super::*;
        pub fn deserialize<'de, T, D>(d: D) -> Result<Option<Vec<T>>, D::Error>
        where
            T: FromStr + Deserialize<'de>,
            D: Deserializer<'de>,
        {
            match Option::<Form<Vec<T>>>::deserialize(d)? {
                Some(Form::Text(t)) => split(&t).map(Some),
                Some(Form::List(v)) => Ok(Some(v)),
                None => Ok(None),
            }
        }
    }

    pub mod rows {
        use super::*;
        pub fn serialize<T: Display, S: Serializer>(
            rows: &[Vec<T>],
            s: S,
        ) -> Result<S::Ok, S::Error> {
            s.collect_seq(rows.iter().map(|r| join(r)))
        }
        pub fn deserialize<'de, T, D>(d: D) -> Result<Vec<Vec<T>>, D::Error>
        where
            T: FromStr + Deserialize<'de>,
            D: Deserializer<'de>,
        {
            Vec::<Form<Vec<T>>>::deserialize(d)?
                .into_iter()
                .map(|row| match row {
                    Form::Text(t) => split(&t),
                    Form::List(v) => Ok(v),
                })
                .collect()
        }
    }

    pub mod pairs {
        use super::*;
        pub fn serialize<S: Serializer>(points: &[(f64, f64)], s: S) -> Result<S::Ok, S::Error> {
            let text: Vec<String> = points.iter().map(|(x, y)| format!("{x},{y}")).collect();
            s.serialize_str(&text.join(" "))
        }
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(f64, f64)>, D::Error> {
            match Form::<Vec<(f64, f64)>>::deserialize(d)? {
                Form::Text(t) => t
                    .split_whitespace()
                    .map(|p| {
                        let (x, y) = p
                            .split_once(',')
                            .ok_or_else(|| D::Error::custom(format!("`{p}` is not an x,y pair")))?;
                        match (x.parse(), y.parse()) {
                            (Ok(x), Ok(y)) => Ok((x, y)),
                            _ => Err(D::Error::custom(format!("`{p}` is not an x,y pair"))),
                        }
                    })
                    .collect(),
                Form::List(v) => Ok(v),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(nb: &Notebook) -> (String, Notebook) {
        let exp = crate::experiment::Experiment {
            notebook: nb.clone(),
            ..Default::default()
        };
        let text = crate::experiment::file::to_ron_string(&exp);
        let back = crate::experiment::file::from_ron_str(&text, Path::new("nb.ron"))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
        (text, back.notebook)
    }

    #[test]
    fn numbers_are_saved_on_one_line_and_read_back_exactly() {
        let h = vec![1.0f32 / 3.0, -0.0, 1e-30, f32::MAX, -2.5];
        let nb = Notebook {
            states: vec![NamedState {
                name: "warm".into(),
                run: "001".into(),
                layers: vec![
                    Some(StateLayer {
                        tensors: vec![
                            StateTensor {
                                name: "h".into(),
                                values: h.clone(),
                            },
                            StateTensor {
                                name: "c".into(),
                                values: h.iter().map(|v| v * 2.0).collect(),
                            },
                        ],
                    }),
                    None,
                ],
            }],
            cells: vec![Cell {
                command: "eval".into(),
                outputs: vec![
                    Output::Confusion(Confusion {
                        classes: vec!["a".into(), "b".into()],
                        counts: vec![vec![3, 0], vec![1, 12]],
                    }),
                    Output::Series(Series {
                        lines: vec![Line {
                            name: "score".into(),
                            points: vec![(1.0, 0.1 + 0.2), (2.0, 1e-12), (3.0, -7.0)],
                            source: None,
                            emphasis: false,
                        }],
                        ..Default::default()
                    }),
                ],
                ok: true,
            }],
            ..Default::default()
        };
        let (text, back) = roundtrip(&nb);
        assert_eq!(back, nb, "{text}");
        assert!(text.contains("\"3 0\""), "{text}");
        assert!(
            text.contains("\"1,0.30000000000000004 2,0.000000000001 3,-7\""),
            "{text}"
        );
        // the longest state line holds all five numbers
        assert!(
            text.lines().any(|l| l.contains("values: \"0.33333334 -0 ")),
            "{text}"
        );
    }

    #[test]
    fn the_plain_list_form_still_reads() {
        let text = r#"(version: 2, notebook: (states: [(name: "s", layers: [(h: [0.5, 1.0], c: None)])],
            cells: [(command: "eval", outputs: [Confusion(classes: ["a"], counts: [[4]]),
            Series(lines: [(name: "l", points: [(1.0, 2.0)])])])]))"#;
        let exp = crate::experiment::file::from_ron_str(text, Path::new("old.ron"))
            .unwrap_or_else(|e| panic!("{e}"));
        let nb = exp.notebook;
        let layer = nb.states[0].layers[0].as_ref().unwrap();
        assert_eq!(layer.get("h"), Some(&[0.5, 1.0][..]));
        assert_eq!(layer.get("c"), None);
        assert_eq!(
            nb.cells[0].outputs[0],
            Output::Confusion(Confusion {
                classes: vec!["a".into()],
                counts: vec![vec![4]]
            })
        );
        match &nb.cells[0].outputs[1] {
            Output::Series(s) => assert_eq!(s.lines[0].points, vec![(1.0, 2.0)]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_word_that_is_not_a_number_is_an_error_naming_it() {
        let text = r#"(version: 2, notebook: (states: [(name: "s", layers: [(h: "0.5 x1")])]))"#;
        let err = crate::experiment::file::from_ron_str(text, Path::new("bad.ron"))
            .expect_err("x1 is not a number")
            .to_string();
        assert!(err.contains("x1") && err.contains("bad.ron"), "{err}");
    }

    #[test]
    fn old_train_cells_get_a_typed_run_reference() {
        let mut nb = Notebook {
            cells: vec![
                Cell {
                    command: "train".into(),
                    outputs: vec![Output::Text(
                        "run 002 started in /t/x y.runs/002 (pause, resume, stop, lr VALUE; wait blocks until it ends)".into(),
                    )],
                    ok: true,
                },
                Cell {
                    command: "note run 003 started in here".into(),
                    outputs: vec![Output::Markdown("run 003 started in here".into())],
                    ok: true,
                },
            ],
            ..Default::default()
        };
        nb.upgrade_run_references();
        assert_eq!(
            nb.cells[0].outputs[0],
            Output::Run {
                name: "002".into(),
                folder: "/t/x y.runs/002".into()
            }
        );
        assert_eq!(nb.cells[1].outputs[0].run_name(), None);
    }

    #[test]
    fn a_stop_reason_reads_in_its_file_name_and_in_the_older_variant_name() {
        use crate::experiment::notebook::StopReason;
        let read = |reason: &str| {
            let text = format!(
                "(notebook: (runs: [(path: \"x.runs/001\", summary: (stop_reason: \"{reason}\", iterations: 3))]))"
            );
            crate::experiment::file::from_ron_str(&text, Path::new("x.ron"))
                .map(|e| e.notebook.runs[0].summary.stop_reason)
        };
        assert_eq!(read("Completed").unwrap(), Some(StopReason::Completed));
        assert_eq!(
            read("early_stopped").unwrap(),
            Some(StopReason::EarlyStopped)
        );
        assert_eq!(read("").unwrap(), None);
        let err = read("finished").unwrap_err().to_string();
        assert!(err.contains("not a stop reason"), "{err}");
        // written back in its file name
        let mut e = crate::experiment::Experiment::default();
        e.notebook.runs.push(RunEntry {
            path: "x.runs/001".into(),
            summary: RunDigest {
                stop_reason: Some(StopReason::Diverged),
                ..Default::default()
            },
        });
        let text = crate::experiment::file::to_ron_string(&e);
        assert!(text.contains("stop_reason: \"diverged\""), "{text}");
    }
}
