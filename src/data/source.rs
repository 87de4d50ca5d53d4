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
/// Pattern(pattern: "data/seq_%04d.csv", start: 1)            // seq_0001.csv, ... until one is missing
/// Glob("train/features_*.csv")                               // matching files, natural sort
/// Directory("data/features")                                 // every file, natural sort
/// Files(["a.csv", "b.csv"])                                  // exactly these, in order
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum SequenceSource {
    /// `pattern` with its number placeholder (`%d`, `%0Nd` zero-padded to N digits, or
    /// `%Nd` space-padded, as in DL4J's `NumberedFileInputSplit`; `%%` is a literal `%`)
    /// replaced by each index in `start..=end` (inclusive); every such file must exist.
    /// Without `end`, indices from `start` are read until the first missing file.
    Pattern {
        pattern: String,
        start: usize,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "plain_option"
        )]
        end: Option<usize>,
    },
    /// Files whose name matches a glob (`*` any run of characters, `?` one character)
    /// in one directory (the directory part has no wildcards), in natural order.
    Glob(String),
    /// Every regular, non-hidden file directly inside the directory, in natural order
    /// (`seq_2.csv` before `seq_10.csv`). Subdirectories are ignored. A directory whose
    /// files form two or more numbered name families (`features_N.csv` and
    /// `labels_N.csv`) is an error naming them: select one with `Glob` or `Pattern`.
    Directory(PathBuf),
    /// An explicit list of files, in the given order.
    Files(Vec<PathBuf>),
}

/// `end: 99` in a file (not `Some(99)`), absent for `None`.
mod plain_option {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(n) => s.serialize_u64(*n as u64),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        usize::deserialize(d).map(Some)
    }
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
                end: Some(end),
            } => write!(f, "{pattern} for {start}..={end}"),
            SequenceSource::Pattern {
                pattern,
                start,
                end: None,
            } => write!(f, "{pattern} from {start} until a file is missing"),
            SequenceSource::Glob(glob) => write!(f, "{glob}"),
            SequenceSource::Directory(dir) => write!(f, "directory {}", dir.display()),
            SequenceSource::Files(files) => match files.as_slice() {
                [one] => write!(f, "{}", one.display()),
                _ => write!(f, "a list of {} files", files.len()),
            },
        }
    }
}

/// A file name with one number placeholder, the printf forms of DL4J's numbered file
/// splits: `%d`, `%0Nd` (zero-padded to N digits), `%Nd` (space-padded); `%%` is `%`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberedPattern {
    prefix: String,
    suffix: String,
    width: usize,
    zero_pad: bool,
}

impl NumberedPattern {
    /// Parses `pattern`. Errors name the pattern and say what is wrong: no placeholder,
    /// two placeholders, or a `%` form other than the three above.
    pub fn parse(pattern: &str) -> Result<Self> {
        let bad = |what: String| {
            DataError::InvalidOption {
            option: "pattern",
            message: format!(
                "{pattern:?} {what}; put one of %d, %0Nd (zero-padded, e.g. %04d) or %Nd where                  the file number goes, e.g. \"data/seq_%d.csv\""
            ),
        }
        };
        let mut parts: Vec<String> = vec![String::new()];
        let mut spec: Option<(usize, bool)> = None;
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                parts.last_mut().expect("one part").push(c);
                continue;
            }
            if chars.peek() == Some(&'%') {
                chars.next();
                parts.last_mut().expect("one part").push('%');
                continue;
            }
            let mut digits = String::new();
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() {
                    digits.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            match chars.next() {
                Some('d') => {}
                Some(other) => {
                    return Err(bad(format!(
                        "has %{digits}{other}, which is not a number placeholder"
                    )))
                }
                None => return Err(bad(format!("ends in %{digits}"))),
            }
            if spec.is_some() {
                return Err(bad("has more than one number placeholder".to_string()));
            }
            let zero_pad = digits.starts_with('0');
            let width = digits.parse().unwrap_or(0);
            spec = Some((width, zero_pad));
            parts.push(String::new());
        }
        let Some((width, zero_pad)) = spec else {
            return Err(bad("has no number placeholder".to_string()));
        };
        let suffix = parts.pop().expect("two parts");
        let prefix = parts.pop().expect("two parts");
        Ok(NumberedPattern {
            prefix,
            suffix,
            width,
            zero_pad,
        })
    }

    /// True when `text` has a number placeholder (and so is meant as a pattern).
    pub fn is_pattern(text: &str) -> bool {
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%' {
                if chars.peek() == Some(&'%') {
                    chars.next();
                    continue;
                }
                while chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    chars.next();
                }
                if chars.peek() == Some(&'d') {
                    return true;
                }
            }
        }
        false
    }

    /// The path for `index`: `seq_%04d.csv` and 7 give `seq_0007.csv`.
    pub fn path(&self, index: usize) -> PathBuf {
        let number = if self.zero_pad {
            format!("{index:0w$}", w = self.width)
        } else {
            format!("{index:>w$}", w = self.width)
        };
        PathBuf::from(format!("{}{number}{}", self.prefix, self.suffix))
    }
}

impl SequenceSource {
    /// Interprets a path as the command line does: a path with a number placeholder
    /// (`%d`, `%0Nd`, `%Nd`) is a numbered pattern and needs `range` (`end: None` reads
    /// until the first missing file); a path with `*` or `?` is a glob; a directory is a
    /// directory; anything else is a single file. A range with anything but a pattern
    /// is an error, never ignored.
    pub fn from_cli(path: &str, range: Option<(usize, Option<usize>)>) -> Result<Self> {
        if NumberedPattern::is_pattern(path) {
            NumberedPattern::parse(path)?;
            let Some((start, end)) = range else {
                return Err(DataError::InvalidOption {
                    option: "range",
                    message: format!(
                        "{path:?} is a numbered pattern; give the inclusive index range, \
                         e.g. --range 0..9 (or --range 0.. to read until a file is missing)"
                    ),
                });
            };
            return Ok(SequenceSource::Pattern {
                pattern: path.to_string(),
                start,
                end,
            });
        }
        let source = if path.contains(['*', '?']) {
            SequenceSource::Glob(path.to_string())
        } else if Path::new(path).is_dir() {
            SequenceSource::Directory(PathBuf::from(path))
        } else {
            SequenceSource::Files(vec![PathBuf::from(path)])
        };
        if range.is_some() {
            let what = match &source {
                SequenceSource::Glob(_) => "a glob, which selects its files by name",
                SequenceSource::Directory(_) => "a directory, which is read whole",
                _ => "a single file",
            };
            return Err(DataError::InvalidOption {
                option: "range",
                message: format!(
                    "{path:?} is {what}; --range only applies to a numbered pattern such as \
                     \"dir/seq_%d.csv\": drop --range or give a pattern"
                ),
            });
        }
        Ok(source)
    }

    /// The files of this source, in order. Fails on a bad pattern, a missing numbered
    /// file (closed range), an unreadable directory, a directory mixing name families,
    /// or an empty selection.
    pub fn files(&self) -> Result<Vec<PathBuf>> {
        let files = match self {
            SequenceSource::Pattern {
                pattern,
                start,
                end,
            } => {
                let numbered = NumberedPattern::parse(pattern)?;
                match *end {
                    Some(end) => {
                        if *start > end {
                            return Err(DataError::InvalidOption {
                                option: "range",
                                message: format!(
                                    "start {start} is after end {end}; the range is inclusive, \
                                     e.g. 0..9 for ten files"
                                ),
                            });
                        }
                        let mut files = Vec::with_capacity(end - start + 1);
                        for index in *start..=end {
                            let path = numbered.path(index);
                            if !path.is_file() {
                                return Err(DataError::MissingFile {
                                    path,
                                    pattern: pattern.clone(),
                                    index,
                                    start: *start,
                                    end,
                                });
                            }
                            files.push(path);
                        }
                        files
                    }
                    None => (*start..)
                        .map(|i| numbered.path(i))
                        .take_while(|p| p.is_file())
                        .collect(),
                }
            }
            SequenceSource::Glob(glob) => glob_files(glob)?,
            SequenceSource::Directory(dir) => {
                let files = list_dir(dir)?;
                check_one_family(dir, &files)?;
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

/// Regular, non-hidden files directly in `dir`, natural order.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let unreadable = |source| DataError::Unreadable {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| natural_cmp(&a.to_string_lossy(), &b.to_string_lossy()));
    Ok(files)
}

/// The files matching a glob in its (literal) directory, natural order.
fn glob_files(glob: &str) -> Result<Vec<PathBuf>> {
    let path = Path::new(glob);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if dir.to_string_lossy().contains(['*', '?']) || !name.contains(['*', '?']) {
        return Err(DataError::InvalidOption {
            option: "glob",
            message: format!(
                "{glob:?}: wildcards (* and ?) go in the file name only, e.g. \
                 \"train/features_*.csv\""
            ),
        });
    }
    Ok(list_dir(&dir)?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| glob_match(&name, &n.to_string_lossy()))
        })
        .collect())
}

/// `*` matches any run of characters (also none), `?` exactly one.
fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// A file name with every run of digits written as `#`: `features_12.csv` ->
/// `features_#.csv`.
fn name_family(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = String::new();
    let mut in_digits = false;
    for c in name.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// Refuses a directory whose files form two or more numbered families of two or more
/// files each (`features_#.csv` and `labels_#.csv`): reading them all as one set of
/// sequences is never what was meant.
fn check_one_family(dir: &Path, files: &[PathBuf]) -> Result<()> {
    let mut families: Vec<(String, usize)> = Vec::new();
    for f in files {
        let family = name_family(f);
        match families.iter_mut().find(|(name, _)| *name == family) {
            Some((_, n)) => *n += 1,
            None => families.push((family, 1)),
        }
    }
    let numbered: Vec<&(String, usize)> = families
        .iter()
        .filter(|(name, n)| *n >= 2 && name.contains('#'))
        .collect();
    if numbered.len() < 2 {
        return Ok(());
    }
    let list = numbered
        .iter()
        .map(|(name, n)| format!("{name} ({n} files)"))
        .collect::<Vec<_>>()
        .join(", ");
    let example = dir.join(numbered[0].0.replace('#', "*"));
    Err(DataError::InvalidOption {
        option: "directory",
        message: format!(
            "{} mixes {} name families: {list}; select one with a glob, e.g. Glob({:?}) \
             (on the command line: '{}')",
            dir.display(),
            numbered.len(),
            example.display().to_string(),
            example.display()
        ),
    })
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
    fn printf_forms_give_the_numbered_names() {
        let p = |s: &str, i| NumberedPattern::parse(s).unwrap().path(i);
        assert_eq!(p("d/seq_%d.csv", 7), PathBuf::from("d/seq_7.csv"));
        assert_eq!(p("d/seq_%04d.csv", 7), PathBuf::from("d/seq_0007.csv"));
        assert_eq!(p("d/seq_%04d.csv", 12345), PathBuf::from("d/seq_12345.csv"));
        assert_eq!(p("d/seq_%3d.csv", 7), PathBuf::from("d/seq_  7.csv"));
        assert_eq!(p("d/100%%_%d.csv", 2), PathBuf::from("d/100%_2.csv"));
    }

    #[test]
    fn patterns_without_one_placeholder_are_errors() {
        for bad in [
            "d/seq.csv",
            "d/%d_%d.csv",
            "d/seq_%s.csv",
            "d/seq_%",
            "d/100%%.csv",
        ] {
            let err = NumberedPattern::parse(bad).unwrap_err().to_string();
            assert!(err.contains("%0Nd"), "{bad}: {err}");
        }
        assert!(NumberedPattern::is_pattern("a_%05d.csv"));
        assert!(!NumberedPattern::is_pattern("a_%%d.csv"));
    }

    #[test]
    fn glob_stars_and_question_marks_match_file_names() {
        assert!(glob_match("features_*.csv", "features_12.csv"));
        assert!(glob_match("features_*.csv", "features_.csv"));
        assert!(!glob_match("features_*.csv", "labels_12.csv"));
        assert!(glob_match("f?_*", "f1_x"));
        assert!(!glob_match("f?_*", "f12_x"));
        assert!(glob_match("*a*b", "xxaxxb"));
        assert!(!glob_match("*a*b", "xxaxxbc"));
    }

    #[test]
    fn name_families_replace_digit_runs() {
        assert_eq!(
            name_family(Path::new("d/features_12.csv")),
            "features_#.csv"
        );
        assert_eq!(name_family(Path::new("d/s1_t22.csv")), "s#_t#.csv");
    }

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
