//! `seqlab export RUN --torch DIR`: a run's weights as a PyTorch `state_dict` plus a
//! runnable module file (see [`crate::experiment::torch_export`]).

use std::path::PathBuf;
use std::process::ExitCode;

/// `seqlab export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// A run folder written by `seqlab --run`.
    pub run_dir: PathBuf,
    /// Write `state_dict.safetensors` (PyTorch's own module names) and `model.py` (a
    /// PyTorch module that builds the same network and loads them) into this folder.
    #[arg(long, value_name = "DIR", required = true)]
    pub torch: PathBuf,
    /// Export best.safetensors (early stopping's best) instead of the final weights.
    #[arg(long)]
    pub best: bool,
}

pub fn run(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let model = crate::train::trainer::load_trained(&args.run_dir, args.best)?;
    let file = args.run_dir.join(if args.best {
        "best.safetensors"
    } else {
        "weights.safetensors"
    });
    let (_, metadata) = crate::experiment::weights::load_weights_with_metadata(&file)?;
    let (state, module) = crate::experiment::torch_export::export_torch(
        &model.net,
        &metadata,
        &args.run_dir,
        &args.torch,
    )?;
    println!(
        "wrote {} (PyTorch names) and {} (python {} builds and loads it)",
        state.display(),
        module.display(),
        module.display()
    );
    Ok(ExitCode::SUCCESS)
}
