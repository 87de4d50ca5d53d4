//! Per-feature normalisation fitted on training data and reused everywhere else.

use ndarray::{ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use super::batch::SeqBatch;
use super::dataset::SequenceDataset;
use super::error::{DataError, Result};

/// Which normalisation to fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Normalization {
    /// Features are used as they are.
    #[default]
    None,
    /// `(x - mean) / std` per feature (population std; a constant feature becomes 0).
    Standardize,
    /// `(x - min) / (max - min)` per feature, into `[0, 1]` on the training data (a
    /// constant feature becomes 0).
    MinMax,
}

/// Fitted per-feature statistics. Serialisable, so the experiment keeps them with the
/// model and applies the same transform to validation, test and inference data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeatureNormalizer {
    Standardize { mean: Vec<f32>, std: Vec<f32> },
    MinMax { min: Vec<f32>, max: Vec<f32> },
}

impl FeatureNormalizer {
    /// Fits `kind` on every real step of `train`. `None` for [`Normalization::None`].
    /// Fails on an empty training set.
    pub fn fit(kind: Normalization, train: &SequenceDataset) -> Result<Option<Self>> {
        if kind == Normalization::None {
            return Ok(None);
        }
        if train.is_empty() {
            return Err(DataError::InvalidOption {
                option: "normalization",
                message: "cannot fit normalisation on an empty training split; lower the \
                          validation fraction or add data"
                    .to_string(),
            });
        }
        let f = train.feature_count();
        let rows = || {
            train
                .examples()
                .iter()
                .flat_map(|e| e.features.outer_iter())
        };
        Ok(Some(match kind {
            Normalization::None => unreachable!("handled above"),
            Normalization::Standardize => {
                // accumulate in f64: long series of f32 sums drift
                let mut sum = vec![0.0f64; f];
                let mut n = 0usize;
                for row in rows() {
                    for (s, &x) in sum.iter_mut().zip(row) {
                        *s += f64::from(x);
                    }
                    n += 1;
                }
                let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
                let mut sq = vec![0.0f64; f];
                for row in rows() {
                    for ((s, &x), m) in sq.iter_mut().zip(row).zip(&mean) {
                        *s += (f64::from(x) - m).powi(2);
                    }
                }
                FeatureNormalizer::Standardize {
                    mean: mean.iter().map(|&m| m as f32).collect(),
                    std: sq.iter().map(|s| (s / n as f64).sqrt() as f32).collect(),
                }
            }
            Normalization::MinMax => {
                let mut min = vec![f32::INFINITY; f];
                let mut max = vec![f32::NEG_INFINITY; f];
                for row in rows() {
                    for ((lo, hi), &x) in min.iter_mut().zip(max.iter_mut()).zip(row) {
                        *lo = lo.min(x);
                        *hi = hi.max(x);
                    }
                }
                FeatureNormalizer::MinMax { min, max }
            }
        }))
    }

    /// Number of features the statistics cover.
    pub fn feature_count(&self) -> usize {
        match self {
            FeatureNormalizer::Standardize { mean, .. } => mean.len(),
            FeatureNormalizer::MinMax { min, .. } => min.len(),
        }
    }

    /// Transforms `(steps, F)` feature rows in place.
    pub fn transform(&self, mut rows: ArrayViewMut2<'_, f32>) -> Result<()> {
        self.check(rows.ncols())?;
        for mut row in rows.axis_iter_mut(Axis(0)) {
            for (j, x) in row.iter_mut().enumerate() {
                *x = self.transform_value(j, *x);
            }
        }
        Ok(())
    }

    /// Transforms every example of `data` in place.
    pub fn apply(&self, data: &mut SequenceDataset) -> Result<()> {
        self.check(data.feature_count())?;
        for example in data.examples_mut() {
            self.transform(example.features.view_mut())?;
        }
        Ok(())
    }

    /// Transforms the real steps of a minibatch in place; padding stays 0.
    pub fn apply_to_batch(&self, batch: &mut SeqBatch) -> Result<()> {
        self.check(batch.feature_count())?;
        let (t_len, b_len, _) = batch.features.dim();
        for t in 0..t_len {
            for b in 0..b_len {
                let real = batch.feature_mask.as_ref().is_none_or(|m| m[[t, b]] != 0.0);
                if real {
                    let mut row = batch.features.slice_mut(ndarray::s![t, b, ..]);
                    for (j, x) in row.iter_mut().enumerate() {
                        *x = self.transform_value(j, *x);
                    }
                }
            }
        }
        Ok(())
    }

    fn check(&self, found: usize) -> Result<()> {
        if found != self.feature_count() {
            return Err(DataError::FeatureCountMismatch {
                expected: self.feature_count(),
                found,
            });
        }
        Ok(())
    }

    fn transform_value(&self, j: usize, x: f32) -> f32 {
        match self {
            FeatureNormalizer::Standardize { mean, std } => {
                let s = if std[j] > 0.0 { std[j] } else { 1.0 };
                (x - mean[j]) / s
            }
            FeatureNormalizer::MinMax { min, max } => {
                let range = max[j] - min[j];
                if range > 0.0 {
                    (x - min[j]) / range
                } else {
                    0.0
                }
            }
        }
    }
}
