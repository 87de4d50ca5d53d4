//! The session and its command language, shared by the terminal (`seqlab repl`), scripts
//! and the window's command line. No GUI here: commands go in as text, outputs come out
//! as typed values ([`Output`]) that each front end draws as it can.
//!
//! - [`command`]: the parser (one line -> [`Command`]) and the help table.
//! - [`session`]: the [`Session`] that executes commands against an experiment, its
//!   data, the selected run's model (with its stepping state) and the active run.
//! - [`kernel`]: the session on its own thread behind requests, replies and snapshots
//!   (the window's front door).
//! - [`render`]: outputs as plain text (terminal, scripts, the console log).
//! - [`sweep`]: the `sweep` commands and the notebook's sweep cell.

pub mod command;
pub mod kernel;
pub mod render;
pub mod session;
pub mod sweep;

pub use crate::experiment::notebook::{Cell, Output};
pub use command::Command;
pub use kernel::{Kernel, Reply, Snapshot};
pub use session::parse;
pub use session::Session;
