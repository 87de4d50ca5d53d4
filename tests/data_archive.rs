//! Reading the UCR/UEA archive formats: sktime/aeon `.ts`, UCR `.tsv`/`.txt` and Weka
//! `.arff`, into the same sequences the CSV reader makes; every malformed file is an error
//! naming the file and line, and no bytes make a reader panic.

mod data_util;

use std::path::{Path, PathBuf};

use data_util::{assert_mentions, Scratch};
use ndarray::{array, Array2};
use proptest::prelude::*;
use seqlab::data::{
    detect_format, parse_archive, parse_arff, parse_ts, parse_ucr, read_archive, AlignmentMode,
    ArchiveData, ArchiveFormat, ArchiveLabels, ArchiveOptions, DataError, Missing, Task,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/archive")
        .join(name)
}

fn options(missing: Missing) -> ArchiveOptions {
    ArchiveOptions { missing }
}

fn ts(text: &str) -> Result<ArchiveData, DataError> {
    parse_ts(
        text.as_bytes(),
        Path::new("x.ts"),
        &ArchiveOptions::default(),
    )
}

fn ucr(text: &str) -> Result<ArchiveData, DataError> {
    parse_ucr(
        text.as_bytes(),
        Path::new("x.tsv"),
        &ArchiveOptions::default(),
    )
}

fn arff(text: &str) -> Result<ArchiveData, DataError> {
    parse_arff(
        text.as_bytes(),
        Path::new("x.arff"),
        &ArchiveOptions::default(),
    )
}

/// The error's message, panicking with the data if there was none.
fn message(result: Result<ArchiveData, DataError>) -> String {
    match result {
        Ok(data) => panic!("expected an error, read {data:#?}"),
        Err(e) => e.to_string(),
    }
}

fn classes(data: &ArchiveData) -> (Vec<&str>, Vec<usize>) {
    match &data.labels {
        ArchiveLabels::Classes { classes, indices } => (
            classes.iter().map(String::as_str).collect(),
            indices.clone(),
        ),
        other => panic!("expected class labels, found {other:?}"),
    }
}

fn column(values: &[f32]) -> Array2<f32> {
    Array2::from_shape_vec((values.len(), 1), values.to_vec()).unwrap()
}

const MULTIVARIATE_UNEQUAL: &str = "\
# JapaneseVowels-like: two dimensions, cases of different lengths
@problemName Vowels
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength false
@classLabel true a b c
@data
1,2,3:4,5,6:b
7,8:9,10:a
11:12:c
";

// ---- .ts ----

#[test]
fn ts_unequal_length_multivariate_reads_each_case() {
    let data = ts(MULTIVARIATE_UNEQUAL).unwrap();
    assert_eq!(data.format, ArchiveFormat::Ts);
    assert_eq!(data.problem_name.as_deref(), Some("Vowels"));
    assert_eq!(data.dimensions, 2);
    assert_eq!(data.series[0], array![[1., 4.], [2., 5.], [3., 6.]]);
    assert_eq!(data.series[1], array![[7., 9.], [8., 10.]]);
    assert_eq!(data.series[2], array![[11., 12.]]);
    assert_eq!(data.lines, vec![10, 11, 12]);
    assert_eq!(classes(&data), (vec!["a", "b", "c"], vec![1, 0, 2]));
    assert_eq!(data.class_name(0), Some("b"));
    assert_eq!(data.task(), Some(Task::Classification { classes: 3 }));
}

#[test]
fn ts_fixture_with_comments_reads_univariate_cases_of_their_own_length() {
    let data = read_archive(&fixture("tiny.ts"), &ArchiveOptions::default()).unwrap();
    assert_eq!(data.problem_name.as_deref(), Some("Tiny"));
    assert_eq!(data.dimensions, 1);
    assert_eq!(data.series[0], column(&[0.5, 1.0, 1.5, 2.0]));
    assert_eq!(data.series[2], column(&[3.0, 2.0, 1.0]));
    assert_eq!(classes(&data), (vec!["1", "2"], vec![0, 1, 0]));
    assert_eq!(
        data.raw_head.lines[0],
        "# Tiny: three univariate cases, the last one shorter (written by hand for the tests;"
    );
}

#[test]
fn ts_header_tags_and_their_values_are_read_in_any_letter_case() {
    let data = ts(
        "@PROBLEMNAME p\n@timestamps FALSE\n@Univariate True\n@classlabel TRUE x y\n@DATA\n1,2:y\n",
    )
    .unwrap();
    assert_eq!(classes(&data), (vec!["x", "y"], vec![1]));
    assert_eq!(data.series[0], column(&[1.0, 2.0]));
}

#[test]
fn ts_target_label_reads_one_regression_value_per_case() {
    let data = read_archive(&fixture("regression.ts"), &ArchiveOptions::default()).unwrap();
    assert_eq!(data.labels, ArchiveLabels::Targets(vec![0.25, 0.015]));
    assert_eq!(data.task(), Some(Task::Regression));
    let dataset = data.to_dataset().unwrap();
    assert_eq!(dataset.label_width(), 1);
    assert_eq!(dataset.examples()[1].labels, array![[0.015]]);
}

#[test]
fn ts_regression_target_that_is_not_a_number_names_the_line() {
    let m = message(ts("@targetLabel true\n@data\n1,2:0.5\n1,2:?\n"));
    assert_mentions(&m, &["x.ts:4:", "case 2", "regression target \"?\""]);
}

#[test]
fn ts_class_label_not_declared_names_file_line_and_the_declared_list() {
    let m = message(ts("@classLabel true a b\n@data\n1,2:a\n3,4:z\n"));
    assert_mentions(
        &m,
        &[
            "x.ts:4:",
            "\"z\"",
            "not declared",
            "line 1",
            "\"a\", \"b\"",
            "add it",
        ],
    );
}

#[test]
fn ts_ragged_dimensions_of_one_case_are_an_error_with_file_and_line() {
    let m = message(ts(
        "@dimensions 2\n@classLabel true a\n@data\n1,2:3,4:a\n1,2,3:4,5:a\n",
    ));
    assert_mentions(
        &m,
        &[
            "x.ts:5:",
            "case 2",
            "dimension 2 has 2 values",
            "dimension 1 has 3",
            "same length",
        ],
    );
}

#[test]
fn ts_case_with_other_dimension_count_than_declared_is_an_error() {
    let m = message(ts(
        "@dimensions 3\n@classLabel true a\n@data\n1:2:3:a\n1:2:a\n",
    ));
    assert_mentions(
        &m,
        &[
            "x.ts:5:",
            "case 2 has 2 dimensions where 3 are expected",
            "`@dimensions` at line 1",
        ],
    );
    // without a declaration, the first case sets the count
    let m = message(ts("@classLabel true a\n@data\n1:2:a\n1:2:3:a\n"));
    assert_mentions(
        &m,
        &[
            "x.ts:4:",
            "3 dimensions where 2 are expected (as in the first case, line 3)",
        ],
    );
    // univariate true with several dimensions
    let m = message(ts("@univariate true\n@classLabel true a\n@data\n1:2:a\n"));
    assert_mentions(
        &m,
        &[
            "x.ts:4:",
            "2 dimensions where 1 are expected (from `@univariate true` at line 1)",
        ],
    );
}

#[test]
fn ts_unlabelled_line_with_an_extra_field_hints_at_the_class_label_tag() {
    let m = message(ts("@dimensions 1\n@classLabel false\n@data\n1,2:a\n"));
    assert_mentions(&m, &["x.ts:4:", "declare `@classLabel true`"]);
}

#[test]
fn ts_missing_value_is_refused_with_case_dimension_and_step() {
    let text = "@dimensions 2\n@classLabel true a\n@data\n1,2:3,4:a\n1,2:3,NaN:a\n";
    match ts(text) {
        Err(DataError::MissingValue {
            path,
            line,
            case,
            dimension,
            step,
        }) => {
            assert_eq!((path, line), (PathBuf::from("x.ts"), 5));
            assert_eq!((case, dimension, step), (2, 2, 2));
        }
        other => panic!("expected a missing value error, got {other:?}"),
    }
    let m = message(ts("@classLabel true a\n@data\n?,2:a\n"));
    assert_mentions(
        &m,
        &[
            "x.ts:3:",
            "case 1, dimension 1, step 1",
            "Zero, ForwardFill or Linear",
        ],
    );
}

#[test]
fn ts_missing_values_are_filled_as_the_option_says() {
    let text = "@classLabel true a\n@data\n?,1,?,?,4,?:a\n";
    let read = |missing| {
        parse_ts(text.as_bytes(), Path::new("x.ts"), &options(missing))
            .unwrap()
            .series[0]
            .clone()
    };
    assert_eq!(read(Missing::Zero), column(&[0., 1., 0., 0., 4., 0.]));
    assert_eq!(
        read(Missing::ForwardFill),
        column(&[1., 1., 1., 1., 4., 4.])
    );
    assert_eq!(read(Missing::Linear), column(&[1., 1., 2., 3., 4., 4.]));
}

#[test]
fn ts_value_that_is_not_a_number_names_case_dimension_and_value() {
    let m = message(ts("@dimensions 2\n@classLabel true a\n@data\n1,2:3,x4:a\n"));
    assert_mentions(&m, &["x.ts:4:", "case 1, dimension 2, value 2", "\"x4\""]);
    let m = message(ts("@classLabel true a\n@data\n1,,2:a\n"));
    assert_mentions(&m, &["x.ts:3:", "value 2", "an empty value"]);
    let m = message(ts("@classLabel true a\n@data\n1,inf:a\n"));
    assert_mentions(&m, &["x.ts:3:", "\"inf\""]);
}

#[test]
fn ts_without_data_tag_is_an_error() {
    let m = message(ts("# header only\n@problemName p\n@classLabel true a\n"));
    assert_mentions(&m, &["x.ts:3:", "no `@data` line"]);
    let m = message(ts("1,2,3:a\n"));
    assert_mentions(&m, &["x.ts:1:", "expected a header tag", "`@data`"]);
}

#[test]
fn ts_empty_file_or_no_cases_is_an_error() {
    assert_mentions(&message(ts("")), &["x.ts:1:", "the file is empty"]);
    assert_mentions(&message(ts("\n\n")), &["the file is empty"]);
    let m = message(ts("@classLabel true a\n@data\n\n"));
    assert_mentions(&m, &["x.ts:3:", "no cases after `@data`"]);
}

#[test]
fn ts_equal_length_declared_but_a_case_differs_is_an_error() {
    let m = message(ts(
        "@equalLength true\n@classLabel true a\n@data\n1,2,3:a\n1,2:a\n",
    ));
    assert_mentions(
        &m,
        &[
            "x.ts:5:",
            "case 2 has 2 steps where 3 are expected (as in the first case, line 4)",
        ],
    );
    let m = message(ts(
        "@equalLength true\n@seriesLength 4\n@classLabel true a\n@data\n1,2,3:a\n",
    ));
    assert_mentions(
        &m,
        &[
            "x.ts:5:",
            "where 4 are expected (from `@seriesLength` at line 2)",
        ],
    );
}

#[test]
fn ts_bad_header_values_name_the_tag() {
    let m = message(ts("@dimensions two\n@data\n1\n"));
    assert_mentions(&m, &["x.ts:1:", "`@dimensions`", "\"two\""]);
    let m = message(ts("@univariate maybe\n@data\n1\n"));
    assert_mentions(&m, &["x.ts:1:", "`@univariate` takes `true` or `false`"]);
    let m = message(ts("@classLabel true\n@data\n1:a\n"));
    assert_mentions(&m, &["x.ts:1:", "needs the class names"]);
    let m = message(ts("@classLabel true a b a\n@data\n1:a\n"));
    assert_mentions(&m, &["x.ts:1:", "\"a\" is declared twice"]);
    let m = message(ts("@classLabel true a\n@targetLabel true\n@data\n1:a\n"));
    assert_mentions(&m, &["x.ts:1:", "not both"]);
    let m = message(ts("@classLabel true a\n@data\n1:a\n@data\n"));
    assert_mentions(&m, &["x.ts:4:", "after `@data`"]);
}

#[test]
fn ts_time_stamps_are_refused_with_a_clear_message() {
    let m = message(ts(
        "@timeStamps true\n@classLabel true 1\n@data\n(2007-01-01 00:00:00,241.97):1\n",
    ));
    assert_mentions(&m, &["x.ts:1:", "time-stamped", "not supported"]);
}

#[test]
fn ts_non_utf8_bytes_name_the_line_and_offset() {
    let bytes = b"@classLabel true a\n@data\n1,2:a\n1,\xFF:a\n";
    let e = parse_ts(bytes, Path::new("x.ts"), &ArchiveOptions::default()).unwrap_err();
    assert_mentions(
        &e.to_string(),
        &[
            "x.ts:4:",
            "invalid UTF-8 at byte offset 33",
            "save the file as UTF-8",
        ],
    );
}

#[test]
fn ts_class_label_false_reads_unlabelled_cases_that_are_no_training_data() {
    let data = ts("@classLabel false\n@data\n1,2\n3\n").unwrap();
    assert_eq!(data.labels, ArchiveLabels::None);
    assert_eq!(data.task(), None);
    assert_eq!(data.series[1], column(&[3.0]));
    let e = data.to_dataset().unwrap_err();
    assert_mentions(&e.to_string(), &["x.ts has no labels"]);
}

#[test]
fn ts_crlf_line_ends_and_spaces_around_values_are_accepted() {
    let data = ts("@classLabel true a\r\n@data\r\n 1 , 2 : a \r\n").unwrap();
    assert_eq!(data.series[0], column(&[1.0, 2.0]));
    assert_eq!(data.class_name(0), Some("a"));
}

// ---- UCR .tsv / .txt ----

#[test]
fn ucr_tsv_trailing_nan_run_ends_the_series() {
    let data = read_archive(&fixture("tiny.tsv"), &ArchiveOptions::default()).unwrap();
    assert_eq!(data.format, ArchiveFormat::Ucr);
    assert_eq!(data.series[1], column(&[-1.0, -2.0, -3.0, -4.0]));
    assert_eq!(data.series[2], column(&[3.0, 2.0, 1.0]));
    assert_eq!(classes(&data), (vec!["1", "2"], vec![0, 1, 0]));
}

#[test]
fn ucr_nan_before_the_last_value_is_a_missing_value() {
    let text = "1\t1.0\tNaN\t3.0\tNaN\tNaN\n";
    let m = message(ucr(text));
    assert_mentions(&m, &["x.tsv:1:", "case 1, dimension 1, step 2"]);
    let data = parse_ucr(
        text.as_bytes(),
        Path::new("x.tsv"),
        &options(Missing::Linear),
    )
    .unwrap();
    assert_eq!(data.series[0], column(&[1.0, 2.0, 3.0]));
}

#[test]
fn ucr_integer_labels_are_classes_sorted_by_value() {
    let data = ucr("1\t0.5\n-1\t0.25\n2\t1\n-1\t2\n").unwrap();
    assert_eq!(classes(&data), (vec!["-1", "1", "2"], vec![1, 0, 2, 0]));
}

#[test]
fn ucr_old_txt_with_spaces_and_exponent_labels_reads() {
    let text =
        "  1.0000000e+00  -6.4788540e-01  -6.4199155e-01\n  2.0000000e+00   1.0e-01   2.0e-01\n";
    let data = parse_ucr(
        text.as_bytes(),
        Path::new("Old_TRAIN.txt"),
        &ArchiveOptions::default(),
    )
    .unwrap();
    assert_eq!(classes(&data), (vec!["1", "2"], vec![0, 1]));
    assert_eq!(data.series[0], column(&[-0.6478854, -0.64199155]));
    // and the comma layout
    let data = ucr("1,0.5,0.25\n2,1,2\n").unwrap();
    assert_eq!(data.series[1], column(&[1.0, 2.0]));
}

#[test]
fn ucr_string_labels_are_kept_as_text_sorted() {
    let data = ucr("normal\t1\t2\nabnormal\t3\t4\n").unwrap();
    assert_eq!(classes(&data), (vec!["abnormal", "normal"], vec![1, 0]));
}

#[test]
fn ucr_line_of_only_nan_or_only_a_label_is_an_error() {
    assert_mentions(
        &message(ucr("1\t1\n2\tNaN\tNaN\n")),
        &["x.tsv:2:", "case 2", "no values (only NaN)"],
    );
    assert_mentions(&message(ucr("1\n")), &["x.tsv:1:", "no values"]);
    assert_mentions(
        &message(ucr("NaN\t1\t2\n")),
        &["x.tsv:1:", "no class label"],
    );
}

#[test]
fn ucr_header_line_or_text_value_names_the_field() {
    let m = message(ucr("label\tt0\tt1\n1\t2\t3\n"));
    assert_mentions(
        &m,
        &["x.tsv:1:", "value 1 (field 2)", "\"t0\"", "no header line"],
    );
}

#[test]
fn ucr_empty_file_is_an_error() {
    assert_mentions(&message(ucr("")), &["x.tsv:1:", "no series"]);
    assert_mentions(&message(ucr("\n \n")), &["x.tsv:2:", "no series"]);
}

#[test]
fn ucr_test_file_takes_the_training_class_list() {
    let train = ucr("1\t0\n2\t0\n3\t0\n").unwrap();
    let test = ucr("3\t0\n1\t0\n").unwrap();
    assert_eq!(classes(&test), (vec!["1", "3"], vec![1, 0]));
    let list = train.classes().unwrap().to_vec();
    let test = test.with_classes(&list).unwrap();
    assert_eq!(classes(&test), (vec!["1", "2", "3"], vec![2, 0]));
    let e = ucr("4\t0\n").unwrap().with_classes(&list).unwrap_err();
    assert_mentions(
        &e.to_string(),
        &["x.tsv:1:", "\"4\"", "not in the given class list"],
    );
}

// ---- ARFF ----

#[test]
fn arff_univariate_reads_numeric_attributes_and_the_nominal_class() {
    let data = read_archive(&fixture("tiny.arff"), &ArchiveOptions::default()).unwrap();
    assert_eq!(data.format, ArchiveFormat::Arff);
    assert_eq!(data.problem_name.as_deref(), Some("Tiny"));
    assert_eq!(data.series[0], column(&[0.5, 1.0, 1.5, 2.0]));
    // trailing `?` is the padding of a shorter series
    assert_eq!(data.series[2], column(&[3.0, 2.0, 1.0]));
    assert_eq!(classes(&data), (vec!["1", "2"], vec![0, 1, 0]));
    assert_eq!(data.lines, vec![11, 12, 13]);
}

#[test]
fn arff_multivariate_relational_value_splits_dimensions_at_backslash_n() {
    let data = read_archive(&fixture("motions.arff"), &ArchiveOptions::default()).unwrap();
    assert_eq!(data.problem_name.as_deref(), Some("Motions"));
    assert_eq!(data.dimensions, 2);
    assert_eq!(data.series[0], array![[0.1, 1.0], [0.2, 1.1], [0.3, 1.2]]);
    assert_eq!(classes(&data), (vec!["Standing", "Running"], vec![0, 1]));
}

#[test]
fn arff_relational_steps_missing_in_every_dimension_are_padding() {
    let text = "@relation r\n@attribute s relational\n@attribute t0 numeric\n@attribute t1 numeric\n@attribute t2 numeric\n@end s\n@attribute c {a}\n@data\n'1,?,?\\n2,3,?',a\n";
    let m = message(arff(text));
    assert_mentions(&m, &["x.arff:9:", "case 1, dimension 1, step 2"]);
    let data = parse_arff(
        text.as_bytes(),
        Path::new("x.arff"),
        &options(Missing::ForwardFill),
    )
    .unwrap();
    assert_eq!(data.series[0], array![[1., 2.], [1., 3.]]);
}

#[test]
fn arff_class_not_declared_names_the_class_attribute() {
    let m = message(arff(
        "@relation r\n@attribute a numeric\n@attribute c {x,y}\n@data\n1,x\n2,z\n",
    ));
    assert_mentions(&m, &["x.arff:6:", "\"z\"", "line 3", "\"x\", \"y\""]);
    let m = message(arff(
        "@relation r\n@attribute a numeric\n@attribute c {x,y}\n@data\n1,?\n",
    ));
    assert_mentions(&m, &["x.arff:5:", "missing target"]);
}

#[test]
fn arff_row_with_another_number_of_values_is_an_error() {
    let m = message(arff("@relation r\n@attribute a numeric\n@attribute b numeric\n@attribute c {x}\n@data\n1,2,x\n1,x\n"));
    assert_mentions(&m, &["x.arff:7:", "case 2 has 2 values but 3 attributes"]);
}

#[test]
fn arff_value_that_is_not_a_number_names_the_attribute() {
    let m = message(arff("@relation r\n@attribute a numeric\n@attribute b numeric\n@attribute c {x}\n@data\n1,two,x\n"));
    assert_mentions(
        &m,
        &["x.arff:6:", "case 1, attribute `b` (value 2)", "\"two\""],
    );
}

#[test]
fn arff_relational_cases_with_different_dimension_counts_are_an_error() {
    let head = "@relation r\n@attribute s relational\n@attribute t0 numeric\n@end s\n@attribute c {a}\n@data\n";
    let m = message(arff(&format!("{head}'1\\n2',a\n'1',a\n")));
    assert_mentions(
        &m,
        &[
            "x.arff:8:",
            "case 2 has 1 dimensions",
            "first case (line 7) has 2",
        ],
    );
    let m = message(arff(&format!("{head}'1,2',a\n")));
    assert_mentions(
        &m,
        &["x.arff:7:", "dimension 1 has 2 values", "declares 1 steps"],
    );
}

#[test]
fn arff_header_mistakes_name_their_line() {
    assert_mentions(&message(arff("")), &["x.arff:1:", "the file is empty"]);
    assert_mentions(
        &message(arff("% only\n@relation r\n@attribute a numeric\n")),
        &["x.arff:3:", "no `@data` line"],
    );
    assert_mentions(
        &message(arff(
            "@relation r\n@attribute a string\n@attribute c {x}\n@data\nq,x\n",
        )),
        &["x.arff:2:", "attribute `a` is string"],
    );
    assert_mentions(
        &message(arff(
            "@relation r\n@attribute a numeric\n@attribute c {x\n@data\n",
        )),
        &["x.arff:3:", "does not end with `}`"],
    );
    assert_mentions(
        &message(arff(
            "@relation r\n@attribute s relational\n@attribute t numeric\n@data\n",
        )),
        &["x.arff:4:", "has no `@end s`"],
    );
    assert_mentions(
        &message(arff("@relation r\n@attribute c {x}\n@data\nx\n")),
        &["x.arff:2:", "the only attribute"],
    );
    assert_mentions(
        &message(arff(
            "@relation r\n@attribute a numeric\n@attribute c {x}\n@data\n{0 1.5, 1 x}\n",
        )),
        &["x.arff:5:", "sparse rows"],
    );
    assert_mentions(
        &message(arff(
            "@relation r\n@attribute a numeric\n@attribute c {x}\n@data\n'1,x\n",
        )),
        &["x.arff:5:", "not closed"],
    );
}

#[test]
fn arff_numeric_last_attribute_is_a_regression_target() {
    let data = arff("@RELATION r\n@ATTRIBUTE 'a 0' REAL\n@attribute a1 numeric\n@attribute y numeric\n@DATA\n1,2,0.5\n").unwrap();
    assert_eq!(data.labels, ArchiveLabels::Targets(vec![0.5]));
    assert_eq!(data.series[0], column(&[1.0, 2.0]));
}

// ---- one data set in three formats ----

#[test]
fn the_same_cases_read_alike_from_ts_tsv_and_arff() {
    let read = |name| read_archive(&fixture(name), &ArchiveOptions::default()).unwrap();
    let (t, u, a) = (read("tiny.ts"), read("tiny.tsv"), read("tiny.arff"));
    assert_eq!(t.series, u.series);
    assert_eq!(t.series, a.series);
    assert_eq!(t.labels, u.labels);
    assert_eq!(t.labels, a.labels);
    let (t, a) = (read("motions.ts"), read("motions.arff"));
    assert_eq!(t.series, a.series);
    assert_eq!(t.labels, a.labels);
}

// ---- detection ----

#[test]
fn detect_format_reads_the_content_before_the_extension() {
    let ts = b"# comment\n@problemName p\n@data\n";
    assert_eq!(
        detect_format(Path::new("a.txt"), ts),
        Some(ArchiveFormat::Ts)
    );
    assert_eq!(
        detect_format(Path::new("a"), b"\n@ClassLabel true a\n"),
        Some(ArchiveFormat::Ts)
    );
    let arff = b"% comment\n@RELATION x\n";
    assert_eq!(
        detect_format(Path::new("a.csv"), arff),
        Some(ArchiveFormat::Arff)
    );
    assert_eq!(
        detect_format(Path::new("a.TS"), b"1,2:a\n"),
        Some(ArchiveFormat::Ts)
    );
    assert_eq!(
        detect_format(Path::new("a.arff"), b""),
        Some(ArchiveFormat::Arff)
    );
    assert_eq!(
        detect_format(Path::new("G_TRAIN.tsv"), b"1\t0.5\n"),
        Some(ArchiveFormat::Ucr)
    );
    assert_eq!(
        detect_format(Path::new("G_TRAIN.txt"), b"1 0.5\n"),
        Some(ArchiveFormat::Ucr)
    );
}

#[test]
fn detect_format_is_none_for_plain_csv() {
    assert_eq!(
        detect_format(Path::new("walk_0.csv"), b"1,2,3\n4,5,6\n"),
        None
    );
    assert_eq!(detect_format(Path::new("walk_0.csv"), b"a;b\n1;2\n"), None);
    assert_eq!(detect_format(Path::new("noext"), b"1,2\n"), None);
    // Monash's forecasting format: `#` comments, then `@relation`
    let tsf = b"# Dataset Information\n@relation M1\n@attribute series_name string\n";
    assert_eq!(detect_format(Path::new("m1.tsf"), tsf), None);
}

#[test]
fn read_archive_refuses_a_csv_file_and_names_it() {
    let scratch = Scratch::new("archive-csv");
    let path = scratch.write("walk_0.csv", "1,2\n");
    let e = read_archive(&path, &ArchiveOptions::default()).unwrap_err();
    assert_mentions(
        &e.to_string(),
        &[
            &path.display().to_string(),
            "not a UCR/UEA archive file",
            "data: Csv",
        ],
    );
    let e = read_archive(&scratch.path("none.ts"), &ArchiveOptions::default()).unwrap_err();
    assert_mentions(&e.to_string(), &["none.ts", "cannot read"]);
}

// ---- into the sequence pipeline ----

#[test]
fn archive_cases_batch_and_preview_like_csv_sequences() {
    let data = ts(MULTIVARIATE_UNEQUAL).unwrap();
    let dataset = data.to_dataset().unwrap();
    assert_eq!(dataset.len(), 3);
    assert_eq!(dataset.feature_count(), 2);
    assert_eq!(dataset.task(), Task::Classification { classes: 3 });
    // many-to-one: one one-hot label step per case
    assert_eq!(dataset.examples()[0].labels, array![[0., 1., 0.]]);
    assert_eq!(
        dataset.examples()[0].source.as_deref(),
        Some(Path::new("x.ts"))
    );
    assert!(dataset.check_alignment(AlignmentMode::EqualLength).is_err());
    let batch = dataset
        .batches(AlignmentMode::AlignEnd, 3, None, 0)
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(batch.features.dim(), (3, 3, 2));
    let mask = batch.feature_mask.expect("lengths differ");
    assert_eq!(mask.column(1).to_vec(), vec![1., 1., 0.]);
    // the label sits on each case's last real step
    let label_mask = batch.label_mask.expect("one label step");
    assert_eq!(label_mask.column(2).to_vec(), vec![1., 0., 0.]);
    let preview = dataset.preview(AlignmentMode::AlignStart, 2);
    assert_eq!(preview.stats.max_length, 3);
    assert_eq!(
        preview.raw_heads[0].lines[0],
        MULTIVARIATE_UNEQUAL.lines().next().unwrap()
    );
}

// ---- no input panics ----

/// `pieces` chosen at random (with now and then any byte) and joined.
fn joined(
    pieces: Vec<&'static str>,
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            12 => prop::sample::select(pieces).prop_map(|p| p.as_bytes().to_vec()),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ],
        len,
    )
    .prop_map(|parts| parts.concat())
}

/// A value as archive files write them, now and then a bad one.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (-3i32..3).prop_map(|v| v.to_string()),
        2 => prop::sample::select(vec!["2.5", "?", "NaN"]).prop_map(String::from),
        1 => prop::sample::select(vec!["", "x", "1e40", " 1 ", "("]).prop_map(String::from),
    ]
}

/// Rows of `row`, one per line, with now and then a stray byte.
fn rows(row: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(row, 0..5),
        prop::option::weighted(0.2, (any::<prop::sample::Index>(), any::<u8>())),
    )
        .prop_map(|(rows, stray)| {
            let mut bytes = rows.join("\n").into_bytes();
            if let Some((at, byte)) = stray {
                let at = at.index(bytes.len() + 1);
                bytes.insert(at, byte);
            }
            bytes
        })
}

/// A header of `.ts` tags, usually `@data`, then cases of 1 to 3 dimensions with a
/// label or not, so that the parser gets past the header and reads cases often.
fn ts_like() -> impl Strategy<Value = Vec<u8>> {
    let tags = vec![
        "@classLabel true a b\n",
        "@classLabel false\n",
        "@targetLabel true\n",
        "@dimensions 2\n",
        "@univariate true\n",
        "@univariate false\n",
        "@equalLength true\n",
        "@seriesLength 2\n",
        "@problemName p\n",
        "@timeStamps false\n",
        "# c\n",
    ];
    let case = (
        prop::collection::vec(prop::collection::vec(value(), 1..4), 1..4),
        prop::sample::select(vec!["", ":a", ":b", ":0.5", ":?"]),
    )
        .prop_map(|(dims, label)| {
            let dims: Vec<String> = dims.iter().map(|d| d.join(",")).collect();
            format!("{}{label}", dims.join(":"))
        });
    (joined(tags, 0..5), prop::bool::weighted(0.9), rows(case)).prop_map(|(head, data, body)| {
        [head, if data { b"@data\n".to_vec() } else { vec![] }, body].concat()
    })
}

/// An ARFF file, univariate (numeric attributes) or multivariate (a relational one),
/// with a class attribute, usually `@data`, then rows that mostly fit the header.
fn arff_like() -> impl Strategy<Value = Vec<u8>> {
    let class = || prop::sample::select(vec!["a", "b", "'a'", "?", "z"]);
    let univariate = (1usize..4).prop_flat_map(move |n| {
        let head: String = (0..n)
            .map(|k| format!("@attribute a{k} numeric\n"))
            .collect();
        let row = (prop::collection::vec(value(), n - 1..n + 1), class())
            .prop_map(|(values, class)| format!("{},{class}", values.join(",")));
        (Just(head), rows(row))
    });
    let multivariate = {
        let head = "@attribute s relational\n@attribute t0 numeric\n@attribute t1 numeric\n\
                    @end s\n"
            .to_string();
        let dims = prop::collection::vec(prop::collection::vec(value(), 1..4), 1..3);
        let row = (dims, class()).prop_map(|(dims, class)| {
            let dims: Vec<String> = dims.iter().map(|d| d.join(",")).collect();
            format!("'{}',{class}", dims.join("\\n"))
        });
        (Just(head), rows(row))
    };
    (
        prop_oneof![univariate, multivariate],
        prop::bool::weighted(0.9),
    )
        .prop_map(|((head, body), data)| {
            let data = if data { "@data\n" } else { "" };
            [
                format!("@relation r\n{head}@attribute c {{a,b}}\n{data}").into_bytes(),
                body,
            ]
            .concat()
        })
}

/// Rows of a UCR file: a label, then values separated by tabs, commas or spaces.
fn ucr_like() -> impl Strategy<Value = Vec<u8>> {
    let row = (
        prop::sample::select(vec!["1", "-1", "a", "NaN"]),
        prop::sample::select(vec!["\t", ",", " "]),
        prop::collection::vec(value(), 0..5),
    )
        .prop_map(|(label, sep, values)| format!("{label}{sep}{}", values.join(sep)));
    rows(row)
}

fn missing_mode() -> impl Strategy<Value = Missing> {
    prop::sample::select(vec![
        Missing::Refuse,
        Missing::Zero,
        Missing::ForwardFill,
        Missing::Linear,
    ])
}

fn check_read(bytes: &[u8], missing: Missing) {
    let path = Path::new("fuzz.ts");
    let _ = detect_format(path, bytes);
    for format in [ArchiveFormat::Ts, ArchiveFormat::Ucr, ArchiveFormat::Arff] {
        let Ok(data) = parse_archive(bytes, path, format, &options(missing)) else {
            continue;
        };
        assert!(!data.is_empty());
        assert_eq!(data.lines.len(), data.len());
        for series in &data.series {
            assert!(series.nrows() > 0);
            assert_eq!(series.ncols(), data.dimensions);
            assert!(series.iter().all(|v| v.is_finite()), "{series:?}");
        }
        if let Ok(dataset) = data.to_dataset() {
            let _ = dataset.preview(AlignmentMode::AlignEnd, 2);
            for batch in dataset
                .batches(AlignmentMode::AlignStart, 2, None, 0)
                .unwrap()
            {
                assert_eq!(batch.feature_count(), data.dimensions);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn archive_readers_never_panic_on_arbitrary_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        missing in missing_mode(),
    ) {
        check_read(&bytes, missing);
    }

    #[test]
    fn archive_readers_never_panic_on_archive_like_bytes(
        bytes in prop_oneof![ts_like(), arff_like(), ucr_like()],
        missing in missing_mode(),
    ) {
        check_read(&bytes, missing);
    }
}
