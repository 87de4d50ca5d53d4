//! The experiment editor: data source, layer stack, training hyperparameters, evaluation
//! and sampling. It edits the notebook's [`Experiment`] in place; the problems that
//! `experiment::validate` finds are listed on top.

use eframe::egui;
use std::path::{Path, PathBuf};

use egui::{DragValue, Response, Ui};

use crate::data::{
    AlignmentMode, CsvDataConfig, Delimiter, LabelSource, Normalization, SequenceSource, Task,
    ValidationSplit,
};
use crate::experiment::schema::{
    ActivationSpec, DataSpec, EchoSpec, Experiment, GradientNormalizationSpec, LayerSpec,
    LayerType, LossSpec, OutputModeSpec, SentenceSpec, TbpttSpec, TextSpec, UpdaterSpec,
};

use super::{Action, BrowseTarget};

/// The editor's own state (which sections are open lives in egui's memory).
#[derive(Default)]
pub struct ExperimentPanel {}

/// A change to the layer stack chosen while drawing it, applied after the loop.
enum LayerOp {
    Up(usize),
    Down(usize),
    Remove(usize),
    Add,
}

impl ExperimentPanel {
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        exp: &mut Experiment,
        problems: &[String],
        actions: &mut Vec<Action>,
    ) {
        if !problems.is_empty() {
            egui::Frame::group(ui.style())
                .stroke(egui::Stroke::new(1.0, ui.visuals().error_fg_color))
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    for p in problems {
                        ui.label(
                            egui::RichText::new(p.as_str()).color(ui.visuals().error_fg_color),
                        );
                    }
                });
        }
        egui::Grid::new("exp_name_grid")
            .num_columns(2)
            .show(ui, |ui| {
                let l = ui.label("Name");
                ui.add(egui::TextEdit::singleline(&mut exp.name).desired_width(f32::INFINITY))
                    .labelled_by(l.id)
                    .on_hover_text("The experiment's name (run folders are named after the file)");
                ui.end_row();
            });

        section(ui, "Data", true, |ui| data_ui(ui, &mut exp.data, actions));
        section(ui, "Layers", true, |ui| layers_ui(ui, exp));
        section(ui, "Training", true, |ui| training_ui(ui, exp));
        section(ui, "Evaluation and sampling", false, |ui| {
            evaluation_ui(ui, exp)
        });
        section(ui, "Notes", false, |ui| {
            ui.add(
                egui::TextEdit::multiline(&mut exp.notes)
                    .desired_rows(4)
                    .desired_width(f32::INFINITY)
                    .hint_text("What this experiment is about"),
            )
            .accessible_name("Notes");
        });
    }
}

fn section(ui: &mut Ui, title: &str, open: bool, add: impl FnOnce(&mut Ui)) {
    egui::CollapsingHeader::new(egui::RichText::new(title).strong())
        .id_salt(title)
        .default_open(open)
        .show(ui, add);
}

/// A grid row: a label and the widget it names.
fn row(ui: &mut Ui, label: &str, hover: &str, add: impl FnOnce(&mut Ui) -> Response) -> Response {
    let l = ui.label(label);
    let r = add(ui).labelled_by(l.id).on_hover_text(hover);
    ui.end_row();
    r
}

fn grid(ui: &mut Ui, id: &str, add: impl FnOnce(&mut Ui)) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([10.0, 6.0])
        .min_col_width(110.0)
        .show(ui, add);
}

/// A combo box over `options`, named `name` for screen readers and tests.
fn combo<T: PartialEq + Copy>(
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
                ui.selectable_value(value, *v, *text);
            }
        });
    inner.response.accessible_name(name)
}

/// A path typed as text.
fn path_edit(ui: &mut Ui, path: &mut PathBuf, hint: &str) -> Response {
    let mut text = path.display().to_string();
    let r = ui.add(
        egui::TextEdit::singleline(&mut text)
            .hint_text(hint)
            .desired_width(ui.available_width() - 70.0),
    );
    if r.changed() {
        *path = PathBuf::from(text);
    }
    r
}

#[derive(Clone, Copy, PartialEq)]
enum DataKind {
    Sentence,
    Text,
    Echo,
    Csv,
}

fn data_ui(ui: &mut Ui, data: &mut DataSpec, actions: &mut Vec<Action>) {
    let mut kind = match data {
        DataSpec::Sentence(_) => DataKind::Sentence,
        DataSpec::Text(_) => DataKind::Text,
        DataSpec::Echo(_) => DataKind::Echo,
        DataSpec::Csv(_) => DataKind::Csv,
    };
    grid(ui, "data_grid", |ui| {
        row(ui, "Source", "Where the training data comes from", |ui| {
            combo(
                ui,
                "data_kind",
                "Data source",
                &mut kind,
                &[
                    (DataKind::Sentence, "One sentence (learn by heart)"),
                    (DataKind::Text, "Text file (next character)"),
                    (DataKind::Echo, "Echo task (synthetic bits)"),
                    (DataKind::Csv, "CSV sequence files"),
                ],
            )
        });
        let now = match data {
            DataSpec::Sentence(_) => DataKind::Sentence,
            DataSpec::Text(_) => DataKind::Text,
            DataSpec::Echo(_) => DataKind::Echo,
            DataSpec::Csv(_) => DataKind::Csv,
        };
        if kind != now {
            *data = match kind {
                DataKind::Sentence => DataSpec::Sentence(SentenceSpec::default()),
                DataKind::Text => DataSpec::Text(TextSpec::default()),
                DataKind::Echo => DataSpec::Echo(EchoSpec::default()),
                DataKind::Csv => DataSpec::Csv(CsvDataConfig::default()),
            };
        }
        match data {
            DataSpec::Sentence(s) => {
                row(
                    ui,
                    "Sentence",
                    "The text the network learns character by character",
                    |ui| {
                        ui.add(
                            egui::TextEdit::multiline(&mut s.text)
                                .desired_rows(2)
                                .desired_width(f32::INFINITY),
                        )
                    },
                );
            }
            DataSpec::Text(t) => {
                let l = ui.label("Corpus");
                ui.horizontal(|ui| {
                    path_edit(
                        ui,
                        &mut t.path,
                        "corpus.txt (relative to the experiment file)",
                    )
                    .labelled_by(l.id)
                    .on_hover_text("A UTF-8 text file, relative to the experiment file");
                    if ui
                        .button("Browse…")
                        .on_hover_text("Choose the text file")
                        .clicked()
                    {
                        actions.push(Action::Browse(BrowseTarget::TextCorpus));
                    }
                });
                ui.end_row();
                row(
                    ui,
                    "Lower-case",
                    "Lower-case the corpus before building the vocabulary",
                    |ui| ui.checkbox(&mut t.lowercase, ""),
                );
                row(
                    ui,
                    "Validation",
                    "Fraction of the corpus (from its end) held out",
                    |ui| {
                        ui.add(
                            DragValue::new(&mut t.validation)
                                .range(0.0..=0.9)
                                .speed(0.01),
                        )
                    },
                );
            }
            DataSpec::Echo(e) => {
                row(ui, "Length", "Steps in the training series", |ui| {
                    ui.add(
                        DragValue::new(&mut e.length)
                            .range(2..=10_000_000)
                            .speed(100),
                    )
                });
                row(
                    ui,
                    "Echo delay",
                    "The target is the input this many steps earlier",
                    |ui| ui.add(DragValue::new(&mut e.echo).range(0..=1000)),
                );
                row(
                    ui,
                    "Validation length",
                    "Steps in the validation series",
                    |ui| {
                        ui.add(
                            DragValue::new(&mut e.validation_length)
                                .range(0..=1_000_000)
                                .speed(100),
                        )
                    },
                );
                row(ui, "Data seed", "Seeds the random bit stream", |ui| {
                    ui.add(DragValue::new(&mut e.seed))
                });
            }
            DataSpec::Csv(c) => csv_ui(ui, c, actions),
        }
    });
}

#[derive(Clone, Copy, PartialEq)]
enum SourceKind {
    Directory,
    Pattern,
    Glob,
    Files,
}

fn source_ui(
    ui: &mut Ui,
    id: &str,
    name: &str,
    source: &mut SequenceSource,
    target: BrowseTarget,
    actions: &mut Vec<Action>,
) {
    let mut kind = match source {
        SequenceSource::Directory(_) => SourceKind::Directory,
        SequenceSource::Pattern { .. } => SourceKind::Pattern,
        SequenceSource::Glob(_) => SourceKind::Glob,
        SequenceSource::Files(_) => SourceKind::Files,
    };
    let l = ui.label(name);
    ui.vertical(|ui| {
        ui.horizontal(|ui| {
            combo(
                ui,
                (id, "kind"),
                &format!("{name} kind"),
                &mut kind,
                &[
                    (SourceKind::Directory, "Folder"),
                    (SourceKind::Pattern, "Numbered pattern"),
                    (SourceKind::Glob, "Glob"),
                    (SourceKind::Files, "File list"),
                ],
            )
            .on_hover_text(
                "A folder (natural order), a pattern with %d (or %04d) and a range, a glob \
                 such as features_*.csv, or a list",
            );
            if ui
                .button("Browse…")
                .on_hover_text(format!("Choose the {} folder", name.to_lowercase()))
                .clicked()
            {
                actions.push(Action::Browse(target));
            }
        });
        match (kind, &*source) {
            (SourceKind::Directory, SequenceSource::Directory(_))
            | (SourceKind::Pattern, SequenceSource::Pattern { .. })
            | (SourceKind::Glob, SequenceSource::Glob(_))
            | (SourceKind::Files, SequenceSource::Files(_)) => {}
            (SourceKind::Glob, _) => *source = SequenceSource::Glob(String::new()),
            (SourceKind::Directory, _) => *source = SequenceSource::Directory(PathBuf::new()),
            (SourceKind::Pattern, _) => {
                *source = SequenceSource::Pattern {
                    pattern: String::new(),
                    start: 0,
                    end: Some(0),
                }
            }
            (SourceKind::Files, _) => *source = SequenceSource::Files(Vec::new()),
        }
        match source {
            SequenceSource::Directory(dir) => {
                path_edit(ui, dir, "data/features").labelled_by(l.id);
            }
            SequenceSource::Pattern {
                pattern,
                start,
                end,
            } => {
                ui.add(
                    egui::TextEdit::singleline(pattern)
                        .hint_text("data/seq_%d.csv")
                        .desired_width(ui.available_width()),
                )
                .labelled_by(l.id);
                ui.horizontal(|ui| {
                    let s = ui.label("from");
                    ui.add(DragValue::new(start)).labelled_by(s.id);
                    let mut open = end.is_none();
                    ui.checkbox(&mut open, "until a file is missing")
                        .on_hover_text("Read from the start index until the first missing file");
                    if open {
                        *end = None;
                    } else {
                        let mut last = end.unwrap_or(*start);
                        let e = ui.label("to");
                        ui.add(DragValue::new(&mut last))
                            .labelled_by(e.id)
                            .on_hover_text("Inclusive");
                        *end = Some(last);
                    }
                });
            }
            SequenceSource::Glob(glob) => {
                ui.add(
                    egui::TextEdit::singleline(glob)
                        .hint_text("data/features_*.csv")
                        .desired_width(ui.available_width()),
                )
                .labelled_by(l.id);
            }
            SequenceSource::Files(files) => {
                let mut text = files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join("\n");
                let r = ui
                    .add(
                        egui::TextEdit::multiline(&mut text)
                            .desired_rows(2)
                            .hint_text("one file per line")
                            .desired_width(ui.available_width()),
                    )
                    .labelled_by(l.id);
                if r.changed() {
                    *files = text
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .map(|l| PathBuf::from(l.trim()))
                        .collect();
                }
            }
        }
    });
    ui.end_row();
}

fn csv_ui(ui: &mut Ui, c: &mut CsvDataConfig, actions: &mut Vec<Action>) {
    source_ui(
        ui,
        "features",
        "Features",
        &mut c.features,
        BrowseTarget::CsvFeatures,
        actions,
    );
    let mut separate = matches!(c.labels, LabelSource::Files(_));
    row(
        ui,
        "Separate labels",
        "Labels in their own files (paired by position) instead of a column",
        |ui| ui.checkbox(&mut separate, ""),
    );
    match (&mut c.labels, separate) {
        (LabelSource::Column(col), false) => {
            row(
                ui,
                "Label column",
                "0-based; negative counts from the end (-1 = last)",
                |ui| ui.add(DragValue::new(col).range(-1000..=1000)),
            );
        }
        (LabelSource::Files(_), true) => {}
        (labels, true) => *labels = LabelSource::Files(SequenceSource::Directory(PathBuf::new())),
        (labels, false) => *labels = LabelSource::Column(-1),
    }
    if let LabelSource::Files(src) = &mut c.labels {
        source_ui(
            ui,
            "labels",
            "Labels",
            src,
            BrowseTarget::CsvLabels,
            actions,
        );
    }
    let mut classes = match c.task {
        Task::Classification { classes } => Some(classes),
        Task::Regression => None,
    };
    let mut classify = classes.is_some();
    row(
        ui,
        "Classification",
        "Labels are class indices (one-hot); off = regression",
        |ui| ui.checkbox(&mut classify, ""),
    );
    if classify {
        let n = classes.get_or_insert(2);
        row(ui, "Classes", "Number of classes", |ui| {
            ui.add(DragValue::new(n).range(1..=100_000))
        });
        c.task = Task::Classification { classes: *n };
    } else {
        c.task = Task::Regression;
    }
    row(
        ui,
        "Header lines",
        "Lines skipped at the top of every file",
        |ui| ui.add(DragValue::new(&mut c.csv.skip_lines).range(0..=1000)),
    );
    row(ui, "Delimiter", "The character between fields", |ui| {
        combo(
            ui,
            "delimiter",
            "Delimiter",
            &mut c.csv.delimiter,
            &[
                (Delimiter::Comma, "comma"),
                (Delimiter::Semicolon, "semicolon"),
                (Delimiter::Tab, "tab"),
                (Delimiter::Whitespace, "whitespace"),
            ],
        )
    });
    row(
        ui,
        "Alignment",
        "How sequences of different lengths share a minibatch (see the Data preview tab)",
        |ui| alignment_combo(ui, "alignment_editor", "Alignment mode", &mut c.alignment),
    );
    let mut fraction = match c.validation {
        ValidationSplit::Fraction { fraction, .. } => Some(fraction),
        _ => None,
    };
    if !matches!(c.validation, ValidationSplit::Folders { .. }) {
        let mut on = fraction.is_some();
        row(
            ui,
            "Hold out",
            "Hold out a fraction of the sequences for validation",
            |ui| ui.checkbox(&mut on, ""),
        );
        if on {
            let f = fraction.get_or_insert(0.2);
            row(
                ui,
                "Held-out fraction",
                "Fraction of sequences used for validation",
                |ui| ui.add(DragValue::new(f).range(0.01..=0.9).speed(0.01)),
            );
            let seed = match c.validation {
                ValidationSplit::Fraction { seed, .. } => seed,
                _ => Some(1),
            };
            c.validation = ValidationSplit::Fraction { fraction: *f, seed };
        } else {
            c.validation = ValidationSplit::None;
        }
    } else {
        ui.label("Validation");
        ui.weak("separate folders (edit the file)");
        ui.end_row();
    }
    row(
        ui,
        "Normalisation",
        "Feature normalisation, fitted on the training split",
        |ui| {
            combo(
                ui,
                "normalization",
                "Normalisation",
                &mut c.normalization,
                &[
                    (Normalization::None, "none"),
                    (Normalization::Standardize, "standardise"),
                    (Normalization::MinMax, "min-max"),
                ],
            )
        },
    );
}

/// The alignment mode by its DL4J name.
pub fn alignment_combo(ui: &mut Ui, id: &str, name: &str, mode: &mut AlignmentMode) -> Response {
    let options: Vec<(AlignmentMode, &str)> = AlignmentMode::ALL
        .iter()
        .map(|&m| (m, m.dl4j_name()))
        .collect();
    combo(ui, id, name, mode, &options)
}

const KINDS: [(LayerType, &str); 4] = [
    (LayerType::Lstm, "LSTM"),
    (LayerType::Gru, "GRU"),
    (LayerType::Rnn, "RNN"),
    (LayerType::Dense, "Dense"),
];

/// The activations a layer kind accepts (None = the kind's default).
fn activations(kind: LayerType) -> &'static [(Option<ActivationSpec>, &'static str)] {
    use ActivationSpec as A;
    match kind {
        LayerType::Gru => &[(None, "fixed")],
        LayerType::Rnn => &[
            (None, "default (tanh)"),
            (Some(A::Tanh), "tanh"),
            (Some(A::Relu), "relu"),
        ],
        LayerType::Lstm | LayerType::Dense => &[
            (None, "default (tanh)"),
            (Some(A::Tanh), "tanh"),
            (Some(A::Softsign), "softsign"),
            (Some(A::Relu), "relu"),
            (Some(A::Sigmoid), "sigmoid"),
            (Some(A::HardSigmoid), "hard sigmoid"),
            (Some(A::Identity), "identity"),
        ],
    }
}

/// Clears the fields a layer kind does not accept (after the kind changed).
fn fit_layer_to_kind(layer: &mut LayerSpec) {
    let defaults = LayerSpec::default();
    if layer.kind != LayerType::Lstm {
        layer.gate_activation = None;
        layer.peephole = false;
        layer.forget_bias = defaults.forget_bias;
    }
    if layer.kind == LayerType::Dense {
        layer.recurrent_init = defaults.recurrent_init;
    }
    if !activations(layer.kind)
        .iter()
        .any(|(a, _)| *a == layer.activation)
    {
        layer.activation = None;
    }
}

fn layers_ui(ui: &mut Ui, exp: &mut Experiment) {
    let mut op = None;
    let n = exp.model.layers.len();
    for (k, layer) in exp.model.layers.iter_mut().enumerate() {
        let id = k + 1;
        egui::Frame::group(ui.style())
            .inner_margin(6.0)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.strong(format!("Layer {id}"));
                    let before = layer.kind;
                    combo(
                        ui,
                        ("layer_kind", k),
                        &format!("Layer {id} kind"),
                        &mut layer.kind,
                        &KINDS,
                    )
                    .on_hover_text("The layer type");
                    if layer.kind != before {
                        fit_layer_to_kind(layer);
                    }
                    ui.add(
                        DragValue::new(&mut layer.size)
                            .range(1..=65_536)
                            .prefix("units "),
                    )
                    .accessible_name(format!("Layer {id} size"))
                    .on_hover_text("Hidden units");
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if ui
                            .small_button("×")
                            .accessible_name(format!("Remove layer {id}"))
                            .on_hover_text("Remove this layer")
                            .clicked()
                        {
                            op = Some(LayerOp::Remove(k));
                        }
                        if ui
                            .add_enabled(k + 1 < n, egui::Button::new("down").small())
                            .accessible_name(format!("Move layer {id} down"))
                            .on_hover_text("Move this layer towards the output")
                            .clicked()
                        {
                            op = Some(LayerOp::Down(k));
                        }
                        if ui
                            .add_enabled(k > 0, egui::Button::new("up").small())
                            .accessible_name(format!("Move layer {id} up"))
                            .on_hover_text("Move this layer towards the input")
                            .clicked()
                        {
                            op = Some(LayerOp::Up(k));
                        }
                    });
                });
                ui.horizontal(|ui| {
                    ui.label("activation");
                    ui.add_enabled_ui(layer.kind != LayerType::Gru, |ui| {
                        combo(
                            ui,
                            ("layer_act", k),
                            &format!("Layer {id} activation"),
                            &mut layer.activation,
                            activations(layer.kind),
                        )
                        .on_hover_text("Cell/output activation");
                    });
                    ui.label("dropout");
                    ui.add(
                        DragValue::new(&mut layer.dropout)
                            .range(0.0..=0.95)
                            .speed(0.01),
                    )
                    .accessible_name(format!("Layer {id} dropout"))
                    .on_hover_text("Inverted dropout on this layer's input while training");
                });
            });
    }
    ui.horizontal(|ui| {
        if ui
            .button("Add layer")
            .on_hover_text("Add a layer like the last one at the top of the stack")
            .clicked()
        {
            op = Some(LayerOp::Add);
        }
    });
    match op {
        Some(LayerOp::Up(k)) => exp.model.layers.swap(k - 1, k),
        Some(LayerOp::Down(k)) => exp.model.layers.swap(k, k + 1),
        Some(LayerOp::Remove(k)) => {
            exp.model.layers.remove(k);
        }
        Some(LayerOp::Add) => {
            let layer = exp.model.layers.last().cloned().unwrap_or_default();
            exp.model.layers.push(layer);
        }
        None => {}
    }
    ui.add_space(4.0);
    let o = &mut exp.model.output;
    grid(ui, "output_grid", |ui| {
        row(
            ui,
            "Output loss",
            "The output layer's loss (default from the data)",
            |ui| {
                combo(
                    ui,
                    "loss",
                    "Output loss",
                    &mut o.loss,
                    &[
                        (None, "default"),
                        (Some(LossSpec::CrossEntropy), "softmax + cross-entropy"),
                        (Some(LossSpec::Mse), "identity + MSE"),
                        (Some(LossSpec::BinaryCrossEntropy), "sigmoid + binary CE"),
                    ],
                )
            },
        );
        row(
            ui,
            "Output at",
            "Predict at every step, or only the last (many-to-one)",
            |ui| {
                combo(
                    ui,
                    "output_mode",
                    "Output at",
                    &mut o.mode,
                    &[
                        (OutputModeSpec::EveryStep, "every step"),
                        (OutputModeSpec::LastStep, "last step"),
                    ],
                )
            },
        );
    });
}

#[derive(Clone, Copy, PartialEq)]
enum ClipKind {
    None,
    GlobalL2,
    PerLayerL2,
    PerParamTypeL2,
    ElementWise,
    RenormPerLayer,
    RenormPerParamType,
}

fn training_ui(ui: &mut Ui, exp: &mut Experiment) {
    let stream = exp.data.is_stream();
    let t = &mut exp.training;
    grid(ui, "training_grid", |ui| {
        let mut kind = t.updater.kind();
        let lr = t.updater.lr();
        row(
            ui,
            "Updater",
            "The optimiser (PyTorch's defaults for its other settings)",
            |ui| combo(ui, "updater", "Updater", &mut kind, &UpdaterSpec::KINDS),
        );
        if kind != t.updater.kind() {
            t.updater = UpdaterSpec::with_kind(kind, lr).unwrap_or(t.updater);
        }
        let mut lr = lr;
        let r = row(
            ui,
            "Learning rate",
            "The base learning rate of the updater",
            |ui| {
                ui.add(
                    egui::Slider::new(&mut lr, 1e-6..=1.0)
                        .logarithmic(true)
                        .custom_formatter(|v, _| format!("{v:.2e}"))
                        .custom_parser(|s| s.trim().parse().ok()),
                )
            },
        );
        if r.changed() {
            t.updater.set_lr(lr);
        }
        row(
            ui,
            "Batch size",
            "Examples (or parallel streams) per minibatch",
            |ui| ui.add(DragValue::new(&mut t.batch_size).range(1..=65_536)),
        );
        ui.add_enabled_ui(stream, |ui| ui.label("Sequence length"));
        ui.add_enabled_ui(stream, |ui| {
            ui.add(DragValue::new(&mut t.sequence_length).range(1..=100_000))
                .accessible_name("Sequence length")
                .on_hover_text("Steps per minibatch (text, sentence and echo data)")
                .on_disabled_hover_text("CSV sequences keep their own lengths")
        });
        ui.end_row();

        let mut by_epochs = t.iterations.is_none() && t.epochs.is_some();
        ui.label("Stop after");
        ui.horizontal(|ui| {
            let hover = "Stop after a number of iterations (minibatches) or epochs";
            ui.radio_value(&mut by_epochs, false, "iterations")
                .on_hover_text(hover);
            ui.radio_value(&mut by_epochs, true, "epochs")
                .on_hover_text(hover);
        });
        ui.end_row();
        if by_epochs {
            let mut n = t.epochs.unwrap_or(10);
            row(ui, "Epochs", "Passes over the training data", |ui| {
                ui.add(DragValue::new(&mut n).range(1..=1_000_000))
            });
            t.epochs = Some(n);
            t.iterations = None;
        } else {
            let mut n = t.iterations.unwrap_or(1000);
            row(ui, "Iterations", "Minibatches to train", |ui| {
                ui.add(DragValue::new(&mut n).range(1..=100_000_000).speed(10))
            });
            t.iterations = Some(n);
            t.epochs = None;
        }

        let mut tbptt = t.tbptt.is_some();
        row(
            ui,
            "Truncated BPTT",
            "Train in segments; gradients flow back through part of each",
            |ui| ui.checkbox(&mut tbptt, ""),
        );
        if tbptt {
            let tb = t.tbptt.get_or_insert_with(TbpttSpec::default);
            row(ui, "TBPTT forward", "Segment length in steps", |ui| {
                ui.add(DragValue::new(&mut tb.forward).range(1..=100_000))
            });
            row(
                ui,
                "TBPTT backward",
                "Steps gradients flow back (at most forward)",
                |ui| ui.add(DragValue::new(&mut tb.backward).range(1..=100_000)),
            );
        } else {
            t.tbptt = None;
        }

        use GradientNormalizationSpec as G;
        let (mut clip, threshold) = match t.gradient_normalization {
            G::None => (ClipKind::None, None),
            G::ClipGlobalL2(v) => (ClipKind::GlobalL2, Some(v)),
            G::ClipL2PerLayer(v) => (ClipKind::PerLayerL2, Some(v)),
            G::ClipL2PerParamType(v) => (ClipKind::PerParamTypeL2, Some(v)),
            G::ClipElementWiseAbsoluteValue(v) => (ClipKind::ElementWise, Some(v)),
            G::RenormalizeL2PerLayer => (ClipKind::RenormPerLayer, None),
            G::RenormalizeL2PerParamType => (ClipKind::RenormPerParamType, None),
        };
        row(
            ui,
            "Gradient clipping",
            "Gradient normalisation before the update",
            |ui| {
                combo(
                    ui,
                    "clipping",
                    "Gradient clipping",
                    &mut clip,
                    &[
                        (ClipKind::None, "none"),
                        (ClipKind::GlobalL2, "clip global L2 norm"),
                        (ClipKind::PerLayerL2, "clip L2 per layer"),
                        (ClipKind::PerParamTypeL2, "clip L2 per parameter type"),
                        (ClipKind::ElementWise, "clip each value"),
                        (ClipKind::RenormPerLayer, "renormalise per layer"),
                        (
                            ClipKind::RenormPerParamType,
                            "renormalise per parameter type",
                        ),
                    ],
                )
            },
        );
        let mut v = threshold.unwrap_or(5.0);
        if !matches!(
            clip,
            ClipKind::None | ClipKind::RenormPerLayer | ClipKind::RenormPerParamType
        ) {
            row(
                ui,
                "Clip threshold",
                "The largest norm (or absolute value) allowed",
                |ui| ui.add(DragValue::new(&mut v).range(1e-6..=1e6).speed(0.1)),
            );
        }
        t.gradient_normalization = match clip {
            ClipKind::None => G::None,
            ClipKind::GlobalL2 => G::ClipGlobalL2(v),
            ClipKind::PerLayerL2 => G::ClipL2PerLayer(v),
            ClipKind::PerParamTypeL2 => G::ClipL2PerParamType(v),
            ClipKind::ElementWise => G::ClipElementWiseAbsoluteValue(v),
            ClipKind::RenormPerLayer => G::RenormalizeL2PerLayer,
            ClipKind::RenormPerParamType => G::RenormalizeL2PerParamType,
        };
        if stream {
            row(
                ui,
                "Carry state",
                "Carry the recurrent state from one minibatch to the next",
                |ui| ui.checkbox(&mut t.carry_state, ""),
            );
        } else {
            row(ui, "Shuffle", "Shuffle the examples every epoch", |ui| {
                ui.checkbox(&mut t.shuffle, "")
            });
        }
        row(
            ui,
            "Seed",
            "Seeds initial weights, shuffling, dropout and sampling",
            |ui| ui.add(DragValue::new(&mut t.seed)),
        );
    });
}

/// An optional count: a checkbox that turns it on and the value.
fn optional_count(ui: &mut Ui, label: &str, hover: &str, value: &mut Option<u64>, default: u64) {
    let mut on = value.is_some();
    ui.checkbox(&mut on, label).on_hover_text(hover);
    let mut n = value.unwrap_or(default);
    ui.add_enabled(
        on,
        DragValue::new(&mut n)
            .range(1..=100_000_000)
            .prefix("every "),
    )
    .accessible_name(format!("{label} interval"))
    .on_hover_text(hover);
    ui.end_row();
    *value = on.then_some(n);
}

fn evaluation_ui(ui: &mut Ui, exp: &mut Experiment) {
    grid(ui, "evaluation_grid", |ui| {
        optional_count(
            ui,
            "Evaluate",
            "Evaluate every this many iterations (off: once per epoch)",
            &mut exp.evaluation.every,
            100,
        );
        optional_count(
            ui,
            "Sample",
            "Generate a sample every this many iterations (off: only at the end)",
            &mut exp.sampling.every,
            250,
        );
        optional_count(
            ui,
            "Checkpoint",
            "Write a checkpoint every this many iterations (always at the end)",
            &mut exp.training.checkpoint_every,
            1000,
        );
        let s = &mut exp.sampling;
        row(ui, "Sample length", "Characters to generate", |ui| {
            ui.add(DragValue::new(&mut s.length).range(1..=100_000))
        });
        row(
            ui,
            "Greedy",
            "Take the most likely character instead of drawing",
            |ui| ui.checkbox(&mut s.greedy, ""),
        );
        ui.add_enabled_ui(!s.greedy, |ui| ui.label("Temperature"));
        ui.add_enabled(
            !s.greedy,
            DragValue::new(&mut s.temperature)
                .range(0.01..=10.0)
                .speed(0.01),
        )
        .accessible_name("Temperature")
        .on_hover_text("Softmax temperature (1 samples the model's distribution)");
        ui.end_row();
        let mut prime = s.prime.clone().unwrap_or_default();
        let r = row(
            ui,
            "Prime",
            "Text fed before generating (empty: the corpus's first character)",
            |ui| ui.add(egui::TextEdit::singleline(&mut prime).desired_width(f32::INFINITY)),
        );
        if r.changed() {
            s.prime = (!prime.is_empty()).then_some(prime);
        }
    });
}

/// `path` relative to `base` when it is inside it (so experiment files stay portable).
pub fn relative_to(path: &Path, base: Option<&Path>) -> PathBuf {
    base.and_then(|b| path.strip_prefix(b).ok())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.to_path_buf())
}
