//! The monitor's drawing: the run controls, the live view, a finished run's record, the
//! charts (decimated for drawing, cached) and the status line.

use super::*;

impl Monitor {
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
    pub(super) fn live_controls_ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
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
        let Some(live) = self.live_view() else {
            return;
        };
        let l = view::read(&live);
        if l.max_iterations > 0 {
            let fraction = l.iteration as f32 / l.max_iterations as f32;
            let its = l.per_second().unwrap_or(0.0);
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
                        l.lr
                    ))
                    .desired_height(16.0),
            );
        }
    }

    /// The chart options: log scale and smoothing.
    pub(super) fn options_ui(&mut self, ui: &mut egui::Ui) {
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
        let folder = self.live.clone();
        self.charts_ui(ui, id, &folder, height);
        let Some(live) = self.live_view() else {
            return;
        };
        let l = view::read(&live);
        if !l.validations.is_empty() || !l.samples.is_empty() {
            ui.columns(2, |cols| {
                validation_ui(&mut cols[0], id, &l);
                samples_ui(&mut cols[1], id, &l);
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
    pub(super) fn charts_ui(&mut self, ui: &mut egui::Ui, id: &str, folder: &Path, height: f32) {
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
        let Some(main_view) = self.runs.get(folder).cloned() else {
            ui.weak("No iteration yet.");
            return;
        };
        // the views are read for this frame only (the training thread never waits for
        // them: it applies its events when no frame is reading)
        let main = view::read(&main_view);
        let smoothed = self.smoothed.entry(folder.to_path_buf()).or_default();
        let smoothed = smoothed.update(&main.curves.score, alpha);
        let cache = &mut self.decimated;
        let other_views: Vec<SharedView> = overlay
            .iter()
            .filter_map(|p| self.runs.get(p).cloned())
            .collect();
        let others: Vec<_> = other_views.iter().map(view::read).collect();
        let plot_h = ((height - 2.0 * 24.0) / 2.0).max(100.0);

        ui.columns(2, |cols| {
            // score
            let mut lines = Vec::new();
            for (k, o) in others.iter().enumerate() {
                let c = OVERLAY_COLORS[k % OVERLAY_COLORS.len()];
                lines.push(ChartLine {
                    name: format!("run {} training", o.name),
                    points: o.curves.score.points(),
                    color: c.gamma_multiply(0.8),
                    width: 1.0,
                    dashed: false,
                    markers: false,
                });
                if !o.curves.validation.is_empty() {
                    lines.push(ChartLine {
                        name: format!("run {} validation", o.name),
                        points: o.curves.validation.points(),
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
                points: main.curves.score.points(),
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
            if !main.curves.validation.is_empty() {
                lines.push(ChartLine {
                    name: format!("run {} validation", main.name),
                    points: main.curves.validation.points(),
                    color: VALIDATION_COLOR,
                    width: 1.5,
                    dashed: true,
                    markers: true,
                });
            }
            let last = main
                .curves
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
                    main.curves.score.len()
                ),
                plot_h,
                log_scale,
                None,
                lines,
            );

            // learning rate
            let mut lines = vec![ChartLine {
                name: format!("run {} learning rate", main.name),
                points: main.curves.lr.points(),
                color: LR_COLOR,
                width: 1.5,
                dashed: false,
                markers: false,
            }];
            for (k, o) in others.iter().enumerate() {
                lines.push(ChartLine {
                    name: format!("run {} learning rate", o.name),
                    points: o.curves.lr.points(),
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
            let layer_lines = |series: fn(&LayerCurves) -> &Curve| -> Vec<ChartLine<'_>> {
                main.curves
                    .layers
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
                points: main.curves.grad_norm.points(),
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
        let live = self.live_view();
        let guard = live.as_ref().map(view::read);
        let empty = RunView::default();
        let l: &RunView = guard.as_deref().unwrap_or(&empty);
        if self.state != RunState::Idle {
            ui.separator();
            ui.label(format!("iteration {} / {}", l.iteration, l.max_iterations));
            ui.separator();
            let its = l.per_second().unwrap_or(0.0);
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

/// The live run's validations, newest first.
pub(super) fn validation_ui(ui: &mut egui::Ui, id: &str, l: &RunView) {
    ui.strong("Validation")
        .on_hover_text("Evaluations on the held-out data, newest first");
    let Some(latest) = l.validations.back() else {
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
                    for ev in l.validations.iter().rev().take(20) {
                        ui.monospace(ev.iteration.to_string());
                        ui.monospace(format!("{:.4}", ev.score));
                        ui.monospace(format!("{:.4}", ev.headline().1));
                        ui.end_row();
                    }
                });
        });
}

/// The live run's samples, newest first.
pub(super) fn samples_ui(ui: &mut egui::Ui, id: &str, l: &RunView) {
    ui.strong("Latest samples")
        .on_hover_text("Text generated from the model during training, newest first");
    egui::ScrollArea::vertical()
        .id_salt(format!("{id}_samples_scroll"))
        .max_height(140.0)
        .show(ui, |ui| {
            if l.samples.is_empty() {
                ui.weak("No sample yet (see sampling.every in the experiment, or Sample now).");
            }
            for (iteration, text) in &l.samples {
                ui.horizontal_wrapped(|ui| {
                    ui.weak(format!("{iteration:>6}"));
                    ui.monospace(text.replace('\n', " ¶ "));
                });
            }
        });
}

/// One chart: `lines` decimated to the plot's pixel columns over the visible x range,
/// on a log10 y axis when `log_y` (non-positive values left out), with a dashed guide
/// at `guide` (in data units).
#[allow(clippy::too_many_arguments)]
pub(super) fn chart_ui(
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
            .map(|p| p[1])
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
pub(super) struct DecimationCache {
    /// `chart/line` -> (points in the source, first point's x, range, columns, log
    /// scale, the points to draw)
    lines: HashMap<String, DecimatedLine>,
}

type DecimatedLine = (usize, f64, Option<(f64, f64)>, usize, bool, Vec<PlotPoint>);

impl DecimationCache {
    fn get(
        &mut self,
        key: &str,
        points: &[[f64; 2]],
        range: Option<(f64, f64)>,
        columns: usize,
        log_y: bool,
    ) -> Vec<PlotPoint> {
        let first = points.first().map_or(f64::NAN, |p| p[0]);
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
        let mut pts = crate::app::series::decimate(points, range, columns);
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
pub(super) fn layer_color(k: usize) -> egui::Color32 {
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

pub(super) fn latest_evaluation_ui(ui: &mut egui::Ui, ev: &Evaluation) {
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
