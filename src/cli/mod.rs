//! The command line: clap definitions and dispatch. Thin: each command calls the library.

use std::process::ExitCode;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

pub mod args;
pub mod bench;
pub mod data;
pub mod export;
pub mod repl;
pub mod run;
pub mod sweep;

/// seqlab: recurrent-network sequence experiments (LSTM, GRU, RNN) on the CPU.
///
/// With no arguments it opens the desktop notebook (when built with the `gui` feature).
#[derive(Parser, Debug)]
#[command(name = "seqlab", version = env!("CARGO_PKG_VERSION"), long_version = version_text(), args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Train the experiment in this RON file without a window (give no file with
    /// --resume RUN_DIR).
    #[arg(long, value_name = "EXPERIMENT", num_args = 0..=1)]
    pub run: Option<Option<PathBuf>>,
    #[command(flatten)]
    pub run_args: run::RunArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// An experiment file to open in the window (`seqlab experiment.ron`).
    #[arg(value_name = "FILE", conflicts_with = "run")]
    pub file: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the finite-difference gradient checks (a self-test after building with another
    /// BLAS); exits non-zero on failure.
    Gradcheck(GradcheckArgs),
    /// Generate text from a trained character model (a run folder).
    Sample(run::SampleArgs),
    /// Write predictions of a trained model for new CSV sequence files.
    Predict(run::PredictArgs),
    /// Score labelled CSV sequence files with a trained model.
    Eval(run::EvalArgs),
    /// Preview how CSV sequence files are read, aligned, padded and masked.
    Data(data::DataArgs),
    /// Measure training and sampling speed on the reference workloads.
    Bench(bench::BenchArgs),
    /// Export a run's weights for PyTorch: a state_dict in PyTorch's names and a
    /// module file that builds the same network.
    Export(export::ExportArgs),
    /// The notebook's command language in a terminal (or a script on standard input).
    Repl(repl::ReplArgs),
    /// Run an experiment's sweep (many trials with other settings) on this machine or
    /// as a Slurm job array; follow or cancel it.
    Sweep(sweep::SweepArgs),
}

#[derive(clap::Args, Debug)]
pub struct GradcheckArgs {
    /// Only run cases whose name contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Print every tensor's worst error, not only each case's.
    #[arg(long)]
    pub verbose: bool,
}

/// `--version`: the crate version plus the BLAS library, kernel and threads.
fn version_text() -> clap::builder::Str {
    let info = crate::threads::info();
    let decision = crate::blas::kernel_decision()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    format!("{}\nBLAS: {info}{decision}", env!("CARGO_PKG_VERSION")).into()
}

/// Parses the command line and runs the command; errors print one line and exit 1.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.kind() == clap::error::ErrorKind::InvalidUtf8 => {
            eprintln!("seqlab: {}", invalid_utf8_argument(std::env::args_os()));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    if cli.command.is_some() || cli.run.is_some() || cli.run_args.resume.is_some() {
        quiet_broken_pipe(); // not for the window: it writes to no pipe
    }
    let result = match cli.command {
        _ if cli.run.is_some() || cli.run_args.resume.is_some() => {
            run::run(cli.run.flatten().as_deref(), &cli.run_args)
        }
        Some(Command::Sample(args)) => run::sample(&args),
        Some(Command::Predict(args)) => run::predict(&args),
        Some(Command::Eval(args)) => run::eval(&args),
        Some(Command::Gradcheck(args)) => gradcheck(&args),
        Some(Command::Data(args)) => data::run(&args).map(|_| ExitCode::SUCCESS),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Repl(args)) => repl::run(&args),
        Some(Command::Sweep(args)) => sweep::run(&args),
        None => open_window(cli.file),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("seqlab: {}", error_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The one line printed for an error: the error, then each cause in its chain that the
/// text so far does not already say (many errors include their cause in their own
/// message), so every cause is printed once.
pub fn error_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

/// Names the first command-line argument that is not valid UTF-8 (and the option it
/// belongs to), for clap's `InvalidUtf8` error.
pub fn invalid_utf8_argument(args: impl IntoIterator<Item = std::ffi::OsString>) -> String {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    let Some(i) = args.iter().position(|a| a.to_str().is_none()) else {
        return "an argument is not valid UTF-8; give the text as UTF-8".into();
    };
    let shown = args[i].to_string_lossy();
    let option = args[..i]
        .last()
        .and_then(|a| a.to_str())
        .filter(|a| a.starts_with("--"));
    match option {
        Some(option) => format!(
            "the value of {option} ({shown:?}, argument {i}) is not valid UTF-8; give it as \
             UTF-8 text"
        ),
        None => format!("argument {i} ({shown:?}) is not valid UTF-8; give it as UTF-8 text"),
    }
}

/// Ends the process at once with `code`, from any thread, without running exit handlers.
///
/// `std::process::exit` runs the C library's exit handlers, and OpenBLAS's frees the
/// buffers of its threads: if the training thread is inside a matrix product at that
/// moment, the process dies of SIGSEGV instead of exiting with `code` (seen with a second
/// Ctrl-C during a run). `_exit` ends every thread where it stands. A resume loses nothing:
/// checkpoints are written whole (temp file, then rename) and `--resume` trims the logs to
/// the last checkpoint. stderr is unbuffered.
/// stdout is not flushed: another thread may hold its lock, blocked on a full pipe, and a
/// forced quit must not wait for it.
pub(crate) fn exit_now(code: i32) -> ! {
    #[cfg(unix)]
    // SAFETY: _exit takes no pointers and does not return.
    unsafe {
        libc::_exit(code)
    }
    #[cfg(not(unix))]
    std::process::exit(code)
}

/// Writing to a closed pipe (`seqlab ... | head`) ends the process quietly, as command-line
/// tools do: `println!` panics with "failed printing to stdout: Broken pipe", and this
/// panic hook turns exactly that panic into a silent exit (status 141, as a shell reports
/// a process ended by SIGPIPE). Every other panic goes to the default hook.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.starts_with("failed printing to std") && text.contains("Broken pipe") {
            exit_now(141);
        }
        default(info);
    }));
}

fn gradcheck(args: &GradcheckArgs) -> anyhow::Result<ExitCode> {
    use crate::nn::gradcheck::{run_case, standard_suite, Tolerance};
    let tol = Tolerance::default();
    let suite = standard_suite();
    let selected: Vec<_> = suite
        .iter()
        .filter(|case| {
            args.filter
                .as_ref()
                .is_none_or(|f| case.name.contains(f.as_str()))
        })
        .collect();
    if selected.is_empty() {
        let names: Vec<&str> = suite.iter().map(|c| c.name.as_str()).collect();
        anyhow::bail!(
            "--filter {:?} matches none of the {} gradient-check cases; give part of one of \
             their names: {}",
            args.filter.as_deref().unwrap_or_default(),
            names.len(),
            names.join(", ")
        );
    }
    println!(
        "gradient check: f64 central differences, eps {:e}; pass = relative error <= {:e} where absolute error >= {:e}",
        tol.eps, tol.max_rel, tol.min_abs
    );
    let (mut failed, mut ran) = (0, 0);
    for case in selected {
        ran += 1;
        let report = run_case(case, 7, tol);
        let status = if report.passed() { "ok  " } else { "FAIL" };
        println!(
            "{status} {:<48} worst relative error {:.2e}",
            report.case,
            report.worst_rel()
        );
        if args.verbose || !report.passed() {
            for t in &report.tensors {
                println!(
                    "       {:<22} {:>4} values  worst rel {:.2e}  worst abs {:.2e}  failures {}",
                    t.name, t.checked, t.max_rel, t.max_abs, t.failures
                );
            }
        }
        if !report.passed() {
            failed += 1;
        }
    }
    println!("{} passed, {} failed", ran - failed, failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(feature = "gui")]
fn open_window(initial_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    crate::app::run(initial_file)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "gui"))]
fn open_window(_initial_file: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    Cli::command().print_help()?;
    println!("\n(this build has no desktop window: rebuild with the default `gui` feature)");
    Ok(ExitCode::SUCCESS)
}
