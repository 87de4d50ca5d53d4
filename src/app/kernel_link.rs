//! The window's side of the session kernel: sending command lines and the editor's
//! changes, taking replies and snapshots, and what the window does once a request it
//! sent has run (remember a file, say why one could not be opened, go on after a save).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::console::LogKind;
use super::prompt::Pending;
use super::{monitor, SeqlabApp};
use crate::experiment::fields;
use crate::repl::Reply;

/// What the window does when a request it sent has finished.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Then {
    /// `open! FILE` from the File menu, a dialog or a drop: remember the file, or say
    /// why it could not be opened.
    Opened(PathBuf),
    /// `save [FILE]`: remember the file; then go on with what waited for the save.
    Saved(Option<Pending>),
    /// `new!` after a file could not be opened: the window says why it is empty.
    Emptied,
}

impl SeqlabApp {
    /// Sends a command line and does `then` once it has run.
    pub(super) fn run_then(&mut self, line: &str, then: Then) {
        let id = self.run_line(line);
        self.then.push((id, then));
    }

    /// True when every request sent has run and the window has drawn its result (the
    /// window tests wait for this).
    pub fn is_idle(&self) -> bool {
        self.session.done + 1 >= self.kernel.next_id() && !self.session.is_busy()
    }

    /// Takes the kernel's replies and newest snapshot (never waits).
    pub(super) fn take_replies(&mut self) {
        for reply in self.kernel.replies() {
            self.on_reply(reply);
        }
        self.refresh_snapshot();
    }

    pub(super) fn refresh_snapshot(&mut self) {
        self.session = self.kernel.snapshot();
        if self.session.epoch != self.epoch {
            self.epoch = self.session.epoch;
            self.notebook_replaced();
        }
        // the scratch copy follows the session once every edit sent has run (an edit
        // the session refused is undone there too)
        // (only when the session published a new experiment: a run's progress reuses it)
        if !Arc::ptr_eq(&self.session.experiment, &self.scratch_source)
            && self.session.done >= self.last_edit
        {
            self.scratch_source = self.session.experiment.clone();
            let now = self.session.experiment.settings();
            if now != self.scratch_base || self.scratch != self.scratch_base {
                self.scratch = now.clone();
                self.scratch_base = now;
            }
        }
    }

    pub(super) fn on_reply(&mut self, reply: Reply) {
        match reply {
            Reply::RunStarted(start) => {
                let lr = monitor::updater_lr(&self.scratch_base.training.updater);
                self.train
                    .begin(start.view, start.folder, lr, start.previous);
                self.run_events = Some(start.events);
            }
            Reply::Done {
                id, cell, deleted, ..
            } => {
                self.outstanding.retain(|(i, _)| *i != id);
                if let Some((index, removed)) = deleted {
                    if removed {
                        self.notebook.cell_deleted(index);
                    } else {
                        self.console.log.error(format!(
                            "cell {} was not deleted: it is the running run's cell, or the \
                             notebook changed since it was drawn (look again, then delete)",
                            index + 1
                        ));
                    }
                }
                let ok = cell.as_ref().is_none_or(|c| c.ok);
                if let Some(cell) = &cell {
                    for out in &cell.outputs {
                        match out {
                            crate::repl::Output::Error(e) => self.console.log.error(e.clone()),
                            _ => self.console.log.info(crate::repl::render::render(out)),
                        }
                    }
                }
                let Some(pos) = self.then.iter().position(|(i, _)| *i == id) else {
                    return;
                };
                let (_, then) = self.then.remove(pos);
                // what follows reads the session as it is after this request
                self.refresh_snapshot();
                self.after(then, ok, cell.as_ref());
            }
        }
    }

    /// What the window does once a request has run.
    pub(super) fn after(&mut self, then: Then, ok: bool, cell: Option<&crate::repl::Cell>) {
        match then {
            Then::Opened(path) if ok => {
                self.settings.remember(&path);
                self.open_error = None;
            }
            Then::Opened(path) => {
                let why = cell
                    .and_then(|c| {
                        c.outputs.iter().find_map(|o| match o {
                            crate::repl::Output::Error(e) => Some(e.clone()),
                            _ => None,
                        })
                    })
                    .unwrap_or_else(|| format!("{}: could not be opened", path.display()));
                // a file that is there but cannot be parsed at all opens empty, with its
                // error; one that cannot be read leaves the experiment as it was
                if path.is_file() {
                    self.run_then("new!", Then::Emptied);
                }
                self.open_error = Some(why);
            }
            Then::Emptied => {}
            Then::Saved(next) if ok => {
                if let Some(file) = self.session.file().map(Path::to_path_buf) {
                    self.settings.remember(&file);
                }
                if let (Some(next), Some(ctx)) = (next, self.ctx_slot.get().cloned()) {
                    self.perform(&ctx, next);
                }
            }
            Then::Saved(_) => {}
        }
    }

    /// Sends the editor's and the data panel's changes to the scratch copy as `set`
    /// commands (one per changed field; the session folds consecutive changes of one
    /// field into one cell).
    pub(super) fn send_edits(&mut self) {
        if self.scratch == self.scratch_base {
            return;
        }
        for (path, value) in fields::changes(&self.scratch_base, &self.scratch) {
            self.console
                .log
                .push(LogKind::Input, format!("set! {path} {value}"));
            self.last_edit = self.kernel.edit(&path, &value);
            self.outstanding
                .push((self.last_edit, format!("set! {path} {value}")));
        }
        self.scratch_base = self.scratch.clone();
    }
}
