//! The experiment editor changes the notebook's experiment, and saving writes it as RON
//! that loads back the same. Headless (egui_kittest).
#![cfg(feature = "gui")]

mod common;

use common::app::settle;
use common::temp_dir;

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use seqlab::app::SeqlabApp;
use seqlab::experiment::file;
use seqlab::experiment::schema::LayerType;

#[test]
fn add_layer_appends_a_layer_and_save_writes_it() {
    let dir = temp_dir("app-editor");
    let path = dir.join("edit.ron");
    std::fs::write(
        &path,
        "(name: \"edit\", data: Sentence(), model: (layers: [(kind: Gru, size: 24)]), \
         training: (iterations: 10))",
    )
    .unwrap();
    let p = path.clone();
    let mut h = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |_cc| SeqlabApp::new(Some(p)));
    assert_eq!(h.state().session.experiment.model.layers.len(), 1);
    assert!(!h.state().is_dirty());

    h.get_by_label("Add layer").click();
    settle(&mut h);

    let layers = &h.state().session.experiment.model.layers;
    assert_eq!(layers.len(), 2);
    assert_eq!(
        layers[1].kind,
        LayerType::Gru,
        "a new layer copies the last one"
    );
    assert_eq!(layers[1].size, 24);
    assert!(h.query_by_label("Layer 2 kind").is_some());
    assert!(h.state().is_dirty());
    assert!(h.query_by_label_contains("unsaved changes").is_some());

    h.get_by_label("Remove layer 1").click();
    settle(&mut h);
    assert_eq!(h.state().session.experiment.model.layers.len(), 1);
    h.get_by_label("Add layer").click();
    settle(&mut h);

    // `save PATH` in the console writes the RON atomically
    let saved = dir.join("saved.ron");
    h.get_by_label("Command").focus();
    h.step();
    h.get_by_label("Command")
        .type_text(&format!("save {}", saved.display()));
    h.step();
    h.get_by_label("Run command").click();
    settle(&mut h);
    let back = file::load(&saved).expect("the saved file loads");
    assert_eq!(back, *h.state().session.experiment);
    assert_eq!(back.model.layers.len(), 2);
    assert_eq!(h.state().session.file(), Some(saved.as_path()));
    assert!(!h.state().is_dirty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_invalid_experiment_lists_its_problems_and_does_not_train() {
    let dir = temp_dir("app-invalid");
    let path = dir.join("bad.ron");
    std::fs::write(
        &path,
        "(data: Sentence(), model: (layers: [(kind: Lstm, size: 8)]), training: (iterations: 5))",
    )
    .unwrap();
    let p = path.clone();
    let mut h = Harness::builder()
        .with_size([1400.0, 2400.0])
        .build_eframe(move |_cc| SeqlabApp::new(Some(p)));
    settle(&mut h);
    h.state_mut()
        .run_line("set! training.tbptt (forward: 5, backward: 10)");
    settle(&mut h);
    // counted on top, and drawn under the field it concerns
    assert!(h
        .query_by_label_contains("1 problem(s) to fix before training")
        .is_some());
    // under the field, and in the `set!` cell that made it (and its console line)
    assert!(
        h.query_all_by_label_contains("is 10 but forward is 5")
            .count()
            >= 2
    );
    h.get_by_label("Train").click();
    settle(&mut h);
    assert!(h.state().console.log.contains("training not started"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Small settings show their magnitude: Adam's eps of 1e-8, an L2 of 2.5e-5 and a cosine
/// schedule's floor of 1e-6 read as such in the editor, not as `0.000`.
#[test]
fn small_settings_show_their_magnitude() {
    let dir = temp_dir("app-editor-small");
    let path = dir.join("small.ron");
    std::fs::write(
        &path,
        "(name: \"small\", data: Sentence(), model: (layers: [(kind: Lstm, size: 8, \
         l2: 0.000025)]), training: (iterations: 10, updater: Adam(lr: 0.002, eps: 1e-8), \
         schedule: Cosine(period: 100, min_lr: 0.000001)))",
    )
    .unwrap();
    let p = path.clone();
    let mut h = Harness::builder()
        .with_size([1400.0, 2600.0])
        .build_eframe(move |_cc| SeqlabApp::new(Some(p)));
    settle(&mut h);
    h.get_by_label("Layer 1 settings").click();
    settle(&mut h);
    for (label, shown) in [
        ("eps", "1.00e-8"),
        ("Layer 1 L2", "L2 2.50e-5"),
        ("Minimum rate", "1.00e-6"),
    ] {
        assert_eq!(
            h.get_by_label(label).value().as_deref(),
            Some(shown),
            "{label}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
