//! One sequence of a data set: its features and labels, the type every reader makes
//! and alignment, batching and the preview take.

use std::path::PathBuf;

use ndarray::Array2;

/// One sequence: its features and its labels, each with its own number of steps
/// (many-to-many, many-to-one with one label step, one-to-many with one feature step).
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceExample {
    /// `(Tf, F)`.
    pub features: Array2<f32>,
    /// `(Tl, L)`: one-hot rows for classification, values for regression.
    pub labels: Array2<f32>,
    /// The feature file it was read from, if any (named in messages and the preview).
    pub source: Option<PathBuf>,
}

impl SequenceExample {
    /// An example that came from no file.
    pub fn new(features: Array2<f32>, labels: Array2<f32>) -> Self {
        SequenceExample {
            features,
            labels,
            source: None,
        }
    }

    /// Tf, the number of feature steps.
    pub fn feature_steps(&self) -> usize {
        self.features.nrows()
    }

    /// Tl, the number of label steps.
    pub fn label_steps(&self) -> usize {
        self.labels.nrows()
    }

    /// The source file's path, or `"an example"` for generated data.
    pub fn name(&self) -> String {
        match &self.source {
            Some(path) => path.display().to_string(),
            None => "an example".to_string(),
        }
    }
}
