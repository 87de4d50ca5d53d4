//! The console: a log of what happened (runner events, saves, errors) and a line that
//! takes a few typed commands. The parser lives here until the shared `repl` module can
//! take it over.

use eframe::egui;
use std::collections::VecDeque;
use std::path::PathBuf;

use super::Action;

/// A typed console command.
#[derive(Clone, Debug, PartialEq)]
pub enum ConsoleCommand {
    Train,
    Pause,
    Resume,
    Stop,
    /// `lr 0.001`
    LearningRate(f64),
    /// `sample`: generate text from the model now.
    Sample,
    /// `save` (to the notebook's file) or `save PATH`.
    Save(Option<PathBuf>),
    Help,
}

/// What `help` prints.
pub const HELP: &str = "commands: train | pause | resume | stop | lr VALUE (e.g. lr 0.001) | \
                        sample | save [PATH] | help";

/// Parses one console line. Errors say what was expected.
pub fn parse(line: &str) -> Result<ConsoleCommand, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    let no_argument = |cmd: ConsoleCommand| {
        if rest.is_empty() {
            Ok(cmd)
        } else {
            Err(format!("`{word}` takes no argument (got {rest:?})"))
        }
    };
    match word.to_ascii_lowercase().as_str() {
        "" => Err(format!("type a command; {HELP}")),
        "train" => no_argument(ConsoleCommand::Train),
        "pause" => no_argument(ConsoleCommand::Pause),
        "resume" => no_argument(ConsoleCommand::Resume),
        "stop" => no_argument(ConsoleCommand::Stop),
        "sample" => no_argument(ConsoleCommand::Sample),
        "help" | "?" => no_argument(ConsoleCommand::Help),
        "lr" => match rest.parse::<f64>() {
            Ok(lr) if lr.is_finite() && lr > 0.0 => Ok(ConsoleCommand::LearningRate(lr)),
            Ok(lr) => Err(format!(
                "the learning rate must be greater than 0 (got {lr})"
            )),
            Err(_) if rest.is_empty() => Err("give the learning rate: lr 0.001".into()),
            Err(_) => Err(format!("{rest:?} is not a number; e.g. lr 0.001")),
        },
        "save" => Ok(ConsoleCommand::Save(
            (!rest.is_empty()).then(|| PathBuf::from(rest)),
        )),
        other => Err(format!("unknown command `{other}`; {HELP}")),
    }
}

impl ConsoleCommand {
    /// The application action this command asks for.
    pub fn action(self) -> Action {
        match self {
            ConsoleCommand::Train => Action::Train,
            ConsoleCommand::Pause => Action::Pause,
            ConsoleCommand::Resume => Action::Resume,
            ConsoleCommand::Stop => Action::Stop,
            ConsoleCommand::LearningRate(lr) => Action::SetLearningRate(lr),
            ConsoleCommand::Sample => Action::SampleNow,
            ConsoleCommand::Save(path) => Action::Save(path),
            ConsoleCommand::Help => Action::Log(LogKind::Info, HELP.into()),
        }
    }
}

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
                            .hint_text("train, pause, lr 0.001, save PATH, help")
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

    /// Parses the typed line and queues its action (or logs why it cannot).
    pub fn submit(&mut self, actions: &mut Vec<Action>) {
        let line = std::mem::take(&mut self.input);
        if line.trim().is_empty() {
            return;
        }
        self.log.push(LogKind::Input, line.trim());
        match parse(&line) {
            Ok(cmd) => actions.push(cmd.action()),
            Err(e) => self.log.error(e),
        }
    }

    /// Sets the command line (for tests and scripted use).
    pub fn set_input(&mut self, text: impl Into<String>) {
        self.input = text.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_command() {
        assert_eq!(parse("train"), Ok(ConsoleCommand::Train));
        assert_eq!(parse("  PAUSE "), Ok(ConsoleCommand::Pause));
        assert_eq!(parse("resume"), Ok(ConsoleCommand::Resume));
        assert_eq!(parse("stop"), Ok(ConsoleCommand::Stop));
        assert_eq!(parse("sample"), Ok(ConsoleCommand::Sample));
        assert_eq!(parse("help"), Ok(ConsoleCommand::Help));
        assert_eq!(parse("lr 0.002"), Ok(ConsoleCommand::LearningRate(0.002)));
        assert_eq!(parse("lr 1e-3"), Ok(ConsoleCommand::LearningRate(1e-3)));
        assert_eq!(parse("save"), Ok(ConsoleCommand::Save(None)));
        assert_eq!(
            parse("save runs/my exp.ron"),
            Ok(ConsoleCommand::Save(Some("runs/my exp.ron".into())))
        );
    }

    #[test]
    fn bad_lines_are_errors_that_say_what_to_type() {
        assert!(parse("lr").unwrap_err().contains("lr 0.001"));
        assert!(parse("lr fast").unwrap_err().contains("not a number"));
        assert!(parse("lr -1").unwrap_err().contains("greater than 0"));
        assert!(parse("train now").unwrap_err().contains("no argument"));
        assert!(parse("fly").unwrap_err().contains("unknown command"));
    }
}
