//! The sweep section of an experiment file (`sweep: Some((...))`): its types, with their
//! defaults, and the problems validation reports in it. The sweep's logic (expansion,
//! the plan and results files) is in [`super::sweep`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::ExperimentError;

/// The metrics an objective can name: the validation `score` (mean loss per position)
/// and the columns of `eval.csv`.
pub const METRICS: [&str; 6] = ["score", "accuracy", "macro_f1", "mse", "mae", "r2"];

/// The `sweep` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSpec {
    /// Only in a sweep file: the experiment it sweeps, relative to the sweep file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experiment: Option<PathBuf>,
    /// Field path -> the values to try; every combination is a trial.
    #[serde(with = "ordered_map")]
    pub grid: Vec<(String, Vec<SweepValue>)>,
    /// Randomly drawn trials (combined with every grid point).
    pub random: Option<RandomSpec>,
    /// Run every trial with this many seeds (`training.seed` + 0..K). Default 1.
    pub seeds: u32,
    /// What "best" means.
    pub objective: Objective,
    /// Stop a trial whose validation value at a checkpoint is worse than the median of the
    /// finished trials at the same iteration (local sweeps only).
    pub median_stopping: Option<MedianStopping>,
}

impl Default for SweepSpec {
    fn default() -> Self {
        SweepSpec {
            experiment: None,
            grid: Vec::new(),
            random: None,
            seeds: 1,
            objective: Objective::default(),
            median_stopping: None,
        }
    }
}

/// One value of a swept field: a number, a boolean, or RON text (`"Gru"`,
/// `"Adam(lr: 0.01)"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SweepValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl SweepValue {
    /// The value as RON text for [`super::fields::set`].
    pub fn ron(&self) -> String {
        match self {
            SweepValue::Bool(b) => b.to_string(),
            SweepValue::Int(i) => i.to_string(),
            SweepValue::Float(f) => float_text(*f),
            SweepValue::Text(t) => t.clone(),
        }
    }
}

/// A float as RON text that reads back as a float (`1.0`, `0.003`, `1e-5`).
pub(crate) fn float_text(f: f64) -> String {
    let t = format!("{f:?}");
    if t.contains(['.', 'e', 'E']) || !f.is_finite() {
        t
    } else {
        format!("{t}.0")
    }
}

/// Random trials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomSpec {
    /// How many draws. Default 10.
    pub trials: usize,
    /// Seed of the draws (same seed, same trials). Default 0.
    pub seed: u64,
    /// Field path -> where its values come from.
    #[serde(with = "ordered_map")]
    pub fields: Vec<(String, Distribution)>,
}

impl Default for RandomSpec {
    fn default() -> Self {
        RandomSpec {
            trials: 10,
            seed: 0,
            fields: Vec::new(),
        }
    }
}

/// Where a random field's values come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Distribution {
    /// One of the listed values, each equally likely.
    Choice(Vec<SweepValue>),
    /// A float uniformly in `[low, high]`.
    Uniform(f64, f64),
    /// A float whose logarithm is uniform in `[ln low, ln high]` (learning rates);
    /// `0 < low < high`.
    LogUniform(f64, f64),
    /// A whole number uniformly in `low..=high` (layer sizes).
    IntUniform(i64, i64),
}

/// Which way is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Goal {
    Min,
    Max,
}

/// What the sweep ranks trials by: a validation metric (the last validation row of each
/// trial's `eval.csv` gives its final value, the best row its best value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Objective {
    /// One of [`METRICS`]. Default `score` (the validation loss).
    pub metric: String,
    /// Default: `Min` for score, mse, mae; `Max` for accuracy, macro_f1, r2.
    pub goal: Option<Goal>,
}

impl Default for Objective {
    fn default() -> Self {
        Objective {
            metric: "score".into(),
            goal: None,
        }
    }
}

impl Objective {
    /// The goal, given or the metric's natural one.
    pub fn goal(&self) -> Goal {
        self.goal.unwrap_or(match self.metric.as_str() {
            "accuracy" | "macro_f1" | "r2" => Goal::Max,
            _ => Goal::Min,
        })
    }

    /// True when `a` is better than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        match self.goal() {
            Goal::Min => a < b,
            Goal::Max => a > b,
        }
    }
}

/// The median stopping rule (Golovin et al., "Google Vizier", 2017, in its simplest form).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MedianStopping {
    /// Finished trials needed at an iteration before the rule applies there. Default 3.
    pub min_trials: usize,
    /// No trial is stopped before this iteration. Default 0.
    pub warmup: u64,
}

impl Default for MedianStopping {
    fn default() -> Self {
        MedianStopping {
            min_trials: 3,
            warmup: 0,
        }
    }
}

/// Static problems of a sweep section (everything but the field paths and values, which
/// [`expand`] checks against the experiment). Paths start with `sweep.`.
pub fn problems(spec: &SweepSpec, file: &Path) -> Vec<ExperimentError> {
    let mut out = Vec::new();
    let mut problem = |field: String, what: String, allowed: &str| {
        out.push(ExperimentError::field(
            file,
            field,
            what,
            allowed.to_string(),
        ));
    };
    if spec.seeds == 0 {
        problem(
            "sweep.seeds".into(),
            "is 0".into(),
            "give 1 or more (the number of seeds each trial runs with)",
        );
    }
    if !METRICS.contains(&spec.objective.metric.as_str()) {
        problem(
            "sweep.objective.metric".into(),
            format!("is {:?}", spec.objective.metric),
            &format!("use one of {}", METRICS.join(", ")),
        );
    }
    let mut seen: Vec<&str> = Vec::new();
    for (path, values) in &spec.grid {
        let at = format!("sweep.grid.{path:?}");
        if values.is_empty() {
            problem(
                at.clone(),
                "lists no values".into(),
                "give one or more values",
            );
        }
        if seen.contains(&path.as_str()) {
            problem(at, "is listed twice".into(), "list each field once");
        }
        seen.push(path);
    }
    if let Some(r) = &spec.random {
        if r.trials == 0 {
            problem(
                "sweep.random.trials".into(),
                "is 0".into(),
                "give 1 or more draws, or remove `random`",
            );
        } else if r.trials > MAX_TRIALS {
            problem(
                "sweep.random.trials".into(),
                format!("is {}", r.trials),
                "a sweep runs at most 100000 trials; give fewer draws",
            );
        }
        if r.fields.is_empty() {
            problem(
                "sweep.random.fields".into(),
                "is empty".into(),
                "give at least one field with a distribution, or remove `random`",
            );
        }
        for (path, dist) in &r.fields {
            let at = format!("sweep.random.fields.{path:?}");
            if seen.contains(&path.as_str()) {
                problem(
                    at.clone(),
                    "is also swept elsewhere in the sweep".into(),
                    "sweep each field in one place (grid or random)",
                );
            }
            seen.push(path);
            match *dist {
                Distribution::Choice(ref v) if v.is_empty() => problem(
                    at,
                    "Choice lists no values".into(),
                    "give one or more values",
                ),
                Distribution::Uniform(lo, hi)
                    if !(lo.is_finite() && hi.is_finite() && lo <= hi) =>
                {
                    problem(
                        at,
                        format!("is Uniform({lo}, {hi})"),
                        "give finite bounds with low <= high",
                    )
                }
                Distribution::LogUniform(lo, hi)
                    if !(lo.is_finite() && hi.is_finite() && lo > 0.0 && lo <= hi) =>
                {
                    problem(
                        at,
                        format!("is LogUniform({lo}, {hi})"),
                        "give bounds with 0 < low <= high (e.g. LogUniform(1e-4, 1e-1))",
                    )
                }
                Distribution::IntUniform(lo, hi) if lo > hi => {
                    problem(at, format!("is IntUniform({lo}, {hi})"), "give low <= high")
                }
                _ => {}
            }
        }
    }
    if spec.seeds > 1 && seen.contains(&"training.seed") {
        problem(
            "sweep.seeds".into(),
            format!("is {} while training.seed is swept too", spec.seeds),
            "either sweep training.seed or give seeds, not both",
        );
    }
    for path in seen {
        if path == "sweep" || path.starts_with("sweep.") || path.starts_with("notebook") {
            problem(
                format!("sweep: the field {path:?}"),
                "is not a setting a trial can change".into(),
                "sweep settings of data, model, training, evaluation or sampling",
            );
        }
    }
    if spec.grid.is_empty() && spec.random.is_none() && spec.seeds <= 1 {
        problem(
            "sweep".into(),
            "sweeps nothing (no grid, no random, one seed)".into(),
            "add `grid: {\"training.updater.Adam.lr\": [0.01, 0.001]}` or `random: (..)` or `seeds: 3`",
        );
    }
    out
}

/// The most trials one sweep runs (each is a process and a run folder).
pub const MAX_TRIALS: usize = 100_000;

/// A map written in RON as `{"key": value, ...}`, kept in file order.
mod ordered_map {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, V: Serialize>(
        entries: &[(String, V)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(entries.len()))?;
        for (k, v) in entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<(String, V)>, D::Error> {
        struct Entries<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Vec<(String, V)>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map {\"field.path\": ...}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}
