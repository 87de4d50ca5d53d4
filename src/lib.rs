//! seqlab: recurrent-network sequence experiments.
#[cfg(feature = "gui")]
pub mod app;
pub mod bench;
pub mod blas;
pub mod cli;
pub mod data;
pub mod experiment;
pub mod nn;
pub mod repl;
pub mod train;
