//! `seqlab data`: flags parse into the same config an experiment holds, `--json` prints
//! the first minibatch example-major, errors print `{"error": ...}` and fail.

mod data_util;

use clap::Parser;
use data_util::{assert_mentions, Scratch};
use seqlab::cli::data::{config, error_json, first_batch, render, run, DataArgs};
use seqlab::data::{AlignmentMode, Delimiter, LabelSource, SequenceSource, Task};
use serde_json::{json, Value};

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

#[test]
fn flags_become_the_experiment_config() {
    let a = args(&[
        "d/f_%d.csv",
        "--labels",
        "d/l_%d.csv",
        "--range",
        "2..=5",
        "--skip",
        "1",
        "--delimiter",
        "tab",
        "--classes",
        "3",
        "--align",
        "end",
        "--batch",
        "7",
    ]);
    let c = config(&a).unwrap();
    assert_eq!(
        c.features,
        SequenceSource::Pattern {
            pattern: "d/f_%d.csv".into(),
            start: 2,
            end: Some(5)
        }
    );
    assert_eq!(
        c.labels,
        LabelSource::Files(SequenceSource::Pattern {
            pattern: "d/l_%d.csv".into(),
            start: 2,
            end: Some(5)
        })
    );
    assert_eq!((c.csv.skip_lines, c.csv.delimiter), (1, Delimiter::Tab));
    assert_eq!(c.task, Task::Classification { classes: 3 });
    assert_eq!(c.alignment, AlignmentMode::AlignEnd);
    assert_eq!(a.batch, 7);

    let a = args(&["one.csv", "--label-column", "-2", "--regression"]);
    let c = config(&a).unwrap();
    assert_eq!(c.labels, LabelSource::Column(-2));
    assert_eq!(c.task, Task::Regression);
    assert_eq!(c.alignment, AlignmentMode::EqualLength, "DL4J's default");
    assert_eq!(c.features, SequenceSource::Files(vec!["one.csv".into()]));
}

#[test]
fn conflicting_or_malformed_flags_are_rejected_by_the_parser() {
    let parse =
        |argv: &[&str]| Cli::try_parse_from(std::iter::once("data").chain(argv.iter().copied()));
    assert!(parse(&["f.csv", "--classes", "2", "--regression"]).is_err());
    assert!(parse(&["f.csv", "--labels", "l.csv", "--label-column", "0"]).is_err());
    assert!(parse(&["f.csv", "--range", "3"]).is_err());
    assert!(parse(&["f.csv", "--batch", "0"]).is_err());
    assert!(parse(&["f.csv", "--align", "middle"]).is_err());
    assert!(parse(&["f.csv", "--delimiter", "pipe"]).is_err());
}

#[test]
fn json_prints_the_aligned_first_minibatch_example_major() {
    let scratch = Scratch::new("cli-json");
    scratch.write("f/0.csv", "1,2\n3,4\n5,6\n");
    scratch.write("f/1.csv", "7,8\n");
    scratch.write("l/0.csv", "1\n");
    scratch.write("l/1.csv", "0\n");
    let f = scratch.path("f/%d.csv").display().to_string();
    let l = scratch.path("l/%d.csv").display().to_string();
    let a = args(&[
        &f,
        "--labels",
        &l,
        "--range",
        "0..1",
        "--classes",
        "2",
        "--align",
        "end",
        "--json",
    ]);
    let out: Value = serde_json::from_str(&render(&a).unwrap()).unwrap();
    assert_eq!(
        out,
        json!({
            "features": [
                [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]],
                [[7.0, 8.0], [0.0, 0.0], [0.0, 0.0]]
            ],
            "labels": [
                [[0.0, 0.0], [0.0, 0.0], [0.0, 1.0]],
                [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]
            ],
            "feature_mask": [[1, 1, 1], [1, 0, 0]],
            "label_mask": [[0, 0, 1], [1, 0, 0]],
            "lengths": {"features": [3, 1], "labels": [1, 1]}
        })
    );
    assert!(run(&a).is_ok());
}

#[test]
fn json_masks_are_null_when_all_ones() {
    let scratch = Scratch::new("cli-null");
    let file = scratch.write("s.csv", "1,0.5\n2,0.25\n");
    let a = args(&[&file.display().to_string(), "--json"]);
    let out: Value = serde_json::from_str(&render(&a).unwrap()).unwrap();
    assert_eq!(out["feature_mask"], Value::Null);
    assert_eq!(out["label_mask"], Value::Null);
    assert_eq!(out["features"], json!([[[1.0], [2.0]]]));
    assert_eq!(out["labels"], json!([[[0.5], [0.25]]]));
}

#[test]
fn batch_limits_the_examples_shown() {
    let scratch = Scratch::new("cli-batch");
    for i in 0..5 {
        scratch.write(&format!("d/{i}.csv"), format!("{i},{i}\n"));
    }
    let a = args(&[&scratch.path("d").display().to_string(), "--batch", "3"]);
    let (data, batch) = first_batch(&a).unwrap();
    assert_eq!(data.len(), 5);
    assert_eq!(batch.batch_size(), 3);
}

#[test]
fn errors_become_a_json_object_and_a_failure() {
    let scratch = Scratch::new("cli-error");
    scratch.write("d/0.csv", "1,2\n3,4\n");
    scratch.write("d/1.csv", "5,6\n");
    let a = args(&[&scratch.path("d").display().to_string(), "--json"]);
    let err = render(&a).unwrap_err();
    let out: Value = serde_json::from_str(&error_json(&err)).unwrap();
    let message = out["error"].as_str().unwrap();
    assert_mentions(message, &["d/1.csv", "ALIGN_START or ALIGN_END"]);
    assert_eq!(out.as_object().unwrap().len(), 1);
    assert!(run(&a).is_err(), "the binary exits non-zero");
}

#[test]
fn the_grid_shows_values_masks_and_padding() {
    let scratch = Scratch::new("cli-grid");
    scratch.write("f/0.csv", "1.5\n2.5\n");
    scratch.write("f/1.csv", "3.5\n");
    scratch.write("l/0.csv", "2\n");
    scratch.write("l/1.csv", "0\n");
    let a = args(&[
        &scratch.path("f").display().to_string(),
        "--labels",
        &scratch.path("l").display().to_string(),
        "--classes",
        "3",
        "--align",
        "end",
    ]);
    let grid = render(&a).unwrap();
    assert_mentions(
        &grid,
        &[
            "2 sequences, 1 features, 3 label columns; classification, 3 classes",
            "alignment ALIGN_END",
            "B=2, T=2",
            "example 1:",
            "(features: 1 step, labels: 1 step)",
            "1.5000",
        ],
    );
    // example 1, step 1 is padding on both sides
    let last = grid.lines().last().unwrap();
    assert_eq!(
        last.split_whitespace().collect::<Vec<_>>(),
        ["1", "|", ".", "|", "0", "|", ".", ".", ".", "|", "0"]
    );
}
