//! Running a sweep: the sweep folder, its trials as ordinary run folders, the local
//! scheduler (N trials at a time, each a `seqlab --run` child process), the median
//! stopping rule, and gathering every trial's outcome into `sweep.csv` / `sweep.json`.
//! Slurm job arrays are in [`super::sweep_slurm`]; both gather the same files, and
//! [`super::SweepBackend`] is the one place that chooses between them (front ends call it,
//! not the functions here that only a local sweep has).
//!
//! # The sweep folder
//! ```text
//! SWEEP/
//!   plan.json          the trials and their overrides (a re-run must find the same plan)
//!   experiment.ron     the experiment every trial starts from (paths made absolute)
//!   trials/000/        trial 0's run folder (run.ron, metrics.csv, eval.csv, checkpoints, ...)
//!   trials/000.log     its standard output and error
//!   trials/000.exit    its exit status, written when it ended (128+N: killed by signal N)
//!   trials/000.early   written when the median rule stopped it: the iteration, the reason
//!   sweep.csv, sweep.json
//!   slurm/             the job-array script, job id and logs (Slurm sweeps)
//! ```
//!
//! # Why child processes
//! Each trial is `seqlab --run experiment.ron --set ... --out trials/NNN` (or
//! `--run --resume trials/NNN`), exactly what a Slurm task runs. A trial that crashes,
//! runs out of memory or is killed takes only itself down; the run folder's own lock,
//! checkpoints and log reconciliation make resuming safe; and each child gets one BLAS
//! thread (`OPENBLAS_NUM_THREADS=1`), so N trials use N cores. The children run in their
//! own process group (Ctrl-C reaches the sweep, which stops them cleanly) and, on Linux,
//! die with the sweep if it is killed (`PR_SET_PDEATHSIG`), so a re-run never finds a
//! stray trial still writing its folder.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::experiment::io::write_text_atomic;
use crate::experiment::rundir::RunDir;
use crate::experiment::sweep::{
    self as spec, Objective, Plan, Results, Trial, TrialResult, TrialState, EXPERIMENT_FILE,
};
use crate::experiment::{file, ExperimentError};

/// What can stop a sweep from starting or being followed.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// Anything else, with what to do.
    #[error("{0}")]
    Other(String),
}

fn other(text: impl Into<String>) -> SweepError {
    SweepError::Other(text.into())
}

/// The default sweep folder: `<file stem>.sweep/` beside the file (`echo.ron` ->
/// `echo.sweep/`; a sweep file `lr.sweep.ron` -> `lr.sweep/`).
pub fn default_dir(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    let name = if stem.ends_with(".sweep") {
        stem
    } else {
        format!("{stem}.sweep")
    };
    file.parent().unwrap_or(Path::new("")).join(name)
}

/// An open sweep folder and its plan.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// The sweep folder (absolute).
    pub dir: PathBuf,
    pub plan: Plan,
}

/// Reads the sweep of `file` (an experiment with a `sweep` section or a sweep file),
/// expands and checks its trials, and creates the sweep folder (`out`, default
/// [`default_dir`]) with `plan.json` and `experiment.ron`; when the folder already holds
/// this sweep, it is reopened (a re-run resumes it), and when it holds another sweep
/// (other trials or another experiment) it is refused.
pub fn prepare(file_arg: &Path, out: Option<&Path>) -> Result<Sweep, SweepError> {
    let (exp_file, mut exp, sweep_spec) = spec::load(file_arg)?;
    let trials = spec::expand(&exp, &sweep_spec, &exp_file)?;
    let base = exp_file.parent().map(Path::to_path_buf).unwrap_or_default();
    file::resolve_paths(&mut exp, &base);
    exp.notebook = Default::default();
    let exp_text = file::to_ron_string(&exp);
    let exp_file_abs = std::fs::canonicalize(&exp_file).unwrap_or(exp_file.clone());
    let plan = Plan::new(&exp_file_abs, &sweep_spec, trials);
    let dir = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| default_dir(file_arg));
    std::fs::create_dir_all(dir.join("trials"))
        .map_err(|e| ExperimentError::io("write", &dir, e))?;
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let exp_copy = dir.join(EXPERIMENT_FILE);
    if dir.join(spec::PLAN_FILE).exists() {
        let old = Plan::read(&dir)?;
        let old_text = std::fs::read_to_string(&exp_copy).unwrap_or_default();
        let what = if old.trials != plan.trials {
            Some(format!(
                "other trials ({} there, {} now)",
                old.trials.len(),
                plan.trials.len()
            ))
        } else if old_text != exp_text {
            Some(format!(
                "another version of the experiment (its copy is {})",
                exp_copy.display()
            ))
        } else {
            None
        };
        if let Some(what) = what {
            return Err(other(format!(
                "{}: this folder holds a sweep with {what}; give --out NEW_FOLDER for the \
                 changed sweep, or delete the folder to start over",
                dir.display()
            )));
        }
        return Ok(Sweep { dir, plan: old });
    }
    write_text_atomic(&exp_copy, &exp_text)?;
    plan.write(&dir)?;
    Ok(Sweep { dir, plan })
}

impl Sweep {
    /// Opens an existing sweep folder.
    pub fn open(dir: &Path) -> Result<Sweep, SweepError> {
        let plan = Plan::read(dir)?;
        let dir = std::fs::canonicalize(dir).unwrap_or(dir.to_path_buf());
        Ok(Sweep { dir, plan })
    }

    /// A trial's run folder.
    pub fn run_dir(&self, t: &Trial) -> PathBuf {
        self.dir.join("trials").join(t.name())
    }

    fn side_file(&self, t: &Trial, ext: &str) -> PathBuf {
        self.dir.join("trials").join(format!("{}.{ext}", t.name()))
    }

    /// The trial's log (standard output and error).
    pub fn log_file(&self, t: &Trial) -> PathBuf {
        self.side_file(t, "log")
    }

    /// The trial's exit status file.
    pub fn exit_file(&self, t: &Trial) -> PathBuf {
        self.side_file(t, "exit")
    }

    fn early_file(&self, t: &Trial) -> PathBuf {
        self.side_file(t, "early")
    }

    /// The `seqlab` arguments that run (or continue) the trial: `--run --resume DIR`
    /// when its folder has a checkpoint, else a fresh `--run experiment.ron --set ...
    /// --out DIR` (a folder without a checkpoint is removed first: nothing in it can be
    /// continued).
    pub fn trial_args(&self, t: &Trial) -> Vec<String> {
        let run = self.run_dir(t);
        if run.join("run.ron").exists() && run.join("checkpoints").join("latest").exists() {
            return vec![
                "--run".into(),
                "--resume".into(),
                run.display().to_string(),
                "--quiet".into(),
            ];
        }
        if run.exists() {
            let _ = std::fs::remove_dir_all(&run);
        }
        self.fresh_args(t)
    }

    /// The arguments of a fresh start of the trial.
    pub fn fresh_args(&self, t: &Trial) -> Vec<String> {
        let mut args = vec![
            "--run".into(),
            self.dir.join(EXPERIMENT_FILE).display().to_string(),
            "--out".into(),
            self.run_dir(t).display().to_string(),
            "--quiet".into(),
        ];
        for s in t.set_args() {
            args.push("--set".into());
            args.push(s);
        }
        args
    }

    /// Every trial's result from the files, `running(trial)` saying which are running
    /// now (local children or Slurm tasks); `cancelled(trial)` marks trials whose Slurm
    /// task was cancelled. The best trial is marked.
    pub fn gather(&self, state_now: &dyn Fn(usize) -> Option<TrialState>) -> Results {
        let trials = self
            .plan
            .trials
            .iter()
            .map(|t| self.trial_result(t, state_now(t.index)))
            .collect();
        let mut r = Results {
            experiment_file: self.plan.experiment_file.clone(),
            fields: self.plan.fields.clone(),
            objective: self.plan.objective.clone(),
            best_trial: None,
            trials,
        };
        r.mark_best();
        r
    }

    /// Writes `sweep.csv` and `sweep.json` (atomically).
    pub fn write_results(&self, results: &Results) -> Result<(), SweepError> {
        results.write(&self.dir)?;
        Ok(())
    }

    /// One trial's result from its run folder and side files. `now` is what the
    /// scheduler knows (running, cancelled) when no exit status is written yet.
    pub fn trial_result(&self, t: &Trial, now: Option<TrialState>) -> TrialResult {
        let run = self.run_dir(t);
        let curve = objective_curve(&run, &self.plan.objective);
        let validation = spec::read_validation(&run);
        let best = curve
            .iter()
            .copied()
            .fold(None, |b: Option<(u64, f64)>, (i, v)| match b {
                Some((_, bv)) if !self.plan.objective.better(v, bv) => b,
                _ if v.is_finite() => Some((i, v)),
                _ => b,
            });
        let summary = RunDir::read_summary(&run);
        let summary_str = |k: &str| {
            summary
                .as_ref()
                .and_then(|s| s.get(k)?.as_str().map(String::from))
        };
        let exit = read_exit(&self.exit_file(t));
        let early = std::fs::read_to_string(self.early_file(t)).ok();
        let iterations = summary
            .as_ref()
            .and_then(|s| s.get("iterations")?.as_u64())
            .or_else(|| last_metrics_row(&run).map(|(i, _)| i))
            .unwrap_or(0);
        let (state, stop_reason) = match (exit, now) {
            (None, Some(now)) => (now, now.label().to_string()),
            (None, None) => {
                let reason = if run.join("run.ron").exists() {
                    format!("interrupted at iteration {iterations}; a re-run resumes it")
                } else {
                    "not started".to_string()
                };
                (TrialState::Pending, reason)
            }
            (Some(code), _) => {
                if let Some(early) = early {
                    let reason = early.lines().nth(1).unwrap_or("stopped early").to_string();
                    (TrialState::StoppedEarly, reason)
                } else {
                    match summary_str("stop_reason").as_deref() {
                        Some("completed") if code == 0 => {
                            (TrialState::Completed, "completed".to_string())
                        }
                        Some("early_stopped") if code == 0 => (
                            TrialState::Completed,
                            "completed: the experiment's early stopping ended it (the \
                             validation score stopped improving)"
                                .to_string(),
                        ),
                        Some("diverged") => (
                            TrialState::Failed,
                            match summary_str("error") {
                                Some(e) => format!("diverged: {e}"),
                                None => format!("diverged at iteration {}", iterations + 1),
                            },
                        ),
                        _ => (TrialState::Failed, failure_reason(&self.log_file(t), code)),
                    }
                }
            }
        };
        let final_metrics = validation
            .last()
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        TrialResult {
            trial: t.index,
            run: PathBuf::from("trials").join(t.name()),
            settings: t.settings.clone(),
            state,
            stop_reason,
            iterations,
            best_value: best.map(|b| b.1),
            best_iteration: best.map(|b| b.0),
            final_value: curve.last().map(|c| c.1),
            final_metrics,
            wall_seconds: summary
                .as_ref()
                .and_then(|s| s.get("wall_seconds")?.as_f64()),
            best: false,
        }
    }
}

/// True while a local sweep's scheduler runs in `dir` (it holds the folder's lock).
pub(super) fn scheduler_running(dir: &Path) -> bool {
    let Ok(f) = std::fs::File::open(dir.join(crate::experiment::rundir::LOCK_FILE)) else {
        return false;
    };
    match f.try_lock_shared() {
        Ok(()) => {
            let _ = f.unlock();
            false
        }
        Err(_) => true,
    }
}

impl Sweep {
    /// A local sweep's results as seen from outside its scheduler: while it runs, the
    /// started trials without an exit status are running. Writes `sweep.csv` and
    /// `sweep.json` only when no scheduler runs (a running one writes them itself).
    pub(super) fn local_status(&self) -> Result<Results, SweepError> {
        let running = scheduler_running(&self.dir);
        let r = self.gather(&|i| {
            let t = &self.plan.trials[i];
            let started = self.run_dir(t).join("run.ron").exists();
            (running && started && !self.exit_file(t).exists()).then_some(TrialState::Running)
        });
        if !running {
            self.write_results(&r)?;
        }
        Ok(r)
    }
}

/// True while the process `pid` holds the sweep folder's lock (it runs the sweep).
pub(super) fn locked_by(dir: &Path, pid: u32) -> bool {
    let text =
        std::fs::read_to_string(dir.join(crate::experiment::rundir::LOCK_FILE)).unwrap_or_default();
    text.trim() == pid.to_string() && scheduler_running(dir)
}

/// Stops the local sweep running in the sweep's folder: SIGINT (as Ctrl-C) to the
/// process holding its lock, which stops its trials cleanly (they stay resumable); waits
/// up to a minute for it to end.
pub(super) fn cancel_local(s: &Sweep) -> Result<String, SweepError> {
    if !scheduler_running(&s.dir) {
        return Ok(format!("{}: no sweep is running there", s.dir.display()));
    }
    let lock = s.dir.join(crate::experiment::rundir::LOCK_FILE);
    let pid: i32 = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .ok_or_else(|| other(format!("{}: names no process", lock.display())))?;
    #[cfg(unix)]
    // SAFETY: kill(2) on the pid that holds the sweep's lock, asking it to stop
    unsafe {
        libc::kill(pid, libc::SIGINT);
    }
    let start = Instant::now();
    while scheduler_running(&s.dir) && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(format!(
        "stopped the sweep (process {pid}); its unfinished trials resume when it runs again"
    ))
}

/// The objective's metric at each validation of a run: `(iteration, value)`.
pub fn objective_curve(run: &Path, objective: &Objective) -> Vec<(u64, f64)> {
    spec::read_validation(run)
        .into_iter()
        .filter_map(|(i, m)| {
            m.iter()
                .find(|(n, _)| *n == objective.metric)
                .map(|(_, v)| (i, *v))
        })
        .collect()
}

/// The exit status written into a `.exit` file.
fn read_exit(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Why a trial failed, from its log's last `seqlab: ` line, else its exit status.
fn failure_reason(log: &Path, code: i32) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let said = text
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("seqlab: "))
        .filter(|l| !l.starts_with("note:"));
    match (said, code) {
        (Some(said), _) => said.to_string(),
        (None, c) if c > 128 => format!(
            "killed by signal {}{}",
            c - 128,
            match c - 128 {
                9 => " (SIGKILL: out of memory, or killed by hand or by Slurm)",
                15 => " (SIGTERM: cancelled or out of time)",
                _ => "",
            }
        ),
        (None, 0) => "ended without writing summary.json".to_string(),
        (None, c) => format!("exit status {c}; see {}", log.display()),
    }
}

/// The last complete row of a run's `metrics.csv`: `(iteration, training score)`, read
/// from the file's end.
pub fn last_metrics_row(run: &Path) -> Option<(u64, f64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(run.join("metrics.csv")).ok()?;
    let len = f.metadata().ok()?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(8192))).ok()?;
    let mut tail = String::new();
    f.read_to_string(&mut tail).ok()?;
    tail.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .rev()
        .find_map(|l| {
            let mut cells = l.trim_end().split(',');
            let it = cells.next()?.parse().ok()?;
            let _epoch = cells.next()?;
            Some((it, cells.next()?.parse().ok()?))
        })
}

/// The median stopping rule: a trial whose objective value `value` at iteration `at`
/// is worse than the median of the finished trials' values at the same iteration is
/// stopped, once at least `min_trials` finished trials have a value there. Returns the
/// reason, or `None` to let it go on.
pub fn median_rule(
    value: f64,
    at: u64,
    finished: &[Vec<(u64, f64)>],
    objective: &Objective,
    min_trials: usize,
) -> Option<String> {
    let mut there: Vec<f64> = finished
        .iter()
        .filter_map(|c| c.iter().find(|(i, _)| *i == at).map(|(_, v)| *v))
        .filter(|v| v.is_finite())
        .collect();
    if there.len() < min_trials.max(1) {
        return None;
    }
    there.sort_by(f64::total_cmp);
    let n = there.len();
    let median = if n % 2 == 1 {
        there[n / 2]
    } else {
        0.5 * (there[n / 2 - 1] + there[n / 2])
    };
    let worse = !value.is_finite() || objective.better(median, value);
    worse.then(|| {
        format!(
            "stopped early at iteration {at} (median rule: validation {} {value:.4} worse \
             than the median {median:.4} of {n} finished trials)",
            objective.metric
        )
    })
}

/// The `seqlab` executable trials run: `$SEQLAB_BIN` when set, else this process's
/// executable when it is seqlab (`seqlab sweep`, the window, `seqlab repl`).
pub fn seqlab_binary() -> Result<PathBuf, SweepError> {
    if let Some(p) = std::env::var_os("SEQLAB_BIN").filter(|p| !p.is_empty()) {
        return check_binary(Path::new(&p));
    }
    let exe = std::env::current_exe().map_err(|e| {
        other(format!(
            "cannot find the running executable ({e}); set SEQLAB_BIN to the seqlab binary"
        ))
    })?;
    let is_seqlab = exe
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "seqlab" || n.starts_with("seqlab-") || n == "seqlab.exe");
    if !is_seqlab {
        return Err(other(format!(
            "{} is not the seqlab binary, which runs the trials; set SEQLAB_BIN to its path",
            exe.display()
        )));
    }
    check_binary(&exe)
}

/// `path` made absolute, checked to be an executable file.
pub fn check_binary(path: &Path) -> Result<PathBuf, SweepError> {
    let abs = std::fs::canonicalize(path).map_err(|e| {
        other(format!(
            "the seqlab binary {} cannot be found ({e}); give its full path in SEQLAB_BIN",
            path.display()
        ))
    })?;
    let meta = std::fs::metadata(&abs).map_err(|e| other(format!("{}: {e}", abs.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
            return Err(other(format!(
                "{} is not an executable file; point SEQLAB_BIN at the seqlab binary",
                abs.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(abs)
}

/// What the local scheduler reports while it runs.
pub enum Progress<'a> {
    /// A trial started (or resumed).
    Started { trial: &'a Trial, resumed: bool },
    /// A trial ended; its result.
    Ended(&'a TrialResult),
    /// The whole table, about twice a second.
    Table(&'a Results),
}

/// Runs the sweep's unfinished trials on this machine, `parallel` at a time (each a
/// `seqlab` child process with one BLAS thread), and writes
/// `sweep.csv` / `sweep.json` (also after every trial that ends, so a killed sweep
/// leaves them current). Finished trials (completed, stopped early, failed) are kept;
/// interrupted ones continue from their last checkpoint. When `stop` becomes true the
/// running trials are stopped (they write their weights and stay resumable) and the
/// results so far are returned.
pub(super) fn run_local(
    sweep: &Sweep,
    parallel: usize,
    seqlab: &Path,
    stop: &AtomicBool,
    report: &mut dyn FnMut(Progress),
) -> Result<Results, SweepError> {
    let parallel = parallel.max(1);
    // one scheduler per sweep folder (the lock is released when this process ends)
    let _lock = crate::experiment::rundir::lock_run_dir(&sweep.dir)?;
    let initial = sweep.gather(&|_| None);
    let mut pending: VecDeque<&Trial> = sweep
        .plan
        .trials
        .iter()
        .zip(&initial.trials)
        .filter(|(_, r)| !r.state.is_final())
        .map(|(t, _)| t)
        .collect();
    struct Running<'a> {
        trial: &'a Trial,
        child: Child,
        /// Validations already checked by the median rule.
        checked: usize,
        stopping: bool,
    }
    let mut running: Vec<Running> = Vec::new();
    let mut last_table = Instant::now() - Duration::from_secs(1);
    let mut stopping = false;
    loop {
        if stop.load(Ordering::SeqCst) && !stopping {
            stopping = true;
            pending.clear();
            for r in &mut running {
                interrupt(&r.child);
            }
        }
        while running.len() < parallel && !stopping {
            let Some(trial) = pending.pop_front() else {
                break;
            };
            wait_until_free(&sweep.run_dir(trial))?;
            let args = sweep.trial_args(trial);
            let resumed = args.iter().any(|a| a == "--resume");
            let _ = std::fs::remove_file(sweep.exit_file(trial));
            let _ = std::fs::remove_file(sweep.early_file(trial));
            let child = spawn_trial(seqlab, &args, &sweep.log_file(trial))?;
            report(Progress::Started { trial, resumed });
            running.push(Running {
                trial,
                child,
                checked: 0,
                stopping: false,
            });
        }
        // trials that ended
        let mut i = 0;
        let mut ended_any = false;
        while i < running.len() {
            let status = running[i].child.try_wait().map_err(|e| {
                other(format!(
                    "could not watch trial {}: {e}",
                    running[i].trial.name()
                ))
            })?;
            let Some(status) = status else {
                i += 1;
                continue;
            };
            let r = running.swap_remove(i);
            let code = exit_code(&status);
            // interrupted by the sweep's own stop: no exit status, so a re-run resumes it
            let interrupted = stopping && !r.stopping && (code == 130 || code > 128);
            if !interrupted {
                write_text_atomic(&sweep.exit_file(r.trial), &format!("{code}\n"))?;
            }
            let result = sweep.trial_result(r.trial, None);
            report(Progress::Ended(&result));
            ended_any = true;
        }
        // the median rule
        if let (Some(rule), false) = (&sweep.plan.median_stopping, stopping) {
            let objective = &sweep.plan.objective;
            let finished: Vec<Vec<(u64, f64)>> = sweep
                .plan
                .trials
                .iter()
                .filter(|t| {
                    read_exit(&sweep.exit_file(t)) == Some(0) && !sweep.early_file(t).exists()
                })
                .map(|t| objective_curve(&sweep.run_dir(t), objective))
                .collect();
            for r in running.iter_mut().filter(|r| !r.stopping) {
                let curve = objective_curve(&sweep.run_dir(r.trial), objective);
                for &(at, value) in curve.iter().skip(r.checked) {
                    if at < rule.warmup {
                        continue;
                    }
                    if let Some(reason) =
                        median_rule(value, at, &finished, objective, rule.min_trials)
                    {
                        write_text_atomic(
                            &sweep.early_file(r.trial),
                            &format!("{at}\n{reason}\n"),
                        )?;
                        interrupt(&r.child);
                        r.stopping = true;
                        break;
                    }
                }
                r.checked = curve.len();
            }
        }
        let done = running.is_empty() && pending.is_empty();
        if ended_any || done || last_table.elapsed() >= Duration::from_millis(500) {
            last_table = Instant::now();
            let now: Vec<usize> = running.iter().map(|r| r.trial.index).collect();
            let results = sweep.gather(&|i| now.contains(&i).then_some(TrialState::Running));
            if ended_any || done {
                sweep.write_results(&results)?;
            }
            report(Progress::Table(&results));
            if done {
                return Ok(results);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (up to 10 s) until no process holds the run folder's lock: a trial of a killed
/// sweep takes a moment to die. A folder still in use after that is an error.
fn wait_until_free(run: &Path) -> Result<(), SweepError> {
    if !run.join(crate::experiment::rundir::LOCK_FILE).exists() {
        return Ok(());
    }
    let start = Instant::now();
    loop {
        match crate::experiment::rundir::lock_run_dir(run) {
            Ok(_lock) => return Ok(()),
            Err(e) if start.elapsed() >= Duration::from_secs(10) => return Err(e.into()),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The exit status as a number: the code, or 128 + the signal that ended it.
fn exit_code(status: &std::process::ExitStatus) -> i32 {
    if let Some(c) = status.code() {
        return c;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(s) = status.signal() {
            return 128 + s;
        }
    }
    1
}

/// Starts one trial: `seqlab ARGS` with one BLAS thread, output appended to `log`.
fn spawn_trial(seqlab: &Path, args: &[String], log: &Path) -> Result<Child, SweepError> {
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|e| ExperimentError::io("write", log, e))
    };
    let mut cmd = std::process::Command::new(seqlab);
    cmd.args(args)
        .env("OPENBLAS_NUM_THREADS", "1")
        .stdin(Stdio::null())
        .stdout(open()?)
        .stderr(open()?);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // its own process group: a Ctrl-C in the terminal reaches the sweep only, which
        // stops the trials itself
        cmd.process_group(0);
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent; it
        // makes the kernel kill the trial when the sweep process dies, however it dies
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    cmd.spawn().map_err(|e| {
        other(format!(
            "could not start {} for a trial: {e}; check that the seqlab binary exists and \
             is executable",
            seqlab.display()
        ))
    })
}

/// Asks a trial to stop after its current iteration (SIGINT, as Ctrl-C: it writes its
/// weights, checkpoint and summary, then exits with status 130).
fn interrupt(child: &Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) with a child's pid that has not been reaped yet
            unsafe {
                libc::kill(pid, libc::SIGINT);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = child;
}

/// The results as a table (the notebook cell's table, the terminal's live table):
/// trial, each swept field, state, iterations, best and final objective value, wall
/// time, `*` for the best, and the stop reason.
pub fn results_table(r: &Results) -> crate::experiment::notebook::Table {
    let metric = &r.objective.metric;
    let mut columns = vec!["trial".to_string()];
    columns.extend(r.fields.iter().cloned());
    columns.extend(
        [
            "state",
            "iterations",
            &format!("best {metric}"),
            &format!("final {metric}"),
            "wall s",
            "best",
            "stop reason",
        ]
        .map(String::from),
    );
    let num = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
    let rows = r
        .trials
        .iter()
        .map(|t| {
            let mut row = vec![format!("{:03}", t.trial)];
            for f in &r.fields {
                row.push(t.setting(f).unwrap_or_default().to_string());
            }
            row.push(t.state.label().into());
            row.push(t.iterations.to_string());
            row.push(num(t.best_value));
            row.push(num(t.final_value));
            row.push(
                t.wall_seconds
                    .map(|s| format!("{s:.1}"))
                    .unwrap_or_else(|| "-".into()),
            );
            row.push(if t.best { "*".into() } else { String::new() });
            row.push(short(&t.stop_reason, 90));
            row
        })
        .collect();
    crate::experiment::notebook::Table {
        title: format!(
            "sweep of {} ({} trials, objective: {} {metric})",
            r.experiment_file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            r.trials.len(),
            match r.objective.goal() {
                spec::Goal::Min => "min",
                spec::Goal::Max => "max",
            }
        ),
        columns,
        rows,
    }
}

/// Counts of trials by state, for a one-line summary: `4 trials: 3 completed, 1 failed`.
pub fn state_counts(r: &Results) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in [
        TrialState::Completed,
        TrialState::StoppedEarly,
        TrialState::Failed,
        TrialState::Running,
        TrialState::Pending,
        TrialState::Cancelled,
    ] {
        let n = r.trials.iter().filter(|t| t.state == s).count();
        if n > 0 {
            parts.push(format!("{n} {}", s.label()));
        }
    }
    let best = r
        .best_trial
        .and_then(|b| r.trials.iter().find(|t| t.trial == b))
        .map(|t| {
            format!(
                "; best: trial {:03} ({} {:.4})",
                t.trial,
                r.objective.metric,
                t.best_value.unwrap_or(f64::NAN)
            )
        })
        .unwrap_or_default();
    format!("{} trials: {}{best}", r.trials.len(), parts.join(", "))
}

/// `text` cut to `max` characters (with `...`); sweep.csv keeps the whole text.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(3)).collect();
    format!("{cut}...")
}
