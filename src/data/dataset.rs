//! An in-memory list of sequences and the minibatches drawn from it.

use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::align::{align_batch, check_alignment, AlignmentMode};
use super::batch::SeqBatch;
use super::error::{DataError, Result};

/// What the labels mean.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Task {
    /// Each label is a 0-based class index in `0..classes`, turned into a one-hot vector
    /// of width `classes`.
    Classification { classes: usize },
    /// Label columns are target values, taken as they are (one or more per step).
    #[default]
    Regression,
}

pub use super::example::SequenceExample;

/// The first lines of a file as text, for the preview.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawHead {
    pub path: PathBuf,
    pub lines: Vec<String>,
}

/// How many raw lines of the first files a dataset keeps for the preview.
pub const RAW_HEAD_LINES: usize = 10;

/// Sequences held in memory, unaligned: alignment happens per minibatch, so the same data
/// can be batched (or previewed) under any [`AlignmentMode`] without reading files again.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceDataset {
    examples: Vec<SequenceExample>,
    feature_count: usize,
    label_width: usize,
    task: Task,
    raw_heads: Vec<RawHead>,
}

impl SequenceDataset {
    /// A dataset of examples with `feature_count` features and `label_width` label
    /// columns (classes for classification). May be empty (e.g. an empty validation split).
    ///
    /// Panics if an example has other widths, has zero steps, or if a classification
    /// `label_width` is not the class count (programmer errors; the CSV loader reports
    /// such input as [`DataError`]s before building a dataset).
    pub fn new(
        examples: Vec<SequenceExample>,
        feature_count: usize,
        label_width: usize,
        task: Task,
    ) -> Self {
        if let Task::Classification { classes } = task {
            assert_eq!(label_width, classes, "one-hot labels are `classes` wide");
        }
        for example in &examples {
            assert_eq!(example.features.ncols(), feature_count, "feature count");
            assert_eq!(example.labels.ncols(), label_width, "label width");
            assert!(
                example.feature_steps() > 0 && example.label_steps() > 0,
                "a sequence has at least one step"
            );
        }
        SequenceDataset {
            examples,
            feature_count,
            label_width,
            task,
            raw_heads: Vec::new(),
        }
    }

    /// Attaches the first lines of the source files, shown by the preview.
    pub fn with_raw_heads(mut self, raw_heads: Vec<RawHead>) -> Self {
        self.raw_heads = raw_heads;
        self
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.examples.len()
    }

    /// True when there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.examples.is_empty()
    }

    /// The sequences, in file order.
    pub fn examples(&self) -> &[SequenceExample] {
        &self.examples
    }

    /// Mutable access for in-place transforms (normalisation). Widths must not change.
    pub(crate) fn examples_mut(&mut self) -> &mut [SequenceExample] {
        &mut self.examples
    }

    /// F, features per step.
    pub fn feature_count(&self) -> usize {
        self.feature_count
    }

    /// L, label columns per step (classes for classification).
    pub fn label_width(&self) -> usize {
        self.label_width
    }

    /// What the labels mean.
    pub fn task(&self) -> Task {
        self.task
    }

    /// The first raw lines of the first feature (and label) file, if loaded from files.
    pub fn raw_heads(&self) -> &[RawHead] {
        &self.raw_heads
    }

    /// Checks that `mode` can align this data (see [`check_alignment`]).
    pub fn check_alignment(&self, mode: AlignmentMode) -> Result<()> {
        check_alignment(&self.examples, mode)
    }

    /// One epoch of minibatches of `batch_size` examples under `mode`; the last batch
    /// keeps the remainder. With `shuffle_seed` the order is a permutation that depends
    /// only on the seed and `epoch`; without it, file order.
    ///
    /// Fails when `mode` cannot align this data (`EqualLength` with different lengths).
    /// Panics if `batch_size` is 0.
    pub fn batches(
        &self,
        mode: AlignmentMode,
        batch_size: usize,
        shuffle_seed: Option<u64>,
        epoch: u64,
    ) -> Result<Batches<'_>> {
        assert!(batch_size > 0, "batch size must be at least 1");
        self.check_alignment(mode)?;
        let mut order: Vec<usize> = (0..self.examples.len()).collect();
        if let Some(seed) = shuffle_seed {
            order.shuffle(&mut epoch_rng(seed, epoch));
        }
        Ok(Batches {
            dataset: self,
            mode,
            order,
            batch_size,
            next: 0,
        })
    }

    /// The minibatch of the examples at `indices`, in that order, under `mode`. The
    /// caller has checked the alignment.
    ///
    /// Panics on an empty or out-of-range index list.
    pub fn batch_of(&self, indices: &[usize], mode: AlignmentMode) -> SeqBatch {
        let examples: Vec<&SequenceExample> = indices.iter().map(|&i| &self.examples[i]).collect();
        align_batch(&examples, mode)
    }

    /// Splits off a validation set of `round(len * fraction)` examples. With a seed the
    /// examples are shuffled first (deterministically); without one the validation set is
    /// the last examples in file order. Returns `(train, validation)`.
    pub fn split_fraction(&self, fraction: f32, seed: Option<u64>) -> Result<(Self, Self)> {
        if !(0.0..1.0).contains(&fraction) {
            return Err(DataError::InvalidOption {
                option: "validation fraction",
                message: format!("{fraction} is not in [0, 1); e.g. 0.2 keeps 20% for validation"),
            });
        }
        let mut order: Vec<usize> = (0..self.examples.len()).collect();
        if let Some(seed) = seed {
            order.shuffle(&mut StdRng::seed_from_u64(seed));
        }
        let n_val = (self.examples.len() as f64 * f64::from(fraction)).round() as usize;
        let n_train = self.examples.len() - n_val;
        if n_train == 0 && n_val > 0 {
            return Err(DataError::InvalidOption {
                option: "validation fraction",
                message: format!(
                    "{fraction} of {} sequences puts all of them in validation and leaves no \
                     training example; lower the fraction (below {:.3} keeps at least one \
                     for training)",
                    self.examples.len(),
                    (self.examples.len() as f64 - 0.5) / self.examples.len() as f64
                ),
            });
        }
        let part = |idx: &[usize]| SequenceDataset {
            examples: idx.iter().map(|&i| self.examples[i].clone()).collect(),
            feature_count: self.feature_count,
            label_width: self.label_width,
            task: self.task,
            raw_heads: self.raw_heads.clone(),
        };
        Ok((part(&order[..n_train]), part(&order[n_train..])))
    }
}

/// A generator seeded by `(seed, epoch)`, so each epoch has its own stable shuffle.
pub(crate) fn epoch_rng(seed: u64, epoch: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ epoch.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The minibatches of one epoch (see [`SequenceDataset::batches`]).
#[derive(Clone, Debug)]
pub struct Batches<'a> {
    dataset: &'a SequenceDataset,
    mode: AlignmentMode,
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
}

impl Batches<'_> {
    /// The example indices (into the dataset) of every minibatch of this epoch, in order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }
}

impl Iterator for Batches<'_> {
    type Item = SeqBatch;

    fn next(&mut self) -> Option<SeqBatch> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.order.len());
        let batch = self
            .dataset
            .batch_of(&self.order[self.next..end], self.mode);
        self.next = end;
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.order.len() - self.next).div_ceil(self.batch_size);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Batches<'_> {}
