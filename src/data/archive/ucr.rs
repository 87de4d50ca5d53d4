//! The UCR archive's univariate layout: `.tsv` (the 2018 archive, tab-separated) and the
//! older `.txt` (2015, comma- or space-separated). One series per line, the class label
//! first, then the values; a shorter series is padded at the end with `NaN`.
//!
//! ```text
//! 1<TAB>0.1<TAB>0.2<TAB>0.3
//! -1<TAB>0.4<TAB>0.5<TAB>NaN
//! ```

use std::cmp::Ordering;
use std::path::Path;

use super::{
    archive_error, class_indices, decode, fill_missing, parse_value, raw_head, text_lines,
    to_matrix, trim_padding, ArchiveData, ArchiveFormat, ArchiveLabels, ArchiveOptions,
};
use crate::data::error::Result;

/// Parses a UCR `.tsv` or `.txt` file: one univariate series per line.
///
/// Each line is split at tabs if it has any, else at commas if it has any, else at runs
/// of spaces. The first field is the class label, the rest the values, one per step:
/// a `(T, 1)` matrix per case. The trailing run of `NaN` (or `?`) ends the series (the
/// padding of a shorter one); a `NaN` before the last value is a missing value, refused
/// or filled as `options.missing` says.
///
/// Labels are kept as text, but numbers are written in their shortest form (the 2015
/// archive writes `1.0000000e+00` for class `1`). No class list is declared, so the
/// list is the labels found, sorted numerically when all are numbers (`-1`, `1`, `2`),
/// else as text. A test file may lack a class: give it the training file's list with
/// [`ArchiveData::with_classes`].
///
/// Errors name `path` and the line: a value that is not a number (with its position),
/// a line with a label and no values or only padding, a missing label, a missing value
/// under [`super::Missing::Refuse`], an empty file, invalid UTF-8.
pub fn parse_ucr(bytes: &[u8], path: &Path, options: &ArchiveOptions) -> Result<ArchiveData> {
    let text = decode(bytes, path)?;
    let err = |line: u64, problem: String| archive_error(path, line, problem);
    let mut series = Vec::new();
    let mut case_lines = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut last_line = 1;
    for (number, raw) in text_lines(text) {
        last_line = number;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(str::trim).collect()
        } else if line.contains(',') {
            line.split(',').map(str::trim).collect()
        } else {
            line.split_whitespace().collect()
        };
        let case = series.len();
        let label = fields[0];
        if label.is_empty() || super::is_missing(label) {
            return Err(err(
                number,
                format!(
                    "case {} has no class label (found {label:?}); the first field of a UCR \
                     line is the class label",
                    case + 1
                ),
            ));
        }
        let mut values = Vec::with_capacity(fields.len() - 1);
        for (k, text) in fields[1..].iter().enumerate() {
            let value = parse_value(text).map_err(|found| {
                let hint = if case == 0 {
                    " (UCR files have no header line)"
                } else {
                    ""
                };
                err(
                    number,
                    format!(
                        "case {}, value {} (field {}): expected a number, found {found}; fix \
                         it (`NaN` marks a missing value){hint}",
                        case + 1,
                        k + 1,
                        k + 2
                    ),
                )
            })?;
            values.push(value);
        }
        let mut dims = vec![values];
        trim_padding(&mut dims);
        if dims[0].is_empty() {
            return Err(err(
                number,
                format!(
                    "case {} has a class label but no values{}; give at least one value \
                     after the label",
                    case + 1,
                    if fields.len() > 1 { " (only NaN)" } else { "" }
                ),
            ));
        }
        let mut matrix = to_matrix(&dims);
        fill_missing(&mut matrix, options.missing, path, number, case)?;
        series.push(matrix);
        case_lines.push(number);
        labels.push(canonical_label(label));
    }
    if series.is_empty() {
        return Err(err(
            last_line,
            "the file has no series; a UCR file has one line per series, the class label \
             first"
                .to_string(),
        ));
    }
    let classes = sorted_classes(&labels);
    let indices = class_indices(&labels, &classes).expect("the classes are the labels found");
    Ok(ArchiveData {
        path: path.to_path_buf(),
        format: ArchiveFormat::Ucr,
        problem_name: None,
        dimensions: 1,
        series,
        lines: case_lines,
        labels: ArchiveLabels::Classes { classes, indices },
        raw_head: raw_head(path, text),
    })
}

/// A label as text; a number in its shortest form (`1.0000000e+00` is `1`).
fn canonical_label(label: &str) -> String {
    match label.parse::<f64>() {
        Ok(v) if v.is_finite() => {
            if v == 0.0 {
                "0".to_string() // not "-0"
            } else {
                v.to_string()
            }
        }
        _ => label.to_string(),
    }
}

/// The distinct labels, sorted numerically when every one is a number, else as text.
fn sorted_classes(labels: &[String]) -> Vec<String> {
    let mut classes: Vec<String> = labels.to_vec();
    let numbers: Option<Vec<f64>> = classes.iter().map(|c| c.parse::<f64>().ok()).collect();
    if numbers.is_some() {
        classes.sort_by(|a, b| {
            let (x, y) = (
                a.parse::<f64>().unwrap_or(0.0),
                b.parse::<f64>().unwrap_or(0.0),
            );
            x.partial_cmp(&y)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.cmp(b))
        });
    } else {
        classes.sort();
    }
    classes.dedup();
    classes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_labels_take_their_shortest_form() {
        assert_eq!(canonical_label("1.0000000e+00"), "1");
        assert_eq!(canonical_label("-1"), "-1");
        assert_eq!(canonical_label("2.5"), "2.5");
        assert_eq!(canonical_label("-0.0"), "0");
        assert_eq!(canonical_label("abnormal"), "abnormal");
    }

    #[test]
    fn numeric_classes_sort_by_value() {
        let labels: Vec<String> = ["10", "2", "-1", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(sorted_classes(&labels), vec!["-1", "2", "10"]);
    }
}
