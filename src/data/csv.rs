//! Reading one CSV sequence file: one line per time step, numeric fields only.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::error::{DataError, Result};

/// The character between fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delimiter {
    /// `,` (quoted fields allowed)
    #[default]
    Comma,
    /// `;` (quoted fields allowed)
    Semicolon,
    /// a tab (quoted fields allowed)
    Tab,
    /// any run of spaces or tabs; no quoting
    Whitespace,
}

impl FromStr for Delimiter {
    type Err = DataError;

    /// Accepts a name (`comma`, `semicolon`, `tab`, `whitespace`/`space`) or the
    /// character itself (`,`, `;`, `\t`, ` `).
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "," | "comma" => Ok(Delimiter::Comma),
            ";" | "semicolon" => Ok(Delimiter::Semicolon),
            "\t" | "\\t" | "tab" => Ok(Delimiter::Tab),
            " " | "space" | "whitespace" => Ok(Delimiter::Whitespace),
            other => Err(DataError::InvalidOption {
                option: "delimiter",
                message: format!(
                    "unknown delimiter {other:?}; use comma, semicolon, tab or whitespace"
                ),
            }),
        }
    }
}

/// How to read each CSV sequence file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvOptions {
    /// Lines to skip at the top of every file (headers). Default 0.
    pub skip_lines: usize,
    /// Field delimiter. Default comma.
    pub delimiter: Delimiter,
}

/// The numeric content of one sequence file.
#[derive(Clone, Debug, PartialEq)]
pub struct NumericTable {
    /// The file the table came from (used in error messages).
    pub path: PathBuf,
    /// `(steps, columns)`, one row per data line.
    pub values: Array2<f32>,
    /// The 1-based line number of each row in the file.
    pub lines: Vec<u64>,
}

impl NumericTable {
    /// Number of rows (time steps).
    pub fn steps(&self) -> usize {
        self.values.nrows()
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.values.ncols()
    }
}

/// Reads and parses one sequence file.
pub fn read_numeric_table(path: &Path, options: &CsvOptions) -> Result<NumericTable> {
    let bytes = read_bytes(path)?;
    parse_numeric_table(&bytes, path, options)
}

/// Reads a whole file, naming it in the error.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    super::read::read_regular(path).map_err(|source| DataError::Unreadable {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses the bytes of one sequence file. `path` is only used in error messages.
///
/// Blank lines are ignored; every other line after the skipped ones is a time step whose
/// fields must all be finite numbers, with as many fields as the first data line.
pub fn parse_numeric_table(
    bytes: &[u8],
    path: &Path,
    options: &CsvOptions,
) -> Result<NumericTable> {
    if let Some(encoding) = super::read::wide_encoding(bytes) {
        return Err(DataError::WideEncoding {
            source_name: path.display().to_string(),
            encoding,
        });
    }
    let bytes = super::read::strip_bom(bytes);
    let body = skip_lines(bytes, options.skip_lines);
    let line_offset = options.skip_lines as u64;
    let mut builder = TableBuilder::new(path);
    match options.delimiter {
        Delimiter::Whitespace => {
            for (i, line) in lines(body).enumerate() {
                let text = String::from_utf8_lossy(line);
                let fields: Vec<&str> = text.split_whitespace().collect();
                if !fields.is_empty() {
                    builder.push_row(line_offset + i as u64 + 1, &fields)?;
                }
            }
        }
        delimited => {
            let byte = match delimited {
                Delimiter::Semicolon => b';',
                Delimiter::Tab => b'\t',
                _ => b',',
            };
            let mut reader = ::csv::ReaderBuilder::new()
                .delimiter(byte)
                .has_headers(false)
                .flexible(true)
                .trim(::csv::Trim::All)
                .from_reader(body);
            let mut record = ::csv::ByteRecord::new();
            // csv's own line counter skips blank lines, so count newlines up to each
            // record's byte offset instead (incrementally)
            let (mut counted_to, mut newlines) = (0usize, 0u64);
            loop {
                let more =
                    reader
                        .read_byte_record(&mut record)
                        .map_err(|e| DataError::Unreadable {
                            path: path.to_path_buf(),
                            source: std::io::Error::other(e.to_string()),
                        })?;
                if !more {
                    break;
                }
                // a line of spaces reads as one empty field: treat it as blank
                if record.len() == 1 && record[0].is_empty() {
                    continue;
                }
                let start = record.position().map_or(counted_to, |p| p.byte() as usize);
                let mut start = start.clamp(counted_to, body.len());
                // a record's position includes the blank lines before it
                while start < body.len() && matches!(body[start], b'\n' | b'\r') {
                    start += 1;
                }
                newlines += count_terminators(body, counted_to, start);
                counted_to = start;
                let line = line_offset + newlines + 1;
                let fields: Vec<std::borrow::Cow<'_, str>> =
                    record.iter().map(String::from_utf8_lossy).collect();
                let fields: Vec<&str> = fields.iter().map(|f| f.as_ref()).collect();
                builder.push_row(line, &fields)?;
            }
        }
    }
    builder.finish(options.skip_lines)
}

/// The length of the line terminator at `i` (`\r\n`, `\n` or a lone `\r`, the ones the
/// csv crate accepts), or 0 if there is none.
fn terminator_at(bytes: &[u8], i: usize) -> usize {
    match bytes[i] {
        b'\r' if bytes.get(i + 1) == Some(&b'\n') => 2,
        b'\r' | b'\n' => 1,
        _ => 0,
    }
}

/// The lines of `bytes`, without their terminators.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => {
                rest = Some(&r[i + terminator_at(r, i)..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The bytes after the first `n` lines.
fn skip_lines(bytes: &[u8], n: usize) -> &[u8] {
    let mut at = 0;
    for _ in 0..n {
        match bytes[at..].iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => at += i + terminator_at(bytes, at + i),
            None => return &[],
        }
    }
    &bytes[at..]
}

/// The number of line terminators that end in `bytes[from..to]`.
fn count_terminators(bytes: &[u8], from: usize, to: usize) -> u64 {
    (from..to)
        .filter(|&i| match bytes[i] {
            b'\n' => true,
            // a lone \r ends a line; in \r\n the \n is counted
            b'\r' => bytes.get(i + 1) != Some(&b'\n'),
            _ => false,
        })
        .count() as u64
}

/// Parses one field as a finite number, naming the place on failure.
pub(crate) fn parse_number(text: &str, path: &Path, line: u64, column: usize) -> Result<f32> {
    match text.trim().parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(DataError::NonNumeric {
            path: path.to_path_buf(),
            line,
            column,
            text: text.to_string(),
        }),
    }
}

struct TableBuilder<'a> {
    path: &'a Path,
    columns: usize,
    first_line: u64,
    values: Vec<f32>,
    lines: Vec<u64>,
}

impl<'a> TableBuilder<'a> {
    fn new(path: &'a Path) -> Self {
        TableBuilder {
            path,
            columns: 0,
            first_line: 0,
            values: Vec::new(),
            lines: Vec::new(),
        }
    }

    fn push_row(&mut self, line: u64, fields: &[&str]) -> Result<()> {
        if self.lines.is_empty() {
            self.columns = fields.len();
            self.first_line = line;
        } else if fields.len() != self.columns {
            return Err(DataError::RaggedRow {
                path: self.path.to_path_buf(),
                line,
                first_line: self.first_line,
                expected: self.columns,
                found: fields.len(),
            });
        }
        for (i, field) in fields.iter().enumerate() {
            self.values
                .push(parse_number(field, self.path, line, i + 1)?);
        }
        self.lines.push(line);
        Ok(())
    }

    fn finish(self, skipped: usize) -> Result<NumericTable> {
        if self.lines.is_empty() {
            return Err(DataError::EmptySequence {
                path: self.path.to_path_buf(),
                skipped,
            });
        }
        let values = Array2::from_shape_vec((self.lines.len(), self.columns), self.values)
            .expect("every row has `columns` values");
        Ok(NumericTable {
            path: self.path.to_path_buf(),
            values,
            lines: self.lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, options: &CsvOptions) -> Result<NumericTable> {
        parse_numeric_table(text.as_bytes(), Path::new("t.csv"), options)
    }

    #[test]
    fn skipped_header_lines_count_in_line_numbers() {
        let options = CsvOptions {
            skip_lines: 1,
            ..CsvOptions::default()
        };
        let table = parse("a,b\n1,2\n\n3,4\n", &options).unwrap();
        assert_eq!(table.values, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(table.lines, vec![2, 4]);
    }

    #[test]
    fn lone_carriage_returns_end_lines_too() {
        for delimiter in [Delimiter::Comma, Delimiter::Whitespace] {
            let options = CsvOptions {
                skip_lines: 1,
                delimiter,
            };
            let table = parse("h\r1\r\r2\r\n3", &options).unwrap();
            assert_eq!(table.values, ndarray::array![[1.0], [2.0], [3.0]]);
            assert_eq!(table.lines, vec![2, 4, 5], "{delimiter:?}");
        }
    }

    #[test]
    fn whitespace_delimiter_accepts_runs_of_spaces_and_tabs() {
        let options = CsvOptions {
            delimiter: Delimiter::Whitespace,
            ..CsvOptions::default()
        };
        let table = parse("  1   2\t3\r\n4 5 6\n", &options).unwrap();
        assert_eq!(
            table.values,
            ndarray::array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
        );
    }
}
