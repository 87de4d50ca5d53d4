//! Sweeps: the `sweep` section of an experiment (or a sweep file beside it), its
//! expansion into trials, and the sweep folder's files (`plan.json`, `sweep.csv`,
//! `sweep.json`).
//!
//! # The section
//! ```ron
//! sweep: (
//!     // every combination of the listed values (first field varies slowest)
//!     grid: {"training.updater.Adam.lr": [0.01, 0.003], "model.layers[0].size": [16, 32]},
//!     // N draws, each field from a list or a range; combined with every grid point
//!     random: (trials: 8, seed: 1, fields: {
//!         "training.updater.Adam.lr": LogUniform(1e-4, 1e-1),
//!         "model.layers[0].size": Choice([16, 32, 64]),
//!     }),
//!     seeds: 2,                                    // every trial with 2 seeds
//!     objective: (metric: "accuracy", goal: Max), // default: the validation score, min
//!     median_stopping: (min_trials: 3),           // optional early stopping
//! )
//! ```
//! Field paths are those of `--set` and the REPL's `set`; values are RON as in the file
//! (a text such as `"Gru"` is taken as the RON text `Gru`, so enum variants and whole
//! values like `"Adam(lr: 0.01)"` can be swept). A sweep file is the same section with
//! `experiment: "file.ron"` (relative to the sweep file) added.
//!
//! # Trials
//! [`expand`] turns the section into [`Trial`]s: grid points x random draws x seeds, each
//! a list of `(path, RON value)` overrides applied with [`super::fields::set`] and
//! validated like a file before anything runs. Random draws come from a `StdRng` seeded
//! with `random.seed` (same seed, same values); drawn floats are rounded to 4
//! significant digits (kept inside the range) so that tables stay readable. With
//! `seeds: K > 1`, trial copies get `training.seed` = the experiment's seed + 0..K.

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::error::ExperimentError;
use super::schema::Experiment;
pub use super::sweep_spec::*;

/// One trial: its number and the overrides that make it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trial {
    /// From 0, in expansion order.
    pub index: usize,
    /// `(field path, RON value)`, in the order the sweep lists the fields.
    pub settings: Vec<(String, String)>,
}

impl Trial {
    /// The trial's folder name under `trials/`: `000`, `001`, ...
    pub fn name(&self) -> String {
        format!("{:03}", self.index)
    }

    /// The overrides as `--set` arguments (`path=value`).
    pub fn set_args(&self) -> Vec<String> {
        self.settings
            .iter()
            .map(|(p, v)| format!("{p}={v}"))
            .collect()
    }
}

/// The trials of a sweep: grid points (first field slowest) x random draws x seeds, each
/// checked by applying its overrides to `exp` with [`super::fields::set`]. The first
/// problem is returned, naming the sweep field path, the trial and the value.
pub fn expand(
    exp: &Experiment,
    spec: &SweepSpec,
    file: &Path,
) -> Result<Vec<Trial>, ExperimentError> {
    if let Some(p) = problems(spec, file).into_iter().next() {
        return Err(p);
    }
    // grid points
    let mut points: Vec<Vec<(String, String, String)>> = vec![Vec::new()]; // (path, value, source)
    for (path, values) in &spec.grid {
        let mut next = Vec::with_capacity(points.len() * values.len());
        for p in &points {
            for v in values {
                let mut q = p.clone();
                q.push((path.clone(), v.ron(), format!("sweep.grid.{path:?}")));
                next.push(q);
            }
        }
        points = next;
    }
    // random draws, the same draws for every grid point
    let draws: Vec<Vec<(String, String, String)>> = match &spec.random {
        None => vec![Vec::new()],
        Some(r) => {
            let mut rng = StdRng::seed_from_u64(r.seed);
            (0..r.trials)
                .map(|_| {
                    r.fields
                        .iter()
                        .map(|(path, d)| {
                            (
                                path.clone(),
                                draw(d, &mut rng),
                                format!("sweep.random.fields.{path:?}"),
                            )
                        })
                        .collect()
                })
                .collect()
        }
    };
    let base_seed = exp.training.seed;
    let mut trials = Vec::new();
    for p in &points {
        for d in &draws {
            for k in 0..spec.seeds.max(1) {
                let mut settings: Vec<(String, String, String)> =
                    p.iter().chain(d.iter()).cloned().collect();
                if spec.seeds > 1 {
                    settings.push((
                        "training.seed".into(),
                        (base_seed + u64::from(k)).to_string(),
                        "sweep.seeds".into(),
                    ));
                }
                trials.push((trials.len(), settings));
            }
        }
    }
    let mut out = Vec::with_capacity(trials.len());
    for (index, settings) in trials {
        let mut e = exp.clone();
        for (path, value, source) in &settings {
            e = super::fields::set(&e, path, value, file).map_err(|err| {
                ExperimentError::field(
                    file,
                    source.clone(),
                    format!("trial {index:03} sets {path} to {value}: {err}"),
                    "fix the field path or the value in the sweep section".to_string(),
                )
            })?;
        }
        out.push(Trial {
            index,
            settings: settings.into_iter().map(|(p, v, _)| (p, v)).collect(),
        });
    }
    Ok(out)
}

/// One value from a distribution, as RON text.
fn draw(d: &Distribution, rng: &mut StdRng) -> String {
    match *d {
        Distribution::Choice(ref values) => values[rng.random_range(0..values.len())].ron(),
        Distribution::Uniform(lo, hi) => {
            let v = if lo == hi {
                lo
            } else {
                rng.random_range(lo..=hi)
            };
            float_text(round_within(v, lo, hi))
        }
        Distribution::LogUniform(lo, hi) => {
            let (a, b) = (lo.ln(), hi.ln());
            let v = if a == b {
                lo
            } else {
                rng.random_range(a..=b).exp()
            };
            float_text(round_within(v, lo, hi))
        }
        Distribution::IntUniform(lo, hi) => rng.random_range(lo..=hi).to_string(),
    }
}

/// `v` rounded to 4 significant digits, kept inside `[lo, hi]`.
fn round_within(v: f64, lo: f64, hi: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let digits = 3 - v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits);
    let r = (v * scale).round() / scale;
    // the rounding may step past a bound; the text of a bound is exact
    let r = if r.is_finite() { r } else { v };
    r.clamp(lo, hi)
}

/// Reads the sweep of `path`: an experiment with a `sweep` section, or a sweep file
/// (`(experiment: "x.ron", grid: ...)`). Returns the experiment file, the experiment
/// (paths as written) and the sweep.
pub fn load(path: &Path) -> Result<(PathBuf, Experiment, SweepSpec), ExperimentError> {
    let bytes =
        crate::data::read::read_regular(path).map_err(|e| ExperimentError::io("read", path, e))?;
    let text = String::from_utf8_lossy(crate::data::read::strip_bom(&bytes)).into_owned();
    if let Ok(spec) = super::io::ron_options().from_str::<SweepSpec>(&text) {
        if let Some(rel) = &spec.experiment {
            let exp_path = path.parent().unwrap_or(Path::new("")).join(rel);
            let exp = super::file::load(&exp_path)?;
            if let Some(p) = problems(&spec, path).into_iter().next() {
                return Err(p);
            }
            return Ok((exp_path, exp, spec));
        }
    }
    let mut exp = super::file::load(path)?;
    let spec = exp.sweep.take().ok_or_else(|| {
        ExperimentError::field(
            path,
            "sweep",
            "is missing: the experiment has no sweep section",
            "add one, e.g. `sweep: (grid: {\"training.updater.Adam.lr\": [0.01, 0.001]})`, or \
             give a sweep file `(experiment: \"exp.ron\", grid: {...})`"
                .to_string(),
        )
    })?;
    if spec.experiment.is_some() {
        return Err(ExperimentError::field(
            path,
            "sweep.experiment",
            "is given inside an experiment",
            "remove it: `experiment` belongs only in a separate sweep file".to_string(),
        ));
    }
    Ok((path.to_path_buf(), exp, spec))
}

/// `plan.json` of a sweep folder: what the sweep runs. A re-run of the same sweep
/// finds the same plan; a different one is refused rather than mixed in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The experiment file the sweep was started from.
    pub experiment_file: PathBuf,
    /// The swept field paths (the table's setting columns), in sweep order.
    pub fields: Vec<String>,
    pub objective: Objective,
    pub median_stopping: Option<MedianStopping>,
    pub trials: Vec<Trial>,
}

impl Plan {
    /// The plan of `trials` (the swept fields are taken from them).
    pub fn new(experiment_file: &Path, spec: &SweepSpec, trials: Vec<Trial>) -> Plan {
        let mut fields: Vec<String> = Vec::new();
        for t in &trials {
            for (p, _) in &t.settings {
                if !fields.contains(p) {
                    fields.push(p.clone());
                }
            }
        }
        Plan {
            experiment_file: experiment_file.to_path_buf(),
            fields,
            objective: spec.objective.clone(),
            median_stopping: spec.median_stopping.clone(),
            trials,
        }
    }

    pub fn read(dir: &Path) -> Result<Plan, ExperimentError> {
        let p = dir.join(PLAN_FILE);
        let bytes = std::fs::read(&p).map_err(|e| {
            io_error(
                &p,
                e,
                "give a sweep folder written by `seqlab sweep` (it holds plan.json)",
            )
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            io_error(
                &p,
                std::io::Error::other(e.to_string()),
                "plan.json is damaged; start the sweep again in a new folder",
            )
        })
    }

    pub fn write(&self, dir: &Path) -> Result<(), ExperimentError> {
        let text = serde_json::to_string_pretty(self).expect("plain data");
        super::io::write_text_atomic(&dir.join(PLAN_FILE), &text)
    }
}

/// The plan of a sweep folder.
pub const PLAN_FILE: &str = "plan.json";
/// The experiment every trial starts from (paths absolute), in the sweep folder.
pub const EXPERIMENT_FILE: &str = "experiment.ron";

/// Where a trial stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrialState {
    /// Not started, or interrupted (it resumes from its last checkpoint).
    Pending,
    Running,
    /// Trained to its budget (or its own early stopping ended it).
    Completed,
    /// Stopped by the sweep's median rule.
    StoppedEarly,
    /// Diverged, bad data, killed, or any other error.
    Failed,
    /// Cancelled (Slurm `--cancel`); it resumes when the sweep is run again.
    Cancelled,
}

impl TrialState {
    pub fn label(self) -> &'static str {
        match self {
            TrialState::Pending => "pending",
            TrialState::Running => "running",
            TrialState::Completed => "completed",
            TrialState::StoppedEarly => "stopped early",
            TrialState::Failed => "failed",
            TrialState::Cancelled => "cancelled",
        }
    }

    /// Completed, stopped early or failed: a re-run keeps it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TrialState::Completed | TrialState::StoppedEarly | TrialState::Failed
        )
    }
}

/// One row of `sweep.csv` / one trial of `sweep.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrialResult {
    pub trial: usize,
    /// The run folder, relative to the sweep folder (`trials/003`).
    pub run: PathBuf,
    /// `(field path, RON value)` as in the plan.
    pub settings: Vec<(String, String)>,
    pub state: TrialState,
    /// Why it ended, in words (`completed`, `stopped early at iteration 40 (median
    /// rule: ...)`, `diverged at iteration 12`, the error).
    pub stop_reason: String,
    /// Iterations trained (so far, while running).
    pub iterations: u64,
    /// The best validation value of the objective's metric and its iteration.
    pub best_value: Option<f64>,
    pub best_iteration: Option<u64>,
    /// The last validation value of the objective's metric.
    pub final_value: Option<f64>,
    /// The last validation row: score and metrics by name.
    pub final_metrics: Vec<(String, f64)>,
    /// Training wall time from the run's summary, seconds.
    pub wall_seconds: Option<f64>,
    /// The best trial of the sweep by the objective (best value).
    pub best: bool,
}

impl TrialResult {
    /// The RON value this trial gave the swept field `path`, if it set it.
    pub fn setting(&self, path: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, v)| v.as_str())
    }
}

/// `sweep.json`: the plan's objective and fields, and every trial's result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub experiment_file: PathBuf,
    pub fields: Vec<String>,
    pub objective: Objective,
    /// The best trial's number, if any trial has a value.
    pub best_trial: Option<usize>,
    pub trials: Vec<TrialResult>,
}

/// The results file names in a sweep folder.
pub const RESULTS_CSV: &str = "sweep.csv";
pub const RESULTS_JSON: &str = "sweep.json";

impl Results {
    /// Marks the best trial: the best `best_value` by the objective among trials that
    /// completed or were stopped early.
    pub fn mark_best(&mut self) {
        let mut best: Option<(usize, f64)> = None;
        for (i, t) in self.trials.iter_mut().enumerate() {
            t.best = false;
            let ok = matches!(t.state, TrialState::Completed | TrialState::StoppedEarly);
            if let (true, Some(v)) = (ok, t.best_value) {
                if v.is_finite() && best.is_none_or(|(_, b)| self.objective.better(v, b)) {
                    best = Some((i, v));
                }
            }
        }
        self.best_trial = best.map(|(i, _)| {
            self.trials[i].best = true;
            self.trials[i].trial
        });
    }

    /// The metric names of the trials' last validation rows, in first-seen order.
    fn metric_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for t in &self.trials {
            for (n, _) in &t.final_metrics {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
        names
    }

    /// The results as CSV: trial, run, one column per swept field, state, stop reason,
    /// iterations, best and final value of the objective, the best iteration, the last
    /// validation metrics, wall seconds, and `best` (`*` for the best trial).
    pub fn to_csv(&self) -> String {
        let metric = &self.objective.metric;
        let names = self.metric_names();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = vec!["trial".into(), "run".into()];
        header.extend(self.fields.iter().cloned());
        header.extend(
            [
                "state",
                "stop_reason",
                "iterations",
                &format!("best_{metric}"),
                "best_iteration",
                &format!("final_{metric}"),
            ]
            .map(String::from),
        );
        header.extend(names.iter().map(|n| format!("validation_{n}")));
        header.extend(["wall_s", "best"].map(String::from));
        let _ = w.write_record(&header);
        let num = |v: Option<f64>| v.map(|v| format!("{v}")).unwrap_or_default();
        for t in &self.trials {
            let mut row = vec![format!("{:03}", t.trial), t.run.display().to_string()];
            for f in &self.fields {
                row.push(t.setting(f).unwrap_or_default().to_string());
            }
            row.push(t.state.label().into());
            row.push(t.stop_reason.clone());
            row.push(t.iterations.to_string());
            row.push(num(t.best_value));
            row.push(t.best_iteration.map(|i| i.to_string()).unwrap_or_default());
            row.push(num(t.final_value));
            for n in &names {
                row.push(num(t
                    .final_metrics
                    .iter()
                    .find(|(m, _)| m == n)
                    .map(|(_, v)| *v)));
            }
            row.push(
                t.wall_seconds
                    .map(|s| format!("{s:.2}"))
                    .unwrap_or_default(),
            );
            row.push(if t.best { "*".into() } else { String::new() });
            let _ = w.write_record(&row);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// Writes `sweep.csv` and `sweep.json` into `dir`, each atomically.
    pub fn write(&self, dir: &Path) -> Result<(), ExperimentError> {
        let json = serde_json::to_string_pretty(self).expect("plain data");
        super::io::write_text_atomic(&dir.join(RESULTS_CSV), &self.to_csv())?;
        super::io::write_text_atomic(&dir.join(RESULTS_JSON), &json)
    }

    /// Reads `sweep.json` of a sweep folder.
    pub fn read(dir: &Path) -> Result<Results, ExperimentError> {
        let p = dir.join(RESULTS_JSON);
        let bytes = std::fs::read(&p).map_err(|e| {
            io_error(
                &p,
                e,
                "the sweep has written no results yet; run `seqlab sweep --status DIR`",
            )
        })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            io_error(
                &p,
                std::io::Error::other(e.to_string()),
                "sweep.json is damaged; run `seqlab sweep --status DIR` to rewrite it",
            )
        })
    }
}

/// The validation rows of a run's `eval.csv`: `(iteration, [(name, value)])` with the
/// score first (`("score", v)`) then the metrics; empty when there is none yet. A torn
/// last row is skipped.
pub fn read_validation(run: &Path) -> Vec<(u64, Vec<(String, f64)>)> {
    let Ok(text) = std::fs::read_to_string(run.join("eval.csv")) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let header: Vec<&str> = header.split(',').collect();
    lines
        .filter_map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            if cells.len() != header.len() || cells.get(1) != Some(&"validation") {
                return None;
            }
            let it = cells[0].parse().ok()?;
            let values = header[2..]
                .iter()
                .zip(&cells[2..])
                .map(|(n, v)| Some((n.to_string(), v.parse().ok()?)))
                .collect::<Option<Vec<_>>>()?;
            Some((it, values))
        })
        .collect()
}

/// A file of a sweep folder that cannot be read, with what to do.
fn io_error(path: &Path, source: std::io::Error, hint: &str) -> ExperimentError {
    ExperimentError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
        hint: hint.into(),
    }
}
