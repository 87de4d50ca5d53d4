//! One run's view: its progress, curves, validations and samples, built from the run's
//! events by one piece of code ([`RunView::apply`]) and read by every front end.
//!
//! A live run's view is a [`SharedView`] the training thread updates before it sends
//! each event ([`super::runner::Runner::view`]), so it never misses an iteration and
//! never waits for a consumer: the session's progress line, and the window's monitor,
//! status line and runs list all read the same figures, also while the session thread is
//! busy with another command. A finished run's view is read back from its folder's logs
//! ([`RunView::read`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::experiment::rundir::{read_curve, read_log};

use super::event::{Event, RunSummary};
use super::trainer::IterationMetrics;
use super::Evaluation;

/// A run's view, shared between the thread that writes it and the front ends that read
/// it.
pub type SharedView = Arc<RwLock<RunView>>;

/// Reads a shared view (a panic elsewhere while writing leaves the last figures).
pub fn read(view: &SharedView) -> RwLockReadGuard<'_, RunView> {
    view.read().unwrap_or_else(|p| p.into_inner())
}

/// Writes a shared view.
pub fn write(view: &SharedView) -> RwLockWriteGuard<'_, RunView> {
    view.write().unwrap_or_else(|p| p.into_inner())
}

/// The newest validations and samples a view keeps for display.
pub const KEEP_VALIDATIONS: usize = 50;
/// See [`KEEP_VALIDATIONS`].
pub const KEEP_SAMPLES: usize = 8;

/// Where a run is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum RunPhase {
    /// Loading data and building the network.
    #[default]
    Loading,
    Running,
    Paused,
    /// Ended (how, in words: [`crate::experiment::notebook::StopReason::describe`]).
    Finished(String),
}

/// `(x, y)` points in x order: the full history of one figure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curve {
    points: Vec<[f64; 2]>,
}

impl Curve {
    /// Adds a point; non-finite values are left out. A point with a smaller x than the
    /// last replaces the history from there (a run resumed from an earlier checkpoint).
    pub fn push(&mut self, x: f64, y: f64) {
        if !(x.is_finite() && y.is_finite()) {
            return;
        }
        if self.points.last().is_some_and(|p| p[0] > x) {
            let keep = self.points.partition_point(|p| p[0] < x);
            self.points.truncate(keep);
        }
        self.points.push([x, y]);
    }

    /// A curve from `(x, y)` pairs (a run's log).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (f64, f64)>) -> Curve {
        let mut c = Curve::default();
        for (x, y) in pairs {
            c.push(x, y);
        }
        c
    }

    /// Every point.
    pub fn points(&self) -> &[[f64; 2]] {
        &self.points
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The last value.
    pub fn last(&self) -> Option<f64> {
        self.points.last().map(|p| p[1])
    }
}

/// One layer's curves: gradient norm and update:parameter ratio per iteration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerCurves {
    pub name: String,
    pub grad_norm: Curve,
    pub ratio: Curve,
}

/// Every figure of a run per iteration (the full history).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunCurves {
    /// Training score.
    pub score: Curve,
    /// Validation score at each evaluation.
    pub validation: Curve,
    /// Learning rate the schedule used.
    pub lr: Curve,
    /// Global gradient norm (before clipping).
    pub grad_norm: Curve,
    pub layers: Vec<LayerCurves>,
}

impl RunCurves {
    fn push(&mut self, m: &IterationMetrics) {
        let x = m.iteration as f64;
        self.score.push(x, m.score);
        self.lr.push(x, m.lr);
        self.grad_norm.push(x, m.global_grad_norm);
        for (k, layer) in m.layers.iter().enumerate() {
            if self.layers.len() <= k {
                self.layers.push(LayerCurves {
                    name: layer.name.clone(),
                    ..LayerCurves::default()
                });
            }
            self.layers[k].grad_norm.push(x, layer.grad_norm);
            self.layers[k].ratio.push(x, layer.ratio);
        }
    }
}

/// Iterations per second over the last few seconds of a run.
#[derive(Clone, Debug, Default, PartialEq)]
struct RateMeter {
    /// (elapsed seconds, iteration)
    recent: VecDeque<(f64, u64)>,
}

impl RateMeter {
    const WINDOW_S: f64 = 3.0;

    fn push(&mut self, elapsed_s: f64, iteration: u64) {
        self.recent.push_back((elapsed_s, iteration));
        while self.recent.len() > 2
            && self
                .recent
                .front()
                .is_some_and(|&(t, _)| elapsed_s - t > Self::WINDOW_S)
        {
            self.recent.pop_front();
        }
    }

    fn per_second(&self) -> Option<f64> {
        let (&(t0, i0), &(t1, i1)) = (self.recent.front()?, self.recent.back()?);
        (t1 > t0).then(|| (i1 - i0) as f64 / (t1 - t0))
    }
}

/// One run as every front end shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunView {
    /// The run's name as the notebook lists it (`003`).
    pub name: String,
    /// The run folder (absolute; empty for a run without one).
    pub folder: PathBuf,
    pub phase: RunPhase,
    /// Trainable parameters.
    pub parameters: usize,
    /// The iteration budget.
    pub max_iterations: u64,
    /// Iterations completed.
    pub iteration: u64,
    pub epoch: u64,
    /// The newest training score.
    pub score: Option<f64>,
    /// The learning rate the schedule used last.
    pub lr: f64,
    /// The base learning rate last set while the run went on (`lr VALUE`).
    pub lr_set: Option<f64>,
    pub tokens_per_s: f64,
    /// Wall time since training began.
    pub elapsed_s: f64,
    /// The thread setup the run uses (`OpenBLAS 0.3.21 kernel SkylakeX, 2 threads`).
    pub setup: Option<String>,
    pub curves: RunCurves,
    /// The newest validations, oldest first (at most [`KEEP_VALIDATIONS`]).
    pub validations: VecDeque<Evaluation>,
    /// The newest samples `(iteration, text)`, newest first (at most [`KEEP_SAMPLES`]).
    pub samples: VecDeque<(u64, String)>,
    /// How the run ended, once it has.
    pub summary: Option<RunSummary>,
    rate: RateMeter,
}

impl RunView {
    /// The view of a run called `name` about to start in `folder`.
    pub fn new(name: &str, folder: PathBuf) -> Self {
        RunView {
            name: name.to_string(),
            folder,
            ..RunView::default()
        }
    }

    /// A new [`SharedView`].
    pub fn shared(self) -> SharedView {
        Arc::new(RwLock::new(self))
    }

    /// Takes in one event of the run.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Started {
                parameters,
                max_iterations,
                run_dir,
                setup,
            } => {
                self.parameters = *parameters;
                self.max_iterations = *max_iterations;
                if let Some(dir) = run_dir {
                    self.folder = dir.clone();
                }
                self.setup = Some(setup.clone());
                self.phase = RunPhase::Running;
            }
            Event::Iteration {
                metrics,
                tokens_per_s,
                elapsed_s,
                ..
            } => {
                self.iteration = metrics.iteration;
                self.epoch = metrics.epoch;
                self.score = Some(metrics.score);
                self.lr = metrics.lr;
                self.tokens_per_s = *tokens_per_s;
                self.elapsed_s = *elapsed_s;
                self.rate.push(*elapsed_s, metrics.iteration);
                self.curves.push(metrics);
            }
            Event::Validation(ev) => {
                self.curves.validation.push(ev.iteration as f64, ev.score);
                if self.validations.len() == KEEP_VALIDATIONS {
                    self.validations.pop_front();
                }
                self.validations.push_back(ev.clone());
            }
            Event::Sample { iteration, text } => {
                if self.samples.len() == KEEP_SAMPLES {
                    self.samples.pop_back();
                }
                self.samples.push_front((*iteration, text.clone()));
            }
            Event::Paused { .. } => self.phase = RunPhase::Paused,
            Event::Resumed { .. } => self.phase = RunPhase::Running,
            Event::LearningRateSet { lr, .. } => self.lr_set = Some(*lr),
            Event::Checkpoint { .. } | Event::Failed { .. } | Event::Warning { .. } => {}
            Event::Finished(summary) => {
                self.phase = RunPhase::Finished(
                    summary.stop_reason.describe(summary.error.is_some()).into(),
                );
                self.iteration = self.iteration.max(summary.iterations);
                self.summary = Some(summary.clone());
            }
        }
    }

    /// Iterations per second over the last few seconds.
    pub fn per_second(&self) -> Option<f64> {
        self.rate.per_second()
    }

    /// A finished run's view from its folder's `metrics.csv` and `eval.csv` (`name` as
    /// listed); `None` when it has no metrics log. Progress figures that the logs do
    /// not hold (validations' details, samples) stay empty.
    pub fn read(folder: &Path, name: &str) -> Option<RunView> {
        let (header, rows) = read_log(&folder.join("metrics.csv"))?;
        let col = |n: &str| header.iter().position(|h| h == n);
        let (it, score) = (col("iteration")?, col("score")?);
        let pairs = |k: Option<usize>| -> Curve {
            k.map(|k| Curve::from_pairs(rows.iter().map(|r| (r[it], r[k]))))
                .unwrap_or_default()
        };
        let mut curves = RunCurves {
            score: pairs(Some(score)),
            lr: pairs(col("lr")),
            grad_norm: pairs(col("grad_norm")),
            ..RunCurves::default()
        };
        for h in &header {
            if let Some(layer) = h.strip_suffix(".grad_norm") {
                curves.layers.push(LayerCurves {
                    name: layer.to_string(),
                    grad_norm: pairs(col(h)),
                    ratio: pairs(col(&format!("{layer}.update_ratio"))),
                });
            }
        }
        curves.validation = Curve::from_pairs(
            read_curve(&folder.join("eval.csv"), "iteration", "score").unwrap_or_default(),
        );
        let last = rows.last();
        let at = |k: Option<usize>| last.zip(k).map(|(r, k)| r[k]);
        Some(RunView {
            name: name.to_string(),
            folder: folder.to_path_buf(),
            phase: RunPhase::Finished("ended".into()),
            iteration: at(Some(it)).map_or(0, |v| v as u64),
            epoch: at(col("epoch")).map_or(0, |v| v as u64),
            score: at(Some(score)),
            lr: at(col("lr")).unwrap_or(0.0),
            elapsed_s: at(col("elapsed_s")).unwrap_or(0.0),
            curves,
            ..RunView::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_are_left_out_and_a_step_back_truncates() {
        let mut s = Curve::default();
        s.push(1.0, f64::NAN);
        s.push(2.0, 3.0);
        s.push(3.0, 4.0);
        s.push(4.0, 5.0);
        assert_eq!(s.len(), 3);
        s.push(3.0, 9.0);
        assert_eq!(s.points(), &[[2.0, 3.0], [3.0, 9.0]]);
    }
}
