//! Alignment modes on small hand-written files, array by array: features, labels and
//! masks of the first minibatch, time-major `(T, B, ·)` and `(T, B)`.

mod data_util;

use data_util::{assert_mentions, classification, load, Scratch};
use ndarray::{array, Array2, Array3};
use seqlab::data::{AlignmentMode, LabelSource, SeqBatch, SequenceDataset, SequenceSource, Task};

fn first_batch(data: &SequenceDataset, mode: AlignmentMode, batch: usize) -> SeqBatch {
    data.batches(mode, batch, None, 0).unwrap().next().unwrap()
}

fn assert_batch(
    batch: &SeqBatch,
    features: Array3<f32>,
    labels: Array3<f32>,
    feature_mask: Option<Array2<f32>>,
    label_mask: Option<Array2<f32>>,
) {
    assert_eq!(batch.features, features, "features (T, B, F)");
    assert_eq!(batch.labels, labels, "labels (T, B, L)");
    assert_eq!(batch.feature_mask, feature_mask, "feature mask (T, B)");
    assert_eq!(batch.label_mask, label_mask, "label mask (T, B)");
}

/// Many-to-one, 3 classes: a 3-step and a 2-step sequence with one label line each.
fn many_to_one(scratch: &Scratch) -> SequenceDataset {
    let mut config = scratch.pairs(&[("1\n2\n3\n", "2\n"), ("4\n5\n", "0\n")]);
    config.task = classification(3);
    load(&config).unwrap()
}

/// One-to-many, regression: one feature line (2 features) and 3 or 2 label lines.
fn one_to_many(scratch: &Scratch) -> SequenceDataset {
    let config = scratch.pairs(&[("7,8\n", "1\n2\n3\n"), ("9,10\n", "4\n5\n")]);
    load(&config).unwrap()
}

/// Many-to-many, 2 classes: lengths 3 and 2, labels in separate files.
fn variable_many_to_many(scratch: &Scratch) -> SequenceDataset {
    let mut config = scratch.pairs(&[
        ("1,10\n2,20\n3,30\n", "0\n1\n1\n"),
        ("4,40\n5,50\n", "1\n0\n"),
    ]);
    config.task = classification(2);
    load(&config).unwrap()
}

#[test]
fn equal_length_has_no_masks() {
    let scratch = Scratch::new("equal");
    let mut config = scratch.pairs(&[("1,2\n3,4\n", "0\n1\n"), ("5,6\n7,8\n", "1\n1\n")]);
    config.task = classification(2);
    let data = load(&config).unwrap();
    let batch = first_batch(&data, AlignmentMode::EqualLength, 2);
    assert_batch(
        &batch,
        array![[[1., 2.], [5., 6.]], [[3., 4.], [7., 8.]]],
        array![[[1., 0.], [0., 1.]], [[0., 1.], [0., 1.]]],
        None,
        None,
    );
}

#[test]
fn equal_length_rejects_different_lengths_naming_the_first_mismatch() {
    let scratch = Scratch::new("equal-mismatch");
    let data = variable_many_to_many(&scratch);
    let err = data
        .batches(AlignmentMode::EqualLength, 2, None, 0)
        .unwrap_err();
    assert_mentions(
        &err.to_string(),
        &[
            &scratch.path("features/1.csv").display().to_string(),
            "2 steps but the first sequence",
            "features/0.csv",
            "has 3",
            "ALIGN_START or ALIGN_END",
        ],
    );
}

#[test]
fn equal_length_rejects_many_to_one() {
    let scratch = Scratch::new("equal-m2o");
    let data = many_to_one(&scratch);
    let err = data
        .check_alignment(AlignmentMode::EqualLength)
        .unwrap_err();
    assert_mentions(
        &err.to_string(),
        &[
            "features/0.csv",
            "3 feature steps but 1 label steps",
            "ALIGN_END",
        ],
    );
}

#[test]
fn align_start_pads_variable_lengths_after_the_end() {
    let scratch = Scratch::new("start-var");
    let data = variable_many_to_many(&scratch);
    let batch = first_batch(&data, AlignmentMode::AlignStart, 2);
    let mask = array![[1., 1.], [1., 1.], [1., 0.]];
    assert_batch(
        &batch,
        array![
            [[1., 10.], [4., 40.]],
            [[2., 20.], [5., 50.]],
            [[3., 30.], [0., 0.]]
        ],
        array![
            [[1., 0.], [0., 1.]],
            [[0., 1.], [1., 0.]],
            [[0., 1.], [0., 0.]]
        ],
        Some(mask.clone()),
        Some(mask),
    );
    assert_eq!(batch.feature_lengths(), vec![3, 2]);
    assert_eq!(batch.label_lengths(), vec![3, 2]);
}

#[test]
fn align_end_equals_align_start_when_features_and_labels_have_equal_lengths() {
    // per example the parts already end together; padding goes after the shorter example
    let scratch = Scratch::new("end-var");
    let data = variable_many_to_many(&scratch);
    assert_eq!(
        first_batch(&data, AlignmentMode::AlignEnd, 2),
        first_batch(&data, AlignmentMode::AlignStart, 2)
    );
}

#[test]
fn align_end_puts_the_single_label_at_the_last_feature_step() {
    let scratch = Scratch::new("end-m2o");
    let data = many_to_one(&scratch);
    let batch = first_batch(&data, AlignmentMode::AlignEnd, 2);
    assert_batch(
        &batch,
        array![[[1.], [4.]], [[2.], [5.]], [[3.], [0.]]],
        array![
            [[0., 0., 0.], [0., 0., 0.]],
            [[0., 0., 0.], [1., 0., 0.]],
            [[0., 0., 1.], [0., 0., 0.]]
        ],
        Some(array![[1., 1.], [1., 1.], [1., 0.]]),
        Some(array![[0., 0.], [0., 1.], [1., 0.]]),
    );
    assert_eq!(batch.last_feature_steps(), vec![2, 1]);
    assert_eq!(batch.last_label_steps(), vec![2, 1]);
    assert_eq!(
        batch.last_step_labels(),
        array![[[0., 0., 1.], [1., 0., 0.]]]
    );
}

#[test]
fn align_start_puts_the_single_label_at_step_zero() {
    let scratch = Scratch::new("start-m2o");
    let data = many_to_one(&scratch);
    let batch = first_batch(&data, AlignmentMode::AlignStart, 2);
    assert_batch(
        &batch,
        array![[[1.], [4.]], [[2.], [5.]], [[3.], [0.]]],
        array![
            [[0., 0., 1.], [1., 0., 0.]],
            [[0., 0., 0.], [0., 0., 0.]],
            [[0., 0., 0.], [0., 0., 0.]]
        ],
        Some(array![[1., 1.], [1., 1.], [1., 0.]]),
        Some(array![[1., 1.], [0., 0.], [0., 0.]]),
    );
    assert_eq!(
        batch.last_step_labels(),
        array![[[0., 0., 1.], [1., 0., 0.]]]
    );
}

#[test]
fn align_end_puts_the_single_input_at_the_last_label_step() {
    let scratch = Scratch::new("end-o2m");
    let data = one_to_many(&scratch);
    let batch = first_batch(&data, AlignmentMode::AlignEnd, 2);
    assert_batch(
        &batch,
        array![
            [[0., 0.], [0., 0.]],
            [[0., 0.], [9., 10.]],
            [[7., 8.], [0., 0.]]
        ],
        array![[[1.], [4.]], [[2.], [5.]], [[3.], [0.]]],
        Some(array![[0., 0.], [0., 1.], [1., 0.]]),
        Some(array![[1., 1.], [1., 1.], [1., 0.]]),
    );
}

#[test]
fn align_start_puts_the_single_input_at_step_zero() {
    let scratch = Scratch::new("start-o2m");
    let data = one_to_many(&scratch);
    let batch = first_batch(&data, AlignmentMode::AlignStart, 2);
    assert_batch(
        &batch,
        array![
            [[7., 8.], [9., 10.]],
            [[0., 0.], [0., 0.]],
            [[0., 0.], [0., 0.]]
        ],
        array![[[1.], [4.]], [[2.], [5.]], [[3.], [0.]]],
        Some(array![[1., 1.], [0., 0.], [0., 0.]]),
        Some(array![[1., 1.], [1., 1.], [1., 0.]]),
    );
}

#[test]
fn align_end_shifts_whichever_part_is_shorter_per_example() {
    // example 0: 2 feature steps, 3 label steps; example 1: 4 feature steps, 2 label steps
    let scratch = Scratch::new("end-mixed");
    let config = scratch.pairs(&[("1\n2\n", "10\n20\n30\n"), ("3\n4\n5\n6\n", "40\n50\n")]);
    let data = load(&config).unwrap();
    let batch = first_batch(&data, AlignmentMode::AlignEnd, 2);
    assert_batch(
        &batch,
        array![[[0.], [3.]], [[1.], [4.]], [[2.], [5.]], [[0.], [6.]]],
        array![[[10.], [0.]], [[20.], [0.]], [[30.], [40.]], [[0.], [50.]]],
        Some(array![[0., 1.], [1., 1.], [1., 1.], [0., 1.]]),
        Some(array![[1., 0.], [1., 0.], [1., 1.], [0., 1.]]),
    );
}

#[test]
fn masks_that_would_be_all_ones_are_omitted_per_side() {
    // equal feature lengths, many-to-one labels: the feature mask is all ones
    let scratch = Scratch::new("omit-mask");
    let mut config = scratch.pairs(&[("1\n2\n", "1\n"), ("3\n4\n", "0\n")]);
    config.task = classification(2);
    let data = load(&config).unwrap();
    let batch = first_batch(&data, AlignmentMode::AlignEnd, 2);
    assert_eq!(batch.feature_mask, None);
    assert_eq!(batch.label_mask, Some(array![[0., 0.], [1., 1.]]));
    assert_eq!(
        batch.labels,
        array![[[0., 0.], [0., 0.]], [[0., 1.], [1., 0.]]]
    );
}

#[test]
fn label_column_splits_features_from_labels_in_one_file() {
    let scratch = Scratch::new("label-col");
    scratch.write("seq/0.csv", "1,2,0\n3,4,1\n");
    scratch.write("seq/1.csv", "5,6,1\n");
    let mut config = seqlab::data::CsvDataConfig {
        features: SequenceSource::Directory(scratch.path("seq")),
        labels: LabelSource::Column(-1),
        task: classification(2),
        alignment: AlignmentMode::AlignStart,
        ..Default::default()
    };
    let data = load(&config).unwrap();
    let batch = first_batch(&data, AlignmentMode::AlignStart, 2);
    let mask = array![[1., 1.], [1., 0.]];
    assert_batch(
        &batch,
        array![[[1., 2.], [5., 6.]], [[3., 4.], [0., 0.]]],
        array![[[1., 0.], [0., 1.]], [[0., 1.], [0., 0.]]],
        Some(mask.clone()),
        Some(mask),
    );

    // the first column as a regression target; features keep their order
    config.labels = LabelSource::Column(0);
    config.task = Task::Regression;
    let data = load(&config).unwrap();
    assert_eq!(data.examples()[0].features, array![[2., 0.], [4., 1.]]);
    assert_eq!(data.examples()[0].labels, array![[1.], [3.]]);
}

#[test]
fn batches_keep_the_last_partial_batch_and_cover_each_example_once() {
    let scratch = Scratch::new("batches");
    let pairs: Vec<(String, String)> = (0..5)
        .map(|i| (format!("{i}\n{i}\n"), format!("{i}\n{i}\n")))
        .collect();
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(f, l)| (f.as_str(), l.as_str()))
        .collect();
    let data = load(&scratch.pairs(&refs)).unwrap();

    let sizes: Vec<usize> = data
        .batches(AlignmentMode::EqualLength, 2, None, 0)
        .unwrap()
        .map(|b| b.batch_size())
        .collect();
    assert_eq!(sizes, vec![2, 2, 1]);

    let firsts = |seed, epoch| -> Vec<f32> {
        data.batches(AlignmentMode::EqualLength, 2, Some(seed), epoch)
            .unwrap()
            .flat_map(|b| b.features.slice(ndarray::s![0, .., 0]).to_vec())
            .collect()
    };
    let a = firsts(42, 0);
    assert_eq!(a, firsts(42, 0), "same seed and epoch, same order");
    let mut sorted = a.clone();
    sorted.sort_by(f32::total_cmp);
    assert_eq!(sorted, vec![0., 1., 2., 3., 4.], "a permutation");
    let orders: Vec<Vec<f32>> = (0..6).map(|epoch| firsts(42, epoch)).collect();
    assert!(orders.iter().any(|o| *o != a), "epochs reshuffle");
}

#[test]
fn preview_realigns_without_rereading_files() {
    let scratch = Scratch::new("preview");
    let data = many_to_one(&scratch);
    std::fs::remove_dir_all(scratch.path("features")).unwrap();

    let end = data.preview(AlignmentMode::AlignEnd, 5);
    assert_eq!(end.problem, None);
    assert_eq!(end.steps, 3);
    assert_eq!(end.examples.len(), 2);
    let labels_real: Vec<bool> = end.examples[1].steps.iter().map(|s| s.label_real).collect();
    assert_eq!(labels_real, vec![false, true, false]);
    let features_real: Vec<bool> = end.examples[1]
        .steps
        .iter()
        .map(|s| s.feature_real)
        .collect();
    assert_eq!(features_real, vec![true, true, false]);
    assert_eq!(end.examples[1].steps[2].feature_mask, 0.0);

    let start = data.preview(AlignmentMode::AlignStart, 5);
    let labels_real: Vec<bool> = start.examples[1]
        .steps
        .iter()
        .map(|s| s.label_real)
        .collect();
    assert_eq!(labels_real, vec![true, false, false]);

    let equal = data.preview(AlignmentMode::EqualLength, 5);
    assert!(equal.problem.unwrap().contains("ALIGN_START or ALIGN_END"));
    assert_eq!(
        (equal.examples[0].feature_len, equal.examples[0].label_len),
        (3, 1)
    );
    assert!(equal.examples[0].steps.is_empty());

    let stats = &end.stats;
    assert_eq!(
        (stats.sequences, stats.feature_count, stats.label_width),
        (2, 1, 3)
    );
    assert_eq!((stats.min_length, stats.max_length), (2, 3));
    let bins: Vec<(usize, usize, usize)> = stats
        .length_histogram
        .iter()
        .map(|b| (b.from, b.to, b.count))
        .collect();
    assert_eq!(bins, vec![(2, 2, 1), (3, 3, 1)]);
    assert_eq!(
        stats.labels,
        seqlab::data::LabelStats::Classes {
            counts: vec![1, 0, 1]
        }
    );
    assert_eq!(end.raw_heads[0].lines, vec!["1", "2", "3"]);
    assert_eq!(end.raw_heads[1].lines, vec!["2"]);
}

#[test]
fn preview_reports_label_ranges_for_regression() {
    let scratch = Scratch::new("preview-reg");
    let data = one_to_many(&scratch);
    let preview = data.preview(AlignmentMode::AlignEnd, 1);
    assert_eq!(preview.examples.len(), 1);
    assert_eq!(preview.steps, 3);
    assert_eq!(
        preview.stats.labels,
        seqlab::data::LabelStats::Ranges {
            min: vec![1.0],
            max: vec![5.0]
        }
    );
}
