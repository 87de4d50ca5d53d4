//! The experiment file: defaults, round trips, stable and atomic saving, migration, path
//! resolution, and the message of every kind of bad file.

use std::path::{Path, PathBuf};

use seqlab::data::{CsvDataConfig, LabelSource, SequenceSource, Task, ValidationSplit};
use seqlab::experiment::error::ExperimentError;
use seqlab::experiment::file::{from_ron_str, load, migrate, resolve_paths, save, to_ron_string};
use seqlab::experiment::schema::{
    DataSpec, Experiment, GradientNormalizationSpec, LayerSpec, LayerType, OutputModeSpec,
    ScheduleSpec, TbpttSpec, TextSpec, UpdaterSpec, FORMAT_VERSION,
};

/// A fresh, empty folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seqlab-expfile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn parse(text: &str) -> Result<Experiment, ExperimentError> {
    from_ron_str(text, Path::new("exp.ron"))
}

fn err(text: &str) -> ExperimentError {
    match parse(text) {
        Ok(e) => panic!("expected an error for {text:?}, got {e:?}"),
        Err(e) => e,
    }
}

/// An experiment that uses many non-default settings.
fn rich() -> Experiment {
    let mut e = Experiment {
        name: "rich".into(),
        notes: "# Notes\nwith \"quotes\", a tab\tand ünïcode".into(),
        ..Experiment::default()
    };
    e.data = DataSpec::Csv(CsvDataConfig {
        features: SequenceSource::Pattern {
            pattern: "data/f_%d.csv".into(),
            start: 0,
            end: Some(9),
        },
        labels: LabelSource::Files(SequenceSource::Directory("data/labels".into())),
        task: Task::Classification { classes: 6 },
        validation: ValidationSplit::Fraction {
            fraction: 0.25,
            seed: Some(3),
        },
        ..CsvDataConfig::default()
    });
    e.model.layers = vec![
        LayerSpec {
            size: 10,
            peephole: true,
            dropout: 0.1,
            ..LayerSpec::default()
        },
        LayerSpec {
            kind: LayerType::Gru,
            size: 7,
            l2: 1e-4,
            ..LayerSpec::default()
        },
    ];
    e.model.output.mode = OutputModeSpec::LastStep;
    e.model.output.size = Some(6);
    e.training.updater = UpdaterSpec::RmsProp(Default::default());
    e.training.schedule = ScheduleSpec::Warmup {
        steps: 10,
        then: Box::new(ScheduleSpec::Cosine {
            period: Some(100),
            period_epochs: None,
            min_lr: 1e-5,
        }),
    };
    e.training.iterations = Some(300);
    e.training.gradient_normalization = GradientNormalizationSpec::ClipGlobalL2(1.5);
    e.training.threads = Some(2);
    e.sampling.prime = Some("The ".into());
    e.initial_weights = Some("w.safetensors".into());
    e
}

#[test]
fn minimal_file_gets_defaults() {
    let e = parse("(data: Sentence(), model: (layers: [(size: 10)]))").unwrap();
    let mut want = Experiment::default();
    want.model.layers = vec![LayerSpec {
        size: 10,
        ..LayerSpec::default()
    }];
    assert_eq!(e, want);
    assert_eq!(e.version, FORMAT_VERSION);
}

#[test]
fn empty_struct_is_the_default_experiment() {
    assert_eq!(parse("()").unwrap(), Experiment::default());
}

#[test]
fn implicit_some_and_unwrapped_newtypes_are_accepted() {
    let e = parse(
        "(training: (updater: Adam(lr: 0.002), iterations: 300, \
         tbptt: (forward: 20, backward: 10), gradient_normalization: None))",
    )
    .unwrap();
    match e.training.updater {
        UpdaterSpec::Adam(a) => {
            assert_eq!(a.lr, 0.002);
            assert_eq!(a.beta1, 0.9);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.training.iterations, Some(300));
    assert_eq!(
        e.training.tbptt,
        Some(TbpttSpec {
            forward: 20,
            backward: 10
        })
    );
    assert_eq!(
        e.training.gradient_normalization,
        GradientNormalizationSpec::None
    );
}

#[test]
fn save_then_load_gives_the_same_experiment() {
    let dir = scratch("roundtrip");
    for e in [Experiment::default(), rich()] {
        let path = dir.join("exp.ron");
        save(&e, &path).unwrap();
        assert_eq!(load(&path).unwrap(), e);
    }
}

#[test]
fn saving_twice_gives_identical_bytes() {
    let dir = scratch("stable");
    let e = rich();
    save(&e, &dir.join("a.ron")).unwrap();
    save(&e, &dir.join("b.ron")).unwrap();
    let a = std::fs::read(dir.join("a.ron")).unwrap();
    assert_eq!(a, std::fs::read(dir.join("b.ron")).unwrap());
    // and a loaded file saves back to the same text
    let again = load(&dir.join("a.ron")).unwrap();
    assert_eq!(to_ron_string(&again).as_bytes(), a.as_slice());
}

#[test]
fn written_file_enables_its_extensions() {
    let text = to_ron_string(&rich());
    assert!(text.starts_with("#![enable("), "{text}");
    assert!(text.contains("updater: RmsProp("), "{text}");
    assert!(text.contains("iterations: 300,"), "{text}");
    // a plain RON reader with no default extensions reads it too
    let plain: Experiment = ron::from_str(&text).unwrap();
    assert_eq!(plain, rich());
}

#[test]
fn syntax_error_reports_line_and_column() {
    let text = "(\n    name: \"x\",\n    training: (batch_size: 4 seed: 3),\n)";
    let e = err(text);
    match &e {
        ExperimentError::Syntax { line, column, .. } => {
            assert_eq!(*line, 3);
            assert!(*column > 20, "{e}");
        }
        other => panic!("{other:?}"),
    }
    let msg = e.to_string();
    assert!(msg.starts_with("exp.ron:3:"), "{msg}");
    assert!(msg.contains("expected a `,`"), "{msg}");
    assert!(msg.contains("inside `training`"), "{msg}");
}

#[test]
fn unclosed_parenthesis_says_so() {
    let msg = err("(training: (updater: Adam(lr: 0.002))").to_string();
    assert!(msg.contains("RON syntax error"), "{msg}");
    assert!(msg.contains("add the missing `)`"), "{msg}");
}

#[test]
fn text_after_the_experiment_is_a_syntax_error() {
    let msg = err("(name: \"x\") junk").to_string();
    assert!(msg.starts_with("exp.ron:1:"), "{msg}");
    assert!(msg.contains("more text after"), "{msg}");
}

#[test]
fn unknown_field_reports_its_path_and_the_allowed_fields() {
    let e = err("(data: Sentence(),\n model: (layers: [(size: 10), (sise: 3)]))");
    assert_eq!(e.field_path(), Some("model.layers[1].sise"));
    let msg = e.to_string();
    assert!(msg.starts_with("exp.ron:2:"), "{msg}");
    assert!(msg.contains("unknown field `sise`"), "{msg}");
    assert!(msg.contains("did you mean `size`?"), "{msg}");
    assert!(msg.contains("`peephole`"), "{msg}");

    let e = err("(training: (updater: Adam(lr: 0.002, beta: 0.3)))");
    assert_eq!(e.field_path(), Some("training.updater.Adam.beta"));

    let e = err("(bogus: 1)");
    assert_eq!(e.field_path(), Some("bogus"));
}

#[test]
fn unknown_variant_lists_the_kinds() {
    let e = err("(training: (updater: Adan(lr: 0.002)))");
    assert_eq!(e.field_path(), Some("training.updater"));
    let msg = e.to_string();
    assert!(
        msg.contains("unknown kind `Adan`; did you mean `Adam`?"),
        "{msg}"
    );
    assert!(msg.contains("`RmsProp`"), "{msg}");
}

#[test]
fn wrong_type_reports_its_path() {
    let e = err("(data: Sentence(),\n model: (layers: [(size: \"ten\")]))");
    assert_eq!(e.field_path(), Some("model.layers[0].size"));
    assert!(e.to_string().contains("expected a whole number"), "{e}");

    let e = err("(training: (carry_state: 1))");
    assert_eq!(e.field_path(), Some("training.carry_state"));
    assert!(e.to_string().contains("expected `true` or `false`"), "{e}");

    let e = err("(data: Text(path: 3))");
    assert_eq!(e.field_path(), Some("data.Text.path"));

    let e = err("(model: (layers: [(size: -3)]))");
    assert_eq!(e.field_path(), Some("model.layers[0].size"));
    assert!(e.to_string().contains("out of range"), "{e}");
}

#[test]
fn decimal_in_a_whole_number_field_reports_the_field() {
    let e = err("(training: (batch_size: 3.5))");
    assert_eq!(e.field_path(), Some("training.batch_size"));
    let msg = e.to_string();
    assert!(msg.contains("is 3.5, a decimal number"), "{msg}");
    assert!(msg.contains("expected a whole number"), "{msg}");
}

#[test]
fn missing_required_field_is_named() {
    // `end` may be left out (open-ended pattern); `start` may not
    let e = err("(data: Csv(features: Pattern(pattern: \"a%d.csv\", end: 3)))");
    assert_eq!(e.field_path(), Some("data.Csv.features.Pattern"));
    assert!(e.to_string().contains("needs the field `start`"), "{e}");
}

#[test]
fn out_of_range_value_is_reported_after_parsing() {
    let e = err("(training: (updater: Adam(lr: -0.002)))");
    assert_eq!(e.field_path(), Some("training.updater.Adam.lr"));
    assert_eq!(
        e.to_string(),
        "exp.ron: training.updater.Adam.lr: is -0.002; the learning rate must be a finite \
         number greater than 0"
    );
}

#[test]
fn newer_version_is_refused() {
    // the version is read before anything else, so fields of the future do not matter
    let e = err("(version: 7, hologram: (depth: 3))");
    assert!(matches!(
        e,
        ExperimentError::NewerVersion {
            found: 7,
            supported: FORMAT_VERSION,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        format!(
            "exp.ron: written in experiment format version 7; this seqlab reads versions up \
             to {FORMAT_VERSION}; update seqlab"
        )
    );
}

#[test]
fn version_0_learning_rate_moves_into_the_updater() {
    let lr = |e: &Experiment| match e.training.updater {
        UpdaterSpec::Adam(a) => ("Adam", a.lr),
        UpdaterSpec::RmsProp(r) => ("RmsProp", r.lr),
        UpdaterSpec::Sgd(s) => ("Sgd", s.lr),
        other => panic!("{other:?}"),
    };
    // no updater: the default (Adam) gets the rate
    let e = parse("(version: 0, training: (learning_rate: 0.05, batch_size: 8))").unwrap();
    assert_eq!(lr(&e), ("Adam", 0.05));
    assert_eq!(e.training.batch_size, 8);
    assert_eq!(e.version, FORMAT_VERSION);
    // an updater without lr gets it; the other settings stay
    let e = parse(
        "#![enable(implicit_some)]\n(\n  version: 0,\n  training: (\n    updater: RmsProp(alpha: 0.9),\n    \
         learning_rate: 0.003,\n  ),\n)",
    )
    .unwrap();
    assert_eq!(lr(&e), ("RmsProp", 0.003));
    match e.training.updater {
        UpdaterSpec::RmsProp(r) => assert_eq!(r.alpha, 0.9),
        other => panic!("{other:?}"),
    }
    // version 0 ignored the updater's own lr: learning_rate wins
    let e = parse("(version: 0, training: (learning_rate: 0.2, updater: Sgd(lr: 9.0)))").unwrap();
    assert_eq!(lr(&e), ("Sgd", 0.2));
    // an empty updater
    let e = parse("(version: 0, training: (updater: Sgd(), learning_rate: 0.5))").unwrap();
    assert_eq!(lr(&e), ("Sgd", 0.5));
}

#[test]
fn migration_leaves_strings_and_comments_alone() {
    let text = "(version: 0, notes: \"learning_rate: 1, (\", // learning_rate: 2\n \
                training: (/* learning_rate: 3 */ learning_rate: 0.01))";
    let migrated = migrate(text, 0);
    assert!(
        migrated.contains("notes: \"learning_rate: 1, (\""),
        "{migrated}"
    );
    assert!(migrated.contains("// learning_rate: 2"), "{migrated}");
    assert!(migrated.contains("updater: Adam(lr: 0.01)"), "{migrated}");
    let e = parse(text).unwrap();
    assert_eq!(e.notes, "learning_rate: 1, (");
    assert!(matches!(e.training.updater, UpdaterSpec::Adam(a) if a.lr == 0.01));
}

#[test]
fn version_0_file_without_learning_rate_is_unchanged() {
    let text = "(version: 0, training: (batch_size: 4))";
    assert_eq!(migrate(text, 0), text);
    assert_eq!(parse(text).unwrap().training.batch_size, 4);
}

#[test]
fn load_names_a_missing_file() {
    let dir = scratch("missing");
    let path = dir.join("nope.ron");
    let e = load(&path).unwrap_err();
    assert!(matches!(e, ExperimentError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains(&*path.to_string_lossy()), "{e}");
}

#[test]
fn load_names_the_file_in_parse_errors() {
    let dir = scratch("named");
    let path = dir.join("bad.ron");
    std::fs::write(&path, "(training: (batch_size: 0))").unwrap();
    let msg = load(&path).unwrap_err().to_string();
    assert!(msg.starts_with(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains("training.batch_size"), "{msg}");
}

#[test]
fn failed_save_into_a_missing_folder_is_an_error_naming_the_path() {
    let dir = scratch("parentfile");
    let parent = dir.join("not_a_dir");
    std::fs::write(&parent, "I am a file").unwrap();
    let e = save(&Experiment::default(), &parent.join("exp.ron")).unwrap_err();
    assert!(matches!(e, ExperimentError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("not_a_dir"), "{e}");
    assert_eq!(std::fs::read_to_string(&parent).unwrap(), "I am a file");
}

#[test]
fn failed_save_leaves_the_old_file_intact() {
    let dir = scratch("atomic");
    let path = dir.join("exp.ron");
    save(&rich(), &path).unwrap();
    let before = std::fs::read(&path).unwrap();

    // a target that cannot be replaced (a non-empty folder) is refused after the
    // temporary file was written; nothing is left behind
    let folder = dir.join("folder.ron");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("keep"), "x").unwrap();
    assert!(save(&Experiment::default(), &folder).is_err());
    assert_eq!(std::fs::read_to_string(folder.join("keep")).unwrap(), "x");

    // a read-only folder (unless the tests run as root, who may write anyway)
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        let result = save(&Experiment::default(), &path);
        let root_can_write = result.is_ok();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        if !root_can_write {
            assert!(matches!(result, Err(ExperimentError::Io { .. })));
            assert_eq!(std::fs::read(&path).unwrap(), before);
        }
        save(&rich(), &path).unwrap();
    }

    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn relative_paths_resolve_against_the_file_folder() {
    let base = Path::new("/experiments/mine");
    let mut e = rich();
    if let DataSpec::Csv(c) = &mut e.data {
        c.validation = ValidationSplit::Folders {
            features: SequenceSource::Files(vec!["v/a.csv".into(), "/abs/b.csv".into()]),
            labels: Some(SequenceSource::Directory("v/labels".into())),
        };
    }
    resolve_paths(&mut e, base);
    assert_eq!(e.initial_weights, Some(base.join("w.safetensors")));
    let DataSpec::Csv(c) = &e.data else { panic!() };
    assert_eq!(
        c.features,
        SequenceSource::Pattern {
            pattern: "/experiments/mine/data/f_%d.csv".into(),
            start: 0,
            end: Some(9)
        }
    );
    assert_eq!(
        c.labels,
        LabelSource::Files(SequenceSource::Directory(base.join("data/labels")))
    );
    assert_eq!(
        c.validation,
        ValidationSplit::Folders {
            features: SequenceSource::Files(vec![base.join("v/a.csv"), "/abs/b.csv".into()]),
            labels: Some(SequenceSource::Directory(base.join("v/labels"))),
        }
    );

    let mut t = Experiment {
        data: DataSpec::Text(TextSpec {
            path: "corpus.txt".into(),
            ..TextSpec::default()
        }),
        ..Experiment::default()
    };
    // a relative folder is made absolute against the current folder
    resolve_paths(&mut t, Path::new("exps"));
    let DataSpec::Text(text) = &t.data else {
        panic!()
    };
    assert!(text.path.is_absolute(), "{:?}", text.path);
    assert!(text.path.ends_with("exps/corpus.txt"), "{:?}", text.path);
}

#[test]
fn unknown_field_in_a_struct_variant_is_refused() {
    let e = err("(training: (schedule: Step(every: 5, gamma: 0.5, bogus: 1)))");
    assert_eq!(e.field_path(), Some("training.schedule.Step.bogus"));
    let e = err("(model: (layers: [(weight_init: Normal(mean: 0.0, sdt: 1.0))]))");
    assert_eq!(
        e.field_path(),
        Some("model.layers[0].weight_init.Normal.sdt")
    );
    assert!(e.to_string().contains("did you mean `std`?"), "{e}");
}

#[test]
fn every_shipped_example_loads_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: the shipped examples are missing: {e}", dir.display()));
    let mut loaded = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "ron") {
            if let Err(e) = load(&path) {
                panic!("{e}");
            }
            loaded += 1;
        }
    }
    assert!(loaded > 0, "{}: no .ron examples", dir.display());
}

#[test]
fn a_lenient_load_keeps_what_it_can_read_and_lists_every_problem() {
    use seqlab::experiment::file::from_ron_str_lenient;
    let text = "(name: \"x\", batch: 3, \
                model: (layers: [(kind: Lstm, size: 12, dropout: \"lots\"), (kind: Gruu)]), \
                training: (updater: Adam(lr: -0.5), batch_size: 4))";
    let read = from_ron_str_lenient(text, std::path::Path::new("x.ron")).unwrap();
    let e = &read.experiment;
    assert_eq!(e.name, "x");
    assert_eq!(e.training.batch_size, 4);
    assert_eq!(e.model.layers.len(), 2);
    assert_eq!(e.model.layers[0].size, 12, "the rest of the layer is kept");
    assert_eq!(read.dropped, 3, "{:?}", read.problems);
    let fields: Vec<_> = read
        .problems
        .iter()
        .map(|p| p.field_path().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        [
            "batch",
            "model.layers[0].dropout",
            "model.layers[1].kind",
            "training.updater.Adam.lr"
        ]
    );
    // not RON at all: an error with its position
    let err = from_ron_str_lenient("(name: \"x\" training: ())", std::path::Path::new("x.ron"))
        .unwrap_err();
    assert!(err.to_string().starts_with("x.ron:1:"), "{err}");
}

/// A file cut short (an interrupted copy, a truncated download) says so, wherever the cut
/// falls: for every prefix of each shipped example and of a saved notebook with cells,
/// the error names the end of the file, what is still open there and that the file looks
/// truncated, instead of a puzzling error about the last few characters.
#[test]
fn a_file_cut_anywhere_says_it_looks_truncated() {
    let dir = scratch("truncated");
    let mut texts: Vec<(String, String)> = Vec::new();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ron") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            texts.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    // a notebook: notes with brackets and quotes, cells with table outputs
    let mut session = seqlab::repl::Session::new();
    for line in [
        "note a (note) with \"quotes\", [brackets] and } braces",
        "add gru 8",
        "analyze",
        "show model",
        "set notes \"x ( y\"",
    ] {
        assert!(session.execute(line).ok, "{line}");
    }
    let nb = dir.join("nb.ron");
    assert!(session.execute(&format!("save {}", nb.display())).ok);
    texts.push(("nb.ron".into(), std::fs::read_to_string(&nb).unwrap()));
    assert!(texts.len() >= 6);

    for (name, text) in &texts {
        parse(text).unwrap_or_else(|e| panic!("{name} whole: {e}"));
        let end = text.trim_end().len() - 1; // the root's closing `)`
        let cuts: Vec<usize> = (1..end).filter(|&k| text.is_char_boundary(k)).collect();
        for &k in cuts.iter().step_by(if text.len() > 4000 { 7 } else { 1 }) {
            let cut = &text[..k];
            let msg = err(cut).to_string();
            let line = 1 + cut.matches('\n').count();
            assert!(
                msg.starts_with(&format!("exp.ron:{line}:")),
                "{name} cut at {k}: {msg}"
            );
            assert!(
                msg.contains("the file ends inside"),
                "{name} cut at {k}: {msg}"
            );
            assert!(msg.contains("looks cut short"), "{name} cut at {k}: {msg}");
        }
    }
    // brackets and quotes inside strings, raw strings, chars and comments are not open
    let fine = "(name: \"a(b[\\\"\", notes: r#\"x) \" (\"#, /* ( /* [ */ */ // {\n)";
    parse(fine).unwrap_or_else(|e| panic!("{fine}: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Plain text, JSON or a data file opened by mistake is "not a seqlab experiment", not
/// a file "cut short"; a file really cut short still says so.
#[test]
fn text_that_is_not_an_experiment_is_not_called_truncated() {
    for text in ["hello world\n", "{\"a\": 1}\n", "1,2,3\n4,5,6\n"] {
        let err = seqlab::experiment::file::from_ron_str(text, std::path::Path::new("x.ron"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a seqlab experiment"), "{text:?}: {err}");
        assert!(!err.contains("cut short"), "{text:?}: {err}");
    }
    let err = seqlab::experiment::file::from_ron_str(
        "(name: \"x\", data: Echo(length: 100",
        std::path::Path::new("x.ron"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("cut short"), "{err}");
}
