//! One training iteration on a minibatch: full or truncated backpropagation through
//! time, gradient normalisation, regularisation and the update.
//!
//! Truncated BPTT cuts the minibatch's `T` steps into segments of `forward` steps (the
//! last may be shorter; a sequence shorter than one segment is one segment). The state
//! at the end of a segment starts the next one. In each segment the loss counts every
//! step, but gradients flow back only through its last `backward` steps (positions
//! before them add nothing, and the state entering that window is treated as a
//! constant). Parameters update after every segment.

use ndarray::s;

use super::layer::NetState;
use super::network::{BackpropOptions, Batch, Network};
use super::normalize::{GradientNormalization, StepStats};
use super::output::LossValue;
use super::updater::{UpdateSums, Updater};
use super::{Float, OutputMode};

/// Truncated BPTT lengths; `backward <= forward`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tbptt {
    /// Steps per segment (forward pass and state carried to the next).
    pub forward: usize,
    /// Steps at the end of each segment that gradients flow through.
    pub backward: usize,
}

/// Settings of one training iteration.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitConfig {
    /// `None` = full BPTT over the minibatch.
    pub tbptt: Option<Tbptt>,
    /// Gradient normalisation or clipping before each update.
    pub normalization: GradientNormalization,
}

/// What one iteration did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitReport {
    /// Mean loss over counted positions of the whole minibatch, plus the penalty.
    pub score: f64,
    /// Data loss sums over all segments.
    pub loss: LossValue,
    /// Number of parameter updates (segments).
    pub updates: usize,
    /// Statistics of the last update.
    pub stats: StepStats,
}

/// Reusable buffers of the fitting loop (so an iteration allocates nothing new).
#[derive(Default)]
pub struct FitScratch {
    grad_sq: Vec<f64>,
    sums: Vec<UpdateSums>,
}

/// Trains on one minibatch. `state` is the initial state (carried across minibatches
/// for stateful training, or zeros) and receives the final state.
pub fn fit_batch<F: Float>(
    net: &mut Network<F>,
    updater: &mut Updater<F>,
    batch: &Batch<F>,
    state: &mut NetState<F>,
    lr: f64,
    config: &FitConfig,
    scratch: &mut FitScratch,
) -> FitReport {
    let mut report = FitReport::default();
    fit_batch_into(net, updater, batch, state, lr, config, scratch, &mut report);
    report
}

/// [`fit_batch`] writing into a report kept by the caller: once the buffers have their
/// sizes (after the first iteration), an iteration allocates nothing.
#[allow(clippy::too_many_arguments)]
pub fn fit_batch_into<F: Float>(
    net: &mut Network<F>,
    updater: &mut Updater<F>,
    batch: &Batch<F>,
    state: &mut NetState<F>,
    lr: f64,
    config: &FitConfig,
    scratch: &mut FitScratch,
    report: &mut FitReport,
) {
    let t_len = batch.features.dim().0;
    let (seg_len, back) = match config.tbptt {
        Some(t) if t.forward < t_len => {
            assert!(
                t.backward >= 1 && t.backward <= t.forward,
                "TBPTT backward length must be in 1..=forward"
            );
            assert_eq!(
                net.config().output.mode,
                OutputMode::EveryStep,
                "truncated BPTT needs an every-step output"
            );
            (t.forward, t.backward)
        }
        Some(t) => (t_len, t.backward.min(t_len)),
        None => (t_len, t_len),
    };
    let n_specs = net.specs().len();
    scratch.grad_sq.resize(n_specs, 0.0);
    scratch.sums.resize(n_specs, UpdateSums::default());
    report.score = 0.0;
    report.loss = LossValue::default();
    report.updates = 0;
    let mut start = 0;
    while start < t_len.max(1) {
        let end = (start + seg_len).min(t_len);
        let seg = Batch {
            features: batch.features.slice_move(s![start..end, .., ..]),
            labels: if net.config().output.mode == OutputMode::EveryStep {
                batch.labels.slice_move(s![start..end, .., ..])
            } else {
                batch.labels
            },
            feature_mask: batch.feature_mask.map(|m| m.slice_move(s![start..end, ..])),
            label_mask: match net.config().output.mode {
                OutputMode::EveryStep => batch.label_mask.map(|m| m.slice_move(s![start..end, ..])),
                OutputMode::LastStep => batch.label_mask,
            },
        };
        let len = end - start;
        let opts = BackpropOptions {
            from: len.saturating_sub(back),
            input_grad: false,
            train: true,
        };
        net.zero_grads();
        let loss = net.forward_backward_in_place(&seg, state, &opts);
        report.loss.sum += loss.sum;
        report.loss.count += loss.count;

        net.normalize_and_update(
            updater,
            lr,
            config.normalization,
            &mut scratch.grad_sq,
            &mut scratch.sums,
        );
        report.updates += 1;
        if end == t_len {
            report
                .stats
                .update_from_sums(net.specs(), &scratch.grad_sq, &scratch.sums);
            break;
        }
        start = end;
    }
    report.score = report.loss.mean() + net.regularization_penalty();
}
