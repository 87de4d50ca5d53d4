//! The notebook centre of the window: commands typed in the command line become cells
//! with rich outputs; a `train` cell shows the live monitor and then freezes into the
//! run's record; a second run is overlaid on the first; `eval` of a classification run
//! draws a confusion matrix; saving and reopening brings the cells and runs back.
//! Headless (egui_kittest); controls are found by their labels.
#![cfg(feature = "gui")]

mod common;

use common::app::{settle, step_until};
use common::temp_dir;

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use seqlab::app::monitor::RunState;
use seqlab::app::SeqlabApp;
use seqlab::repl::Output;

fn harness(file: Option<PathBuf>) -> Harness<'static, SeqlabApp> {
    Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |_cc| SeqlabApp::new(file))
}

/// Types `line` into the command line and runs it.
fn command(h: &mut Harness<'_, SeqlabApp>, line: &str) {
    h.get_by_label("Command").focus();
    h.step();
    h.get_by_label("Command").type_text(line);
    h.step();
    h.get_by_label("Run command").click();
    h.step();
    // the session runs it on its own thread
    step_until(h, "the command to run", |a| a.is_idle());
}

fn finished(app: &SeqlabApp) -> bool {
    matches!(app.train.state, RunState::Finished(_)) && !app.session.is_running()
}

#[test]
fn commands_typed_become_cells_with_their_outputs() {
    let mut h = harness(None);
    assert!(h.query_by_label("An empty notebook").is_some());
    command(&mut h, "set data Sentence()");
    command(&mut h, "add lstm 16");
    command(&mut h, "show model");
    command(&mut h, "note A *first* model");
    command(&mut h, "bogus");

    let cells = &h.state().session.experiment.notebook.cells;
    assert_eq!(cells.len(), 5);
    assert!(matches!(cells[2].outputs[0], Output::Table(_)));
    // each cell shows its command, the model table its header, the failed one its
    // error and status
    for line in ["set data Sentence()", "add lstm 16", "show model", "bogus"] {
        assert!(h.query_by_label(line).is_some(), "a cell for {line}");
    }
    assert!(h.query_all_by_label("parameters").count() >= 2);
    // the error inline in its cell (and in the log)
    assert!(h.query_all_by_label_contains("unknown command").count() >= 2);
    assert_eq!(h.query_all_by_label("failed").count(), 1);
    assert_eq!(h.query_all_by_label("done").count(), 4);
    // the Markdown note is rendered (emphasis is its own text run)
    assert!(h.query_by_label("first").is_some());

    // sorting the table by a header
    h.query_all_by_label("parameters").next().unwrap().click();
    settle(&mut h);
    assert_eq!(
        h.query_all_by_label("parameters ^").count(),
        1,
        "{:?}",
        h.query_all_by_label_contains("parameters")
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
    );

    // Up recalls the last command, Tab completes
    h.get_by_label("Command").focus();
    h.step();
    h.step();
    h.key_press(eframe::egui::Key::ArrowUp);
    h.step();
    assert_eq!(h.state().console.input, "bogus");
    h.key_press(eframe::egui::Key::ArrowUp);
    h.step();
    assert_eq!(h.state().console.input, "note A *first* model");
    h.state_mut().console.input = "analy".into();
    h.step();
    h.get_by_label("Command").focus();
    h.step();
    h.key_press(eframe::egui::Key::Tab);
    h.step();
    assert_eq!(h.state().console.input, "analyze ");

    // collapse and delete
    let n = h.state().session.experiment.notebook.cells.len();
    h.query_all_by_label("Delete").last().unwrap().click();
    h.step();
    step_until(&mut h, "the deletion to run", |a| a.is_idle());
    assert_eq!(h.state().session.experiment.notebook.cells.len(), n - 1);
    assert!(h.query_by_label("bogus").is_none());
    h.query_all_by_label("-").next().unwrap().click();
    h.step();
    h.step();
    assert!(h.state().notebook.is_collapsed(0));
}

/// A classification experiment on the shipped control charts (absolute paths).
fn write_classification(dir: &Path) -> PathBuf {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/control_charts");
    let path = dir.join("charts.ron");
    std::fs::write(
        &path,
        format!(
            r#"(
    name: "charts",
    data: Csv(
        features: Directory({:?}),
        labels: Files(Directory({:?})),
        task: Classification(classes: 6),
        alignment: AlignEnd,
        validation: Fraction(fraction: 0.25, seed: Some(1)),
        normalization: Standardize,
    ),
    model: (layers: [(kind: Gru, size: 12)], output: (loss: CrossEntropy, mode: LastStep)),
    training: (updater: Adam(lr: 0.01), batch_size: 16, iterations: 30, seed: 2),
    evaluation: (every: 10),
)
"#,
            assets.join("features"),
            assets.join("labels")
        ),
    )
    .unwrap();
    path
}

#[test]
fn runs_fill_their_cells_freeze_into_records_overlay_evaluate_and_come_back() {
    let dir = temp_dir("app-notebook-runs");
    let path = write_classification(&dir);
    let mut h = harness(Some(path.clone()));

    // a run: its cell is the live monitor while it goes on
    command(&mut h, "train 30 iterations");
    step_until(&mut h, "iterations", |app| app.train.iteration() >= 1);
    let active = h.state().session.active_cell();
    assert!(active.is_some());
    assert!(
        h.query_by_label_contains("Score — ").is_some(),
        "the live score chart"
    );
    // the cell's status and the status line
    assert_eq!(h.query_all_by_label("running").count(), 2);
    step_until(&mut h, "the end of run 001", finished);
    // then its record: the charts of run 001, read back from its folder
    assert!(h.query_by_label("Run 001 charts").is_some());
    assert!(h
        .query_by_label("Gradient norm per layer (log scale)")
        .is_some());
    assert!(h.query_all_by_label("running").count() == 0);
    let first = dir.join("charts.runs/001");
    assert_eq!(h.state().train.score_points(), 30);

    // a second run: the first one stays, overlaid
    command(&mut h, "set training.updater Adam(lr: 0.003)");
    command(&mut h, "train 30 iterations");
    step_until(&mut h, "run 002 going", |app| app.train.iteration() >= 1);
    assert!(
        h.state().train.overlay.contains(&first),
        "run 001 is overlaid"
    );
    step_until(&mut h, "the end of run 002", finished);
    assert!(h.query_by_label("Run 002 charts").is_some());
    assert!(h.query_by_label("Run 001 charts").is_some());
    // the runs list with the settings that differ between the overlaid runs
    h.get_by_label("Runs (2)").click();
    h.step();
    h.step();
    assert!(h.query_all_by_label_contains("training.updater").count() >= 1);

    // eval of the classification run: a confusion matrix
    command(&mut h, "eval");
    let cells = &h.state().session.experiment.notebook.cells;
    let eval = cells.last().unwrap();
    assert!(eval.ok, "{:?}", eval.outputs);
    assert!(eval
        .outputs
        .iter()
        .any(|o| matches!(o, Output::Confusion(_))));
    assert!(h.query_by_label("confusion matrix").is_some());

    // export the second run's metrics
    h.query_all_by_label("Export CSV").next().unwrap().click();
    // the click is taken in the next frame, which sends `export 001` to the session
    h.step();
    step_until(&mut h, "the export to run", |a| a.is_idle());
    let csv = std::fs::read_to_string(dir.join("charts-run001-metrics.csv")).unwrap();
    assert_eq!(csv.lines().count(), 31);
    assert!(csv.lines().next().unwrap().ends_with(",validation_score"));

    // branch from run 001: its weights start a new run with an edited setting
    h.query_all_by_label("Branch from here")
        .next()
        .unwrap()
        .click();
    h.step();
    step_until(&mut h, "the branch to run", |a| a.is_idle());
    let exp = &h.state().session.experiment;
    assert_eq!(
        exp.initial_weights.as_deref(),
        Some(Path::new("charts.runs/001/weights.safetensors"))
    );
    // run 001's settings came back (run 002 had lr 0.003)
    assert_eq!(
        seqlab::app::monitor::updater_lr(&exp.training.updater),
        0.01
    );
    command(&mut h, "set training.batch_size 8");
    command(&mut h, "train 5 iterations");
    step_until(&mut h, "the end of the branch", finished);
    let branch = h.state().session.experiment.notebook.runs.last().unwrap();
    assert_eq!(
        branch.summary.stop_reason,
        Some(seqlab::train::StopReason::Completed),
        "{:?}",
        branch.summary
    );

    command(&mut h, "save");
    let cells_before = h.state().session.experiment.notebook.cells.len();
    drop(h);

    let mut h = harness(Some(path));
    step_until(&mut h, "the notebook to open", |a| a.is_idle());
    assert_eq!(
        h.state().session.experiment.notebook.cells.len(),
        cells_before
    );
    assert_eq!(h.state().session.experiment.notebook.runs.len(), 3);
    for label in [
        "Run 001 charts",
        "Run 002 charts",
        "Run 003 charts",
        "confusion matrix",
        "Runs (3)",
    ] {
        assert!(h.query_by_label(label).is_some(), "{label} after reopening");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A shipped example's documentation (its `notes`) heads the notebook, as Markdown.
#[test]
fn an_examples_notes_head_its_notebook() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/echo.ron");
    let mut h = harness(Some(example));
    settle(&mut h);
    // the editor has a Notes field; the notebook adds its Notes section (none without notes)
    assert_eq!(h.query_all_by_label("Notes").count(), 2, "a Notes section");
    let mut empty = harness(None);
    settle(&mut empty);
    assert_eq!(empty.query_all_by_label("Notes").count(), 1);
    // a phrase of the notes, rendered (Markdown flows the lines of a paragraph)
    assert!(
        h.query_by_label_contains("TF echo-RNN").is_some(),
        "the notes are shown"
    );
}
