//! Which files make up a set of sequences: a numbered pattern, a directory, or a list.

use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{DataError, Result};

/// A set of sequence files, one sequence per file, in a fixed order.
///
/// Feature and label sources are paired by position in that order.
///
/// ```ron
/// Pattern(pattern: "data/walk_%d.csv", start: 0, end: 99)   // walk_0.csv ..= walk_99.csv
/// Directory("data/features")                                 // every file, natural sort
/// Files(["a.csv", "b.csv"])                                  // exactly these, in order
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SequenceSource {
    /// `pattern` with `%d` replaced by each index in `start..=end` (inclusive, as in
    /// DL4J's `NumberedFileInputSplit`). Every file must exist.
    Pattern {
        pattern: String,
        start: usize,
        end: usize,
    },
    /// Every regular, non-hidden file directly inside the directory, in natural order
    /// (`seq_2.csv` before `seq_10.csv`). Subdirectories are ignored.
    Directory(PathBuf),
    /// An explicit list of files, in the given order.
    Files(Vec<PathBuf>),
}

impl Default for SequenceSource {
    fn default() -> Self {
        SequenceSource::Files(Vec::new())
    }
}

impl fmt::Display for SequenceSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SequenceSource::Pattern {
                pattern,
                start,
                end,
            } => write!(f, "{pattern} for {start}..={end}"),
            SequenceSource::Directory(dir) => write!(f, "directory {}", dir.display()),
            SequenceSource::Files(files) => match files.as_slice() {
                [one] => write!(f, "{}", one.display()),
                _ => write!(f, "a list of {} files", files.len()),
            },
        }
    }
}

impl SequenceSource {
    /// Interprets a path as the command line does: a path containing `%d` is a numbered
    /// pattern (it needs `range`, inclusive), a directory is a directory, anything else is
    /// a single file.
    pub fn from_cli(path: &str, range: Option<(usize, usize)>) -> Result<Self> {
        if path.contains("%d") {
            let Some((start, end)) = range else {
                return Err(DataError::InvalidOption {
                    option: "range",
                    message: format!(
                        "{path:?} is a numbered pattern; give the inclusive index range, \
                         e.g. --range 0..9"
                    ),
                });
            };
            return Ok(SequenceSource::Pattern {
                pattern: path.to_string(),
                start,
                end,
            });
        }
        if Path::new(path).is_dir() {
            Ok(SequenceSource::Directory(PathBuf::from(path)))
        } else {
            Ok(SequenceSource::Files(vec![PathBuf::from(path)]))
        }
    }

    /// The files of this source, in order. Fails on a missing numbered file, an
    /// unreadable directory or an empty selection.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let files = match self {
            SequenceSource::Pattern {
                pattern,
                start,
                end,
            } => {
                if !pattern.contains("%d") {
                    return Err(DataError::InvalidOption {
                        option: "pattern",
                        message: format!(
                            "{pattern:?} has no `%d` where the file number goes, e.g. \
                             \"data/seq_%d.csv\""
                        ),
                    });
                }
                if start > end {
                    return Err(DataError::InvalidOption {
                        option: "range",
                        message: format!(
                            "start {start} is after end {end}; the range is inclusive, e.g. \
                             0..9 for ten files"
                        ),
                    });
                }
                let mut files = Vec::with_capacity(end - start + 1);
                for index in *start..=*end {
                    let path = PathBuf::from(pattern.replace("%d", &index.to_string()));
                    if !path.is_file() {
                        return Err(DataError::MissingFile {
                            path,
                            pattern: pattern.clone(),
                            index,
                            start: *start,
                            end: *end,
                        });
                    }
                    files.push(path);
                }
                files
            }
            SequenceSource::Directory(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|source| DataError::Unreadable {
                    path: dir.clone(),
                    source,
                })?;
                let mut files = Vec::new();
                for entry in entries {
                    let entry = entry.map_err(|source| DataError::Unreadable {
                        path: dir.clone(),
                        source,
                    })?;
                    let path = entry.path();
                    let hidden = entry.file_name().to_string_lossy().starts_with('.');
                    if !hidden && path.is_file() {
                        files.push(path);
                    }
                }
                files.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
                files
            }
            SequenceSource::Files(files) => files.clone(),
        };
        if files.is_empty() {
            return Err(DataError::NoFiles {
                source_desc: self.to_string(),
            });
        }
        Ok(files)
    }
}

/// Compares strings so that runs of digits compare by value: `a2` < `a10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(ca), Some(cb)) if ca.is_ascii_digit() && cb.is_ascii_digit() => {
                let da = a.len() - a.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let db = b.len() - b.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                let (na, nb) = (&a[..da], &b[..db]);
                // compare by value without overflow: strip leading zeros, then by length
                let (ta, tb) = (na.trim_start_matches('0'), nb.trim_start_matches('0'));
                let by_value = ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb));
                // equal values: fewer leading zeros first, so the order is total
                let order = by_value.then_with(|| na.len().cmp(&nb.len()));
                if order != Ordering::Equal {
                    return order;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(ca), Some(cb)) => {
                if ca != cb {
                    return ca.cmp(&cb);
                }
                a = &a[ca.len_utf8()..];
                b = &b[cb.len_utf8()..];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers_by_value() {
        let mut names = vec![
            "seq_10.csv",
            "seq_2.csv",
            "seq_1.csv",
            "seq_02.csv",
            "a.csv",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "a.csv",
                "seq_1.csv",
                "seq_2.csv",
                "seq_02.csv",
                "seq_10.csv"
            ]
        );
    }
}
