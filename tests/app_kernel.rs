//! The window as a front end of the session kernel: it never runs a command on its own
//! thread, so frames keep coming and a live run keeps streaming while a long evaluation
//! runs; the editor's changes are `set` cells, and a replay of the saved notebook
//! rebuilds the experiment the editor made. Headless (egui_kittest).
#![cfg(feature = "gui")]

mod common;

use common::app::{settle, step_until};
use common::{long_eval_experiment, temp_dir};

use std::path::Path;
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use seqlab::app::SeqlabApp;
use seqlab::data::AlignmentMode;
use seqlab::experiment::schema::{DataSpec, LayerType};
use seqlab::experiment::{file, Experiment};
use seqlab::repl::Session;

fn window(path: &Path) -> Harness<'static, SeqlabApp> {
    let p = path.to_path_buf();
    let mut h = Harness::builder()
        .with_size([1400.0, 1000.0])
        .build_eframe(move |_cc| SeqlabApp::new(Some(p)));
    settle(&mut h);
    h
}

#[test]
fn a_long_eval_leaves_the_window_drawing_and_the_run_streaming() {
    let dir = temp_dir("app-kernel-eval");
    // a validation split of ~25,000 sequences of 20 characters
    let path = long_eval_experiment(&dir, 1_000_000);
    let mut h = window(&path);
    h.state_mut().run_line("train");
    settle(&mut h);
    step_until(&mut h, "run 001 to end", |a| !a.session.is_running());

    h.state_mut().run_line("train 1000000 iterations");
    step_until(&mut h, "run 002 to stream", |a| a.train.iteration() > 2);
    h.state_mut().run_line("eval 001");
    let eval_running = |a: &SeqlabApp| {
        a.session
            .running
            .as_ref()
            .is_some_and(|(_, line)| line == "eval 001")
    };
    step_until(&mut h, "the eval to start", eval_running);
    let mut frames = Vec::new();
    let mut iterations = Vec::new();
    while eval_running(h.state()) {
        let t = Instant::now();
        h.step();
        frames.push(t.elapsed());
        iterations.push(h.state().train.iteration());
        assert!(
            h.query_all_by_label_contains("eval 001").next().is_some(),
            "the eval shows as a pending cell"
        );
        std::thread::sleep(Duration::from_millis(10));
        assert!(frames.len() < 20_000, "the evaluation never ended");
    }
    settle(&mut h);
    let slowest = frames.iter().max().copied().unwrap_or_default();
    let mut sorted = frames.clone();
    sorted.sort();
    let p95 = sorted[sorted.len() * 95 / 100];
    eprintln!(
        "{} frames during the evaluation: slowest {slowest:?}, 95th percentile {p95:?}; \
         iterations {} -> {}",
        frames.len(),
        iterations.first().unwrap(),
        iterations.last().unwrap()
    );

    assert!(frames.len() >= 10, "frames kept coming ({})", frames.len());
    // a frame never waits for the evaluation (which takes seconds): the window draws
    // at its own pace
    assert!(
        p95 < Duration::from_millis(50),
        "95% of frames under 50 ms (got {p95:?})"
    );
    assert!(
        slowest < Duration::from_millis(500),
        "no frame waited for the evaluation (slowest {slowest:?})"
    );
    assert!(
        iterations.last() > iterations.first(),
        "the run's iterations kept rising during the evaluation: {iterations:?}"
    );
    // then the eval cell fills in
    let cells = &h.state().session.experiment.notebook.cells;
    let eval = cells
        .iter()
        .find(|c| c.command == "eval 001")
        .expect("the eval cell");
    assert!(eval.ok, "{:?}", eval.outputs);
    assert!(format!("{:?}", eval.outputs).contains("validation"));
    h.state_mut().run_line("stop");
    settle(&mut h);
    step_until(&mut h, "run 002 to stop", |a| !a.session.is_running());
    drop(h);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The experiment's settings (without the notebook), as a replay compares them.
fn settings(e: &Experiment) -> Experiment {
    Experiment {
        notebook: Default::default(),
        ..e.clone()
    }
}

#[test]
fn editor_changes_are_set_cells_and_a_replay_rebuilds_the_experiment() {
    let dir = temp_dir("app-kernel-edits");
    let features = dir.join("features");
    std::fs::create_dir_all(&features).unwrap();
    for (i, len) in [3usize, 5, 2, 4].iter().enumerate() {
        let text: String = (0..*len).map(|t| format!("{}.5,{t}\n", t + i)).collect();
        std::fs::write(features.join(format!("seq_{i}.csv")), text).unwrap();
    }
    let path = dir.join("edits.ron");
    std::fs::write(
        &path,
        "(name: \"edits\", data: Csv(features: Directory(\"features\"), task: Regression, \
         alignment: AlignStart), model: (layers: [(kind: Lstm, size: 4)]), \
         training: (iterations: 3, batch_size: 2))",
    )
    .unwrap();
    let mut h = window(&path);

    // a layer added, its kind changed, the updater changed, the alignment changed
    h.get_by_label("Add layer").click();
    settle(&mut h);
    h.get_by_label("Layer 2 kind").click();
    settle(&mut h);
    h.get_by_label("GRU").click();
    settle(&mut h);
    h.get_by_label("Updater").click();
    settle(&mut h);
    h.get_by_label("SGD").click();
    settle(&mut h);
    h.get_by_label("Data preview").click();
    settle(&mut h);
    h.get_by_role_and_label(eframe::egui::accesskit::Role::Button, "ALIGN_END")
        .click();
    settle(&mut h);

    let exp = settings(&h.state().session.experiment);
    assert_eq!(exp.model.layers.len(), 2);
    assert_eq!(exp.model.layers[1].kind, LayerType::Gru);
    assert_eq!(exp.training.updater.kind(), "Sgd");
    let DataSpec::Csv(c) = &exp.data else {
        panic!("CSV data")
    };
    assert_eq!(c.alignment, AlignmentMode::AlignEnd);
    let commands: Vec<String> = h
        .state()
        .session
        .experiment
        .notebook
        .cells
        .iter()
        .map(|c| c.command.clone())
        .collect();
    // the stack's change is the REPL's own `add` (not the whole layer list); the
    // settings' changes are `set!` cells
    assert_eq!(commands[0], "add lstm 4", "{commands:?}");
    assert!(
        commands[1..].iter().all(|c| c.starts_with("set! ")),
        "every other edit is a set cell: {commands:?}"
    );
    for field in [
        "model.layers[1].kind",
        "training.updater",
        "data.Csv.alignment",
    ] {
        assert!(
            commands
                .iter()
                .any(|c| c.starts_with(&format!("set! {field}"))),
            "a cell sets {field}: {commands:?}"
        );
    }

    h.state_mut().run_line("train");
    settle(&mut h);
    step_until(&mut h, "the run to end", |a| !a.session.is_running());
    h.state_mut().run_line("save");
    settle(&mut h);
    let saved = file::load(&path).expect("the saved notebook loads");
    assert_eq!(settings(&saved), exp);
    drop(h);

    // a replay (as `seqlab repl FILE --replay` does) rebuilds the same experiment
    let mut session = Session::open(&path).expect("opens");
    let (lines, recorded) = session.begin_replay();
    assert!(recorded, "the notebook recorded where it started");
    for line in &lines {
        let cell = session.execute(line);
        if line != "train" {
            assert!(cell.ok, "{line}: {:?}", cell.outputs);
        }
    }
    assert_eq!(settings(&session.experiment), settings(&saved));
    drop(session);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Closing the window while a command runs says so first (it would be dropped): the
/// question names it, Cancel keeps everything, "Interrupt and close" stops it and closes.
#[test]
fn closing_with_a_command_running_asks_first() {
    let dir = temp_dir("app-kernel-close");
    // a validation split that takes seconds to score
    let path = long_eval_experiment(&dir, 1_000_000);
    let mut h = window(&path);
    h.state_mut().run_line("train");
    settle(&mut h);
    step_until(&mut h, "run 001 to end", |a| !a.session.is_running());
    h.state_mut().run_line("eval 001");
    step_until(&mut h, "the eval to start", |a| a.session.running.is_some());
    let close = |h: &mut Harness<'static, SeqlabApp>| {
        h.input_mut()
            .viewports
            .entry(eframe::egui::ViewportId::ROOT)
            .or_default()
            .events
            .push(eframe::egui::ViewportEvent::Close);
        h.step();
        h.step();
    };
    close(&mut h);
    assert!(
        h.query_by_label_contains("Commands have not finished")
            .is_some(),
        "closing asks about the running command"
    );
    assert!(h.query_by_label_contains("`eval 001`").is_some());
    h.get_by_label("Cancel").click();
    h.step();
    h.step();
    assert!(h
        .query_by_label_contains("Commands have not finished")
        .is_none());
    close(&mut h);
    h.get_by_label("Interrupt and close").click();
    h.step();
    h.step();
    step_until(&mut h, "the eval to end", |a| a.session.running.is_none());
    let eval = h
        .state()
        .session
        .experiment
        .notebook
        .cells
        .iter()
        .find(|c| c.command == "eval 001")
        .cloned()
        .expect("the eval cell");
    assert!(
        format!("{:?}", eval.outputs).contains("as asked"),
        "the eval was interrupted: {:?}",
        eval.outputs
    );
    drop(h);
    let _ = std::fs::remove_dir_all(&dir);
}
