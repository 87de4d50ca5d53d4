//! The grammar of the REPL's `sweep` commands (what follows `sweep`); the session runs
//! them ([`super::session`]'s `sweep` part: the background sweep, its status cell, the
//! trials as runs).

use std::path::PathBuf;

/// A parsed `sweep ...` command.
#[derive(Clone, Debug, PartialEq)]
pub enum SweepCommand {
    /// Start the sweep with these `seqlab sweep` options (checked by [`parse`]).
    Start { options: Vec<String> },
    /// `sweep status [DIR]`
    Status(Option<PathBuf>),
    /// `sweep wait [DIR]`
    Wait(Option<PathBuf>),
    /// `sweep cancel [DIR]`
    Cancel(Option<PathBuf>),
}

/// Usage of the `sweep` commands.
pub const USAGE: &str = "sweep [--parallel N] [--out DIR] [--slurm [--partition P] [--time HH:MM:SS] \
[--cpus-per-task C] [--mem M] [--max-parallel K] [--sbatch-arg ARG]... [--dry-run]] | sweep status|wait|cancel [DIR]";

/// Parses what follows `sweep`.
pub fn parse(words: &[String]) -> Result<SweepCommand, String> {
    let usage = || format!("usage: {USAGE}");
    let dir = |rest: &[String]| match rest {
        [] => Ok(None),
        [d] => Ok(Some(PathBuf::from(d))),
        _ => Err(format!("give at most one sweep folder; {}", usage())),
    };
    match words.first().map(String::as_str) {
        Some("status") => return dir(&words[1..]).map(SweepCommand::Status),
        Some("wait") => return dir(&words[1..]).map(SweepCommand::Wait),
        Some("cancel") => return dir(&words[1..]).map(SweepCommand::Cancel),
        _ => {}
    }
    let mut options = Vec::new();
    let mut i = 0;
    let slurm = words.iter().any(|w| w == "--slurm");
    while i < words.len() {
        let w = words[i].as_str();
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (w, None),
        };
        let takes_value = match flag {
            "--slurm" | "--dry-run" => false,
            "--parallel" | "--out" => true,
            "--partition" | "--time" | "--cpus-per-task" | "--mem" | "--max-parallel"
            | "--sbatch-arg" => {
                if !slurm {
                    return Err(format!(
                        "{flag} is a Slurm option: add --slurm; {}",
                        usage()
                    ));
                }
                true
            }
            _ => return Err(format!("unknown option {w:?}; {}", usage())),
        };
        if flag == "--dry-run" && !slurm {
            return Err(format!("--dry-run goes with --slurm; {}", usage()));
        }
        options.push(flag.to_string());
        if takes_value {
            let value = match inline {
                Some(v) => v,
                None => {
                    i += 1;
                    words
                        .get(i)
                        .cloned()
                        .ok_or_else(|| format!("{flag} needs a value; {}", usage()))?
                }
            };
            if matches!(flag, "--parallel" | "--cpus-per-task" | "--max-parallel")
                && value.parse::<usize>().map_or(true, |n| n == 0)
            {
                return Err(format!(
                    "{flag} takes a whole number of 1 or more, not {value:?}"
                ));
            }
            options.push(value);
        }
        i += 1;
    }
    Ok(SweepCommand::Start { options })
}
