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

/// How to hold out validation (or test) data.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ValidationSplit {
    /// No such set.
    #[default]
    None,
    /// Hold out `round(n * fraction)` sequences. With `seed`, a seeded shuffle picks them;
    /// without, they are the last sequences in file order. A test fraction is taken
    /// first, from every sequence; a validation fraction then from the rest.
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
    /// Header lines and delimiter of the feature files (and of the label files unless
    /// `label_csv` is given).
    pub csv: CsvOptions,
    /// Header lines and delimiter of separate label files. Default: the same as `csv`.
    pub label_csv: Option<CsvOptions>,
    /// Classification (one-hot) or regression. Default regression.
    pub task: Task,
    /// How sequences of different lengths are aligned. Default `EqualLength`.
    pub alignment: AlignmentMode,
    /// Validation hold-out, scored during training (early stopping uses it). Default none.
    pub validation: ValidationSplit,
    /// Test hold-out: never used for early stopping or any other choice; scored once at
    /// the end, with the final weights (and the best ones, with early stopping). Default
    /// none.
    pub test: ValidationSplit,
    /// Feature normalisation, fitted on the training split only. Default none.
    pub normalization: Normalization,
}

thread_local! {
    /// What a reading loop on this thread asks after each file (see [`with_stop`]).
    static STOP: std::cell::RefCell<Option<Box<dyn Fn() -> bool>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with `stop` asked after each file read on this thread: when it answers true,
/// reading ends with [`DataError::Interrupted`]. This is how a long `load data` or an
/// evaluation's data loading stops on request (Stop in the window, Ctrl-C in the REPL)
/// without every loader taking a flag.
pub fn with_stop<T>(stop: impl Fn() -> bool + 'static, f: impl FnOnce() -> T) -> T {
    let previous = STOP.with(|s| s.borrow_mut().replace(Box::new(stop)));
    // restored however `f` ends
    struct Restore(Option<Box<dyn Fn() -> bool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            STOP.with(|s| *s.borrow_mut() = previous);
        }
    }
    let _restore = Restore(previous);
    f()
}

/// Ends a reading loop with [`DataError::Interrupted`] when its thread was asked to stop.
fn stop_point(done: usize, total: usize) -> Result<(), DataError> {
    let stop = STOP.with(|s| s.borrow().as_ref().is_some_and(|stop| stop()));
    if stop {
        return Err(DataError::Interrupted { done, total });
    }
    Ok(())
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
    /// Empty when there is no test split.
    pub test: SequenceDataset,
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

/// Reads training, validation and test data, checks the alignment mode against it, fits
/// the normalisation on the training split only and applies it to all three.
pub fn load_train_validation(
    config: &CsvDataConfig,
    progress: &mut dyn FnMut(Progress),
) -> Result<TrainValidation> {
    let features = config.features.files()?;
    let labels = label_files(&config.features, &config.labels, features.len())?;
    let folders = |split: &ValidationSplit| match split {
        ValidationSplit::Folders { features, .. } => features.files().map(|f| f.len()),
        _ => Ok(0),
    };
    let total = features.len() + folders(&config.validation)? + folders(&config.test)?;
    let mut done = 0;
    let mut step = |p: Progress| {
        progress(Progress {
            done: done + p.done,
            total,
            path: p.path,
        })
    };
    let all = load_files(config, &features, labels.as_deref(), &mut step)?;
    done += features.len();
    let empty = || {
        SequenceDataset::new(
            Vec::new(),
            all.feature_count(),
            all.label_width(),
            all.task(),
        )
    };
    let (rest, mut test) = match &config.test {
        ValidationSplit::None => (all.clone(), empty()),
        ValidationSplit::Fraction { fraction, seed } => all.split_fraction(*fraction, *seed)?,
        ValidationSplit::Folders {
            features: f,
            labels: l,
        } => {
            let mut step = |p: Progress| {
                progress(Progress {
                    done: done + p.done,
                    total,
                    path: p.path,
                })
            };
            let test = load_folders(config, "test", f, l.as_ref(), &all, &mut step)?;
            done += test.len();
            (all.clone(), test)
        }
    };
    let (mut train, mut validation) = match &config.validation {
        ValidationSplit::None => (rest, empty()),
        ValidationSplit::Fraction { fraction, seed } => rest.split_fraction(*fraction, *seed)?,
        ValidationSplit::Folders {
            features: f,
            labels: l,
        } => {
            let mut step = |p: Progress| {
                progress(Progress {
                    done: done + p.done,
                    total,
                    path: p.path,
                })
            };
            let validation = load_folders(config, "validation", f, l.as_ref(), &all, &mut step)?;
            (rest, validation)
        }
    };
    train.check_alignment(config.alignment)?;
    validation.check_alignment(config.alignment)?;
    test.check_alignment(config.alignment)?;
    let normalizer = FeatureNormalizer::fit(config.normalization, &train)?;
    if let Some(normalizer) = &normalizer {
        normalizer.apply(&mut train)?;
        normalizer.apply(&mut validation)?;
        normalizer.apply(&mut test)?;
    }
    Ok(TrainValidation {
        train,
        validation,
        test,
        normalizer,
    })
}

/// Reads a held-out folder (`split` is `validation` or `test`) with the training files'
/// options and checks its widths against the training data.
fn load_folders(
    config: &CsvDataConfig,
    split: &'static str,
    features: &SequenceSource,
    labels: Option<&SequenceSource>,
    train: &SequenceDataset,
    progress: &mut dyn FnMut(Progress),
) -> Result<SequenceDataset> {
    let option = if split == "test" {
        "test.labels"
    } else {
        "validation.labels"
    };
    let feature_files = features.files()?;
    let label_paths = match (&config.labels, labels) {
        (LabelSource::Column(_), None) => None,
        (LabelSource::Files(_), Some(source)) => {
            let files = source.files()?;
            check_counts(features, source, feature_files.len(), files.len())?;
            Some(files)
        }
        (LabelSource::Column(_), Some(_)) => {
            return Err(DataError::InvalidOption {
                option,
                message: format!(
                    "the training labels are a column of the feature files, so the {split} \
                     folder must not have separate label files; remove `labels`"
                ),
            })
        }
        (LabelSource::Files(_), None) => {
            return Err(DataError::InvalidOption {
                option,
                message: format!(
                    "the training labels are separate files, so the {split} folder needs its \
                     label files too; set `labels`"
                ),
            })
        }
    };
    let data = load_files(config, &feature_files, label_paths.as_deref(), progress)?;
    let first_train = train.examples().first().and_then(|e| e.source.clone());
    if data.feature_count() != train.feature_count() {
        return Err(DataError::ColumnCountMismatch {
            path: feature_files[0].clone(),
            first_path: first_train.unwrap_or_default(),
            role: "feature",
            expected: train.feature_count(),
            found: data.feature_count(),
        });
    }
    if data.label_width() != train.label_width() {
        let path = label_paths
            .as_ref()
            .map_or_else(|| feature_files[0].clone(), |v| v[0].clone());
        return Err(DataError::ColumnCountMismatch {
            path,
            first_path: first_train.unwrap_or_default(),
            role: "label",
            expected: train.label_width(),
            found: data.label_width(),
        });
    }
    Ok(data)
}

/// Sequences for a trained model, read with its training options (see [`load_new`]).
#[derive(Clone, Debug, PartialEq)]
pub struct NewData {
    /// The sequences; unlabelled ones carry zero labels of their output steps.
    pub dataset: SequenceDataset,
    /// True when every sequence has real labels (so it can be scored).
    pub labelled: bool,
}

/// Reads new data for a model trained on `config`, the way training read its files: the
/// same CSV options, the same label column (which the files may keep or leave out), or
/// label files paired by position. A sequence without labels gets zero labels on
/// `output_steps` steps (default: one per feature step), which mark where the model's
/// outputs are read. `feature_count` and `label_width` are the model's. No
/// normalisation here: the caller applies the training normaliser.
pub fn load_new(
    config: &CsvDataConfig,
    features: &[PathBuf],
    labels: Option<&[PathBuf]>,
    feature_count: usize,
    label_width: usize,
    output_steps: Option<usize>,
    progress: &mut dyn FnMut(Progress),
) -> Result<NewData> {
    if let (LabelSource::Column(k), Some(_)) = (&config.labels, labels) {
        return Err(DataError::InvalidOption {
            option: "labels",
            message: format!(
                "this model was trained with its labels in column {k} of the feature files; \
                 give files with that column and no separate label files"
            ),
        });
    }
    if let Some(l) = labels {
        if l.len() != features.len() {
            return Err(DataError::FileCountMismatch {
                features: features.len(),
                labels: l.len(),
                features_source: format!("{} files", features.len()),
                labels_source: format!("{} files", l.len()),
            });
        }
    }
    let mut examples = Vec::with_capacity(features.len());
    let mut labelled = true;
    for (i, path) in features.iter().enumerate() {
        let table = parse_numeric_table(&read_bytes(path)?, path, &config.csv)?;
        let column = match config.labels {
            LabelSource::Column(k) => Some(k),
            LabelSource::Files(_) => None,
        };
        let label_column = column.filter(|_| table.columns() == feature_count + 1);
        let example = if let Some(k) = label_column {
            let mut e = split_label_column(table, k, config.task)?;
            e.source = Some(path.clone());
            e
        } else if table.columns() == feature_count {
            match labels {
                Some(label_paths) => {
                    let label_path = &label_paths[i];
                    let options = config.label_csv.as_ref().unwrap_or(&config.csv);
                    let label_table =
                        parse_numeric_table(&read_bytes(label_path)?, label_path, options)?;
                    SequenceExample {
                        labels: encode_labels(&label_table, 1, config.task)?,
                        features: table.values,
                        source: Some(path.clone()),
                    }
                }
                None => {
                    labelled = false;
                    let steps = output_steps.unwrap_or(table.steps()).max(1);
                    SequenceExample {
                        features: table.values,
                        labels: Array2::zeros((steps, label_width)),
                        source: Some(path.clone()),
                    }
                }
            }
        } else {
            return Err(DataError::ModelColumns {
                path: path.clone(),
                found: table.columns(),
                expected: feature_count,
                label_column: column,
            });
        };
        if example.labels.ncols() != label_width {
            let path = labels.map_or_else(|| path.clone(), |l| l[i].clone());
            return Err(DataError::InvalidOption {
                option: "labels",
                message: format!(
                    "{}: {} label columns per step; the model outputs {label_width}",
                    path.display(),
                    example.labels.ncols()
                ),
            });
        }
        examples.push(example);
        progress(Progress {
            done: i + 1,
            total: features.len(),
            path: path.clone(),
        });
        stop_point(i + 1, features.len())?;
    }
    Ok(NewData {
        dataset: SequenceDataset::new(examples, feature_count, label_width, config.task),
        labelled,
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
                let label_options = config.label_csv.as_ref().unwrap_or(&config.csv);
                let label_table = parse_numeric_table(&label_bytes, label_path, label_options)?;
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
        stop_point(i + 1, total)?;
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
