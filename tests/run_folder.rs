//! The run folder under faults: kills and resumes, two writers, divergence, a full disk,
//! a second Ctrl-C, runs that never started and runs that already finished. (More kill
//! trials: `scripts/fault_trials.sh`.)

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::temp_dir;
use seqlab::experiment::rundir::{lock_run_dir, reconcile_csv, reconcile_samples};

fn seqlab(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("seqlab runs")
}

fn spawn(args: &[&str], cwd: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seqlab starts")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A character LSTM on a small corpus, with checkpoints, evaluations and samples often.
fn experiment(dir: &Path, iterations: u64, extra: &str) -> PathBuf {
    std::fs::write(
        dir.join("corpus.txt"),
        "a run folder survives kills, full disks and two writers. ".repeat(40),
    )
    .unwrap();
    let exp = dir.join("exp.ron");
    std::fs::write(
        &exp,
        format!(
            r#"(
    name: "faults",
    data: Text(path: "corpus.txt", validation: 0.1),
    model: (layers: [(kind: Lstm, size: 32)]),
    training: (
        updater: Adam(lr: 0.01),
        batch_size: 8,
        sequence_length: 32,
        iterations: {iterations},
        seed: 3,
        checkpoint_every: 10,
        threads: 1,
        {extra}
    ),
    evaluation: (every: 10),
    sampling: (every: 20, length: 30),
)
"#
        ),
    )
    .unwrap();
    exp
}

fn latest_iteration(run: &Path) -> Option<u64> {
    let name = std::fs::read_to_string(run.join("checkpoints/latest")).ok()?;
    name.trim()
        .strip_prefix("iter_")?
        .strip_suffix(".safetensors")?
        .parse()
        .ok()
}

/// `metrics.csv` without the timing columns.
fn metrics_without_timing(run: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !seqlab::experiment::rundir::TIMING_COLUMNS.contains(&header[i]))
        .collect();
    std::iter::once(text.lines().next().unwrap().to_string())
        .chain(lines.map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            keep.iter().map(|&i| f[i]).collect::<Vec<_>>().join(",")
        }))
        .collect()
}

fn assert_same_run(a: &Path, b: &Path) {
    assert_eq!(
        std::fs::read(a.join("weights.safetensors")).unwrap(),
        std::fs::read(b.join("weights.safetensors")).unwrap(),
        "weights differ"
    );
    assert_eq!(metrics_without_timing(a), metrics_without_timing(b));
    for f in ["eval.csv", "samples.txt"] {
        assert_eq!(
            std::fs::read_to_string(a.join(f)).unwrap(),
            std::fs::read_to_string(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

/// Kills a run with `signal` once its checkpoint reaches `at`, then resumes it to the
/// end; the result must equal the uninterrupted run.
fn kill_and_resume(dir: &Path, name: &str, signal: &str, at: u64, reference: &Path) {
    let run = dir.join(name);
    let mut child = spawn(
        &[
            "--run",
            "exp.ron",
            "--out",
            run.to_str().unwrap(),
            "--quiet",
        ],
        dir,
    );
    let start = Instant::now();
    while latest_iteration(&run).is_none_or(|k| k < at) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the kill"
        );
        assert!(start.elapsed() < Duration::from_secs(120), "no checkpoint");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = child.wait();
    assert!(
        !run.join("summary.json").exists(),
        "the kill came after the end; raise the iterations"
    );
    let out = seqlab(
        &["--run", "--resume", run.to_str().unwrap(), "--quiet"],
        dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // no temporary file is left behind
    for sub in [run.clone(), run.join("checkpoints")] {
        for e in std::fs::read_dir(sub).unwrap() {
            let n = e.unwrap().file_name();
            assert!(!n.to_string_lossy().contains(".tmp-"), "{n:?}");
        }
    }
    assert_same_run(reference, &run);
}

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result_with_no_row_lost_or_repeated() {
    let dir = temp_dir("rf-kill");
    experiment(&dir, 300, "");
    let reference = dir.join("reference");
    let out = seqlab(
        &[
            "--run",
            "exp.ron",
            "--out",
            reference.to_str().unwrap(),
            "--quiet",
        ],
        &dir,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    kill_and_resume(&dir, "kill9", "-KILL", 40, &reference);
    kill_and_resume(&dir, "term", "-TERM", 120, &reference);
}

#[test]
fn resume_drops_torn_and_later_rows_and_keeps_the_rest() {
    let csv = "iteration,score\n1,0.5\n2,0.4\n3,0.3\n4,0.2";
    assert_eq!(reconcile_csv(csv, 2), "iteration,score\n1,0.5\n2,0.4\n");
    // a torn last row (no newline) is dropped even when it is not later
    assert_eq!(reconcile_csv("it,s\n1,0.5\n2,0.", 5), "it,s\n1,0.5\n");
    // a row with fewer fields than the header is torn too
    assert_eq!(reconcile_csv("it,s,t\n1,2,3\n2,3\n", 5), "it,s,t\n1,2,3\n");
    let samples = "== iteration 10 ==\nabc\n\n== iteration 20 ==\ndef\n\n== iteration 30 ==\ngh";
    assert_eq!(
        reconcile_samples(samples, 20),
        "== iteration 10 ==\nabc\n\n== iteration 20 ==\ndef\n\n"
    );
    assert_eq!(
        reconcile_samples(samples, 40),
        "== iteration 10 ==\nabc\n\n== iteration 20 ==\ndef\n\n"
    );
}

#[test]
fn a_run_folder_in_use_is_refused_naming_the_process() {
    let dir = temp_dir("rf-lock");
    experiment(&dir, 20, "");
    let run = dir.join("run");
    let out = seqlab(&["--run", "exp.ron", "--out", "run", "--quiet"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let _held = lock_run_dir(&run).unwrap();
    let out = seqlab(
        &["--run", "--resume", "run", "--iterations", "30", "--quiet"],
        &dir,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("in use by seqlab process {}", std::process::id())),
        "{err}"
    );
    // nothing was written by the refused run
    assert!(latest_iteration(&run) == Some(20));
}

#[test]
fn resuming_a_finished_run_changes_nothing() {
    let dir = temp_dir("rf-finished");
    experiment(&dir, 20, "");
    let out = seqlab(&["--run", "exp.ron", "--out", "run", "--quiet"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let before: Vec<Vec<u8>> = ["eval.csv", "metrics.csv", "samples.txt"]
        .iter()
        .map(|f| std::fs::read(dir.join("run").join(f)).unwrap())
        .collect();
    let out = seqlab(&["--run", "--resume", "run", "--quiet"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("already finished at iteration 20"));
    let after: Vec<Vec<u8>> = ["eval.csv", "metrics.csv", "samples.txt"]
        .iter()
        .map(|f| std::fs::read(dir.join("run").join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_diverged_run_keeps_its_last_finite_weights_and_says_so() {
    let dir = temp_dir("rf-diverged");
    experiment(&dir, 50, "");
    let exp = std::fs::read_to_string(dir.join("exp.ron"))
        .unwrap()
        .replace("Adam(lr: 0.01)", "Sgd(lr: 1e300)");
    std::fs::write(dir.join("exp.ron"), exp).unwrap();
    let out = seqlab(&["--run", "exp.ron", "--out", "run", "--quiet"], &dir);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("training diverged"), "{err}");
    let run = dir.join("run");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stop_reason"], "diverged");
    let weights = seqlab::experiment::weights::load_weights(&run.join("weights.safetensors"))
        .expect("a diverged run writes its last finite weights");
    assert!(weights.iter().all(|t| t.data.iter().all(|v| v.is_finite())));
    // no published checkpoint holds a non-finite parameter
    for e in std::fs::read_dir(run.join("checkpoints")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "safetensors") {
            seqlab::experiment::checkpoint::load(&p).expect("finite checkpoint");
        }
    }
    let out = seqlab(&["sample", "run", "--length", "5"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("diverged at iteration"));
    let out = seqlab(&["--run", "--resume", "run", "--quiet"], &dir);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("diverged at iteration"));
}

#[test]
fn a_folder_left_by_a_run_that_never_started_is_reused() {
    let dir = temp_dir("rf-never");
    experiment(&dir, 5, "");
    std::fs::create_dir_all(dir.join("run/checkpoints")).unwrap();
    std::fs::write(dir.join("run/samples.txt"), "").unwrap();
    let out = seqlab(&["--run", "exp.ron", "--out", "run", "--quiet"], &dir);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(dir.join("run/weights.safetensors").is_file());
    // a run that fails before training leaves nothing behind
    let out = seqlab(
        &[
            "--run",
            "exp.ron",
            "--out",
            "run2",
            "--quiet",
            "--iterations",
            "0",
        ],
        &dir,
    );
    assert!(!out.status.success());
    assert!(!dir.join("run2").exists());
}

#[cfg(unix)]
#[test]
fn a_second_ctrl_c_exits_at_once() {
    let dir = temp_dir("rf-ctrlc");
    experiment(&dir, 100000, "");
    // a very long final sample keeps the first Ctrl-C's ending busy
    let exp = std::fs::read_to_string(dir.join("exp.ron"))
        .unwrap()
        .replace(
            "sampling: (every: 20, length: 30)",
            "sampling: (length: 100000000)",
        );
    std::fs::write(dir.join("exp.ron"), exp).unwrap();
    let mut child = spawn(&["--run", "exp.ron", "--out", "run", "--quiet"], &dir);
    let start = Instant::now();
    while !dir.join("run/metrics.csv").exists() {
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(10));
    }
    let int = |pid: u32| {
        Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .unwrap()
    };
    int(child.id());
    std::thread::sleep(Duration::from_millis(500));
    int(child.id());
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                status.code(),
                Some(130),
                "{status}; stderr: {}",
                text(&out.stderr)
            );
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "still running after the second Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Mounts a 1 MiB tmpfs at `at`; false (and why, printed) where that is not permitted.
fn small_disk(at: &Path) -> bool {
    std::fs::create_dir_all(at).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1M", "tmpfs"])
        .arg(at)
        .stderr(Stdio::piped())
        .output();
    match ok {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            eprintln!(
                "SKIPPED disk-full test: cannot mount a tmpfs here ({})",
                text(&o.stderr).trim()
            );
            false
        }
        Err(e) => {
            eprintln!("SKIPPED disk-full test: no mount command ({e})");
            false
        }
    }
}

#[test]
fn a_full_disk_stops_the_run_at_the_first_failed_write_and_says_so() {
    let dir = temp_dir("rf-full");
    experiment(&dir, 100000, "");
    let disk = dir.join("disk");
    if !small_disk(&disk) {
        return;
    }
    let out = seqlab(
        &[
            "--run",
            "exp.ron",
            "--out",
            disk.join("run").to_str().unwrap(),
            "--quiet",
        ],
        &dir,
    );
    let err = text(&out.stderr);
    let _ = Command::new("umount").arg(&disk).status();
    assert!(!out.status.success());
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains(&format!("mounted at {}", disk.display())),
        "{err}"
    );
    assert!(err.contains("kept: the checkpoint of iteration"), "{err}");
    assert!(!text(&out.stdout).contains("stopped by the user"));
    // a disk already full at the start leaves nothing behind
    assert!(small_disk(&disk));
    std::fs::write(disk.join("fill"), vec![0u8; 1024 * 1024]).unwrap_or(());
    let out = seqlab(
        &[
            "--run",
            "exp.ron",
            "--out",
            disk.join("run2").to_str().unwrap(),
            "--quiet",
        ],
        &dir,
    );
    let left = disk.join("run2").exists();
    let _ = Command::new("umount").arg(&disk).status();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("No space left on device"));
    assert!(!left, "a run that never started left a folder");
}
