//! Synthetic tasks: deterministic per seed, with the shapes their tutorials use, and the
//! CSV writers read back through the CSV path unchanged.

mod data_util;

use data_util::{load, Scratch};
use ndarray::Axis;
use seqlab::data::synthetic::{learn_one_sentence, ONE_SENTENCE};
use seqlab::data::{AlignmentMode, ControlChartTask, EchoTask, LabelSource, SineTask, Task};

#[test]
fn echo_targets_are_the_inputs_three_steps_earlier() {
    let task = EchoTask {
        length: 1000,
        ..EchoTask::default()
    };
    let bits = task.bits();
    assert!(bits.iter().all(|&b| b <= 1));
    let ones = bits.iter().filter(|&&b| b == 1).count();
    assert!((400..600).contains(&ones), "fair coin: {ones} ones");
    let data = task.data();
    let batch = data.batcher(1, 1000).unwrap().batch(0);
    let x: Vec<f32> = batch.features.slice(ndarray::s![.., 0, 0]).to_vec();
    let y: Vec<usize> = batch
        .labels
        .index_axis(Axis(1), 0)
        .outer_iter()
        .map(|row| row.iter().position(|&v| v == 1.0).unwrap())
        .collect();
    assert_eq!(&y[..3], &[0, 0, 0]);
    for t in 3..1000 {
        assert_eq!(y[t] as f32, x[t - 3], "step {t}");
    }
}

#[test]
fn echo_uses_the_tutorial_dimensions_and_carries_streams() {
    let task = EchoTask::default();
    assert_eq!(
        (task.length, task.echo, task.batch, task.truncated),
        (50_000, 3, 5, 15)
    );
    let data = task.data();
    let batcher = data.batcher(task.batch, task.truncated).unwrap();
    assert_eq!(batcher.stream_len(), 10_000);
    assert_eq!(batcher.batches_per_epoch(), 667);
    let first = batcher.batch(0);
    assert_eq!(first.features.dim(), (15, 5, 1));
    assert_eq!(first.labels.dim(), (15, 5, 2));
    // stream 1 starts at step 10 000 of the series, and continues in minibatch 1
    let bits = task.bits();
    assert_eq!(first.features[[0, 1, 0]], bits[10_000] as f32);
    assert_eq!(batcher.batch(1).features[[0, 1, 0]], bits[10_015] as f32);
}

#[test]
fn echo_is_deterministic_per_seed() {
    let a = EchoTask {
        seed: 1,
        ..EchoTask::default()
    };
    assert_eq!(a.bits(), a.clone().bits());
    assert_eq!(a.data(), a.data());
    let b = EchoTask {
        seed: 2,
        ..a.clone()
    };
    assert_ne!(a.bits(), b.bits());
}

#[test]
fn learn_one_sentence_is_one_minibatch_of_the_whole_sentence() {
    let corpus = learn_one_sentence();
    assert!(ONE_SENTENCE.starts_with("*A computer will do what you tell it to do"));
    assert_eq!(corpus.text(), ONE_SENTENCE);
    assert_eq!(corpus.vocab().chars()[0], ' ');
    assert!(corpus.vocab().chars().contains(&'*'));
    let data = corpus.next_char_data();
    let n = ONE_SENTENCE.chars().count() - 1;
    let batcher = data.batcher(1, n).unwrap();
    assert_eq!(batcher.batches_per_epoch(), 1);
    let batch = batcher.batch(0);
    let v = corpus.vocab().len();
    assert_eq!(batch.features.dim(), (n, 1, v));
    let star = corpus.vocab().id('*').unwrap();
    assert_eq!(batch.features[[0, 0, star]], 1.0, "starts with the marker");
}

#[test]
fn sine_targets_are_the_next_value() {
    let data = SineTask::default().generate().unwrap();
    assert_eq!(data.len(), 100);
    assert_eq!(data.task(), Task::Regression);
    for example in data.examples() {
        assert_eq!(example.features.dim(), (50, 1));
        for t in 0..49 {
            assert_eq!(example.labels[[t, 0]], example.features[[t + 1, 0]]);
        }
        assert!(example.features.iter().all(|v| v.abs() <= 1.0));
    }
}

#[test]
fn sine_is_deterministic_per_seed() {
    let task = SineTask {
        sequences: 5,
        min_length: 10,
        max_length: 20,
        ..SineTask::default()
    };
    assert_eq!(task.generate().unwrap(), task.generate().unwrap());
    let other = SineTask {
        seed: 1,
        ..task.clone()
    };
    assert_ne!(task.generate().unwrap(), other.generate().unwrap());
    let lengths: Vec<usize> = task
        .generate()
        .unwrap()
        .examples()
        .iter()
        .map(|e| e.feature_steps())
        .collect();
    assert!(lengths.iter().all(|l| (10..=20).contains(l)), "{lengths:?}");
}

#[test]
fn sine_csv_files_read_back_to_the_generated_data() {
    let scratch = Scratch::new("sine-csv");
    let task = SineTask {
        sequences: 4,
        min_length: 5,
        max_length: 9,
        ..SineTask::default()
    };
    let config = task.write_csv(&scratch.dir).unwrap();
    assert_eq!(config.labels, LabelSource::Column(-1));
    assert_eq!(config.alignment, AlignmentMode::AlignStart);
    let loaded = load(&config).unwrap();
    let generated = task.generate().unwrap();
    for (a, b) in loaded.examples().iter().zip(generated.examples()) {
        assert_eq!(a.features, b.features);
        assert_eq!(a.labels, b.labels);
    }
    assert_eq!(loaded.len(), 4);
}

#[test]
fn control_charts_cover_six_classes_with_variable_lengths() {
    let task = ControlChartTask {
        sequences: 60,
        ..ControlChartTask::default()
    };
    let data = task.generate().unwrap();
    assert_eq!(data.task(), Task::Classification { classes: 6 });
    let stats = data.stats();
    assert_eq!(
        stats.labels,
        seqlab::data::LabelStats::Classes {
            counts: vec![10; 6]
        }
    );
    assert!(stats.min_length >= 40 && stats.max_length <= 60);
    assert!(stats.min_length < stats.max_length, "lengths vary");
    // the trends do what their names say: compare the mean of the first and last 10 steps
    let charts = task.charts().unwrap();
    let drift = |values: &[f32]| {
        let n = values.len();
        values[n - 10..].iter().sum::<f32>() / 10.0 - values[..10].iter().sum::<f32>() / 10.0
    };
    for (values, class) in &charts {
        match class {
            2 | 4 => assert!(drift(values) > 3.0, "class {class} rises"),
            3 | 5 => assert!(drift(values) < -3.0, "class {class} falls"),
            _ => {}
        }
    }
}

#[test]
fn control_charts_are_deterministic_per_seed() {
    let task = ControlChartTask {
        sequences: 12,
        ..ControlChartTask::default()
    };
    assert_eq!(task.charts().unwrap(), task.charts().unwrap());
    let other = ControlChartTask {
        seed: 5,
        ..task.clone()
    };
    assert_ne!(task.charts().unwrap(), other.charts().unwrap());
}

#[test]
fn control_chart_csv_files_read_back_as_many_to_one() {
    let scratch = Scratch::new("charts-csv");
    let task = ControlChartTask {
        sequences: 12,
        ..ControlChartTask::default()
    };
    let config = task.write_csv(&scratch.dir).unwrap();
    assert!(scratch.path("features/11.csv").is_file());
    assert_eq!(
        std::fs::read_to_string(scratch.path("labels/5.csv")).unwrap(),
        "5\n"
    );
    let loaded = load(&config).unwrap();
    assert_eq!(
        loaded.examples(),
        task.generate()
            .unwrap()
            .examples()
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let mut e = e.clone();
                e.source = Some(scratch.path(&format!("features/{i}.csv")));
                e
            })
            .collect::<Vec<_>>()
            .as_slice()
    );
    let batch = loaded
        .batches(config.alignment, 12, None, 0)
        .unwrap()
        .next()
        .unwrap();
    assert_eq!(batch.label_width(), 6);
    assert_eq!(batch.label_lengths(), vec![1; 12]);
    let last = batch.last_feature_steps();
    assert_eq!(
        batch.last_label_steps(),
        last,
        "ALIGN_END: label at the last input"
    );
}

#[test]
fn generator_options_are_validated() {
    let bad = SineTask {
        min_length: 10,
        max_length: 5,
        ..SineTask::default()
    };
    assert!(bad
        .generate()
        .unwrap_err()
        .to_string()
        .contains("min_length <= max_length"));
    let bad = ControlChartTask {
        min_length: 0,
        ..ControlChartTask::default()
    };
    assert!(bad.generate().is_err());
}
