//! The training monitor: score vs iteration (training and validation on one chart, log
//! scale and smoothing with the raw curve faint), per-layer gradient norms, per-layer
//! update:parameter ratios (log10, with the 1e-3 guide), the learning rate, tokens/s
//! and ETA, and the run controls. It is drawn inside a `train` cell while its run goes
//! on (and pinned above the notebook), and the same charts draw a finished run's record.
//!
//! Runs are kept: every run's curves stay in [`Monitor`] (a finished run's are read from
//! its `metrics.csv` when first needed), and the runs in [`Monitor::overlay`] are drawn
//! under the live run's curves.
//!
//! It talks to the trainer only through the session's runner: commands out (as command
//! lines), [`Event`]s in, handed over once per frame in [`Monitor::apply_events`];
//! nothing here waits or computes anything heavier than a running mean.

use eframe::egui;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotPoint, PlotPoints, Points};

use crate::experiment::notebook::{read_curve, read_log};
use crate::experiment::schema::UpdaterSpec;
use crate::train::eval::EvalMetrics;
use crate::train::trainer::IterationMetrics;
use crate::train::{Evaluation, Event, StopReason};

use super::console::Log;
use super::series::{log10, Series};
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

/// Iterations per second over the last few seconds of events.
#[derive(Default)]
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

/// One layer's curves: gradient norm and update:parameter ratio per iteration.
#[derive(Clone, Debug, Default)]
pub struct LayerCurves {
    pub name: String,
    pub grad_norm: Series,
    pub ratio: Series,
}

/// An exponential moving average of a series, extended as points arrive.
#[derive(Clone, Debug, Default)]
struct Smoothed {
    alpha: f64,
    /// Points of the source already averaged in.
    upto: usize,
    ema: f64,
    weight: f64,
    points: Vec<PlotPoint>,
}

impl Smoothed {
    /// The smoothed points of `source` with weight `alpha` on the past (recomputed when
    /// `alpha` changes or the source was cut back, else extended).
    fn update(&mut self, source: &Series, alpha: f64) -> &[PlotPoint] {
        let pts = source.points();
        if alpha != self.alpha || pts.len() < self.upto {
            *self = Smoothed {
                alpha,
                ..Smoothed::default()
            };
        }
        for p in &pts[self.upto..] {
            self.ema = alpha * self.ema + (1.0 - alpha) * p.y;
            self.weight = alpha * self.weight + (1.0 - alpha);
            self.points
                .push(PlotPoint::new(p.x, self.ema / self.weight));
        }
        self.upto = pts.len();
        &self.points
    }
}

/// Everything plotted for one run (the full history).
#[derive(Clone, Debug, Default)]
pub struct RunCurves {
    /// The run's name as the notebook lists it (`003`).
    pub name: String,
    pub score: Series,
    pub validation: Series,
    pub lr: Series,
    pub grad_norm: Series,
    pub layers: Vec<LayerCurves>,
    smoothed: Smoothed,
}

impl RunCurves {
    /// Empty curves for the run called `name`.
    pub fn named(name: &str) -> Self {
        RunCurves {
            name: name.to_string(),
            ..RunCurves::default()
        }
    }

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

    /// A finished run's curves from its folder's `metrics.csv` and `eval.csv`; `None`
    /// when it has no metrics log.
    pub fn read(folder: &Path, name: &str) -> Option<RunCurves> {
        let (header, rows) = read_log(&folder.join("metrics.csv"))?;
        let col = |n: &str| header.iter().position(|h| h == n);
        let (it, score) = (col("iteration")?, col("score")?);
        let mut c = RunCurves::named(name);
        let pairs = |k: Option<usize>| -> Series {
            k.map(|k| Series::from_pairs(rows.iter().map(|r| (r[it], r[k]))))
                .unwrap_or_default()
        };
        c.score = pairs(Some(score));
        c.lr = pairs(col("lr"));
        c.grad_norm = pairs(col("grad_norm"));
        for h in &header {
            if let Some(layer) = h.strip_suffix(".grad_norm") {
                c.layers.push(LayerCurves {
                    name: layer.to_string(),
                    grad_norm: pairs(col(h)),
                    ratio: pairs(col(&format!("{layer}.update_ratio"))),
                });
            }
        }
        c.validation = Series::from_pairs(
            read_curve(&folder.join("eval.csv"), "iteration", "score").unwrap_or_default(),
        );
        Some(c)
    }
}

/// The live run's figures that are not curves.
#[derive(Default)]
struct Live {
    /// The run folder (absolute), the key of its curves.
    folder: PathBuf,
    parameters: usize,
    max_iterations: u64,
    iteration: u64,
    epoch: u64,
    rate: RateMeter,
    tokens_per_s: f64,
    elapsed_s: f64,
    skipped: u64,
    validations: VecDeque<Evaluation>,
    samples: VecDeque<(u64, String)>,
}

/// The monitor's runtime state (nothing here is saved: runs are read back from their
/// folders).
pub struct Monitor {
    pub state: RunState,
    live: Live,
    /// Every run's curves seen this session, by run folder (absolute).
    runs: HashMap<PathBuf, RunCurves>,
    /// Run folders whose log could not be read (not retried every frame).
    unreadable: BTreeSet<PathBuf>,
    /// Run folders whose curves are drawn under the live (or shown) run's.
    pub overlay: BTreeSet<PathBuf>,
    /// Score on a log10 axis.
    pub log_scale: bool,
    /// Smoothing weight on the past, 0..0.99 (0: raw).
    pub smoothing: f64,
    /// The learning rate the schedule used last.
    lr: f64,
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
            live: Live::default(),
            runs: HashMap::new(),
            unreadable: BTreeSet::new(),
            overlay: BTreeSet::new(),
            log_scale: false,
            smoothing: 0.6,
            lr: 0.0,
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

/// Validation results and samples kept for display.
const KEEP_VALIDATIONS: usize = 50;
const KEEP_SAMPLES: usize = 8;

/// A line to draw on a chart.
struct ChartLine<'s> {
    name: String,
    points: &'s [PlotPoint],
    color: egui::Color32,
    width: f32,
    dashed: bool,
    /// Also mark each point (validation: few points).
    markers: bool,
}

impl Monitor {
    /// Starts following a run the session has just started: `name` as listed, its
    /// `folder` (absolute), base learning rate `lr`. The previous runs' curves are kept;
    /// the most recent one is overlaid (`previous`).
    pub fn begin(&mut self, name: &str, folder: PathBuf, lr: f64, previous: Option<PathBuf>) {
        self.state = RunState::Loading;
        self.lr = lr;
        self.lr_input = lr;
        self.setup = None;
        self.live = Live {
            folder: folder.clone(),
            ..Live::default()
        };
        self.runs.insert(folder, RunCurves::named(name));
        if let Some(p) = previous {
            self.overlay.insert(p);
        }
    }

    /// Forgets the live run (a new or opened notebook); kept curves stay cached.
    pub fn reset(&mut self) {
        self.state = RunState::Idle;
        self.live = Live::default();
        self.overlay.clear();
    }

    /// Applies the events the session took from the runner this frame.
    pub fn apply_events(&mut self, events: Vec<Event>, log: &mut Log) {
        for event in events {
            self.apply(event, log);
        }
    }

    fn live_curves(&mut self) -> &mut RunCurves {
        self.runs.entry(self.live.folder.clone()).or_default()
    }

    fn apply(&mut self, event: Event, log: &mut Log) {
        match event {
            Event::Started {
                parameters,
                max_iterations,
                run_dir,
                setup,
            } => {
                self.live.parameters = parameters;
                self.live.max_iterations = max_iterations;
                if let Some(dir) = run_dir {
                    if dir != self.live.folder && !self.live.folder.as_os_str().is_empty() {
                        if let Some(c) = self.runs.remove(&self.live.folder) {
                            self.runs.insert(dir.clone(), c);
                        }
                    }
                    self.live.folder = dir;
                }
                self.state = RunState::Running;
                self.blas = crate::threads::info().to_string();
                self.setup = Some(setup);
                log.event(format!(
                    "started: {parameters} parameters, up to {max_iterations} iterations"
                ));
            }
            Event::Iteration {
                metrics,
                tokens_per_s,
                elapsed_s,
                skipped,
            } => {
                self.live.iteration = metrics.iteration;
                self.live.epoch = metrics.epoch;
                self.lr = metrics.lr;
                self.live.tokens_per_s = tokens_per_s;
                self.live.elapsed_s = elapsed_s;
                self.live.skipped += skipped;
                self.live.rate.push(elapsed_s, metrics.iteration);
                self.live_curves().push(&metrics);
            }
            Event::Validation(ev) => {
                let (name, value) = ev.headline();
                log.event(format!(
                    "{} at iteration {}: score {:.4}, {name} {value:.4}",
                    ev.split, ev.iteration, ev.score
                ));
                self.live_curves()
                    .validation
                    .push(ev.iteration as f64, ev.score);
                if self.live.validations.len() == KEEP_VALIDATIONS {
                    self.live.validations.pop_front();
                }
                self.live.validations.push_back(ev);
            }
            Event::Sample { iteration, text } => {
                log.event(format!("sample at iteration {iteration}"));
                if self.live.samples.len() == KEEP_SAMPLES {
                    self.live.samples.pop_back();
                }
                self.live.samples.push_front((iteration, text));
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
                let how = match summary.stop_reason {
                    StopReason::Completed => "completed",
                    StopReason::EarlyStopped => "stopped early (no validation improvement)",
                    StopReason::Stopped if summary.error.is_some() => "failed",
                    StopReason::Stopped => "stopped",
                    StopReason::Diverged => "diverged",
                };
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
                // the last iterations' events may have been dropped (the window fell
                // behind); the summary has the count
                self.live.iteration = self.live.iteration.max(summary.iterations);
                self.blas = crate::threads::info().to_string();
            }
        }
    }

    /// Iterations completed in the current (or last) run.
    pub fn iteration(&self) -> u64 {
        self.live.iteration
    }

    /// The live (or last) run's folder.
    pub fn live_folder(&self) -> &Path {
        &self.live.folder
    }

    /// Points in the live run's training-score history (every iteration seen).
    pub fn score_points(&self) -> usize {
        self.runs
            .get(&self.live.folder)
            .map_or(0, |c| c.score.len())
    }

    /// The BLAS line shown in the status bar.
    pub fn blas(&self) -> &str {
        &self.blas
    }

    /// The curves of the run in `folder` (`name` as listed), read from its logs the
    /// first time; `None` when it has no readable metrics log.
    pub fn curves(&mut self, folder: &Path, name: &str) -> Option<&RunCurves> {
        if !self.runs.contains_key(folder) && !self.unreadable.contains(folder) {
            match RunCurves::read(folder, name) {
                Some(c) => {
                    self.runs.insert(folder.to_path_buf(), c);
                }
                None => {
                    self.unreadable.insert(folder.to_path_buf());
                }
            }
        }
        self.runs.get(folder)
    }

    /// Forgets a run's cached curves (its log is read again when next shown).
    pub fn forget(&mut self, folder: &Path) {
        if *folder != self.live.folder || !self.state.is_active() {
            self.runs.remove(folder);
            self.unreadable.remove(folder);
        }
    }

    /// Inserts curves for a run folder (tests and benchmarks fill long histories).
    pub fn insert_curves(&mut self, folder: PathBuf, curves: RunCurves) {
        self.runs.insert(folder, curves);
    }

    /// The live curves, mutable (benchmarks fill a long history).
    pub fn live_curves_mut(&mut self) -> &mut RunCurves {
        self.live_curves()
    }

    /// Train / Pause / Resume / Stop.
    pub fn controls_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let active = self.state.is_active();
        if ui
            .add_enabled(!active, egui::Button::new("Train"))
            .on_hover_text("Start training the experiment as it is now")
            .on_disabled_hover_text("A run is under way")
            .clicked()
        {
            actions.push(Action::Train);
        }
        if ui
            .add_enabled(self.state == RunState::Running, egui::Button::new("Pause"))
            .on_hover_text("Pause after the current iteration")
            .clicked()
        {
            actions.push(Action::Pause);
        }
        if ui
            .add_enabled(self.state == RunState::Paused, egui::Button::new("Resume"))
            .on_hover_text("Continue training")
            .clicked()
        {
            actions.push(Action::Resume);
        }
        if ui
            .add_enabled(active, egui::Button::new("Stop"))
            .on_hover_text("Stop after the current iteration; weights and summary are written")
            .clicked()
        {
            actions.push(Action::Stop);
        }
    }

    /// The live run's controls (learning rate, sample, evaluate, checkpoint) and its
    /// progress, tokens/s and ETA.
    fn live_controls_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let active = self.state.is_active();
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Learning rate");
            let slider = ui.add_enabled(
                active,
                egui::Slider::new(&mut self.lr_input, 1e-6..=1.0)
                    .logarithmic(true)
                    .custom_formatter(|v, _| format!("{v:.2e}"))
                    .custom_parser(|s| s.trim().parse().ok()),
            );
            slider
                .labelled_by(label.id)
                .on_hover_text("The base learning rate; applied from the next iteration");
            if ui
                .add_enabled(active, egui::Button::new("Set learning rate"))
                .on_hover_text("Send the new learning rate to the running trainer")
                .clicked()
            {
                actions.push(Action::SetLearningRate(self.lr_input));
            }
            ui.separator();
            if ui
                .add_enabled(active, egui::Button::new("Sample now"))
                .on_hover_text("Generate text (or predictions) from the current weights")
                .clicked()
            {
                actions.push(Action::SampleNow);
            }
            if ui
                .add_enabled(active, egui::Button::new("Evaluate now"))
                .on_hover_text("Run a validation pass now")
                .clicked()
            {
                actions.push(Action::EvaluateNow);
            }
            if ui
                .add_enabled(active, egui::Button::new("Checkpoint now"))
                .on_hover_text("Write a checkpoint into the run folder now")
                .clicked()
            {
                actions.push(Action::CheckpointNow);
            }
        });
        let l = &self.live;
        if l.max_iterations > 0 {
            let fraction = l.iteration as f32 / l.max_iterations as f32;
            let its = l.rate.per_second().unwrap_or(0.0);
            let eta = if its > 0.0 && l.iteration < l.max_iterations {
                format!(
                    " · ETA {}",
                    duration((l.max_iterations - l.iteration) as f64 / its)
                )
            } else {
                String::new()
            };
            ui.add(
                egui::ProgressBar::new(fraction.min(1.0))
                    .text(format!(
                        "iteration {} of {} · epoch {} · {} tokens/s · lr {:.2e}{eta}",
                        l.iteration,
                        l.max_iterations,
                        l.epoch,
                        human(l.tokens_per_s),
                        self.lr
                    ))
                    .desired_height(16.0),
            );
        }
    }

    /// The chart options: log scale and smoothing.
    fn options_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.log_scale, "Log scale")
                .on_hover_text("Draw the score on a log10 axis");
            let label = ui.label("Smoothing");
            ui.add(egui::Slider::new(&mut self.smoothing, 0.0..=0.99).fixed_decimals(2))
                .labelled_by(label.id)
                .on_hover_text(
                    "Exponential moving average of the training score (weight on the past); \
                     the raw curve stays drawn faintly",
                );
        });
    }

    /// The live monitor: controls, progress and the charts (`id` keeps two copies of it
    /// apart: the one in the `train` cell and the pinned one). `height` is the charts'
    /// total height.
    pub fn live_ui(&mut self, ui: &mut egui::Ui, id: &str, height: f32, actions: &mut Vec<Action>) {
        self.live_controls_ui(ui, actions);
        self.options_ui(ui);
        let folder = self.live.folder.clone();
        self.charts_ui(ui, id, &folder, height);
        if !self.live.validations.is_empty() || !self.live.samples.is_empty() {
            ui.columns(2, |cols| {
                self.validation_ui(&mut cols[0], id);
                self.samples_ui(&mut cols[1], id);
            });
        }
    }

    /// A finished run's charts (its record), with the overlay and chart options.
    pub fn record_ui(
        &mut self,
        ui: &mut egui::Ui,
        id: &str,
        folder: &Path,
        name: &str,
        height: f32,
    ) {
        if self.curves(folder, name).is_none() {
            ui.weak(format!(
                "run {name}: no metrics log in {} (the folder is missing or the run wrote no iteration)",
                folder.display()
            ));
            return;
        }
        self.options_ui(ui);
        self.charts_ui(ui, id, folder, height);
    }

    /// The four charts of the run in `folder` with the overlaid runs.
    fn charts_ui(&mut self, ui: &mut egui::Ui, id: &str, folder: &Path, height: f32) {
        // overlaid runs' curves, read from their logs the first time
        let overlay: Vec<PathBuf> = self
            .overlay
            .iter()
            .filter(|p| p.as_path() != folder)
            .cloned()
            .collect();
        for p in &overlay {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            self.curves(p, &name);
        }
        let alpha = self.smoothing;
        let log_scale = self.log_scale;
        let Some(main) = self.runs.get_mut(folder) else {
            ui.weak("No iteration yet.");
            return;
        };
        main.smoothed.update(&main.score, alpha);
        let main = &self.runs[folder];
        let smoothed = &main.smoothed.points;
        let cache = &mut self.decimated;
        let others: Vec<&RunCurves> = overlay.iter().filter_map(|p| self.runs.get(p)).collect();
        let plot_h = ((height - 2.0 * 24.0) / 2.0).max(100.0);

        ui.columns(2, |cols| {
            // score
            let mut lines = Vec::new();
            for (k, o) in others.iter().enumerate() {
                let c = OVERLAY_COLORS[k % OVERLAY_COLORS.len()];
                lines.push(ChartLine {
                    name: format!("run {} training", o.name),
                    points: o.score.points(),
                    color: c.gamma_multiply(0.8),
                    width: 1.0,
                    dashed: false,
                    markers: false,
                });
                if !o.validation.is_empty() {
                    lines.push(ChartLine {
                        name: format!("run {} validation", o.name),
                        points: o.validation.points(),
                        color: c,
                        width: 1.0,
                        dashed: true,
                        markers: false,
                    });
                }
            }
            let raw_faint = alpha > 0.0;
            lines.push(ChartLine {
                name: format!("run {} training", main.name),
                points: main.score.points(),
                color: if raw_faint {
                    TRAIN_COLOR.gamma_multiply(0.3)
                } else {
                    TRAIN_COLOR
                },
                width: 1.0,
                dashed: false,
                markers: false,
            });
            if raw_faint {
                lines.push(ChartLine {
                    name: format!("run {} training (smoothed)", main.name),
                    points: smoothed,
                    color: TRAIN_COLOR,
                    width: 2.0,
                    dashed: false,
                    markers: false,
                });
            }
            if !main.validation.is_empty() {
                lines.push(ChartLine {
                    name: format!("run {} validation", main.name),
                    points: main.validation.points(),
                    color: VALIDATION_COLOR,
                    width: 1.5,
                    dashed: true,
                    markers: true,
                });
            }
            let last = main
                .score
                .last()
                .map(|s| format!(" — {s:.4}"))
                .unwrap_or_default();
            chart_ui(
                cache,
                &mut cols[0],
                &format!("{id}_score"),
                &format!("Score{last}"),
                &format!(
                    "Training loss per iteration (raw faint, smoothed bold) and the validation \
                     score; {} points kept, drawn decimated to the plot's width",
                    main.score.len()
                ),
                plot_h,
                log_scale,
                None,
                lines,
            );

            // learning rate
            let mut lines = vec![ChartLine {
                name: format!("run {} learning rate", main.name),
                points: main.lr.points(),
                color: LR_COLOR,
                width: 1.5,
                dashed: false,
                markers: false,
            }];
            for (k, o) in others.iter().enumerate() {
                lines.push(ChartLine {
                    name: format!("run {} learning rate", o.name),
                    points: o.lr.points(),
                    color: OVERLAY_COLORS[k % OVERLAY_COLORS.len()],
                    width: 1.0,
                    dashed: true,
                    markers: false,
                });
            }
            chart_ui(
                cache,
                &mut cols[1],
                &format!("{id}_lr"),
                "Learning rate",
                "The learning rate the schedule gave each iteration (live changes included)",
                plot_h,
                true,
                None,
                lines,
            );
        });
        ui.columns(2, |cols| {
            let layer_lines = |series: fn(&LayerCurves) -> &Series| -> Vec<ChartLine<'_>> {
                main.layers
                    .iter()
                    .enumerate()
                    .map(|(k, l)| ChartLine {
                        name: l.name.clone(),
                        points: series(l).points(),
                        color: layer_color(k),
                        width: 1.2,
                        dashed: false,
                        markers: false,
                    })
                    .collect()
            };
            let mut grad = layer_lines(|l| &l.grad_norm);
            grad.push(ChartLine {
                name: "all layers".into(),
                points: main.grad_norm.points(),
                color: egui::Color32::GRAY,
                width: 1.0,
                dashed: true,
                markers: false,
            });
            chart_ui(
                cache,
                &mut cols[0],
                &format!("{id}_grad"),
                "Gradient norm per layer (log scale)",
                "L2 norm of each layer's gradients before clipping; dashed: all layers",
                plot_h,
                true,
                None,
                grad,
            );
            chart_ui(
                cache,
                &mut cols[1],
                &format!("{id}_ratio"),
                "Update : parameter ratio per layer (log scale)",
                "|update| / |parameters| per layer each iteration; around 1e-3 is healthy \
                 (much lower: learning too slowly, much higher: unstable)",
                plot_h,
                true,
                Some(1e-3),
                layer_lines(|l| &l.ratio),
            );
        });
    }

    fn validation_ui(&self, ui: &mut egui::Ui, id: &str) {
        ui.strong("Validation")
            .on_hover_text("Evaluations on the held-out data, newest first");
        let Some(latest) = self.live.validations.back() else {
            ui.weak("No evaluation yet.");
            return;
        };
        latest_evaluation_ui(ui, latest);
        egui::ScrollArea::vertical()
            .id_salt(format!("{id}_validation_scroll"))
            .max_height(120.0)
            .show(ui, |ui| {
                egui::Grid::new(format!("{id}_validation_grid"))
                    .striped(true)
                    .num_columns(3)
                    .show(ui, |ui| {
                        let (name, _) = latest.headline();
                        ui.weak("iteration");
                        ui.weak("score");
                        ui.weak(name);
                        ui.end_row();
                        for ev in self.live.validations.iter().rev().take(20) {
                            ui.monospace(ev.iteration.to_string());
                            ui.monospace(format!("{:.4}", ev.score));
                            ui.monospace(format!("{:.4}", ev.headline().1));
                            ui.end_row();
                        }
                    });
            });
    }

    fn samples_ui(&self, ui: &mut egui::Ui, id: &str) {
        ui.strong("Latest samples")
            .on_hover_text("Text generated from the model during training, newest first");
        egui::ScrollArea::vertical()
            .id_salt(format!("{id}_samples_scroll"))
            .max_height(140.0)
            .show(ui, |ui| {
                if self.live.samples.is_empty() {
                    ui.weak("No sample yet (see sampling.every in the experiment, or Sample now).");
                }
                for (iteration, text) in &self.live.samples {
                    ui.horizontal_wrapped(|ui| {
                        ui.weak(format!("{iteration:>6}"));
                        ui.monospace(text.replace('\n', " ¶ "));
                    });
                }
            });
    }

    /// The status line: state, progress, speed, ETA, BLAS.
    pub fn status_ui(&self, ui: &mut egui::Ui) {
        let (text, color) = match &self.state {
            RunState::Idle => ("idle".to_string(), ui.visuals().weak_text_color()),
            RunState::Loading => ("loading data".into(), egui::Color32::from_rgb(200, 160, 60)),
            RunState::Running => ("running".into(), egui::Color32::from_rgb(90, 180, 90)),
            RunState::Paused => ("paused".into(), egui::Color32::from_rgb(200, 160, 60)),
            RunState::Finished(how) => (how.clone(), ui.visuals().text_color()),
        };
        let (dot, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), egui::Sense::hover());
        ui.painter().circle_filled(dot.center(), 4.0, color);
        ui.label(egui::RichText::new(text).color(color));
        let l = &self.live;
        if self.state != RunState::Idle {
            ui.separator();
            ui.label(format!("iteration {} / {}", l.iteration, l.max_iterations));
            ui.separator();
            let its = l.rate.per_second().unwrap_or(0.0);
            ui.label(format!("{its:.1} iterations/s"));
            ui.separator();
            ui.label(format!("{} tokens/s", human(l.tokens_per_s)));
            if self.state.is_active() && its > 0.0 && l.iteration < l.max_iterations {
                ui.separator();
                ui.label(format!(
                    "ETA {}",
                    duration((l.max_iterations - l.iteration) as f64 / its)
                ))
                .on_hover_text("At the speed of the last few seconds");
            }
            if l.parameters > 0 {
                ui.separator();
                ui.label(format!("{} parameters", human(l.parameters as f64)));
            }
            if l.skipped > 0 {
                ui.separator();
                ui.weak(format!("{} metrics rows not plotted", l.skipped))
                    .on_hover_text("The window fell behind; every row is still in metrics.csv");
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            match &self.setup {
                Some(setup) => ui
                    .label(format!("run setup: {setup}"))
                    .on_hover_text("The BLAS kernel and threads this run used"),
                None => ui
                    .label(format!("BLAS: {}", self.blas))
                    .on_hover_text("The BLAS library, its kernel and thread count"),
            };
            if !l.folder.as_os_str().is_empty() {
                ui.separator();
                // elided when the line is full, rather than drawn over the figures
                let text = egui::RichText::new(l.folder.display().to_string()).weak();
                ui.add(egui::Label::new(text).truncate())
                    .on_hover_text(format!("This run's folder: {}", l.folder.display()));
            }
        });
    }
}

/// One chart: `lines` decimated to the plot's pixel columns over the visible x range,
/// on a log10 y axis when `log_y` (non-positive values left out), with a dashed guide
/// at `guide` (in data units).
#[allow(clippy::too_many_arguments)]
fn chart_ui(
    cache: &mut DecimationCache,
    ui: &mut egui::Ui,
    id: &str,
    title: &str,
    hover: &str,
    height: f32,
    log_y: bool,
    guide: Option<f64>,
    lines: Vec<ChartLine<'_>>,
) {
    ui.strong(title).on_hover_text(hover);
    let mut plot = Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .x_axis_label("iteration")
        .allow_scroll(false);
    if log_y {
        // whole decades around the data, so a flat line (a constant learning rate) still
        // has decade marks to label instead of a sliver of one
        let logs = lines
            .iter()
            .flat_map(|l| l.points.iter())
            .map(|p| p.y)
            .filter(|y| y.is_finite() && *y > 0.0)
            .map(f64::log10);
        let (lo, hi) = logs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
        if lo.is_finite() && hi.is_finite() {
            plot = plot
                .include_y(lo.floor())
                .include_y(hi.ceil().max(lo.floor() + 1.0));
        }
        plot = plot
            .y_axis_formatter(|mark, _| format!("1e{:.0}", mark.value))
            .y_grid_spacer(egui_plot::log_grid_spacer(10))
            .label_formatter(|hover| match hover {
                egui_plot::HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => Some(format!(
                    "{plot_name}\niteration {:.0}: {:.3e}",
                    position.x,
                    10f64.powf(position.y)
                )),
                _ => None,
            });
    }
    plot.show(ui, |plot| {
        let bounds = plot.plot_bounds();
        let range = (!plot.auto_bounds().x).then(|| (bounds.min()[0], bounds.max()[0]));
        let columns = plot.transform().frame().width().max(50.0) as usize;
        if let Some(g) = guide {
            let y = if log_y { g.log10() } else { g };
            plot.add(
                HLine::new(format!("{g:e}"), y)
                    .style(LineStyle::dashed_loose())
                    .color(egui::Color32::GRAY),
            );
        }
        for l in lines {
            let pts = cache.get(&format!("{id}/{}", l.name), l.points, range, columns, log_y);
            if l.markers {
                plot.add(
                    Points::new(l.name.clone(), PlotPoints::Owned(pts.clone()))
                        .color(l.color)
                        .radius(3.0),
                );
            }
            let mut line = Line::new(l.name, PlotPoints::Owned(pts))
                .color(l.color)
                .width(l.width);
            if l.dashed {
                line = line.style(LineStyle::dashed_dense());
            }
            plot.line(line);
        }
    });
}

/// The decimated points of each chart line, kept while the line, the visible x range
/// and the plot's width stay the same: a frame then only copies them, and a long
/// overlaid run costs nothing after its first frame.
#[derive(Default)]
struct DecimationCache {
    /// `chart/line` -> (points in the source, first point's x, range, columns, log
    /// scale, the points to draw)
    lines: HashMap<String, DecimatedLine>,
}

type DecimatedLine = (usize, f64, Option<(f64, f64)>, usize, bool, Vec<PlotPoint>);

impl DecimationCache {
    fn get(
        &mut self,
        key: &str,
        points: &[PlotPoint],
        range: Option<(f64, f64)>,
        columns: usize,
        log_y: bool,
    ) -> Vec<PlotPoint> {
        let first = points.first().map_or(f64::NAN, |p| p.x);
        if let Some((n, x0, r, c, l, pts)) = self.lines.get(key) {
            if *n == points.len()
                && (x0.to_bits() == first.to_bits())
                && *r == range
                && *c == columns
                && *l == log_y
            {
                return pts.clone();
            }
        }
        let mut pts = super::series::decimate(points, range, columns);
        if log_y {
            pts = pts.into_iter().filter_map(log10).collect();
        }
        self.lines.insert(
            key.to_string(),
            (points.len(), first, range, columns, log_y, pts.clone()),
        );
        pts
    }
}

/// A colour per layer.
fn layer_color(k: usize) -> egui::Color32 {
    const C: [egui::Color32; 6] = [
        egui::Color32::from_rgb(90, 160, 230),
        egui::Color32::from_rgb(240, 160, 60),
        egui::Color32::from_rgb(120, 190, 120),
        egui::Color32::from_rgb(200, 110, 200),
        egui::Color32::from_rgb(220, 100, 100),
        egui::Color32::from_rgb(120, 200, 190),
    ];
    C[k % C.len()]
}

fn latest_evaluation_ui(ui: &mut egui::Ui, ev: &Evaluation) {
    ui.label(format!(
        "{} at iteration {}: score {:.4} over {} positions",
        ev.split, ev.iteration, ev.score, ev.positions
    ));
    match &ev.metrics {
        EvalMetrics::Classification {
            accuracy, macro_f1, ..
        } => {
            ui.label(format!(
                "accuracy {:.2}% · macro F1 {:.3}",
                accuracy * 100.0,
                macro_f1
            ));
        }
        EvalMetrics::Regression { mse, mae, r2 } => {
            ui.label(format!("MSE {mse:.4} · MAE {mae:.4} · R² {r2:.3}"));
        }
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
        let c = RunCurves::read(&dir, "001").unwrap();
        assert_eq!(c.score.len(), 2, "the torn last row is skipped");
        assert_eq!(c.layers.len(), 2);
        assert_eq!(c.layers[0].name, "l0");
        assert_eq!(c.layers[1].ratio.points()[1].y, 0.0015);
        assert_eq!(c.validation.points()[0].y, 1.7);
        assert_eq!(c.lr.last(), Some(0.01));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn smoothing_is_bias_corrected_and_extends_as_points_arrive() {
        let mut s = Series::default();
        for i in 0..10 {
            s.push(i as f64, 2.0);
        }
        let mut sm = Smoothed::default();
        for p in sm.update(&s, 0.9) {
            assert!((p.y - 2.0).abs() < 1e-12);
        }
        let mut step = Series::default();
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
        assert!(pts[50].y > 0.0 && pts[50].y < 0.2);
        assert!(pts[99].y > 0.99);
        // a new weight recomputes from the start
        assert_eq!(sm.update(&step, 0.0)[60].y, 1.0);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(125.0), "2 min 05 s");
        assert_eq!(duration(3725.0), "1 h 02 min");
    }
}
