//! The console: a log of what happened (commands and their outputs, runner events,
//! errors) and the command line, which takes the session's command language
//! ([`crate::repl`], the same as `seqlab repl`).

use eframe::egui;
use std::collections::VecDeque;

use super::Action;

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

/// The console panel: the log and the command line.
#[derive(Default)]
pub struct ConsolePanel {
    pub log: Log,
    input: String,
}

impl ConsolePanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, actions: &mut Vec<Action>) {
        ui.horizontal(|ui| {
            let label = ui.label("Command");
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let run = ui
                    .button("Run command")
                    .on_hover_text("Run the typed command (or press Enter)");
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.input)
                            .hint_text("help, set training.batch_size 16, train, sample 200, runs")
                            .font(egui::TextStyle::Monospace)
                            .desired_width(ui.available_width()),
                    )
                    .labelled_by(label.id);
                let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if entered || run.clicked() {
                    self.submit(actions);
                    edit.request_focus();
                }
            });
        });
        ui.separator();
        egui::ScrollArea::vertical()
            .auto_shrink([false, false])
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
    }

    /// Queues the typed line to run in the session.
    pub fn submit(&mut self, actions: &mut Vec<Action>) {
        let line = std::mem::take(&mut self.input);
        if line.trim().is_empty() {
            return;
        }
        actions.push(Action::Command(line.trim().to_string()));
    }
}
