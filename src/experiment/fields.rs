//! Field paths: one syntax that addresses any setting of an experiment, the same as the
//! paths in validation errors. Used by the REPL's `show`/`set`, `seqlab --run --set` and
//! run comparisons.
//!
//! # Syntax
//! Dot-separated field names with `[i]` for list elements (from 0):
//! `training.batch_size`, `model.layers[1].size`, `data.alignment`. An enum's variant name
//! may appear as a segment (`training.updater.Adam.lr`, as in validation messages); it
//! then asserts that the value is that variant. Values are RON, as in the file:
//! `Adam(lr: 0.002)`, `AlignEnd`, `256`, `"text"` (a bare word for a text field is quoted
//! for you).
//!
//! # How
//! The experiment is written as RON ([`super::file::to_ron_string`]), the path is found
//! in that text, the value's text is replaced, and the result is read back with the same
//! parser and validation as a file ([`super::file::from_ron_str`]). So a `set` accepts
//! exactly what a file accepts, and an invalid value changes nothing.

use std::ops::Range;
use std::path::Path;

pub use super::file::closest;
use super::file::{from_ron_str, scan, to_ron_string};
use super::schema::Experiment;
use super::ExperimentError;

/// One step of a field path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A struct field or an enum variant name.
    Field(String),
    /// A list element, from 0.
    Index(usize),
}

/// A field path that cannot be used, or a value that cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    /// The path is not in the path syntax.
    #[error("`{path}` is not a field path: {problem}; write it like training.batch_size or model.layers[0].size")]
    Syntax { path: String, problem: String },
    /// No such field.
    #[error("{at}: has no field `{name}`{suggestion}; its fields are {known}")]
    Unknown {
        at: String,
        name: String,
        suggestion: String,
        known: String,
    },
    /// A variant name in the path that the value does not have.
    #[error(
        "{at}: is {actual}, not {wanted}; set the variant first, e.g. `set {at} {wanted}(..)`"
    )]
    OtherVariant {
        at: String,
        actual: String,
        wanted: String,
    },
    /// A field name or index applied to a value that has none.
    #[error("{at}: is `{value}`, which has no {what}")]
    NotContainer {
        at: String,
        value: String,
        what: &'static str,
    },
    /// An index past the end of a list.
    #[error("{at}: has {len} elements (indices 0..{len}); index {index} is past the end")]
    Index {
        at: String,
        index: usize,
        len: usize,
    },
    /// The new value is not one RON value.
    #[error("{path}: `{value}` is not a RON value ({problem}); write it as in the file, e.g. 256, 0.01, AlignEnd, Adam(lr: 0.002), \"text\"")]
    Value {
        path: String,
        value: String,
        problem: String,
    },
    /// The experiment with the new value does not read or validate.
    #[error("{0}")]
    Invalid(ExperimentError),
}

/// Parses `a.b[2].c` into segments.
pub fn parse_path(path: &str) -> Result<Vec<Segment>, FieldError> {
    let bad = |problem: &str| FieldError::Syntax {
        path: path.to_string(),
        problem: problem.to_string(),
    };
    let mut out = Vec::new();
    let s = path.trim();
    if s.is_empty() {
        return Err(bad("it is empty"));
    }
    let b = s.as_bytes();
    let mut i = 0;
    let mut expect_name = true;
    while i < b.len() {
        match b[i] {
            b'.' if !expect_name => {
                expect_name = true;
                i += 1;
            }
            b'[' => {
                if expect_name && !out.is_empty() {
                    return Err(bad("`[` follows a `.`"));
                }
                let close = s[i..]
                    .find(']')
                    .map(|p| p + i)
                    .ok_or_else(|| bad("a `[` is not closed"))?;
                let index: usize = s[i + 1..close]
                    .trim()
                    .parse()
                    .map_err(|_| bad("an index must be a whole number from 0"))?;
                out.push(Segment::Index(index));
                i = close + 1;
                expect_name = false;
            }
            c if expect_name && (c.is_ascii_alphabetic() || c == b'_') => {
                let end = scan::ident_end(b, i);
                out.push(Segment::Field(s[i..end].to_string()));
                i = end;
                expect_name = false;
            }
            _ => {
                return Err(bad(&format!(
                    "unexpected `{}`",
                    &s[i..].chars().next().unwrap_or(' ')
                )))
            }
        }
    }
    if expect_name {
        return Err(bad("it ends with `.`"));
    }
    Ok(out)
}

/// Writes segments back as a path.
pub fn join_path(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Where a path leads in the RON text.
enum Target {
    /// The value's bytes.
    Value(Range<usize>),
    /// A struct field that is not written: insert `name: value` before `close`.
    Missing { close: usize, empty: bool },
}

/// The experiment as RON text without its notebook (the notebook is not a setting).
fn settings_text(exp: &Experiment) -> String {
    to_ron_string(&exp.settings())
}

/// The RON text of the value at `path` (dedented), e.g. `Adam(lr: 0.002, ...)`.
pub fn get(exp: &Experiment, path: &str) -> Result<String, FieldError> {
    let segments = parse_path(path)?;
    let text = settings_text(exp);
    match locate(&text, &segments)? {
        Target::Value(r) => Ok(dedent(&text[r])),
        Target::Missing { .. } => Ok("(not set)".into()),
    }
}

/// The experiment with `value` (RON text) at `path`, read back and validated like a file.
/// `file` names the experiment in messages. On error nothing changes.
pub fn set(
    exp: &Experiment,
    path: &str,
    value: &str,
    file: &Path,
) -> Result<Experiment, FieldError> {
    set_checked(exp, path, value, file, true)
}

/// [`set`] without validating the values: a value that does not read (wrong type,
/// unknown field or kind) is still an error, but one out of range is kept, so the
/// experiment can be on its way to a valid one (the window's editor: a data kind chosen
/// before its path is given). The caller lists [`super::validate::problems`].
pub fn set_unchecked(
    exp: &Experiment,
    path: &str,
    value: &str,
    file: &Path,
) -> Result<Experiment, FieldError> {
    set_checked(exp, path, value, file, false)
}

fn set_checked(
    exp: &Experiment,
    path: &str,
    value: &str,
    file: &Path,
    validate: bool,
) -> Result<Experiment, FieldError> {
    let segments = parse_path(path)?;
    let value = value.trim();
    let text = settings_text(exp);
    let target = locate(&text, &segments)?;
    let value = quote_bare_text(&text, &target, value);
    check_one_value(path, &value)?;
    let new_text = match target {
        Target::Value(r) => format!("{}{}{}", &text[..r.start], value, &text[r.end..]),
        Target::Missing { close, empty } => {
            let Some(Segment::Field(name)) = segments.last() else {
                unreachable!("only a missing field is inserted")
            };
            let sep = if empty { "" } else { ", " };
            format!(
                "{}{sep}{name}: {value}{}",
                text[..close].trim_end().trim_end_matches(','),
                &text[close..]
            )
        }
    };
    let read = if validate {
        from_ron_str(&new_text, file)
    } else {
        super::file::from_ron_str_unvalidated(&new_text, file)
    };
    let mut updated = read.map_err(|e| match e {
        ExperimentError::Syntax { message, .. } => FieldError::Value {
            path: path.to_string(),
            value: value.clone(),
            problem: message,
        },
        // a position would point into the rewritten settings text, not into anything the
        // user wrote: the field path names the place
        ExperimentError::Field {
            file,
            field,
            problem,
            allowed,
            ..
        } => FieldError::Invalid(ExperimentError::Field {
            file,
            field,
            position: None,
            problem,
            allowed,
        }),
        other => FieldError::Invalid(other),
    })?;
    updated.notebook = exp.notebook.clone();
    Ok(updated)
}

/// Every leaf setting as `(path, RON text)`, in file order. An enum variant with fields
/// gives a leaf for its name (`training.updater` = `Adam`) and one per field
/// (`training.updater.Adam.lr` = `0.002`).
pub fn leaves(exp: &Experiment) -> Vec<(String, String)> {
    let text = settings_text(exp);
    let s = text.as_bytes();
    let mut out = Vec::new();
    if let Some(open) = scan::root_open(s) {
        if let Some(entries) = scan::struct_entries(s, open) {
            for e in entries {
                let key = e.key(s).to_string();
                walk(&text, e.value.clone(), key, &mut out);
            }
        }
    }
    out
}

/// The `set` commands that turn `old`'s settings into `new`'s, as `(path, value)` with
/// the value on one line, in file order (the notebook is not compared). A changed leaf
/// is set alone; where the shape changed (a layer added or removed, another enum
/// variant, a list grown), the nearest field that both have is set whole. Applying them
/// in order to `old` gives `new`'s settings: this is how the window's editor records its
/// changes as commands.
pub fn changes(old: &Experiment, new: &Experiment) -> Vec<(String, String)> {
    let (a, b) = (leaves(old), leaves(new));
    if a == b {
        return Vec::new();
    }
    let paths = |l: &[(String, String)]| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (leaf, _) in l {
            let segs = parse_path(leaf).unwrap_or_default();
            for n in 1..=segs.len() {
                let p = join_path(&segs[..n]);
                if !out.contains(&p) {
                    out.push(p);
                }
            }
        }
        out
    };
    let (pa, pb) = (paths(&a), paths(&b));
    // where the shape differs: the nearest path above a path only one side has that
    // both sides have (the top-level field at worst)
    let mut whole: Vec<String> = Vec::new();
    for p in pa
        .iter()
        .filter(|p| !pb.contains(p))
        .chain(pb.iter().filter(|p| !pa.contains(p)))
    {
        let segs = parse_path(p).unwrap_or_default();
        let mut n = segs.len();
        while n > 1 {
            n -= 1;
            let up = join_path(&segs[..n]);
            if pa.contains(&up) && pb.contains(&up) {
                break;
            }
        }
        let root = join_path(&segs[..n.max(1)]);
        if !whole.contains(&root) {
            whole.push(root);
        }
    }
    let under = |p: &str, root: &str| {
        p == root || p.starts_with(&format!("{root}.")) || p.starts_with(&format!("{root}["))
    };
    // keep the outermost of nested roots
    let outer: Vec<String> = whole
        .iter()
        .filter(|r| !whole.iter().any(|o| o != *r && under(r, o)))
        .cloned()
        .collect();
    let one_line = |v: String| v.lines().map(str::trim).collect::<Vec<_>>().join(" ");
    let mut out: Vec<(String, String)> = Vec::new();
    for (path, value) in &b {
        if let Some(root) = outer.iter().find(|r| under(path, r)) {
            if !out.iter().any(|(p, _)| p == root) {
                let v = get(new, root).unwrap_or_default();
                out.push((root.clone(), one_line(v)));
            }
            continue;
        }
        if a.iter().find(|(p, _)| p == path).map(|(_, v)| v) != Some(value) {
            out.push((path.clone(), one_line(value.clone())));
        }
    }
    // a root whose every leaf went away (a list emptied) has no leaf on `new`'s side
    for root in &outer {
        if !out.iter().any(|(p, _)| p == root) && pb.contains(root) {
            out.push((root.clone(), one_line(get(new, root).unwrap_or_default())));
        }
    }
    out
}

/// The settings that differ between experiments, given as their [`leaves`]: one row
/// per differing path, in first-seen order, `[path, value in each...]`, with `—` where
/// an experiment has no such setting. `compare` and the window's runs list show these.
pub fn differing_leaves(experiments: &[&[(String, String)]]) -> Vec<Vec<String>> {
    let mut paths: Vec<&String> = Vec::new();
    for leaves in experiments {
        for (p, _) in leaves.iter() {
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    let mut rows = Vec::new();
    for p in paths {
        let values: Vec<String> = experiments
            .iter()
            .map(|l| {
                l.iter()
                    .find(|(k, _)| k == p)
                    .map_or("—".into(), |(_, v)| v.clone())
            })
            .collect();
        if values.iter().any(|v| *v != values[0]) {
            rows.push(std::iter::once(p.clone()).chain(values).collect());
        }
    }
    rows
}

/// Every path that can be named: the leaves and the structs and lists above them.
pub fn all_paths(exp: &Experiment) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    for (leaf, _) in leaves(exp) {
        let segs = parse_path(&leaf).unwrap_or_default();
        for n in 1..=segs.len() {
            let p = join_path(&segs[..n]);
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    paths
}

fn walk(text: &str, value: Range<usize>, path: String, out: &mut Vec<(String, String)>) {
    let s = text.as_bytes();
    let i = value.start;
    if s.get(i) == Some(&b'[') {
        let elements = seq_elements(s, i);
        if elements.is_empty() {
            out.push((path.clone(), "[]".into()));
        }
        for (k, r) in elements.into_iter().enumerate() {
            walk(text, r, format!("{path}[{k}]"), out);
        }
        return;
    }
    let id_end = scan::ident_end(s, i);
    let tag = &text[i..id_end];
    if let Some(open) = scan::struct_open(s, i) {
        if open < value.end {
            if let Some(entries) = scan::struct_entries(s, open).filter(|e| !e.is_empty()) {
                let base = if tag.is_empty() {
                    path.clone()
                } else {
                    out.push((path.clone(), tag.to_string()));
                    format!("{path}.{tag}")
                };
                for e in entries {
                    let key = e.key(s).to_string();
                    walk(text, e.value.clone(), format!("{base}.{key}"), out);
                }
                return;
            }
        }
    }
    out.push((path, dedent(&text[value])));
}

/// Finds the value at `segments` in `text` (an experiment written by [`to_ron_string`]).
fn locate(text: &str, segments: &[Segment]) -> Result<Target, FieldError> {
    let s = text.as_bytes();
    let root = scan::root_open(s).expect("a written experiment is a struct");
    // the whole experiment is a struct value starting at its `(`
    let mut value = root..scan::value_end(s, root);
    let mut k = 0;
    while k < segments.len() {
        let at = join_path(&segments[..k]);
        let at_name = if at.is_empty() {
            "the experiment".to_string()
        } else {
            at.clone()
        };
        let i = scan::skip_trivia(s, value.start);
        match &segments[k] {
            Segment::Index(index) => {
                if s.get(i) != Some(&b'[') {
                    return Err(FieldError::NotContainer {
                        at: at_name,
                        value: short(&text[value]),
                        what: "elements (it is not a list)",
                    });
                }
                let elements = seq_elements(s, i);
                let len = elements.len();
                value = elements.into_iter().nth(*index).ok_or(FieldError::Index {
                    at: at_name,
                    index: *index,
                    len,
                })?;
            }
            Segment::Field(name) => {
                let id_end = scan::ident_end(s, i);
                let tag = &text[i..id_end];
                let open = scan::struct_open(s, i).filter(|&o| o < value.end);
                if !tag.is_empty() && tag == name {
                    // a variant name: asserts the variant, the value stays
                    k += 1;
                    continue;
                }
                let entries = open.and_then(|o| scan::struct_entries(s, o));
                let Some(entries) = entries else {
                    if !tag.is_empty() && name.starts_with(|c: char| c.is_ascii_uppercase()) {
                        return Err(FieldError::OtherVariant {
                            at: at_name,
                            actual: tag.to_string(),
                            wanted: name.clone(),
                        });
                    }
                    return Err(FieldError::NotContainer {
                        at: at_name,
                        value: short(&text[value]),
                        what: "fields",
                    });
                };
                if let Some(e) = entries.iter().find(|e| e.key(s) == name) {
                    value = e.value.clone();
                } else if name.starts_with(|c: char| c.is_ascii_uppercase()) && !tag.is_empty() {
                    return Err(FieldError::OtherVariant {
                        at: at_name,
                        actual: tag.to_string(),
                        wanted: name.clone(),
                    });
                } else if k + 1 == segments.len() && entries.is_empty() {
                    let close = scan::value_end(s, open.expect("entries come from a `(`") + 1);
                    return Ok(Target::Missing { close, empty: true });
                } else {
                    let keys: Vec<&str> = entries.iter().map(|e| e.key(s)).collect();
                    let suggestion = closest(name, &keys)
                        .map(|c| format!(" (did you mean `{c}`?)"))
                        .unwrap_or_default();
                    return Err(FieldError::Unknown {
                        at: at_name,
                        name: name.clone(),
                        suggestion,
                        known: keys.join(", "),
                    });
                }
            }
        }
        k += 1;
    }
    Ok(Target::Value(value))
}

/// The elements of the list whose `[` is at `open`.
fn seq_elements(s: &[u8], open: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = open + 1;
    loop {
        i = scan::skip_trivia(s, i);
        if i >= s.len() || s[i] == b']' {
            return out;
        }
        let end = scan::value_end(s, i);
        let mut stop = end;
        while stop > i && s[stop - 1].is_ascii_whitespace() {
            stop -= 1;
        }
        out.push(i..stop);
        i = if s.get(end) == Some(&b',') {
            end + 1
        } else {
            end
        };
        if end >= s.len() || s[end] == b']' {
            return out;
        }
    }
}

/// A bare word given for a text field (`set name my run`) is quoted for the user.
fn quote_bare_text(text: &str, target: &Target, value: &str) -> String {
    let is_text_field = matches!(target, Target::Value(r) if text[r.clone()].starts_with('"'));
    if is_text_field
        && !value.starts_with('"')
        && !value.starts_with("r#")
        && !value.starts_with("r\"")
    {
        format!("{value:?}")
    } else {
        value.to_string()
    }
}

/// Checks that `value` is exactly one RON value with balanced brackets.
fn check_one_value(path: &str, value: &str) -> Result<(), FieldError> {
    let err = |problem: &str| FieldError::Value {
        path: path.to_string(),
        value: value.to_string(),
        problem: problem.to_string(),
    };
    if value.is_empty() {
        return Err(err("no value given"));
    }
    let s = value.as_bytes();
    let end = scan::value_end(s, 0);
    if end < s.len() {
        return Err(err(&format!(
            "it has more after `{}`",
            value[..end].trim_end()
        )));
    }
    let (mut depth, mut i) = (0i64, 0);
    while i < s.len() {
        let j = scan::skip_trivia(s, i);
        if j != i {
            i = j;
            continue;
        }
        match s[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'"' => {
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
                if i >= s.len() {
                    return Err(err("a `\"` is not closed"));
                }
            }
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return Err(err("its brackets are not balanced"));
    }
    Ok(())
}

/// Removes the common indentation of the lines after the first (a value written after
/// its key: its closing bracket has the key's indentation, its fields four more).
fn dedent(value: &str) -> String {
    let mut lines = value.lines();
    let mut out = lines.next().unwrap_or("").to_string();
    let rest: Vec<&str> = lines.collect();
    let indent = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    for l in rest {
        out.push('\n');
        out.push_str(
            l.get(indent.min(l.len() - l.trim_start().len())..)
                .unwrap_or(l),
        );
    }
    out
}

/// A value's text shortened to one line for messages.
fn short(value: &str) -> String {
    let one: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(60).collect::<String>())
    } else {
        one
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_fields_and_indices() {
        assert_eq!(
            parse_path("model.layers[1].size").unwrap(),
            vec![
                Segment::Field("model".into()),
                Segment::Field("layers".into()),
                Segment::Index(1),
                Segment::Field("size".into())
            ]
        );
        assert!(parse_path("model..size").is_err());
        assert!(parse_path("model.layers[x]").is_err());
        assert!(parse_path("").is_err());
        assert!(parse_path("training.").is_err());
    }

    #[test]
    fn get_and_set_follow_the_file_syntax() {
        let exp = Experiment::default();
        let file = Path::new("t.ron");
        assert_eq!(get(&exp, "training.batch_size").unwrap(), "1");
        let e2 = set(&exp, "model.layers[0].size", "256", file).unwrap();
        assert_eq!(e2.model.layers[0].size, 256);
        let e3 = set(&exp, "training.updater", "Sgd(lr: 0.5)", file).unwrap();
        assert_eq!(get(&e3, "training.updater.Sgd.lr").unwrap(), "0.5");
        let e4 = set(&e3, "training.updater.Sgd.lr", "0.25", file).unwrap();
        assert_eq!(get(&e4, "training.updater.lr").unwrap(), "0.25");
        let e5 = set(&exp, "name", "my run", file).unwrap();
        assert_eq!(e5.name, "my run");
    }

    #[test]
    fn a_bad_set_says_why_and_changes_nothing() {
        let exp = Experiment::default();
        let file = Path::new("t.ron");
        let e = set(&exp, "training.batch_sise", "3", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("did you mean `batch_size`"), "{e}");
        let e = set(&exp, "training.batch_size", "-3", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("training.batch_size"), "{e}");
        let e = set(&exp, "training.batch_size", "0", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch_size"), "{e}");
        let e = set(&exp, "model.layers[3].size", "3", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("has 1 elements"), "{e}");
        let e = set(&exp, "training.updater", "Adam(lr: ", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a RON value"), "{e}");
        let e = set(&exp, "training.updater.Sgd.lr", "0.1", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not Sgd"), "{e}");
    }

    #[test]
    fn leaves_name_every_setting() {
        let exp = Experiment::default();
        let leaves = leaves(&exp);
        let find = |p: &str| leaves.iter().find(|(k, _)| k == p).map(|(_, v)| v.clone());
        assert_eq!(find("training.batch_size").as_deref(), Some("1"));
        assert_eq!(find("model.layers[0].size").as_deref(), Some("100"));
        assert_eq!(find("training.updater").as_deref(), Some("Adam"));
        assert!(find("training.updater.Adam.lr").is_some());
        for (path, _) in &leaves {
            get(&exp, path).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }

    /// Applies `changes(old, new)` to `old` with `set`, as the kernel does with the
    /// editor's changes, and checks that it gives `new`'s settings.
    fn replays_to(old: &Experiment, new: &Experiment) -> Vec<(String, String)> {
        let list = changes(old, new);
        let mut exp = old.clone();
        for (path, value) in &list {
            exp = set(&exp, path, value, Path::new("t.ron"))
                .unwrap_or_else(|e| panic!("set {path} {value}: {e}"));
        }
        let strip = |e: &Experiment| {
            let mut e = e.clone();
            e.notebook = Default::default();
            e
        };
        assert_eq!(strip(&exp), strip(new), "changes {list:?}");
        list
    }

    #[test]
    fn changes_set_a_changed_leaf_alone_and_a_changed_shape_whole() {
        use crate::experiment::schema::{LayerSpec, LayerType};
        let old = Experiment::default();
        assert!(changes(&old, &old).is_empty());

        let mut new = old.clone();
        new.model.layers[0].size = 64;
        new.training.batch_size = 16;
        let list = replays_to(&old, &new);
        let paths: Vec<&str> = list.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["model.layers[0].size", "training.batch_size"]);

        let mut added = old.clone();
        added.model.layers.push(LayerSpec {
            kind: LayerType::Gru,
            size: 8,
            ..LayerSpec::default()
        });
        let list = replays_to(&old, &added);
        assert_eq!(list[0].0, "model.layers");
        assert_eq!(list.len(), 1);
        // and back: a layer removed
        replays_to(&added, &old);

        let mut updater = old.clone();
        updater.training.updater =
            from_ron_str("(training: (updater: Sgd(lr: 0.1)))", Path::new("t.ron"))
                .expect("reads")
                .training
                .updater;
        let list = replays_to(&old, &updater);
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0].0, "training.updater");

        let mut text = old.clone();
        text.notes = "two\nlines \"quoted\"".into();
        text.name = "renamed".into();
        text.evaluation.every = Some(290);
        replays_to(&old, &text);
    }
}
