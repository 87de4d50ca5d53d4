//! seqlab: recurrent-network sequence experiments (a desktop notebook and REPL).
//!
//! # Code map
//! Dependencies point one way: `app -> repl -> train -> experiment -> {nn, data}`;
//! `cli` sits beside `app`; `bench` and `threads` sit above `train`/`nn`.
//!
//! - [`nn`]: numerics only (no files, serde, GUI). Every hidden layer implements
//!   [`nn::layer::Layer`]; [`nn::config::LayerKind::build`] is the registration of the
//!   kinds; [`nn::network::Network`] is the stack over one flat parameter buffer.
//! - [`blas`]: the thin OpenBLAS binding (kernel, thread count, sgemm probe).
//! - [`threads`]: the one owner of the thread setting ([`threads::ThreadGuard`]).
//! - [`data`]: readers, alignment, masks, batching (never imports `nn`).
//! - [`experiment`]: the only code that knows file formats (RON experiments, safetensors
//!   weights and their metadata, checkpoints, run folders).
//! - [`train`]: the trainer, the background runner (commands in, events out),
//!   evaluation, sampling, prediction, sweeps.
//! - [`repl`]: the session and its command language, used by the window and the
//!   terminal.
//! - `app` (feature `gui`): the only code naming egui/eframe.
//! - [`cli`]: clap, then dispatch; [`bench`]: the reference workloads of `seqlab bench`.
#[cfg(feature = "gui")]
pub mod app;
pub mod bench;
pub mod blas;
pub mod cli;
pub mod data;
pub mod experiment;
pub mod nn;
pub mod repl;
pub mod threads;
pub mod train;
