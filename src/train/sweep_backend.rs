//! Where a sweep's trials run ([`SweepBackend`]): above [`super::sweep`] (this machine)
//! and [`super::sweep_slurm`] (a Slurm job array), which builds on the local one's
//! folder and results.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::experiment::sweep::Results;

use super::sweep::{self, Progress, Sweep, SweepError};
use super::sweep_slurm::{self, SlurmOptions};

/// Where a sweep's trials run: the one place that tells a local sweep from a Slurm one.
/// A front end picks the backend when it launches a sweep (`--slurm` or not) or reads it
/// from a sweep folder ([`SweepBackend::of`]), then launches, follows, waits for and
/// cancels the sweep through the same methods, whichever it is. Both backends run the
/// same `seqlab --run` per trial into the same run folders and gather the same files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepBackend {
    /// On this machine: the process that launches the sweep runs its trials as child
    /// processes, some at a time, holding the sweep folder's lock while it runs.
    Local,
    /// A Slurm job array, one task per unfinished trial, followed with `squeue` and the
    /// files (`slurm/` in the sweep folder).
    Slurm,
}

/// How to launch a sweep: the options of `seqlab sweep`. Each backend reads its own
/// (local: `parallel`; Slurm: `slurm` and `dry_run`).
#[derive(Clone, Debug)]
pub struct LaunchOptions {
    /// The `seqlab` executable the trials run ([`sweep::seqlab_binary`]).
    pub seqlab: PathBuf,
    /// Local: trials at a time (each with one BLAS thread).
    pub parallel: usize,
    /// Slurm: the `sbatch` options.
    pub slurm: SlurmOptions,
    /// Slurm: only write the job script (`slurm/sweep.sbatch`), do not submit it.
    pub dry_run: bool,
}

/// What launching a sweep did.
#[derive(Debug)]
pub enum Launched {
    /// The trials ran here until the sweep ended or was stopped: its results (also in
    /// `sweep.csv` / `sweep.json`).
    Ran(Results),
    /// Submitted as this Slurm job; [`SweepBackend::follow`] follows it.
    Submitted {
        /// The job array's id.
        job: String,
    },
    /// Every trial had finished already: nothing was submitted.
    AllFinished,
    /// A dry run: only the job script was written, at this path.
    Script(PathBuf),
}

/// A sweep's state as `seqlab sweep --status` prints it.
#[derive(Debug)]
pub struct SweepStatus {
    /// What runs the sweep now (`Slurm job 123: 2 running, 1 queued`, `a local sweep is
    /// running in DIR`), when there is something to say.
    pub activity: Option<String>,
    /// Every trial's result.
    pub results: Results,
}

impl SweepBackend {
    /// The backend a sweep folder was launched on: Slurm once it was submitted (its
    /// `slurm/job_id` exists), else local.
    pub fn of(s: &Sweep) -> SweepBackend {
        if sweep_slurm::is_slurm(s) {
            SweepBackend::Slurm
        } else {
            SweepBackend::Local
        }
    }

    /// Launches the sweep's unfinished trials. Local: runs them here, `parallel` at a
    /// time, reporting each start and end and the table, until they end or `stop`
    /// becomes true (the running trials then stop cleanly and stay resumable). Slurm:
    /// writes the job script and submits it (or only writes it on a dry run), and
    /// returns; `stop` and `report` are not used.
    pub fn launch(
        self,
        s: &Sweep,
        opts: &LaunchOptions,
        stop: &AtomicBool,
        report: &mut dyn FnMut(Progress),
    ) -> Result<Launched, SweepError> {
        match self {
            SweepBackend::Local => {
                sweep::run_local(s, opts.parallel, &opts.seqlab, stop, report).map(Launched::Ran)
            }
            SweepBackend::Slurm if opts.dry_run => {
                sweep_slurm::write_script(s, &opts.slurm, &opts.seqlab, None).map(Launched::Script)
            }
            SweepBackend::Slurm => Ok(match sweep_slurm::submit(s, &opts.slurm, &opts.seqlab)? {
                Some(job) => Launched::Submitted { job },
                None => Launched::AllFinished,
            }),
        }
    }

    /// True while the sweep runs: a local scheduler holds its folder, or its Slurm job is
    /// queued or running.
    pub fn is_running(self, s: &Sweep) -> bool {
        match self {
            SweepBackend::Local => sweep::scheduler_running(&s.dir),
            SweepBackend::Slurm => sweep_slurm::job_running(s),
        }
    }

    /// True once the process `pid` (a `seqlab sweep` started in the background) has the
    /// sweep under way, so that a wait right after cannot miss it: local, when it holds
    /// the folder's lock; Slurm, at once (the job is followed through its files and
    /// `squeue`).
    pub fn is_run_by(self, s: &Sweep, pid: u32) -> bool {
        match self {
            SweepBackend::Local => sweep::locked_by(&s.dir, pid),
            SweepBackend::Slurm => true,
        }
    }

    /// Every trial's result, from the files and what runs now (the local scheduler's
    /// lock, Slurm's queue). Writes `sweep.csv` and `sweep.json`, except while a local
    /// scheduler runs (it writes them itself).
    pub fn results(self, s: &Sweep) -> Result<Results, SweepError> {
        match self {
            SweepBackend::Local => s.local_status(),
            SweepBackend::Slurm => sweep_slurm::gather(s),
        }
    }

    /// The results and a line saying what runs the sweep now.
    pub fn status(self, s: &Sweep) -> Result<SweepStatus, SweepError> {
        match self {
            SweepBackend::Local => {
                let activity = sweep::scheduler_running(&s.dir)
                    .then(|| format!("a local sweep is running in {}", s.dir.display()));
                let results = s.local_status()?;
                Ok(SweepStatus { activity, results })
            }
            SweepBackend::Slurm => {
                let results = sweep_slurm::gather(s)?;
                let activity = sweep_slurm::job_line(s);
                Ok(SweepStatus { activity, results })
            }
        }
    }

    /// Follows the sweep until it ends, reporting the table every second; returns the
    /// final results (written into `sweep.csv` and `sweep.json`).
    pub fn follow(
        self,
        s: &Sweep,
        report: &mut dyn FnMut(&Results),
    ) -> Result<Results, SweepError> {
        loop {
            let running = self.is_running(s);
            let r = self.results(s)?;
            report(&r);
            if !running {
                return Ok(r);
            }
            std::thread::sleep(Duration::from_millis(1000));
        }
    }

    /// Blocks until the sweep has ended (local: its scheduler released the folder;
    /// Slurm: the job left the queue).
    pub fn wait(self, s: &Sweep) {
        while self.is_running(s) {
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops the sweep and says what was done: local, asks the scheduler running in the
    /// folder to stop its trials cleanly; Slurm, cancels the job array. Either way the
    /// stopped trials resume when the sweep runs again.
    pub fn cancel(self, s: &Sweep) -> Result<String, SweepError> {
        match self {
            SweepBackend::Local => sweep::cancel_local(s),
            SweepBackend::Slurm => sweep_slurm::cancel(s),
        }
    }
}
