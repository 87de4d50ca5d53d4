//! The training panel: run controls, the live learning rate, live plots (score, global
//! gradient norm, per-layer update:parameter ratios), validation results, generated
//! samples, and the status line.
//!
//! It talks to the trainer only through the session's runner: commands out (as command
//! lines), [`Event`]s in, handed over once per frame in [`TrainPanel::apply_events`];
//! nothing here waits or computes anything heavier than a running mean.

use eframe::egui;
use std::collections::VecDeque;
use std::path::PathBuf;

use egui_plot::{HLine, Legend, Line, LineStyle, Plot, PlotPoints, Points};

use crate::experiment::schema::UpdaterSpec;
use crate::train::eval::EvalMetrics;
use crate::train::{Evaluation, Event, StopReason};

use super::console::Log;
use super::series::Series;
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

/// One layer's update:parameter ratio history (log10 of the ratio).
struct LayerRatio {
    name: String,
    log_ratio: Series,
}

/// The training panel's runtime state (nothing here is saved).
pub struct TrainPanel {
    pub state: RunState,
    run_dir: Option<PathBuf>,
    parameters: usize,
    max_iterations: u64,
    iteration: u64,
    epoch: u64,
    /// The learning rate the schedule used last.
    lr: f64,
    /// The live learning-rate control.
    lr_input: f64,
    score: Series,
    validation_score: Series,
    grad_norm: Series,
    ratios: Vec<LayerRatio>,
    rate: RateMeter,
    tokens_per_s: f64,
    skipped: u64,
    validations: VecDeque<Evaluation>,
    samples: VecDeque<(u64, String)>,
    /// `OpenBLAS 0.3.21 kernel SkylakeX, 2 threads`
    blas: String,
}

impl Default for TrainPanel {
    fn default() -> Self {
        TrainPanel {
            state: RunState::Idle,
            run_dir: None,
            parameters: 0,
            max_iterations: 0,
            iteration: 0,
            epoch: 0,
            lr: 0.0,
            lr_input: 1e-3,
            score: Series::default(),
            validation_score: Series::default(),
            grad_norm: Series::default(),
            ratios: Vec::new(),
            rate: RateMeter::default(),
            tokens_per_s: 0.0,
            skipped: 0,
            validations: VecDeque::new(),
            samples: VecDeque::new(),
            blas: crate::threads::info().to_string(),
        }
    }
}

const TRAIN_COLOR: egui::Color32 = egui::Color32::from_rgb(90, 160, 230);
const VALIDATION_COLOR: egui::Color32 = egui::Color32::from_rgb(240, 160, 60);
const GRAD_COLOR: egui::Color32 = egui::Color32::from_rgb(170, 130, 220);

/// Validation results and samples kept for display.
const KEEP_VALIDATIONS: usize = 50;
const KEEP_SAMPLES: usize = 8;

impl TrainPanel {
    /// Clears the plots for a run the session has just started (with base learning rate
    /// `lr`); its events arrive through [`TrainPanel::apply_events`].
    pub fn begin(&mut self, lr: f64) {
        *self = TrainPanel {
            state: RunState::Loading,
            lr,
            lr_input: lr,
            blas: std::mem::take(&mut self.blas),
            ..TrainPanel::default()
        };
    }

    /// Applies the events the session took from the runner this frame.
    pub fn apply_events(&mut self, events: Vec<Event>, log: &mut Log) {
        for event in events {
            self.apply(event, log);
        }
    }

    fn apply(&mut self, event: Event, log: &mut Log) {
        match event {
            Event::Started {
                parameters,
                max_iterations,
                run_dir,
                setup,
            } => {
                self.parameters = parameters;
                self.max_iterations = max_iterations;
                self.run_dir = run_dir;
                self.state = RunState::Running;
                self.blas = setup;
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
                let x = metrics.iteration as f64;
                self.iteration = metrics.iteration;
                self.epoch = metrics.epoch;
                self.lr = metrics.lr;
                self.tokens_per_s = tokens_per_s;
                self.skipped += skipped;
                self.rate.push(elapsed_s, metrics.iteration);
                self.score.push(x, metrics.score);
                self.grad_norm.push(x, metrics.global_grad_norm);
                for (k, layer) in metrics.layers.iter().enumerate() {
                    if self.ratios.len() <= k {
                        self.ratios.push(LayerRatio {
                            name: layer.name.clone(),
                            log_ratio: Series::default(),
                        });
                    }
                    if layer.ratio > 0.0 {
                        self.ratios[k].log_ratio.push(x, layer.ratio.log10());
                    }
                }
            }
            Event::Validation(ev) => {
                let (name, value) = ev.headline();
                log.event(format!(
                    "{} at iteration {}: score {:.4}, {name} {value:.4}",
                    ev.split, ev.iteration, ev.score
                ));
                self.validation_score.push(ev.iteration as f64, ev.score);
                if self.validations.len() == KEEP_VALIDATIONS {
                    self.validations.pop_front();
                }
                self.validations.push_back(ev);
            }
            Event::Sample { iteration, text } => {
                log.event(format!("sample at iteration {iteration}"));
                if self.samples.len() == KEEP_SAMPLES {
                    self.samples.pop_back();
                }
                self.samples.push_front((iteration, text));
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
                self.blas = crate::threads::info().to_string();
            }
        }
    }

    /// Iterations completed in the current (or last) run.
    pub fn iteration(&self) -> u64 {
        self.iteration
    }

    /// Points on the score plot.
    pub fn score_points(&self) -> usize {
        self.score.points().len()
    }

    /// The BLAS line shown in the status bar.
    pub fn blas(&self) -> &str {
        &self.blas
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

    /// The live controls and the plots.
    pub fn ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        let active = self.state.is_active();
        ui.horizontal(|ui| {
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
        if self.max_iterations > 0 {
            let fraction = self.iteration as f32 / self.max_iterations as f32;
            ui.add(
                egui::ProgressBar::new(fraction.min(1.0))
                    .text(format!(
                        "iteration {} of {} · epoch {}",
                        self.iteration, self.max_iterations, self.epoch
                    ))
                    .desired_height(16.0),
            );
        }
        ui.add_space(4.0);

        let spacing = ui.spacing().item_spacing.y;
        let text_h = 150.0_f32.min(ui.available_height() * 0.3);
        let plot_h = ((ui.available_height() - text_h - 4.0 * spacing - 40.0) / 2.0).max(120.0);
        ui.columns(2, |cols| {
            self.score_plot_ui(&mut cols[0], plot_h);
            self.grad_norm_plot_ui(&mut cols[1], plot_h);
        });
        ui.columns(2, |cols| {
            self.ratio_plot_ui(&mut cols[0], plot_h);
            self.validation_ui(&mut cols[1], plot_h);
        });
        ui.separator();
        self.samples_ui(ui);
    }

    fn score_plot_ui(&self, ui: &mut egui::Ui, height: f32) {
        let last = self
            .score
            .last()
            .map(|s| format!(" — {s:.4}"))
            .unwrap_or_default();
        ui.strong(format!("Score{last}")).on_hover_text(format!(
            "Training loss per iteration (mean over the minibatch; {} iterations, {} points \
             drawn) and the validation score",
            self.score.pushed(),
            self.score.points().len()
        ));
        Plot::new("score_plot")
            .height(height)
            .legend(Legend::default())
            .x_axis_label("iteration")
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(
                    Line::new("train", PlotPoints::Borrowed(self.score.points()))
                        .color(TRAIN_COLOR),
                );
                if !self.validation_score.is_empty() {
                    plot.line(
                        Line::new(
                            "validation",
                            PlotPoints::Borrowed(self.validation_score.points()),
                        )
                        .color(VALIDATION_COLOR)
                        .style(LineStyle::dashed_dense()),
                    );
                    plot.add(
                        Points::new(
                            "validation",
                            PlotPoints::Borrowed(self.validation_score.points()),
                        )
                        .color(VALIDATION_COLOR)
                        .radius(3.5),
                    );
                }
            });
    }

    fn grad_norm_plot_ui(&self, ui: &mut egui::Ui, height: f32) {
        let last = self
            .grad_norm
            .last()
            .map(|s| format!(" — {s:.3}"))
            .unwrap_or_default();
        ui.strong(format!("Global gradient norm{last}"))
            .on_hover_text("L2 norm of all gradients before clipping");
        Plot::new("grad_norm_plot")
            .height(height)
            .x_axis_label("iteration")
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.line(
                    Line::new(
                        "gradient norm",
                        PlotPoints::Borrowed(self.grad_norm.points()),
                    )
                    .color(GRAD_COLOR),
                );
            });
    }

    fn ratio_plot_ui(&self, ui: &mut egui::Ui, height: f32) {
        ui.strong("Update : parameter ratio per layer (log scale)")
            .on_hover_text(
                "|update| / |parameters| per layer each iteration; around 1e-3 is healthy \
                 (much lower: learning too slowly, much higher: unstable)",
            );
        Plot::new("ratio_plot")
            .height(height)
            .legend(Legend::default())
            .x_axis_label("iteration")
            .y_axis_formatter(|mark, _| format!("1e{:.0}", mark.value))
            .y_grid_spacer(egui_plot::log_grid_spacer(10))
            .label_formatter(|hover| match hover {
                egui_plot::HoverPosition::NearDataPoint {
                    plot_name,
                    position,
                    ..
                } => Some(format!(
                    "{plot_name}\niteration {:.0}: {:.2e}",
                    position.x,
                    10f64.powf(position.y)
                )),
                _ => None,
            })
            .allow_scroll(false)
            .show(ui, |plot| {
                plot.add(
                    HLine::new("1e-3", -3.0)
                        .style(LineStyle::dashed_loose())
                        .color(egui::Color32::GRAY),
                );
                for layer in &self.ratios {
                    plot.line(Line::new(
                        layer.name.clone(),
                        PlotPoints::Borrowed(layer.log_ratio.points()),
                    ));
                }
            });
    }

    fn validation_ui(&self, ui: &mut egui::Ui, height: f32) {
        ui.strong("Validation")
            .on_hover_text("Evaluations on the held-out data, newest first");
        egui::ScrollArea::vertical()
            .id_salt("validation_scroll")
            .max_height(height)
            .auto_shrink([false, false])
            .show(ui, |ui| {
                let Some(latest) = self.validations.back() else {
                    ui.weak("No evaluation yet.");
                    return;
                };
                latest_evaluation_ui(ui, latest);
                ui.add_space(6.0);
                egui::Grid::new("validation_grid")
                    .striped(true)
                    .num_columns(3)
                    .show(ui, |ui| {
                        let (name, _) = latest.headline();
                        ui.weak("iteration");
                        ui.weak("score");
                        ui.weak(name);
                        ui.end_row();
                        for ev in self.validations.iter().rev().take(20) {
                            ui.monospace(ev.iteration.to_string());
                            ui.monospace(format!("{:.4}", ev.score));
                            ui.monospace(format!("{:.4}", ev.headline().1));
                            ui.end_row();
                        }
                    });
            });
    }

    fn samples_ui(&self, ui: &mut egui::Ui) {
        ui.strong("Latest samples")
            .on_hover_text("Text generated from the model during training, newest first");
        egui::ScrollArea::vertical()
            .id_salt("samples_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                if self.samples.is_empty() {
                    ui.weak("No sample yet (see sampling.every in the experiment, or Sample now).");
                }
                for (iteration, text) in &self.samples {
                    ui.horizontal_wrapped(|ui| {
                        ui.weak(format!("{iteration:>6}"));
                        ui.monospace(text.replace('\n', " ¶ "));
                    });
                }
            });
    }

    /// The status line: state, progress, speed, BLAS.
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
        if self.state != RunState::Idle {
            ui.separator();
            ui.label(format!(
                "iteration {} / {}",
                self.iteration, self.max_iterations
            ));
            ui.separator();
            let its = self.rate.per_second().unwrap_or(0.0);
            ui.label(format!("{its:.1} iterations/s"));
            ui.separator();
            ui.label(format!("{} tokens/s", human(self.tokens_per_s)));
            if self.parameters > 0 {
                ui.separator();
                ui.label(format!("{} parameters", human(self.parameters as f64)));
            }
            if self.skipped > 0 {
                ui.separator();
                ui.weak(format!("{} metrics rows not plotted", self.skipped))
                    .on_hover_text("The window fell behind; every row is still in metrics.csv");
            }
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.label(format!("BLAS: {}", self.blas))
                .on_hover_text("The BLAS library, its kernel and thread count");
            if let Some(dir) = &self.run_dir {
                ui.separator();
                // elided when the line is full, rather than drawn over the figures
                let text = egui::RichText::new(dir.display().to_string()).weak();
                ui.add(egui::Label::new(text).truncate())
                    .on_hover_text(format!("This run's folder: {}", dir.display()));
            }
        });
    }
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
fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The learning rate an updater starts with.
pub fn updater_lr(updater: &UpdaterSpec) -> f64 {
    updater.lr()
}
