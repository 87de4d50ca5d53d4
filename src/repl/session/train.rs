//! The train group: `train` starts a run in the background, `pause`, `resume`, `stop`,
//! `lr` and `checkpoint` steer it, `wait` blocks until it ends; the run's events as the
//! session records them.

use super::row::{mismatch, CommandRow, Handler};
use super::*;
use crate::repl::command::{Call, Complete};

/// The train group's rows.
pub(super) const ROWS: &[CommandRow] = &[
    CommandRow {
        name: "train",
        aliases: &[],
        usage: "train [N iterations|N epochs]",
        summary:
            "start a run in the background (a new run folder); the experiment's length unless given",
        window: "Train",
        complete: Complete::TrainLength,
        parse: parse_train,
        run: Handler::Session(train),
    },
    CommandRow {
        name: "pause",
        aliases: &[],
        usage: "pause",
        summary: "pause the active run",
        window: "Pause",
        complete: Complete::Nothing,
        parse: |call| call.none(Command::Pause),
        run: Handler::Run(|run, _| steer(run, crate::train::Command::Pause, "pause requested")),
    },
    CommandRow {
        name: "resume",
        aliases: &[],
        usage: "resume",
        summary: "resume the paused run",
        window: "Resume",
        complete: Complete::Nothing,
        parse: |call| call.none(Command::Resume),
        run: Handler::Run(|run, _| steer(run, crate::train::Command::Resume, "resume requested")),
    },
    CommandRow {
        name: "stop",
        aliases: &[],
        usage: "stop",
        summary: "stop the active run (weights, checkpoint and summary are still written)",
        window: "Stop",
        complete: Complete::Nothing,
        parse: |call| call.none(Command::Stop),
        run: Handler::Run(stop),
    },
    CommandRow {
        name: "lr",
        aliases: &[],
        usage: "lr VALUE",
        summary: "change the active run's base learning rate from the next iteration on",
        window: "the learning-rate control",
        complete: Complete::Nothing,
        parse: parse_lr,
        run: Handler::Run(lr),
    },
    CommandRow {
        name: "checkpoint",
        aliases: &[],
        usage: "checkpoint",
        summary: "write a checkpoint of the active run now",
        window: "Checkpoint",
        complete: Complete::Nothing,
        parse: |call| call.none(Command::Checkpoint),
        run: Handler::Run(|run, _| {
            steer(
                run,
                crate::train::Command::CheckpointNow,
                "checkpoint requested",
            )
        }),
    },
    CommandRow {
        name: "wait",
        aliases: &[],
        usage: "wait",
        summary: "block until the active run finishes (for scripts)",
        window: "not needed: the window shows the run live",
        complete: Complete::Nothing,
        parse: |call| call.none(Command::Wait),
        run: Handler::Session(wait),
    },
];

fn parse_train(call: &Call) -> Result<Command, String> {
    let usage = || call.usage();
    match call.args()?.as_slice() {
        [] => Ok(Command::Train(None)),
        [n, unit] => {
            let n: u64 = n
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{n:?} is not a whole number above 0; {}", usage()))?;
            match unit.as_str() {
                "iteration" | "iterations" | "it" => {
                    Ok(Command::Train(Some(Length::Iterations(n))))
                }
                "epoch" | "epochs" => Ok(Command::Train(Some(Length::Epochs(n)))),
                other => Err(format!("{other:?}: say iterations or epochs; {}", usage())),
            }
        }
        _ => Err(usage()),
    }
}

fn train(s: &mut Session, cmd: Command, cell: usize) -> Result<Vec<Output>, String> {
    let Command::Train(length) = cmd else {
        mismatch("train")
    };
    s.train(length, cell)
}

fn stop(run: Option<&Runner>, _: Command) -> Result<Vec<Output>, String> {
    steer(
        run,
        crate::train::Command::Stop,
        "stop requested: the run ends after this iteration",
    )
}

fn parse_lr(call: &Call) -> Result<Command, String> {
    let rest = call.rest.as_str();
    match rest.parse::<f64>() {
        Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(Command::Lr(lr)),
        Ok(lr) => Err(format!(
            "the learning rate must be greater than 0 (got {lr}); e.g. lr 0.001"
        )),
        Err(_) if rest.is_empty() => Err("give the learning rate: lr 0.001".into()),
        Err(_) => Err(format!("{rest:?} is not a number; e.g. lr 0.001")),
    }
}

fn lr(run: Option<&Runner>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::Lr(lr) = cmd else { mismatch("lr") };
    steer(
        run,
        crate::train::Command::SetLearningRate(lr),
        &format!("learning rate {lr} from the next iteration"),
    )
}

/// Sends `cmd` to the run under way and says `what` was asked; an error when no run is
/// under way.
pub(super) fn steer(
    run: Option<&Runner>,
    cmd: crate::train::Command,
    what: &str,
) -> Result<Vec<Output>, String> {
    let Some(runner) = run else {
        return Err("no run is under way; start one with `train`".into());
    };
    runner.send(cmd);
    Ok(vec![text(what)])
}

fn wait(s: &mut Session, _: Command, _: usize) -> Result<Vec<Output>, String> {
    if !s.blocking_allowed {
        return Err("`wait` is for scripts and the terminal; the window shows the run live".into());
    }
    if s.active.is_none() {
        return Ok(vec![text("no run is under way")]);
    }
    let waited = s.active.as_ref().map(|a| a.entry);
    let mut hook = s.progress_hook.take();
    match hook.as_mut() {
        Some(h) => s.wait(&mut **h),
        None => s.wait(&mut |_| {}),
    }
    s.progress_hook = hook;
    // a run that failed or diverged fails `wait`, so a script stops there (and exits
    // with failure) as `seqlab --run` does
    if let Some(run) = waited.and_then(|i| s.experiment.notebook.runs.get(i)) {
        let d = &run.summary;
        if d.error.is_some() || d.stop_reason == Some(crate::train::StopReason::Diverged) {
            return Err(format!("run {} {}", run.name(), describe_digest(d)));
        }
    }
    // the run's record, as its `train` cell now holds it
    let record: Vec<Output> = s
        .experiment
        .notebook
        .cells
        .iter()
        .rev()
        .find(|c| c.command.starts_with("train") && c.ok)
        .map(|c| c.outputs.iter().skip(1).cloned().collect())
        .unwrap_or_default();
    if !record.is_empty() {
        return Ok(record);
    }
    let entry = s
        .experiment
        .notebook
        .runs
        .last()
        .cloned()
        .unwrap_or_default();
    Ok(vec![text(format!(
        "run {} {}",
        entry.name(),
        describe_digest(&entry.summary)
    ))])
}

impl Session {
    pub(super) fn train(
        &mut self,
        length: Option<Length>,
        cell: usize,
    ) -> Result<Vec<Output>, String> {
        if let Some(a) = &self.active {
            return Err(format!(
                "run {} is under way; `stop` it or `wait` for it first",
                self.experiment.notebook.runs[a.entry].name()
            ));
        }
        let mut exp = self.resolved();
        match length {
            Some(Length::Iterations(n)) => {
                exp.training.iterations = Some(n);
                exp.training.epochs = None;
            }
            Some(Length::Epochs(n)) => {
                exp.training.iterations = None;
                exp.training.epochs = Some(n);
            }
            None => {}
        }
        let problems = validate::problems(&exp, &self.file_label());
        if !problems.is_empty() {
            let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return Err(format!(
                "training not started; fix the experiment first:\n{}",
                list.join("\n")
            ));
        }
        let file = self.file.clone().unwrap_or_else(|| {
            std::env::current_dir()
                .unwrap_or_default()
                .join("untitled.ron")
        });
        let folder = self.next_free_run_dir(&file);
        let started_unix = now_unix();
        let record = RunRecord {
            experiment: exp.clone(),
            experiment_file: std::path::absolute(&file).unwrap_or(file.clone()),
            started_unix,
            ..RunRecord::default()
        };
        let (taps, stream) = match self.run_observer {
            Some(_) => {
                let (tap, stream) = crate::train::runner::tap(1024);
                (vec![tap], Some(stream))
            }
            None => (Vec::new(), None),
        };
        let runner = Runner::spawn_experiment_tapped(
            exp,
            Some((folder.clone(), record)),
            self.wake.clone(),
            taps,
        )
        .map_err(|e| format!("could not start the training thread: {e}"))?;
        let base = self.base_dir();
        let previous = self
            .experiment
            .notebook
            .runs
            .last()
            .map(|r| r.folder(&base));
        let entry = RunEntry {
            path: relative_to(&folder, &base),
            summary: RunDigest {
                started_unix,
                ..RunDigest::default()
            },
        };
        let name = entry.name();
        self.experiment.notebook.runs.push(entry);
        let view = runner.view();
        {
            let mut v = crate::train::view::write(&view);
            v.name = name.clone();
            if v.folder.as_os_str().is_empty() {
                v.folder = folder.clone();
            }
        }
        self.active = Some(ActiveRun {
            runner,
            entry: self.experiment.notebook.runs.len() - 1,
            cell,
            view: view.clone(),
        });
        if let (Some(observer), Some(events)) = (self.run_observer.as_mut(), stream) {
            observer(RunStart {
                cell,
                run: self.experiment.notebook.runs.len() - 1,
                name: name.clone(),
                folder: folder.clone(),
                previous,
                view,
                events,
            });
        }
        let stored = self.experiment.notebook.runs[self.experiment.notebook.runs.len() - 1]
            .path
            .clone();
        Ok(vec![Output::Run {
            name,
            folder: stored,
        }])
    }

    /// Sends a runner command that has no command line of its own (the window's
    /// "sample now" and "evaluate now" during a run); false when no run is under way.
    pub fn send_to_run(&self, cmd: crate::train::Command) -> bool {
        match &self.active {
            Some(a) => {
                a.runner.send(cmd);
                true
            }
            None => false,
        }
    }

    /// The next numbered run folder beside `file` whose number no listed run has (runs
    /// of the notebook may live in another runs folder, e.g. from before it was saved
    /// under its name), so run names stay unique.
    pub(super) fn next_free_run_dir(&self, file: &Path) -> PathBuf {
        let first = next_run_dir(file);
        let root = first.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut n: u32 = first
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let taken: Vec<String> = self
            .experiment
            .notebook
            .runs
            .iter()
            .map(RunEntry::name)
            .collect();
        loop {
            let candidate = root.join(format!("{n:03}"));
            if !taken.contains(&format!("{n:03}")) && !candidate.exists() {
                return candidate;
            }
            n += 1;
        }
    }

    /// Sends `cmd` to the run under way (see [`steer`]).
    pub(super) fn send(
        &mut self,
        cmd: crate::train::Command,
        what: &str,
    ) -> Result<Vec<Output>, String> {
        steer(self.active.as_ref().map(|a| &a.runner), cmd, what)
    }

    /// Takes every event the active run has queued (never waits) and updates the
    /// notebook; returns them for the front end.
    pub fn poll(&mut self) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(e) = self.active.as_ref().and_then(|a| a.runner.try_recv()) {
            self.handle(&e);
            events.push(e);
        }
        events
    }

    /// Blocks until the active run finishes, passing each event to `on_event`.
    pub fn wait(&mut self, on_event: &mut dyn FnMut(&Event)) {
        use std::sync::atomic::Ordering;
        while self.active.is_some() {
            if self
                .interrupt
                .compare_exchange(
                    INTERRUPT_PENDING,
                    INTERRUPT_STOPPING,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok()
            {
                if let Some(a) = &self.active {
                    a.runner.send(crate::train::Command::Stop);
                }
            }
            let e = self
                .active
                .as_ref()
                .and_then(|a| a.runner.recv_timeout(Duration::from_millis(200)));
            if let Some(e) = e {
                self.handle(&e);
                on_event(&e);
            }
        }
    }

    pub(super) fn handle(&mut self, e: &Event) {
        // the progress is in the run's view (its training thread keeps it); the end of
        // the run is recorded here
        if self.active.is_none() {
            return;
        }
        if let Event::Finished(summary) = e {
            let a = self.active.take().expect("active");
            let (entry, cell) = (a.entry, a.cell);
            drop(a.runner.join());
            let digest = RunDigest {
                started_unix: self.experiment.notebook.runs[entry].summary.started_unix,
                stop_reason: Some(summary.stop_reason),
                iterations: summary.iterations,
                final_score: summary.final_score,
                best_score: summary
                    .best_score
                    .or(summary.evaluation.as_ref().map(|e| e.score)),
                wall_seconds: summary.wall_seconds,
                error: summary.error.clone(),
            };
            let base = self.base_dir();
            let run = &mut self.experiment.notebook.runs[entry];
            run.summary = digest;
            let stored = run.path.clone();
            let name = run.name();
            let mut outputs = vec![text(format!(
                "run {name} {}",
                describe_digest(&run.summary)
            ))];
            if let Some(series) = run_curves(&base, &stored, &name) {
                outputs.push(Output::Series(series));
            }
            if let Some(ev) = &summary.evaluation {
                outputs.extend(evaluation_outputs(ev, None, None, false));
            }
            if let Some(c) = self.experiment.notebook.cells.get_mut(cell) {
                c.outputs.extend(outputs);
            }
            // the newest finished run is the one sample/step/eval use next
            self.selected = None;
        }
    }

    pub(super) fn stop_active(&mut self) {
        if let Some(a) = &self.active {
            a.runner.send(crate::train::Command::Stop);
        }
        let mut sink = |_: &Event| {};
        if self.active.is_some() {
            let blocking = self.blocking_allowed;
            self.blocking_allowed = true;
            self.wait(&mut sink);
            self.blocking_allowed = blocking;
        }
    }
}

pub(super) fn describe_digest(d: &RunDigest) -> String {
    let Some(ended) = d.ended() else {
        return "has not finished (running, or interrupted before its summary)".into();
    };
    let mut s = format!(
        "ended: {ended} after {} iterations in {:.1} s",
        d.iterations, d.wall_seconds
    );
    if let Some(f) = d.final_score {
        s.push_str(&format!(", final score {f:.4}"));
    }
    if let Some(b) = d.best_score {
        s.push_str(&format!(", validation score {b:.4}"));
    }
    if let Some(e) = &d.error {
        s.push_str(&format!("; error: {e}"));
    }
    s
}

pub(super) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
