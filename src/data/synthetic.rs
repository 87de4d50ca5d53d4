//! Generated tasks, deterministic per seed, so examples and tests need no downloads.
//!
//! The same seed gives the same data with this crate's `rand` version (`StdRng`); it is
//! not promised across `rand` upgrades.

use std::f32::consts::PI;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::align::AlignmentMode;
use super::csv::CsvOptions;
use super::dataset::{SequenceDataset, SequenceExample, Task};
use super::error::{DataError, Result};
use super::load::{CsvDataConfig, LabelSource};
use super::source::SequenceSource;
use super::stream::{StepSeries, StreamData};
use super::text::{CharCorpus, TextOptions};

/// The TensorFlow echo-RNN tutorial: a random binary stream; the target at step `t` is
/// the input at step `t - echo` (0 for the first `echo` steps). Batch it as parallel
/// streams with state carried across minibatches: `task.data().batcher(task.batch,
/// task.truncated)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EchoTask {
    /// Steps in the whole series. Default 50000.
    pub length: usize,
    /// How many steps later the input is echoed. Default 3.
    pub echo: usize,
    /// Parallel streams per minibatch. Default 5.
    pub batch: usize,
    /// Steps per minibatch (truncated BPTT length). Default 15.
    pub truncated: usize,
    /// Random seed. Default 0.
    pub seed: u64,
}

impl Default for EchoTask {
    fn default() -> Self {
        EchoTask {
            length: 50_000,
            echo: 3,
            batch: 5,
            truncated: 15,
            seed: 0,
        }
    }
}

impl EchoTask {
    /// The input bits, `length` of them.
    pub fn bits(&self) -> Vec<u32> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        (0..self.length)
            .map(|_| u32::from(rng.random_bool(0.5)))
            .collect()
    }

    /// Inputs `(N, 1)` holding 0.0/1.0, targets one-hot over the 2 classes {0, 1}.
    pub fn data(&self) -> StreamData {
        let x = self.bits();
        let y: Vec<u32> = (0..x.len())
            .map(|t| if t < self.echo { 0 } else { x[t - self.echo] })
            .collect();
        let inputs = Array2::from_shape_fn((x.len(), 1), |(t, _)| x[t] as f32);
        StreamData::new(
            StepSeries::Values(inputs),
            StepSeries::OneHot { ids: y, classes: 2 },
            "echo series",
        )
    }
}

/// The sentence of DL4J's "learn one sentence" example; `*` marks its start.
pub const ONE_SENTENCE: &str =
    "*A computer will do what you tell it to do, but that may be much different from what you had in mind.";

/// [`ONE_SENTENCE`] as a character corpus. Its next-character data, batched as one stream
/// of `len() - 1` steps, is the whole sentence in one minibatch.
pub fn learn_one_sentence() -> CharCorpus {
    CharCorpus::from_text(ONE_SENTENCE, &TextOptions::default())
}

/// Sine waves with random period and phase; the target is the next value (regression,
/// one feature, one label per step).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SineTask {
    /// Number of sequences. Default 100.
    pub sequences: usize,
    /// Shortest sequence, in steps. Default 50.
    pub min_length: usize,
    /// Longest sequence, in steps (lengths are uniform in between). Default 50.
    pub max_length: usize,
    /// Shortest period, in steps. Default 10.
    pub min_period: f32,
    /// Longest period, in steps. Default 30.
    pub max_period: f32,
    /// Random seed. Default 0.
    pub seed: u64,
}

impl Default for SineTask {
    fn default() -> Self {
        SineTask {
            sequences: 100,
            min_length: 50,
            max_length: 50,
            min_period: 10.0,
            max_period: 30.0,
            seed: 0,
        }
    }
}

impl SineTask {
    fn check(&self) -> Result<()> {
        check_lengths(self.min_length, self.max_length)?;
        if !(self.min_period > 0.0 && self.min_period <= self.max_period) {
            return Err(DataError::InvalidOption {
                option: "min_period/max_period",
                message: "periods must be positive with min_period <= max_period".to_string(),
            });
        }
        Ok(())
    }

    /// The sequences: features `(T, 1)` = `sin(2πt/period + phase)`, labels `(T, 1)` the
    /// value one step later.
    pub fn generate(&self) -> Result<SequenceDataset> {
        self.check()?;
        let mut rng = StdRng::seed_from_u64(self.seed);
        let examples = (0..self.sequences)
            .map(|_| {
                let len = rng.random_range(self.min_length..=self.max_length);
                let period = rng.random_range(self.min_period..=self.max_period);
                let phase = rng.random_range(0.0..2.0 * PI);
                let wave: Vec<f32> = (0..=len)
                    .map(|t| (2.0 * PI * t as f32 / period + phase).sin())
                    .collect();
                SequenceExample::new(
                    Array2::from_shape_fn((len, 1), |(t, _)| wave[t]),
                    Array2::from_shape_fn((len, 1), |(t, _)| wave[t + 1]),
                )
            })
            .collect();
        Ok(SequenceDataset::new(examples, 1, 1, Task::Regression))
    }

    /// Writes `dir/sine_{i}.csv` for `i` in `0..sequences`, one line per step holding
    /// `value,next_value` (the label is the last column), and returns the config that
    /// reads them back: regression, label column -1, `EqualLength` when all lengths are
    /// equal, else `AlignStart`.
    pub fn write_csv(&self, dir: &Path) -> Result<CsvDataConfig> {
        let data = self.generate()?;
        create_dir(dir)?;
        for (i, example) in data.examples().iter().enumerate() {
            let mut text = String::new();
            for (x, y) in example.features.iter().zip(example.labels.iter()) {
                let _ = writeln!(text, "{x},{y}");
            }
            write_file(&dir.join(format!("sine_{i}.csv")), &text)?;
        }
        Ok(CsvDataConfig {
            features: numbered(dir, "sine_%d.csv", self.sequences)?,
            labels: LabelSource::Column(-1),
            csv: CsvOptions::default(),
            task: Task::Regression,
            alignment: if self.min_length == self.max_length {
                AlignmentMode::EqualLength
            } else {
                AlignmentMode::AlignStart
            },
            ..CsvDataConfig::default()
        })
    }
}

/// The six classes of the synthetic control-chart data (Alcock & Manolopoulos 1999, the
/// UCI "Synthetic Control Chart Time Series"), in class-index order.
pub const CONTROL_CHART_CLASSES: [&str; 6] = [
    "normal",
    "cyclic",
    "increasing trend",
    "decreasing trend",
    "upward shift",
    "downward shift",
];

/// Control-chart sequences of variable length, one class label each (many-to-one).
///
/// With mean `m = 30`, spread `s = 2` and `r` uniform in `[-3, 3]` per step:
/// normal `m + r s`; cyclic adds `a sin(2πt/p)`, `a ∈ [10, 15]`, `p ∈ [10, 15]`;
/// trends add `± g t`, `g ∈ [0.2, 0.5]`; shifts add `± x` from a step in the middle
/// third on, `x ∈ [7.5, 20]`. Example `i` has class `i % 6`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ControlChartTask {
    /// Number of sequences. Default 600 (100 per class, as the UCI set).
    pub sequences: usize,
    /// Shortest sequence. Default 40.
    pub min_length: usize,
    /// Longest sequence. Default 60.
    pub max_length: usize,
    /// Random seed. Default 0.
    pub seed: u64,
}

impl Default for ControlChartTask {
    fn default() -> Self {
        ControlChartTask {
            sequences: 600,
            min_length: 40,
            max_length: 60,
            seed: 0,
        }
    }
}

impl ControlChartTask {
    /// The raw charts: `(values, class)` per sequence.
    pub fn charts(&self) -> Result<Vec<(Vec<f32>, usize)>> {
        check_lengths(self.min_length, self.max_length)?;
        let mut rng = StdRng::seed_from_u64(self.seed);
        Ok((0..self.sequences)
            .map(|i| {
                let class = i % 6;
                let len = rng.random_range(self.min_length..=self.max_length);
                let amplitude = rng.random_range(10.0..=15.0f32);
                let period = rng.random_range(10.0..=15.0f32);
                let gradient = rng.random_range(0.2..=0.5f32);
                let shift = rng.random_range(7.5..=20.0f32);
                let shift_at = rng.random_range(len / 3..=(2 * len / 3).max(len / 3));
                let values = (0..len)
                    .map(|t| {
                        let tf = t as f32;
                        let base = 30.0 + 2.0 * rng.random_range(-3.0..=3.0f32);
                        let step = if t >= shift_at { shift } else { 0.0 };
                        base + match class {
                            0 => 0.0,
                            1 => amplitude * (2.0 * PI * tf / period).sin(),
                            2 => gradient * tf,
                            3 => -gradient * tf,
                            4 => step,
                            _ => -step,
                        }
                    })
                    .collect();
                (values, class)
            })
            .collect())
    }

    /// The charts as a dataset: features `(T_i, 1)`, one one-hot label row of width 6.
    pub fn generate(&self) -> Result<SequenceDataset> {
        let examples = self
            .charts()?
            .into_iter()
            .map(|(values, class)| {
                let mut label = Array2::zeros((1, 6));
                label[[0, class]] = 1.0;
                SequenceExample::new(
                    Array2::from_shape_vec((values.len(), 1), values).expect("(T, 1)"),
                    label,
                )
            })
            .collect();
        Ok(SequenceDataset::new(
            examples,
            1,
            6,
            Task::Classification { classes: 6 },
        ))
    }

    /// Writes `dir/features/{i}.csv` (one value per line) and `dir/labels/{i}.csv` (one
    /// line: the class index) for `i` in `0..sequences`, the layout of DL4J's UCI
    /// sequence-classification example, and returns the config that reads them back:
    /// classification with 6 classes, separate label files, `AlignEnd`.
    pub fn write_csv(&self, dir: &Path) -> Result<CsvDataConfig> {
        let charts = self.charts()?;
        let (features_dir, labels_dir) = (dir.join("features"), dir.join("labels"));
        create_dir(&features_dir)?;
        create_dir(&labels_dir)?;
        for (i, (values, class)) in charts.iter().enumerate() {
            let mut text = String::new();
            for v in values {
                let _ = writeln!(text, "{v}");
            }
            write_file(&features_dir.join(format!("{i}.csv")), &text)?;
            write_file(&labels_dir.join(format!("{i}.csv")), &format!("{class}\n"))?;
        }
        Ok(CsvDataConfig {
            features: numbered(&features_dir, "%d.csv", self.sequences)?,
            labels: LabelSource::Files(numbered(&labels_dir, "%d.csv", self.sequences)?),
            csv: CsvOptions::default(),
            task: Task::Classification { classes: 6 },
            alignment: AlignmentMode::AlignEnd,
            ..CsvDataConfig::default()
        })
    }
}

fn check_lengths(min: usize, max: usize) -> Result<()> {
    if min == 0 || min > max {
        return Err(DataError::InvalidOption {
            option: "min_length/max_length",
            message: format!("need 1 <= min_length <= max_length, got {min} and {max}"),
        });
    }
    Ok(())
}

fn numbered(dir: &Path, file_pattern: &str, count: usize) -> Result<SequenceSource> {
    if count == 0 {
        return Err(DataError::InvalidOption {
            option: "sequences",
            message: "generate at least one sequence".to_string(),
        });
    }
    Ok(SequenceSource::Pattern {
        pattern: dir.join(file_pattern).to_string_lossy().into_owned(),
        start: 0,
        end: Some(count - 1),
    })
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| DataError::Unwritable {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_file(path: &PathBuf, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| DataError::Unwritable {
        path: path.clone(),
        source,
    })
}
