//! Training: the synchronous [`Trainer`] (one iteration at a time), the background
//! [`runner`] (named thread, commands in, events out), evaluation and sampling, and
//! sweeps ([`sweep`] on this machine, [`sweep_slurm`] as a job array, one
//! [`SweepBackend`] in front of both).

pub mod data;
pub mod eval;
pub mod event;
pub mod memory;
pub mod predict;
pub mod runner;
pub mod sample;
pub mod sweep;
pub mod sweep_backend;
pub mod sweep_slurm;
pub mod trainer;
pub mod view;

pub use data::{DataShape, TrainingData};
pub use eval::Evaluation;
pub use runner::{Command, Event, Runner};
pub use sweep_backend::{LaunchOptions, Launched, SweepBackend, SweepStatus};
pub use trainer::{IterationMetrics, StopReason, Trainer};

use crate::data::DataError;
use crate::experiment::ExperimentError;

/// Why training could not start or go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    #[error("{0}")]
    Network(#[from] crate::nn::network::NetworkError),
    /// The score or the parameters became NaN or infinite; the trainer's parameters are
    /// those after the previous iteration (the last finite ones).
    #[error(
        "{} at iteration {iteration}: training diverged (the parameters of iteration {} are \
         kept). Lower the learning rate (now {lr:e}), clip gradients \
         (training.gradient_normalization: ClipGlobalL2(5.0)) or normalise the features",
        if *.parameters { format!("the parameters became non-finite (score {score})") } else { format!("the score became {score}") },
        .iteration.saturating_sub(1)
    )]
    Diverged {
        iteration: u64,
        score: f64,
        lr: f64,
        /// True when the score was finite but the update made parameters non-finite.
        parameters: bool,
    },
    /// The data cannot feed training as configured (empty corpus, fewer steps than
    /// parallel streams, nothing left after the validation split); the message names the
    /// file and the setting to change.
    #[error("{0}")]
    NotEnoughData(String),
    /// The network and its activations would not fit in memory.
    #[error("{0}")]
    TooLarge(String),
    /// A weights file that does not fit this network or lacks the metadata seqlab
    /// writes; the message names the file.
    #[error("{0}")]
    Weights(String),
    /// A checkpoint that does not fit this experiment's network (parameter, updater or
    /// carried-state shapes).
    #[error("{0}")]
    Checkpoint(String),
    /// A request the model or data cannot serve (`seqlab predict`/`eval` options).
    #[error("{0}")]
    Request(String),
    /// A long piece of work stopped on request (Stop, Ctrl-C) before it was done.
    #[error("stopped {what} after {done} of {total} batches, as asked; run it again to finish")]
    Interrupted {
        what: String,
        done: usize,
        total: usize,
    },
}
