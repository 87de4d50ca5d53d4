//! Sweeps on Slurm: one job-array task per unfinished trial, each running the same
//! `seqlab --run` (or `--run --resume`) a local sweep runs, into the same run folders,
//! and writing its exit status into `trials/NNN.exit`. The job is followed with `squeue`
//! only (no accounting database needed), and the results are gathered from the files
//! exactly as for a local sweep ([`super::sweep::Sweep::gather`]). Front ends reach these
//! functions through [`super::SweepBackend`].
//!
//! The sweep folder, the experiment's data and the seqlab binary must be at the same
//! paths on the compute nodes (a shared filesystem): the script names them by absolute
//! path.
//!
//! Files in the sweep folder: `slurm/sweep.sbatch` (the script), `slurm/job_id` (the
//! latest array's id), `slurm/logs/%A_%a.out` (Slurm's own per-task output; a trial's
//! seqlab output goes to `trials/NNN.log`), `slurm/cancelled` (after `--cancel`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::sweep::{Sweep, SweepError};
use crate::experiment::io::write_text_atomic;
use crate::experiment::sweep::{Results, TrialState, EXPERIMENT_FILE};
use crate::experiment::ExperimentError;

/// `sbatch` options of a Slurm sweep (each `None` leaves Slurm's default).
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    /// The partition (queue) to run in.
    pub partition: Option<String>,
    /// `HH:MM:SS` per trial.
    pub time: Option<String>,
    pub cpus_per_task: Option<usize>,
    /// e.g. `4G`.
    pub mem: Option<String>,
    /// At most this many tasks at once (`%K`).
    pub max_parallel: Option<usize>,
    /// More `#SBATCH` lines, as written (`--account=lab`).
    pub sbatch_args: Vec<String>,
}

fn other(text: impl Into<String>) -> SweepError {
    SweepError::Other(text.into())
}

fn slurm_dir(s: &Sweep) -> PathBuf {
    s.dir.join("slurm")
}

/// True when the sweep was submitted to Slurm.
pub(super) fn is_slurm(s: &Sweep) -> bool {
    slurm_dir(s).join("job_id").exists()
}

fn job_id(s: &Sweep) -> Option<String> {
    std::fs::read_to_string(slurm_dir(s).join("job_id"))
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// A Slurm command on PATH, or a message saying what is missing and what to do.
fn find_command(name: &str) -> Result<PathBuf, SweepError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            other(format!(
                "`{name}` is not on PATH: --slurm needs Slurm's client commands (sbatch, \
                 squeue, scancel) on this machine, configured for your cluster (Debian/Ubuntu: \
                 apt-get install slurm-client; the cluster's slurm.conf or SLURM_CONF); \
                 without --slurm the sweep runs on this machine"
            ))
        })
}

/// Runs a Slurm command and returns its standard output; a failure names the command
/// and gives Slurm's message.
fn slurm_command(name: &str, args: &[&str]) -> Result<String, SweepError> {
    let exe = find_command(name)?;
    let out = Command::new(&exe)
        .args(args)
        .output()
        .map_err(|e| other(format!("could not run {}: {e}", exe.display())))?;
    if !out.status.success() {
        return Err(other(format!(
            "`{name} {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Text in single quotes for bash.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `0-3,5,7-8`: the indices as ranges.
fn array_spec(indices: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < indices.len() {
        let start = indices[i];
        let mut end = start;
        while i + 1 < indices.len() && indices[i + 1] == end + 1 {
            i += 1;
            end = indices[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

/// The trials a submission runs: those not finished (completed, stopped early, failed).
fn unfinished(s: &Sweep) -> Vec<usize> {
    let r = s.gather(&|_| None);
    r.trials
        .iter()
        .filter(|t| !t.state.is_final())
        .map(|t| t.trial)
        .collect()
}

/// Writes the job-array script `slurm/sweep.sbatch` for the `tasks` given (default: the
/// unfinished trials) and returns its path.
pub(super) fn write_script(
    s: &Sweep,
    opts: &SlurmOptions,
    seqlab: &Path,
    tasks: Option<&[usize]>,
) -> Result<PathBuf, SweepError> {
    let tasks = tasks
        .map(<[usize]>::to_vec)
        .unwrap_or_else(|| unfinished(s));
    if tasks.is_empty() {
        return Err(other(format!(
            "{}: every trial has finished; nothing to submit",
            s.dir.display()
        )));
    }
    let dir = slurm_dir(s);
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| ExperimentError::io("write", &logs, e))?;
    let mut array = array_spec(&tasks);
    if let Some(k) = opts.max_parallel {
        array.push_str(&format!("%{}", k.max(1)));
    }
    let mut text = String::from("#!/bin/bash\n");
    text.push_str(
        "# Written by `seqlab sweep --slurm`: one array task per trial of the sweep in this\n\
         # folder. Each task runs its trial with `seqlab --run` into trials/NNN (or continues\n\
         # it from its last checkpoint) and writes its exit status into trials/NNN.exit.\n\
         # The folder, the data and the seqlab binary must be at these paths on the nodes.\n",
    );
    let name = s
        .plan
        .experiment_file
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sweep".into());
    text.push_str(&format!("#SBATCH --job-name=seqlab-{name}\n"));
    text.push_str(&format!("#SBATCH --array={array}\n"));
    text.push_str(&format!(
        "#SBATCH --output={}\n",
        logs.join("%A_%a.out").display()
    ));
    if let Some(p) = &opts.partition {
        text.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &opts.time {
        text.push_str(&format!("#SBATCH --time={t}\n"));
    }
    if let Some(c) = opts.cpus_per_task {
        text.push_str(&format!("#SBATCH --cpus-per-task={c}\n"));
    }
    if let Some(m) = &opts.mem {
        text.push_str(&format!("#SBATCH --mem={m}\n"));
    }
    for a in &opts.sbatch_args {
        text.push_str(&format!("#SBATCH {a}\n"));
    }
    text.push_str("\nset -u\n");
    text.push_str(&format!(
        "SEQLAB={}\nSWEEP={}\n",
        sh_quote(&seqlab.display().to_string()),
        sh_quote(&s.dir.display().to_string())
    ));
    text.push_str(
        "# one BLAS thread per CPU Slurm gives the task\n\
         export OPENBLAS_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n\
         T=$(printf '%03d' \"$SLURM_ARRAY_TASK_ID\")\n\
         RUN=\"$SWEEP/trials/$T\"\n\
         case \"$SLURM_ARRAY_TASK_ID\" in\n",
    );
    for t in &s.plan.trials {
        let sets: Vec<String> = t
            .set_args()
            .iter()
            .map(|a| format!("--set {}", sh_quote(a)))
            .collect();
        text.push_str(&format!("    {}) SETS=({}) ;;\n", t.index, sets.join(" ")));
    }
    text.push_str(&format!(
        "    *) echo \"this sweep has no trial $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\n\
         esac\n\
         rm -f \"$SWEEP/trials/$T.exit\"\n\
         if [ -f \"$RUN/run.ron\" ] && [ -f \"$RUN/checkpoints/latest\" ]; then\n\
         \x20   \"$SEQLAB\" --run --resume \"$RUN\" --quiet >>\"$SWEEP/trials/$T.log\" 2>&1\n\
         else\n\
         \x20   rm -rf \"$RUN\"\n\
         \x20   \"$SEQLAB\" --run \"$SWEEP/{EXPERIMENT_FILE}\" --out \"$RUN\" --quiet \"${{SETS[@]}}\" >>\"$SWEEP/trials/$T.log\" 2>&1\n\
         fi\n\
         STATUS=$?\n\
         # killed by SIGTERM or SIGKILL (scancel, time or memory limit): no status, so\n\
         # Slurm's state says what happened and a re-run of the sweep resumes the trial\n\
         if [ \"$STATUS\" -ne 143 ] && [ \"$STATUS\" -ne 137 ]; then\n\
         \x20   echo \"$STATUS\" >\"$SWEEP/trials/$T.exit.tmp\" && mv -f \"$SWEEP/trials/$T.exit.tmp\" \"$SWEEP/trials/$T.exit\"\n\
         fi\n\
         exit \"$STATUS\"\n"
    ));
    let script = dir.join("sweep.sbatch");
    write_text_atomic(&script, &text)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755));
    }
    Ok(script)
}

/// Writes the script for the unfinished trials and submits it with `sbatch`; returns the
/// job id, or `None` when every trial has finished. Fails clearly when `sbatch` is
/// missing or refuses the job.
pub(super) fn submit(
    s: &Sweep,
    opts: &SlurmOptions,
    seqlab: &Path,
) -> Result<Option<String>, SweepError> {
    find_command("sbatch")?;
    let seqlab = super::sweep::check_binary(seqlab)?;
    let tasks = unfinished(s);
    if tasks.is_empty() {
        return Ok(None);
    }
    if let Some(id) = job_id(s) {
        if job_alive(&id) {
            return Err(other(format!(
                "{}: its job array {id} is still queued or running; follow it with `seqlab \
                 sweep --status {}` or cancel it with `seqlab sweep --cancel {}`",
                s.dir.display(),
                s.dir.display(),
                s.dir.display()
            )));
        }
    }
    let script = write_script(s, opts, &seqlab, Some(&tasks))?;
    for &i in &tasks {
        let _ = std::fs::remove_file(s.exit_file(&s.plan.trials[i]));
    }
    let out = slurm_command(
        "sbatch",
        &[
            "--parsable",
            &format!("--chdir={}", s.dir.display()),
            &script.display().to_string(),
        ],
    )?;
    let id = out.trim().split(';').next().unwrap_or_default().to_string();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(other(format!(
            "sbatch answered {:?} instead of a job id; check {}",
            out.trim(),
            script.display()
        )));
    }
    let _ = std::fs::remove_file(slurm_dir(s).join("cancelled"));
    write_text_atomic(&slurm_dir(s).join("job_id"), &format!("{id}\n"))?;
    Ok(Some(id))
}

/// True while `squeue` lists the job (queued, running or completing).
fn job_alive(id: &str) -> bool {
    slurm_command("squeue", &["-h", "-j", id, "-o", "%i"])
        .map(|out| !out.trim().is_empty())
        .unwrap_or(false)
}

/// Slurm's state of each array task it still remembers: trial -> state name
/// (`PENDING`, `RUNNING`, `COMPLETED`, `CANCELLED`, `TIMEOUT`, ...).
fn task_states(id: &str) -> HashMap<usize, String> {
    let mut states = HashMap::new();
    let Ok(out) = slurm_command("squeue", &["-h", "-t", "all", "-j", id, "-o", "%i %T"]) else {
        return states;
    };
    for line in out.lines() {
        let mut parts = line.split_whitespace();
        let (Some(task), Some(state)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some((_, tasks)) = task.split_once('_') else {
            continue;
        };
        // `5`, or for pending tasks `[5-7,9%2]`
        let tasks = tasks.trim_start_matches('[').trim_end_matches(']');
        let tasks = tasks.split('%').next().unwrap_or_default();
        for part in tasks.split(',') {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                for i in a..=b.min(a + 100_000) {
                    states.insert(i, state.to_string());
                }
            }
        }
    }
    states
}

/// The sweep's results: the files, with Slurm's view of the tasks that have not written
/// an exit status (queued, running, cancelled, or ended by Slurm: time limit, memory,
/// node failure). Writes `sweep.csv` and `sweep.json`.
pub(super) fn gather(s: &Sweep) -> Result<Results, SweepError> {
    let states = job_id(s).map(|id| task_states(&id)).unwrap_or_default();
    let cancelled = slurm_dir(s).join("cancelled").exists();
    let now = |i: usize| -> Option<TrialState> {
        match states.get(&i).map(String::as_str) {
            Some("PENDING" | "REQUEUED" | "RESV_DEL_HOLD" | "SUSPENDED") => {
                Some(TrialState::Pending)
            }
            Some("RUNNING" | "CONFIGURING" | "COMPLETING" | "STAGE_OUT" | "SIGNALING") => {
                Some(TrialState::Running)
            }
            Some("CANCELLED") => Some(TrialState::Cancelled),
            Some("COMPLETED") | None if cancelled => Some(TrialState::Cancelled),
            Some("COMPLETED") | None => None,
            Some(_) => Some(TrialState::Failed),
        }
    };
    let mut r = s.gather(&now);
    for t in &mut r.trials {
        if !s.exit_file(&s.plan.trials[t.trial]).exists() {
            match (t.state, states.get(&t.trial)) {
                (TrialState::Failed, Some(state)) => {
                    t.stop_reason = format!(
                        "Slurm ended the task: {state}{}",
                        match state.as_str() {
                            "TIMEOUT" =>
                                " (give more --time; a re-run resumes it from its checkpoint)",
                            "OUT_OF_MEMORY" => " (give more --mem; a re-run resumes it)",
                            _ => "",
                        }
                    )
                }
                (TrialState::Cancelled, _) => {
                    t.stop_reason = "cancelled; running the sweep again resumes it".into()
                }
                (TrialState::Pending, Some(_)) => t.stop_reason = "queued".into(),
                _ => {}
            }
        }
    }
    r.mark_best();
    s.write_results(&r)?;
    Ok(r)
}

/// True while `squeue` lists the sweep's job (queued, running or completing).
pub(super) fn job_running(s: &Sweep) -> bool {
    job_id(s).is_some_and(|id| job_alive(&id))
}

/// Cancels the sweep's job array (`scancel`); the cancelled trials resume when the
/// sweep is run again.
pub(super) fn cancel(s: &Sweep) -> Result<String, SweepError> {
    let id = job_id(s).ok_or_else(|| {
        other(format!(
            "{}: this sweep was not submitted to Slurm (no slurm/job_id)",
            s.dir.display()
        ))
    })?;
    slurm_command("scancel", &[&id])?;
    write_text_atomic(&slurm_dir(s).join("cancelled"), &format!("{id}\n"))?;
    // wait (briefly) until Slurm has ended the tasks, so the table says so
    for _ in 0..50 {
        if !job_alive(&id) {
            break;
        }
        let states = task_states(&id);
        if states
            .values()
            .all(|st| st != "RUNNING" && st != "PENDING" && st != "COMPLETING")
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(format!("cancelled Slurm job array {id}"))
}

/// `Slurm job 123: 2 running, 1 queued` or `Slurm job 123: ended`.
pub(super) fn job_line(s: &Sweep) -> Option<String> {
    let id = job_id(s)?;
    if !job_alive(&id) {
        return Some(format!("Slurm job {id}: ended"));
    }
    let states = task_states(&id);
    let count = |want: &str| states.values().filter(|v| *v == want).count();
    Some(format!(
        "Slurm job {id}: {} running, {} queued",
        count("RUNNING"),
        count("PENDING")
    ))
}
