//! The console: the command line at the bottom of the window, which takes the
//! session's command language ([`crate::repl`], the same as `seqlab repl`) with history
//! recall (↑/↓, the notebook's history, kept in its file) and Tab completion
//! ([`Snapshot::complete`]), and above it a log of what happened (commands, runner
//! events, errors).

use eframe::egui;
use std::collections::VecDeque;

use super::Action;
use crate::repl::Snapshot;

/// How a log line is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// What the user typed.
    Input,
    Info,
    /// Runner events.
    Event,
    Error,
}

/// The log: the newest [`Log::CAPACITY`] lines.
#[derive(Default)]
pub struct Log {
    lines: VecDeque<(LogKind, String)>,
}

impl Log {
    pub const CAPACITY: usize = 1000;

    pub fn push(&mut self, kind: LogKind, text: impl Into<String>) {
        if self.lines.len() == Self::CAPACITY {
            self.lines.pop_front();
        }
        self.lines.push_back((kind, text.into()));
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.push(LogKind::Info, text);
    }

    pub fn event(&mut self, text: impl Into<String>) {
        self.push(LogKind::Event, text);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push(LogKind::Error, text);
    }

    pub fn lines(&self) -> impl Iterator<Item = &(LogKind, String)> {
        self.lines.iter()
    }

    /// True if any line contains `needle`.
    pub fn contains(&self, needle: &str) -> bool {
        self.lines.iter().any(|(_, l)| l.contains(needle))
    }
}

/// The console panel: the command line (history, completion) and the event log.
#[derive(Default)]
pub struct ConsolePanel {
    pub log: Log,
    /// The line being typed.
    pub input: String,
    /// Position in the history while recalling with ↑/↓ (`None`: typing a new line).
    recall: Option<usize>,
    /// The line typed before recalling started (↓ past the newest brings it back).
    draft: String,
    /// Candidates of the last Tab that had several.
    pub completions: Vec<String>,
}

/// Keys the command line keeps while it has the focus (arrows for history, Tab for
/// completion) instead of letting them move the focus.
const LINE_KEYS: egui::EventFilter = egui::EventFilter {
    tab: true,
    horizontal_arrows: true,
    vertical_arrows: true,
    escape: false,
};

/// The command line's widget id.
fn line_id() -> egui::Id {
    egui::Id::unique("command_line")
}

impl ConsolePanel {
    /// The command line and, above it, the event log. `history` is the notebook's
    /// command history (newest last); completion asks the session.
    pub fn ui(&mut self, ui: &mut egui::Ui, session: &Snapshot, actions: &mut Vec<Action>) {
        let history = &session.experiment.notebook.history;
        let focused = ui.memory(|m| m.has_focus(line_id()));
        if focused {
            let (up, down, tab) = ui.input_mut(|i| {
                (
                    i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowUp),
                    i.consume_key(egui::Modifiers::NONE, egui::Key::ArrowDown),
                    i.consume_key(egui::Modifiers::NONE, egui::Key::Tab),
                )
            });
            if up {
                self.history_up(history);
            }
            if down {
                self.history_down(history);
            }
            if tab {
                self.complete(session);
            }
            if up || down || tab {
                set_cursor_to_end(ui.ctx(), self.input.chars().count());
            }
        }
        let line_h = ui.spacing().interact_size.y + 8.0;
        let log_h = (ui.available_height() - line_h - 24.0).max(0.0);
        if !self.completions.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.weak("Tab:");
                for c in self.completions.iter().take(40) {
                    ui.monospace(c);
                }
                if self.completions.len() > 40 {
                    ui.weak(format!("… {} more", self.completions.len() - 40));
                }
            });
        }
        egui::ScrollArea::vertical()
            .id_salt("console_log")
            .max_height(log_h)
            .auto_shrink([false, true])
            .stick_to_bottom(true)
            .show(ui, |ui| {
                for (kind, text) in self.log.lines() {
                    let (prefix, color) = match kind {
                        LogKind::Input => ("> ", ui.visuals().strong_text_color()),
                        LogKind::Info => ("", ui.visuals().text_color()),
                        LogKind::Event => ("", ui.visuals().weak_text_color()),
                        LogKind::Error => ("", ui.visuals().error_fg_color),
                    };
                    ui.label(
                        egui::RichText::new(format!("{prefix}{text}"))
                            .monospace()
                            .color(color),
                    );
                }
            });
        ui.separator();
        ui.horizontal(|ui| {
            let label = ui.label("Command");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let run = ui
                    .button("Run command")
                    .on_hover_text("Run the typed command (or press Enter)");
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.input)
                            .id(line_id())
                            .event_filter(LINE_KEYS)
                            .hint_text("help · load data FILE · add lstm 128 · train 500 iterations · eval  (Up/Down: history, Tab: complete)")
                            .font(egui::TextStyle::Monospace)
                            .desired_width(ui.available_width()),
                    )
                    .labelled_by(label.id)
                    .on_hover_text("The command line: Enter runs, Up/Down recall earlier commands (kept in the notebook file), Tab completes commands, field paths, runs and files");
                if edit.changed() {
                    self.recall = None;
                    self.completions.clear();
                }
                let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if entered || run.clicked() {
                    self.submit(actions);
                    edit.request_focus();
                }
            });
        });
    }

    /// ↑: the previous command of `history`.
    pub fn history_up(&mut self, history: &[String]) {
        if history.is_empty() {
            return;
        }
        let pos = match self.recall {
            None => {
                self.draft = self.input.clone();
                history.len() - 1
            }
            Some(p) => p.saturating_sub(1),
        };
        self.recall = Some(pos);
        self.input = history[pos].clone();
    }

    /// ↓: the next command of `history`, then the line typed before recalling.
    pub fn history_down(&mut self, history: &[String]) {
        match self.recall {
            Some(p) if p + 1 < history.len() => {
                self.recall = Some(p + 1);
                self.input = history[p + 1].clone();
            }
            Some(_) => {
                self.recall = None;
                self.input = std::mem::take(&mut self.draft);
            }
            None => {}
        }
    }

    /// Tab: completes the word at the end of the line (one candidate: the word and a
    /// space; several: their common prefix, and the candidates are listed).
    pub fn complete(&mut self, session: &Snapshot) {
        let (start, candidates) = session.complete(&self.input, self.input.len());
        self.completions.clear();
        match candidates.as_slice() {
            [] => {}
            [one] => {
                self.input.truncate(start);
                self.input.push_str(one);
                if !one.ends_with('/') {
                    self.input.push(' ');
                }
            }
            many => {
                let prefix = common_prefix(many);
                if prefix.len() > self.input.len() - start {
                    self.input.truncate(start);
                    self.input.push_str(&prefix);
                }
                self.completions = many.to_vec();
            }
        }
    }

    /// Queues the typed line to run in the session.
    pub fn submit(&mut self, actions: &mut Vec<Action>) {
        let line = std::mem::take(&mut self.input);
        self.recall = None;
        self.completions.clear();
        if line.trim().is_empty() {
            return;
        }
        actions.push(Action::Command(line.trim().to_string()));
    }
}

/// The longest prefix all of `words` share (whole characters).
fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    first[..end].to_string()
}

/// Puts the command line's cursor after its last character.
fn set_cursor_to_end(ctx: &egui::Context, chars: usize) {
    if let Some(mut state) = egui::TextEdit::load_state(ctx, line_id()) {
        let end = egui::text::CCursor::new(chars);
        state
            .cursor
            .set_char_range(Some(egui::text::CCursorRange::one(end)));
        state.store(ctx, line_id());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_recall_walks_back_and_returns_to_the_draft() {
        let history: Vec<String> = ["help", "runs", "train"].map(String::from).to_vec();
        let mut c = ConsolePanel {
            input: "sam".into(),
            ..ConsolePanel::default()
        };
        c.history_up(&history);
        assert_eq!(c.input, "train");
        c.history_up(&history);
        c.history_up(&history);
        c.history_up(&history);
        assert_eq!(c.input, "help");
        c.history_down(&history);
        assert_eq!(c.input, "runs");
        c.history_down(&history);
        c.history_down(&history);
        assert_eq!(c.input, "sam");
    }

    #[test]
    fn tab_completes_one_candidate_and_lists_several() {
        let session = Snapshot::default();
        let mut c = ConsolePanel {
            input: "analy".into(),
            ..ConsolePanel::default()
        };
        c.complete(&session);
        assert_eq!(c.input, "analyze ");
        c.input = "set training.up".into();
        c.complete(&session);
        assert!(c.input.starts_with("set training.updater"), "{}", c.input);
        c.input = "s".into();
        c.complete(&session);
        assert!(c.completions.len() >= 4, "{:?}", c.completions);
        assert!(c.completions.iter().all(|w| w.starts_with('s')));
    }

    #[test]
    fn common_prefixes_are_whole_characters() {
        let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_prefix(&w(&["state", "stop", "step"])), "st");
        assert_eq!(common_prefix(&w(&["éa", "éb"])), "é");
        assert_eq!(common_prefix(&w(&["x"])), "x");
    }
}
