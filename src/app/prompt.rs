//! The questions asked before work is lost: a run under way (stop it or cancel), then
//! before closing the window commands that have not finished (interrupt or cancel), then
//! unsaved changes (save, discard or cancel), before New, Open and closing the window.

use eframe::egui;
use std::path::PathBuf;

/// What waits for the answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Pending {
    New,
    Open(PathBuf),
    /// The Open dialog, then the file picked.
    OpenDialog,
    /// Closing the window.
    Close,
}

impl Pending {
    fn verb(&self) -> &'static str {
        match self {
            Pending::New => "starting a new experiment",
            Pending::Open(_) | Pending::OpenDialog => "opening another file",
            Pending::Close => "closing the window",
        }
    }
}

/// The answer chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Stop the run (its folder keeps a summary and a final checkpoint, so it can be
    /// resumed), then go on.
    StopRun,
    Save,
    Discard,
    Cancel,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    /// The run of this name is under way.
    Running(String),
    /// This file (or experiment) has unsaved changes.
    Unsaved(String),
    /// Commands sent to the session have not finished (the first of them, how many).
    Busy(String, usize),
}

/// A question shown as a modal window.
#[derive(Clone, Debug, PartialEq)]
pub struct Prompt {
    pub pending: Pending,
    kind: Kind,
}

impl Prompt {
    pub fn running(pending: Pending, run: String) -> Self {
        Prompt {
            pending,
            kind: Kind::Running(run),
        }
    }

    /// `count` commands are running or queued, the first being `first`.
    pub fn busy(pending: Pending, first: String, count: usize) -> Self {
        Prompt {
            pending,
            kind: Kind::Busy(first, count),
        }
    }

    /// True when the question is about commands that have not finished.
    pub fn is_busy(&self) -> bool {
        matches!(self.kind, Kind::Busy(..))
    }

    pub fn unsaved(pending: Pending, what: String) -> Self {
        Prompt {
            pending,
            kind: Kind::Unsaved(what),
        }
    }

    /// True when the question is about unsaved changes.
    pub fn is_unsaved(&self) -> bool {
        matches!(self.kind, Kind::Unsaved(_))
    }

    /// Draws the question; the answer when one was chosen (Escape cancels).
    pub fn ui(&self, ctx: &egui::Context) -> Option<Answer> {
        let mut answer = None;
        let modal = egui::Modal::new(egui::Id::unique("seqlab_prompt")).show(ctx, |ui| {
            ui.set_max_width(420.0);
            match &self.kind {
                Kind::Running(run) => {
                    ui.heading("A run is under way");
                    ui.label(format!(
                        "Run {run} is training. Stop it before {}? Stopping writes its \
                         summary and a final checkpoint, so the run folder can be resumed.",
                        self.pending.verb()
                    ));
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        if ui.button("Stop the run").clicked() {
                            answer = Some(Answer::StopRun);
                        }
                        if ui.button("Cancel").clicked() {
                            answer = Some(Answer::Cancel);
                        }
                    });
                }
                Kind::Busy(first, count) => {
                    ui.heading("Commands have not finished");
                    let others = match count {
                        0 | 1 => String::new(),
                        2 => " and 1 more queued".into(),
                        n => format!(" and {} more queued", n - 1),
                    };
                    ui.label(format!(
                        "`{first}`{others} has not finished. Interrupt before {}? The \
                         notebook keeps what has finished; what is interrupted or queued \
                         is not run.",
                        self.pending.verb()
                    ));
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        if ui.button("Interrupt and close").clicked() {
                            answer = Some(Answer::Discard);
                        }
                        if ui.button("Cancel").clicked() {
                            answer = Some(Answer::Cancel);
                        }
                    });
                }
                Kind::Unsaved(what) => {
                    ui.heading("Unsaved changes");
                    ui.label(format!(
                        "{what} has changes that are not saved. Save them before {}?",
                        self.pending.verb()
                    ));
                    ui.add_space(8.0);
                    ui.horizontal(|ui| {
                        if ui.button("Save").clicked() {
                            answer = Some(Answer::Save);
                        }
                        if ui.button("Discard").clicked() {
                            answer = Some(Answer::Discard);
                        }
                        if ui.button("Cancel").clicked() {
                            answer = Some(Answer::Cancel);
                        }
                    });
                }
            }
        });
        if answer.is_none() && modal.should_close() {
            answer = Some(Answer::Cancel);
        }
        answer
    }
}
