//! The minibatch the trainer consumes, and its example-major JSON form.

use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};

/// One time-major minibatch.
///
/// Padded steps hold 0 in `features` and `labels`. A mask is `None` when it would be all
/// ones (every example real at every step), so the trainer can skip masking entirely.
/// Real steps of one example are always contiguous (alignment pads before or after,
/// never in the middle).
#[derive(Clone, Debug, PartialEq)]
pub struct SeqBatch {
    /// `(T, B, F)` inputs.
    pub features: Array3<f32>,
    /// `(T, B, L)` targets: one-hot classes (L = classes) or regression values.
    pub labels: Array3<f32>,
    /// `(T, B)`, 1.0 where the example has a real feature step, 0.0 for padding.
    pub feature_mask: Option<Array2<f32>>,
    /// `(T, B)`, 1.0 where the example has a real label step, 0.0 for padding.
    pub label_mask: Option<Array2<f32>>,
}

impl SeqBatch {
    /// Builds a batch, dropping masks that are all ones.
    ///
    /// Panics if the shapes disagree (a programmer error, not bad input).
    pub fn new(
        features: Array3<f32>,
        labels: Array3<f32>,
        feature_mask: Option<Array2<f32>>,
        label_mask: Option<Array2<f32>>,
    ) -> Self {
        let (t, b, _) = features.dim();
        assert_eq!(
            (labels.dim().0, labels.dim().1),
            (t, b),
            "labels must be (T, B, L) with the features' T and B"
        );
        for mask in [&feature_mask, &label_mask].into_iter().flatten() {
            assert_eq!(mask.dim(), (t, b), "masks must be (T, B)");
        }
        let drop_ones = |m: Option<Array2<f32>>| m.filter(|m| m.iter().any(|&v| v != 1.0));
        SeqBatch {
            features,
            labels,
            feature_mask: drop_ones(feature_mask),
            label_mask: drop_ones(label_mask),
        }
    }

    /// B, the number of examples.
    pub fn batch_size(&self) -> usize {
        self.features.dim().1
    }

    /// T, the number of time steps.
    pub fn steps(&self) -> usize {
        self.features.dim().0
    }

    /// F, the number of features per step.
    pub fn feature_count(&self) -> usize {
        self.features.dim().2
    }

    /// L, the label width (number of classes, or of regression targets).
    pub fn label_width(&self) -> usize {
        self.labels.dim().2
    }

    /// Real feature steps of each example.
    pub fn feature_lengths(&self) -> Vec<usize> {
        mask_lengths(self.feature_mask.as_ref(), self.steps(), self.batch_size())
    }

    /// Real label steps of each example.
    pub fn label_lengths(&self) -> Vec<usize> {
        mask_lengths(self.label_mask.as_ref(), self.steps(), self.batch_size())
    }

    /// For each example, the index of its last real feature step (its output step in a
    /// many-to-one network).
    pub fn last_feature_steps(&self) -> Vec<usize> {
        last_real_steps(self.feature_mask.as_ref(), self.steps(), self.batch_size())
    }

    /// For each example, the index of its last real label step. For many-to-one data
    /// with `ALIGN_END` this is the step its single label sits at.
    pub fn last_label_steps(&self) -> Vec<usize> {
        last_real_steps(self.label_mask.as_ref(), self.steps(), self.batch_size())
    }

    /// The labels at each example's last real label step, as `(1, B, L)`: the targets of
    /// an output layer that only sees the last step (many-to-one without a label mask).
    pub fn last_step_labels(&self) -> Array3<f32> {
        let (_, b, l) = self.labels.dim();
        let mut out = Array3::zeros((1, b, l));
        for (i, t) in self.last_label_steps().into_iter().enumerate() {
            out.slice_mut(ndarray::s![0, i, ..])
                .assign(&self.labels.slice(ndarray::s![t, i, ..]));
        }
        out
    }

    /// The example-major form printed by `seqlab data --json`.
    pub fn to_dump(&self) -> BatchDump {
        let example_major = |a: &Array3<f32>| -> Vec<Vec<Vec<f32>>> {
            a.axis_iter(Axis(1))
                .map(|ex| ex.outer_iter().map(|step| step.to_vec()).collect())
                .collect()
        };
        let mask = |m: &Option<Array2<f32>>| -> Option<Vec<Vec<u8>>> {
            m.as_ref().map(|m| {
                m.axis_iter(Axis(1))
                    .map(|ex| ex.iter().map(|&v| u8::from(v != 0.0)).collect())
                    .collect()
            })
        };
        BatchDump {
            features: example_major(&self.features),
            labels: example_major(&self.labels),
            feature_mask: mask(&self.feature_mask),
            label_mask: mask(&self.label_mask),
            lengths: Lengths {
                features: self.feature_lengths(),
                labels: self.label_lengths(),
            },
        }
    }
}

fn mask_lengths(mask: Option<&Array2<f32>>, t: usize, b: usize) -> Vec<usize> {
    match mask {
        Some(m) => m
            .axis_iter(Axis(1))
            .map(|col| col.iter().filter(|&&v| v != 0.0).count())
            .collect(),
        None => vec![t; b],
    }
}

fn last_real_steps(mask: Option<&Array2<f32>>, t: usize, b: usize) -> Vec<usize> {
    match mask {
        Some(m) => m
            .axis_iter(Axis(1))
            .map(|col| col.iter().rposition(|&v| v != 0.0).unwrap_or(0))
            .collect(),
        None => vec![t.saturating_sub(1); b],
    }
}

/// A minibatch in example-major nested arrays, the `seqlab data --json` format:
/// `features[b][t][f]`, `labels[b][t][l]`, masks `[b][t]` of 0/1 or `null` when all ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchDump {
    pub features: Vec<Vec<Vec<f32>>>,
    pub labels: Vec<Vec<Vec<f32>>>,
    pub feature_mask: Option<Vec<Vec<u8>>>,
    pub label_mask: Option<Vec<Vec<u8>>>,
    pub lengths: Lengths,
}

/// Real steps per example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lengths {
    pub features: Vec<usize>,
    pub labels: Vec<usize>,
}
