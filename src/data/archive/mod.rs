//! Readers for the UCR/UEA time-series classification (and TSER regression) archive
//! formats: sktime/aeon's `.ts` ([`parse_ts`]), the UCR archive's `.tsv` and older
//! `.txt` ([`parse_ucr`]) and Weka's `.arff` as the archive ships it ([`parse_arff`]).
//!
//! One archive file holds many sequences ("cases"). Each is read into the same types the
//! CSV reader produces: a `(T, D)` feature matrix per case (T steps of that case, D
//! dimensions, `f32`), so alignment, masks, batching and the preview work on it
//! unchanged ([`ArchiveData::to_dataset`]). Labels are one per case (many-to-one):
//! class names with the class list in its declared order, or regression targets.
//!
//! - [`detect_format`] tells the format from a file's content and extension (`None`
//!   for plain CSV); [`read_archive`] reads a file in the format it detects.
//! - [`Missing`] says what to do with missing values (`?`, `NaN`): refuse them (the
//!   default, an error naming file, line, case, dimension and step) or fill them.
//! - Every malformed file is a [`DataError`] naming the file and line (and the case,
//!   dimension or value where that helps) and what to do; no input panics.
//!
//! Not supported, and refused with a message saying so: time-stamped `.ts` series
//! (`@timeStamps true`, values written `(t,v)`), sparse ARFF rows (`{0 1.5, ...}`),
//! and ARFF string or date attributes.

mod arff;
mod ts;
mod ucr;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::csv::read_bytes;
use super::dataset::{RawHead, SequenceDataset, SequenceExample, Task, RAW_HEAD_LINES};
use super::error::{DataError, Result};
use super::read::{decode_text, TextProblem};

pub use arff::parse_arff;
pub use ts::parse_ts;
pub use ucr::parse_ucr;

/// The three file formats of the UCR/UEA archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArchiveFormat {
    /// sktime/aeon's `.ts`: a header of `@` tags, then one case per line, dimensions
    /// separated by `:`, values by `,`, the label after the last `:`.
    Ts,
    /// The UCR archive's `.tsv` (2018) and `.txt` (2015): one univariate series per
    /// line, the class label first, separated by tabs, commas or spaces.
    Ucr,
    /// Weka's ARFF as the archive ships it: numeric attributes (univariate) or one
    /// relational attribute (multivariate), then the class attribute.
    Arff,
}

impl ArchiveFormat {
    /// The usual file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::Ts => "ts",
            ArchiveFormat::Ucr => "tsv",
            ArchiveFormat::Arff => "arff",
        }
    }
}

/// What to do with a missing value (`?`, or `NaN` in any letter case) inside a series.
///
/// Padding is not a missing value: in UCR `.tsv`/`.txt` and ARFF files, where every row
/// has the same width, the trailing steps that are missing in every dimension are the
/// padding of a shorter series and are dropped (a series that is all padding is an
/// error). The fill works per case and per dimension; a dimension with no value at all
/// is filled with zeros by every mode but `Refuse`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Missing {
    /// An error naming the file, line, case, dimension and step (the default).
    #[default]
    Refuse,
    /// Replace each missing value by 0.
    Zero,
    /// The last value before it in the same dimension (the first value after it at
    /// the start of a series).
    ForwardFill,
    /// Linear interpolation between the nearest values before and after it in the same
    /// dimension, by step; before the first value or after the last, the nearest value.
    Linear,
}

/// How to read an archive file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveOptions {
    /// Missing values inside a series. Default: refused.
    pub missing: Missing,
}

/// The labels of an archive file, one per case.
#[derive(Clone, Debug, PartialEq)]
pub enum ArchiveLabels {
    /// No labels (`.ts` with `@classLabel false` and no `@targetLabel true`, or an ARFF
    /// file whose last attribute is the relational series).
    None,
    /// Class labels. `classes` is the class list in its declared order (`.ts`
    /// `@classLabel true a b c`, the ARFF class attribute `{a,b,c}`); UCR files declare
    /// none, so there it is the labels found, sorted (numerically when every label is a
    /// number, else as text). `indices[i]` is case `i`'s class, an index into `classes`.
    Classes {
        classes: Vec<String>,
        indices: Vec<usize>,
    },
    /// Regression targets, one per case (`.ts` `@targetLabel true`, the TSER archive;
    /// an ARFF file whose last attribute is numeric).
    Targets(Vec<f32>),
}

/// The cases of one archive file, unaligned.
#[derive(Clone, Debug, PartialEq)]
pub struct ArchiveData {
    /// The file read (named in messages and in each example's `source`).
    pub path: PathBuf,
    /// The format it was read as.
    pub format: ArchiveFormat,
    /// `.ts` `@problemName`, ARFF `@relation`; `None` for UCR files.
    pub problem_name: Option<String>,
    /// D, dimensions (features) per step; 1 for univariate data.
    pub dimensions: usize,
    /// One `(T, D)` matrix per case, T that case's steps (at least 1), in file order.
    /// Missing values are filled as [`ArchiveOptions::missing`] says; every value is
    /// finite.
    pub series: Vec<Array2<f32>>,
    /// The 1-based line of each case in the file.
    pub lines: Vec<u64>,
    /// One label per case.
    pub labels: ArchiveLabels,
    /// The first lines of the file, for the preview.
    pub raw_head: RawHead,
}

impl ArchiveData {
    /// Number of cases.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// True when there are no cases (never, for data returned by the readers).
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// The class list in its declared order, for classification data.
    pub fn classes(&self) -> Option<&[String]> {
        match &self.labels {
            ArchiveLabels::Classes { classes, .. } => Some(classes),
            _ => None,
        }
    }

    /// The class name of case `case`, for classification data (`None` past the end).
    pub fn class_name(&self, case: usize) -> Option<&str> {
        match &self.labels {
            ArchiveLabels::Classes { classes, indices } => {
                indices.get(case).map(|&i| classes[i].as_str())
            }
            _ => None,
        }
    }

    /// The task the labels make: classification with the declared class count, or
    /// regression with one target; `None` without labels.
    pub fn task(&self) -> Option<Task> {
        match &self.labels {
            ArchiveLabels::None => None,
            ArchiveLabels::Classes { classes, .. } => Some(Task::Classification {
                classes: classes.len(),
            }),
            ArchiveLabels::Targets(_) => Some(Task::Regression),
        }
    }

    /// The same data with its class indices into `classes` instead of its own list, so
    /// that a test file uses its training file's indices (UCR files declare no list,
    /// and a test file may lack a class). Errors name the file and the line of the first
    /// case whose class is not in `classes`, and data without class labels.
    pub fn with_classes(mut self, classes: &[String]) -> Result<Self> {
        let ArchiveLabels::Classes {
            classes: own,
            indices,
        } = &mut self.labels
        else {
            return Err(archive_error(
                &self.path,
                1,
                "the file has no class labels, so it cannot take another file's class list",
            ));
        };
        let names: Vec<String> = indices.iter().map(|&i| own[i].clone()).collect();
        *indices = class_indices(&names, classes).map_err(|case| {
            archive_error(
                &self.path,
                self.lines[case],
                format!(
                    "class label {:?} of case {} is not in the given class list ({}); give \
                     a list that contains it",
                    names[case],
                    case + 1,
                    list(classes)
                ),
            )
        })?;
        *own = classes.to_vec();
        Ok(self)
    }

    /// The cases as a [`SequenceDataset`]: features `(T, D)` per case; labels one step
    /// (many-to-one), one-hot of width `classes.len()` for classes or one regression
    /// value. Every example's `source` is this file.
    ///
    /// Fails for a file without labels.
    pub fn to_dataset(&self) -> Result<SequenceDataset> {
        let task = self.task().ok_or_else(|| DataError::InvalidOption {
            option: "labels",
            message: format!(
                "{} has no labels (`@classLabel false`, or no class attribute), so it \
                 cannot be training data; use a labelled file",
                self.path.display()
            ),
        })?;
        let width = match task {
            Task::Classification { classes } => classes,
            Task::Regression => 1,
        };
        let examples = self
            .series
            .iter()
            .enumerate()
            .map(|(case, features)| {
                let mut labels = Array2::zeros((1, width));
                match &self.labels {
                    ArchiveLabels::Classes { indices, .. } => labels[[0, indices[case]]] = 1.0,
                    ArchiveLabels::Targets(targets) => labels[[0, 0]] = targets[case],
                    ArchiveLabels::None => unreachable!("a task implies labels"),
                }
                SequenceExample {
                    features: features.clone(),
                    labels,
                    source: Some(self.path.clone()),
                }
            })
            .collect();
        Ok(SequenceDataset::new(examples, self.dimensions, width, task)
            .with_raw_heads(vec![self.raw_head.clone()]))
    }
}

/// The archive format of a file from its content and its extension, or `None` for
/// anything else (plain CSV sequence files in particular).
///
/// The content decides first: the first line that is neither blank nor a comment (`#`,
/// `%`) starting with `@relation` or `@attribute` is ARFF (unless `#` comments came
/// before it, as in Monash's `.tsf` forecasting files), with a `.ts` header tag
/// (`@problemName`, `@classLabel`, `@data`, ...) `.ts`, in any letter case. Otherwise the
/// extension: `.ts`, `.arff`, and `.tsv` or `.txt` for the UCR layout. `bytes` may be
/// the whole file or its start.
pub fn detect_format(path: &Path, bytes: &[u8]) -> Option<ArchiveFormat> {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let head = String::from_utf8_lossy(super::read::strip_bom(head));
    // whether a `#` comment came first: ARFF comments are `%`, so `#` and `@relation`
    // is another format (Monash's `.tsf`)
    let mut hash_comment = false;
    let first = text_lines(&head).map(|(_, l)| l.trim()).find(|l| {
        hash_comment |= l.starts_with('#');
        !l.is_empty() && !l.starts_with('#') && !l.starts_with('%')
    });
    if let Some(tag) = first.and_then(|l| l.strip_prefix('@')) {
        let word = tag
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if matches!(word.as_str(), "relation" | "attribute") && !hash_comment {
            return Some(ArchiveFormat::Arff);
        }
        if ts::is_header_tag(&word) {
            return Some(ArchiveFormat::Ts);
        }
    }
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "ts" => Some(ArchiveFormat::Ts),
        "arff" => Some(ArchiveFormat::Arff),
        "tsv" | "txt" => Some(ArchiveFormat::Ucr),
        _ => None,
    }
}

/// Reads an archive file in the format [`detect_format`] finds.
///
/// Errors: the file cannot be read, is not an archive file (read it as CSV instead), or
/// is malformed (see [`parse_archive`]).
pub fn read_archive(path: &Path, options: &ArchiveOptions) -> Result<ArchiveData> {
    let bytes = read_bytes(path)?;
    let format = detect_format(path, &bytes).ok_or_else(|| {
        archive_error(
            path,
            1,
            "not a UCR/UEA archive file (expected `.ts` or ARFF header lines, or a `.ts`, \
             `.tsv`, `.txt` or `.arff` name); read CSV sequence files with `data: Csv(...)`",
        )
    })?;
    parse_archive(&bytes, path, format, options)
}

/// Parses the bytes of an archive file in `format`. `path` is only used in messages.
///
/// Errors ([`DataError::Archive`], [`DataError::MissingValue`],
/// [`DataError::WideEncoding`]) name the file and line and say what to do.
pub fn parse_archive(
    bytes: &[u8],
    path: &Path,
    format: ArchiveFormat,
    options: &ArchiveOptions,
) -> Result<ArchiveData> {
    match format {
        ArchiveFormat::Ts => parse_ts(bytes, path, options),
        ArchiveFormat::Ucr => parse_ucr(bytes, path, options),
        ArchiveFormat::Arff => parse_arff(bytes, path, options),
    }
}

// ---- shared by the three readers ----

/// An [`DataError::Archive`] at `path:line`.
fn archive_error(path: &Path, line: u64, problem: impl Into<String>) -> DataError {
    DataError::Archive {
        path: path.to_path_buf(),
        line,
        problem: problem.into(),
    }
}

/// The file's text, or an error naming the encoding or the line of invalid UTF-8.
fn decode<'a>(bytes: &'a [u8], path: &Path) -> Result<&'a str> {
    decode_text(bytes).map_err(|problem| match problem {
        TextProblem::Wide(encoding) => DataError::WideEncoding {
            source_name: path.display().to_string(),
            encoding,
        },
        TextProblem::InvalidUtf8 { offset } => {
            let line = bytes[..offset].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            archive_error(
                path,
                line,
                format!("invalid UTF-8 at byte offset {offset}; save the file as UTF-8"),
            )
        }
    })
}

/// The lines of `text` with their 1-based numbers; `\n`, `\r\n` and a lone `\r` end a
/// line.
fn text_lines(text: &str) -> impl Iterator<Item = (u64, &str)> {
    // a terminator at the very end ends the last line and starts none
    let mut rest = Some(text).filter(|t| !t.is_empty());
    let mut number = 0u64;
    std::iter::from_fn(move || {
        let r = rest?;
        number += 1;
        match r.find(['\n', '\r']) {
            Some(i) => {
                let skip = if r[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&r[i + skip..]).filter(|t| !t.is_empty());
                Some((number, &r[..i]))
            }
            None => {
                rest = None;
                Some((number, r))
            }
        }
    })
}

/// The first lines of the file, for the preview.
fn raw_head(path: &Path, text: &str) -> RawHead {
    RawHead {
        path: path.to_path_buf(),
        lines: text_lines(text)
            .take(RAW_HEAD_LINES)
            .map(|(_, l)| l.to_string())
            .collect(),
    }
}

/// True for the spellings of a missing value: `?` and `NaN` in any letter case.
fn is_missing(text: &str) -> bool {
    text == "?" || text.eq_ignore_ascii_case("nan")
}

/// A value: a finite number, or NaN for a missing value. `Err` holds what was found.
fn parse_value(text: &str) -> std::result::Result<f32, String> {
    let text = text.trim();
    if is_missing(text) {
        return Ok(f32::NAN);
    }
    match text.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ if text.is_empty() => Err("an empty value".to_string()),
        _ => Err(format!("{text:?}")),
    }
}

/// `dims[d][t]` as a `(T, D)` matrix; every dimension has T values.
fn to_matrix(dims: &[Vec<f32>]) -> Array2<f32> {
    let steps = dims.first().map_or(0, Vec::len);
    Array2::from_shape_fn((steps, dims.len()), |(t, d)| dims[d][t])
}

/// Drops the trailing steps that are missing in every dimension (the padding of a
/// shorter series in a fixed-width row). Every dimension has the same length.
fn trim_padding(dims: &mut [Vec<f32>]) {
    let steps = dims.first().map_or(0, Vec::len);
    let real = (0..steps)
        .rev()
        .find(|&t| dims.iter().any(|d| !d[t].is_nan()))
        .map_or(0, |t| t + 1);
    for d in dims {
        d.truncate(real);
    }
}

/// Fills the missing (NaN) values of one case as `missing` says; under
/// [`Missing::Refuse`] the error names the first one. `case` is 0-based.
fn fill_missing(
    series: &mut Array2<f32>,
    missing: Missing,
    path: &Path,
    line: u64,
    case: usize,
) -> Result<()> {
    for (d, mut column) in series.columns_mut().into_iter().enumerate() {
        let Some(first_missing) = column.iter().position(|v| v.is_nan()) else {
            continue;
        };
        let known: Vec<usize> = (0..column.len()).filter(|&t| !column[t].is_nan()).collect();
        match missing {
            Missing::Refuse => {
                return Err(DataError::MissingValue {
                    path: path.to_path_buf(),
                    line,
                    case: case + 1,
                    dimension: d + 1,
                    step: first_missing + 1,
                })
            }
            Missing::Zero => column.mapv_inplace(|v| if v.is_nan() { 0.0 } else { v }),
            Missing::ForwardFill => {
                let mut last = known.first().map_or(0.0, |&t| column[t]);
                for v in column.iter_mut() {
                    if v.is_nan() {
                        *v = last;
                    } else {
                        last = *v;
                    }
                }
            }
            Missing::Linear => {
                if known.is_empty() {
                    column.fill(0.0);
                    continue;
                }
                // before the first known value and after the last: the nearest one
                let (first, last) = (known[0], known[known.len() - 1]);
                let (head, tail) = (column[first], column[last]);
                for t in 0..first {
                    column[t] = head;
                }
                for t in last + 1..column.len() {
                    column[t] = tail;
                }
                // between two known values: on the line through them
                for pair in known.windows(2) {
                    let (a, b) = (pair[0], pair[1]);
                    let (va, vb) = (column[a], column[b]);
                    for t in a + 1..b {
                        let w = (t - a) as f32 / (b - a) as f32;
                        column[t] = va + (vb - va) * w;
                    }
                }
            }
        }
    }
    Ok(())
}

/// A class list for messages: the first names, quoted.
fn list(classes: &[String]) -> String {
    const SHOWN: usize = 12;
    let mut out: Vec<String> = classes
        .iter()
        .take(SHOWN)
        .map(|c| format!("{c:?}"))
        .collect();
    if classes.len() > SHOWN {
        out.push(format!("... {} in all", classes.len()));
    }
    out.join(", ")
}

/// The index of each label in `classes`, or the 0-based case of the first label that
/// is not there. Linear in the labels and classes (a file may declare many classes).
fn class_indices(labels: &[String], classes: &[String]) -> std::result::Result<Vec<usize>, usize> {
    let positions: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .rev() // the first of equal names wins
        .collect();
    labels
        .iter()
        .enumerate()
        .map(|(case, name)| positions.get(name.as_str()).copied().ok_or(case))
        .collect()
}

/// The first name listed twice, if any.
fn duplicate(names: &[String]) -> Option<&String> {
    let mut seen = HashSet::new();
    names.iter().find(|n| !seen.insert(n.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn filled(values: Array2<f32>, missing: Missing) -> Array2<f32> {
        let mut values = values;
        fill_missing(&mut values, missing, Path::new("t.ts"), 1, 0).unwrap();
        values
    }

    #[test]
    fn linear_fill_interpolates_inside_and_holds_the_ends() {
        let nan = f32::NAN;
        let v = array![[nan], [1.0], [nan], [nan], [4.0], [nan]];
        assert_eq!(
            filled(v, Missing::Linear),
            array![[1.0], [1.0], [2.0], [3.0], [4.0], [4.0]]
        );
    }

    #[test]
    fn forward_fill_takes_the_first_value_at_the_start() {
        let nan = f32::NAN;
        let v = array![[nan, 1.0], [2.0, nan], [nan, nan]];
        assert_eq!(
            filled(v, Missing::ForwardFill),
            array![[2.0, 1.0], [2.0, 1.0], [2.0, 1.0]]
        );
    }

    #[test]
    fn a_dimension_without_values_is_filled_with_zeros() {
        let nan = f32::NAN;
        for missing in [Missing::Zero, Missing::ForwardFill, Missing::Linear] {
            assert_eq!(filled(array![[nan], [nan]], missing), array![[0.0], [0.0]]);
        }
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        let lines: Vec<_> = text_lines("a\r\nb\rc\n\nd\n").collect();
        assert_eq!(lines, vec![(1, "a"), (2, "b"), (3, "c"), (4, ""), (5, "d")]);
        assert_eq!(text_lines("").count(), 0);
    }
}
