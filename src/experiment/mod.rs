//! Experiment files (RON), weights (safetensors), checkpoints and run folders: the only
//! module that knows file formats.
pub mod build;
pub mod checkpoint;
pub mod error;
pub mod fields;
pub mod file;
pub mod io;
pub mod notebook;
pub mod rundir;
pub mod schema;
pub mod sweep;
pub mod sweep_spec;
pub mod torch_export;
pub mod validate;
pub mod weights;

pub use error::ExperimentError;
pub use schema::Experiment;
