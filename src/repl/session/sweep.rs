//! The REPL's `sweep` commands run by the session, and the notebook's sweep cell.
//!
//! `sweep [--parallel N] [--slurm ...]` starts `seqlab sweep FILE ...` in the background
//! on the session's (saved) experiment file, so the window stays responsive; `sweep
//! status` gives the sweep as a cell built from the ordinary output kinds (the trials
//! [`Table`](crate::experiment::notebook::Table), the trials' validation curves as a
//! [`Series`] with the best emphasised, and for 2+ swept fields the objective against
//! each field) and lists the trials as runs of the notebook; `sweep wait` blocks until it
//! ends (scripts); `sweep cancel` stops it (local: the sweep stops its trials cleanly;
//! Slurm: `scancel`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::row::{mismatch, CommandRow, Handler};
use super::Session;
use crate::experiment::notebook::{relative_to, Line, Output, RunEntry, Series};
use crate::experiment::sweep::Results;
use crate::repl::command::{Command, Complete};
use crate::repl::sweep::SweepCommand;
use crate::train::sweep::{self, Sweep};
use crate::train::SweepBackend;

/// `sweep`'s row: its grammar is [`crate::repl::sweep`], its handler [`execute`].
pub(super) const ROWS: &[CommandRow] = &[CommandRow {
    name: "sweep",
    aliases: &[],
    usage: "sweep [--parallel N] [--slurm ...] | sweep status|wait|cancel [DIR]",
    summary: "run the experiment's sweep section (saved file) in the background, on this machine or as a Slurm job array (--slurm --partition P --time HH:MM:SS --cpus-per-task C --mem M --max-parallel K --sbatch-arg ARG --dry-run); status: the trials table, their validation curves and the objective against each field, the trials added as runs; wait: until it ends; cancel: stop it (trials stay resumable)",
    window: "the command line",
    complete: Complete::Nothing,
    parse: |call| crate::repl::sweep::parse(&call.args()?).map(Command::Sweep),
    run: Handler::Session(|session, cmd, _| match cmd {
        Command::Sweep(c) => execute(session, c),
        _ => mismatch("sweep"),
    }),
}];

/// Runs a `sweep` command in the session.
pub fn execute(session: &mut Session, cmd: SweepCommand) -> Result<Vec<Output>, String> {
    match cmd {
        SweepCommand::Start { options } => start(session, &options),
        SweepCommand::Status(dir) => {
            let s = open(session, dir.as_deref())?;
            status_cell(session, &s)
        }
        SweepCommand::Wait(dir) => {
            let s = open(session, dir.as_deref())?;
            SweepBackend::of(&s).wait(&s);
            status_cell(session, &s)
        }
        SweepCommand::Cancel(dir) => {
            let s = open(session, dir.as_deref())?;
            let said = SweepBackend::of(&s).cancel(&s).map_err(|e| e.to_string())?;
            let mut out = vec![Output::Text(said)];
            out.extend(status_cell(session, &s)?);
            Ok(out)
        }
    }
}

/// The session's experiment file, saved.
fn saved_file(session: &Session) -> Result<PathBuf, String> {
    let file = session
        .file()
        .ok_or("the sweep runs the experiment file: save the experiment first (`save FILE.ron`)")?
        .to_path_buf();
    // the transcript always changes; the settings must be those in the file
    let settings = |e: &crate::experiment::Experiment| {
        let mut e = e.clone();
        e.notebook = Default::default();
        crate::experiment::file::to_ron_string(&e)
    };
    let on_disk = crate::experiment::file::load(&file).map_err(|e| e.to_string())?;
    if settings(&on_disk) != settings(&session.experiment) {
        return Err(format!(
            "the settings differ from {} and the sweep reads the file: `save` first",
            file.display()
        ));
    }
    Ok(file)
}

/// The sweep folder given, or the one of `--out`, or the default beside the file.
fn open(session: &Session, dir: Option<&Path>) -> Result<Sweep, String> {
    let dir = match dir {
        Some(d) if d.is_relative() => session.base_dir().join(d),
        Some(d) => d.to_path_buf(),
        None => sweep::default_dir(&saved_file(session)?),
    };
    if !dir.exists() {
        return Err(format!(
            "no sweep in {}: none has been started for this experiment; `sweep` starts one \
             (see `help sweep`), or give the folder of another: `sweep status DIR`",
            dir.display()
        ));
    }
    Sweep::open(&dir).map_err(|e| format!("{e}"))
}

fn start(session: &mut Session, options: &[String]) -> Result<Vec<Output>, String> {
    let file = saved_file(session)?;
    let out = options
        .iter()
        .position(|o| o == "--out")
        .and_then(|i| options.get(i + 1))
        .map(|d| session.base_dir().join(d));
    // expand and check the trials here, so a problem shows in this cell
    let s = sweep::prepare(&file, out.as_deref()).map_err(|e| e.to_string())?;
    let seqlab = sweep::seqlab_binary().map_err(|e| e.to_string())?;
    let log = s.dir.join("sweep.log");
    let open_log = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("could not write {}: {e}", log.display()))
    };
    let mut cmd = std::process::Command::new(&seqlab);
    cmd.arg("sweep")
        .arg(&file)
        .args(options.iter().enumerate().map(|(i, o)| {
            // `--out DIR` as the session resolved it (relative to the file's folder)
            if i > 0 && options[i - 1] == "--out" {
                s.dir.display().to_string()
            } else {
                o.clone()
            }
        }))
        .stdin(std::process::Stdio::null())
        .stdout(open_log()?)
        .stderr(open_log()?);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0); // the window's Ctrl-C is not the sweep's
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", seqlab.display()))?;
    let pid = child.id();
    let backend = if options.iter().any(|o| o == "--slurm") {
        SweepBackend::Slurm
    } else {
        SweepBackend::Local
    };
    // wait until the child has the sweep under way (a local sweep: holds its folder's
    // lock), so that `sweep wait` right after cannot miss it
    let started = Instant::now();
    while !backend.is_run_by(&s, pid) && started.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(status)) = child.try_wait() {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let last = tail.lines().last().unwrap_or_default().to_string();
            return Err(format!("the sweep ended at once ({status}): {last}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // reap it when it ends
    let _ = std::thread::Builder::new()
        .name("sweep-reaper".into())
        .spawn(move || child.wait());
    let dir = relative_to(&s.dir, &session.base_dir());
    Ok(vec![Output::Text(format!(
        "started the sweep of {} ({} trials) in {} (process {pid}, log {}); `sweep status` \
         shows it, `sweep wait` waits for the end, `sweep cancel` stops it",
        file.display(),
        s.plan.trials.len(),
        dir.display(),
        relative_to(&log, &session.base_dir()).display()
    ))])
}

/// The sweep as notebook outputs; its trials are added to the notebook's runs.
pub fn status_cell(session: &mut Session, s: &Sweep) -> Result<Vec<Output>, String> {
    let results = SweepBackend::of(s).results(s).map_err(|e| e.to_string())?;
    let base = session.base_dir();
    add_runs(session, s, &results, &base);
    Ok(sweep_outputs(s, &results, &base))
}

/// Adds the sweep's started trials to the notebook's runs (once each).
fn add_runs(session: &mut Session, s: &Sweep, r: &Results, base: &Path) {
    let runs = &mut session.experiment.notebook.runs;
    for t in &r.trials {
        let folder = s.dir.join(&t.run);
        let Some(summary) = crate::experiment::rundir::read_run_digest(&folder) else {
            continue;
        };
        let path = relative_to(&folder, base);
        match runs.iter_mut().find(|e| e.path == path) {
            Some(e) => e.summary = summary,
            None => runs.push(RunEntry { path, summary }),
        }
    }
}

/// The outputs of a sweep: a summary line, the trials table, the validation curves
/// (best emphasised) and, with 2+ swept fields, the best value against each field.
pub fn sweep_outputs(s: &Sweep, r: &Results, base: &Path) -> Vec<Output> {
    let metric = &r.objective.metric;
    let mut out = vec![
        Output::Text(format!(
            "{} ({})",
            sweep::state_counts(r),
            relative_to(&s.dir, base).display()
        )),
        Output::Table(sweep::results_table(r)),
    ];
    let lines: Vec<Line> = r
        .trials
        .iter()
        .filter_map(|t| {
            let curve = sweep::objective_curve(&s.dir.join(&t.run), &r.objective);
            (!curve.is_empty()).then(|| Line {
                name: format!("trial {:03}", t.trial),
                points: curve.iter().map(|&(i, v)| (i as f64, v)).collect(),
                source: None,
                emphasis: t.best,
            })
        })
        .collect();
    if !lines.is_empty() {
        out.push(Output::Series(Series {
            title: format!("validation {metric} of each trial (best emphasised)"),
            x_label: "iteration".into(),
            y_label: metric.clone(),
            log_y: false,
            lines,
        }));
    }
    if r.fields.len() >= 2 {
        for field in &r.fields {
            // (the field's value, the trial's best objective) where both are numbers
            let point = |t: &crate::experiment::sweep::TrialResult| {
                Some((t.setting(field)?.parse::<f64>().ok()?, t.best_value?))
            };
            let mut points: Vec<(f64, f64)> = r.trials.iter().filter_map(point).collect();
            if points.is_empty() {
                continue; // not a number (an updater, a layer kind)
            }
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let best: Vec<(f64, f64)> = r
                .trials
                .iter()
                .filter(|t| t.best)
                .filter_map(point)
                .collect();
            let mut lines = vec![Line {
                name: "trials".into(),
                points,
                source: None,
                emphasis: false,
            }];
            if !best.is_empty() {
                lines.push(Line {
                    name: "best trial".into(),
                    points: best,
                    source: None,
                    emphasis: true,
                });
            }
            out.push(Output::Series(Series {
                title: format!("best validation {metric} against {field}"),
                x_label: field.clone(),
                y_label: metric.clone(),
                log_y: false,
                lines,
            }));
        }
    }
    out
}
