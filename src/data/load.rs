//! Loading CSV sequence files into a [`SequenceDataset`], with progress, splits and
//! normalisation: the `data` section of an experiment.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use super::align::AlignmentMode;
use super::csv::{parse_numeric_table, read_bytes, CsvOptions, NumericTable};
use super::dataset::{RawHead, SequenceDataset, SequenceExample, Task, RAW_HEAD_LINES};
use super::error::{DataError, Result};
use super::normalize::{FeatureNormalizer, Normalization};
use super::source::SequenceSource;

/// Where the labels of each sequence are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabelSource {
    /// A column of each feature file: 0-based, negative counts from the end (`-1` is the
    /// last column). The features are the other columns, in order.
    Column(i64),
    /// Separate label files, paired with the feature files by position. A label file
    /// with one line makes a many-to-one example; a feature file with one line and a
    /// longer label file makes a one-to-many example.
    Files(SequenceSource),
}

impl Default for LabelSource {
    fn default() -> Self {
        LabelSource::Column(-1)
    }
}

/// How to hold out validation data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ValidationSplit {
    /// No validation set.
    #[default]
    None,
    /// Hold out `round(n * fraction)` sequences. With `seed`, a seeded shuffle picks them;
    /// without, they are the last sequences in file order.
    Fraction { fraction: f32, seed: Option<u64> },
    /// Separate files read with the same options. `labels` is needed exactly when the
    /// training labels are [`LabelSource::Files`].
    Folders {
        features: SequenceSource,
        labels: Option<SequenceSource>,
    },
}

/// Everything needed to turn CSV sequence files into training data: the `data` section of
/// an experiment.
///
/// ```ron
/// (
///     features: Pattern(pattern: "data/features/%d.csv", start: 0, end: 449),
///     labels: Files(Pattern(pattern: "data/labels/%d.csv", start: 0, end: 449)),
///     csv: (skip_lines: 0, delimiter: Comma),
///     task: Classification(classes: 6),
///     alignment: AlignEnd,
///     validation: Fraction(fraction: 0.2, seed: Some(7)),
///     normalization: Standardize,
/// )
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvDataConfig {
    /// The feature files, one sequence per file.
    pub features: SequenceSource,
    /// Where the labels are. Default: the last column of each feature file.
    pub labels: LabelSource,
    /// Header lines and delimiter.
    pub csv: CsvOptions,
    /// Classification (one-hot) or regression. Default regression.
    pub task: Task,
    /// How sequences of different lengths are aligned. Default `EqualLength`.
    pub alignment: AlignmentMode,
    /// Validation hold-out. Default none.
    pub validation: ValidationSplit,
    /// Feature normalisation, fitted on the training split only. Default none.
    pub normalization: Normalization,
}

/// Loading progress: `done` of `total` files (or file pairs) read; `path` is the last one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub path: PathBuf,
}

/// Training data ready for the trainer.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainValidation {
    pub train: SequenceDataset,
    /// Empty when there is no validation split.
    pub validation: SequenceDataset,
    /// The statistics fitted on `train` and applied to both; keep them to transform test
    /// and inference data the same way.
    pub normalizer: Option<FeatureNormalizer>,
}

/// Reads the training files of `config` (features and labels, no split, no normalisation,
/// no alignment check: alignment happens per minibatch).
pub fn load_csv(
    config: &CsvDataConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<SequenceDataset> {
    let features = config.features.files()?;
    let labels = label_files(&config.features, &config.labels, features.len())?;
    load_files(config, &features, labels.as_deref(), progress)
}

/// Reads training (and validation) data, checks the alignment mode against it, fits the
/// normalisation on the training split and applies it to both.
pub fn load_train_validation(
    config: &CsvDataConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainValidation> {
    let features = config.features.files()?;
    let labels = label_files(&config.features, &config.labels, features.len())?;
    let (mut train, mut validation) = match &config.validation {
        ValidationSplit::None | ValidationSplit::Fraction { .. } => {
            let all = load_files(config, &features, labels.as_deref(), progress)?;
            match config.validation {
                ValidationSplit::Fraction { fraction, seed } => {
                    all.split_fraction(fraction, seed)?
                }
                _ => {
                    let empty = SequenceDataset::new(
                        Vec::new(),
                        all.feature_count(),
                        all.label_width(),
                        all.task(),
                    );
                    (all, empty)
                }
            }
        }
        ValidationSplit::Folders {
            features: val_features,
            labels: val_labels,
        } => {
            let val_feature_files = val_features.files()?;
            let val_label_files = match (&config.labels, val_labels) {
                (LabelSource::Column(_), None) => None,
                (LabelSource::Files(_), Some(source)) => {
                    let files = source.files()?;
                    check_counts(val_features, source, val_feature_files.len(), files.len())?;
                    Some(files)
                }
                (LabelSource::Column(_), Some(_)) => {
                    return Err(DataError::InvalidOption {
                        option: "validation.labels",
                        message: "the training labels are a column of the feature files, so \
                                  the validation folder must not have separate label files; \
                                  remove `labels`"
                            .to_string(),
                    })
                }
                (LabelSource::Files(_), None) => {
                    return Err(DataError::InvalidOption {
                        option: "validation.labels",
                        message: "the training labels are separate files, so the validation \
                                  folder needs its label files too; set `labels`"
                            .to_string(),
                    })
                }
            };
            let total = features.len() + val_feature_files.len();
            let train = load_files(config, &features, labels.as_deref(), &mut |p| {
                progress(Progress { total, ..p })
            })?;
            let base = features.len();
            let validation = load_files(
                config,
                &val_feature_files,
                val_label_files.as_deref(),
                &mut |p| {
                    progress(Progress {
                        done: base + p.done,
                        total,
                        path: p.path,
                    })
                },
            )?;
            if validation.feature_count() != train.feature_count() {
                return Err(DataError::ColumnCountMismatch {
                    path: val_feature_files[0].clone(),
                    first_path: features[0].clone(),
                    role: "feature",
                    expected: train.feature_count(),
                    found: validation.feature_count(),
                });
            }
            if validation.label_width() != train.label_width() {
                let (path, first_path) = match (&val_label_files, &labels) {
                    (Some(v), Some(t)) => (v[0].clone(), t[0].clone()),
                    _ => (val_feature_files[0].clone(), features[0].clone()),
                };
                return Err(DataError::ColumnCountMismatch {
                    path,
                    first_path,
                    role: "label",
                    expected: train.label_width(),
                    found: validation.label_width(),
                });
            }
            (train, validation)
        }
    };
    train.check_alignment(config.alignment)?;
    validation.check_alignment(config.alignment)?;
    let normalizer = FeatureNormalizer::fit(config.normalization, &train)?;
    if let Some(normalizer) = &normalizer {
        normalizer.apply(&mut train)?;
        normalizer.apply(&mut validation)?;
    }
    Ok(TrainValidation {
        train,
        validation,
        normalizer,
    })
}

/// The label files paired with `n_features` feature files, or `None` for a label column.
fn label_files(
    features: &SequenceSource,
    labels: &LabelSource,
    n_features: usize,
) -> Result<Option<Vec<PathBuf>>> {
    match labels {
        LabelSource::Column(_) => Ok(None),
        LabelSource::Files(source) => {
            let files = source.files()?;
            check_counts(features, source, n_features, files.len())?;
            Ok(Some(files))
        }
    }
}

fn check_counts(
    features: &SequenceSource,
    labels: &SequenceSource,
    n_features: usize,
    n_labels: usize,
) -> Result<()> {
    if n_features != n_labels {
        return Err(DataError::FileCountMismatch {
            features: n_features,
            labels: n_labels,
            features_source: features.to_string(),
            labels_source: labels.to_string(),
        });
    }
    Ok(())
}

/// Reads feature files (and their paired label files) one by one, reporting progress
/// after each.
fn load_files(
    config: &CsvDataConfig,
    features: &[PathBuf],
    labels: Option<&[PathBuf]>,
    progress: &mut dyn FnMut(Progress),
) -> Result<SequenceDataset> {
    if let Task::Classification { classes: 0 } = config.task {
        return Err(DataError::InvalidOption {
            option: "classes",
            message: "classification needs at least 1 class (usually 2 or more)".to_string(),
        });
    }
    let mut examples = Vec::with_capacity(features.len());
    let mut raw_heads = Vec::new();
    // (first file, its column count) of features and of label files
    let mut first_features: Option<(PathBuf, usize)> = None;
    let mut first_labels: Option<(PathBuf, usize)> = None;
    let total = features.len();
    for (i, feature_path) in features.iter().enumerate() {
        let bytes = read_bytes(feature_path)?;
        if i == 0 {
            raw_heads.push(raw_head(feature_path, &bytes));
        }
        let table = parse_numeric_table(&bytes, feature_path, &config.csv)?;
        check_columns(&mut first_features, &table, "feature")?;
        let example = match labels {
            None => {
                let column = match config.labels {
                    LabelSource::Column(c) => c,
                    LabelSource::Files(_) => unreachable!("label files are listed"),
                };
                split_label_column(table, column, config.task)?
            }
            Some(label_paths) => {
                let label_path = &label_paths[i];
                let label_bytes = read_bytes(label_path)?;
                if i == 0 {
                    raw_heads.push(raw_head(label_path, &label_bytes));
                }
                let label_table = parse_numeric_table(&label_bytes, label_path, &config.csv)?;
                check_columns(&mut first_labels, &label_table, "label")?;
                let labels = encode_labels(&label_table, 1, config.task)?;
                SequenceExample {
                    features: table.values,
                    labels,
                    source: Some(feature_path.clone()),
                }
            }
        };
        examples.push(example);
        progress(Progress {
            done: i + 1,
            total,
            path: feature_path.clone(),
        });
    }
    let feature_count = examples[0].features.ncols();
    let label_width = examples[0].labels.ncols();
    Ok(
        SequenceDataset::new(examples, feature_count, label_width, config.task)
            .with_raw_heads(raw_heads),
    )
}

fn raw_head(path: &Path, bytes: &[u8]) -> RawHead {
    RawHead {
        path: path.to_path_buf(),
        lines: String::from_utf8_lossy(bytes)
            .lines()
            .take(RAW_HEAD_LINES)
            .map(str::to_string)
            .collect(),
    }
}

/// Remembers the first file's column count and checks later files against it.
fn check_columns(
    first: &mut Option<(PathBuf, usize)>,
    table: &NumericTable,
    role: &'static str,
) -> Result<()> {
    match first {
        None => {
            *first = Some((table.path.clone(), table.columns()));
            Ok(())
        }
        Some((first_path, expected)) if *expected != table.columns() => {
            Err(DataError::ColumnCountMismatch {
                path: table.path.clone(),
                first_path: first_path.clone(),
                role,
                expected: *expected,
                found: table.columns(),
            })
        }
        Some(_) => Ok(()),
    }
}

/// Splits a table into feature columns and the label column `column`.
fn split_label_column(table: NumericTable, column: i64, task: Task) -> Result<SequenceExample> {
    let columns = table.columns();
    let resolved = if column < 0 {
        columns as i64 + column
    } else {
        column
    };
    if resolved < 0 || resolved >= columns as i64 {
        return Err(DataError::LabelColumnOutOfRange {
            path: table.path.clone(),
            column,
            columns,
        });
    }
    if columns < 2 {
        return Err(DataError::NoFeatureColumns {
            path: table.path.clone(),
        });
    }
    let k = resolved as usize;
    let keep: Vec<usize> = (0..columns).filter(|&c| c != k).collect();
    let features = table.values.select(Axis(1), &keep);
    let label_table = NumericTable {
        path: table.path.clone(),
        values: table.values.select(Axis(1), &[k]),
        lines: table.lines,
    };
    let labels = encode_labels(&label_table, k + 1, task)?;
    Ok(SequenceExample {
        features,
        labels,
        source: Some(label_table.path),
    })
}

/// Turns a label table into label rows: one-hot for classification (the table must have
/// one column), values for regression. `column` is the 1-based column of the (first)
/// label column in its file, for messages.
fn encode_labels(table: &NumericTable, column: usize, task: Task) -> Result<Array2<f32>> {
    match task {
        Task::Regression => Ok(table.values.clone()),
        Task::Classification { classes } => {
            if table.columns() != 1 {
                return Err(DataError::TooManyLabelColumns {
                    path: table.path.clone(),
                    found: table.columns(),
                });
            }
            let mut one_hot = Array2::zeros((table.steps(), classes));
            for (row, &value) in table.values.column(0).iter().enumerate() {
                let line = table.lines[row];
                if value.fract() != 0.0 {
                    return Err(DataError::NotAClassIndex {
                        path: table.path.clone(),
                        line,
                        column,
                        text: value.to_string(),
                    });
                }
                if value < 0.0 || value >= classes as f32 {
                    return Err(DataError::LabelOutOfRange {
                        path: table.path.clone(),
                        line,
                        column,
                        value: f64::from(value),
                        classes,
                    });
                }
                one_hot[[row, value as usize]] = 1.0;
            }
            Ok(one_hot)
        }
    }
}
