//! The data section: the source (sentence, text file, echo task, CSV sequences), its
//! files, the validation and test splits and the CSV options.

use eframe::egui;
use std::path::{Path, PathBuf};

use egui::{DragValue, Ui};

use crate::data::{
    AlignmentMode, CsvDataConfig, Delimiter, LabelSource, Normalization, SequenceSource, Task,
    ValidationSplit,
};
use crate::experiment::schema::{DataSpec, EchoSpec, Experiment, SentenceSpec, TextSpec};

use super::{combo, grid, mark, path_edit, remembered, row, Form};
use crate::app::{Action, BrowseTarget};

#[derive(Clone, Copy, PartialEq)]
enum DataKind {
    Sentence,
    Text,
    Echo,
    Csv,
}

fn kind_of(data: &DataSpec) -> DataKind {
    match data {
        DataSpec::Sentence(_) => DataKind::Sentence,
        DataSpec::Text(_) => DataKind::Text,
        DataSpec::Echo(_) => DataKind::Echo,
        DataSpec::Csv(_) => DataKind::Csv,
    }
}

pub(super) fn data_ui(ui: &mut Ui, exp: &mut Experiment, form: &mut Form) {
    let data = &mut exp.data;
    let mut kind = kind_of(data);
    grid(ui, "data_grid", |ui| {
        row(
            ui,
            form,
            "data.kind",
            "Source",
            "Where the training data comes from",
            |ui| {
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
            },
        );
        if kind != kind_of(data) {
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
                    form,
                    "data.Sentence.text",
                    "Sentence",
                    "The text the network learns character by character",
                    |ui| {
                        ui.add(
                            egui::TextEdit::multiline(&mut s.text)
                                .id_salt("data.Sentence.text")
                                .desired_rows(2)
                                .desired_width(ui.available_width()),
                        )
                    },
                );
            }
            DataSpec::Text(t) => {
                let l = ui.label("Corpus");
                ui.push_id("data.Text.path", |ui| {
                    ui.vertical(|ui| {
                        let r = ui
                            .horizontal(|ui| {
                                let r = path_edit(
                                    ui,
                                    "data.Text.path",
                                    &mut t.path,
                                    "corpus.txt (relative to the experiment file)",
                                )
                                .labelled_by(l.id)
                                .on_hover_text(
                                    "A UTF-8 text file, relative to the experiment file",
                                );
                                if ui
                                    .button("Browse…")
                                    .on_hover_text("Choose the text file")
                                    .clicked()
                                {
                                    form.actions.push(Action::Browse(BrowseTarget::TextCorpus));
                                }
                                r
                            })
                            .inner;
                        mark(ui, form, "data.Text.path", &r);
                    });
                });
                ui.end_row();
                row(
                    ui,
                    form,
                    "data.Text.lowercase",
                    "Lower-case",
                    "Lower-case the corpus before building the vocabulary",
                    |ui| ui.checkbox(&mut t.lowercase, ""),
                );
                row(
                    ui,
                    form,
                    "data.Text.validation",
                    "Validation",
                    "Fraction of the corpus (from its end) held out for validation",
                    |ui| {
                        ui.add(
                            DragValue::new(&mut t.validation)
                                .range(0.0..=0.9)
                                .speed(0.01),
                        )
                    },
                );
                row(
                    ui,
                    form,
                    "data.Text.test",
                    "Test",
                    "Fraction held out for one test score at the end (just before the \
                     validation part)",
                    |ui| ui.add(DragValue::new(&mut t.test).range(0.0..=0.9).speed(0.01)),
                );
            }
            DataSpec::Echo(e) => {
                row(
                    ui,
                    form,
                    "data.Echo.length",
                    "Length",
                    "Steps in the training series",
                    |ui| {
                        ui.add(
                            DragValue::new(&mut e.length)
                                .range(2..=10_000_000)
                                .speed(100),
                        )
                    },
                );
                row(
                    ui,
                    form,
                    "data.Echo.echo",
                    "Echo delay",
                    "The target is the input this many steps earlier",
                    |ui| ui.add(DragValue::new(&mut e.echo).range(0..=1000)),
                );
                row(
                    ui,
                    form,
                    "data.Echo.validation_length",
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
                row(
                    ui,
                    form,
                    "data.Echo.seed",
                    "Data seed",
                    "Seeds the random bit stream",
                    |ui| ui.add(DragValue::new(&mut e.seed)),
                );
            }
            DataSpec::Csv(c) => csv_ui(ui, c, form),
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

/// A sequence source (folder, numbered pattern with its range, glob or list) at `field`.
fn source_ui(
    ui: &mut Ui,
    form: &mut Form,
    field: &str,
    name: &str,
    source: &mut SequenceSource,
    target: Option<BrowseTarget>,
) {
    let mut kind = match source {
        SequenceSource::Directory(_) => SourceKind::Directory,
        SequenceSource::Pattern { .. } => SourceKind::Pattern,
        SequenceSource::Glob(_) => SourceKind::Glob,
        SequenceSource::Files(_) => SourceKind::Files,
    };
    let l = ui.label(name);
    ui.push_id(field, |ui| {
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                combo(
                    ui,
                    "kind",
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
                    "A folder (natural order), a pattern with %d (or %04d) and a range, a \
                     glob such as features_*.csv, or a list",
                );
                if let Some(target) = target {
                    if ui
                        .button("Browse…")
                        .accessible_name(format!("Browse {}", name.to_lowercase()))
                        .on_hover_text(format!("Choose the {} folder", name.to_lowercase()))
                        .clicked()
                    {
                        form.actions.push(Action::Browse(target));
                    }
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
            let width = ui.available_width();
            let r = match source {
                SequenceSource::Directory(dir) => {
                    path_edit(ui, "path", dir, "data/features").labelled_by(l.id)
                }
                SequenceSource::Pattern {
                    pattern,
                    start,
                    end,
                } => {
                    let r = ui
                        .add(
                            egui::TextEdit::singleline(pattern)
                                .id_salt("pattern")
                                .hint_text("data/seq_%d.csv")
                                .desired_width(width),
                        )
                        .labelled_by(l.id);
                    ui.horizontal(|ui| {
                        let s = ui.label("from");
                        ui.add(DragValue::new(start))
                            .labelled_by(s.id)
                            .on_hover_text("The first index");
                        let mut open = end.is_none();
                        ui.checkbox(&mut open, "until a file is missing")
                            .on_hover_text(
                                "Read from the start index until the first missing file",
                            );
                        remembered(ui, &format!("{field}.end"), end, !open, || *start);
                        if let Some(last) = end {
                            let e = ui.label("to");
                            ui.add(DragValue::new(last))
                                .labelled_by(e.id)
                                .on_hover_text("The last index (inclusive)");
                        }
                    });
                    r
                }
                SequenceSource::Glob(glob) => ui
                    .add(
                        egui::TextEdit::singleline(glob)
                            .id_salt("glob")
                            .hint_text("data/features_*.csv")
                            .desired_width(width),
                    )
                    .labelled_by(l.id),
                SequenceSource::Files(files) => {
                    let mut text = files
                        .iter()
                        .map(|f| f.display().to_string())
                        .collect::<Vec<_>>()
                        .join("\n");
                    let r = ui
                        .add(
                            egui::TextEdit::multiline(&mut text)
                                .id_salt("files")
                                .desired_rows(2)
                                .hint_text("one file per line")
                                .desired_width(width),
                        )
                        .labelled_by(l.id);
                    if r.changed() {
                        *files = text
                            .lines()
                            .filter(|l| !l.trim().is_empty())
                            .map(|l| PathBuf::from(l.trim()))
                            .collect();
                    }
                    r
                }
            };
            mark(ui, form, field, &r);
        });
    });
    ui.end_row();
}

#[derive(Clone, Copy, PartialEq)]
enum SplitKind {
    None,
    Fraction,
    Folders,
}

/// A validation or test split (`which` is `validation` or `test`): none, a held-out
/// fraction (seeded or the last files) or separate folders.
fn split_ui(ui: &mut Ui, form: &mut Form, c: &mut CsvDataConfig, which: &str) {
    let separate_labels = matches!(c.labels, LabelSource::Files(_));
    let split = if which == "test" {
        &mut c.test
    } else {
        &mut c.validation
    };
    let field = format!("data.Csv.{which}");
    let mut kind = match split {
        ValidationSplit::None => SplitKind::None,
        ValidationSplit::Fraction { .. } => SplitKind::Fraction,
        ValidationSplit::Folders { .. } => SplitKind::Folders,
    };
    let title = if which == "test" {
        "Test"
    } else {
        "Validation"
    };
    row(
        ui,
        form,
        &format!("{field}.kind"),
        title,
        "Sequences held out of training: a fraction of the files, or separate folders",
        |ui| {
            combo(
                ui,
                "split",
                &format!("{title} split"),
                &mut kind,
                &[
                    (SplitKind::None, "none"),
                    (SplitKind::Fraction, "hold out a fraction"),
                    (SplitKind::Folders, "separate folders"),
                ],
            )
        },
    );
    // each kind keeps its settings while another is chosen
    let memory = |_: &Ui, k: &str| egui::Id::unique(("split", which, k.to_string()));
    let now = match split {
        ValidationSplit::None => SplitKind::None,
        ValidationSplit::Fraction { .. } => SplitKind::Fraction,
        ValidationSplit::Folders { .. } => SplitKind::Folders,
    };
    if now != kind {
        let key = memory(ui, if now == SplitKind::Fraction { "f" } else { "d" });
        if now != SplitKind::None {
            let old = split.clone();
            ui.data_mut(|d| d.insert_temp(key, old));
        }
        let restore = |ui: &Ui, k: &str| ui.data(|d| d.get_temp::<ValidationSplit>(memory(ui, k)));
        *split = match kind {
            SplitKind::None => ValidationSplit::None,
            SplitKind::Fraction => restore(ui, "f").unwrap_or(ValidationSplit::Fraction {
                fraction: 0.2,
                seed: Some(1),
            }),
            SplitKind::Folders => restore(ui, "d").unwrap_or(ValidationSplit::Folders {
                features: SequenceSource::Directory(PathBuf::new()),
                labels: separate_labels.then(|| SequenceSource::Directory(PathBuf::new())),
            }),
        };
    }
    match split {
        ValidationSplit::None => {}
        ValidationSplit::Fraction { fraction, seed } => {
            row(
                ui,
                form,
                &format!("{field}.Fraction.fraction"),
                &format!("{title} fraction"),
                "Fraction of the sequences held out",
                |ui| ui.add(DragValue::new(fraction).range(0.01..=0.9).speed(0.01)),
            );
            let mut shuffled = seed.is_some();
            row(
                ui,
                form,
                &format!("{field}.Fraction.seed"),
                &format!("{title} picked at random"),
                "On: a seeded shuffle picks them; off: the last files in order",
                |ui| ui.checkbox(&mut shuffled, ""),
            );
            remembered(ui, &format!("{field}.seed"), seed, shuffled, || 1);
        }
        ValidationSplit::Folders { features, labels } => {
            source_ui(
                ui,
                form,
                &format!("{field}.Folders.features"),
                &format!("{title} features"),
                features,
                None,
            );
            if separate_labels {
                let src = labels.get_or_insert_with(|| SequenceSource::Directory(PathBuf::new()));
                source_ui(
                    ui,
                    form,
                    &format!("{field}.Folders.labels"),
                    &format!("{title} labels"),
                    src,
                    None,
                );
            } else {
                *labels = None;
            }
        }
    }
}

fn csv_ui(ui: &mut Ui, c: &mut CsvDataConfig, form: &mut Form) {
    source_ui(
        ui,
        form,
        "data.Csv.features",
        "Features",
        &mut c.features,
        Some(BrowseTarget::CsvFeatures),
    );
    let mut separate = matches!(c.labels, LabelSource::Files(_));
    row(
        ui,
        form,
        "data.Csv.labels",
        "Separate labels",
        "Labels in their own files (paired by position) instead of a column",
        |ui| ui.checkbox(&mut separate, ""),
    );
    match (&mut c.labels, separate) {
        (LabelSource::Column(col), false) => {
            row(
                ui,
                form,
                "data.Csv.labels.Column",
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
            form,
            "data.Csv.labels.Files",
            "Labels",
            src,
            Some(BrowseTarget::CsvLabels),
        );
    }
    let mut classes = match c.task {
        Task::Classification { classes } => Some(classes),
        Task::Regression => None,
    };
    let mut classify = classes.is_some();
    row(
        ui,
        form,
        "data.Csv.task",
        "Classification",
        "Labels are class indices (one-hot); off = regression",
        |ui| ui.checkbox(&mut classify, ""),
    );
    remembered(ui, "data.Csv.task.classes", &mut classes, classify, || 2);
    if let Some(n) = &mut classes {
        row(
            ui,
            form,
            "data.Csv.task.Classification.classes",
            "Classes",
            "Number of classes (the Data preview tab counts them in the labels)",
            |ui| ui.add(DragValue::new(n).range(1..=100_000)),
        );
    }
    c.task = match classes {
        Some(classes) => Task::Classification { classes },
        None => Task::Regression,
    };
    row(
        ui,
        form,
        "data.Csv.csv.skip_lines",
        "Header lines",
        "Lines skipped at the top of every file",
        |ui| ui.add(DragValue::new(&mut c.csv.skip_lines).range(0..=1000)),
    );
    row(
        ui,
        form,
        "data.Csv.csv.delimiter",
        "Delimiter",
        "The character between fields",
        |ui| {
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
        },
    );
    row(
        ui,
        form,
        "data.Csv.alignment",
        "Alignment",
        "How sequences of different lengths share a minibatch (see the Data preview tab)",
        |ui| alignment_combo(ui, "alignment_editor", "Alignment mode", &mut c.alignment),
    );
    split_ui(ui, form, c, "validation");
    split_ui(ui, form, c, "test");
    row(
        ui,
        form,
        "data.Csv.normalization",
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
pub fn alignment_combo(
    ui: &mut Ui,
    id: &str,
    name: &str,
    mode: &mut AlignmentMode,
) -> egui::Response {
    let options: Vec<(AlignmentMode, &str)> = AlignmentMode::ALL
        .iter()
        .map(|&m| (m, m.dl4j_name()))
        .collect();
    combo(ui, id, name, mode, &options)
}

/// `path` relative to `base` when it is inside it (so experiment files stay portable).
pub fn relative_to(path: &Path, base: Option<&Path>) -> PathBuf {
    base.and_then(|b| path.strip_prefix(b).ok())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.to_path_buf())
}
