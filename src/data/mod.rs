//! Sequence data: CSV sequence files, text corpora, synthetic tasks, alignment, masks and
//! minibatches. Plain `ndarray` arrays out; this module knows nothing of the network.
//!
//! # Layout
//! Element type `f32`, time-major like `nn`: T steps, B examples, F features, L label
//! columns, V vocabulary.
//! - features `(T, B, F)`, labels `(T, B, L)` ([`SeqBatch`])
//! - masks `(T, B)`: 1.0 real step, 0.0 padding; `None` when all ones
//! - classification labels are one-hot (L = classes), regression labels raw values
//!
//! # CSV sequences ([`CsvDataConfig`], [`load_csv`], [`load_train_validation`])
//! One file per sequence, one line per step, numeric fields; the semantics of DL4J's
//! `CSVSequenceRecordReader` + `SequenceRecordReaderDataSetIterator`.
//! - files: a numbered pattern `walk_%d.csv` / `seq_%04d.csv` with an inclusive range
//!   or open-ended, a glob `features_*.csv`, a directory (natural sort), or a list
//!   ([`SequenceSource`])
//! - [`CsvOptions`]: header lines to skip in every file, delimiter (comma, semicolon,
//!   tab, whitespace)
//! - labels: a column of the feature file (negative = from the end) or separate files
//!   paired by position ([`LabelSource`]); a one-line label file is many-to-one, a
//!   one-line feature file one-to-many
//! - [`Task`]: classification with N classes (0-based index, one-hot) or regression
//! - [`AlignmentMode`]: `EqualLength`, `AlignStart`, `AlignEnd` (see [`align`])
//! - [`Normalization`]: standardise or min-max, fitted on the training split only; the
//!   [`FeatureNormalizer`] is serialisable and reusable on other data
//! - [`ValidationSplit`]: by fraction or by separate folders
//!
//! ```ron
//! // variable-length univariate series, one class label per file (many-to-one)
//! (
//!     features: Directory("data/features"),
//!     labels: Files(Directory("data/labels")),
//!     task: Classification(classes: 6),
//!     alignment: AlignEnd,
//!     validation: Fraction(fraction: 0.25, seed: Some(1)),
//!     normalization: Standardize,
//! )
//! // equal-length multivariate series with a header line, target in the last column
//! (
//!     features: Pattern(pattern: "data/walk_%d.csv", start: 0, end: 99),
//!     labels: Column(-1),
//!     csv: (skip_lines: 1, delimiter: Semicolon),
//!     task: Regression,
//! )
//! ```
//!
//! Loading reads one file at a time and reports [`Progress`] through a callback. Datasets
//! keep the raw (unaligned) sequences, so [`SequenceDataset::batches`] and
//! [`SequenceDataset::preview`] work under any alignment mode without reading again.
//!
//! # The UCR/UEA archive ([`archive`], [`read_archive`], [`detect_format`])
//! sktime/aeon `.ts` (UEA multivariate, TSER regression), UCR `.tsv`/`.txt` and Weka
//! `.arff` files: many cases per file, each a `(T, D)` feature matrix with one class or
//! target ([`ArchiveData`]), turned into a [`SequenceDataset`] of many-to-one examples;
//! missing values refused or filled ([`Missing`]).
//!
//! # Text ([`CharCorpus`], [`TextOptions`])
//! Character vocabulary (sorted, stable, serialisable), optional lower-casing, UTF-8 with
//! byte-offset errors, `[train | validation | test]` split from the end, next-character
//! data batched as char-rnn parallel streams ([`StreamBatcher`], state carried across
//! minibatches) or random windows ([`StreamData::sample_windows`]).
//!
//! # Synthetic tasks ([`synthetic`])
//! Echo (TF echo-RNN tutorial), learn-one-sentence, sine next-value regression, and the
//! six-class control charts, which can also be written out as CSV files.
//!
//! # Errors
//! Bad input is a [`DataError`] naming the file, line and column and what to do; it is
//! never a panic. Panics are kept for programmer errors (shape mismatches between arrays
//! built in code).

pub mod align;
pub mod archive;
pub mod batch;
pub mod csv;
pub mod dataset;
pub mod error;
pub mod example;
pub mod load;
pub mod normalize;
pub mod preview;
pub mod read;
pub mod source;
pub mod stream;
pub mod synthetic;
pub mod text;

pub use align::{align_batch, check_alignment, AlignmentMode, Placement};
pub use archive::{
    detect_format, parse_archive, parse_arff, parse_ts, parse_ucr, read_archive, ArchiveData,
    ArchiveFormat, ArchiveLabels, ArchiveOptions, Missing,
};
pub use batch::{BatchDump, Lengths, SeqBatch};
pub use csv::{parse_numeric_table, read_numeric_table, CsvOptions, Delimiter, NumericTable};
pub use dataset::{Batches, RawHead, SequenceDataset, SequenceExample, Task};
pub use error::DataError;
pub use load::{
    load_csv, load_new, load_train_validation, CsvDataConfig, LabelSource, NewData, Progress,
    TrainValidation, ValidationSplit,
};
pub use normalize::{FeatureNormalizer, Normalization};
pub use preview::{DataPreview, DatasetStats, ExamplePreview, LabelStats, LengthBin, StepPreview};
pub use source::SequenceSource;
pub use stream::{StepSeries, StreamBatcher, StreamData};
pub use synthetic::{ControlChartTask, EchoTask, SineTask};
pub use text::{CharCorpus, CorpusSplit, TextOptions, Vocabulary};
