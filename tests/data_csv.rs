//! Reading CSV sequence files: sources, CSV options, tasks, progress, splits and
//! normalisation.

mod data_util;

use data_util::{classification, load, Scratch};
use ndarray::array;
use seqlab::data::{
    load_train_validation, AlignmentMode, CsvDataConfig, CsvOptions, Delimiter, FeatureNormalizer,
    LabelSource, Normalization, Progress, SequenceSource, Task, ValidationSplit,
};

fn firsts(data: &seqlab::data::SequenceDataset) -> Vec<f32> {
    data.examples().iter().map(|e| e.features[[0, 0]]).collect()
}

#[test]
fn numbered_pattern_reads_the_inclusive_range_in_order() {
    let scratch = Scratch::new("pattern");
    for i in 0..5 {
        scratch.write(&format!("walk_{i}.csv"), format!("{i},0\n"));
    }
    let config = CsvDataConfig {
        features: SequenceSource::Pattern {
            pattern: scratch.path("walk_%d.csv").display().to_string(),
            start: 1,
            end: Some(3),
        },
        ..Default::default()
    };
    assert_eq!(firsts(&load(&config).unwrap()), vec![1., 2., 3.]);
}

#[test]
fn directory_is_read_in_natural_order_skipping_hidden_files_and_folders() {
    let scratch = Scratch::new("natural");
    for i in [10, 2, 1] {
        scratch.write(&format!("d/seq_{i}.csv"), format!("{i},0\n"));
    }
    scratch.write("d/.hidden.csv", "not,a,number\n");
    scratch.write("d/sub/seq_3.csv", "3,0\n");
    let config = CsvDataConfig {
        features: SequenceSource::Directory(scratch.path("d")),
        ..Default::default()
    };
    assert_eq!(firsts(&load(&config).unwrap()), vec![1., 2., 10.]);
}

#[test]
fn explicit_file_list_keeps_its_order() {
    let scratch = Scratch::new("list");
    let a = scratch.write("a.csv", "1,0\n");
    let b = scratch.write("b.csv", "2,0\n");
    let config = CsvDataConfig {
        features: SequenceSource::Files(vec![b, a]),
        ..Default::default()
    };
    assert_eq!(firsts(&load(&config).unwrap()), vec![2., 1.]);
}

#[test]
fn every_delimiter_with_header_lines_skipped() {
    let cases = [
        (Delimiter::Comma, "x,y,label\n1,2,3\n4,5,6\n"),
        (Delimiter::Semicolon, "x;y;label\n1;2;3\n4;5;6\n"),
        (Delimiter::Tab, "x\ty\tlabel\n1\t2\t3\n4\t5\t6\n"),
        (Delimiter::Whitespace, "x y label\n 1   2\t3\n4 5 6   \n"),
    ];
    for (delimiter, text) in cases {
        let scratch = Scratch::new("delim");
        let file = scratch.write("s.csv", text);
        let config = CsvDataConfig {
            features: SequenceSource::Files(vec![file]),
            csv: CsvOptions {
                skip_lines: 1,
                delimiter,
            },
            ..Default::default()
        };
        let data = load(&config).unwrap();
        let example = &data.examples()[0];
        assert_eq!(
            example.features,
            array![[1., 2.], [4., 5.]],
            "{delimiter:?}"
        );
        assert_eq!(example.labels, array![[3.], [6.]], "{delimiter:?}");
    }
}

#[test]
fn quoted_fields_crlf_bom_and_blank_lines_are_accepted() {
    let scratch = Scratch::new("quirks");
    let file = scratch.write("s.csv", "\u{feff}\"1.5\",-2e1\r\n\r\n  3 , 4 \r\n");
    let config = CsvDataConfig {
        features: SequenceSource::Files(vec![file]),
        task: Task::Regression,
        ..Default::default()
    };
    let data = load(&config).unwrap();
    let example = &data.examples()[0];
    assert_eq!(example.features, array![[1.5], [3.]]);
    assert_eq!(example.labels, array![[-20.], [4.]]);
}

#[test]
fn regression_takes_several_label_columns_as_values() {
    let scratch = Scratch::new("regression");
    let config = scratch.pairs(&[("1\n2\n", "0.5,-1\n1.5,-2\n")]);
    let data = load(&config).unwrap();
    assert_eq!(data.label_width(), 2);
    assert_eq!(data.examples()[0].labels, array![[0.5, -1.], [1.5, -2.]]);
}

#[test]
fn classification_labels_become_one_hot() {
    let scratch = Scratch::new("one-hot");
    let mut config = scratch.pairs(&[("1\n2\n3\n", "0\n3\n2.0\n")]);
    config.task = classification(4);
    let data = load(&config).unwrap();
    assert_eq!(
        data.examples()[0].labels,
        array![[1., 0., 0., 0.], [0., 0., 0., 1.], [0., 0., 1., 0.]]
    );
}

#[test]
fn progress_reports_every_file() {
    let scratch = Scratch::new("progress");
    let config = scratch.pairs(&[("1\n", "1\n"), ("2\n", "2\n"), ("3\n", "3\n")]);
    let mut seen: Vec<Progress> = Vec::new();
    seqlab::data::load_csv(&config, &mut |p| seen.push(p)).unwrap();
    let counts: Vec<(usize, usize)> = seen.iter().map(|p| (p.done, p.total)).collect();
    assert_eq!(counts, vec![(1, 3), (2, 3), (3, 3)]);
    assert_eq!(seen[2].path, scratch.path("features/2.csv"));
}

fn ten_sequences(scratch: &Scratch) -> CsvDataConfig {
    // sequence i has the single feature value i at both steps
    for i in 0..10 {
        scratch.write(&format!("seq/{i}.csv"), format!("{i},0\n{i},1\n"));
    }
    CsvDataConfig {
        features: SequenceSource::Directory(scratch.path("seq")),
        labels: LabelSource::Column(-1),
        task: classification(2),
        ..Default::default()
    }
}

#[test]
fn fraction_split_without_seed_holds_out_the_last_files() {
    let scratch = Scratch::new("split");
    let mut config = ten_sequences(&scratch);
    config.validation = ValidationSplit::Fraction {
        fraction: 0.3,
        seed: None,
    };
    let split = load_train_validation(&config, &mut |_| {}).unwrap();
    assert_eq!(firsts(&split.train), vec![0., 1., 2., 3., 4., 5., 6.]);
    assert_eq!(firsts(&split.validation), vec![7., 8., 9.]);
}

#[test]
fn seeded_fraction_split_is_deterministic_and_disjoint() {
    let scratch = Scratch::new("split-seed");
    let mut config = ten_sequences(&scratch);
    config.validation = ValidationSplit::Fraction {
        fraction: 0.2,
        seed: Some(3),
    };
    let a = load_train_validation(&config, &mut |_| {}).unwrap();
    let b = load_train_validation(&config, &mut |_| {}).unwrap();
    assert_eq!(firsts(&a.validation), firsts(&b.validation));
    assert_eq!(a.validation.len(), 2);
    let mut all = [firsts(&a.train), firsts(&a.validation)].concat();
    all.sort_by(f32::total_cmp);
    assert_eq!(all, (0..10).map(|i| i as f32).collect::<Vec<_>>());
}

#[test]
fn separate_validation_folders_are_read_with_the_same_options() {
    let scratch = Scratch::new("folders");
    let mut config = scratch.pairs(&[("1\n2\n", "0\n"), ("3\n4\n", "1\n")]);
    scratch.write("val/features/0.csv", "5\n6\n7\n");
    scratch.write("val/labels/0.csv", "1\n");
    config.task = classification(2);
    config.alignment = AlignmentMode::AlignEnd;
    config.validation = ValidationSplit::Folders {
        features: SequenceSource::Directory(scratch.path("val/features")),
        labels: Some(SequenceSource::Directory(scratch.path("val/labels"))),
    };
    let mut progress = Vec::new();
    let split = load_train_validation(&config, &mut |p| progress.push((p.done, p.total))).unwrap();
    assert_eq!(progress, vec![(1, 3), (2, 3), (3, 3)]);
    assert_eq!(split.train.len(), 2);
    assert_eq!(
        split.validation.examples()[0].features,
        array![[5.], [6.], [7.]]
    );
    assert_eq!(split.validation.examples()[0].labels, array![[0., 1.]]);

    config.validation = ValidationSplit::Folders {
        features: SequenceSource::Directory(scratch.path("val/features")),
        labels: None,
    };
    let err = load_train_validation(&config, &mut |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("needs its label files too"),
        "{err}"
    );
}

#[test]
fn load_train_validation_checks_the_alignment_mode() {
    let scratch = Scratch::new("check-align");
    let config = scratch.pairs(&[("1\n2\n", "0\n")]);
    let err = load_train_validation(&config, &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("EQUAL_LENGTH"), "{err}");
}

#[test]
fn standardisation_is_fitted_on_the_training_split_only() {
    let scratch = Scratch::new("standardize");
    let mut config = ten_sequences(&scratch);
    config.validation = ValidationSplit::Fraction {
        fraction: 0.5,
        seed: None,
    };
    config.normalization = Normalization::Standardize;
    let split = load_train_validation(&config, &mut |_| {}).unwrap();
    // training values 0..=4 (each twice): mean 2, population std sqrt(2)
    let Some(FeatureNormalizer::Standardize { mean, std }) = &split.normalizer else {
        panic!("expected standardisation, got {:?}", split.normalizer);
    };
    assert_eq!(mean, &vec![2.0]);
    assert!((std[0] - 2f32.sqrt()).abs() < 1e-6);
    let train: Vec<f32> = firsts(&split.train);
    let expected: Vec<f32> = (0..5).map(|i| (i as f32 - 2.0) / 2f32.sqrt()).collect();
    for (a, e) in train.iter().zip(&expected) {
        assert!((a - e).abs() < 1e-6, "{train:?} vs {expected:?}");
    }
    // validation (values 5..=9) uses the training statistics, so it is not centred
    let val = firsts(&split.validation);
    assert!((val[0] - 3.0 / 2f32.sqrt()).abs() < 1e-6, "{val:?}");
}

#[test]
fn min_max_statistics_survive_serde_and_apply_to_new_data() {
    let scratch = Scratch::new("minmax");
    let mut config = ten_sequences(&scratch);
    config.validation = ValidationSplit::Fraction {
        fraction: 0.5,
        seed: None,
    };
    config.normalization = Normalization::MinMax;
    let split = load_train_validation(&config, &mut |_| {}).unwrap();
    let stats = split.normalizer.unwrap();
    assert_eq!(
        stats,
        FeatureNormalizer::MinMax {
            min: vec![0.0],
            max: vec![4.0]
        }
    );
    assert_eq!(firsts(&split.train), vec![0.0, 0.25, 0.5, 0.75, 1.0]);

    let json = serde_json::to_string(&stats).unwrap();
    let back: FeatureNormalizer = serde_json::from_str(&json).unwrap();
    let mut rows = array![[2.0f32], [8.0]];
    back.transform(rows.view_mut()).unwrap();
    assert_eq!(rows, array![[0.5], [2.0]]);

    let err = back
        .transform(array![[1.0f32, 2.0]].view_mut())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cover 1 features but the data has 2"),
        "{err}"
    );
}

#[test]
fn normalising_a_batch_leaves_padding_at_zero() {
    let scratch = Scratch::new("norm-batch");
    let config = scratch.pairs(&[("1\n3\n", "0\n0\n"), ("5\n", "0\n")]);
    let data = load(&config).unwrap();
    let stats = FeatureNormalizer::fit(Normalization::MinMax, &data)
        .unwrap()
        .unwrap();
    let mut batch = data
        .batches(AlignmentMode::AlignStart, 2, None, 0)
        .unwrap()
        .next()
        .unwrap();
    stats.apply_to_batch(&mut batch).unwrap();
    assert_eq!(batch.features, array![[[0.0], [1.0]], [[0.5], [0.0]]]);
}

#[test]
fn the_config_round_trips_through_ron_with_defaults_filled_in() {
    let text = r#"(
        features: Pattern(pattern: "data/walk_%d.csv", start: 0, end: 9),
        labels: Files(Directory("data/labels")),
        task: Classification(classes: 3),
        alignment: AlignEnd,
    )"#;
    let config: CsvDataConfig = ron::from_str(text).unwrap();
    assert_eq!(config.csv, CsvOptions::default());
    assert_eq!(config.validation, ValidationSplit::None);
    assert_eq!(config.normalization, Normalization::None);
    assert_eq!(config.task, classification(3));
    let again: CsvDataConfig = ron::from_str(&ron::to_string(&config).unwrap()).unwrap();
    assert_eq!(again, config);
}
