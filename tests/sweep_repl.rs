//! The REPL's `sweep` commands and the notebook's sweep cell: the sweep runs in the
//! background (`seqlab sweep` as a child process), `sweep wait` / `sweep status` give a
//! cell of ordinary outputs (trials table, validation curves with the best emphasised,
//! the objective against each swept field), the trials become notebook runs, and
//! `sweep cancel` stops a running sweep leaving its trials resumable.

mod common;

use common::sweep_experiment as experiment;

use std::path::Path;

use seqlab::experiment::notebook::Output;
use seqlab::experiment::sweep::TrialState;
use seqlab::repl::sweep::{parse, SweepCommand};
use seqlab::repl::Session;

fn session(file: &Path) -> Session {
    // the trials run the seqlab binary (this test process is not it)
    std::env::set_var("SEQLAB_BIN", env!("CARGO_BIN_EXE_seqlab"));
    Session::open(file).unwrap()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn sweep_commands_parse_and_refuse_what_does_not_fit() {
    assert_eq!(
        parse(&words("--parallel 2")).unwrap(),
        SweepCommand::Start {
            options: words("--parallel 2")
        }
    );
    assert_eq!(
        parse(&words("--slurm --partition=short --max-parallel 3")).unwrap(),
        SweepCommand::Start {
            options: words("--slurm --partition short --max-parallel 3")
        }
    );
    assert_eq!(parse(&words("status")).unwrap(), SweepCommand::Status(None));
    assert_eq!(
        parse(&words("cancel x.sweep")).unwrap(),
        SweepCommand::Cancel(Some("x.sweep".into()))
    );
    for (bad, says) in [
        ("--partition short", "add --slurm"),
        ("--parallel 0", "1 or more"),
        ("--parallel", "needs a value"),
        ("--dry-run", "goes with --slurm"),
        ("--fast", "unknown option"),
        ("status a b", "at most one"),
    ] {
        let err = parse(&words(bad)).unwrap_err();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn a_sweep_in_the_notebook_gives_its_table_curves_and_runs() {
    let dir = common::temp_dir("sweep_repl");
    let file = experiment(
        &dir,
        40,
        r#"(grid: {"training.updater.AdaGrad.lr": [0.3, 0.03], "model.layers[0].size": [4, 8]},
            objective: (metric: "accuracy"))"#,
    );
    let mut s = session(&file);
    let cell = s.execute("sweep --parallel 2");
    assert!(cell.ok, "{:?}", cell.outputs);
    let cell = s.execute("sweep wait");
    assert!(cell.ok, "{:?}", cell.outputs);
    let table = cell
        .outputs
        .iter()
        .find_map(|o| match o {
            Output::Table(t) => Some(t),
            _ => None,
        })
        .expect("a trials table");
    assert_eq!(table.rows.len(), 4);
    let state = table.columns.iter().position(|c| c == "state").unwrap();
    assert!(
        table.rows.iter().all(|r| r[state] == "completed"),
        "{table:?}"
    );
    let best_col = table.columns.iter().position(|c| c == "best").unwrap();
    assert_eq!(table.rows.iter().filter(|r| r[best_col] == "*").count(), 1);
    let series: Vec<_> = cell
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Series(s) => Some(s),
            _ => None,
        })
        .collect();
    // the curves, then one plot per swept field (two fields)
    assert_eq!(series.len(), 3, "{series:?}");
    assert_eq!(series[0].lines.len(), 4);
    assert_eq!(series[0].lines.iter().filter(|l| l.emphasis).count(), 1);
    assert!(
        series[0].lines.iter().all(|l| l.points.len() == 4),
        "evaluated at 10..40"
    );
    assert_eq!(series[1].x_label, "training.updater.AdaGrad.lr");
    assert_eq!(series[1].lines[0].points.len(), 4);
    assert_eq!(series[2].x_label, "model.layers[0].size");
    // the trials are runs of the notebook
    let runs: Vec<String> = s
        .experiment
        .notebook
        .runs
        .iter()
        .map(|r| r.path.display().to_string())
        .collect();
    for i in 0..4 {
        assert!(
            runs.contains(&format!("echo.sweep/trials/{i:03}")),
            "{runs:?}"
        );
    }
    assert!(s
        .experiment
        .notebook
        .runs
        .iter()
        .all(|r| r.summary.stop_reason == Some(seqlab::train::StopReason::Completed)));
    // and can be used like any other run
    let cell = s.execute("eval echo.sweep/trials/001");
    assert!(cell.ok, "{:?}", cell.outputs);
    // the saved notebook keeps the cell (emphasis included) and reads back
    let saved = dir.join("saved.ron");
    let cell = s.execute(&format!("save {}", saved.display()));
    assert!(cell.ok, "{:?}", cell.outputs);
    let back = Session::open(&saved).unwrap();
    let emphasised = back
        .experiment
        .notebook
        .cells
        .iter()
        .flat_map(|c| &c.outputs)
        .filter_map(|o| match o {
            Output::Series(s) => Some(s.lines.iter().filter(|l| l.emphasis).count()),
            _ => None,
        })
        .sum::<usize>();
    assert!(emphasised >= 1);
}

#[test]
fn sweep_cancel_stops_a_running_sweep_and_its_trials_stay_resumable() {
    let dir = common::temp_dir("sweep_repl_cancel");
    let file = experiment(
        &dir,
        20000,
        r#"(grid: {"model.layers[0].size": [4, 5, 6]})"#,
    );
    let mut s = session(&file);
    let cell = s.execute("sweep --parallel 2");
    assert!(cell.ok, "{:?}", cell.outputs);
    let t0 = dir.join("echo.sweep/trials/000");
    let start = std::time::Instant::now();
    while !t0.join("checkpoints/latest").exists() {
        assert!(start.elapsed().as_secs() < 60, "trial 0 never checkpointed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let cell = s.execute("sweep cancel");
    assert!(cell.ok, "{:?}", cell.outputs);
    let Output::Text(said) = &cell.outputs[0] else {
        panic!("{:?}", cell.outputs)
    };
    assert!(said.contains("stopped the sweep"), "{said}");
    let results = seqlab::experiment::sweep::Results::read(&dir.join("echo.sweep")).unwrap();
    for t in &results.trials {
        assert_eq!(t.state, TrialState::Pending, "{t:?}");
    }
    assert!(
        results.trials[0].stop_reason.contains("resumes"),
        "{:?}",
        results.trials[0]
    );
    // stopped cleanly: the trial wrote its summary (stop reason `stopped`)
    let summary = std::fs::read_to_string(t0.join("summary.json")).unwrap();
    assert!(summary.contains("\"stopped\""), "{summary}");
}
