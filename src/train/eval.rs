//! Evaluation on held-out data: the score, and classification (accuracy, per-class
//! precision/recall/F1, confusion matrix) or regression (MSE, MAE, R^2) metrics over
//! unmasked positions only (like DL4J's `evalTimeSeries`).

use ndarray::{Array2, Array3};
use serde::Serialize;

use super::TrainError;
use crate::data::SeqBatch;
use crate::nn::network::{Batch, NetState, Network};
use crate::nn::OutputMode;

/// Metrics of one evaluation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// Iteration after which it ran.
    pub iteration: u64,
    /// Which split: "validation" or "test".
    pub split: String,
    /// Mean loss per counted position (no penalty).
    pub score: f64,
    /// Counted (unmasked) positions.
    pub positions: u64,
    pub metrics: EvalMetrics,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EvalMetrics {
    Classification {
        accuracy: f64,
        precision: Vec<f64>,
        recall: Vec<f64>,
        f1: Vec<f64>,
        macro_f1: f64,
        /// `confusion[actual][predicted]`
        confusion: Vec<Vec<u64>>,
    },
    Regression {
        mse: f64,
        mae: f64,
        r2: f64,
    },
}

impl Evaluation {
    /// The headline figure: accuracy or MSE.
    pub fn headline(&self) -> (&'static str, f64) {
        match &self.metrics {
            EvalMetrics::Classification { accuracy, .. } => ("accuracy", *accuracy),
            EvalMetrics::Regression { mse, .. } => ("mse", *mse),
        }
    }
}

/// Accumulates predictions against labels.
pub struct Accumulator {
    classification: bool,
    width: usize,
    loss_sum: f64,
    loss_count: f64,
    confusion: Vec<Vec<u64>>,
    // regression sums
    n: f64,
    se: f64,
    ae: f64,
    y_sum: f64,
    y_sq: f64,
}

impl Accumulator {
    pub fn new(classification: bool, width: usize) -> Self {
        Accumulator {
            classification,
            width,
            loss_sum: 0.0,
            loss_count: 0.0,
            confusion: vec![vec![0; width]; if classification { width } else { 0 }],
            n: 0.0,
            se: 0.0,
            ae: 0.0,
            y_sum: 0.0,
            y_sq: 0.0,
        }
    }

    /// Adds a batch: predictions and labels `(T, B, O)`, label mask `(T, B)`.
    pub fn add(
        &mut self,
        loss: crate::nn::output::LossValue,
        pred: &Array3<f32>,
        labels: &Array3<f32>,
        mask: Option<&Array2<f32>>,
    ) {
        self.loss_sum += loss.sum;
        self.loss_count += loss.count;
        let (t_len, b, o) = pred.dim();
        for t in 0..t_len {
            for k in 0..b {
                if mask.is_some_and(|m| m[[t, k]] == 0.0) {
                    continue;
                }
                if self.classification {
                    let argmax = |f: &dyn Fn(usize) -> f32| {
                        (0..o).max_by(|&a, &c| f(a).total_cmp(&f(c))).unwrap_or(0)
                    };
                    let actual = argmax(&|c| labels[[t, k, c]]);
                    let predicted = argmax(&|c| pred[[t, k, c]]);
                    self.confusion[actual][predicted] += 1;
                } else {
                    for c in 0..o {
                        let (p, y) = (pred[[t, k, c]] as f64, labels[[t, k, c]] as f64);
                        self.n += 1.0;
                        self.se += (p - y) * (p - y);
                        self.ae += (p - y).abs();
                        self.y_sum += y;
                        self.y_sq += y * y;
                    }
                }
            }
        }
    }

    pub fn finish(self, iteration: u64, split: &str) -> Evaluation {
        let score = if self.loss_count > 0.0 {
            self.loss_sum / self.loss_count
        } else {
            f64::NAN
        };
        let metrics = if self.classification {
            let w = self.width;
            let total: u64 = self.confusion.iter().flatten().sum();
            let correct: u64 = (0..w).map(|c| self.confusion[c][c]).sum();
            let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
            let precision: Vec<f64> = (0..w)
                .map(|c| {
                    ratio(
                        self.confusion[c][c],
                        (0..w).map(|a| self.confusion[a][c]).sum(),
                    )
                })
                .collect();
            let recall: Vec<f64> = (0..w)
                .map(|c| ratio(self.confusion[c][c], self.confusion[c].iter().sum()))
                .collect();
            let f1: Vec<f64> = precision
                .iter()
                .zip(&recall)
                .map(|(p, r)| {
                    if p + r > 0.0 {
                        2.0 * p * r / (p + r)
                    } else {
                        0.0
                    }
                })
                .collect();
            // macro F1 over classes that occur (as actual or predicted)
            let present: Vec<usize> = (0..w)
                .filter(|&c| {
                    self.confusion[c].iter().sum::<u64>()
                        + (0..w).map(|a| self.confusion[a][c]).sum::<u64>()
                        > 0
                })
                .collect();
            let macro_f1 = if present.is_empty() {
                0.0
            } else {
                present.iter().map(|&c| f1[c]).sum::<f64>() / present.len() as f64
            };
            EvalMetrics::Classification {
                accuracy: ratio(correct, total),
                precision,
                recall,
                f1,
                macro_f1,
                confusion: self.confusion,
            }
        } else {
            let n = self.n.max(1.0);
            let mean = self.y_sum / n;
            let var = self.y_sq / n - mean * mean;
            let mse = self.se / n;
            EvalMetrics::Regression {
                mse,
                mae: self.ae / n,
                r2: if var > 0.0 { 1.0 - mse / var } else { 0.0 },
            }
        };
        Evaluation {
            iteration,
            split: split.to_string(),
            score,
            positions: self.loss_count as u64,
            metrics,
        }
    }
}

/// Score and metrics of `net` over `batches` (the trainer's validation, the test split,
/// `seqlab eval`): mean loss over counted positions, and accuracy / F1 / confusion or
/// MSE / MAE / R². With `carry` (stream data) each batch starts from the previous one's
/// final state.
pub fn evaluate_batches(
    net: &mut Network<f32>,
    batches: &[SeqBatch],
    classification: bool,
    carry: bool,
    iteration: u64,
    split: &str,
) -> Evaluation {
    match evaluate_batches_until(
        net,
        batches,
        classification,
        carry,
        iteration,
        split,
        &|| false,
    ) {
        Ok(ev) => ev,
        Err(_) => unreachable!("nothing stops it"),
    }
}

/// [`evaluate_batches`], asking `stop` before each batch: when it answers true, the
/// evaluation ends there with [`TrainError::Interrupted`] (a front end's Stop button or
/// Ctrl-C while a long split is scored).
pub fn evaluate_batches_until(
    net: &mut Network<f32>,
    batches: &[SeqBatch],
    classification: bool,
    carry: bool,
    iteration: u64,
    split: &str,
    stop: &dyn Fn() -> bool,
) -> Result<Evaluation, TrainError> {
    let last_step = net.config().output.mode == OutputMode::LastStep;
    let mut acc = Accumulator::new(classification, net.config().output.size);
    let mut state: Option<NetState<f32>> = None;
    for (done, mb) in batches.iter().enumerate() {
        if stop() {
            return Err(TrainError::Interrupted {
                what: format!("scoring the {split} split"),
                done,
                total: batches.len(),
            });
        }
        let b = mb.batch_size();
        let mut st = match state.take() {
            Some(s) if carry && s.iter().flatten().all(|l| l.batch() == b) => s,
            _ => net.zero_state(b),
        };
        if last_step {
            let labels = mb.last_step_labels();
            let batch = Batch {
                features: mb.features.view(),
                labels: labels.view(),
                feature_mask: mb.feature_mask.as_ref().map(|m| m.view()),
                label_mask: None,
            };
            let (loss, pred) = net.loss_and_predictions(&batch, &mut st);
            acc.add(loss, &pred, &labels, None);
        } else {
            let batch = Batch {
                features: mb.features.view(),
                labels: mb.labels.view(),
                feature_mask: mb.feature_mask.as_ref().map(|m| m.view()),
                label_mask: mb.label_mask.as_ref().map(|m| m.view()),
            };
            let (loss, pred) = net.loss_and_predictions(&batch, &mut st);
            acc.add(loss, &pred, &mb.labels, mb.label_mask.as_ref());
        }
        state = Some(st);
    }
    Ok(acc.finish(iteration, split))
}
