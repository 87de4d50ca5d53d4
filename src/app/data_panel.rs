//! The data preview: for CSV sequence data, how the first examples land in one aligned
//! minibatch (real, padded and masked steps per example) under the chosen alignment mode,
//! statistics of the whole dataset (a length histogram, class counts as bars or value
//! ranges per label column) and the first raw rows as a table. The number of classes
//! can be counted in the labels and is offered, never set silently.
//!
//! The files are read on a background thread, which also builds the preview for all three
//! alignment modes at once; switching the mode then only picks another preview.

use eframe::egui;
use egui_plot::{Bar, BarChart, Plot};
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, TryRecvError};

use crate::data::{
    load_csv, AlignmentMode, CsvDataConfig, DataPreview, Delimiter, LabelStats, Task,
};
use crate::experiment::file::resolve_paths;
use crate::experiment::schema::{DataSpec, Experiment};

/// Examples shown in the grid.
pub const PREVIEW_EXAMPLES: usize = 12;
/// Steps drawn per example (longer sequences are cut, with a note).
const MAX_DRAWN_STEPS: usize = 400;

enum Load {
    Idle,
    Loading(Receiver<Result<Vec<DataPreview>, String>>),
    Ready(Vec<DataPreview>),
    Failed(String),
}

/// The labels read as plain numbers, to count the classes: the smallest and largest
/// value of the (single) label column.
enum ClassCount {
    Idle,
    Counting(Receiver<Result<(f32, f32), String>>),
    Done(Result<(f32, f32), String>),
}

/// The data panel's runtime state.
pub struct DataPanel {
    /// The configuration (resolved, alignment left out) the current preview was made from.
    key: Option<CsvDataConfig>,
    load: Load,
    classes: ClassCount,
}

impl Default for DataPanel {
    fn default() -> Self {
        DataPanel {
            key: None,
            load: Load::Idle,
            classes: ClassCount::Idle,
        }
    }
}

/// The class count that labels from `min` to `max` suggest: class indices are whole
/// numbers from 0, so `max + 1` when they look like that.
pub fn classes_from_range(min: f32, max: f32) -> Option<usize> {
    (min >= 0.0 && max.fract() == 0.0 && min.fract() == 0.0 && max < 1e6)
        .then_some(max as usize + 1)
}

impl DataPanel {
    /// Takes a finished load, if any (never waits).
    pub fn poll(&mut self) {
        if let ClassCount::Counting(rx) = &self.classes {
            match rx.try_recv() {
                Ok(r) => self.classes = ClassCount::Done(r),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.classes = ClassCount::Done(Err("the counting thread stopped".into()))
                }
            }
        }
        if let Load::Loading(rx) = &self.load {
            match rx.try_recv() {
                Ok(Ok(previews)) => self.load = Load::Ready(previews),
                Ok(Err(e)) => self.load = Load::Failed(e),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.load = Load::Failed("the preview thread stopped".into())
                }
            }
        }
    }

    /// Why the files could not be read, if they could not.
    pub fn error(&self) -> Option<&str> {
        match &self.load {
            Load::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// True while files are being read.
    pub fn is_loading(&self) -> bool {
        matches!(self.load, Load::Loading(_))
    }

    /// Reads the labels as plain numbers on a thread, to offer a class count.
    fn count_classes(&mut self, ctx: &egui::Context, config: &CsvDataConfig, base: &Path) {
        let mut exp = Experiment {
            data: DataSpec::Csv(CsvDataConfig {
                task: Task::Regression,
                ..config.clone()
            }),
            ..Experiment::default()
        };
        resolve_paths(&mut exp, base);
        let DataSpec::Csv(resolved) = exp.data else {
            unreachable!("the data stays CSV")
        };
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("seqlab-count-classes".into())
            .spawn(move || {
                let result = load_csv(&resolved, &mut |_| {})
                    .map_err(|e| e.to_string())
                    .and_then(|data| {
                        let p = data.preview(AlignmentMode::AlignStart, 0);
                        match (p.stats.label_width, p.stats.labels) {
                            (1, LabelStats::Ranges { min, max }) if !min.is_empty() => {
                                Ok((min[0], max[0]))
                            }
                            (w, _) => Err(format!(
                                "the labels have {w} columns; classes need one column of \
                                 class indices"
                            )),
                        }
                    });
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        self.classes = match spawned {
            Ok(_) => ClassCount::Counting(rx),
            Err(e) => ClassCount::Done(Err(format!("could not start the thread: {e}"))),
        };
    }

    /// The class count offer: a button that counts, then one that uses the count.
    fn classes_ui(&mut self, ui: &mut egui::Ui, config: &mut CsvDataConfig, base: &Path) {
        ui.horizontal_wrapped(|ui| {
            if ui
                .button("Count the classes in the labels")
                .on_hover_text(
                    "Read the labels as numbers and offer the number of classes they hold \
                     (class indices 0, 1, 2, ...)",
                )
                .clicked()
            {
                self.count_classes(ui.ctx(), config, base);
            }
            match &self.classes {
                ClassCount::Idle => {}
                ClassCount::Counting(_) => {
                    ui.spinner();
                }
                ClassCount::Done(Err(e)) => {
                    ui.colored_label(ui.visuals().error_fg_color, e.as_str());
                }
                ClassCount::Done(Ok((min, max))) => match classes_from_range(*min, *max) {
                    Some(n) => {
                        let now = match config.task {
                            Task::Classification { classes } => Some(classes),
                            Task::Regression => None,
                        };
                        ui.label(format!("labels run from {min} to {max}: {n} classes"));
                        if now == Some(n) {
                            ui.weak("(as set)");
                        } else if ui
                            .button(format!("Use {n} classes"))
                            .on_hover_text("Set data.Csv.task to Classification with this count")
                            .clicked()
                        {
                            config.task = Task::Classification { classes: n };
                        }
                    }
                    None => {
                        ui.label(format!(
                            "labels run from {min} to {max}: not class indices (regression)"
                        ));
                    }
                },
            }
        });
    }

    /// Starts reading the CSV files again when their configuration changed.
    fn refresh(&mut self, ctx: &egui::Context, config: &CsvDataConfig, base: &Path, force: bool) {
        let mut exp = Experiment {
            data: DataSpec::Csv(config.clone()),
            ..Experiment::default()
        };
        resolve_paths(&mut exp, base);
        let DataSpec::Csv(mut resolved) = exp.data else {
            unreachable!("the data stays CSV")
        };
        resolved.alignment = AlignmentMode::default();
        if !force && self.key.as_ref() == Some(&resolved) || self.is_loading() {
            return;
        }
        self.key = Some(resolved.clone());
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("seqlab-data-preview".into())
            .spawn(move || {
                let result = load_csv(&resolved, &mut |_| {})
                    .map(|data| {
                        AlignmentMode::ALL
                            .iter()
                            .map(|&mode| data.preview(mode, PREVIEW_EXAMPLES))
                            .collect()
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        self.load = match spawned {
            Ok(_) => Load::Loading(rx),
            Err(e) => Load::Failed(format!("could not start the preview thread: {e}")),
        };
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, exp: &mut Experiment, base: &Path) {
        let DataSpec::Csv(config) = &mut exp.data else {
            not_csv_ui(ui, &exp.data);
            return;
        };
        let mut reload = false;
        ui.horizontal(|ui| {
            ui.strong("Alignment");
            for mode in AlignmentMode::ALL {
                ui.selectable_value(&mut config.alignment, mode, mode.dl4j_name())
                    .on_hover_text(mode_help(mode));
            }
            ui.separator();
            reload = ui
                .button("Reload files")
                .on_hover_text("Read the CSV files again")
                .clicked();
            if self.is_loading() {
                ui.spinner();
                ui.weak("reading files…");
            }
        });
        self.refresh(ui.ctx(), config, base, reload);
        ui.separator();
        self.classes_ui(ui, config, base);
        match &self.load {
            Load::Idle | Load::Loading(_) => {}
            Load::Failed(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
            Load::Ready(previews) => {
                if let Some(p) = previews.iter().find(|p| p.alignment == config.alignment) {
                    let delimiter = config.csv.delimiter;
                    preview_ui(ui, p, &mut config.alignment, delimiter);
                }
            }
        }
    }
}

fn mode_help(mode: AlignmentMode) -> &'static str {
    match mode {
        AlignmentMode::EqualLength => "Every sequence has the same length; nothing is padded",
        AlignmentMode::AlignStart => "Features and labels start at step 0; padding follows",
        AlignmentMode::AlignEnd => {
            "Features and labels end at the same step; the shorter part is padded before"
        }
    }
}

fn not_csv_ui(ui: &mut egui::Ui, data: &DataSpec) {
    let what = match data {
        DataSpec::Sentence(s) => format!(
            "one sentence of {} characters, read as parallel streams",
            s.text.chars().count()
        ),
        DataSpec::Text(t) => format!("the text file {}", t.path.display()),
        DataSpec::Echo(e) => format!("the echo task ({} steps, delay {})", e.length, e.echo),
        DataSpec::Csv(_) => unreachable!("handled by the caller"),
    };
    ui.label(format!("This experiment trains on {what}."));
    ui.weak(
        "Stream data needs no alignment: every minibatch is `sequence length` steps of each \
         stream. The alignment preview is for CSV sequence files (choose \"CSV sequence files\" \
         as the data source).",
    );
}

/// Counts of padded steps over the previewed examples.
fn padding_counts(p: &DataPreview) -> (usize, usize) {
    p.examples
        .iter()
        .flat_map(|e| &e.steps)
        .fold((0, 0), |(f, l), s| {
            (
                f + usize::from(!s.feature_real),
                l + usize::from(!s.label_real),
            )
        })
}

/// The length histogram and the class counts (or label ranges), side by side.
fn stats_ui(ui: &mut egui::Ui, s: &crate::data::DatasetStats) {
    ui.columns(2, |cols| {
        let ui = &mut cols[0];
        ui.strong("Sequence lengths");
        let bars: Vec<Bar> = s
            .length_histogram
            .iter()
            .map(|b| {
                let mid = (b.from + b.to) as f64 / 2.0;
                let width = ((b.to - b.from) as f64 + 1.0).max(1.0);
                Bar::new(mid, b.count as f64)
                    .width(width * 0.9)
                    .name(format!("{}..={}", b.from, b.to))
            })
            .collect();
        Plot::new("length_histogram")
            .height(110.0)
            .allow_drag(false)
            .allow_zoom(false)
            .allow_scroll(false)
            .x_axis_label("steps")
            .show(ui, |p| p.bar_chart(BarChart::new("sequences", bars)))
            .response
            .on_hover_text("How many sequences have each length");
        let ui = &mut cols[1];
        match &s.labels {
            LabelStats::Classes { counts } => {
                ui.strong("Label steps per class");
                let bars: Vec<Bar> = counts
                    .iter()
                    .enumerate()
                    .map(|(c, &n)| {
                        Bar::new(c as f64, n as f64)
                            .width(0.8)
                            .name(format!("class {c}"))
                    })
                    .collect();
                Plot::new("class_counts")
                    .height(110.0)
                    .allow_drag(false)
                    .allow_zoom(false)
                    .allow_scroll(false)
                    .x_axis_label("class")
                    .show(ui, |p| p.bar_chart(BarChart::new("label steps", bars)))
                    .response
                    .on_hover_text(format!("label steps per class: {counts:?}"));
            }
            LabelStats::Ranges { min, max } => {
                ui.strong("Label values per column");
                egui::Grid::new("label_ranges")
                    .striped(true)
                    .show(ui, |ui| {
                        ui.weak("column");
                        ui.weak("min");
                        ui.weak("max");
                        ui.end_row();
                        for (c, (lo, hi)) in min.iter().zip(max).enumerate() {
                            ui.label(c.to_string());
                            ui.monospace(format!("{lo}"));
                            ui.monospace(format!("{hi}"));
                            ui.end_row();
                        }
                    });
            }
        }
    });
}

/// The first raw rows of a file as a table (fields split by the delimiter).
fn raw_rows_ui(ui: &mut egui::Ui, id: &str, lines: &[String], delimiter: Delimiter) {
    let split = |l: &str| -> Vec<String> {
        match delimiter {
            Delimiter::Whitespace => l.split_whitespace().map(str::to_string).collect(),
            d => {
                let c = match d {
                    Delimiter::Semicolon => ';',
                    Delimiter::Tab => '\t',
                    _ => ',',
                };
                l.split(c).map(|f| f.trim().to_string()).collect()
            }
        }
    };
    let rows: Vec<Vec<String>> = lines.iter().map(|l| split(l)).collect();
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    egui::ScrollArea::horizontal().id_salt(id).show(ui, |ui| {
        egui::Grid::new(id).striped(true).show(ui, |ui| {
            ui.weak("line");
            for c in 0..width {
                ui.weak(format!("col {c}"));
            }
            ui.end_row();
            for (i, row) in rows.iter().enumerate() {
                ui.weak((i + 1).to_string());
                for f in row {
                    ui.monospace(f);
                }
                ui.end_row();
            }
        });
    });
}

fn preview_ui(ui: &mut egui::Ui, p: &DataPreview, mode: &mut AlignmentMode, delimiter: Delimiter) {
    let s = &p.stats;
    ui.label(format!(
        "{} sequences · {} features per step · {} label columns · lengths {}..={}",
        s.sequences, s.feature_count, s.label_width, s.min_length, s.max_length
    ));
    stats_ui(ui, s);
    if let Some(head) = p.raw_heads.first() {
        egui::CollapsingHeader::new(format!(
            "First rows of {} (features)",
            file_name(&head.path)
        ))
        .id_salt("raw_head")
        .default_open(true)
        .show(ui, |ui| {
            raw_rows_ui(ui, "raw_rows_0", &head.lines, delimiter)
        });
    }
    if let Some(head) = p.raw_heads.get(1) {
        egui::CollapsingHeader::new(format!("First rows of {} (labels)", file_name(&head.path)))
            .id_salt("raw_head_labels")
            .show(ui, |ui| {
                raw_rows_ui(ui, "raw_rows_1", &head.lines, delimiter)
            });
    }
    if let Some(problem) = &p.problem {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("{} cannot be used here: {problem}", p.alignment.dl4j_name()),
        );
        ui.horizontal(|ui| {
            ui.label("Try");
            for m in [AlignmentMode::AlignEnd, AlignmentMode::AlignStart] {
                if ui
                    .button(format!("use {}", m.dl4j_name()))
                    .on_hover_text(mode_help(m))
                    .clicked()
                {
                    *mode = m;
                }
            }
        });
    } else {
        let (fp, lp) = padding_counts(p);
        let summary = if fp + lp == 0 {
            format!(
                "{}: the first {} examples make a minibatch of {} steps with no padding",
                p.alignment.dl4j_name(),
                p.examples.len(),
                p.steps
            )
        } else {
            format!(
                "{}: the first {} examples make a minibatch of {} steps; {fp} padded feature \
                 steps and {lp} padded label steps (masked)",
                p.alignment.dl4j_name(),
                p.examples.len(),
                p.steps
            )
        };
        ui.label(summary);
    }
    ui.add_space(4.0);
    legend_ui(ui);
    ui.add_space(4.0);
    egui::ScrollArea::both()
        .id_salt("preview_grid")
        .auto_shrink([false, true])
        .max_height((ui.available_height() - 20.0).max(120.0))
        .show(ui, |ui| {
            egui::Grid::new("preview_rows")
                .num_columns(2)
                .spacing([12.0, 8.0])
                .striped(true)
                .show(ui, |ui| {
                    for e in &p.examples {
                        let name = e
                            .source
                            .as_deref()
                            .and_then(Path::file_name)
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| format!("example {}", e.index));
                        let padded_f = e.steps.iter().filter(|s| !s.feature_real).count();
                        let padded_l = e.steps.iter().filter(|s| !s.label_real).count();
                        ui.vertical(|ui| {
                            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
                            ui.monospace(name);
                            ui.weak(format!(
                                "{} feature / {} label steps",
                                e.feature_len, e.label_len
                            ))
                            .on_hover_text(format!(
                                "padded: {padded_f} feature steps, {padded_l} label steps"
                            ));
                        });
                        ui.horizontal(|ui| steps_ui(ui, e));
                        ui.end_row();
                    }
                });
        });
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

const CELL: f32 = 12.0;

fn colors(ui: &egui::Ui) -> [egui::Color32; 3] {
    let dark = ui.visuals().dark_mode;
    [
        // real feature, real label, padding
        egui::Color32::from_rgb(70, 130, 210),
        egui::Color32::from_rgb(230, 150, 50),
        if dark {
            egui::Color32::from_gray(60)
        } else {
            egui::Color32::from_gray(215)
        },
    ]
}

fn legend_ui(ui: &mut egui::Ui) {
    let [feature, label, pad] = colors(ui);
    ui.horizontal(|ui| {
        for (color, text) in [
            (feature, "real feature step"),
            (label, "real label step"),
            (pad, "padding (mask 0)"),
        ] {
            let (rect, _) = ui.allocate_exact_size(egui::vec2(CELL, CELL), egui::Sense::hover());
            ui.painter().rect_filled(rect, 2.0, color);
            ui.label(text);
            ui.add_space(8.0);
        }
    });
}

/// Two rows of cells per example: features on top, labels below.
fn steps_ui(ui: &mut egui::Ui, e: &crate::data::ExamplePreview) {
    if e.steps.is_empty() {
        ui.weak("—");
        return;
    }
    let [feature, label, pad] = colors(ui);
    let n = e.steps.len().min(MAX_DRAWN_STEPS);
    let size = egui::vec2(n as f32 * CELL, 2.0 * CELL + 2.0);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(rect);
    for (t, s) in e.steps.iter().take(n).enumerate() {
        let x = rect.left() + t as f32 * CELL;
        let top = egui::Rect::from_min_size(
            egui::pos2(x, rect.top()),
            egui::vec2(CELL - 1.0, CELL - 1.0),
        );
        let bottom = top.translate(egui::vec2(0.0, CELL + 2.0));
        painter.rect_filled(top, 1.0, if s.feature_real { feature } else { pad });
        painter.rect_filled(bottom, 1.0, if s.label_real { label } else { pad });
    }
    if let Some(pos) = response.hover_pos() {
        let t = ((pos.x - rect.left()) / CELL) as usize;
        if let Some(s) = e.steps.get(t) {
            response.on_hover_text_at_pointer(format!(
                "step {t}\nfeatures: {} (mask {})\nlabels: {} (mask {})",
                if s.feature_real { "real" } else { "padding" },
                s.feature_mask,
                if s.label_real { "real" } else { "padding" },
                s.label_mask
            ));
        }
    }
    if e.steps.len() > n {
        ui.weak(format!("… {} more steps", e.steps.len() - n));
    }
}
