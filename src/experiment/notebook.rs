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
}

impl Notebook {
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
            && self.history.is_empty()
            && self.states.is_empty()
            && self.runs.is_empty()
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

    /// Reads the points of run-log curves back from their runs' logs (after opening);
    /// a curve whose run folder is gone stays empty.
    pub fn read_curves(&mut self, base: &Path) {
        for line in self.lines_mut() {
            if let Some(src) = &line.source {
                line.points = src.read(base).unwrap_or_default();
            }
        }
    }

    fn lines_mut(&mut self) -> impl Iterator<Item = &mut Line> {
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
    pub points: Vec<(f64, f64)>,
    /// Where the points come from when they are a run's log: then the file keeps only
    /// this reference and the points are read back on opening ([`Notebook::read_curves`]).
    pub source: Option<CurveSource>,
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

impl CurveSource {
    /// The points, read from the log (`None` when the file or a column is missing).
    pub fn read(&self, base: &Path) -> Option<Vec<(f64, f64)>> {
        let folder = if self.run.is_absolute() {
            self.run.clone()
        } else {
            base.join(&self.run)
        };
        read_curve(&folder.join(&self.file), &self.x, &self.y)
    }
}

/// Counts of (actual, predicted) class pairs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Confusion {
    pub classes: Vec<String>,
    /// `counts[actual][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

/// A stepping state kept under a name: per hidden layer, `h` and (LSTM) `c` of one
/// example, or nothing for a layer without state (dense).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NamedState {
    pub name: String,
    /// The run whose model produced it (as listed in [`Notebook::runs`]).
    pub run: String,
    pub layers: Vec<Option<StateLayer>>,
}

/// One layer's state for one example: `h (H)`, `c (H)`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StateLayer {
    pub h: Vec<f32>,
    pub c: Option<Vec<f32>>,
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

/// What a run ended with, from its `summary.json` (all empty while it runs).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunDigest {
    /// Seconds since the Unix epoch at the start.
    pub started_unix: u64,
    /// `Completed`, `Stopped`, `EarlyStopped`, `Diverged`; empty while running.
    pub stop_reason: String,
    pub iterations: u64,
    pub final_score: Option<f64>,
    /// Best validation score (the last one without early stopping).
    pub best_score: Option<f64>,
    pub wall_seconds: f64,
    /// The error that ended it, if any.
    pub error: Option<String>,
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

/// The `(x, y)` points of two named columns of a run's CSV log (`metrics.csv`,
/// `eval.csv`); `None` when the file or a column is missing. Rows that do not parse
/// (a torn last line) are skipped.
pub fn read_curve(csv: &Path, x: &str, y: &str) -> Option<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(csv).ok()?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let (xi, yi) = (
        header.iter().position(|h| *h == x)?,
        header.iter().position(|h| *h == y)?,
    );
    Some(
        lines
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                Some((cells.get(xi)?.parse().ok()?, cells.get(yi)?.parse().ok()?))
            })
            .collect(),
    )
}

/// What a run folder's `summary.json` (and `run.ron`'s start time) say; `None` when the
/// folder has no record. A run without a summary (running, or killed) has an empty
/// stop reason.
pub fn read_run_digest(folder: &Path) -> Option<RunDigest> {
    let record = super::rundir::RunDir::read_record(folder).ok()?;
    let mut d = RunDigest {
        started_unix: record.started_unix,
        ..RunDigest::default()
    };
    let Ok(text) = std::fs::read_to_string(folder.join("summary.json")) else {
        return Some(d);
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Some(d);
    };
    d.stop_reason = v["stop_reason"].as_str().unwrap_or("").to_string();
    d.iterations = v["iterations"].as_u64().unwrap_or(0);
    d.final_score = v["final_score"].as_f64();
    d.best_score = v["best_score"]
        .as_f64()
        .or_else(|| v["evaluation"]["score"].as_f64());
    d.wall_seconds = v["wall_seconds"].as_f64().unwrap_or(0.0);
    d.error = v["error"].as_str().map(String::from);
    Some(d)
}

/// Writes a text file atomically (temporary file, then rename).
pub fn write_text_atomic(path: &Path, text: &str) -> Result<(), super::ExperimentError> {
    super::file::write_atomic(path, text.as_bytes())
}

/// A run's numeric CSV log (`metrics.csv`): the header and the rows, a cell that does
/// not parse as a number read as NaN. `None` when the file cannot be read or is empty.
/// Rows with fewer fields than the header (a torn last line) are skipped.
pub fn read_log(csv: &Path) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
    let text = std::fs::read_to_string(csv).ok()?;
    let mut lines = text.lines();
    let header: Vec<String> = lines.next()?.split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cells| cells.len() == header.len())
        .map(|cells| {
            cells
                .iter()
                .map(|c| c.trim().parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    Some((header, rows))
}

/// Writes a run's metrics as one CSV file at `dest` (atomically): every row of its
/// `metrics.csv` with a last column `validation_score`, the validation score logged in
/// `eval.csv` after that iteration (empty where there was none). Returns the rows
/// written.
///
/// # Errors
/// The run folder has no `metrics.csv` (names the file), or `dest` cannot be written.
pub fn export_metrics_csv(run: &Path, dest: &Path) -> Result<usize, super::ExperimentError> {
    let metrics = run.join("metrics.csv");
    let text = std::fs::read_to_string(&metrics)
        .map_err(|e| super::ExperimentError::io("read", &metrics, e))?;
    let validation: std::collections::HashMap<String, String> =
        std::fs::read_to_string(run.join("eval.csv"))
            .map(|t| {
                t.lines()
                    .skip(1)
                    .filter_map(|l| {
                        let c: Vec<&str> = l.split(',').collect();
                        (c.len() >= 3 && c[1] == "validation")
                            .then(|| (c[0].to_string(), c[2].to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
    let mut lines = text.lines();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let header = lines.next().unwrap_or("");
    out.push_str(header);
    out.push_str(",validation_score\n");
    let width = header.split(',').count();
    let mut rows = 0;
    for l in lines.filter(|l| l.split(',').count() == width) {
        let iteration = l.split(',').next().unwrap_or("");
        out.push_str(l);
        out.push(',');
        out.push_str(validation.get(iteration).map_or("", String::as_str));
        out.push('\n');
        rows += 1;
    }
    write_text_atomic(dest, &out)?;
    Ok(rows)
}
