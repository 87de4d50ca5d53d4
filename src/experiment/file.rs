//! Reading, writing and migrating experiment files.
//!
//! # The RON dialect
//! Two RON extensions are on by default, so a file reads naturally: newtype variants are
//! unwrapped (`updater: Adam(lr: 0.002)` rather than `Adam((lr: 0.002))`) and options are
//! implicit (`iterations: 300` rather than `Some(300)`). Written files enable both with
//! `#![enable(..)]` lines at the top, so any RON reader understands them.
//!
//! # Versions
//! Every file carries `version` (missing means this build's [`FORMAT_VERSION`]). A newer
//! version is refused; an older one is migrated step by step, on the text, before it is
//! parsed:
//!
//! - **version 0** (before the updater took its own learning rate) had
//!   `training.learning_rate: f64` beside `training.updater`. Version 1 moves it into
//!   the updater: `learning_rate: 0.01, updater: RmsProp()` becomes
//!   `updater: RmsProp(lr: 0.01)` (replacing any `lr` the updater had), and without an
//!   `updater` it becomes `updater: Adam(lr: 0.01)` (Adam is the default updater in
//!   both versions).
//!
//! - **version 1** had no `notebook` section. Version 2 adds it (transcript, history,
//!   named states, runs) with an empty default and changes nothing else, so a version 1
//!   file reads as it is.
//!
//! Positions in messages about a migrated file refer to the migrated text.
//!
//! # Paths
//! Paths in a file are relative to the file. [`load`] keeps them as written (so saving
//! again writes them unchanged); [`resolve_paths`] makes them absolute before the data is
//! read.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ron::ser::PrettyConfig;
use serde::Deserialize;

use super::error::ExperimentError;
use super::io::EXTENSIONS;
pub use super::io::{ron_options, write_atomic};
use super::schema::{DataSpec, Experiment, FORMAT_VERSION};
use super::validate;
use crate::data::{LabelSource, SequenceSource, ValidationSplit};

/// The file's text in the current format: without a byte-order mark (left by an editor,
/// not part of the text) and migrated from an older version. A newer version than this
/// seqlab reads is an error naming the file.
fn current_text<'a>(
    text: &'a str,
    source: &Path,
) -> Result<std::borrow::Cow<'a, str>, ExperimentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let version = probe_version(text);
    if version > FORMAT_VERSION {
        return Err(ExperimentError::NewerVersion {
            file: source.to_path_buf(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let unclosed = scan::unclosed_at_end(text.as_bytes());
    // text with no `(` at all that does not start as RON does (a `#![enable(..)]` header
    // or a comment) is not cut short: it is not an experiment file (plain text, JSON, a
    // data file opened by mistake)
    let start = text.trim_start();
    if unclosed.is_some_and(|(_, _, closer)| closer.is_empty())
        && !start.starts_with(['#', '/'])
        && !text.contains('(')
    {
        return Err(ExperimentError::Syntax {
            file: source.to_path_buf(),
            line: 1,
            column: 1,
            message: "this is not a seqlab experiment: an experiment file is RON, one `( name: ..., data: ..., model: ..., training: ... )` struct"
                .into(),
            hint: "open a `.ron` file written by seqlab (or `new` to start one); data files are loaded with `load data PATH`"
                .into(),
        });
    }
    if let Some((at, what, closer)) = unclosed {
        let position = |offset: usize| {
            let before = &text[..offset];
            let line = 1 + before.matches('\n').count();
            let column = 1 + before.rsplit('\n').next().unwrap_or("").chars().count();
            (line, column)
        };
        let (line, column) = position(text.len());
        let (open_line, open_column) = position(at);
        return Err(ExperimentError::Syntax {
            file: source.to_path_buf(),
            line,
            column,
            message: if closer.is_empty() {
                format!("the file ends inside {what}")
            } else {
                format!(
                    "the file ends inside {what} opened at line {open_line}, column {open_column}"
                )
            },
            hint: if closer.is_empty() {
                "it looks cut short (truncated, e.g. by an interrupted copy): restore it from \
                 a copy"
                    .into()
            } else {
                format!(
                    "it looks cut short (truncated, e.g. by an interrupted copy): restore it \
                     from a copy; if only the closing `{closer}` is missing, add the missing \
                     `{closer}`"
                )
            },
        });
    }
    Ok(if version < FORMAT_VERSION {
        migrate(text, version).into()
    } else {
        text.into()
    })
}

/// Parses, migrates and validates an experiment. `source` is only used in messages.
pub fn from_ron_str(text: &str, source: &Path) -> Result<Experiment, ExperimentError> {
    let experiment = from_ron_str_unvalidated(text, source)?;
    validate::validate(&experiment, source)?;
    Ok(experiment)
}

/// Parses and migrates an experiment without validating its values: a value of the
/// wrong type or an unknown field is an error, a value out of range is kept (the caller
/// lists [`validate::problems`]). `source` is only used in messages.
pub fn from_ron_str_unvalidated(text: &str, source: &Path) -> Result<Experiment, ExperimentError> {
    let text = current_text(text, source)?;
    let mut experiment = parse(&text, source)?;
    experiment.version = FORMAT_VERSION;
    Ok(experiment)
}

/// The experiment as RON text. The same experiment always gives the same text.
pub fn to_ron_string(experiment: &Experiment) -> String {
    let config = PrettyConfig::new()
        .new_line("\n")
        .indentor("    ")
        .separator(" ")
        .struct_names(false)
        .extensions(EXTENSIONS);
    // Plain options (no default extensions), so the file enables them itself.
    let mut text = ron::Options::default()
        .to_string_pretty(experiment, config)
        .expect("an experiment always serialises to RON");
    text.push('\n');
    text
}

/// Reads, migrates and validates the experiment file at `path`. Paths inside stay as
/// written (relative to the file); see [`resolve_paths`].
pub fn load(path: &Path) -> Result<Experiment, ExperimentError> {
    let text = read_text(path)?;
    from_ron_str(&text, path)
}

/// The file's text: a regular file, UTF-8 (syntax errors name the position otherwise).
fn read_text(path: &Path) -> Result<String, ExperimentError> {
    use crate::data::read::{decode_text, read_regular, TextProblem};
    let bytes = read_regular(path).map_err(|e| ExperimentError::io("read", path, e))?;
    let text = decode_text(&bytes).map_err(|problem| {
        let (line, column) = match problem {
            TextProblem::InvalidUtf8 { offset } => {
                let before = &bytes[..offset];
                let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
                let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
                (line, column)
            }
            TextProblem::Wide(_) => (1, 1),
        };
        let message = match problem {
            TextProblem::Wide(enc) => format!("the file is {enc} text"),
            TextProblem::InvalidUtf8 { .. } => "the file is not UTF-8 text".into(),
        };
        ExperimentError::Syntax {
            file: path.to_path_buf(),
            line,
            column,
            message,
            hint: "save it as UTF-8".into(),
        }
    })?;
    Ok(text.to_string())
}

/// What could be read of an experiment file with problems: the experiment, and every
/// problem found (values out of range, fields with the wrong type or an unknown name).
#[derive(Debug)]
pub struct Lenient {
    /// The experiment as read; a field that could not be read has its default.
    pub experiment: Experiment,
    /// Every problem, in the order found: fields that could not be read (dropped) first,
    /// then what [`validate::problems`] finds in the rest.
    pub problems: Vec<ExperimentError>,
    /// How many entries of the file were dropped because they could not be read.
    pub dropped: usize,
}

/// Reads the experiment file at `path` as far as it can be read, so a file with a wrong
/// value opens with its problems listed and can be fixed (the window and the REPL's
/// `open` use this). An entry that cannot be read (unknown field, wrong type, unknown
/// kind) is left out and takes its default; values that parse but are out of range are
/// kept. Only a file that is not RON at all (a syntax error), not UTF-8, unreadable or
/// written by a newer seqlab is an error.
pub fn load_lenient(path: &Path) -> Result<Lenient, ExperimentError> {
    let text = read_text(path)?;
    from_ron_str_lenient(&text, path)
}

/// [`load_lenient`] on text; `source` is only used in messages.
pub fn from_ron_str_lenient(text: &str, source: &Path) -> Result<Lenient, ExperimentError> {
    let mut text = current_text(text, source)?.into_owned();
    let mut problems = Vec::new();
    // each round drops one entry, so the text shrinks; the bound only guards the loop
    for _ in 0..256 {
        match parse(&text, source) {
            Ok(mut experiment) => {
                experiment.version = FORMAT_VERSION;
                let dropped = problems.len();
                problems.extend(validate::problems(&experiment, source));
                return Ok(Lenient {
                    experiment,
                    problems,
                    dropped,
                });
            }
            Err(e) => {
                let ExperimentError::Field {
                    position: Some((line, column)),
                    ..
                } = &e
                else {
                    return Err(e);
                };
                let offset = byte_offset(&text, *line, *column);
                let Some(span) = scan::innermost_entry(text.as_bytes(), offset) else {
                    return Err(e);
                };
                text.replace_range(span, "");
                problems.push(e);
            }
        }
    }
    Err(problems.pop().expect("the loop ran"))
}

/// Writes the experiment to `path` atomically: a failed save leaves any existing file as
/// it was.
pub fn save(experiment: &Experiment, path: &Path) -> Result<(), ExperimentError> {
    write_atomic(path, to_ron_string(experiment).as_bytes())
}

/// Makes every relative path in the experiment absolute against `base_dir` (the folder
/// of the experiment file): the text corpus, the initial weights and every path of the
/// CSV data (feature and label sources, validation folders). Absolute paths stay.
pub fn resolve_paths(experiment: &mut Experiment, base_dir: &Path) {
    let base = absolute_dir(base_dir);
    map_paths(experiment, &|p: &Path| {
        if p.is_relative() {
            base.join(p)
        } else {
            p.to_path_buf()
        }
    });
}

/// Replaces every non-empty path of the settings (initial weights, the corpus, CSV
/// feature/label sources and validation/test folders, patterns and globs included) by
/// `f(path)`. The one walk over the experiment's paths: [`resolve_paths`] and rebasing
/// a notebook saved elsewhere both use it.
pub fn map_paths(experiment: &mut Experiment, f: &dyn Fn(&Path) -> PathBuf) {
    let fix = |p: &mut PathBuf| {
        if !p.as_os_str().is_empty() {
            *p = f(p);
        }
    };
    let fix_source = |s: &mut SequenceSource| match s {
        SequenceSource::Pattern { pattern, .. } | SequenceSource::Glob(pattern) => {
            if !pattern.is_empty() {
                *pattern = f(Path::new(pattern.as_str()))
                    .to_string_lossy()
                    .into_owned();
            }
        }
        SequenceSource::Directory(dir) => fix(dir),
        SequenceSource::Files(files) => files.iter_mut().for_each(fix),
    };
    if let Some(weights) = &mut experiment.initial_weights {
        fix(weights);
    }
    match &mut experiment.data {
        DataSpec::Text(t) => fix(&mut t.path),
        DataSpec::Sentence(_) | DataSpec::Echo(_) => {}
        DataSpec::Csv(c) => {
            fix_source(&mut c.features);
            if let LabelSource::Files(labels) = &mut c.labels {
                fix_source(labels);
            }
            for split in [&mut c.validation, &mut c.test] {
                if let ValidationSplit::Folders { features, labels } = split {
                    fix_source(features);
                    if let Some(labels) = labels {
                        fix_source(labels);
                    }
                }
            }
        }
    }
}

/// `dir` as an absolute path (the current folder for an empty one).
fn absolute_dir(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Rewrites a file of format version `from` as the current version (text to text).
/// Text that does not have the expected structure is returned unchanged: the parser then
/// reports what is wrong with it.
pub fn migrate(text: &str, from: u32) -> String {
    let mut text = text.to_string();
    for version in from..FORMAT_VERSION {
        text = match version {
            0 => migrate_v0_to_v1(&text),
            _ => text,
        };
    }
    text
}

/// Version 0 → 1: `training.learning_rate` moves into the updater as `lr`.
fn migrate_v0_to_v1(text: &str) -> String {
    let s = text.as_bytes();
    let edits = (|| {
        let root = scan::root_open(s)?;
        let entries = scan::struct_entries(s, root)?;
        let training = entries.iter().find(|e| e.key(s) == "training")?;
        let t_open = scan::struct_open(s, training.value.start)?;
        let fields = scan::struct_entries(s, t_open)?;
        let lr = fields.iter().find(|e| e.key(s) == "learning_rate")?;
        let lr_text = &text[lr.value.clone()];
        let mut edits: Vec<(Range<usize>, String)> = Vec::new();
        match fields.iter().find(|e| e.key(s) == "updater") {
            None => edits.push((lr.span.clone(), format!("updater: Adam(lr: {lr_text}),"))),
            Some(updater) => {
                edits.push((lr.span.clone(), String::new()));
                let v = updater.value.clone();
                let kind_end = scan::ident_end(s, v.start);
                let paren = scan::skip_trivia(s, kind_end);
                if paren < v.end && s[paren] == b'(' {
                    // `Kind(lr: .., ..)`: newtype variants are unwrapped in this dialect
                    let spec = scan::struct_entries(s, paren).unwrap_or_default();
                    match spec.iter().find(|e| e.key(s) == "lr") {
                        Some(old) => edits.push((old.value.clone(), lr_text.to_string())),
                        None => edits.push((paren + 1..paren + 1, format!("lr: {lr_text}, "))),
                    }
                } else {
                    let kind = &text[v.start..kind_end];
                    edits.push((v, format!("{kind}(lr: {lr_text})")));
                }
            }
        }
        Some(edits)
    })();
    let Some(mut edits) = edits else {
        return text.to_string();
    };
    edits.sort_by_key(|(range, _)| std::cmp::Reverse(range.start));
    let mut out = text.to_string();
    for (range, replacement) in edits {
        out.replace_range(range, &replacement);
    }
    out
}

/// Reads `version` leniently (anything else in the file is ignored); a missing or
/// unreadable version counts as the current one and the full parse reports any problem.
fn probe_version(text: &str) -> u32 {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct VersionProbe {
        version: Option<u32>,
    }
    ron_options()
        .from_str::<VersionProbe>(text)
        .ok()
        .and_then(|p| p.version)
        .unwrap_or(FORMAT_VERSION)
}

/// Parses the text into an [`Experiment`], naming the field path and position of any
/// problem.
fn parse(text: &str, file: &Path) -> Result<Experiment, ExperimentError> {
    let options = ron_options();
    let mut de = ron::Deserializer::from_str_with_options(text, &options)
        .map_err(|e| convert_in(e, String::new(), file, text))?;
    let result: Result<Experiment, _> = serde_path_to_error::deserialize(&mut de);
    match result {
        Ok(experiment) => {
            de.end()
                .map_err(|code| convert(de.span_error(code), String::new(), file))?;
            Ok(experiment)
        }
        Err(err) => {
            let path = clean_path(&err.path().to_string());
            let spanned = de.span_error(err.into_inner());
            Err(convert_in(spanned, path, file, text))
        }
    }
}

/// The serde path without its unknown (`?`) tail; empty for the top level.
fn clean_path(path: &str) -> String {
    let mut path = path;
    loop {
        if let Some(p) = path.strip_suffix(".?") {
            path = p;
        } else if path == "?" || path == "." {
            return String::new();
        } else {
            return path.to_string();
        }
    }
}

/// Like [`convert`], with the text at hand for two common slips the parser reports
/// vaguely: a decimal number in a whole-number field (`batch_size: 3.5`) and a file that
/// ends before its brackets are closed.
fn convert_in(
    error: ron::error::SpannedError,
    path: String,
    file: &Path,
    text: &str,
) -> ExperimentError {
    let (line, column) = (error.span.start.line, error.span.start.col);
    if error.code == ron::Error::ExpectedComma {
        let offset = byte_offset(text, line, column);
        let (before, rest) = text.split_at(offset.min(text.len()));
        let mut rest_chars = rest.chars();
        if rest_chars.next() == Some('.') && rest_chars.next().is_some_and(|c| c.is_ascii_digit()) {
            // `key: 3.5` where a whole number is expected
            let int_part =
                before.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
            let frac_len = 1 + rest[1..]
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len() - 1);
            let number = &text[int_part.len()..offset + frac_len];
            let key_part = int_part
                .trim_end()
                .strip_suffix(':')
                .unwrap_or("")
                .trim_end();
            let key_start = key_part
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let key = &key_part[key_start..];
            let field = match (path.is_empty(), key.is_empty()) {
                (_, true) => path.clone(),
                (true, false) => key.to_string(),
                (false, false) => format!("{path}.{key}"),
            };
            return ExperimentError::Field {
                file: file.to_path_buf(),
                field,
                position: Some((line, column)),
                problem: format!("is {number}, a decimal number"),
                allowed: "expected a whole number".into(),
            };
        }
        let end = byte_offset(text, error.span.end.line, error.span.end.col);
        if is_trivia(&text[end.min(text.len())..]) {
            return ExperimentError::Syntax {
                file: file.to_path_buf(),
                line,
                column,
                message: "the file ends before every `(` and `[` is closed".into(),
                hint: "add the missing `)` or `]`".into(),
            };
        }
    }
    convert(error, path, file)
}

/// Whether `s` holds only whitespace and comments.
fn is_trivia(s: &str) -> bool {
    scan::skip_trivia(s.as_bytes(), 0) >= s.len()
}

/// The byte offset of a 1-based (line, column in characters) position.
fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let rest = &text[line_start.min(text.len())..];
    line_start
        + rest
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(rest.len(), |(i, _)| i)
}

/// Turns a RON error into a syntax error or a field error.
fn convert(error: ron::error::SpannedError, path: String, file: &Path) -> ExperimentError {
    use ron::Error as E;
    let (line, column) = (error.span.start.line, error.span.start.col);
    let inside = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            format!(" (inside `{path}`)")
        }
    };
    let syntax = |message: String, hint: &str| ExperimentError::Syntax {
        file: file.to_path_buf(),
        line,
        column,
        message: message + &inside(&path),
        hint: hint.to_string(),
    };
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else if path.ends_with(name) {
            path.clone()
        } else {
            format!("{path}.{name}")
        }
    };
    let field = |field: String, problem: String, allowed: String| ExperimentError::Field {
        file: file.to_path_buf(),
        field: if field.is_empty() {
            "(top level)".into()
        } else {
            field
        },
        position: Some((line, column)),
        problem,
        allowed,
    };
    match error.code {
        E::Eof => syntax(
            "the file ends in the middle of a value".into(),
            "close every `(`, `[` and `\"` that is opened",
        ),
        E::ExpectedComma => syntax(
            "expected a `,`".into(),
            "separate fields and list items with `,`",
        ),
        E::ExpectedStructLikeEnd => syntax(
            "expected `)` or `,`".into(),
            "add the missing `,` before this position, or close the `(`",
        ),
        E::ExpectedArrayEnd => syntax(
            "expected `]` or `,`".into(),
            "add the missing `,` before this position, or close the `[`",
        ),
        E::ExpectedMapEnd => syntax(
            "expected `}` or `,`".into(),
            "add the missing `,` before this position, or close the `{`",
        ),
        E::ExpectedMapColon => syntax(
            "expected `:` after the field name".into(),
            "write fields as `name: value`",
        ),
        E::ExpectedStringEnd => syntax("a string is not closed".into(), "end it with `\"`"),
        E::UnclosedBlockComment => {
            syntax("a `/*` comment is not closed".into(), "end it with `*/`")
        }
        E::TrailingCharacters => syntax(
            "there is more text after the experiment's closing `)`".into(),
            "remove it or move it inside the parentheses",
        ),
        E::UnexpectedChar(c) => syntax(
            format!("unexpected character `{c}`"),
            "check the text at and just before this position",
        ),
        code @ (E::ExpectedAttribute
        | E::ExpectedAttributeEnd
        | E::NoSuchExtension(_)
        | E::ExpectedIdentifier
        | E::ExpectedOptionEnd
        | E::InvalidEscape(_)
        | E::UnclosedLineComment
        | E::UnderscoreAtBeginning
        | E::FloatUnderscore
        | E::Utf8Error(_)
        | E::InvalidIdentifier(_)
        | E::SuggestRawIdentifier(_)
        | E::ExceededRecursionLimit
        | E::Io(_)
        | E::Fmt) => syntax(
            lower_first(&code.to_string()),
            "fix the RON at this position (fields are `name: value`, separated by `,`)",
        ),
        E::NoSuchStructField {
            expected, found, ..
        } => {
            let suggestion = closest(&found, expected)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            field(
                join(&found),
                format!("unknown field `{found}`"),
                format!("{suggestion}the fields here are {}", list(expected)),
            )
        }
        E::NoSuchEnumVariant {
            expected, found, ..
        } => {
            let suggestion = closest(&found, expected)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            field(
                path.clone(),
                format!("unknown kind `{found}`"),
                format!("{suggestion}use one of {}", list(expected)),
            )
        }
        E::MissingStructField { field: name, .. } => field(
            path.clone(),
            format!("needs the field `{name}`"),
            format!("add `{name}: ...`"),
        ),
        E::DuplicateStructField { field: name, .. } => {
            field(join(name), "is given twice".into(), "keep only one".into())
        }
        E::InvalidValueForType { expected, found } => field(
            path.clone(),
            format!("is {found}"),
            format!("expected {expected}"),
        ),
        E::IntegerOutOfBounds => field(
            path.clone(),
            "is out of range for this field".into(),
            "use a whole number in range (counts are >= 0)".into(),
        ),
        E::ExpectedDifferentLength { expected, found } => field(
            path.clone(),
            format!("has {found} elements"),
            format!("expected {expected}"),
        ),
        E::Message(message) => field(
            path.clone(),
            message,
            "see the experiment file section of the README".into(),
        ),
        other => {
            let expected = match other {
                E::ExpectedInteger => "expected a whole number".to_string(),
                E::ExpectedFloat => "expected a number".into(),
                E::ExpectedBoolean => "expected `true` or `false`".into(),
                E::ExpectedString => "expected text in double quotes".into(),
                E::ExpectedChar => "expected a character in single quotes".into(),
                E::ExpectedArray => "expected a list `[..]`".into(),
                E::ExpectedStructLike | E::ExpectedNamedStructLike(_) => {
                    "expected fields in parentheses `(..)`".into()
                }
                E::ExpectedUnit => "expected `()`".into(),
                E::ExpectedMap => "expected a map `{..}`".into(),
                E::ExpectedOption => "expected a value or `None`".into(),
                other => lower_first(&other.to_string()),
            };
            field(path.clone(), "has the wrong type".into(), expected)
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The closest of `candidates` to `word`, if it is close enough to be a typo (an edit
/// distance of at most 2, or a third of the candidate's length): the one suggestion rule
/// for unknown fields in a file and unknown paths in `set`/`show`.
pub fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(row[j] + 1).min(up + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// A minimal RON scanner for migrations: it knows strings, chars, comments and brackets,
/// which is enough to find the entries of a struct and where each value ends.
pub(crate) mod scan {
    use std::ops::Range;

    /// One `key: value` entry of a struct.
    pub struct Entry {
        pub key: Range<usize>,
        /// The value, without surrounding whitespace.
        pub value: Range<usize>,
        /// The whole entry including its trailing `,` if any.
        pub span: Range<usize>,
    }

    impl Entry {
        pub fn key<'a>(&self, s: &'a [u8]) -> &'a str {
            std::str::from_utf8(&s[self.key.clone()]).unwrap_or("")
        }
    }

    /// Skips whitespace and comments (block comments may nest, as in RON).
    pub fn skip_trivia(s: &[u8], mut i: usize) -> usize {
        loop {
            while i < s.len() && s[i].is_ascii_whitespace() {
                i += 1;
            }
            if s[i..].starts_with(b"//") {
                while i < s.len() && s[i] != b'\n' {
                    i += 1;
                }
            } else if s[i..].starts_with(b"/*") {
                i = block_comment_end(s, i).unwrap_or(s.len());
            } else {
                return i;
            }
        }
    }

    /// The end of the block comment whose `/*` is at `i` (they nest, as in RON), or
    /// `None` when the text ends inside it.
    fn block_comment_end(s: &[u8], mut i: usize) -> Option<usize> {
        let mut depth = 0usize;
        while i < s.len() {
            if s[i..].starts_with(b"/*") {
                depth += 1;
                i += 2;
            } else if s[i..].starts_with(b"*/") {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            } else {
                i += 1;
            }
        }
        None
    }

    fn is_ident_start(c: u8) -> bool {
        c.is_ascii_alphabetic() || c == b'_'
    }

    /// The end of the identifier starting at `i` (`i` itself when there is none).
    pub fn ident_end(s: &[u8], mut i: usize) -> usize {
        if i < s.len() && is_ident_start(s[i]) {
            while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_') {
                i += 1;
            }
        }
        i
    }

    /// The end of a `"..."` string starting at `i`.
    fn string_end(s: &[u8], mut i: usize) -> usize {
        i += 1;
        while i < s.len() {
            match s[i] {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        s.len()
    }

    /// The end of a `"..."` string starting at `i`, or `None` if the text ends inside it.
    fn closed_string_end(s: &[u8], mut i: usize) -> Option<usize> {
        i += 1;
        while i < s.len() {
            match s[i] {
                b'\\' => i += 2,
                b'"' => return Some(i + 1),
                _ => i += 1,
            }
        }
        None
    }

    /// The end of a raw string `r#"..."#` whose `r` is at `i`, if it is one.
    fn raw_string_end(s: &[u8], i: usize) -> Option<usize> {
        let mut j = i + 1;
        while j < s.len() && s[j] == b'#' {
            j += 1;
        }
        let hashes = j - i - 1;
        if s.get(j) != Some(&b'"') {
            return None;
        }
        j += 1;
        while j < s.len() {
            if s[j] == b'"'
                && s[j + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|&&c| c == b'#')
                    .count()
                    == hashes
            {
                return Some(j + 1 + hashes);
            }
            j += 1;
        }
        Some(s.len())
    }

    /// The end of a `'c'` char literal starting at `i`.
    fn char_end(s: &[u8], i: usize) -> usize {
        let from = if s.get(i + 1) == Some(&b'\\') {
            i + 3
        } else {
            i + 2
        };
        s[from.min(s.len())..]
            .iter()
            .position(|&c| c == b'\'')
            .map_or(s.len(), |p| from + p + 1)
    }

    /// What is still open where the text ends: `(byte offset of its opening, what it is,
    /// what would close it)`
    /// for the innermost unclosed string, char, block comment or bracket; `None` when
    /// everything is closed. A stray closing bracket is not counted (the parser names it).
    pub fn unclosed_at_end(s: &[u8]) -> Option<(usize, &'static str, &'static str)> {
        let mut open: Vec<usize> = Vec::new();
        // a `(` opened at the top level: the experiment itself (the `#![enable(..)]`
        // header's brackets are `[`)
        let mut root = false;
        let mut content = false;
        let mut i = 0;
        while i < s.len() {
            if s[i..].starts_with(b"/*") {
                match block_comment_end(s, i) {
                    Some(end) => i = end,
                    None => return Some((i, "a comment", "*/")),
                }
                continue;
            }
            let j = skip_trivia(s, i);
            if j != i {
                i = j;
                continue;
            }
            content = true;
            let end = match s[i] {
                b'(' | b'[' | b'{' => {
                    root |= open.is_empty() && s[i] == b'(';
                    open.push(i);
                    i + 1
                }
                b')' | b']' | b'}' => {
                    open.pop();
                    i + 1
                }
                b'"' => match closed_string_end(s, i) {
                    Some(e) => e,
                    None => return Some((i, "a string", "\"")),
                },
                b'\'' => char_end(s, i),
                b'r' => match raw_string_end(s, i) {
                    // closed only if it ends with its quote and hashes
                    Some(e) => {
                        let hashes = s[i + 1..].iter().take_while(|&&c| c == b'#').count();
                        let closes = e - i >= hashes * 2 + 3
                            && s[e - hashes - 1] == b'"'
                            && s[e - hashes..e].iter().all(|&c| c == b'#');
                        if !closes {
                            return Some((i, "a raw string", "\"#"));
                        }
                        e
                    }
                    None => ident_end(s, i),
                },
                c if is_ident_start(c) => ident_end(s, i),
                _ => i + 1,
            };
            i = end.max(i + 1);
        }
        if open.is_empty() && content && !root {
            return Some((0, "its `#![enable(..)]` header, before the experiment", ""));
        }
        open.last().map(|&o| match s[o] {
            b'(' => (o, "a `(`", ")"),
            b'[' => (o, "a `[`", "]"),
            _ => (o, "a `{`", "}"),
        })
    }

    /// The end of the value starting at `i`: the first `,` or unmatched closing bracket.
    pub fn value_end(s: &[u8], mut i: usize) -> usize {
        let mut depth = 0usize;
        while i < s.len() {
            let j = skip_trivia(s, i);
            if j != i {
                i = j;
                continue;
            }
            match s[i] {
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    i += 1;
                }
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        return i;
                    }
                    depth -= 1;
                    i += 1;
                }
                b',' if depth == 0 => return i,
                b'"' => i = string_end(s, i),
                b'\'' => i = char_end(s, i),
                b'r' => i = raw_string_end(s, i).unwrap_or_else(|| ident_end(s, i)),
                c if is_ident_start(c) => i = ident_end(s, i),
                _ => i += 1,
            }
        }
        s.len()
    }

    /// The entries of the struct whose `(` is at `open`; `None` if it is not a struct.
    pub fn struct_entries(s: &[u8], open: usize) -> Option<Vec<Entry>> {
        let mut entries = Vec::new();
        let mut i = open + 1;
        loop {
            i = skip_trivia(s, i);
            if i >= s.len() {
                return None;
            }
            if s[i] == b')' {
                return Some(entries);
            }
            let start = i;
            let key_end = ident_end(s, i);
            if key_end == start {
                return None;
            }
            i = skip_trivia(s, key_end);
            if s.get(i) != Some(&b':') {
                return None;
            }
            let value_start = skip_trivia(s, i + 1);
            let stop = value_end(s, value_start);
            let mut value_stop = stop;
            while value_stop > value_start && s[value_stop - 1].is_ascii_whitespace() {
                value_stop -= 1;
            }
            let end = if s.get(stop) == Some(&b',') {
                stop + 1
            } else {
                stop
            };
            entries.push(Entry {
                key: start..key_end,
                value: value_start..value_stop,
                span: start..end,
            });
            i = end;
        }
    }

    /// The `(` of the struct value starting at `i` (`(..)` or `Name(..)`).
    pub fn struct_open(s: &[u8], i: usize) -> Option<usize> {
        let j = skip_trivia(s, ident_end(s, i));
        (s.get(j) == Some(&b'(')).then_some(j)
    }

    /// The span of the innermost `key: value` entry (of any struct, in lists too) that
    /// holds the byte `offset`: what to drop when the value at `offset` cannot be read.
    pub fn innermost_entry(s: &[u8], offset: usize) -> Option<Range<usize>> {
        innermost_in_struct(s, root_open(s)?, offset)
    }

    fn innermost_in_struct(s: &[u8], open: usize, offset: usize) -> Option<Range<usize>> {
        let entries = struct_entries(s, open)?;
        let entry = entries
            .into_iter()
            .find(|e| e.span.start <= offset && offset < e.span.end.max(e.value.end + 1))?;
        Some(innermost_in_value(s, entry.value.clone(), offset).unwrap_or(entry.span))
    }

    /// The innermost entry holding `offset` inside the value at `value` (a struct, a
    /// variant with fields, or a list of them).
    fn innermost_in_value(s: &[u8], value: Range<usize>, offset: usize) -> Option<Range<usize>> {
        if value.is_empty() {
            return None;
        }
        if s[value.start] == b'[' {
            let mut i = value.start + 1;
            while i < value.end {
                i = skip_trivia(s, i);
                if i >= value.end || s[i] == b']' {
                    return None;
                }
                let end = value_end(s, i);
                if (i..=end).contains(&offset) {
                    return innermost_in_value(s, i..end, offset);
                }
                i = end + 1;
            }
            return None;
        }
        let open = struct_open(s, value.start)?;
        (open < value.end)
            .then(|| innermost_in_struct(s, open, offset))
            .flatten()
    }

    /// The `(` of the top-level struct, after any `#![enable(..)]` attributes.
    pub fn root_open(s: &[u8]) -> Option<usize> {
        let mut i = skip_trivia(s, 0);
        while s[i..].starts_with(b"#!") {
            i = s[i..].iter().position(|&c| c == b']')? + i + 1;
            i = skip_trivia(s, i);
        }
        struct_open(s, i)
    }
}
