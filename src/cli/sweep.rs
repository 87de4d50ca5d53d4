//! `seqlab sweep`: run a sweep on this machine or as a Slurm job array, follow it,
//! cancel it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::experiment::sweep::{Results, TrialState};
use crate::train::sweep::{self, Progress, Sweep};
use crate::train::sweep_slurm::SlurmOptions;
use crate::train::{LaunchOptions, Launched, SweepBackend};

/// `seqlab sweep`.
#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  seqlab sweep exp.ron --parallel 2\n  seqlab sweep exp.ron --slurm --partition short --time 00:30:00\n  seqlab sweep --status exp.sweep\n  seqlab sweep --cancel exp.sweep\n\nExit status: 0 when the sweep ran to its end, even if trials failed or diverged (a failed trial is a result: its row says why, and the summary counts it); 1 when the sweep could not run; 130 when stopped with Ctrl-C (run it again to resume)."
)]
pub struct SweepArgs {
    /// An experiment with a `sweep` section, or a sweep file `(experiment: "exp.ron",
    /// grid: {...})`.
    #[arg(value_name = "FILE", required_unless_present_any = ["status", "cancel"])]
    pub file: Option<PathBuf>,
    /// The sweep folder (default: `<file stem>.sweep/` beside the file). Running the
    /// same sweep into the same folder again resumes it.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Trials at a time on this machine (default: the number of cores; one BLAS thread
    /// per trial).
    #[arg(long, value_name = "N", value_parser = super::args::whole_usize)]
    pub parallel: Option<usize>,
    /// Print the state of the sweep in DIR (local or Slurm) and rewrite its sweep.csv
    /// and sweep.json.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["file", "cancel"])]
    pub status: Option<PathBuf>,
    /// Cancel the sweep in DIR: its Slurm job array, or the local sweep running there
    /// (its trials stop cleanly and resume when the sweep runs again).
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    pub cancel: Option<PathBuf>,
    #[command(flatten)]
    pub slurm: SlurmArgs,
}

/// Slurm options of `seqlab sweep`.
#[derive(clap::Args, Debug, Default)]
pub struct SlurmArgs {
    /// Submit the trials as a Slurm job array (one task per trial) instead of running
    /// them here. The sweep folder must be on a filesystem the compute nodes share.
    #[arg(long)]
    pub slurm: bool,
    /// Slurm partition (`sbatch --partition`).
    #[arg(long, value_name = "P", requires = "slurm")]
    pub partition: Option<String>,
    /// Time limit per trial, `HH:MM:SS` (`sbatch --time`).
    #[arg(long, value_name = "HH:MM:SS", requires = "slurm")]
    pub time: Option<String>,
    /// CPUs per trial (`sbatch --cpus-per-task`; also the trial's BLAS threads).
    #[arg(long, value_name = "C", requires = "slurm", value_parser = super::args::whole_usize)]
    pub cpus_per_task: Option<usize>,
    /// Memory per trial, e.g. `4G` (`sbatch --mem`).
    #[arg(long, value_name = "M", requires = "slurm")]
    pub mem: Option<String>,
    /// At most K trials running at once (`--array=...%K`).
    #[arg(long, value_name = "K", requires = "slurm", value_parser = super::args::whole_usize)]
    pub max_parallel: Option<usize>,
    /// Another `#SBATCH` option, passed as written (repeatable), e.g.
    /// `--sbatch-arg=--account=lab`.
    #[arg(
        long,
        value_name = "ARG",
        requires = "slurm",
        allow_hyphen_values = true
    )]
    pub sbatch_arg: Vec<String>,
    /// Write the job script into the sweep folder without submitting it.
    #[arg(long, requires = "slurm")]
    pub dry_run: bool,
    /// Submit and return at once instead of following the job (follow later with
    /// --status).
    #[arg(long, requires = "slurm")]
    pub detach: bool,
}

impl SlurmArgs {
    /// The `sbatch` options given.
    pub fn options(&self) -> SlurmOptions {
        SlurmOptions {
            partition: self.partition.clone(),
            time: self.time.clone(),
            cpus_per_task: self.cpus_per_task,
            mem: self.mem.clone(),
            max_parallel: self.max_parallel,
            sbatch_args: self.sbatch_arg.clone(),
        }
    }
}

/// Runs `seqlab sweep`: launches the sweep (here or on Slurm) and follows it, or prints
/// the state of a sweep folder, or cancels it.
pub fn run(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.status {
        return status(dir);
    }
    if let Some(dir) = &args.cancel {
        let s = Sweep::open(dir)?;
        let backend = SweepBackend::of(&s);
        let said = backend.cancel(&s)?;
        let results = backend.results(&s)?;
        println!("{said}");
        print_results(&s, &results);
        return Ok(ExitCode::SUCCESS);
    }
    let file = args
        .file
        .as_deref()
        .context("give the sweep's experiment file")?;
    let seqlab = sweep::seqlab_binary()?;
    let s = sweep::prepare(file, args.out.as_deref())?;
    let stop = Arc::new(AtomicBool::new(false));
    let (backend, parallel) = if args.slurm.slurm {
        (SweepBackend::Slurm, 1)
    } else {
        let parallel = args
            .parallel
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if parallel == 0 {
            bail!("--parallel 0: give 1 or more trials at a time");
        }
        // the trials run in this process: Ctrl-C stops them cleanly
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                super::exit_now(130);
            }
            eprintln!("stopping the trials (they stay resumable; Ctrl-C again quits at once)");
        });
        eprintln!(
            "sweep of {}: {} trials, {parallel} at a time, in {}",
            file.display(),
            s.plan.trials.len(),
            s.dir.display()
        );
        (SweepBackend::Local, parallel)
    };
    let opts = LaunchOptions {
        seqlab,
        parallel,
        slurm: args.slurm.options(),
        dry_run: args.slurm.dry_run,
    };
    // the live table appears when the launch reports progress (a local sweep)
    let mut live: Option<LiveTable> = None;
    let launched = backend.launch(&s, &opts, &stop, &mut |p| {
        live.get_or_insert_with(LiveTable::new).show(&p)
    })?;
    if let Some(live) = &live {
        live.finish();
    }
    match launched {
        Launched::Ran(results) => {
            print_results(&s, &results);
            if stop.load(Ordering::SeqCst) {
                return Ok(ExitCode::from(130));
            }
        }
        Launched::Script(script) => println!(
            "wrote {} (not submitted; submit it with `sbatch {}` or run again without --dry-run)",
            script.display(),
            script.display()
        ),
        Launched::AllFinished => {
            println!("every trial has finished; nothing to submit");
            print_results(&s, &backend.results(&s)?);
        }
        Launched::Submitted { job } => {
            println!(
                "submitted job array {job} ({} trials) from {}; the sweep folder must be \
                 on a filesystem the compute nodes share",
                s.plan.trials.len(),
                s.dir.display()
            );
            if args.slurm.detach {
                println!(
                    "follow it with `seqlab sweep --status {}`, cancel it with `seqlab sweep \
                     --cancel {}`",
                    s.dir.display(),
                    s.dir.display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            let mut live = LiveTable::new();
            let results = backend.follow(&s, &mut |r| live.show(&Progress::Table(r)))?;
            live.finish();
            print_results(&s, &results);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--status DIR`: the table from the files (and Slurm's queue for a Slurm sweep).
fn status(dir: &Path) -> anyhow::Result<ExitCode> {
    let s = Sweep::open(dir)?;
    let status = SweepBackend::of(&s).status(&s)?;
    if let Some(line) = &status.activity {
        println!("{line}");
    }
    print_results(&s, &status.results);
    Ok(ExitCode::SUCCESS)
}

fn print_results(s: &Sweep, r: &Results) {
    println!(
        "{}",
        crate::repl::render::table(&sweep::results_table(r)).trim_end()
    );
    println!("{}", sweep::state_counts(r));
    println!(
        "results: {} and {}",
        s.dir.join("sweep.csv").display(),
        s.dir.join("sweep.json").display()
    );
}

/// The live view: on a terminal, the trials table redrawn in place (indicatif keeps it
/// below any other output and clears it at the end); otherwise one line per trial that
/// starts or ends.
struct LiveTable {
    bar: Option<indicatif::ProgressBar>,
}

impl LiveTable {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("{msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b
        });
        LiveTable { bar }
    }

    fn show(&mut self, p: &Progress) {
        match (p, &self.bar) {
            (Progress::Table(r), Some(bar)) => {
                let mut text = crate::repl::render::table(&sweep::results_table(r));
                text.truncate(text.trim_end().len());
                text.push('\n');
                text.push_str(&sweep::state_counts(r));
                bar.set_message(text);
                bar.tick();
            }
            (Progress::Started { trial, resumed }, None) => eprintln!(
                "trial {} {}: {}",
                trial.name(),
                if *resumed { "resumed" } else { "started" },
                trial.set_args().join(" ")
            ),
            (Progress::Ended(t), None) => {
                let value = t
                    .best_value
                    .map(|v| format!(", best {v:.4}"))
                    .unwrap_or_default();
                let state = if t.state == TrialState::Completed {
                    String::new()
                } else {
                    format!(": {}", t.stop_reason)
                };
                eprintln!("trial {:03} {}{state}{value}", t.trial, t.state.label());
            }
            _ => {}
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
