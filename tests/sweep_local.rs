//! `seqlab sweep` on this machine: tiny echo-task trials (a few dozen iterations of a
//! 4-unit RNN) run as child processes, gathered into sweep.csv / sweep.json; a failing
//! trial recorded while the rest go on; a sweep killed midway and run again keeps its
//! finished trials and resumes the interrupted one; the median rule stops a bad trial.

mod common;

use common::sweep_experiment as experiment;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use seqlab::experiment::sweep::{read_validation, Results, TrialState};

fn seqlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seqlab"))
}

fn sweep(file: &Path, extra: &[&str]) -> Output {
    let out = seqlab()
        .arg("sweep")
        .arg(file)
        .args(extra)
        .output()
        .unwrap();
    eprintln!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn csv_rows(path: &Path) -> Vec<csv::StringRecord> {
    csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn four_trials_two_at_a_time_give_four_rows_and_the_right_best() {
    let dir = common::temp_dir("sweep_four");
    let file = experiment(
        &dir,
        40,
        r#"(grid: {"training.updater.AdaGrad.lr": [0.3, 0.03], "model.layers[0].size": [4, 8]},
            objective: (metric: "accuracy"))"#,
    );
    let out = sweep(&file, &["--parallel", "2"]);
    assert!(out.status.success());
    let sweep_dir = dir.join("echo.sweep");
    let rows = csv_rows(&sweep_dir.join("sweep.csv"));
    assert_eq!(rows.len(), 4);
    let header = csv::Reader::from_path(sweep_dir.join("sweep.csv"))
        .unwrap()
        .headers()
        .unwrap()
        .clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[3][col("training.updater.AdaGrad.lr")], "0.03");
    assert_eq!(&rows[3][col("model.layers[0].size")], "8");
    // the best is the trial whose own eval.csv has the highest validation accuracy
    let mut best: Option<(usize, f64)> = None;
    for (i, row) in rows.iter().enumerate() {
        let run = sweep_dir.join(format!("trials/{i:03}"));
        assert!(
            run.join("summary.json").exists(),
            "trial {i} is a run folder"
        );
        let acc = read_validation(&run)
            .iter()
            .map(|(_, m)| m.iter().find(|(n, _)| n == "accuracy").unwrap().1)
            .fold(f64::MIN, f64::max);
        assert!(acc > 0.0);
        let row_best: f64 = row[col("best_accuracy")].parse().unwrap();
        assert_eq!(row_best, acc, "trial {i}");
        assert_eq!(&row[col("state")], "completed");
        if best.is_none_or(|(_, b)| acc > b) {
            best = Some((i, acc));
        }
    }
    let best = best.unwrap().0;
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(&row[col("best")] == "*", i == best, "row {i}: {row:?}");
    }
    let results: Results =
        serde_json::from_slice(&std::fs::read(sweep_dir.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(results.best_trial, Some(best));
    assert!(results.trials.iter().all(|t| t.wall_seconds.is_some()));
    // each trial's run.ron records its overrides
    let record = std::fs::read_to_string(sweep_dir.join("trials/001/run.ron")).unwrap();
    assert!(record.contains("model.layers[0].size=8"), "{record}");
}

#[test]
fn a_failing_trial_is_recorded_with_its_reason_and_the_rest_go_on() {
    let dir = common::temp_dir("sweep_fail");
    let file = experiment(
        &dir,
        30,
        r#"(grid: {"training.updater": ["AdaGrad(lr: 0.3)", "Sgd(lr: 1e300)", "AdaGrad(lr: 0.1)"]})"#,
    );
    let out = sweep(&file, &["--parallel", "2"]);
    assert!(
        out.status.success(),
        "a failed trial does not fail the sweep"
    );
    let results: Results =
        serde_json::from_slice(&std::fs::read(dir.join("echo.sweep/sweep.json")).unwrap()).unwrap();
    let states: Vec<TrialState> = results.trials.iter().map(|t| t.state).collect();
    assert_eq!(
        states,
        [
            TrialState::Completed,
            TrialState::Failed,
            TrialState::Completed
        ]
    );
    let failed = &results.trials[1];
    assert!(
        failed.stop_reason.starts_with("diverged"),
        "{}",
        failed.stop_reason
    );
    assert!(
        failed.stop_reason.contains("1e300"),
        "{}",
        failed.stop_reason
    );
    assert!(!failed.best);
    assert!(results.best_trial.is_some_and(|b| b != 1));
    // a re-run keeps the failed trial as it is (it is finished)
    let log_before = std::fs::read_to_string(dir.join("echo.sweep/trials/001.log")).unwrap();
    let out = sweep(&file, &["--parallel", "2"]);
    assert!(out.status.success());
    let log_after = std::fs::read_to_string(dir.join("echo.sweep/trials/001.log")).unwrap();
    assert_eq!(log_before, log_after);
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

#[test]
fn a_killed_sweep_resumes_keeping_finished_trials() {
    let dir = common::temp_dir("sweep_resume");
    // trials 0 and 1 are short, trial 2 long enough to be killed midway
    let file = experiment(
        &dir,
        30,
        r#"(grid: {"training.iterations": [30, 31, 3000, 32]})"#,
    );
    let sweep_dir = dir.join("echo.sweep");
    let mut child = seqlab()
        .arg("sweep")
        .arg(&file)
        .args(["--parallel", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t2 = sweep_dir.join("trials/002");
    let start = Instant::now();
    while !(t2.join("checkpoints/latest").exists() && t2.join("eval.csv").exists()) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "trial 2 never checkpointed"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the sweep ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    // the running trial dies with the sweep (Linux: PR_SET_PDEATHSIG)
    let pid = std::fs::read_to_string(t2.join("lock")).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    let start = Instant::now();
    let alive = |stat: &str| {
        // a dead process may stay a zombie (state Z) until reaped
        std::fs::read_to_string(stat).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'))
        })
    };
    while alive(&stat) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "trial 2 (pid {pid}) outlived the killed sweep"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(sweep_dir.join("trials/000.exit").exists());
    assert!(sweep_dir.join("trials/001.exit").exists());
    assert!(!sweep_dir.join("trials/002.exit").exists());
    let finished: Vec<_> = ["000", "001"]
        .iter()
        .map(|t| {
            let run = sweep_dir.join("trials").join(t);
            (
                run.clone(),
                mtime(&run.join("run.ron")),
                mtime(&run.join("summary.json")),
            )
        })
        .collect();
    let t2_started = mtime(&t2.join("run.ron"));

    let out = sweep(&file, &["--parallel", "1"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // the killed sweep's trial died with it (its folder lock was free), and resumed
    assert!(stderr.contains("trial 002 resumed"), "{stderr}");
    assert!(stderr.contains("trial 003 started"), "{stderr}");
    assert!(
        !stderr.contains("trial 000"),
        "finished trials are not run again: {stderr}"
    );
    assert!(!stderr.contains("trial 001"), "{stderr}");
    for (run, ron, summary) in finished {
        assert_eq!(mtime(&run.join("run.ron")), ron, "{}", run.display());
        assert_eq!(
            mtime(&run.join("summary.json")),
            summary,
            "{}",
            run.display()
        );
    }
    assert_eq!(
        mtime(&t2.join("run.ron")),
        t2_started,
        "resumed, not restarted"
    );
    // the resumed run's log has every iteration once
    let metrics = std::fs::read_to_string(t2.join("metrics.csv")).unwrap();
    let its: Vec<u64> = metrics
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(its, (1..=3000).collect::<Vec<u64>>());
    let rows = csv_rows(&sweep_dir.join("sweep.csv"));
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| &r[4] == "completed"), "{rows:?}");
}

#[test]
fn the_median_rule_stops_a_trial_worse_than_the_finished_ones() {
    let dir = common::temp_dir("sweep_median");
    // three good trials finish first (one at a time); the fourth learns far slower
    let file = experiment(
        &dir,
        400,
        r#"(grid: {"training.updater.AdaGrad.lr": [0.3, 0.31, 0.32, 0.0001]},
            objective: (metric: "accuracy"), median_stopping: (min_trials: 3, warmup: 20))"#,
    );
    let out = sweep(&file, &["--parallel", "1"]);
    assert!(out.status.success());
    let results: Results =
        serde_json::from_slice(&std::fs::read(dir.join("echo.sweep/sweep.json")).unwrap()).unwrap();
    let slow = &results.trials[3];
    assert_eq!(slow.state, TrialState::StoppedEarly, "{slow:?}");
    assert!(
        slow.stop_reason.contains("median rule"),
        "{}",
        slow.stop_reason
    );
    assert!(slow.iterations < 400, "{}", slow.iterations);
    assert!(results.trials[..3]
        .iter()
        .all(|t| t.state == TrialState::Completed));
    let csv = std::fs::read_to_string(dir.join("echo.sweep/sweep.csv")).unwrap();
    assert!(csv.contains("stopped early at iteration"), "{csv}");
}

#[test]
fn a_changed_sweep_is_refused_in_the_old_folder() {
    let dir = common::temp_dir("sweep_changed");
    let file = experiment(&dir, 10, r#"(grid: {"model.layers[0].size": [4, 5]})"#);
    assert!(sweep(&file, &["--parallel", "2"]).status.success());
    let file = experiment(&dir, 10, r#"(grid: {"model.layers[0].size": [4, 6]})"#);
    let out = sweep(&file, &[]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds a sweep with other trials"), "{err}");
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn sweep_cancel_stops_a_local_sweep_from_another_process() {
    let dir = common::temp_dir("sweep_cancel_local");
    let file = experiment(
        &dir,
        20000,
        r#"(grid: {"model.layers[0].size": [4, 5, 6]})"#,
    );
    let sweep_dir = dir.join("echo.sweep");
    let mut child = seqlab()
        .arg("sweep")
        .arg(&file)
        .args(["--parallel", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = sweep_dir.join("trials/000");
    let start = Instant::now();
    while !t0.join("checkpoints/latest").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "trial 0 never checkpointed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = seqlab()
        .args(["sweep", "--cancel"])
        .arg(&sweep_dir)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("stopped the sweep"), "{said}");
    // the sweep ended as after Ctrl-C
    assert_eq!(child.wait().unwrap().code(), Some(130));
    let results = Results::read(&sweep_dir).unwrap();
    assert!(
        results
            .trials
            .iter()
            .all(|t| t.state == TrialState::Pending),
        "{results:?}"
    );
    // the interrupted trials wrote their summary: stopped, resumable
    let summary = std::fs::read_to_string(t0.join("summary.json")).unwrap();
    assert!(summary.contains("\"stopped\""), "{summary}");
}

#[test]
fn a_sweep_folder_names_its_backend_and_a_local_one_answers_when_idle() {
    use seqlab::train::sweep::prepare;
    use seqlab::train::SweepBackend;
    let dir = common::temp_dir("sweep_backend");
    let file = experiment(&dir, 20, r#"(grid: {"model.layers[0].size": [4, 5]})"#);
    let s = prepare(&file, None).unwrap();
    let backend = SweepBackend::of(&s);
    assert_eq!(backend, SweepBackend::Local);
    assert!(!backend.is_running(&s));
    backend.wait(&s); // nothing runs: returns at once
    let said = backend.cancel(&s).unwrap();
    assert!(said.contains("no sweep is running there"), "{said}");
    let status = backend.status(&s).unwrap();
    assert_eq!(status.activity, None);
    assert!(
        status
            .results
            .trials
            .iter()
            .all(|t| t.state == TrialState::Pending && t.stop_reason == "not started"),
        "{:?}",
        status.results
    );
    assert!(s.dir.join("sweep.csv").exists(), "status writes the table");
    // once submitted to Slurm (its job id written), the folder is a Slurm sweep
    std::fs::create_dir_all(s.dir.join("slurm")).unwrap();
    std::fs::write(s.dir.join("slurm/job_id"), "12345\n").unwrap();
    assert_eq!(SweepBackend::of(&s), SweepBackend::Slurm);
}
