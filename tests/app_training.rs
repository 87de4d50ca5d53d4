//! The window drives a real training run: Train, live plots and status, Pause / Resume /
//! Stop, and the console's `lr` command reaching the runner. Headless (egui_kittest, no
//! display, no GPU); controls are found by their labels.
#![cfg(feature = "gui")]

mod common;

use common::app::step_until;
use common::temp_dir;

use std::path::{Path, PathBuf};
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use seqlab::app::monitor::RunState;
use seqlab::app::SeqlabApp;

/// One LSTM of 16 learning the default sentence; `iterations` long.
fn write_small_experiment(dir: &Path, iterations: u64) -> PathBuf {
    let path = dir.join("small.ron");
    std::fs::write(
        &path,
        format!(
            r#"(
    name: "small",
    data: Sentence(),
    model: (layers: [(kind: Lstm, size: 16)]),
    training: (
        updater: Adam(lr: 0.01),
        batch_size: 1,
        sequence_length: 20,
        iterations: {iterations},
        seed: 3,
    ),
    evaluation: (every: 50),
    sampling: (every: 100, length: 20),
)
"#
        ),
    )
    .unwrap();
    path
}

fn open(path: &Path) -> Harness<'static, SeqlabApp> {
    let path = path.to_path_buf();
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |_cc| SeqlabApp::new(Some(path)))
}

fn click(h: &mut Harness<'_, SeqlabApp>, label: &str) {
    h.get_by_label(label).click();
    h.step();
    h.step();
}

#[test]
fn train_shows_live_plots_and_status_then_pauses_resumes_and_stops() {
    let dir = temp_dir("app-train");
    let path = write_small_experiment(&dir, 100_000);
    let mut h = open(&path);
    assert_eq!(h.state().train.state, RunState::Idle);

    click(&mut h, "Train");
    step_until(&mut h, "iterations", |app| app.train.iteration() >= 5);

    assert!(
        h.state().train.score_points() > 0,
        "the score plot has points"
    );
    assert!(h.query_by_label_contains("Score — ").is_some());
    let kernel = seqlab::blas::blas_info().kernel;
    let blas = format!("kernel {kernel}");
    assert!(
        h.query_by_label_contains(&blas).is_some(),
        "the status line names the BLAS kernel ({blas})"
    );
    // the setup the run really used (from its Started event), not this process's
    assert!(
        h.query_by_label_contains("run setup: ").is_some(),
        "the status line shows the run's own BLAS kernel and threads"
    );
    assert!(h.query_by_label_contains("iterations/s").is_some());
    // the status line and the monitor's progress bar
    assert!(h.query_all_by_label_contains("tokens/s").count() >= 2);
    h.check_accessibility();

    click(&mut h, "Pause");
    step_until(&mut h, "the pause", |app| {
        app.train.state == RunState::Paused
    });
    let paused_at = h.state().train.iteration();
    for _ in 0..20 {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        h.state().train.iteration(),
        paused_at,
        "no iteration while paused"
    );
    // the runs list counts the active run's iterations live, not 0 until it ends
    assert_eq!(
        h.state().session.progress().map(|p| p.iteration),
        Some(paused_at)
    );
    h.get_by_label("Runs (1)").click();
    for _ in 0..3 {
        h.step();
    }
    assert!(
        h.query_all_by_label(&paused_at.to_string())
            .next()
            .is_some(),
        "the runs list shows iteration {paused_at}"
    );

    click(&mut h, "Resume");
    step_until(&mut h, "more iterations", |app| {
        app.train.state == RunState::Running && app.train.iteration() > paused_at
    });

    click(&mut h, "Stop");
    step_until(&mut h, "the end of the run", |app| {
        matches!(app.train.state, RunState::Finished(_))
    });
    assert!(h.state().console.log.contains("finished: stopped"));
    assert!(
        dir.join("small.runs/001/run.ron").exists(),
        "the run folder is written beside the experiment"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn console_lr_command_reaches_the_runner() {
    let dir = temp_dir("app-console-lr");
    let path = write_small_experiment(&dir, 100_000);
    let mut h = open(&path);

    click(&mut h, "Train");
    step_until(&mut h, "iterations", |app| app.train.iteration() >= 1);

    h.get_by_label("Command").focus();
    h.step();
    h.get_by_label("Command").type_text("lr 0.002");
    h.step();
    click(&mut h, "Run command");
    step_until(&mut h, "the LearningRateSet event", |app| {
        app.console.log.contains("learning rate set to 0.002")
    });
    assert!(h
        .query_by_label_contains("learning rate set to 0.002")
        .is_some());

    // typed commands drive the run too
    h.get_by_label("Command").focus();
    h.step();
    h.get_by_label("Command").type_text("stop");
    h.step();
    click(&mut h, "Run command");
    step_until(&mut h, "the end of the run", |app| {
        matches!(app.train.state, RunState::Finished(_))
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_short_run_completes_with_validation_and_samples() {
    let dir = temp_dir("app-complete");
    let path = write_small_experiment(&dir, 200);
    let mut h = open(&path);
    click(&mut h, "Train");
    step_until(&mut h, "the end of the run", |app| {
        matches!(app.train.state, RunState::Finished(_))
    });
    assert_eq!(h.state().train.iteration(), 200);
    assert!(h.state().console.log.contains("finished: completed"));
    assert!(h.state().console.log.contains("validation at iteration 50"));
    assert!(h.query_all_by_label_contains("accuracy").next().is_some());
    let _ = std::fs::remove_dir_all(&dir);
}
