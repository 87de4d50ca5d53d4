//! Tab completion, read from the command table and the experiment.

use super::*;

/// Tab completion of `line` at byte `pos` for an experiment (its field paths, states
/// and runs): the start of the word being completed and the candidates. Reads nothing
/// but the experiment and, for file arguments, the folder named.
pub fn complete(exp: &Experiment, line: &str, pos: usize) -> (usize, Vec<String>) {
    use super::table::{commands, help_for};
    use crate::repl::command::Complete;
    let before = &line[..pos.min(line.len())];
    let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let word = &before[start..];
    let head: Vec<&str> = before[..start].split_whitespace().collect();
    let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<String>>();
    let runs = || exp.notebook.runs.iter().map(RunEntry::name).collect();
    let names = || commands().map(|c| c.name.to_string()).collect();
    let how = match head.first() {
        None => Complete::Commands,
        Some(name) => help_for(name).map_or(Complete::Nothing, |c| c.complete),
    };
    let args = head.get(1..).unwrap_or_default();
    let mut out: Vec<String> = match (how, args) {
        (Complete::Commands, []) => names(),
        (Complete::Fields, []) => fields::all_paths(exp),
        (Complete::Show, []) => {
            let mut v = words(&["experiment", "data", "model", "runs", "state"]);
            v.extend(fields::all_paths(exp));
            v
        }
        (Complete::Alignments, []) => words(&["start", "end", "equal"]),
        (Complete::LayerKinds, []) => LayerType::ALL
            .iter()
            .map(|k| k.info().name.to_string())
            .collect(),
        (Complete::State, []) => words(&["reset", "show", "save", "load"]),
        (Complete::State, ["load"]) => exp.notebook.states.iter().map(|s| s.name.clone()).collect(),
        (Complete::Runs, _) => runs(),
        (Complete::Files, _) => complete_file(word),
        (Complete::LoadData, []) => vec!["data".into()],
        (Complete::LoadData, ["data", ..]) => complete_file(word),
        (Complete::TrainLength, [_]) => words(&["iterations", "epochs"]),
        _ => Vec::new(),
    };
    out.retain(|c| c.starts_with(word));
    out.sort();
    out.dedup();
    (start, out)
}

pub(super) fn complete_file(word: &str) -> Vec<String> {
    let (dir, stem) = match word.rfind('/') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None => ("", word),
    };
    let read = if dir.is_empty() { "." } else { dir };
    std::fs::read_dir(read)
        .map(|rd| {
            rd.filter_map(|e| {
                let e = e.ok()?;
                let n = e.file_name().to_string_lossy().into_owned();
                if !n.starts_with(stem) || (n.starts_with('.') && !stem.starts_with('.')) {
                    return None;
                }
                let slash = if e.path().is_dir() { "/" } else { "" };
                Some(format!("{dir}{n}{slash}"))
            })
            .collect()
        })
        .unwrap_or_default()
}
