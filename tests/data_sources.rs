//! File sets: printf number forms (`%d`, `%0Nd`, `%Nd`) wherever a pattern is accepted,
//! open-ended patterns, globs with natural sort, directories that mix name families,
//! `--range` refused where it cannot apply, and label files with their own CSV options.

mod data_util;

use clap::Parser;
use data_util::{assert_mentions, Scratch};
use seqlab::cli::data::{config, first_batch, DataArgs};
use seqlab::data::{load_csv, CsvDataConfig, CsvOptions, LabelSource, SequenceSource, Task};

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: DataArgs,
}

fn args(argv: &[&str]) -> DataArgs {
    Cli::try_parse_from(std::iter::once("data").chain(argv.iter().copied()))
        .unwrap_or_else(|e| panic!("{argv:?}: {e}"))
        .args
}

fn name(p: &std::path::Path) -> String {
    p.display().to_string()
}

fn file_names(files: &[std::path::PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn zero_padded_and_space_padded_patterns_read_the_numbered_files() {
    let s = Scratch::new("printf");
    for i in [1, 2, 10] {
        s.write(&format!("z/seq_{i:04}.csv"), format!("{i}\n"));
        s.write(&format!("p/seq_{i:>3}.csv"), format!("{i}\n"));
    }
    for (pattern, dir) in [("z/seq_%04d.csv", "z"), ("p/seq_%3d.csv", "p")] {
        let source = SequenceSource::Pattern {
            pattern: name(&s.path(pattern)),
            start: 1,
            end: Some(2),
        };
        assert_eq!(source.files().unwrap().len(), 2, "{pattern}");
        // the same pattern on the command line and in an experiment file
        let cli = SequenceSource::from_cli(&name(&s.path(pattern)), Some((1, Some(2)))).unwrap();
        assert_eq!(cli, source);
        let exp = format!(
            "(data: Csv(features: Pattern(pattern: {:?}, start: 1, end: 2), labels: Column(0)))",
            name(&s.path(pattern))
        );
        let parsed: seqlab::experiment::Experiment =
            seqlab::experiment::file::from_ron_str(&exp, std::path::Path::new("e.ron"))
                .unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert!(
            seqlab::experiment::validate::problems(&parsed, std::path::Path::new("e.ron"))
                .is_empty(),
            "{pattern} is refused"
        );
    }
    // the DL4J form the issue names: seq_0000.csv ...
    let zero = SequenceSource::Pattern {
        pattern: name(&s.path("z/seq_%04d.csv")),
        start: 1,
        end: Some(10),
    };
    let err = zero.files().unwrap_err().to_string();
    assert!(err.contains("seq_0003.csv"), "{err}");
}

#[test]
fn open_ended_patterns_read_until_the_first_missing_index() {
    let s = Scratch::new("open");
    for i in [0, 1, 2, 4] {
        s.write(&format!("seq_{i}.csv"), "1\n");
    }
    let source = SequenceSource::Pattern {
        pattern: name(&s.path("seq_%d.csv")),
        start: 0,
        end: None,
    };
    assert_eq!(
        file_names(&source.files().unwrap()),
        ["seq_0.csv", "seq_1.csv", "seq_2.csv"]
    );
    // in a file: `end` left out
    let exp = format!(
        "(data: Csv(features: Pattern(pattern: {:?}, start: 0), labels: Column(0)))",
        name(&s.path("seq_%d.csv"))
    );
    let parsed =
        seqlab::experiment::file::from_ron_str(&exp, std::path::Path::new("e.ron")).unwrap();
    let seqlab::experiment::schema::DataSpec::Csv(c) = parsed.data else {
        panic!("csv data")
    };
    assert_eq!(c.features, source);
    // on the command line: --range 0..
    let a = args(&[&name(&s.path("seq_%d.csv")), "--range", "0.."]);
    assert_eq!(config(&a).unwrap().features, source);
    // nothing at the start index: an error naming the pattern
    let none = SequenceSource::Pattern {
        pattern: name(&s.path("seq_%d.csv")),
        start: 5,
        end: None,
    };
    assert_mentions(
        &none.files().unwrap_err().to_string(),
        &["seq_%d.csv", "no sequence files"],
    );
}

#[test]
fn globs_select_one_family_in_natural_order() {
    let s = Scratch::new("glob");
    for i in [10, 2, 1] {
        s.write(&format!("train/features_{i}.csv"), format!("{i},0\n"));
        s.write(&format!("train/labels_{i}.csv"), "1\n");
    }
    let source = SequenceSource::Glob(name(&s.path("train/features_*.csv")));
    assert_eq!(
        file_names(&source.files().unwrap()),
        ["features_1.csv", "features_2.csv", "features_10.csv"]
    );
    let cli = SequenceSource::from_cli(&name(&s.path("train/features_*.csv")), None).unwrap();
    assert_eq!(cli, source);
    let a = args(&[
        &name(&s.path("train/features_*.csv")),
        "--labels",
        &name(&s.path("train/labels_*.csv")),
        "--classes",
        "2",
    ]);
    let (dataset, _) = first_batch(&a).unwrap();
    assert_eq!(dataset.len(), 3);
    assert_eq!(dataset.feature_count(), 2);
}

#[test]
fn a_directory_mixing_two_name_families_is_refused_with_both_named() {
    let s = Scratch::new("families");
    for i in 0..3 {
        s.write(&format!("d/features_{i}.csv"), "1,2\n");
        s.write(&format!("d/labels_{i}.csv"), "1\n");
    }
    let err = SequenceSource::Directory(s.path("d"))
        .files()
        .unwrap_err()
        .to_string();
    assert_mentions(
        &err,
        &[
            "mixes 2 name families",
            "features_#.csv (3 files)",
            "labels_#.csv (3 files)",
            "Glob(",
        ],
    );
    // one family (plus a stray file) is fine
    let t = Scratch::new("one-family");
    for i in 0..3 {
        t.write(&format!("d/seq_{i}.csv"), "1\n");
    }
    t.write("d/readme.txt", "notes");
    assert_eq!(
        SequenceSource::Directory(t.path("d"))
            .files()
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn range_with_a_directory_a_glob_or_a_single_file_is_refused() {
    let s = Scratch::new("range");
    let file = s.write("d/a.csv", "1\n");
    for path in [name(&s.path("d")), name(&file), name(&s.path("d/*.csv"))] {
        let err = SequenceSource::from_cli(&path, Some((0, Some(3))))
            .unwrap_err()
            .to_string();
        assert_mentions(&err, &["--range only applies to a numbered pattern"]);
        // and through `seqlab data`'s flags
        let a = args(&[&path, "--range", "0..3"]);
        assert!(config(&a).is_err(), "{path}");
    }
}

#[test]
fn label_files_take_their_own_csv_options_defaulting_to_the_features() {
    let s = Scratch::new("label-csv");
    for i in 0..2 {
        s.write(&format!("f/{i}.csv"), format!("t;x\n{i};0.5\n{i};0.25\n"));
        s.write(&format!("l/{i}.csv"), format!("{i}\n{i}\n"));
    }
    let mut c = CsvDataConfig {
        features: SequenceSource::Directory(s.path("f")),
        labels: LabelSource::Files(SequenceSource::Directory(s.path("l"))),
        csv: CsvOptions {
            skip_lines: 1,
            delimiter: seqlab::data::Delimiter::Semicolon,
        },
        task: Task::Classification { classes: 2 },
        ..CsvDataConfig::default()
    };
    // the features' header skip also drops the first label line: lengths differ
    let shared = load_csv(&c, &mut |_| {}).unwrap();
    assert_eq!(shared.examples()[0].label_steps(), 1);
    c.label_csv = Some(CsvOptions::default());
    let own = load_csv(&c, &mut |_| {}).unwrap();
    assert_eq!(own.examples()[0].label_steps(), 2);
    assert_eq!(own.examples()[0].feature_steps(), 2);
    // the command line's --label-skip / --label-delimiter
    let a = args(&[
        &name(&s.path("f")),
        "--labels",
        &name(&s.path("l")),
        "--skip",
        "1",
        "--delimiter",
        "semicolon",
        "--label-skip",
        "0",
        "--classes",
        "2",
    ]);
    assert_eq!(
        config(&a).unwrap().label_csv,
        Some(CsvOptions {
            skip_lines: 0,
            delimiter: seqlab::data::Delimiter::Semicolon,
        })
    );
    let (dataset, _) = first_batch(&a).unwrap();
    assert_eq!(dataset.examples()[1].label_steps(), 2);
}

/// Reading stops on request (Stop in the window, Ctrl-C in the REPL) after the file it
/// is on, saying how far it got; without a request, or after `with_stop` returns,
/// everything is read.
#[test]
fn reading_stops_after_the_current_file_when_asked() {
    let s = Scratch::new("stop-reading");
    for i in 0..5 {
        s.write(&format!("f/{i}.csv"), "1,0\n2,1\n");
    }
    let c = CsvDataConfig {
        features: SequenceSource::Directory(s.path("f")),
        labels: LabelSource::Column(1),
        task: Task::Classification { classes: 2 },
        ..CsvDataConfig::default()
    };
    let asked = std::rc::Rc::new(std::cell::Cell::new(0));
    let count = asked.clone();
    let stop = move || {
        count.set(count.get() + 1);
        count.get() >= 2
    };
    let err = seqlab::data::load::with_stop(stop, || load_csv(&c, &mut |_| {})).unwrap_err();
    assert_mentions(
        &err.to_string(),
        &["stopped reading", "after 2 of 5 files", "as asked"],
    );
    assert_eq!(asked.get(), 2);
    let all = load_csv(&c, &mut |_| {}).unwrap();
    assert_eq!(all.examples().len(), 5);
}
