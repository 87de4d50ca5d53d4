//! The document group: `open`, `save`, `new`, `show` and `set`; the session's file:
//! opening (with the runs found beside it), saving (atomically, with rebased data paths)
//! and what counts as unsaved.

use super::row::{mismatch, CommandRow, Edit, Handler};
use super::*;
use crate::repl::command::{Call, Complete};

/// The document group's rows.
pub(super) const ROWS: &[CommandRow] = &[
    CommandRow {
        name: "open",
        aliases: &[],
        usage: "open FILE.ron",
        summary: "open an experiment/notebook file (asks first when there are unsaved changes: `open! FILE` discards them)",
        window: "Open… (Ctrl+O)",
        complete: Complete::Files,
        parse: parse_open,
        run: Handler::Session(open),
    },
    CommandRow {
        name: "save",
        aliases: &[],
        usage: "save [FILE.ron]",
        summary: "save the experiment and the notebook (transcript, history, states, runs); to another folder, relative data paths are rebased; `save!` saves even if it drops comments from the file",
        window: "Save (Ctrl+S), Save as…",
        complete: Complete::Files,
        parse: parse_save,
        run: Handler::Session(save),
    },
    CommandRow {
        name: "new",
        aliases: &[],
        usage: "new",
        summary: "start a new experiment (`new!` discards unsaved changes)",
        window: "New",
        complete: Complete::Nothing,
        parse: parse_new,
        run: Handler::Session(new),
    },
    CommandRow {
        name: "show",
        aliases: &[],
        usage: "show experiment|data|model|runs|state|FIELD",
        summary: "show the experiment as RON, the data preview, the layer stack, the runs, the stepping state, or one setting (e.g. show training.updater)",
        window: "the editor panel and the notebook",
        complete: Complete::Show,
        parse: parse_show,
        run: Handler::Session(show),
    },
    CommandRow {
        name: "set",
        aliases: &[],
        usage: "set FIELD VALUE",
        summary: "change one setting; the value is RON as in the file (set training.updater Adam(lr: 0.002), set model.layers[1].size 256, set data.alignment AlignEnd); checked at once, an invalid value changes nothing; `set!` keeps a value out of range and lists it as a problem (train refuses until it is fixed)",
        window: "the editor panel (its changes are `set!` cells)",
        complete: Complete::Fields,
        parse: parse_set,
        run: Handler::Edit(set),
    },
];

fn parse_open(call: &Call) -> Result<Command, String> {
    match call.args()?.as_slice() {
        [p] => Ok(Command::Open {
            path: PathBuf::from(p),
            force: call.force,
        }),
        _ => Err(format!("give one file; {}", call.usage())),
    }
}

fn open(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Open { path, force } = cmd else {
        mismatch("open")
    };
    let path = s.resolve(&path);
    if s.is_dirty() && !force && !s.only_transcript_changed() {
        return Err(
            "there are unsaved changes; `save` first, or `open! FILE` to discard them".into(),
        );
    }
    s.open_file(&path)
}

fn parse_save(call: &Call) -> Result<Command, String> {
    let force = call.force;
    match call.args()?.as_slice() {
        [] => Ok(Command::Save { path: None, force }),
        [p] => Ok(Command::Save {
            path: Some(PathBuf::from(p)),
            force,
        }),
        _ => Err(format!(
            "give at most one file (quote a path with spaces); {}",
            call.usage()
        )),
    }
}

fn save(s: &mut Session, cmd: Command, cell: usize) -> Result<Vec<Output>, String> {
    let Command::Save { path, force } = cmd else {
        mismatch("save")
    };
    s.save(path, force, cell)
}

fn parse_new(call: &Call) -> Result<Command, String> {
    call.none(Command::New { force: call.force })
}

fn new(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::New { force } = cmd else {
        mismatch("new")
    };
    if s.is_dirty() && !force && !s.only_transcript_changed() {
        return Err("there are unsaved changes; `save` first, or `new!` to discard them".into());
    }
    s.stop_active();
    let mut fresh = Session::new();
    fresh.progress_hook = s.progress_hook.take();
    fresh.run_observer = s.run_observer.take();
    fresh.interrupt = s.interrupt.clone();
    fresh.wake = s.wake.clone();
    fresh.blocking_allowed = s.blocking_allowed;
    fresh.transcript_epoch = s.transcript_epoch + 1;
    *s = fresh;
    Ok(vec![text("new experiment (not saved yet)")])
}

fn parse_show(call: &Call) -> Result<Command, String> {
    let what = match call.rest.as_str() {
        "" => return Err(format!("show what? {}", call.usage())),
        "experiment" => ShowWhat::Experiment,
        "data" => ShowWhat::Data,
        "model" => ShowWhat::Model,
        "runs" => ShowWhat::Runs,
        "state" => ShowWhat::State,
        field => ShowWhat::Field(field.to_string()),
    };
    Ok(Command::Show(what))
}

fn show(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Show(what) = cmd else {
        mismatch("show")
    };
    match what {
        ShowWhat::Experiment => {
            let mut e = s.experiment.clone();
            e.notebook = Default::default();
            Ok(vec![text(to_ron_string(&e))])
        }
        ShowWhat::Field(path) => {
            let v = fields::get(&s.experiment, &path).map_err(|e| e.to_string())?;
            Ok(vec![text(format!("{path} = {v}"))])
        }
        ShowWhat::Model => Ok(vec![s.edit().model_table(None)?]),
        ShowWhat::Runs => s.runs_table(),
        ShowWhat::State => s.state(StateCommand::Show),
        ShowWhat::Data => s.edit().show_data(),
    }
}

fn parse_set(call: &Call) -> Result<Command, String> {
    let rest = call.rest.as_str();
    let (path, value) = rest
        .split_once(char::is_whitespace)
        .map(|(p, v)| (p.trim(), v.trim()))
        .unwrap_or((rest, ""));
    if path.is_empty() || value.is_empty() {
        return Err(format!(
            "give a field and a value, e.g. set training.batch_size 16; {}",
            call.usage()
        ));
    }
    Ok(Command::Set {
        path: path.to_string(),
        value: value.to_string(),
        force: call.force,
    })
}

fn set(edit: &mut Edit<'_>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::Set { path, value, force } = cmd else {
        mismatch("set")
    };
    let file = &edit.file_label();
    let updated = if force {
        fields::set_unchecked(edit.experiment, &path, &value, file)
    } else {
        fields::set(edit.experiment, &path, &value, file)
    }
    .map_err(|e| e.to_string())?;
    *edit.experiment = updated;
    let now = fields::get(edit.experiment, &path).map_err(|e| e.to_string())?;
    let mut out = vec![text(format!("{path} = {now}"))];
    if force {
        let mut settings = edit.experiment.clone();
        settings.notebook = Default::default();
        let problems = validate::problems(&settings, file);
        if !problems.is_empty() {
            out.push(text(format!(
                "kept; the experiment now has {} problem(s), and `train` waits until they are fixed:",
                problems.len()
            )));
            out.extend(problems.iter().map(|p| text(format!("  {p}"))));
        }
    }
    Ok(out)
}

impl Session {
    /// Opens an experiment file as a session (its notebook, runs found in its runs
    /// folder included).
    pub fn open(path: &Path) -> Result<Session, String> {
        let mut s = Session::new();
        s.open_file(path)?;
        Ok(s)
    }

    pub(super) fn open_file(&mut self, path: &Path) -> Result<Vec<Output>, String> {
        // the reader names what is wrong (a folder, not UTF-8, a newer format, ...)
        let read = file::load_lenient(path).map_err(|e| e.to_string())?;
        let raw = std::fs::read(path)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .unwrap_or_default();
        self.stop_active();
        self.experiment = read.experiment;
        self.load_problems = read.problems.iter().map(|p| p.to_string()).collect();
        self.load_dropped = read.dropped;
        self.transcript_epoch += 1;
        self.file = Some(path.to_path_buf());
        let base = self.base_dir();
        self.experiment.notebook.upgrade_run_references();
        crate::experiment::rundir::read_notebook_curves(&mut self.experiment.notebook, &base);
        self.file_has_comments = has_comments(&raw);
        self.data = None;
        self.selected = None;
        let found = self.discover_runs();
        self.saved_text = Some(to_ron_string(&self.saved_form()));
        let mut out = vec![text(format!(
            "opened {} ({}; {} cells, {} runs)",
            path.display(),
            self.experiment.name,
            self.experiment.notebook.cells.len(),
            self.experiment.notebook.runs.len()
        ))];
        if found > 0 {
            out.push(text(format!("found {found} run(s) in the runs folder that the notebook did not list (headless runs); they are listed now")));
        }
        if !read.problems.is_empty() {
            let dropped = if read.dropped > 0 {
                format!(
                    "; {} entr{} could not be read and {} the default",
                    read.dropped,
                    if read.dropped == 1 { "y" } else { "ies" },
                    if read.dropped == 1 { "has" } else { "have" }
                )
            } else {
                String::new()
            };
            out.push(text(format!(
                "the file has {} problem(s){dropped}; fix them with `set` (or in the window's editor) before training:",
                read.problems.len()
            )));
            out.extend(self.load_problems.iter().map(|p| Output::Error(p.clone())));
        }
        Ok(out)
    }

    /// Adds run folders under `<stem>.runs/` that the notebook does not list yet, and
    /// refreshes the digest of listed runs whose summary appeared since. Returns how many
    /// were added.
    pub(super) fn discover_runs(&mut self) -> usize {
        let Some(file) = self.file.clone() else {
            return 0;
        };
        let base = self.base_dir();
        let root = next_run_dir(&file)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.join("run.ron").is_file())
                    .collect()
            })
            .unwrap_or_default();
        folders.sort();
        let mut added = 0;
        for folder in folders {
            let rel = relative_to(&folder, &base);
            if self
                .experiment
                .notebook
                .runs
                .iter()
                .any(|r| r.folder(&base) == folder || r.path == rel)
            {
                continue;
            }
            self.experiment.notebook.runs.push(RunEntry {
                path: rel,
                summary: read_digest(&folder).unwrap_or_default(),
            });
            added += 1;
        }
        for (i, entry) in self.experiment.notebook.runs.iter_mut().enumerate() {
            let running = self.active.as_ref().is_some_and(|a| a.entry == i);
            if entry.summary.stop_reason.is_none() && !running {
                if let Some(d) = read_digest(&entry.folder(&base)) {
                    entry.summary = d;
                }
            }
        }
        added
    }

    /// What is written to the file: the experiment with the notebook thinned for saving.
    pub(super) fn saved_form(&self) -> Experiment {
        let mut e = self.experiment.clone();
        e.notebook = e.notebook.for_saving();
        e
    }

    /// True when there are edits that are not in the file: changed settings, or runs
    /// added. Running commands (the transcript and history) or a new experiment nobody
    /// edited has nothing to lose, so `new`/`open` and a window's prompts do not ask.
    pub fn has_unsaved_edits(&self) -> bool {
        self.is_dirty() && !self.only_transcript_changed()
    }

    /// True when only the transcript/history differ from the file (running commands is
    /// not an edit worth a prompt).
    pub(super) fn only_transcript_changed(&self) -> bool {
        let Some(saved) = &self.saved_text else {
            return self.experiment.model == Experiment::default().model
                && self.experiment.data == Experiment::default().data
                && self.experiment.training == Experiment::default().training
                && self.experiment.notebook.runs.is_empty();
        };
        let Ok(old) = file::from_ron_str(saved, &self.file_label()) else {
            return false;
        };
        let mut a = old.clone();
        let mut b = self.experiment.clone();
        a.notebook.cells.clear();
        a.notebook.history.clear();
        b.notebook.cells.clear();
        b.notebook.history.clear();
        a == b
    }

    pub(super) fn file_label(&self) -> PathBuf {
        super::row::file_label(self.file.as_deref())
    }

    /// A path typed by the user: relative to the current folder.
    pub(super) fn resolve(&self, p: &Path) -> PathBuf {
        super::row::resolve(p)
    }

    /// Saves to `path` (or the file). The `save` cell (`cell`) is written with the
    /// output it will have, so the file and the session hold the same transcript.
    pub(super) fn save(
        &mut self,
        path: Option<PathBuf>,
        force: bool,
        cell: usize,
    ) -> Result<Vec<Output>, String> {
        let target = match path {
            Some(p) => {
                let p = self.resolve(&p);
                if p.is_dir() {
                    return Err(format!(
                        "{} is a folder; give a file name in it: save {}",
                        p.display(),
                        p.join(format!(
                            "{}.ron",
                            self.experiment.name.replace(['/', '\\'], "_")
                        ))
                        .display()
                    ));
                }
                if p.extension().is_none() {
                    p.with_extension("ron")
                } else {
                    p
                }
            }
            None => self
                .file
                .clone()
                .ok_or("the notebook has no file yet; give one: save NAME.ron")?,
        };
        let same_file = self.file.as_deref().is_some_and(|f| same_path(f, &target));
        if !same_file {
            // never over the experiment's data or into a run folder (it would destroy
            // what the notebook is about)
            self.check_write_target(&target, "save", false)?;
        }
        if same_file && self.file_has_comments && !force {
            return Err(format!(
                "{} has comments (`// ...`), and saving writes the file anew without them (RON comments do not survive); \
                 move what they say into the notes (set notes \"...\"), then `save!` to save anyway, or save to another file",
                target.display()
            ));
        }
        let old_base = self.base_dir();
        let new_base = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
        let done = vec![text(format!("saved {}", target.display()))];
        let mut exp = self.experiment.clone();
        exp.notebook.cells[cell].outputs = done.clone();
        if !same_path(&old_base, &new_base) {
            rebase_paths(&mut exp, &old_base, &new_base);
        }
        let mut saved = exp.clone();
        saved.notebook = saved.notebook.for_saving();
        file::save(&saved, &target).map_err(|e| e.to_string())?;
        self.experiment = exp;
        if !same_file {
            self.file_has_comments = false;
        }
        self.file = Some(target.clone());
        self.saved_text = Some(to_ron_string(&saved));
        Ok(done)
    }
}

pub(super) fn same_path(a: &Path, b: &Path) -> bool {
    let norm = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.to_path_buf()))
    };
    norm(a) == norm(b)
}

/// Whether RON text has comments outside strings.
pub(super) fn has_comments(text: &str) -> bool {
    let s = text.as_bytes();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => {
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if matches!(s.get(i + 1), Some(b'/') | Some(b'*')) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// Makes relative paths that were relative to `old` relative to `new` (absolute when
/// `new` is not above them), so a copy saved elsewhere still finds its data and runs.
pub(super) fn rebase_paths(exp: &mut Experiment, old: &Path, new: &Path) {
    let old = std::path::absolute(old).unwrap_or(old.to_path_buf());
    let new = std::path::absolute(new).unwrap_or(new.to_path_buf());
    let fix = |p: &Path| -> PathBuf {
        if p.is_absolute() || p.as_os_str().is_empty() {
            return p.to_path_buf();
        }
        let abs = normalize(&old.join(p));
        relative_path(&abs, &new)
    };
    file::map_paths(exp, &fix);
    if let Some(origin) = exp.notebook.origin.as_deref_mut() {
        file::map_paths(origin, &fix);
    }
    for run in &mut exp.notebook.runs {
        run.path = fix(&run.path);
    }
    for cell in &mut exp.notebook.cells {
        for out in &mut cell.outputs {
            if let Output::Series(s) = out {
                for source in s.lines.iter_mut().filter_map(|l| l.source.as_mut()) {
                    source.run = fix(&source.run);
                }
            }
        }
    }
}

/// Removes `.` and `..` components without touching the filesystem.
pub(super) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `target` relative to the folder `base` (with `..` as needed).
pub(super) fn relative_path(target: &Path, base: &Path) -> PathBuf {
    let t: Vec<_> = target.components().collect();
    let base = normalize(base);
    let b: Vec<_> = base.components().collect();
    let common = t.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return target.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}
