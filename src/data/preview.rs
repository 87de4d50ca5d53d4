//! What the GUI's alignment-mode preview draws: the first examples after alignment and
//! statistics of the whole dataset. Recomputing it for another mode only re-aligns the
//! first `k` sequences already in memory; no file is read again.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::align::AlignmentMode;
use super::dataset::{RawHead, SequenceDataset, Task};

/// The preview of a dataset under one alignment mode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataPreview {
    /// The mode the examples are aligned with.
    pub alignment: AlignmentMode,
    /// Why this mode cannot be used with this data (the error message), if it cannot;
    /// then `examples` carry their lengths but no steps.
    pub problem: Option<String>,
    /// T of the aligned minibatch made of the previewed examples.
    pub steps: usize,
    /// The first `k` examples, aligned together as one minibatch.
    pub examples: Vec<ExamplePreview>,
    /// Statistics of the whole dataset.
    pub stats: DatasetStats,
    /// The first lines of the first feature (and label) file.
    pub raw_heads: Vec<RawHead>,
}

/// One previewed example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExamplePreview {
    /// Position in the dataset.
    pub index: usize,
    /// The feature file, if any.
    pub source: Option<PathBuf>,
    /// Real feature steps.
    pub feature_len: usize,
    /// Real label steps.
    pub label_len: usize,
    /// One entry per step of the aligned minibatch (empty when the mode has a problem).
    pub steps: Vec<StepPreview>,
}

/// One step of one previewed example.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepPreview {
    /// The features at this step are real (not padding).
    pub feature_real: bool,
    /// The labels at this step are real (not padding).
    pub label_real: bool,
    /// The feature mask value the trainer sees (1.0 when the mask is omitted).
    pub feature_mask: f32,
    /// The label mask value the trainer sees (1.0 when the mask is omitted).
    pub label_mask: f32,
}

/// Whole-dataset statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DatasetStats {
    /// Number of sequences.
    pub sequences: usize,
    /// F, features per step.
    pub feature_count: usize,
    /// L, label columns per step (classes for classification).
    pub label_width: usize,
    /// Shortest and longest feature sequence (0, 0 when empty).
    pub min_length: usize,
    pub max_length: usize,
    /// Histogram of feature sequence lengths.
    pub length_histogram: Vec<LengthBin>,
    /// Class counts or label ranges.
    pub labels: LabelStats,
}

/// Sequences whose feature length is in `from..=to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LengthBin {
    pub from: usize,
    pub to: usize,
    pub count: usize,
}

/// Label statistics by task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LabelStats {
    /// Label steps per class (a many-to-many sequence counts once per step).
    Classes { counts: Vec<usize> },
    /// Per label column, the smallest and largest value (empty when there is no data).
    Ranges { min: Vec<f32>, max: Vec<f32> },
}

/// At most this many bins in the length histogram.
pub const MAX_HISTOGRAM_BINS: usize = 20;

impl SequenceDataset {
    /// The preview of the first `k` examples under `mode`.
    pub fn preview(&self, mode: AlignmentMode, k: usize) -> DataPreview {
        let k = k.min(self.len());
        let problem = self.check_alignment(mode).err().map(|e| e.to_string());
        let first = &self.examples()[..k];
        let mut examples: Vec<ExamplePreview> = first
            .iter()
            .enumerate()
            .map(|(index, e)| ExamplePreview {
                index,
                source: e.source.clone(),
                feature_len: e.feature_steps(),
                label_len: e.label_steps(),
                steps: Vec::new(),
            })
            .collect();
        let mut steps = 0;
        if problem.is_none() && k > 0 {
            let indices: Vec<usize> = (0..k).collect();
            let batch = self.batch_of(&indices, mode);
            steps = batch.steps();
            for (b, example) in examples.iter_mut().enumerate() {
                example.steps = (0..steps)
                    .map(|t| {
                        let fm = batch.feature_mask.as_ref().map_or(1.0, |m| m[[t, b]]);
                        let lm = batch.label_mask.as_ref().map_or(1.0, |m| m[[t, b]]);
                        StepPreview {
                            feature_real: fm != 0.0,
                            label_real: lm != 0.0,
                            feature_mask: fm,
                            label_mask: lm,
                        }
                    })
                    .collect();
            }
        }
        DataPreview {
            alignment: mode,
            problem,
            steps,
            examples,
            stats: self.stats(),
            raw_heads: self.raw_heads().to_vec(),
        }
    }

    /// Statistics of the whole dataset.
    pub fn stats(&self) -> DatasetStats {
        let lengths: Vec<usize> = self.examples().iter().map(|e| e.feature_steps()).collect();
        let min_length = lengths.iter().copied().min().unwrap_or(0);
        let max_length = lengths.iter().copied().max().unwrap_or(0);
        let length_histogram = if lengths.is_empty() {
            Vec::new()
        } else {
            let span = max_length - min_length + 1;
            let width = span.div_ceil(MAX_HISTOGRAM_BINS);
            let mut bins: Vec<LengthBin> = (0..span.div_ceil(width))
                .map(|i| LengthBin {
                    from: min_length + i * width,
                    to: (min_length + (i + 1) * width - 1).min(max_length),
                    count: 0,
                })
                .collect();
            for len in &lengths {
                bins[(len - min_length) / width].count += 1;
            }
            bins
        };
        let labels = match self.task() {
            Task::Classification { classes } => {
                let mut counts = vec![0; classes];
                for example in self.examples() {
                    for row in example.labels.outer_iter() {
                        if let Some(c) = row.iter().position(|&v| v != 0.0) {
                            counts[c] += 1;
                        }
                    }
                }
                LabelStats::Classes { counts }
            }
            Task::Regression => {
                let rows = self.examples().iter().flat_map(|e| e.labels.outer_iter());
                let (mut min, mut max) = (Vec::new(), Vec::new());
                for row in rows {
                    if min.is_empty() {
                        min = row.to_vec();
                        max = row.to_vec();
                    }
                    for ((lo, hi), &v) in min.iter_mut().zip(max.iter_mut()).zip(row) {
                        *lo = f32::min(*lo, v);
                        *hi = f32::max(*hi, v);
                    }
                }
                LabelStats::Ranges { min, max }
            }
        };
        DatasetStats {
            sequences: self.len(),
            feature_count: self.feature_count(),
            label_width: self.label_width(),
            min_length,
            max_length,
            length_histogram,
            labels,
        }
    }
}
