//! Everything that can go wrong while reading or preparing sequence data.
//!
//! Each variant names the file (and line/column where there is one), what was found, and
//! what to do about it. Lines and columns are 1-based, as an editor shows them; a column
//! is the position of the field in its row.

use std::path::PathBuf;

/// An error from the data module. Bad input is always reported as one of these, never
/// as a panic.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading stopped on request (Stop, Ctrl-C; see [`super::load::with_stop`]).
    #[error(
        "stopped reading the data after {done} of {total} files, as asked; run it again to finish"
    )]
    Interrupted { done: usize, total: usize },

    /// A file could not be opened or read.
    #[error("cannot read {}: {source}; check that the file exists and is readable", path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file or directory could not be written (synthetic data generators).
    #[error("cannot write {}: {source}; check that the directory is writable", path.display())]
    Unwritable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A field that should hold a number does not.
    #[error(
        "{}:{line}:{column}: expected a number, found {text:?}; fix the value, or raise \
         `skip_lines` if this line is a header",
        path.display()
    )]
    NonNumeric {
        path: PathBuf,
        line: u64,
        column: usize,
        text: String,
    },

    /// A row has a different number of fields than the first data row of its file.
    #[error(
        "{}:{line}: expected {expected} columns (as in line {first_line}), found {found}; \
         check the delimiter and the row",
        path.display()
    )]
    RaggedRow {
        path: PathBuf,
        line: u64,
        first_line: u64,
        expected: usize,
        found: usize,
    },

    /// Two files of the same kind (features, or labels) have different column counts.
    #[error(
        "{} has {found} columns but {} has {expected}; every {role} file must have the same \
         columns",
        path.display(),
        first_path.display()
    )]
    ColumnCountMismatch {
        path: PathBuf,
        first_path: PathBuf,
        role: &'static str,
        expected: usize,
        found: usize,
    },

    /// A file has no data rows, so its sequence would have zero steps.
    #[error(
        "{}: no data rows after skipping {skipped} line(s); a sequence needs at least one \
         step (remove the file or lower `skip_lines`)",
        path.display()
    )]
    EmptySequence { path: PathBuf, skipped: usize },

    /// A file named by a numbered pattern does not exist.
    #[error(
        "{}: file {index} of pattern {pattern:?} (range {start}..{end}) does not exist; fix \
         the range or add the file",
        path.display()
    )]
    MissingFile {
        path: PathBuf,
        pattern: String,
        index: usize,
        start: usize,
        end: usize,
    },

    /// New data for a trained model has other columns than the model reads.
    #[error(
        "{}: {found} columns per line; the model reads {expected} feature columns{}; give \
         files laid out like the training files",
        path.display(),
        label_column.map(|k| format!(" (plus the label column {k} it was trained with, which may be left out)")).unwrap_or_default()
    )]
    ModelColumns {
        path: PathBuf,
        found: usize,
        expected: usize,
        label_column: Option<i64>,
    },

    /// A source selects no files at all.
    #[error("{source_desc}: no sequence files found; check the path, pattern or range")]
    NoFiles { source_desc: String },

    /// Feature and label sources select different numbers of files.
    #[error(
        "{features} feature files ({features_source}) but {labels} label files \
         ({labels_source}); features and labels are paired by position, so the counts must \
         match"
    )]
    FileCountMismatch {
        features: usize,
        labels: usize,
        features_source: String,
        labels_source: String,
    },

    /// A class label is not in `0..classes`.
    #[error(
        "{}:{line}:{column}: class label {value} is out of range for {classes} classes \
         (labels are 0-based, 0..={max}); raise the number of classes or fix the label",
        path.display(),
        max = classes.saturating_sub(1)
    )]
    LabelOutOfRange {
        path: PathBuf,
        line: u64,
        column: usize,
        value: f64,
        classes: usize,
    },

    /// A class label is a number but not a whole number.
    #[error(
        "{}:{line}:{column}: class label {text:?} is not a whole number; classification \
         labels are 0-based class indices (use regression for real-valued targets)",
        path.display()
    )]
    NotAClassIndex {
        path: PathBuf,
        line: u64,
        column: usize,
        text: String,
    },

    /// Classification needs exactly one label column but the label file has more.
    #[error(
        "{}: classification labels need exactly one column (the class index), found \
         {found}; use regression for several label columns",
        path.display()
    )]
    TooManyLabelColumns { path: PathBuf, found: usize },

    /// The label column index does not exist in a file.
    #[error(
        "{}: label column {column} does not exist in a file with {columns} columns (0-based; \
         negative counts from the end, -1 is the last)",
        path.display()
    )]
    LabelColumnOutOfRange {
        path: PathBuf,
        column: i64,
        columns: usize,
    },

    /// Taking the label column out of a row would leave no feature columns.
    #[error(
        "{}: the only column is the label column, so no feature columns are left; give the \
         labels in separate files or add feature columns",
        path.display()
    )]
    NoFeatureColumns { path: PathBuf },

    /// `EQUAL_LENGTH` alignment was asked for but the sequences differ in length.
    #[error(
        "{example}: {detail}; alignment EQUAL_LENGTH needs every sequence (features and \
         labels) to have the same number of steps; use ALIGN_START or ALIGN_END \
         (`--align start|end`) for sequences of different lengths"
    )]
    LengthMismatch { example: String, detail: String },

    /// Text that should be UTF-8 is not.
    #[error("{source_name}: invalid UTF-8 at byte offset {offset}; save the text as UTF-8")]
    InvalidUtf8 { source_name: String, offset: usize },

    /// Text in a wide encoding (UTF-16 or UTF-32), recognised by its byte-order mark or
    /// its NUL bytes.
    #[error("{source_name}: the file is {encoding} text; save it as UTF-8")]
    WideEncoding {
        source_name: String,
        encoding: &'static str,
    },

    /// A character is not in the vocabulary used for encoding.
    #[error(
        "character {ch:?} at character position {position} is not in the vocabulary \
         ({vocab_size} characters); build the vocabulary from text that contains it"
    )]
    UnknownChar {
        ch: char,
        position: usize,
        vocab_size: usize,
    },

    /// A token id is outside the vocabulary (decoding).
    #[error("token id {id} is outside the vocabulary of {vocab_size} characters")]
    UnknownToken { id: usize, vocab_size: usize },

    /// A stream (text corpus or synthetic series) is too short for the requested batching.
    #[error("{what}: {len} steps available but at least {needed} needed; {hint}")]
    TooShort {
        what: String,
        len: usize,
        needed: usize,
        hint: String,
    },

    /// Normalisation statistics were fitted on data with a different number of features.
    #[error(
        "normalisation statistics cover {expected} features but the data has {found}; refit \
         the statistics on this data's training split"
    )]
    FeatureCountMismatch { expected: usize, found: usize },

    /// A UCR/UEA archive file (`.ts`, UCR `.tsv`/`.txt`, Weka `.arff`) that breaks its
    /// format: a bad header, a value that is not a number, ragged dimensions, an
    /// undeclared class label, ... `line` is 1-based; `problem` says where in the line
    /// (case, dimension, value) and what to do.
    #[error("{}:{line}: {problem}", path.display())]
    Archive {
        path: PathBuf,
        line: u64,
        problem: String,
    },

    /// A missing value (`?` or `NaN`) in an archive file read with
    /// `Missing::Refuse` (the default). Case, dimension and step are 1-based.
    #[error(
        "{}:{line}: missing value (`?` or NaN) in case {case}, dimension {dimension}, step \
         {step}; fill missing values with the `missing` option (Zero, ForwardFill or \
         Linear) or fix the file",
        path.display()
    )]
    MissingValue {
        path: PathBuf,
        line: u64,
        case: usize,
        dimension: usize,
        step: usize,
    },

    /// An option has a value that cannot work.
    #[error("invalid option `{option}`: {message}")]
    InvalidOption {
        option: &'static str,
        message: String,
    },
}

/// Shorthand for results of this module.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
