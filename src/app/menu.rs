//! The menu bar: File (New, Open, recent files, the shipped examples, Save, Save As)
//! and View (theme, the in-window file browser), with their keyboard shortcuts.

use eframe::egui;
use egui::{Key, KeyboardShortcut, Modifiers};

use super::files::{examples, Settings};
use super::Action;

const NEW: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::N);
const OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
const SAVE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::S);
const SAVE_AS: KeyboardShortcut =
    KeyboardShortcut::new(Modifiers::COMMAND.plus(Modifiers::SHIFT), Key::S);

/// The File menu's shortcuts and their actions (Save As before Save: it is the longer
/// chord of the same key).
pub fn shortcuts() -> [(KeyboardShortcut, Action); 4] {
    [
        (SAVE_AS, Action::SaveAs),
        (SAVE, Action::Save(None)),
        (OPEN, Action::OpenDialog),
        (NEW, Action::New),
    ]
}

fn item(ui: &mut egui::Ui, text: &str, shortcut: Option<&KeyboardShortcut>, hover: &str) -> bool {
    let mut button = egui::Button::new(text);
    if let Some(s) = shortcut {
        button = button.shortcut_text(ui.ctx().format_shortcut(s));
    }
    ui.add(button).on_hover_text(hover).clicked()
}

pub fn menu_bar_ui(ui: &mut egui::Ui, settings: &mut Settings, actions: &mut Vec<Action>) {
    ui.menu_button("File", |ui| {
        if item(ui, "New", Some(&NEW), "Start a new experiment") {
            actions.push(Action::New);
        }
        if item(ui, "Open…", Some(&OPEN), "Open an experiment file (.ron)") {
            actions.push(Action::OpenDialog);
        }
        ui.menu_button("Open recent", |ui| {
            if settings.recent.is_empty() {
                ui.weak("no recent files");
            }
            for path in settings.recent.clone() {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                open_button(ui, name.unwrap_or_default(), path, actions);
            }
            if !settings.recent.is_empty() {
                ui.separator();
                if ui.button("Clear the list").clicked() {
                    settings.recent.clear();
                }
            }
        });
        ui.menu_button("Examples", |ui| {
            let found = examples();
            if found.is_empty() {
                ui.weak("no experiments/ folder found next to seqlab");
            }
            for path in found {
                let name = path.file_stem().map(|n| n.to_string_lossy().into_owned());
                open_button(ui, name.unwrap_or_default(), path, actions);
            }
        });
        ui.separator();
        if item(
            ui,
            "Save",
            Some(&SAVE),
            "Save the experiment and its notebook to its file",
        ) {
            actions.push(Action::Save(None));
        }
        if item(
            ui,
            "Save as…",
            Some(&SAVE_AS),
            "Save to another file (relative data paths are rebased)",
        ) {
            actions.push(Action::SaveAs);
        }
    });
    ui.menu_button("View", |ui| {
        let dark = ui.visuals().dark_mode;
        if ui.selectable_label(!dark, "Light theme").clicked() {
            actions.push(Action::SetDark(false));
        }
        if ui.selectable_label(dark, "Dark theme").clicked() {
            actions.push(Action::SetDark(true));
        }
        ui.separator();
        ui.checkbox(&mut settings.builtin_dialogs, "In-window file browser")
            .on_hover_text(
                "Use seqlab's own file browser instead of the system's dialogs (it is used \
                 anyway where the system has none)",
            );
    });
}

/// A menu entry that opens `path` (its full path on hover).
fn open_button(
    ui: &mut egui::Ui,
    name: String,
    path: std::path::PathBuf,
    actions: &mut Vec<Action>,
) {
    if ui
        .button(name)
        .on_hover_text(path.display().to_string())
        .clicked()
    {
        actions.push(Action::Open(path));
    }
}
