//! The CSV alignment preview: sequences of different lengths cannot use EQUAL_LENGTH, and
//! switching to ALIGN_END / ALIGN_START shows where the padding goes. Headless
//! (egui_kittest); the CSV files are written to a temp folder.
#![cfg(feature = "gui")]

mod common;

use common::app::settle;
use common::temp_dir;

use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use seqlab::app::SeqlabApp;
use seqlab::data::AlignmentMode;
use seqlab::experiment::schema::DataSpec;

fn alignment(app: &SeqlabApp) -> AlignmentMode {
    match &app.session.experiment.data {
        DataSpec::Csv(c) => c.alignment,
        other => panic!("not CSV data: {other:?}"),
    }
}

#[test]
fn switching_alignment_shows_padding() {
    let dir = temp_dir("app-preview");
    let features = dir.join("features");
    std::fs::create_dir_all(&features).unwrap();
    // feature, label per line; lengths 3, 5 and 2
    for (i, len) in [3usize, 5, 2].iter().enumerate() {
        let text: String = (0..*len).map(|t| format!("{}.5,{t}\n", t + i)).collect();
        std::fs::write(features.join(format!("seq_{i}.csv")), text).unwrap();
    }
    let path = dir.join("csv.ron");
    std::fs::write(
        &path,
        "(name: \"csv\", data: Csv(features: Directory(\"features\"), task: Regression), \
         model: (layers: [(kind: Lstm, size: 4)]), training: (iterations: 5))",
    )
    .unwrap();
    let p = path.clone();
    let mut h = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_eframe(move |_cc| SeqlabApp::new(Some(p)));

    h.get_by_label("Data preview").click();
    h.step();
    h.step();
    let start = Instant::now();
    while h.query_by_label_contains("3 sequences").is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the preview loads ({:?})",
            h.state().data.error()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    settle(&mut h);
    assert_eq!(alignment(h.state()), AlignmentMode::EqualLength);
    assert!(h.query_by_label_contains("cannot be used here").is_some());

    h.get_by_role_and_label(eframe::egui::accesskit::Role::Button, "ALIGN_END")
        .click();
    settle(&mut h);
    assert_eq!(alignment(h.state()), AlignmentMode::AlignEnd);
    // 3 examples in a minibatch of 5 steps: 2 + 0 + 3 padded steps of features and labels
    assert!(
        h.query_by_label_contains("5 padded feature steps and 5 padded label steps")
            .is_some(),
        "the summary counts the padding"
    );
    assert!(h.query_by_label_contains("minibatch of 5 steps").is_some());

    h.get_by_role_and_label(eframe::egui::accesskit::Role::Button, "ALIGN_START")
        .click();
    settle(&mut h);
    assert_eq!(alignment(h.state()), AlignmentMode::AlignStart);
    assert!(h
        .query_by_label_contains("ALIGN_START: the first 3 examples")
        .is_some());
    h.check_accessibility();
    let _ = std::fs::remove_dir_all(&dir);
}
