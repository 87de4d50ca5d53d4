//! Weka's ARFF, as the UCR/UEA archive ships it (Weka's "ARFF (stable version)" page is
//! the spec).
//!
//! Univariate: one numeric attribute per step, then the class attribute.
//!
//! ```text
//! % a comment
//! @relation GunPoint
//! @attribute att0 numeric
//! @attribute att1 numeric
//! @attribute target {1,2}
//! @data
//! 0.1,0.2,1
//! ```
//!
//! Multivariate: one relational attribute whose nested numeric attributes are the steps;
//! its value is a quoted string with the dimensions separated by `\n` (backslash, n) and
//! the values by commas.
//!
//! ```text
//! @relation BasicMotions
//! @attribute input relational
//!   @attribute t0 numeric
//!   @attribute t1 numeric
//! @end input
//! @attribute activity {Standing,Running}
//! @data
//! '0.1,0.2\n1.0,1.1',Standing
//! ```
//!
//! Keywords and types are read in any letter case; lines starting with `%` are
//! comments; `?` is a missing value.

use std::path::Path;

use super::{
    archive_error, class_indices, decode, duplicate, fill_missing, list, parse_value, raw_head,
    text_lines, to_matrix, trim_padding, ArchiveData, ArchiveFormat, ArchiveLabels, ArchiveOptions,
};
use crate::data::error::Result;

/// The type of an attribute.
enum Kind {
    Numeric,
    Nominal(Vec<String>),
    /// A relational attribute with this many nested numeric attributes (steps).
    Relational(usize),
    /// `string` or `date`, which the archive never uses.
    Other(String),
}

struct Attribute {
    name: String,
    kind: Kind,
    line: u64,
}

/// Parses an ARFF file of the UCR/UEA archive.
///
/// The last attribute is the target, as Weka's default class index says: nominal
/// `{a,b,c}` for classes (kept as names, with an index into the declared list), numeric
/// for a regression target; when the last attribute is the relational series there are
/// no labels. The other attributes are the series: numeric attributes, one per step
/// (univariate, a `(T, 1)` matrix per case), or one relational attribute (multivariate,
/// `(T, D)` with D the dimensions in its value and T its nested attributes). Rows have a
/// fixed width, so the trailing steps missing (`?`) in every dimension are the padding
/// of a shorter series and are dropped; other missing values are refused or filled as
/// `options.missing` says.
///
/// Errors name `path` and the line: a missing `@data`, an unknown keyword or attribute
/// type, a `string`/`date` attribute, an unclosed relational attribute, a row with
/// another number of values than attributes, a value that is not a number (with its
/// case and attribute or dimension), dimension counts that differ between cases, a
/// class not in the declared list, a missing class, sparse rows (not supported), a
/// missing value under [`super::Missing::Refuse`], an empty file, invalid UTF-8.
pub fn parse_arff(bytes: &[u8], path: &Path, options: &ArchiveOptions) -> Result<ArchiveData> {
    let text = decode(bytes, path)?;
    let err = |line: u64, problem: String| archive_error(path, line, problem);
    let mut lines = text_lines(text);
    let mut relation = None;
    let mut attributes: Vec<Attribute> = Vec::new();
    // the relational attribute being declared: (its index, nested attributes so far)
    let mut open: Option<(usize, usize)> = None;
    let mut last_line = 1;
    let mut seen_data = false;
    let mut anything = false;
    for (number, raw) in lines.by_ref() {
        last_line = number;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('%') {
            anything |= !line.is_empty();
            continue;
        }
        anything = true;
        let Some(rest) = line.strip_prefix('@') else {
            return Err(err(
                number,
                "expected `@relation`, `@attribute` or `@data` before the first row; \
                 declare the attributes and end the header with `@data`"
                    .to_string(),
            ));
        };
        let (keyword, rest) = split_word(rest);
        match keyword.to_ascii_lowercase().as_str() {
            "relation" => relation = Some(unquote(rest.trim())),
            "attribute" => {
                let (name, kind) = attribute(rest, number, path)?;
                if let Some((index, nested)) = &mut open {
                    if !matches!(kind, Kind::Numeric) {
                        return Err(err(
                            number,
                            format!(
                                "attribute `{name}` inside the relational attribute `{}` is \
                                 not numeric; the steps of a series are numeric attributes",
                                attributes[*index].name
                            ),
                        ));
                    }
                    *nested += 1;
                } else {
                    if let Kind::Relational(_) = kind {
                        open = Some((attributes.len(), 0));
                    }
                    attributes.push(Attribute {
                        name,
                        kind,
                        line: number,
                    });
                }
            }
            "end" => match open.take() {
                Some((index, nested)) => {
                    if nested == 0 {
                        return Err(err(
                            number,
                            format!(
                                "the relational attribute `{}` declares no nested \
                                 attributes; declare one numeric attribute per step",
                                attributes[index].name
                            ),
                        ));
                    }
                    attributes[index].kind = Kind::Relational(nested);
                }
                None => {
                    return Err(err(
                        number,
                        "`@end` without a relational attribute to close; remove it".to_string(),
                    ))
                }
            },
            "data" => {
                if let Some((index, _)) = open {
                    return Err(err(
                        number,
                        format!(
                            "the relational attribute `{}` (line {}) has no `@end {}` \
                             before `@data`; close it",
                            attributes[index].name, attributes[index].line, attributes[index].name
                        ),
                    ));
                }
                seen_data = true;
                break;
            }
            other => {
                return Err(err(
                    number,
                    format!(
                        "unknown keyword `@{other}`; ARFF headers have `@relation`, \
                         `@attribute`, `@end` and `@data`"
                    ),
                ))
            }
        }
    }
    if !seen_data {
        let problem = if anything {
            "no `@data` line; end the attributes with `@data` and put the rows after it"
        } else {
            "the file is empty; an ARFF file needs `@relation`, `@attribute` lines, `@data` \
             and rows"
        };
        return Err(err(last_line, problem.to_string()));
    }
    let layout = Layout::of(&attributes, path, last_line)?;

    let mut series = Vec::new();
    let mut case_lines = Vec::new();
    let mut class_labels: Vec<String> = Vec::new();
    let mut targets = Vec::new();
    // dimensions of a relational series: (count, line of the first case)
    let mut dimensions: Option<(usize, u64)> = None;
    for (number, raw) in lines {
        last_line = number;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('%') {
            continue;
        }
        let case = series.len();
        if line.starts_with('{') {
            return Err(err(
                number,
                "sparse rows (`{index value, ...}`) are not supported; write every value"
                    .to_string(),
            ));
        }
        let fields = split_fields(line)
            .map_err(|problem| err(number, format!("case {}: {problem}", case + 1)))?;
        if fields.len() != attributes.len() {
            return Err(err(
                number,
                format!(
                    "case {} has {} values but {} attributes are declared; give one value \
                     per attribute, separated by commas",
                    case + 1,
                    fields.len(),
                    attributes.len()
                ),
            ));
        }
        let mut dims: Vec<Vec<f32>> = match layout.steps {
            Steps::Numeric(steps) => {
                let mut values = Vec::with_capacity(steps);
                for (k, text) in fields[..steps].iter().enumerate() {
                    values.push(parse_value(text).map_err(|found| {
                        err(
                            number,
                            format!(
                                "case {}, attribute `{}` (value {}): expected a number, \
                                 found {found}; fix it (`?` marks a missing value)",
                                case + 1,
                                attributes[k].name,
                                k + 1
                            ),
                        )
                    })?);
                }
                vec![values]
            }
            Steps::Relational(steps) => {
                let value = &fields[0];
                let mut rows: Vec<&str> = value.split('\n').collect();
                if rows.len() > 1 && rows.last().is_some_and(|r| r.trim().is_empty()) {
                    rows.pop();
                }
                let mut dims = Vec::with_capacity(rows.len());
                for (d, row) in rows.iter().enumerate() {
                    if row.trim().is_empty() {
                        return Err(err(
                            number,
                            format!(
                                "case {}, dimension {} is empty; write {steps} values per \
                                 dimension (`?` for a missing one)",
                                case + 1,
                                d + 1
                            ),
                        ));
                    }
                    let mut values = Vec::with_capacity(steps);
                    for (k, text) in row.split(',').enumerate() {
                        values.push(parse_value(text).map_err(|found| {
                            err(
                                number,
                                format!(
                                    "case {}, dimension {}, value {}: expected a number, \
                                     found {found}; fix it (`?` marks a missing value)",
                                    case + 1,
                                    d + 1,
                                    k + 1
                                ),
                            )
                        })?);
                    }
                    if values.len() != steps {
                        return Err(err(
                            number,
                            format!(
                                "case {}, dimension {} has {} values but the relational \
                                 attribute `{}` declares {steps} steps; pad a shorter series \
                                 with `?`",
                                case + 1,
                                d + 1,
                                values.len(),
                                attributes[0].name
                            ),
                        ));
                    }
                    dims.push(values);
                }
                match dimensions {
                    None => dimensions = Some((dims.len(), number)),
                    Some((n, first)) if n != dims.len() => {
                        return Err(err(
                            number,
                            format!(
                                "case {} has {} dimensions but the first case (line {first}) \
                                 has {n}; every case needs the same dimensions (separated \
                                 by `\\n` in the quoted value)",
                                case + 1,
                                dims.len()
                            ),
                        ))
                    }
                    Some(_) => {}
                }
                dims
            }
        };
        trim_padding(&mut dims);
        if dims[0].is_empty() {
            return Err(err(
                number,
                format!(
                    "case {} has no values (every one is `?`); give at least one step",
                    case + 1
                ),
            ));
        }
        let mut matrix = to_matrix(&dims);
        fill_missing(&mut matrix, options.missing, path, number, case)?;
        if let Some(target) = &layout.target {
            let text = fields[fields.len() - 1].as_str();
            if text == "?" {
                return Err(err(
                    number,
                    format!(
                        "case {} has a missing target `{text}`; every case needs its label",
                        case + 1
                    ),
                ));
            }
            match target {
                Target::Classes(..) => class_labels.push(text.to_string()),
                Target::Number => match parse_value(text) {
                    Ok(v) if !v.is_nan() => targets.push(v),
                    Ok(_) => {
                        return Err(err(
                            number,
                            format!(
                                "case {} has a missing target `{text}`; every case needs its \
                                 label",
                                case + 1
                            ),
                        ))
                    }
                    Err(found) => {
                        return Err(err(
                            number,
                            format!(
                                "case {}: the target is numeric but found {found}; fix the \
                                 value",
                                case + 1
                            ),
                        ))
                    }
                },
            }
        }
        series.push(matrix);
        case_lines.push(number);
    }
    if series.is_empty() {
        return Err(err(
            last_line,
            "no rows after `@data`; add one row per case".to_string(),
        ));
    }
    let labels = match layout.target {
        Some(Target::Classes(classes, declared)) => {
            let indices = class_indices(&class_labels, &classes).map_err(|case| {
                err(
                    case_lines[case],
                    format!(
                        "class label {:?} of case {} is not declared by the class attribute \
                         (line {declared}: {}); add it there or fix the label",
                        class_labels[case],
                        case + 1,
                        list(&classes)
                    ),
                )
            })?;
            ArchiveLabels::Classes { classes, indices }
        }
        Some(Target::Number) => ArchiveLabels::Targets(targets),
        None => ArchiveLabels::None,
    };
    Ok(ArchiveData {
        path: path.to_path_buf(),
        format: ArchiveFormat::Arff,
        problem_name: relation.filter(|n| !n.is_empty()),
        dimensions: dimensions.map_or(1, |(d, _)| d),
        series,
        lines: case_lines,
        labels,
        raw_head: raw_head(path, text),
    })
}

/// Where the series is among the attributes.
enum Steps {
    /// The first `n` attributes, numeric, one per step.
    Numeric(usize),
    /// The first attribute, relational, with this many steps.
    Relational(usize),
}

enum Target {
    /// The declared classes and the line of the class attribute.
    Classes(Vec<String>, u64),
    Number,
}

struct Layout {
    steps: Steps,
    target: Option<Target>,
}

impl Layout {
    /// The series and target attributes, or an error naming the attribute that does not
    /// fit the archive's layout.
    fn of(attributes: &[Attribute], path: &Path, data_line: u64) -> Result<Layout> {
        let err = |line: u64, problem: String| archive_error(path, line, problem);
        let Some(last) = attributes.last() else {
            return Err(err(
                data_line,
                "no attributes before `@data`; declare the series and class attributes".to_string(),
            ));
        };
        let (series, target) = match &last.kind {
            Kind::Nominal(classes) => (
                &attributes[..attributes.len() - 1],
                Some(Target::Classes(classes.clone(), last.line)),
            ),
            Kind::Numeric => (&attributes[..attributes.len() - 1], Some(Target::Number)),
            _ => (attributes, None),
        };
        for a in series {
            let kind = match &a.kind {
                Kind::Numeric | Kind::Relational(_) => continue,
                Kind::Nominal(_) => "nominal",
                Kind::Other(kind) => kind,
            };
            return Err(err(
                a.line,
                format!(
                    "attribute `{}` is {kind}; the series of an archive file is numeric \
                     attributes (one per step) or one relational attribute, and only the \
                     last attribute is the class",
                    a.name
                ),
            ));
        }
        let steps = match series {
            [] => {
                return Err(err(
                    last.line,
                    format!(
                        "`{}` is the only attribute, so no series is left; declare the \
                         series attributes before the class",
                        last.name
                    ),
                ))
            }
            [Attribute {
                kind: Kind::Relational(steps),
                ..
            }] => Steps::Relational(*steps),
            _ => {
                if let Some(a) = series
                    .iter()
                    .find(|a| matches!(a.kind, Kind::Relational(_)))
                {
                    return Err(err(
                        a.line,
                        format!(
                            "the relational attribute `{}` is not alone; a multivariate \
                             archive file has one relational attribute and the class",
                            a.name
                        ),
                    ));
                }
                Steps::Numeric(series.len())
            }
        };
        Ok(Layout { steps, target })
    }
}

/// The first word of `text` and the rest.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let end = text.find(char::is_whitespace).unwrap_or(text.len());
    (&text[..end], &text[end..])
}

/// An `@attribute` declaration's name and type.
fn attribute(rest: &str, line: u64, path: &Path) -> Result<(String, Kind)> {
    let err = |problem: String| archive_error(path, line, problem);
    let rest = rest.trim();
    // the name: quoted, or up to whitespace or `{`
    let (name, after) = match rest.chars().next() {
        Some(q @ ('\'' | '"')) => match closing_quote(rest, q) {
            Some(end) => (unescape(&rest[1..end]), &rest[end + 1..]),
            None => {
                return Err(err(format!(
                    "the attribute name has no closing {q}; close the quote"
                )))
            }
        },
        Some(_) => {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '{')
                .unwrap_or(rest.len());
            (rest[..end].to_string(), &rest[end..])
        }
        None => {
            return Err(err(
                "`@attribute` needs a name and a type, e.g. `@attribute att0 numeric`".to_string(),
            ))
        }
    };
    let kind_text = after.trim();
    let (word, _) = split_word(kind_text);
    let kind = match word.to_ascii_lowercase().as_str() {
        _ if kind_text.starts_with('{') => {
            let Some(inner) = kind_text
                .strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
            else {
                return Err(err(format!(
                    "the class list of `{name}` does not end with `}}`; write `{{a,b,c}}`"
                )));
            };
            let classes =
                split_fields(inner).map_err(|p| err(format!("the class list of `{name}`: {p}")))?;
            if classes.iter().all(|c| c.is_empty()) {
                return Err(err(format!(
                    "the class list of `{name}` is empty; list the classes, e.g. `{{a,b}}`"
                )));
            }
            if let Some(dup) = duplicate(&classes) {
                return Err(err(format!(
                    "class {dup:?} is listed twice in `{name}`; list each class once"
                )));
            }
            Kind::Nominal(classes)
        }
        "numeric" | "real" | "integer" => Kind::Numeric,
        "relational" => Kind::Relational(0),
        "string" | "date" => Kind::Other(word.to_ascii_lowercase()),
        "" => {
            return Err(err(format!(
                "attribute `{name}` has no type; write `numeric`, `relational` or a class \
                 list `{{a,b}}`"
            )))
        }
        other => {
            return Err(err(format!(
                "attribute `{name}` has the unknown type {other:?}; write `numeric`, \
                 `relational` or a class list `{{a,b}}`"
            )))
        }
    };
    Ok((name, kind))
}

/// The fields of a comma-separated row, trimmed, with quotes (`'` or `"`) removed and
/// their backslash escapes resolved (`\n` is a newline, the dimension separator of a
/// relational value). `Err` says what is wrong.
fn split_fields(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        let (field, after) = match rest.chars().next() {
            Some(q @ ('\'' | '"')) => {
                let end = closing_quote(rest, q)
                    .ok_or_else(|| format!("a value opened with {q} is not closed; close it"))?;
                let after = rest[end + 1..].trim_start();
                if !(after.is_empty() || after.starts_with(',')) {
                    return Err(format!(
                        "text after the quoted value {:?}; separate values with commas",
                        &rest[..end + 1]
                    ));
                }
                (unescape(&rest[1..end]), after)
            }
            _ => {
                let end = rest.find(',').unwrap_or(rest.len());
                (rest[..end].trim().to_string(), &rest[end..])
            }
        };
        fields.push(field);
        match after.strip_prefix(',') {
            Some(next) => rest = next,
            None => return Ok(fields),
        }
    }
}

/// The byte index of the quote `q` that closes the one at the start of `text`, skipping
/// backslash-escaped characters.
fn closing_quote(text: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == q => return Some(i),
            _ => {}
        }
    }
    None
}

/// Resolves the backslash escapes of a quoted value: `\n`, `\r`, `\t`, and any other
/// character stands for itself (`\'`, `\\`).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A name without its quotes.
fn unquote(text: &str) -> String {
    match text.chars().next() {
        Some(q @ ('\'' | '"')) => match closing_quote(text, q) {
            Some(end) => unescape(&text[1..end]),
            None => text.to_string(),
        },
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_commas_and_turn_backslash_n_into_newlines() {
        assert_eq!(
            split_fields(r"'1,2\n3,4', b ,'c\'d'").unwrap(),
            vec!["1,2\n3,4", "b", "c'd"]
        );
    }

    #[test]
    fn an_unclosed_quote_is_an_error() {
        assert!(split_fields("'1,2").is_err());
    }
}
