//! The training monitor: score vs iteration (training and validation on one chart, log
//! scale and smoothing with the raw curve faint), per-layer gradient norms, per-layer
//! update:parameter ratios (log10, with the 1e-3 guide), the learning rate, tokens/s
//! and ETA, and the run controls. It is drawn inside a `train` cell while its run goes
//! on (and pinned above the notebook), and the same charts draw a finished run's record.
//!
//! The figures are the run's view ([`crate::train::view::RunView`]): the live run's is
//! the one the training thread keeps and the session hands over, a finished run's is
//! read from its folder when first needed. The monitor keeps only drawing state
//! (smoothing, decimation, which runs are overlaid, the chart options) and the events'
//! lines in the console ([`Monitor::apply_events`]); the runs in [`Monitor::overlay`] are
//! drawn under the live run's curves. Commands go out as command lines; nothing here
//! waits or computes anything heavier than a running mean.

mod draw;
use draw::*;

use eframe::egui;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotPoint, PlotPoints, Points};

use crate::experiment::schema::UpdaterSpec;
use crate::train::eval::EvalMetrics;
use crate::train::view::{self, Curve, LayerCurves, RunView, SharedView};
use crate::train::{Evaluation, Event};

use super::console::Log;
use super::series::log10;
use super::Action;

/// Where a run is.
#[derive(Clone, Debug, PartialEq)]
pub enum RunState {
    /// No run yet.
    Idle,
    /// The runner is loading data and building the network.
    Loading,
    Running,
    Paused,
    /// The run ended (how, in words).
    Finished(String),
}

impl RunState {
    /// A run is under way (loading, running or paused).
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            RunState::Loading | RunState::Running | RunState::Paused
        )
    }
}

/// An exponential moving average of a series, extended as points arrive.
#[derive(Clone, Debug, Default)]
struct Smoothed {
    alpha: f64,
    /// Points of the source already averaged in.
    upto: usize,
    ema: f64,
    weight: f64,
    points: Vec<[f64; 2]>,
}

impl Smoothed {
    /// The smoothed points of `source` with weight `alpha` on the past (recomputed when
    /// `alpha` changes or the source was cut back, else extended).
    fn update(&mut self, source: &Curve, alpha: f64) -> &[[f64; 2]] {
        let pts = source.points();
        if alpha != self.alpha || pts.len() < self.upto {
            *self = Smoothed {
                alpha,
                ..Smoothed::default()
            };
        }
        for p in &pts[self.upto..] {
            self.ema = alpha * self.ema + (1.0 - alpha) * p[1];
            self.weight = alpha * self.weight + (1.0 - alpha);
            self.points.push([p[0], self.ema / self.weight]);
        }
        self.upto = pts.len();
        &self.points
    }
}

/// The monitor's runtime state (nothing here is saved: runs are read back from their
/// folders).
pub struct Monitor {
    pub state: RunState,
    /// The live (or last) run's folder (absolute): its view is in `runs`.
    live: PathBuf,
    /// Every run's view seen this session, by run folder (absolute): the live run's as
    /// its training thread keeps it, finished ones read from their folders.
    runs: HashMap<PathBuf, SharedView>,
    /// The smoothed training score of each run drawn, by run folder.
    smoothed: HashMap<PathBuf, Smoothed>,
    /// Run folders whose log could not be read (not retried every frame).
    unreadable: BTreeSet<PathBuf>,
    /// Run folders whose curves are drawn under the live (or shown) run's.
    pub overlay: BTreeSet<PathBuf>,
    /// Score on a log10 axis.
    pub log_scale: bool,
    /// Smoothing weight on the past, 0..0.99 (0: raw).
    pub smoothing: f64,
    /// The live learning-rate control.
    lr_input: f64,
    /// `OpenBLAS 0.3.21 kernel SkylakeX, 2 threads`
    blas: String,
    /// The BLAS kernel and threads the run really used, from `Event::Started` (`None`
    /// before a run: the status line shows this process's BLAS).
    setup: Option<String>,
    decimated: DecimationCache,
}

impl Default for Monitor {
    fn default() -> Self {
        Monitor {
            state: RunState::Idle,
            live: PathBuf::new(),
            runs: HashMap::new(),
            smoothed: HashMap::new(),
            unreadable: BTreeSet::new(),
            overlay: BTreeSet::new(),
            log_scale: false,
            smoothing: 0.6,
            lr_input: 1e-3,
            blas: crate::threads::info().to_string(),
            setup: None,
            decimated: DecimationCache::default(),
        }
    }
}

const TRAIN_COLOR: egui::Color32 = egui::Color32::from_rgb(90, 160, 230);
const VALIDATION_COLOR: egui::Color32 = egui::Color32::from_rgb(240, 160, 60);
const LR_COLOR: egui::Color32 = egui::Color32::from_rgb(120, 190, 120);
/// Colours of overlaid runs (cycled).
const OVERLAY_COLORS: [egui::Color32; 5] = [
    egui::Color32::from_rgb(200, 110, 200),
    egui::Color32::from_rgb(120, 200, 190),
    egui::Color32::from_rgb(220, 120, 110),
    egui::Color32::from_rgb(180, 180, 90),
    egui::Color32::from_rgb(150, 150, 230),
];

/// A line to draw on a chart.
struct ChartLine<'s> {
    name: String,
    points: &'s [[f64; 2]],
    color: egui::Color32,
    width: f32,
    dashed: bool,
    /// Also mark each point (validation: few points).
    markers: bool,
}

impl Monitor {
    /// Starts following a run the session has just started: its `view` (kept by the
    /// training thread), `folder` (absolute), base learning rate `lr`. The previous
    /// runs' views are kept; the most recent one is overlaid (`previous`).
    pub fn begin(&mut self, view: SharedView, folder: PathBuf, lr: f64, previous: Option<PathBuf>) {
        self.state = RunState::Loading;
        self.lr_input = lr;
        self.setup = None;
        self.live = folder.clone();
        self.smoothed.remove(&folder);
        self.runs.insert(folder, view);
        if let Some(p) = previous {
            self.overlay.insert(p);
        }
    }

    /// Forgets the live run (a new or opened notebook); kept views stay cached.
    pub fn reset(&mut self) {
        self.state = RunState::Idle;
        self.live = PathBuf::new();
        self.overlay.clear();
    }

    /// Applies the events the session took from the runner this frame: the run's state
    /// and the console's lines (the figures are in the run's view).
    pub fn apply_events(&mut self, events: Vec<Event>, log: &mut Log) {
        for event in events {
            self.apply(event, log);
        }
    }

    /// The live (or last) run's view, if any.
    pub fn live_view(&self) -> Option<SharedView> {
        self.runs.get(&self.live).cloned()
    }

    fn apply(&mut self, event: Event, log: &mut Log) {
        match event {
            Event::Started {
                parameters,
                max_iterations,
                run_dir,
                setup,
            } => {
                if let Some(dir) = run_dir {
                    if dir != self.live && !self.live.as_os_str().is_empty() {
                        if let Some(v) = self.runs.remove(&self.live) {
                            self.runs.insert(dir.clone(), v);
                        }
                    }
                    self.live = dir;
                }
                self.state = RunState::Running;
                self.blas = crate::threads::info().to_string();
                self.setup = Some(setup);
                log.event(format!(
                    "started: {parameters} parameters, up to {max_iterations} iterations"
                ));
            }
            Event::Iteration { .. } => {}
            Event::Validation(ev) => {
                let (name, value) = ev.headline();
                log.event(format!(
                    "{} at iteration {}: score {:.4}, {name} {value:.4}",
                    ev.split, ev.iteration, ev.score
                ));
            }
            Event::Sample { iteration, .. } => {
                log.event(format!("sample at iteration {iteration}"));
            }
            Event::Checkpoint { iteration, path } => {
                log.event(format!(
                    "checkpoint at iteration {iteration}: {}",
                    path.display()
                ));
            }
            Event::Paused { iteration } => {
                self.state = RunState::Paused;
                log.event(format!("paused after iteration {iteration}"));
            }
            Event::Resumed { iteration } => {
                self.state = RunState::Running;
                log.event(format!("resumed at iteration {iteration}"));
            }
            Event::LearningRateSet { iteration, lr } => {
                self.lr_input = lr;
                log.event(format!(
                    "learning rate set to {lr} from iteration {}",
                    iteration + 1
                ));
            }
            Event::Failed { iteration, message } | Event::Warning { iteration, message } => {
                log.error(format!("iteration {iteration}: {message}"));
            }
            Event::Finished(summary) => {
                let how = summary.stop_reason.describe(summary.error.is_some());
                let score = summary
                    .final_score
                    .map(|s| format!(", final score {s:.4}"))
                    .unwrap_or_default();
                log.event(format!(
                    "finished: {how} after {} iterations in {:.1} s{score}",
                    summary.iterations, summary.wall_seconds
                ));
                // the test split, scored once at the end, apart from validation
                if let Some(test) = &summary.test {
                    for ev in std::iter::once(&test.last).chain(&test.best) {
                        let (name, v) = ev.headline();
                        let weights = if ev.split == "test_best" {
                            "best weights"
                        } else {
                            "final weights"
                        };
                        log.event(format!(
                            "test ({weights}, iteration {}): score {:.4}, {name} {v:.4}",
                            ev.iteration, ev.score
                        ));
                    }
                }
                self.state = RunState::Finished(how.to_string());
                self.blas = crate::threads::info().to_string();
            }
        }
    }

    /// Iterations completed in the current (or last) run.
    pub fn iteration(&self) -> u64 {
        self.live_view().map_or(0, |v| view::read(&v).iteration)
    }

    /// The live (or last) run's folder.
    pub fn live_folder(&self) -> &Path {
        &self.live
    }

    /// Points in the live run's training-score history (every iteration).
    pub fn score_points(&self) -> usize {
        self.live_view()
            .map_or(0, |v| view::read(&v).curves.score.len())
    }

    /// The BLAS line shown in the status bar.
    pub fn blas(&self) -> &str {
        &self.blas
    }

    /// The view of the run in `folder` (`name` as listed), read from its logs the first
    /// time; `None` when it has no readable metrics log.
    pub fn curves(&mut self, folder: &Path, name: &str) -> Option<SharedView> {
        if !self.runs.contains_key(folder) && !self.unreadable.contains(folder) {
            match RunView::read(folder, name) {
                Some(v) => {
                    self.runs.insert(folder.to_path_buf(), v.shared());
                }
                None => {
                    self.unreadable.insert(folder.to_path_buf());
                }
            }
        }
        self.runs.get(folder).cloned()
    }

    /// Forgets a run's cached view (its log is read again when next shown).
    pub fn forget(&mut self, folder: &Path) {
        if *folder != self.live || !self.state.is_active() {
            self.runs.remove(folder);
            self.smoothed.remove(folder);
            self.unreadable.remove(folder);
        }
    }

    /// Puts a run's view under `folder` (tests and benchmarks fill long histories).
    pub fn insert_view(&mut self, folder: PathBuf, view: SharedView) {
        self.runs.insert(folder, view);
    }
}

/// `12345.0` -> `12.3k`.
pub fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// `3725.0` seconds -> `1 h 02 min`.
fn duration(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{} h {:02} min", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{s} s")
    }
}

/// The learning rate an updater starts with.
pub fn updater_lr(updater: &UpdaterSpec) -> f64 {
    updater.lr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_folders_logs_read_back_as_curves() {
        let dir = std::env::temp_dir().join(format!("seqlab-monitor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("metrics.csv"),
            "iteration,epoch,score,lr,grad_norm,l0.grad_norm,output.grad_norm,l0.update_ratio,output.update_ratio,tokens_per_s,elapsed_s\n\
             1,0,2.0,0.01,1.5,1.0,0.5,0.001,0.002,100.0,0.1\n\
             2,0,1.5,0.01,1.2,0.8,0.4,0.0009,0.0015,100.0,0.2\n\
             3,0,1.4",
        )
        .unwrap();
        std::fs::write(
            dir.join("eval.csv"),
            "iteration,split,score,accuracy\n2,validation,1.7,0.5\n",
        )
        .unwrap();
        let v = RunView::read(&dir, "001").unwrap();
        let c = &v.curves;
        assert_eq!(c.score.len(), 2, "the torn last row is skipped");
        assert_eq!(c.layers.len(), 2);
        assert_eq!(c.layers[0].name, "l0");
        assert_eq!(c.layers[1].ratio.points()[1][1], 0.0015);
        assert_eq!(c.validation.points()[0][1], 1.7);
        assert_eq!(c.lr.last(), Some(0.01));
        assert_eq!((v.iteration, v.score), (2, Some(1.5)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn smoothing_is_bias_corrected_and_extends_as_points_arrive() {
        let mut s = Curve::default();
        for i in 0..10 {
            s.push(i as f64, 2.0);
        }
        let mut sm = Smoothed::default();
        for p in sm.update(&s, 0.9) {
            assert!((p[1] - 2.0).abs() < 1e-12);
        }
        let mut step = Curve::default();
        for i in 0..50 {
            step.push(i as f64, 0.0);
        }
        let mut sm = Smoothed::default();
        assert_eq!(sm.update(&step, 0.9).len(), 50);
        for i in 50..100 {
            step.push(i as f64, 1.0);
        }
        let pts = sm.update(&step, 0.9).to_vec();
        assert_eq!(pts.len(), 100);
        assert!(pts[50][1] > 0.0 && pts[50][1] < 0.2);
        assert!(pts[99][1] > 0.99);
        // a new weight recomputes from the start
        assert_eq!(sm.update(&step, 0.0)[60][1], 1.0);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(125.0), "2 min 05 s");
        assert_eq!(duration(3725.0), "1 h 02 min");
    }
}
