//! What a run reports ([`Event`]) and how it ended ([`RunSummary`]): the types the
//! runner sends and every consumer (the session, the window, the run's view) reads.

use std::path::PathBuf;

use serde::Serialize;

use super::eval::Evaluation;
use super::trainer::{IterationMetrics, StopReason};

/// What the runner reports.
// one event per iteration at most: the final summary's size is not worth a `Box` in every
// consumer's pattern
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Event {
    /// Training has begun.
    Started {
        /// Trainable parameters of the network.
        parameters: usize,
        /// The iteration budget.
        max_iterations: u64,
        /// The run folder, when the run writes one.
        run_dir: Option<PathBuf>,
        /// The thread setup the run really uses, e.g. `OpenBLAS 0.3.21 kernel SkylakeX,
        /// 2 threads` (also recorded in `run.ron`).
        setup: String,
    },
    Iteration {
        metrics: IterationMetrics,
        tokens_per_s: f64,
        elapsed_s: f64,
        skipped: u64,
    },
    Validation(Evaluation),
    Sample {
        iteration: u64,
        text: String,
    },
    Checkpoint {
        iteration: u64,
        path: PathBuf,
    },
    Paused {
        iteration: u64,
    },
    Resumed {
        iteration: u64,
    },
    LearningRateSet {
        iteration: u64,
        lr: f64,
    },
    /// A problem that ends the run (data error, divergence, unwritable folder): the
    /// next events are at most the end-of-run records and [`Event::Finished`].
    Failed {
        /// The iteration the problem happened at (0 before training).
        iteration: u64,
        /// What went wrong, naming the file or setting involved.
        message: String,
    },
    /// A problem the run carries on after: a validation, test or sampling error, or a
    /// record of the run (`summary.json`, the metrics files) that could not be written
    /// at the end.
    Warning {
        /// The iteration the problem happened at.
        iteration: u64,
        /// What went wrong, naming the file or setting involved.
        message: String,
    },
    /// Always the last event.
    Finished(RunSummary),
}

/// The end of a run (also written as `summary.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub stop_reason: StopReason,
    pub iterations: u64,
    pub epochs: u64,
    pub final_score: Option<f64>,
    pub best_score: Option<f64>,
    pub best_iteration: Option<u64>,
    pub evaluation: Option<Evaluation>,
    /// The test split's one score at the end (CSV data or a text corpus with `test`), reported apart from
    /// validation.
    pub test: Option<TestScores>,
    pub wall_seconds: f64,
    pub run_dir: Option<PathBuf>,
    pub error: Option<String>,
}

/// The test split scored once at the end: with the final weights, and with early
/// stopping's best weights when there are any.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestScores {
    #[serde(rename = "final")]
    pub last: Evaluation,
    pub best: Option<Evaluation>,
}
