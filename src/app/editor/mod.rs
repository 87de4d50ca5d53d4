//! The experiment editor (the left panel): the data source ([`data`]), the layer stack
//! with each layer's sizes and parameters ([`layers`]), training, evaluation and
//! sampling ([`training`]). It edits the session's [`Experiment`] in place.
//!
//! # Problems next to their fields
//! `experiment::validate` names each problem by its field path
//! (`training.updater.Adam.lr`, `model.layers[1].size`). Every row of the editor names
//! the path it edits; the problems under that path are drawn below the widget, which is
//! framed in the error colour. The top of the panel only has one line, the count, so a
//! problem appearing or going away never moves the field being typed in, and every
//! widget's id comes from its field path, not from its position, so it keeps the focus.
//!
//! # Settings that are switched off
//! A setting with an on/off box (TBPTT, evaluation every N, clipping, early stopping...)
//! keeps the value it had while it is off, for this window's lifetime (egui's temporary
//! memory, keyed by the field path), so switching it back on restores it.

mod data;
mod layers;
mod training;

use eframe::egui;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::sync::Arc;

use egui::{Response, RichText, Ui};

use crate::experiment::file::resolve_paths;
use crate::experiment::schema::{DataSpec, Experiment, LossSpec};
use crate::experiment::ExperimentError;
use crate::train::TrainingData;

use super::Action;

pub use data::relative_to;

/// One problem or warning, at a field path.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The field path (`training.tbptt.forward`), or empty for the experiment as a whole.
    pub field: String,
    /// What is wrong and what to do, without the file and field (they are shown by
    /// where the message is drawn).
    pub text: String,
    /// A setting that works but does little; not an error.
    pub warning: bool,
}

impl Problem {
    /// The problem of a validation error (its field and message).
    pub fn from_error(e: &ExperimentError) -> Problem {
        match e {
            ExperimentError::Field {
                field,
                problem,
                allowed,
                ..
            } => Problem {
                field: field.clone(),
                text: format!("{problem}; {allowed}"),
                warning: false,
            },
            other => Problem {
                field: String::new(),
                text: other.to_string(),
                warning: false,
            },
        }
    }

    pub fn warning(field: &str, text: impl Into<String>) -> Problem {
        Problem {
            field: field.into(),
            text: text.into(),
            warning: true,
        }
    }
}

/// The problems of the experiment as drawn this frame; each one is drawn once, at the
/// first row whose field path it falls under (the rest are listed at the bottom).
#[derive(Default)]
pub struct Problems {
    items: Vec<Problem>,
    shown: Vec<Cell<bool>>,
}

impl Problems {
    pub fn new(items: Vec<Problem>) -> Self {
        let shown = items.iter().map(|_| Cell::new(false)).collect();
        Problems { items, shown }
    }

    pub fn items(&self) -> &[Problem] {
        &self.items
    }

    pub fn errors(&self) -> usize {
        self.items.iter().filter(|p| !p.warning).count()
    }

    pub fn warnings(&self) -> usize {
        self.items.iter().filter(|p| p.warning).count()
    }

    /// The problems not drawn yet at `field` (and, with `under`, below it: `field.x`,
    /// `field[0]`), which are now marked drawn.
    fn take(&self, field: &str, under: bool) -> Vec<&Problem> {
        let under = |p: &str| {
            p == field
                || under
                    && p.strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        };
        self.items
            .iter()
            .zip(&self.shown)
            .filter(|(p, shown)| !shown.get() && !field.is_empty() && under(&p.field))
            .map(|(p, shown)| {
                shown.set(true);
                p
            })
            .collect()
    }

    /// The problems no row has drawn.
    fn rest(&self) -> Vec<&Problem> {
        self.items
            .iter()
            .zip(&self.shown)
            .filter(|(_, shown)| !shown.get())
            .map(|(p, _)| p)
            .collect()
    }
}

/// What the editor knows of the data (read on a background thread, with what the
/// panel needs every frame computed once there).
pub struct DataInfo {
    pub data: TrainingData,
    /// The longest training sequence (sequence data).
    pub longest: Option<usize>,
    /// Steps of validation data (positions the network runs over per evaluation).
    pub validation_steps: usize,
}

impl DataInfo {
    fn new(data: TrainingData) -> Self {
        let validation_steps = match &data {
            TrainingData::Stream { validation, .. } => validation.as_ref().map_or(0, |v| v.len()),
            TrainingData::Sequences { validation, .. } => validation
                .as_ref()
                .map_or(0, |v| v.examples().iter().map(|e| e.feature_steps()).sum()),
        };
        DataInfo {
            longest: data.longest_sequence(),
            validation_steps,
            data,
        }
    }
}

impl DataInfo {
    /// The loss the output layer uses by default for this data.
    pub fn default_loss(&self) -> LossSpec {
        self.data.default_loss()
    }
}

enum Probe {
    Idle,
    Loading(Receiver<Result<DataInfo, String>>),
    Ready(Arc<DataInfo>),
    Failed(String),
}

/// The editor's runtime state: the data read for the layer sizes (by the data settings
/// it was read for).
pub struct Editor {
    key: Option<DataSpec>,
    probe: Probe,
}

impl Default for Editor {
    fn default() -> Self {
        Editor {
            key: None,
            probe: Probe::Idle,
        }
    }
}

/// What the sections draw with.
pub(crate) struct Form<'a> {
    pub problems: &'a Problems,
    pub actions: &'a mut Vec<Action>,
    /// The data, once read (layer sizes, warnings that need lengths).
    pub data: Option<&'a DataInfo>,
    /// Why the data could not be read, if it could not.
    pub data_error: Option<&'a str>,
}

impl Editor {
    /// Takes the data read in the background, if it is ready (never waits).
    pub fn poll(&mut self) {
        if let Probe::Loading(rx) = &self.probe {
            match rx.try_recv() {
                Ok(Ok(info)) => self.probe = Probe::Ready(Arc::new(info)),
                Ok(Err(e)) => self.probe = Probe::Failed(e),
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => {
                    self.probe = Probe::Failed("the data thread stopped".into())
                }
            }
        }
    }

    /// The data as read for the current settings, if it has been.
    pub fn data(&self) -> Option<&DataInfo> {
        match &self.probe {
            Probe::Ready(info) => Some(info),
            _ => None,
        }
    }

    /// True while the data is being read.
    pub fn is_loading(&self) -> bool {
        matches!(self.probe, Probe::Loading(_))
    }

    /// Reads the data again (on a thread) when its settings changed and they are valid.
    fn refresh(&mut self, ctx: &egui::Context, exp: &Experiment, base: &Path, valid: bool) {
        let mut resolved = Experiment {
            data: exp.data.clone(),
            ..Experiment::default()
        };
        resolve_paths(&mut resolved, base);
        if self.key.as_ref() == Some(&resolved.data) || self.is_loading() {
            return;
        }
        self.key = Some(resolved.data.clone());
        if !valid {
            self.probe = Probe::Failed("fix the data settings first".into());
            return;
        }
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("seqlab-editor-data".into())
            .spawn(move || {
                let result = TrainingData::load(&resolved, &mut |_| {})
                    .map(DataInfo::new)
                    .map_err(|e| e.to_string());
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        self.probe = match spawned {
            Ok(_) => Probe::Loading(rx),
            Err(e) => Probe::Failed(format!("could not start the data thread: {e}")),
        };
    }

    /// Draws the editor. `errors` are the experiment's validation problems (warnings
    /// are added here); `base` is the folder relative paths are read from.
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        exp: &mut Experiment,
        errors: &[Problem],
        base: &Path,
        actions: &mut Vec<Action>,
    ) {
        let data_valid = !errors.iter().any(|e| e.field.starts_with("data"));
        self.refresh(ui.ctx(), exp, base, data_valid);
        let data = match &self.probe {
            Probe::Ready(info) => Some(info.clone()),
            _ => None,
        };
        let data_error = match &self.probe {
            Probe::Failed(e) => Some(e.clone()),
            _ => None,
        };
        let mut items = errors.to_vec();
        items.extend(training::warnings(exp, data.as_deref()));
        let problems = Problems::new(items);
        summary_ui(ui, &problems);
        let mut form = Form {
            problems: &problems,
            actions,
            data: data.as_deref(),
            data_error: data_error.as_deref(),
        };

        grid(ui, "exp_name_grid", |ui| {
            row(
                ui,
                &form,
                "name",
                "Name",
                "The experiment's name (run folders are named after the file)",
                |ui| {
                    ui.add(
                        egui::TextEdit::singleline(&mut exp.name)
                            .id_salt("name")
                            .desired_width(ui.available_width()),
                    )
                },
            );
        });

        section(ui, "Data", true, |ui| data::data_ui(ui, exp, &mut form));
        section(ui, "Layers", true, |ui| {
            layers::layers_ui(ui, exp, &mut form)
        });
        section(ui, "Training", true, |ui| {
            training::training_ui(ui, exp, &mut form)
        });
        section(ui, "Evaluation and sampling", false, |ui| {
            training::evaluation_ui(ui, exp, &form)
        });
        section(ui, "Notes", false, |ui| {
            ui.add(
                egui::TextEdit::multiline(&mut exp.notes)
                    .id_salt("notes")
                    .desired_rows(4)
                    .desired_width(ui.available_width())
                    .hint_text("What this experiment is about"),
            )
            .accessible_name("Notes");
        });
        let rest = problems.rest();
        if !rest.is_empty() {
            ui.add_space(6.0);
            ui.strong("Other problems");
            for p in rest {
                problem_label(ui, p, true);
            }
        }
    }
}

/// One fixed line: how many problems there are (the fields carry the messages).
/// A drag value for a real setting of any magnitude: decimals from 0.001 up, scientific
/// notation below that and from a million up (Adam's eps of 1e-8 shows as `1.00e-8`,
/// not `0.000`). Typed text is read as any number (`1e-8`, `0.00000001`).
pub(super) fn real_value(v: &mut f64) -> egui::DragValue<'_> {
    egui::DragValue::new(v)
        .custom_formatter(|v, _| format_real(v))
        .custom_parser(|s| s.trim().parse().ok())
}

/// `v` as [`real_value`] shows it: `0`, `0.9`, `0.999`, `1.00e-8`, `2.50e6`.
pub(super) fn format_real(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".into()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn summary_ui(ui: &mut Ui, problems: &Problems) {
    let (e, w) = (problems.errors(), problems.warnings());
    let text = match (e, w) {
        (0, 0) => RichText::new("No problems: ready to train").weak(),
        (0, w) => {
            RichText::new(format!("{w} warning(s), marked below")).color(ui.visuals().warn_fg_color)
        }
        (e, _) => RichText::new(format!(
            "{e} problem(s) to fix before training, marked below{}",
            if w > 0 {
                format!(" ({w} warning(s))")
            } else {
                String::new()
            }
        ))
        .color(ui.visuals().error_fg_color),
    };
    let all: Vec<String> = problems
        .items()
        .iter()
        .map(|p| {
            if p.field.is_empty() {
                p.text.clone()
            } else {
                format!("{}: {}", p.field, p.text)
            }
        })
        .collect();
    let r = ui.label(text);
    if !all.is_empty() {
        r.on_hover_text(all.join("\n"));
    }
}

fn problem_label(ui: &mut Ui, p: &Problem, with_field: bool) {
    let color = if p.warning {
        ui.visuals().warn_fg_color
    } else {
        ui.visuals().error_fg_color
    };
    let text = if with_field && !p.field.is_empty() {
        format!("{}: {}", p.field, p.text)
    } else {
        p.text.clone()
    };
    ui.add(egui::Label::new(RichText::new(text).small().color(color)).wrap());
}

fn section(ui: &mut Ui, title: &str, open: bool, add: impl FnOnce(&mut Ui)) {
    egui::CollapsingHeader::new(RichText::new(title).strong())
        .id_salt(title)
        .default_open(open)
        .show(ui, add);
}

/// Draws the problems at `field` or below it under the widget `r` (framed in the
/// problem's colour): for widgets that edit a whole sub-tree (a file source, a layer).
pub(crate) fn mark(ui: &mut Ui, form: &Form, field: &str, r: &Response) {
    let found = form.problems.take(field, true);
    draw_problems(ui, found, r);
}

fn draw_problems(ui: &mut Ui, found: Vec<&Problem>, r: &Response) {
    if found.is_empty() {
        return;
    }
    let color = if found.iter().all(|p| p.warning) {
        ui.visuals().warn_fg_color
    } else {
        ui.visuals().error_fg_color
    };
    ui.painter().rect_stroke(
        r.rect.expand(2.0),
        2.0,
        egui::Stroke::new(1.5, color),
        egui::StrokeKind::Outside,
    );
    for p in found {
        problem_label(ui, p, false);
    }
}

/// A grid row: a label and the widget it names, for the field at `field` (its problems
/// drawn below it). The widget's ids derive from `field`, so they stay the same when
/// rows above appear or go.
pub(crate) fn row(
    ui: &mut Ui,
    form: &Form,
    field: &str,
    label: &str,
    hover: &str,
    add: impl FnOnce(&mut Ui) -> Response,
) -> Response {
    let l = ui.label(label);
    let r = ui
        .push_id(field, |ui| {
            ui.vertical(|ui| {
                let r = add(ui).labelled_by(l.id).on_hover_text(hover);
                draw_problems(ui, form.problems.take(field, false), &r);
                r
            })
            .inner
        })
        .inner;
    ui.end_row();
    r
}

pub(crate) fn grid(ui: &mut Ui, id: &str, add: impl FnOnce(&mut Ui)) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([10.0, 6.0])
        .min_col_width(100.0)
        .show(ui, add);
}

/// A combo box over `options`, named `name` for screen readers and tests.
pub(crate) fn combo<T: PartialEq + Clone>(
    ui: &mut Ui,
    id: impl std::hash::Hash + std::fmt::Debug,
    name: &str,
    value: &mut T,
    options: &[(T, &str)],
) -> Response {
    let selected = options
        .iter()
        .find(|(v, _)| v == value)
        .map_or("?", |(_, t)| *t);
    let inner = egui::ComboBox::from_id_salt(id)
        .selected_text(selected)
        .show_ui(ui, |ui| {
            for (v, text) in options {
                ui.selectable_value(value, v.clone(), *text);
            }
        });
    inner.response.accessible_name(name)
}

/// A path typed as text, with a stable id (`id`).
pub(crate) fn path_edit(ui: &mut Ui, id: &str, path: &mut PathBuf, hint: &str) -> Response {
    let mut text = path.display().to_string();
    let r = ui.add(
        egui::TextEdit::singleline(&mut text)
            .id_salt(id)
            .hint_text(hint)
            .desired_width((ui.available_width() - 70.0).max(80.0)),
    );
    if r.changed() {
        *path = PathBuf::from(text);
    }
    r
}

/// An optional value with a box that switches it on: the value it had is kept while it
/// is off (egui's temporary memory, keyed by `id`) and comes back when it is switched
/// on again; `default` is used the first time. Returns the checkbox's response.
pub(crate) fn remembered<T: Clone + Send + Sync + 'static>(
    ui: &mut Ui,
    id: &str,
    value: &mut Option<T>,
    on: bool,
    default: impl FnOnce() -> T,
) {
    let key = egui::Id::unique(("remembered", id));
    match (value.as_ref(), on) {
        (Some(v), true) => {
            let v = v.clone();
            ui.data_mut(|d| d.insert_temp(key, v));
        }
        (Some(v), false) => {
            let v = v.clone();
            ui.data_mut(|d| d.insert_temp(key, v));
            *value = None;
        }
        (None, true) => {
            *value = Some(ui.data(|d| d.get_temp::<T>(key)).unwrap_or_else(default));
        }
        (None, false) => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn real_values_show_their_magnitude() {
        for (v, shown) in [
            (0.0, "0"),
            (0.9, "0.9"),
            (0.999, "0.999"),
            (0.001, "0.001"),
            (1e-8, "1.00e-8"),
            (-2.5e-5, "-2.50e-5"),
            (12.5, "12.5"),
            (2.5e6, "2.50e6"),
        ] {
            assert_eq!(super::format_real(v), shown, "{v}");
        }
    }
}
