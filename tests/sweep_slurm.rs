//! `seqlab sweep --slurm` end to end on a real Slurm cluster: the private one-node
//! cluster `scripts/local-slurm.sh start` runs (`.ci/run` starts it and sets
//! `SEQLAB_REQUIRE_SLURM=1`). Without a reachable cluster the cluster tests say
//! "skipped: no Slurm" on standard error, and fail instead when `SEQLAB_REQUIRE_SLURM=1`.
//! The sweep folders are under the system temporary folder, which the one node shares
//! with itself.

mod common;

use common::sweep_experiment as experiment;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use seqlab::experiment::sweep::{Results, TrialState};

/// The cluster's config when one answers, else `None` after saying why (or a panic
/// when `SEQLAB_REQUIRE_SLURM=1`).
fn cluster() -> Option<PathBuf> {
    let conf = std::env::var_os("SLURM_CONF")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/seqlab-slurm/slurm.conf"));
    let reachable = conf.exists()
        && Command::new("scontrol")
            .arg("ping")
            .env("SLURM_CONF", &conf)
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains("UP"));
    if reachable {
        return Some(conf);
    }
    let why = format!(
        "no Slurm cluster answers `scontrol ping` with SLURM_CONF={} (start one with \
         scripts/local-slurm.sh start)",
        conf.display()
    );
    if std::env::var("SEQLAB_REQUIRE_SLURM").is_ok_and(|v| v == "1") {
        panic!("SEQLAB_REQUIRE_SLURM=1 but {why}");
    }
    eprintln!("skipped: no Slurm: {why}");
    None
}

fn seqlab(conf: Option<&Path>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_seqlab"));
    if let Some(conf) = conf {
        c.env("SLURM_CONF", conf);
    }
    c
}

fn show(out: &Output) {
    eprintln!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn results(dir: &Path) -> Results {
    serde_json::from_slice(&std::fs::read(dir.join("sweep.json")).unwrap()).unwrap()
}

/// sweep.csv without the columns that differ between two runs of the same trials
/// (wall time), as rows of text.
fn comparable_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().clone();
    let wall = header.iter().position(|h| h == "wall_s").unwrap();
    let mut rows = vec![header.iter().map(String::from).collect::<Vec<_>>()];
    for rec in r.records() {
        rows.push(
            rec.unwrap()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != wall)
                .map(|(_, v)| v.to_string())
                .collect(),
        );
    }
    rows[0].remove(wall);
    rows
}

#[test]
fn a_slurm_sweep_runs_as_a_job_array_and_gathers_like_a_local_one() {
    let Some(conf) = cluster() else { return };
    let dir = common::temp_dir("sweep_slurm");
    let file = experiment(
        &dir,
        40,
        r#"(grid: {"training.updater": ["AdaGrad(lr: 0.3)", "AdaGrad(lr: 0.1)", "Sgd(lr: 1e300)", "AdaGrad(lr: 0.03)", "AdaGrad(lr: 0.2)"]},
            objective: (metric: "accuracy"))"#,
    );
    let slurm_dir = dir.join("slurm.sweep");
    let out = seqlab(Some(&conf))
        .arg("sweep")
        .arg(&file)
        .args([
            "--slurm",
            "--max-parallel",
            "2",
            "--time",
            "00:05:00",
            "--out",
        ])
        .arg(&slurm_dir)
        .output()
        .unwrap();
    show(&out);
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("submitted job array"), "{stdout}");
    let script = std::fs::read_to_string(slurm_dir.join("slurm/sweep.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-4%2"), "{script}");
    assert!(script.contains("#SBATCH --time=00:05:00"), "{script}");
    let r = results(&slurm_dir);
    assert_eq!(r.trials.len(), 5);
    let states: Vec<TrialState> = r.trials.iter().map(|t| t.state).collect();
    use TrialState::{Completed, Failed};
    assert_eq!(states, [Completed, Completed, Failed, Completed, Completed]);
    assert!(
        r.trials[2].stop_reason.starts_with("diverged"),
        "{:?}",
        r.trials[2]
    );
    // every task wrote its exit status and trained for real (Slurm's own state is not
    // trusted alone: a broken step can be reported COMPLETED)
    for t in &r.trials {
        let exit =
            std::fs::read_to_string(slurm_dir.join(format!("trials/{:03}.exit", t.trial))).unwrap();
        assert_eq!(exit.trim(), if t.trial == 2 { "1" } else { "0" });
        if t.trial != 2 {
            assert_eq!(t.iterations, 40);
            assert!(slurm_dir.join(&t.run).join("weights.safetensors").exists());
        }
    }
    // the same sweep run here gives the same table (the trials are deterministic)
    let local_dir = dir.join("local.sweep");
    let out = seqlab(None)
        .arg("sweep")
        .arg(&file)
        .args(["--parallel", "2", "--out"])
        .arg(&local_dir)
        .output()
        .unwrap();
    show(&out);
    assert!(out.status.success());
    assert_eq!(
        comparable_csv(&slurm_dir.join("sweep.csv")),
        comparable_csv(&local_dir.join("sweep.csv"))
    );
    // --status after the end reports the ended job and rewrites the same results
    let out = seqlab(Some(&conf))
        .args(["sweep", "--status"])
        .arg(&slurm_dir)
        .output()
        .unwrap();
    show(&out);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ended"));
    assert_eq!(results(&slurm_dir).trials, r.trials);
}

#[test]
fn a_cancelled_slurm_sweep_records_its_cancelled_trials() {
    let Some(conf) = cluster() else { return };
    let dir = common::temp_dir("sweep_slurm_cancel");
    // long trials: they are still running when cancelled
    let file = experiment(
        &dir,
        20000,
        r#"(grid: {"model.layers[0].size": [4, 5, 6, 7]})"#,
    );
    let sweep_dir = dir.join("echo.sweep");
    let out = seqlab(Some(&conf))
        .arg("sweep")
        .arg(&file)
        .args(["--slurm", "--detach"])
        .output()
        .unwrap();
    show(&out);
    assert!(out.status.success());
    let job = std::fs::read_to_string(sweep_dir.join("slurm/job_id")).unwrap();
    // wait until a trial trains
    let start = Instant::now();
    while !sweep_dir.join("trials/000/metrics.csv").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "trial 0 never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = seqlab(Some(&conf))
        .args(["sweep", "--status"])
        .arg(&sweep_dir)
        .output()
        .unwrap();
    show(&out);
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(
        status.contains(&format!("Slurm job {}", job.trim())),
        "{status}"
    );
    assert!(status.contains("running"), "{status}");

    let out = seqlab(Some(&conf))
        .args(["sweep", "--cancel"])
        .arg(&sweep_dir)
        .output()
        .unwrap();
    show(&out);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("cancelled Slurm job array"));
    let r = results(&sweep_dir);
    assert_eq!(r.trials.len(), 4);
    for t in &r.trials {
        assert_eq!(t.state, TrialState::Cancelled, "{t:?}");
        assert!(t.stop_reason.contains("resumes"), "{t:?}");
        assert!(!sweep_dir
            .join(format!("trials/{:03}.exit", t.trial))
            .exists());
    }
    // nothing of the job runs any more
    let q = Command::new("squeue")
        .args(["-h", "-j", job.trim()])
        .env("SLURM_CONF", &conf)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&q.stdout).trim().is_empty());
}

#[test]
fn dry_run_writes_the_script_without_submitting() {
    let dir = common::temp_dir("sweep_slurm_dry");
    let file = experiment(&dir, 10, r#"(grid: {"model.layers[0].size": [4, 5, 6]})"#);
    let out = seqlab(None)
        .arg("sweep")
        .arg(&file)
        .args([
            "--slurm",
            "--dry-run",
            "--partition",
            "short",
            "--cpus-per-task",
            "2",
        ])
        .args(["--mem", "1G", "--sbatch-arg=--account=lab"])
        .output()
        .unwrap();
    show(&out);
    assert!(out.status.success());
    let sweep_dir = dir.join("echo.sweep");
    let script = std::fs::read_to_string(sweep_dir.join("slurm/sweep.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-2",
        "#SBATCH --partition=short",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=1G",
        "#SBATCH --account=lab",
        "2) SETS=(--set 'model.layers[0].size=6') ;;",
    ] {
        assert!(script.contains(line), "{line}\n{script}");
    }
    assert!(!sweep_dir.join("slurm/job_id").exists());
    // bash reads it
    let check = Command::new("bash")
        .arg("-n")
        .arg(sweep_dir.join("slurm/sweep.sbatch"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn a_missing_sbatch_is_said_clearly() {
    let dir = common::temp_dir("sweep_slurm_nosbatch");
    let file = experiment(&dir, 10, r#"(grid: {"model.layers[0].size": [4, 5]})"#);
    let out = seqlab(None)
        .arg("sweep")
        .arg(&file)
        .arg("--slurm")
        .env("PATH", dir.join("empty"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`sbatch` is not on PATH"), "{err}");
    assert!(err.contains("without --slurm"), "{err}");
}
