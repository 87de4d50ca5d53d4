//! Bad input gives an error value whose message names the file, the line and column, what
//! was found, and what to do.

mod data_util;

use data_util::{assert_mentions, classification, load_err, name, Scratch};
use seqlab::data::{
    AlignmentMode, CsvDataConfig, CsvOptions, DataError, Delimiter, LabelSource, SequenceSource,
    Task,
};

fn single(scratch: &Scratch, text: &str) -> (CsvDataConfig, String) {
    let path = scratch.write("s.csv", text);
    let config = CsvDataConfig {
        features: SequenceSource::Files(vec![path.clone()]),
        ..Default::default()
    };
    (config, name(&path))
}

#[test]
fn non_numeric_field_names_file_line_column_and_text() {
    let scratch = Scratch::new("non-numeric");
    let (config, path) = single(&scratch, "1,2,3\n4,abc,6\n");
    let message = load_err(&config);
    assert_mentions(
        &message,
        &[
            &format!("{path}:2:2:"),
            "expected a number",
            "\"abc\"",
            "skip_lines",
        ],
    );
}

#[test]
fn a_header_without_skip_lines_is_reported_as_non_numeric_at_line_one() {
    let scratch = Scratch::new("header");
    let (config, path) = single(&scratch, "x,y\n1,2\n");
    assert_mentions(&load_err(&config), &[&format!("{path}:1:1:"), "\"x\""]);
}

#[test]
fn line_numbers_count_skipped_and_blank_lines() {
    let scratch = Scratch::new("line-numbers");
    let (mut config, path) = single(&scratch, "header\n\n1,2\n\n3,?\n");
    config.csv.skip_lines = 1;
    assert_mentions(&load_err(&config), &[&format!("{path}:5:2:"), "\"?\""]);
}

#[test]
fn empty_field_and_non_finite_values_are_non_numeric() {
    let scratch = Scratch::new("empty-field");
    let (config, path) = single(&scratch, "1,,3\n");
    assert_mentions(&load_err(&config), &[&format!("{path}:1:2:"), "found \"\""]);
    let (config, path) = single(&scratch, "1,NaN\n");
    assert_mentions(&load_err(&config), &[&format!("{path}:1:2:"), "\"NaN\""]);
}

#[test]
fn ragged_row_names_expected_and_found_columns() {
    let scratch = Scratch::new("ragged");
    let (config, path) = single(&scratch, "1,2,3\n4,5\n");
    assert_mentions(
        &load_err(&config),
        &[
            &format!("{path}:2:"),
            "expected 3 columns (as in line 1), found 2",
            "delimiter",
        ],
    );
}

#[test]
fn wrong_delimiter_shows_up_as_a_non_numeric_field() {
    let scratch = Scratch::new("wrong-delim");
    let (mut config, path) = single(&scratch, "1;2\n3;4\n");
    config.csv.delimiter = Delimiter::Comma;
    assert_mentions(&load_err(&config), &[&format!("{path}:1:1:"), "\"1;2\""]);
}

#[test]
fn empty_file_is_a_sequence_with_zero_steps() {
    let scratch = Scratch::new("empty");
    let (config, path) = single(&scratch, "");
    assert_mentions(
        &load_err(&config),
        &[
            &path,
            "no data rows after skipping 0 line(s)",
            "at least one step",
        ],
    );
}

#[test]
fn header_only_file_is_empty_after_skipping() {
    let scratch = Scratch::new("header-only");
    let (mut config, path) = single(&scratch, "a,b\n\n");
    config.csv = CsvOptions {
        skip_lines: 1,
        delimiter: Delimiter::Comma,
    };
    assert_mentions(&load_err(&config), &[&path, "after skipping 1 line(s)"]);
}

#[test]
fn empty_label_file_is_reported() {
    let scratch = Scratch::new("empty-labels");
    let config = scratch.pairs(&[("1\n", "1\n"), ("2\n", "\n\n")]);
    assert_mentions(
        &load_err(&config),
        &[&name(&scratch.path("labels/1.csv")), "no data rows"],
    );
}

#[test]
fn missing_numbered_file_names_its_index_and_path() {
    let scratch = Scratch::new("missing");
    scratch.write("seq_0.csv", "1\n");
    scratch.write("seq_2.csv", "1\n");
    let pattern = name(&scratch.path("seq_%d.csv"));
    let config = CsvDataConfig {
        features: SequenceSource::Pattern {
            pattern: pattern.clone(),
            start: 0,
            end: Some(2),
        },
        ..Default::default()
    };
    assert_mentions(
        &load_err(&config),
        &[
            &name(&scratch.path("seq_1.csv")),
            "file 1 of pattern",
            &pattern,
            "range 0..2",
            "does not exist",
        ],
    );
}

#[test]
fn feature_and_label_file_counts_must_match() {
    let scratch = Scratch::new("counts");
    let config = scratch.pairs(&[("1\n", "0\n"), ("2\n", "0\n")]);
    scratch.write("labels/2.csv", "0\n");
    assert_mentions(
        &load_err(&config),
        &["2 feature files", "3 label files", "paired by position"],
    );
}

#[test]
fn label_out_of_range_names_file_line_and_class_count() {
    let scratch = Scratch::new("label-range");
    let mut config = scratch.pairs(&[("1\n2\n", "0\n3\n")]);
    config.task = classification(3);
    assert_mentions(
        &load_err(&config),
        &[
            &format!("{}:2:1:", name(&scratch.path("labels/0.csv"))),
            "class label 3 is out of range for 3 classes",
            "0..=2",
        ],
    );
}

#[test]
fn negative_label_in_a_label_column_is_out_of_range_at_that_column() {
    let scratch = Scratch::new("label-neg");
    let (mut config, path) = single(&scratch, "1,0\n2,-1\n");
    config.task = classification(2);
    assert_mentions(
        &load_err(&config),
        &[&format!("{path}:2:2:"), "class label -1"],
    );
}

#[test]
fn fractional_class_label_is_not_a_class_index() {
    let scratch = Scratch::new("label-frac");
    let (mut config, path) = single(&scratch, "1,0.5\n");
    config.task = classification(2);
    assert_mentions(
        &load_err(&config),
        &[&format!("{path}:1:2:"), "\"0.5\" is not a whole number"],
    );
}

#[test]
fn unreadable_file_is_named() {
    let scratch = Scratch::new("unreadable");
    let path = scratch.path("nope.csv");
    let config = CsvDataConfig {
        features: SequenceSource::Files(vec![path.clone()]),
        ..Default::default()
    };
    assert_mentions(&load_err(&config), &["cannot read", &name(&path)]);
    let dir = CsvDataConfig {
        features: SequenceSource::Directory(scratch.path("no-such-dir")),
        ..Default::default()
    };
    assert_mentions(&load_err(&dir), &["cannot read", "no-such-dir"]);
}

#[test]
fn empty_directory_has_no_files() {
    let scratch = Scratch::new("empty-dir");
    std::fs::create_dir_all(scratch.path("d")).unwrap();
    let config = CsvDataConfig {
        features: SequenceSource::Directory(scratch.path("d")),
        ..Default::default()
    };
    assert_mentions(&load_err(&config), &["no sequence files found"]);
}

#[test]
fn files_with_different_column_counts_are_named() {
    let scratch = Scratch::new("columns");
    let config = scratch.pairs(&[("1,2\n", "0\n"), ("1,2,3\n", "0\n")]);
    assert_mentions(
        &load_err(&config),
        &[
            &format!("{} has 3 columns", name(&scratch.path("features/1.csv"))),
            &format!("{} has 2", name(&scratch.path("features/0.csv"))),
            "every feature file",
        ],
    );
}

#[test]
fn label_column_out_of_range_is_named() {
    let scratch = Scratch::new("label-col");
    let (mut config, path) = single(&scratch, "1,2\n");
    config.labels = LabelSource::Column(-3);
    assert_mentions(
        &load_err(&config),
        &[
            &path,
            "label column -3 does not exist in a file with 2 columns",
        ],
    );
    config.labels = LabelSource::Column(2);
    assert_mentions(&load_err(&config), &["label column 2 does not exist"]);
}

#[test]
fn a_lone_label_column_leaves_no_features() {
    let scratch = Scratch::new("lone");
    let (config, path) = single(&scratch, "1\n2\n");
    assert_mentions(&load_err(&config), &[&path, "no feature columns are left"]);
}

#[test]
fn classification_needs_exactly_one_label_column() {
    let scratch = Scratch::new("two-labels");
    let mut config = scratch.pairs(&[("1\n", "0,1\n")]);
    config.task = classification(2);
    assert_mentions(
        &load_err(&config),
        &[
            &name(&scratch.path("labels/0.csv")),
            "exactly one column",
            "found 2",
        ],
    );
}

#[test]
fn zero_classes_is_an_invalid_option() {
    let scratch = Scratch::new("zero-classes");
    let (mut config, _) = single(&scratch, "1,0\n");
    config.task = Task::Classification { classes: 0 };
    assert_mentions(&load_err(&config), &["`classes`", "at least 1 class"]);
}

#[test]
fn bad_patterns_and_ranges_say_how_to_write_them() {
    let scratch = Scratch::new("bad-pattern");
    let no_placeholder = CsvDataConfig {
        features: SequenceSource::Pattern {
            pattern: name(&scratch.path("seq.csv")),
            start: 0,
            end: Some(1),
        },
        ..Default::default()
    };
    assert_mentions(
        &load_err(&no_placeholder),
        &["has no number placeholder", "%0Nd"],
    );
    let reversed = CsvDataConfig {
        features: SequenceSource::Pattern {
            pattern: name(&scratch.path("seq_%d.csv")),
            start: 5,
            end: Some(1),
        },
        ..Default::default()
    };
    assert_mentions(
        &load_err(&reversed),
        &["start 5 is after end 1", "inclusive"],
    );
    let err = SequenceSource::from_cli("dir/seq_%d.csv", None).unwrap_err();
    assert_mentions(&err.to_string(), &["numbered pattern", "--range 0..9"]);
}

#[test]
fn unknown_delimiter_and_alignment_names_list_the_choices() {
    let err = "pipe".parse::<Delimiter>().unwrap_err();
    assert_mentions(
        &err.to_string(),
        &["\"pipe\"", "comma, semicolon, tab or whitespace"],
    );
    let err = "middle".parse::<AlignmentMode>().unwrap_err();
    assert_mentions(&err.to_string(), &["\"middle\"", "equal, start or end"]);
    assert_eq!(
        "ALIGN_END".parse::<AlignmentMode>().unwrap(),
        AlignmentMode::AlignEnd
    );
}

#[test]
fn errors_are_values_of_the_data_error_type() {
    let scratch = Scratch::new("typed");
    let (config, _) = single(&scratch, "1,x\n");
    let err = data_util::load(&config).unwrap_err();
    assert!(
        matches!(err, DataError::NonNumeric { line: 1, column: 2, ref text, .. } if text == "x"),
        "{err:?}"
    );
}
