//! The session's file: opening (with the runs found beside it), saving (atomically, with
//! rebased data paths) and what counts as unsaved.

use super::*;

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
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from("(unsaved)"))
    }

    /// A path typed by the user: relative to the current folder.
    pub(super) fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        }
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
