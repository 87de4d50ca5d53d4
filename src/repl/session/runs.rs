//! The runs group: `runs` lists them, `use` selects one's model, `compare`, `branch` and
//! `export`; finding a run and loading its model.

use super::row::{mismatch, CommandRow, Handler};
use super::*;
use crate::repl::command::{Call, Complete};

/// The runs group's rows.
pub(super) const ROWS: &[CommandRow] = &[
    CommandRow {
        name: "runs",
        aliases: &[],
        usage: "runs",
        summary: "the notebook's runs: date, stop reason, iterations, best validation score, wall time (missing folders marked)",
        window: "the runs list",
        complete: Complete::Nothing,
        parse: |call| call.none(Command::Runs),
        run: Handler::Session(|s, _, _| s.runs_table()),
    },
    CommandRow {
        name: "use",
        aliases: &[],
        usage: "use RUN",
        summary: "select the run (number, folder name or path) whose weights sample/step/eval/predict use",
        window: "the runs list",
        complete: Complete::Runs,
        parse: parse_use,
        run: Handler::Session(use_run),
    },
    CommandRow {
        name: "compare",
        aliases: &[],
        usage: "compare RUN RUN...",
        summary: "the settings that differ between runs, and their final and best scores side by side",
        window: "the runs list",
        complete: Complete::Runs,
        parse: parse_compare,
        run: Handler::Session(compare),
    },
    CommandRow {
        name: "branch",
        aliases: &[],
        usage: "branch RUN",
        summary: "take a run's model and training settings (where they differ) and its final weights as the initial weights, to edit and train again",
        window: "the runs list's Branch",
        complete: Complete::Runs,
        parse: parse_branch,
        run: Handler::Session(branch),
    },
    CommandRow {
        name: "export",
        aliases: &[],
        usage: "export RUN [FILE.csv]",
        summary: "write a run's metrics and validation scores as one CSV file (default: NAME-runNNN-metrics.csv beside the experiment, replaced when it is there); an existing FILE is kept unless `export!` replaces it, and the notebook, its data and its run folders are never written",
        window: "the runs list's Export",
        complete: Complete::Runs,
        parse: parse_export,
        run: Handler::Session(export),
    },
];

/// One run named: `use RUN`, `branch RUN`.
fn one_run(call: &Call) -> Result<String, String> {
    match call.args()?.as_slice() {
        [r] => Ok(r.clone()),
        _ => Err(format!("give one run; {}", call.usage())),
    }
}

fn parse_use(call: &Call) -> Result<Command, String> {
    one_run(call).map(Command::Use)
}

fn use_run(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Use(run) = cmd else {
        mismatch("use")
    };
    s.select(&run)?;
    let sel = s.selected.as_ref().expect("selected");
    Ok(vec![text(format!(
        "using run {} ({})",
        sel.name,
        sel.folder.display()
    ))])
}

fn parse_compare(call: &Call) -> Result<Command, String> {
    let a = call.args()?;
    if a.len() < 2 {
        return Err(format!("give two or more runs; {}", call.usage()));
    }
    Ok(Command::Compare(a))
}

fn compare(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Compare(runs) = cmd else {
        mismatch("compare")
    };
    s.compare(&runs)
}

fn parse_branch(call: &Call) -> Result<Command, String> {
    one_run(call).map(Command::Branch)
}

fn branch(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Branch(run) = cmd else {
        mismatch("branch")
    };
    s.branch(&run)
}

fn parse_export(call: &Call) -> Result<Command, String> {
    let (run, out) = match call.args()?.as_slice() {
        [r] => (r.clone(), None),
        [r, f] => (r.clone(), Some(PathBuf::from(f))),
        _ => {
            return Err(format!(
                "give one run and at most one file; {}",
                call.usage()
            ))
        }
    };
    Ok(Command::Export {
        run,
        out,
        force: call.force,
    })
}

fn export(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Export { run, out, force } = cmd else {
        mismatch("export")
    };
    s.export_metrics(&run, out.as_deref(), force)
}

impl Session {
    /// Finds a run by number (1-based, as `runs` lists them), folder name or path.
    pub(super) fn find_run(&self, which: &str) -> Result<usize, String> {
        let runs = &self.experiment.notebook.runs;
        if runs.is_empty() {
            return Err("the notebook has no runs yet; start one with `train`".into());
        }
        if let Ok(n) = which.parse::<usize>() {
            if let Some(i) = runs.iter().position(|r| r.name() == which) {
                return Ok(i);
            }
            // `3` is the third run listed; `003` is a run's name (a zero-padded number is
            // never read as a position: it would pick another run than the one named)
            let padded = which.len() > 1 && which.starts_with('0');
            if !padded && (1..=runs.len()).contains(&n) {
                return Ok(n - 1);
            }
        }
        let base = self.base_dir();
        runs.iter()
            .position(|r| {
                r.name() == which
                    || r.path == Path::new(which)
                    || same_path(&r.folder(&base), &self.resolve(Path::new(which)))
            })
            .ok_or_else(|| {
                let names: Vec<String> = runs.iter().map(RunEntry::name).collect();
                format!(
                    "no run {which:?}; the runs are {} (see `runs`)",
                    names.join(", ")
                )
            })
    }

    /// Loads the model of `which` (or keeps the loaded one).
    pub(super) fn select(&mut self, which: &str) -> Result<(), String> {
        let i = self.find_run(which)?;
        if self.active.as_ref().is_some_and(|a| a.entry == i) {
            return Err("that run is still under way; `wait` or `stop` it first".into());
        }
        let entry = &self.experiment.notebook.runs[i];
        let folder = entry.folder(&self.base_dir());
        let name = entry.name();
        if self.selected.as_ref().is_some_and(|s| s.folder == folder) {
            return Ok(());
        }
        if !folder.is_dir() {
            return Err(format!(
                "run {name}: its folder {} is missing",
                folder.display()
            ));
        }
        let model = load_trained(&folder, false).map_err(|e| format!("run {name}: {e}"))?;
        self.selected = Some(Selected {
            name,
            folder,
            model,
        });
        Ok(())
    }

    /// The selected model, or the newest finished run's.
    pub(super) fn model(&mut self) -> Result<&mut Selected, String> {
        if self.selected.is_none() {
            let runs = &self.experiment.notebook.runs;
            let base = self.base_dir();
            let newest = (0..runs.len())
                .rev()
                .find(|&i| {
                    self.active.as_ref().is_none_or(|a| a.entry != i)
                        && runs[i].folder(&base).join("weights.safetensors").is_file()
                })
                .ok_or("no run with weights yet; `train` one (and `wait`), or `use RUN`")?;
            self.select(&(newest + 1).to_string())?;
        }
        Ok(self.selected.as_mut().expect("selected"))
    }

    pub(super) fn runs_table(&mut self) -> Result<Vec<Output>, String> {
        self.discover_runs();
        let base = self.base_dir();
        let selected = self.selected.as_ref().map(|s| s.folder.clone());
        let mut t = Table {
            title: "runs (`use N` selects one for sample/step/eval)".into(),
            columns: [
                "#",
                "run",
                "started (UTC)",
                "stop reason",
                "iterations",
                "best validation",
                "final score",
                "wall time",
                "status",
            ]
            .map(String::from)
            .to_vec(),
            rows: Vec::new(),
        };
        for (i, r) in self.experiment.notebook.runs.iter().enumerate() {
            let folder = r.folder(&base);
            let running = self.active.as_ref().is_some_and(|a| a.entry == i);
            let mark = if !folder.is_dir() {
                "missing"
            } else if running {
                "running"
            } else if selected.as_ref() == Some(&folder) {
                "selected"
            } else {
                ""
            };
            let d = &r.summary;
            // the run under way counts live; the others from their summaries
            let live = self.progress().filter(|_| running);
            let live = live.as_ref();
            t.rows.push(vec![
                (i + 1).to_string(),
                r.name(),
                format_unix(d.started_unix),
                d.ended().unwrap_or("-").to_string(),
                live.map_or(d.iterations, |a| a.iteration).to_string(),
                d.best_score.map_or("-".into(), |s| format!("{s:.4}")),
                live.and_then(|a| a.score)
                    .or(d.final_score)
                    .map_or("-".into(), |s| format!("{s:.4}")),
                format!("{:.1} s", live.map_or(d.wall_seconds, |a| a.elapsed_s)),
                mark.into(),
            ]);
        }
        Ok(vec![Output::Table(t)])
    }

    pub(super) fn compare(&mut self, runs: &[String]) -> Result<Vec<Output>, String> {
        let base = self.base_dir();
        let mut names = Vec::new();
        let mut settings = Vec::new();
        let mut digests = Vec::new();
        let mut curves = Series {
            title: "training score".into(),
            x_label: "iteration".into(),
            y_label: "score".into(),
            log_y: false,
            lines: Vec::new(),
        };
        for which in runs {
            let i = self.find_run(which)?;
            let r = self.experiment.notebook.runs[i].clone();
            let folder = r.folder(&base);
            let record =
                RunDir::read_record(&folder).map_err(|e| format!("run {}: {e}", r.name()))?;
            settings.push(fields::leaves(&record.experiment));
            if let Some(s) = run_curves(&base, &r.path, &r.name()) {
                curves.lines.extend(s.lines.into_iter().map(|mut l| {
                    l.name = format!("{} {}", r.name(), l.name);
                    l
                }));
            }
            names.push(r.name());
            digests.push(r.summary);
        }
        let leaves: Vec<&[(String, String)]> = settings.iter().map(Vec::as_slice).collect();
        let diff = Table {
            title: "settings that differ".into(),
            columns: std::iter::once("setting".to_string())
                .chain(names.iter().cloned())
                .collect(),
            rows: fields::differing_leaves(&leaves),
        };
        let mut scores = Table {
            title: "scores".into(),
            columns: std::iter::once(String::new())
                .chain(names.iter().cloned())
                .collect(),
            rows: Vec::new(),
        };
        let fmt = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.4}"));
        scores.rows.push(
            std::iter::once("final score".to_string())
                .chain(digests.iter().map(|d| fmt(d.final_score)))
                .collect(),
        );
        scores.rows.push(
            std::iter::once("best validation".to_string())
                .chain(digests.iter().map(|d| fmt(d.best_score)))
                .collect(),
        );
        scores.rows.push(
            std::iter::once("iterations".to_string())
                .chain(digests.iter().map(|d| d.iterations.to_string()))
                .collect(),
        );
        scores.rows.push(
            std::iter::once("stop reason".to_string())
                .chain(digests.iter().map(|d| d.ended().unwrap_or("-").to_string()))
                .collect(),
        );
        let mut out = Vec::new();
        if diff.rows.is_empty() {
            out.push(text("the runs have the same settings"));
        } else {
            out.push(Output::Table(diff));
        }
        out.push(Output::Table(scores));
        if !curves.lines.is_empty() {
            out.push(Output::Series(curves));
        }
        Ok(out)
    }

    /// `branch RUN`: the run's model and training settings (where they differ) and its
    /// final weights as the initial weights, each applied as `set` would apply it; the
    /// user edits, then trains.
    pub(super) fn branch(&mut self, which: &str) -> Result<Vec<Output>, String> {
        let index = self.find_run(which)?;
        let entry = self.experiment.notebook.runs[index].clone();
        let base = self.base_dir();
        let folder = entry.folder(&base);
        let weights = folder.join("weights.safetensors");
        if !weights.is_file() {
            return Err(format!(
                "run {}: {} is missing, so there is nothing to branch from (the run wrote no final weights)",
                entry.name(),
                weights.display()
            ));
        }
        let record =
            RunDir::read_record(&folder).map_err(|e| format!("run {}: {e}", entry.name()))?;
        let one_line = |v: String| v.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        let mut exp = self.experiment.clone();
        let mut out = Vec::new();
        for field in ["model", "training"] {
            let (Ok(theirs), Ok(ours)) = (
                fields::get(&record.experiment, field),
                fields::get(&exp, field),
            ) else {
                continue;
            };
            if theirs != ours {
                exp = fields::set(&exp, field, &one_line(theirs), &self.file_label())
                    .map_err(|e| format!("run {}: {e}", entry.name()))?;
                out.push(text(format!("{field} = the run's {field} settings")));
            }
        }
        let path = match self.file {
            Some(_) => relative_to(&weights, &base),
            None => weights,
        };
        exp.initial_weights = Some(path.clone());
        self.experiment = exp;
        out.push(text(format!("initial_weights = {}", path.display())));
        out.push(Output::Markdown(format!(
            "Branched from run **{}**: its final weights are the initial weights. \
             Edit the settings (e.g. `set training.updater ...`), then `train`.",
            entry.name()
        )));
        Ok(out)
    }

    /// Refuses an export over what the notebook needs: its own file, a file of its data,
    /// anything in a run folder; and over any existing file when `keep_existing`.
    /// Refuses a file a command would write (`export`, `predict -o`) when it is a
    /// folder, the notebook's own file, a file of the experiment's data or inside a run
    /// folder (`who` names the command in the message); with `keep_existing`, also an
    /// existing file.
    pub(super) fn check_write_target(
        &self,
        dest: &Path,
        who: &str,
        keep_existing: bool,
    ) -> Result<(), String> {
        if dest.is_dir() {
            return Err(format!(
                "{} is a folder; give a file name in it, e.g. {}",
                dest.display(),
                dest.join("metrics.csv").display()
            ));
        }
        let what = if self.file.as_deref().is_some_and(|f| same_path(f, dest)) {
            Some("the notebook's own file".to_string())
        } else if crate::train::TrainingData::files(&self.resolved())
            .iter()
            .any(|f| same_path(f, dest))
        {
            Some("a file of the experiment's data".to_string())
        } else {
            let base = self.base_dir();
            let runs_root = self.file.as_deref().map(|f| {
                next_run_dir(f)
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default()
            });
            let abs = |p: &Path| normalize(&std::path::absolute(p).unwrap_or(p.to_path_buf()));
            let target = abs(dest);
            self.experiment
                .notebook
                .runs
                .iter()
                .map(|r| abs(&r.folder(&base)))
                .chain(runs_root.map(|r| abs(&r)))
                .find(|folder| target.starts_with(folder))
                .map(|folder| format!("inside the run folder {}", folder.display()))
        };
        if let Some(what) = what {
            return Err(format!(
                "{} is {what}; {who} never writes there: give another file name",
                dest.display()
            ));
        }
        if keep_existing && dest.exists() {
            return Err(format!(
                "{} exists; `export! RUN FILE` replaces it, or give another file name",
                dest.display()
            ));
        }
        Ok(())
    }

    /// `export RUN [FILE]`: the run's metrics and validation scores as one CSV file
    /// (`<name>-run<NNN>-metrics.csv` beside the experiment by default).
    pub(super) fn export_metrics(
        &mut self,
        which: &str,
        out: Option<&Path>,
        force: bool,
    ) -> Result<Vec<Output>, String> {
        let index = self.find_run(which)?;
        let entry = self.experiment.notebook.runs[index].clone();
        let base = self.base_dir();
        // named after the notebook's file once it has one
        let stem = self
            .file
            .as_deref()
            .and_then(Path::file_stem)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.experiment.name.clone());
        let dest = match out {
            Some(p) => self.resolve(p),
            None => base.join(format!("{stem}-run{}-metrics.csv", entry.name())),
        };
        self.check_write_target(&dest, "an export", out.is_some() && !force)?;
        let rows = crate::experiment::rundir::export_metrics_csv(&entry.folder(&base), &dest)
            .map_err(|e| format!("run {}: export failed: {e}", entry.name()))?;
        Ok(vec![text(format!(
            "run {}: {rows} rows of metrics written to {}",
            entry.name(),
            dest.display()
        ))])
    }
}

/// A run's training and validation score curves, read from its logs; the lines keep
/// their source, so a saved notebook stores the reference, not the points. `stored` is
/// the run folder as the notebook names it (relative to `base`, the file's folder).
pub fn run_curves(base: &Path, stored: &Path, name: &str) -> Option<Series> {
    let mut lines = Vec::new();
    for (line, file) in [("training", "metrics.csv"), ("validation", "eval.csv")] {
        let source = crate::experiment::notebook::CurveSource {
            run: stored.to_path_buf(),
            file: file.into(),
            x: "iteration".into(),
            y: "score".into(),
        };
        if let Some(points) =
            crate::experiment::rundir::read_curve_source(&source, base).filter(|p| !p.is_empty())
        {
            lines.push(Line {
                name: line.into(),
                points,
                source: Some(source),
                emphasis: false,
            });
        }
    }
    (!lines.is_empty()).then(|| Series {
        title: format!("run {name}: score"),
        x_label: "iteration".into(),
        y_label: "score".into(),
        log_y: false,
        lines,
    })
}

pub(super) fn read_digest(folder: &Path) -> Option<RunDigest> {
    crate::experiment::rundir::read_run_digest(folder)
}

/// `YYYY-MM-DD HH:MM` (UTC) of a Unix time; `-` for 0.
pub fn format_unix(t: u64) -> String {
    if t == 0 {
        return "-".into();
    }
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    // civil from days (Howard Hinnant's algorithm)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}
