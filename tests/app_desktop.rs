//! The window's desktop habits and the bugs seen in the real window, each with the kind
//! behind it: prompts before losing work, a file with errors opening with its problems,
//! dialogs that never silently do nothing, Save As rebasing data paths, the editor's
//! width, focus while typing, settings switched off keeping their value, and New during
//! a run. Headless (egui_kittest), driven by labels.
#![cfg(feature = "gui")]

mod common;

use common::app::{settle, step_until};
use common::temp_dir;

use std::path::{Path, PathBuf};

use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use seqlab::app::files::Purpose;
use seqlab::app::SeqlabApp;
use seqlab::experiment::file;
use seqlab::experiment::schema::{DataSpec, LayerType};

fn open_at(path: Option<PathBuf>, size: [f32; 2]) -> Harness<'static, SeqlabApp> {
    let mut h = Harness::builder()
        .with_size(size)
        .build_eframe(move |_cc| SeqlabApp::new(path));
    settle(&mut h);
    h
}

/// For tests that show the in-window file browser: egui_file's path fields have no
/// accessible name, and its icons are emoji, which the harness's fonts lack (the
/// window's default fonts have them).
fn open_for_dialogs(path: Option<PathBuf>) -> Harness<'static, SeqlabApp> {
    let mut h = Harness::builder()
        .with_size([1360.0, 2600.0])
        .with_accessibility_check(false)
        .build_eframe(move |_cc| SeqlabApp::new(path));
    h.ctx
        .set_missing_glyph_policy(eframe::egui::MissingGlyphPolicy::Tofu);
    h.state_mut().dialogs.native_available = false;
    settle(&mut h);
    h
}

/// True when a label containing `text` is drawn in the editor (the left panel; the
/// console may repeat it).
fn in_editor(h: &Harness<'_, SeqlabApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text)
        .any(|n| n.rect().right() < 700.0)
}

/// A tall window, so the whole editor is on screen (widgets scrolled out of view are
/// not in the accessibility tree the tests query).
fn open(path: &Path) -> Harness<'static, SeqlabApp> {
    open_at(Some(path.to_path_buf()), [1360.0, 2600.0])
}

/// Opens the File menu and clicks `item` in it.
fn file_menu(h: &mut Harness<'_, SeqlabApp>, item: &str) {
    h.get_by_label("File").click();
    h.run_steps(3);
    h.get_by_label_contains(item).click();
    h.run_steps(3);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn new_with_unsaved_changes_asks_and_cancel_keeps_them() {
    let dir = temp_dir("app-new-asks");
    let path = write(
        &dir,
        "e.ron",
        "(name: \"kept\", data: Sentence(), model: (layers: [(kind: Gru, size: 8)]))",
    );
    let mut h = open(&path);
    h.get_by_label("Add layer").click();
    settle(&mut h);
    assert_eq!(h.state().session.experiment.model.layers.len(), 2);

    file_menu(&mut h, "New");
    assert!(
        h.state().prompt.as_ref().is_some_and(|p| p.is_unsaved()),
        "New with unsaved changes asks first"
    );
    assert!(h.query_by_label_contains("Unsaved changes").is_some());
    h.get_by_label("Cancel").click();
    settle(&mut h);
    assert!(h.state().prompt.is_none());
    assert_eq!(h.state().session.experiment.name, "kept");
    assert_eq!(h.state().session.experiment.model.layers.len(), 2);

    // Discard: the new experiment replaces it; the file is untouched
    file_menu(&mut h, "New");
    h.get_by_label("Discard").click();
    settle(&mut h);
    assert_eq!(h.state().session.experiment.name, "untitled");
    assert_eq!(h.state().session.file(), None);
    assert_eq!(file::load(&path).unwrap().model.layers.len(), 1);

    // a new experiment nobody edited has nothing to lose: no question
    file_menu(&mut h, "New");
    assert!(h.state().prompt.is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn save_in_the_prompt_saves_then_opens_the_other_file() {
    let dir = temp_dir("app-prompt-save");
    let a = write(&dir, "a.ron", "(name: \"a\", data: Sentence())");
    let b = write(&dir, "b.ron", "(name: \"b\", data: Sentence())");
    let mut h = open_for_dialogs(Some(a.clone()));
    h.get_by_label("Add layer").click();
    settle(&mut h);
    file_menu(&mut h, "Open…");
    assert!(h.query_by_label_contains("Unsaved changes").is_some());
    h.get_by_label("Save").click();
    settle(&mut h);
    assert_eq!(file::load(&a).unwrap().model.layers.len(), 2, "a was saved");
    assert!(h.state().dialogs.is_open(), "then the Open dialog");
    let ctx = h.ctx.clone();
    h.state_mut().dialog_picked(&ctx, Purpose::Open, b.clone());
    settle(&mut h);
    assert_eq!(h.state().session.experiment.name, "b");
    assert_eq!(h.state().settings.recent.first(), Some(&b), "recent files");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_with_a_broken_value_opens_with_its_problem_listed_and_can_be_fixed() {
    let dir = temp_dir("app-broken-value");
    let path = write(
        &dir,
        "broken.ron",
        "(name: \"broken\", data: Sentence(), \
         model: (layers: [(kind: Lstm, size: 8, dropout: \"lots\")]), \
         training: (updater: Adam(lr: -0.5), batch_size: 4, iterations: 10))",
    );
    let mut h = open(&path);
    let s = &h.state().session;
    assert_eq!(s.file(), Some(path.as_path()), "it opened");
    assert_eq!(s.unreadable_entries().len(), 1);
    assert_eq!(s.experiment.name, "broken");
    assert_eq!(
        s.experiment.training.batch_size, 4,
        "what could be read is kept"
    );
    assert_eq!(s.experiment.model.layers[0].size, 8);
    assert_eq!(
        s.experiment.model.layers[0].dropout, 0.0,
        "unreadable: default"
    );
    assert_eq!(s.load_problems().len(), 2, "{:?}", s.load_problems());
    assert!(s.load_problems()[0].contains("model.layers[0].dropout"));
    assert!(s.load_problems()[1].contains("training.updater.Adam.lr"));
    // listed in the window, next to the field too
    assert!(h
        .query_by_label_contains("1 entry of the file could not be read")
        .is_some());
    assert!(h.query_by_label_contains("1 problem(s) to fix").is_some());
    assert!(in_editor(
        &h,
        "the learning rate must be a finite number greater than 0"
    ));

    // fixed in the window: the problem goes away
    h.state_mut().run_line("set training.updater.Adam.lr 0.01");
    settle(&mut h);
    assert!(h.query_by_label_contains("No problems").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_that_is_not_ron_opens_empty_with_its_error() {
    let dir = temp_dir("app-not-ron");
    let path = write(&dir, "bad.ron", "(name: \"x\", training: (batch_size 4))");
    let h = open(&path);
    assert_eq!(h.state().session.file(), None);
    assert_eq!(h.state().session.experiment.name, "untitled");
    let err = h.state().open_error.clone().expect("the error is shown");
    assert!(err.contains("bad.ron:1:"), "{err}");
    assert!(h.query_by_label_contains("Could not open").is_some());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bug 6: with no desktop file-dialog service, Open… shows the in-window browser
/// instead of doing nothing.
#[test]
fn open_without_a_dialog_service_shows_the_in_window_browser() {
    // the test machine has no portal/zenity/kdialog; the harness forces the same where
    // it has one
    let mut h = open_for_dialogs(None);
    file_menu(&mut h, "Open…");
    assert!(h.state().dialogs.is_open());
    assert!(
        h.query_by_label_contains("Open experiment").is_some(),
        "the in-window dialog shows"
    );
    // Save as… and Browse… likewise
    h.key_press(eframe::egui::Key::Escape);
    settle(&mut h);
    assert!(!h.state().dialogs.is_open());
    file_menu(&mut h, "Save as…");
    assert!(h.query_by_label_contains("Save experiment as").is_some());
}

/// Bug 4: Save As into another folder rebases the relative data paths.
#[test]
fn save_as_into_another_folder_keeps_the_data_reachable() {
    let dir = temp_dir("app-save-as");
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b/deeper")).unwrap();
    std::fs::write(
        dir.join("a/corpus.txt"),
        "hello world, hello seqlab\n".repeat(50),
    )
    .unwrap();
    let path = write(
        &dir.join("a"),
        "e.ron",
        "(name: \"e\", data: Text(path: \"corpus.txt\"))",
    );
    let mut h = open(&path);
    let copy = dir.join("b/deeper/copy.ron");
    let ctx = h.ctx.clone();
    h.state_mut()
        .dialog_picked(&ctx, Purpose::SaveAs, copy.clone());
    settle(&mut h);
    assert_eq!(h.state().session.file(), Some(copy.as_path()));
    let saved = file::load(&copy).unwrap();
    let DataSpec::Text(t) = &saved.data else {
        panic!("text data")
    };
    assert_eq!(t.path, Path::new("../../a/corpus.txt"));
    assert!(copy.parent().unwrap().join(&t.path).is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bug 1: the editor stays bounded at the default size with a wide example, and at
/// 1024x700; the centre keeps its room.
#[test]
fn the_editor_never_takes_the_centre() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/char_text.ron");
    for size in [[1360.0, 860.0], [1024.0, 700.0]] {
        let mut h = open_at(Some(example.clone()), size);
        settle(&mut h);
        let name = h.get_by_label("Name").rect();
        assert!(
            name.right() <= size[0] * 0.45,
            "the editor reaches x = {} of {}",
            name.right(),
            size[0]
        );
        let central = h.get_by_label("Data preview").rect();
        assert!(central.left() < size[0] * 0.5, "{central:?}");
    }
}

/// Bug 2: typing into an empty path field keeps every character, though the field's
/// problem ("is empty") goes away after the first one.
#[test]
fn typing_into_an_empty_path_keeps_the_focus() {
    let dir = temp_dir("app-focus");
    let path = write(&dir, "t.ron", "(name: \"t\", data: Text(path: \"\"))");
    let mut h = open(&path);
    assert!(in_editor(&h, "set it to the text file"));
    h.get_by_label("Corpus").focus();
    settle(&mut h);
    for c in "corpus.txt".chars() {
        h.get_by_label("Corpus").type_text(&c.to_string());
        // (a spinner shows while the data is read: step rather than settle)
        h.run_steps(2);
    }
    // each character is a `set` the session runs on its thread
    step_until(&mut h, "the edits to run", |a| a.is_idle());
    let DataSpec::Text(t) = &h.state().session.experiment.data else {
        panic!("text data")
    };
    assert_eq!(t.path, Path::new("corpus.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bug 3: a setting switched off and on again keeps its value.
#[test]
fn unticking_and_reticking_evaluate_keeps_the_interval() {
    let dir = temp_dir("app-retick");
    let path = write(
        &dir,
        "e.ron",
        "(name: \"e\", data: Sentence(), evaluation: (every: 290), \
         training: (tbptt: (forward: 30, backward: 20)))",
    );
    let mut h = open(&path);
    h.get_by_label("Evaluation and sampling").click();
    settle(&mut h);
    h.get_by_label("Evaluate").click();
    settle(&mut h);
    assert_eq!(h.state().session.experiment.evaluation.every, None);
    h.get_by_label("Evaluate").click();
    settle(&mut h);
    assert_eq!(h.state().session.experiment.evaluation.every, Some(290));

    // the same for every switch: TBPTT keeps its segments
    h.get_by_label("Truncated BPTT").click();
    settle(&mut h);
    assert_eq!(h.state().session.experiment.training.tbptt, None);
    h.get_by_label("Truncated BPTT").click();
    settle(&mut h);
    let tb = h.state().session.experiment.training.tbptt.unwrap();
    assert_eq!((tb.forward, tb.backward), (30, 20));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bug 5: New during a run asks; stopping ends the old run (its folder keeps a summary
/// and a checkpoint) before the new experiment starts, and nothing of it streams in.
#[test]
fn new_during_a_run_stops_it_first_and_nothing_streams_into_the_new_notebook() {
    let dir = temp_dir("app-new-run");
    let path = write(
        &dir,
        "long.ron",
        "(name: \"long\", data: Sentence(), model: (layers: [(kind: Lstm, size: 16)]), \
         training: (batch_size: 1, sequence_length: 20, iterations: 1000000))",
    );
    let mut h = open(&path);
    h.get_by_label("Train").click();
    h.run_steps(2);
    step_until(&mut h, "the run to start", |a| {
        a.session.progress().is_some_and(|p| p.iteration > 2)
    });
    file_menu(&mut h, "New");
    assert!(h.query_by_label_contains("A run is under way").is_some());
    assert_eq!(h.state().session.experiment.name, "long", "nothing yet");
    h.get_by_label("Stop the run").click();
    h.run_steps(2);
    step_until(&mut h, "the run to stop", |a| !a.session.is_running());
    // the run stopped; the notebook lists a run the file does not have yet, so the
    // window asks about that next
    step_until(&mut h, "the unsaved-changes question", |a| {
        a.prompt.as_ref().is_some_and(|p| p.is_unsaved())
    });
    h.get_by_label("Discard").click();
    settle(&mut h);
    assert_eq!(h.state().session.experiment.name, "untitled");
    assert!(h.state().session.experiment.notebook.runs.is_empty());
    for _ in 0..5 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(!h.state().session.is_running());
        assert!(h.state().session.experiment.notebook.runs.is_empty());
        assert!(matches!(
            h.state().train.state,
            seqlab::app::monitor::RunState::Idle
        ));
    }
    let run = dir.join("long.runs/001");
    assert!(
        run.join("summary.json").is_file(),
        "the stopped run has its summary"
    );
    assert!(
        std::fs::read_dir(&run)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains("checkpoint")),
        "and a checkpoint to resume from"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A model built by clicks: a kind, a size and a layer added; the layers show their
/// sizes and parameter counts from the data, and the total.
#[test]
fn a_model_built_by_clicks_shows_sizes_and_parameters() {
    let mut h = open_at(None, [1360.0, 860.0]);
    h.get_by_label("Add layer").click();
    settle(&mut h);
    h.get_by_label("Layer 2 kind").click();
    settle(&mut h);
    h.get_by_label("GRU").click();
    settle(&mut h);
    let layers = &h.state().session.experiment.model.layers;
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[1].kind, LayerType::Gru);
    step_until(&mut h, "the data to be read", |a| a.editor.data().is_some());
    settle(&mut h);
    // the default sentence has a vocabulary of V characters: LSTM(V -> 100), GRU(100 -> 100)
    let v = h.state().editor.data().unwrap().data.shape().input;
    let lstm = 4 * 100 * (v + 100) + 2 * 4 * 100;
    let gru = 3 * 100 * (100 + 100) + 2 * 3 * 100;
    assert!(
        h.query_by_label_contains(&format!("in {v} -> out 100"))
            .is_some(),
        "layer 1's sizes"
    );
    assert!(h.query_by_label_contains("in 100 -> out 100").is_some());
    let shown = |n: usize| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    assert!(
        h.query_by_label_contains(&format!("{} parameters", shown(lstm)))
            .is_some(),
        "LSTM parameters {lstm}"
    );
    assert!(h
        .query_by_label_contains(&format!("{} parameters", shown(gru)))
        .is_some());
    assert!(h.query_by_label_contains("training memory about").is_some());
}
