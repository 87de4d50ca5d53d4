//! The desktop habits: file dialogs that never block the window, the in-window file
//! browser where the system has no dialog service, recent files, the shipped examples,
//! and the settings kept between launches.
//!
//! # Dialogs
//! A native dialog (rfd: the XDG desktop portal, zenity or kdialog on Linux) runs on its
//! own named thread and its answer is polled each frame, so the window keeps drawing.
//! Where there is no dialog service at all (no portal on the session bus, no zenity, no
//! kdialog: headless machines, minimal window managers), rfd answers "nothing chosen" at
//! once; that is told apart from a user's cancel by [`native_dialogs_available`] up
//! front and by an answer faster than a person can give, and the in-window browser
//! (`egui_file`) opens instead. The File menu can also always use the in-window one.

use eframe::egui;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::time::{Duration, Instant};

use super::BrowseTarget;

/// How many recent files the File menu lists.
pub const RECENT_LIMIT: usize = 10;

/// An answer faster than this, with nothing chosen, means the dialog never showed.
const NO_DIALOG_WITHIN: Duration = Duration::from_millis(400);

/// What a dialog picks a path for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// An experiment file to open.
    Open,
    /// Where to save the experiment.
    SaveAs,
    /// A data file or folder.
    Browse(BrowseTarget),
}

impl Purpose {
    fn title(self) -> &'static str {
        match self {
            Purpose::Open => "Open experiment",
            Purpose::SaveAs => "Save experiment as",
            Purpose::Browse(BrowseTarget::TextCorpus) => "Choose the text corpus",
            Purpose::Browse(BrowseTarget::CsvFeatures) => "Choose the features folder",
            Purpose::Browse(BrowseTarget::CsvLabels) => "Choose the labels folder",
        }
    }

    fn folder(self) -> bool {
        matches!(
            self,
            Purpose::Browse(BrowseTarget::CsvFeatures | BrowseTarget::CsvLabels)
        )
    }
}

/// The settings kept between launches (eframe's storage, with the window's size and
/// the panels' sizes, which eframe and egui keep themselves).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Experiment files opened or saved, newest first.
    pub recent: Vec<PathBuf>,
    /// Dark theme (false: light).
    pub dark: Option<bool>,
    /// Always use the in-window file browser.
    pub builtin_dialogs: bool,
}

impl Settings {
    /// The key in eframe's storage.
    pub const KEY: &'static str = "seqlab";

    /// Puts `path` first in the recent files (once), keeping [`RECENT_LIMIT`].
    pub fn remember(&mut self, path: &Path) {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(RECENT_LIMIT);
    }
}

/// Whether a native file dialog can show on this system: on Linux, an XDG desktop
/// portal on the session bus, or zenity or kdialog on the `PATH`.
pub fn native_dialogs_available() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = |name: &str| std::env::split_paths(&path).any(|d| d.join(name).is_file());
    let portal = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        && [
            "/usr/libexec/xdg-desktop-portal",
            "/usr/lib/xdg-desktop-portal",
            "/usr/lib/xdg-desktop-portal/xdg-desktop-portal",
        ]
        .iter()
        .any(|p| Path::new(p).is_file());
    portal || on_path("zenity") || on_path("kdialog")
}

/// The shipped example experiments: `experiments/*.ron` next to the executable (or up
/// to three folders above it, as in a cargo `target/` folder), or in the source tree
/// this was built from.
pub fn examples() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(
            exe.ancestors()
                .skip(1)
                .take(4)
                .map(|d| d.join("experiments")),
        );
    }
    roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments"));
    for root in roots {
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "ron"))
            .collect();
        if !found.is_empty() {
            found.sort();
            return found;
        }
    }
    Vec::new()
}

struct Native {
    purpose: Purpose,
    started: Instant,
    rx: Receiver<Option<PathBuf>>,
}

/// The file dialogs: at most one open at a time.
pub struct Dialogs {
    native: Option<Native>,
    builtin: Option<(Purpose, egui_file::FileDialog)>,
    /// Whether native dialogs can show (checked once).
    pub native_available: bool,
    /// Why the last native dialog was replaced by the in-window one, for the log.
    pub fell_back: Option<String>,
}

impl Default for Dialogs {
    fn default() -> Self {
        Dialogs {
            native: None,
            builtin: None,
            native_available: native_dialogs_available(),
            fell_back: None,
        }
    }
}

impl Dialogs {
    /// True while a dialog is open.
    pub fn is_open(&self) -> bool {
        self.native.is_some() || self.builtin.is_some()
    }

    /// Opens a dialog for `purpose` in `dir` (`name`: the file name to suggest when
    /// saving); the in-window one when `builtin` or no native one can show.
    pub fn open(
        &mut self,
        ctx: &egui::Context,
        purpose: Purpose,
        dir: &Path,
        name: Option<String>,
        builtin: bool,
    ) {
        if self.is_open() {
            return;
        }
        if builtin || !self.native_available {
            self.open_builtin(purpose, dir, name);
            return;
        }
        let (tx, rx) = channel();
        let dir = dir.to_path_buf();
        let ctx = ctx.clone();
        let spawned = std::thread::Builder::new()
            .name("seqlab-file-dialog".into())
            .spawn({
                let name = name.clone();
                let dir = dir.clone();
                move || {
                    let mut d = rfd::FileDialog::new()
                        .set_directory(&dir)
                        .set_title(purpose.title());
                    if matches!(purpose, Purpose::Open | Purpose::SaveAs) {
                        d = d.add_filter("experiment", &["ron"]);
                    }
                    if let Some(name) = name {
                        d = d.set_file_name(name);
                    }
                    let picked = match purpose {
                        Purpose::SaveAs => d.save_file(),
                        p if p.folder() => d.pick_folder(),
                        _ => d.pick_file(),
                    };
                    let _ = tx.send(picked);
                    ctx.request_repaint();
                }
            });
        match spawned {
            Ok(_) => {
                self.native = Some(Native {
                    purpose,
                    started: Instant::now(),
                    rx,
                })
            }
            Err(e) => {
                self.fell_back = Some(format!("could not start the dialog thread ({e})"));
                self.open_builtin(purpose, &dir, name);
            }
        }
    }

    fn open_builtin(&mut self, purpose: Purpose, dir: &Path, name: Option<String>) {
        let mut d = match purpose {
            Purpose::SaveAs => egui_file::FileDialog::save_file(),
            p if p.folder() => egui_file::FileDialog::select_folder(),
            _ => egui_file::FileDialog::open_file(),
        }
        .initial_path(dir)
        .title(purpose.title())
        .id(egui::Id::unique("seqlab_file_dialog"))
        .default_size([640.0, 420.0]);
        if let Some(name) = name {
            d = d.default_filename(name);
        }
        if matches!(purpose, Purpose::Open) {
            d = d.show_files_filter(Box::new(|p: &Path| {
                p.extension().is_some_and(|e| e == "ron")
            }));
        }
        d.open();
        self.builtin = Some((purpose, d));
    }

    /// Draws the in-window dialog and takes a native dialog's answer; returns what was
    /// picked. Never waits.
    pub fn ui(&mut self, ctx: &egui::Context) -> Option<(Purpose, PathBuf)> {
        if let Some(n) = &self.native {
            match n.rx.try_recv() {
                Ok(Some(path)) => {
                    let purpose = n.purpose;
                    self.native = None;
                    return Some((purpose, path));
                }
                Ok(None) => {
                    let (purpose, quick) = (n.purpose, n.started.elapsed() < NO_DIALOG_WITHIN);
                    self.native = None;
                    if quick {
                        // nothing showed: the system has no working dialog service
                        self.native_available = false;
                        self.fell_back = Some(
                            "the system's file dialog did not open (no desktop portal, zenity \
                             or kdialog); using the in-window file browser"
                                .into(),
                        );
                        let dir = std::env::current_dir().unwrap_or_default();
                        self.open_builtin(purpose, &dir, None);
                    }
                }
                Err(TryRecvError::Empty) => {}
                Err(TryRecvError::Disconnected) => self.native = None,
            }
        }
        let (purpose, dialog) = self.builtin.as_mut()?;
        let purpose = *purpose;
        dialog.show(ctx);
        match dialog.state() {
            egui_file::State::Open => None,
            egui_file::State::Selected => {
                let picked = dialog.path().map(Path::to_path_buf);
                self.builtin = None;
                picked.map(|p| (purpose, p))
            }
            egui_file::State::Cancelled | egui_file::State::Closed => {
                self.builtin = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_files_are_newest_first_once_and_bounded() {
        let mut s = Settings::default();
        for i in 0..12 {
            s.remember(Path::new(&format!("/tmp/e{i}.ron")));
        }
        s.remember(Path::new("/tmp/e5.ron"));
        assert_eq!(s.recent.len(), RECENT_LIMIT);
        assert_eq!(s.recent[0], Path::new("/tmp/e5.ron"));
        assert_eq!(s.recent[1], Path::new("/tmp/e11.ron"));
        assert_eq!(s.recent.iter().filter(|p| p.ends_with("e5.ron")).count(), 1);
    }

    #[test]
    fn settings_round_trip_through_ron() {
        let mut s = Settings {
            dark: Some(false),
            builtin_dialogs: true,
            ..Settings::default()
        };
        s.remember(Path::new("/tmp/a.ron"));
        let text = ron::to_string(&s).unwrap();
        let back: Settings = ron::from_str(&text).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn the_shipped_examples_are_found() {
        let found = examples();
        assert!(
            found
                .iter()
                .any(|p| p.ends_with("experiments/char_text.ron")),
            "{found:?}"
        );
    }
}
