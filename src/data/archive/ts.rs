//! sktime/aeon's `.ts` format, the UEA multivariate and TSER regression archives' own
//! format (the spec is sktime's `load_from_tsfile_to_dataframe` documentation; aeon's
//! `load_from_ts_file` reads the same files).
//!
//! ```text
//! # a comment
//! @problemName BasicMotions
//! @timeStamps false
//! @missing false
//! @univariate false
//! @dimensions 2
//! @equalLength true
//! @seriesLength 3
//! @classLabel true Standing Running
//! @data
//! 0.1,0.2,0.3:1.0,1.1,1.2:Standing
//! ```
//!
//! Header tags and their `true`/`false` values are read in any letter case (aeon writes
//! `@classLabel`, some files `@classlabel`); unknown tags are skipped, as aeon does.
//! Lines starting with `#` or `%` are comments.

use std::path::Path;

use super::{
    archive_error, class_indices, decode, duplicate, fill_missing, list, parse_value, raw_head,
    text_lines, to_matrix, ArchiveData, ArchiveFormat, ArchiveLabels, ArchiveOptions,
};
use crate::data::error::Result;

/// True for the header tags of a `.ts` file (lower case, without `@`).
pub(super) fn is_header_tag(word: &str) -> bool {
    matches!(
        word,
        "problemname"
            | "timestamps"
            | "missing"
            | "univariate"
            | "dimension"
            | "dimensions"
            | "equallength"
            | "serieslength"
            | "classlabel"
            | "targetlabel"
            | "data"
    )
}

/// What the header says, with the line of each tag that is checked against the data.
#[derive(Default)]
struct Header {
    problem_name: Option<String>,
    time_stamps: Option<(bool, u64)>,
    univariate: Option<(bool, u64)>,
    dimensions: Option<(usize, u64)>,
    equal_length: Option<(bool, u64)>,
    series_length: Option<(usize, u64)>,
    classes: Option<(Vec<String>, u64)>,
    target: bool,
}

/// Parses a `.ts` file (sktime/aeon's format, the UEA and TSER archives).
///
/// Returns one `(T, D)` matrix per case: D is `@dimensions` (or 1 with `@univariate
/// true`, or the first case's count), T each case's own length (`@equalLength false`
/// allows cases of different lengths; the dimensions of one case must have the same
/// length). Labels are the class after the last `:` (`@classLabel true a b c`, kept as
/// names with an index into the declared list) or a number (`@targetLabel true`).
///
/// Errors name `path` and the line: a missing `@data`, a bad tag value, a dimension
/// count other than declared, a value that is not a number (with its case, dimension
/// and position), ragged dimensions, a length other than `@seriesLength`, a class not
/// in the declared list, a missing value under [`super::Missing::Refuse`], time stamps
/// (`@timeStamps true`, not supported), an empty file or one without cases, invalid
/// UTF-8.
pub fn parse_ts(bytes: &[u8], path: &Path, options: &ArchiveOptions) -> Result<ArchiveData> {
    let text = decode(bytes, path)?;
    let err = |line: u64, problem: String| archive_error(path, line, problem);
    let mut lines = text_lines(text);
    let mut header = Header::default();
    let mut last_line = 0;
    let mut seen_data = false;
    let mut anything = false;
    for (number, raw) in lines.by_ref() {
        last_line = number;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            anything |= !line.is_empty();
            continue;
        }
        anything = true;
        let Some(tag) = line.strip_prefix('@') else {
            return Err(err(
                number,
                "expected a header tag (`@problemName`, `@classLabel`, ...) or `@data` \
                 before the first case; add the header, ending with `@data`"
                    .to_string(),
            ));
        };
        let mut words = tag.split_whitespace();
        let key = words.next().unwrap_or("").to_ascii_lowercase();
        let values: Vec<&str> = words.collect();
        match key.as_str() {
            "data" => {
                if !values.is_empty() {
                    return Err(err(
                        number,
                        "`@data` takes no value; put the cases on the lines after it".to_string(),
                    ));
                }
                seen_data = true;
                break;
            }
            "problemname" => header.problem_name = Some(values.join(" ")),
            "timestamps" => {
                header.time_stamps = Some((flag(&values, "@timeStamps", number, path)?, number))
            }
            "missing" => {
                // informative only: `?` and NaN are read either way
                flag(&values, "@missing", number, path)?;
            }
            "univariate" => {
                header.univariate = Some((flag(&values, "@univariate", number, path)?, number))
            }
            "equallength" => {
                header.equal_length = Some((flag(&values, "@equalLength", number, path)?, number))
            }
            "targetlabel" => header.target = flag(&values, "@targetLabel", number, path)?,
            "dimension" | "dimensions" => {
                header.dimensions = Some((count(&values, "@dimensions", number, path)?, number))
            }
            "serieslength" => {
                header.series_length =
                    Some((count(&values, "@seriesLength", number, path)?, number))
            }
            "classlabel" => {
                let Some((&first, names)) = values.split_first() else {
                    return Err(err(
                        number,
                        "`@classLabel` takes `true` and the class names, or `false`".to_string(),
                    ));
                };
                if first.eq_ignore_ascii_case("false") {
                    header.classes = None;
                } else if first.eq_ignore_ascii_case("true") {
                    if names.is_empty() {
                        return Err(err(
                            number,
                            "`@classLabel true` needs the class names after it, e.g. \
                             `@classLabel true a b c`"
                                .to_string(),
                        ));
                    }
                    let classes: Vec<String> = names.iter().map(|s| s.to_string()).collect();
                    if let Some(dup) = duplicate(&classes) {
                        return Err(err(
                            number,
                            format!("class {dup:?} is declared twice; list each class once"),
                        ));
                    }
                    header.classes = Some((classes, number));
                } else {
                    return Err(err(
                        number,
                        format!(
                            "`@classLabel` takes `true` and the class names, or `false`; \
                             found {first:?}"
                        ),
                    ));
                }
            }
            _ => {} // unknown tags are skipped, as aeon does
        }
    }
    if !seen_data {
        let problem = if anything {
            "no `@data` line; end the header with `@data` and put the cases after it"
        } else {
            "the file is empty; a `.ts` file needs a header, `@data` and at least one case"
        };
        return Err(err(last_line.max(1), problem.to_string()));
    }
    if let Some((true, line)) = header.time_stamps {
        return Err(err(
            line,
            "time-stamped series (`@timeStamps true`, values written `(t,v)`) are not \
             supported; write the values without time stamps and `@timeStamps false`"
                .to_string(),
        ));
    }
    if header.target {
        if let Some((_, line)) = &header.classes {
            return Err(err(
                *line,
                "both `@classLabel true` and `@targetLabel true`; a file has class labels or \
                 regression targets, not both"
                    .to_string(),
            ));
        }
    }
    if let (Some((true, _)), Some((d, line))) = (header.univariate, header.dimensions) {
        if d != 1 {
            return Err(err(
                line,
                format!(
                    "`@dimensions {d}` but `@univariate true`; make them agree \
                     (`@univariate false` for several dimensions)"
                ),
            ));
        }
    }
    let labelled = header.target || header.classes.is_some();
    // the expected dimension count and where it comes from
    let mut expected: Option<(usize, String)> = match (header.dimensions, header.univariate) {
        (Some((d, line)), _) => Some((d, format!("from `@dimensions` at line {line}"))),
        (None, Some((true, line))) => Some((1, format!("from `@univariate true` at line {line}"))),
        _ => None,
    };
    let equal_length = matches!(header.equal_length, Some((true, _)));
    // the expected length of every case, and where it comes from
    let mut length: Option<(usize, String)> = match (equal_length, header.series_length) {
        (true, Some((n, line))) => Some((n, format!("from `@seriesLength` at line {line}"))),
        _ => None,
    };

    let mut series = Vec::new();
    let mut case_lines = Vec::new();
    let mut class_labels: Vec<String> = Vec::new();
    let mut targets = Vec::new();
    for (number, raw) in lines {
        last_line = number;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('%') {
            continue;
        }
        if line.starts_with('@') {
            return Err(err(
                number,
                "a header tag after `@data`; move it above `@data`".to_string(),
            ));
        }
        let case = series.len();
        let mut fields: Vec<&str> = line.split(':').collect();
        if line.starts_with('(') {
            return Err(err(
                number,
                "time-stamped values `(t,v)` are not supported; write the values without \
                 time stamps"
                    .to_string(),
            ));
        }
        let label = if labelled {
            if fields.len() < 2 {
                return Err(err(
                    number,
                    format!(
                        "case {} has no label; the header declares labels, so write \
                         `values:label` (the label after the last `:`)",
                        case + 1
                    ),
                ));
            }
            fields.pop().map(str::trim)
        } else {
            None
        };
        match &expected {
            Some((d, from)) if fields.len() != *d => {
                let hint = if !labelled && fields.len() == d + 1 {
                    "; if the last field is a class label, declare `@classLabel true` \
                     with the class names"
                } else {
                    ""
                };
                return Err(err(
                    number,
                    format!(
                        "case {} has {} dimensions where {d} are expected ({from}); every \
                         case needs {d} (dimensions are separated by `:`){hint}",
                        case + 1,
                        fields.len()
                    ),
                ));
            }
            Some(_) => {}
            None => expected = Some((fields.len(), format!("as in the first case, line {number}"))),
        }
        let mut dims: Vec<Vec<f32>> = Vec::with_capacity(fields.len());
        for (d, field) in fields.iter().enumerate() {
            if field.trim().is_empty() {
                return Err(err(
                    number,
                    format!(
                        "case {}, dimension {} is empty; give at least one value (`?` for \
                         a missing one)",
                        case + 1,
                        d + 1
                    ),
                ));
            }
            let mut values = Vec::new();
            for (k, text) in field.split(',').enumerate() {
                let value = parse_value(text).map_err(|found| {
                    err(
                        number,
                        format!(
                            "case {}, dimension {}, value {}: expected a number, found \
                             {found}; fix it (`?` marks a missing value)",
                            case + 1,
                            d + 1,
                            k + 1
                        ),
                    )
                })?;
                values.push(value);
            }
            if let Some(first) = dims.first() {
                if values.len() != first.len() {
                    return Err(err(
                        number,
                        format!(
                            "case {}: dimension {} has {} values but dimension 1 has {}; the \
                             dimensions of one case must have the same length",
                            case + 1,
                            d + 1,
                            values.len(),
                            first.len()
                        ),
                    ));
                }
            }
            dims.push(values);
        }
        let steps = dims[0].len();
        if equal_length {
            match &length {
                Some((n, from)) if *n != steps => {
                    return Err(err(
                        number,
                        format!(
                            "case {} has {steps} steps where {n} are expected ({from}) \
                             under `@equalLength true`; fix the case, or declare \
                             `@equalLength false`",
                            case + 1
                        ),
                    ))
                }
                Some(_) => {}
                None => length = Some((steps, format!("as in the first case, line {number}"))),
            }
        }
        let mut matrix = to_matrix(&dims);
        fill_missing(&mut matrix, options.missing, path, number, case)?;
        if let Some(label) = label {
            if header.target {
                let value = match parse_value(label) {
                    Ok(v) if !v.is_nan() => v,
                    _ => {
                        return Err(err(
                            number,
                            format!(
                                "case {}: the regression target {label:?} is not a number; \
                                 `@targetLabel true` needs a number after the last `:`",
                                case + 1
                            ),
                        ))
                    }
                };
                targets.push(value);
            } else {
                class_labels.push(label.to_string());
            }
        }
        series.push(matrix);
        case_lines.push(number);
    }
    if series.is_empty() {
        return Err(err(
            last_line.max(1),
            "no cases after `@data`; add one line per case".to_string(),
        ));
    }
    let labels = match header.classes {
        Some((classes, declared)) => {
            let indices = class_indices(&class_labels, &classes).map_err(|case| {
                err(
                    case_lines[case],
                    format!(
                        "class label {:?} of case {} is not declared in `@classLabel` (line \
                         {declared}: {}); add it there or fix the label",
                        class_labels[case],
                        case + 1,
                        list(&classes)
                    ),
                )
            })?;
            ArchiveLabels::Classes { classes, indices }
        }
        None if header.target => ArchiveLabels::Targets(targets),
        None => ArchiveLabels::None,
    };
    Ok(ArchiveData {
        path: path.to_path_buf(),
        format: ArchiveFormat::Ts,
        problem_name: header.problem_name.filter(|n| !n.is_empty()),
        dimensions: expected.map_or(1, |(d, _)| d),
        series,
        lines: case_lines,
        labels,
        raw_head: raw_head(path, text),
    })
}

/// A tag's `true`/`false` value, in any letter case.
fn flag(values: &[&str], tag: &str, line: u64, path: &Path) -> Result<bool> {
    match values {
        [v] if v.eq_ignore_ascii_case("true") => Ok(true),
        [v] if v.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(archive_error(
            path,
            line,
            format!(
                "`{tag}` takes `true` or `false`, found {:?}",
                values.join(" ")
            ),
        )),
    }
}

/// A tag's whole-number value, at least 1.
fn count(values: &[&str], tag: &str, line: u64, path: &Path) -> Result<usize> {
    match values {
        [v] => match v.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(archive_error(
                path,
                line,
                format!("`{tag}` takes a whole number of at least 1, found {v:?}"),
            )),
        },
        _ => Err(archive_error(
            path,
            line,
            format!(
                "`{tag}` takes one whole number, found {:?}",
                values.join(" ")
            ),
        )),
    }
}
