//! The desktop notebook (eframe): an experiment editor on the left, the training view or
//! the data preview in the middle, a console below and a status line at the bottom.
//!
//! # State
//! [`Notebook`] is what is saved: the experiment (written as RON through
//! [`crate::experiment::file::save`]) and where it lives. Everything else in
//! [`SeqlabApp`] is runtime state: the runner and its histories, the preview thread, the
//! console log.
//!
//! # Frame
//! [`eframe::App::logic`] drains the runner's events and the preview thread's result;
//! [`eframe::App::ui`] draws the panels, which push the [`Action`]s the user chose; the
//! actions are applied at the end of the frame. The trainer runs on its own thread and
//! wakes the window with `request_repaint`; the UI thread never waits for it.

pub mod console;
pub mod data_panel;
pub mod experiment_panel;
mod series;
pub mod train_panel;

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::experiment::rundir::{next_run_dir, RunRecord};
use crate::experiment::{file, validate, Experiment};
use crate::train::Command;

use console::{ConsolePanel, LogKind};
use data_panel::DataPanel;
use experiment_panel::{relative_to, ExperimentPanel};
use train_panel::TrainPanel;

/// Opens the window; `initial_file` is an experiment to open.
pub fn run(initial_file: Option<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("seqlab")
            .with_app_id("seqlab")
            .with_inner_size([1360.0, 860.0])
            .with_min_inner_size([900.0, 560.0]),
        ..Default::default()
    };
    eframe::run_native(
        "seqlab",
        options,
        Box::new(move |_cc| Ok(Box::new(SeqlabApp::new(initial_file)))),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("could not open the window (is a display available?)")
}

/// What is saved: the experiment and its file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notebook {
    /// The experiment file; none until first saved.
    pub path: Option<PathBuf>,
    pub experiment: Experiment,
    /// The tab shown in the middle.
    pub view: View,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    #[default]
    Training,
    Data,
}

/// What the user asked for while a frame was drawn; applied at its end.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Train,
    Pause,
    Resume,
    Stop,
    SetLearningRate(f64),
    SampleNow,
    EvaluateNow,
    CheckpointNow,
    /// Save to this path, or to the notebook's file (asking for one if it has none).
    Save(Option<PathBuf>),
    /// Ask for a path, then save there.
    SaveAs,
    /// Ask for an experiment file, then open it.
    OpenDialog,
    Open(PathBuf),
    New,
    /// Ask for a data file or folder.
    Browse(BrowseTarget),
    Log(LogKind, String),
}

/// What a Browse… button picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowseTarget {
    TextCorpus,
    CsvFeatures,
    CsvLabels,
}

/// The application.
pub struct SeqlabApp {
    /// Saved state.
    pub notebook: Notebook,
    /// The experiment as last loaded or saved (to show unsaved changes).
    saved_experiment: Experiment,
    pub editor: ExperimentPanel,
    pub data: DataPanel,
    pub train: TrainPanel,
    pub console: ConsolePanel,
    actions: Vec<Action>,
    /// The experiment the problems were computed for, and the problems.
    problems: Option<(Experiment, Vec<String>)>,
    title: String,
}

impl SeqlabApp {
    /// A new window, with `file` opened if given (errors go to the console).
    pub fn new(file: Option<PathBuf>) -> Self {
        let mut app = SeqlabApp {
            notebook: Notebook::default(),
            saved_experiment: Experiment::default(),
            editor: ExperimentPanel::default(),
            data: DataPanel::default(),
            train: TrainPanel::default(),
            console: ConsolePanel::default(),
            actions: Vec::new(),
            problems: None,
            title: String::new(),
        };
        app.console.log.info(format!(
            "seqlab {} — type `help` for commands",
            env!("CARGO_PKG_VERSION")
        ));
        if let Some(path) = file {
            app.open(&path);
        }
        app
    }

    /// Opens an experiment file (problems are logged; the notebook stays as it was).
    pub fn open(&mut self, path: &Path) {
        match file::load(path) {
            Ok(exp) => {
                self.console.log.info(format!("opened {}", path.display()));
                self.saved_experiment = exp.clone();
                self.notebook.experiment = exp;
                self.notebook.path = Some(path.to_path_buf());
            }
            Err(e) => self.console.log.error(e.to_string()),
        }
    }

    /// Writes the experiment to `path` (atomically) and makes it the notebook's file.
    pub fn save_to(&mut self, path: &Path) {
        match file::save(&self.notebook.experiment, path) {
            Ok(()) => {
                self.console.log.info(format!("saved {}", path.display()));
                self.notebook.path = Some(path.to_path_buf());
                self.saved_experiment = self.notebook.experiment.clone();
            }
            Err(e) => self.console.log.error(e.to_string()),
        }
    }

    /// The folder relative data paths are read from: the experiment file's, or the
    /// current folder for a notebook not saved yet.
    pub fn base_dir(&self) -> PathBuf {
        self.notebook
            .path
            .as_deref()
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default())
    }

    /// True when the experiment differs from the file.
    pub fn is_dirty(&self) -> bool {
        self.notebook.experiment != self.saved_experiment || self.notebook.path.is_none()
    }

    /// Queues an action as if a control had been used (for tests and scripts).
    pub fn push_action(&mut self, action: Action) {
        self.actions.push(action);
    }

    fn problems(&mut self) -> Vec<String> {
        let exp = &self.notebook.experiment;
        if self.problems.as_ref().is_none_or(|(e, _)| e != exp) {
            let file = self
                .notebook
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from("(unsaved)"));
            let list = validate::problems(exp, &file)
                .into_iter()
                .map(|e| e.to_string())
                .collect();
            self.problems = Some((exp.clone(), list));
        }
        self.problems
            .as_ref()
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    }

    fn start_training(&mut self, ctx: &egui::Context) {
        let problems = self.problems();
        if !problems.is_empty() {
            for p in problems {
                self.console.log.error(p);
            }
            self.console
                .log
                .error("training not started: fix the experiment first");
            return;
        }
        let mut exp = self.notebook.experiment.clone();
        file::resolve_paths(&mut exp, &self.base_dir());
        let run_dir = self.notebook.path.as_ref().map(|path| {
            let record = RunRecord {
                experiment: exp.clone(),
                experiment_file: std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()),
                blas: crate::blas::blas_info().to_string(),
                blas_kernel_decision: crate::blas::kernel_decision()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                started_unix: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
                ..RunRecord::default()
            };
            (next_run_dir(path), record)
        });
        let ctx = ctx.clone();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx.request_repaint());
        self.train.start(exp, run_dir, wake, &mut self.console.log);
    }

    fn command(&mut self, cmd: Command) {
        let what = format!("{cmd:?}");
        if !self.train.send(cmd) {
            self.console.log.error(format!(
                "{what}: no run is under way (start one with Train)"
            ));
        }
    }

    fn apply(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::Train => self.start_training(ctx),
            Action::Pause => self.command(Command::Pause),
            Action::Resume => self.command(Command::Resume),
            Action::Stop => self.command(Command::Stop),
            Action::SetLearningRate(lr) => self.command(Command::SetLearningRate(lr)),
            Action::SampleNow => self.command(Command::SampleNow),
            Action::EvaluateNow => self.command(Command::EvaluateNow),
            Action::CheckpointNow => self.command(Command::CheckpointNow),
            Action::Save(Some(path)) => self.save_to(&path),
            Action::Save(None) => match self.notebook.path.clone() {
                Some(path) => self.save_to(&path),
                None => self.apply(Action::SaveAs, ctx),
            },
            Action::SaveAs => {
                let name = format!("{}.ron", self.notebook.experiment.name);
                if let Some(path) = rfd::FileDialog::new()
                    .add_filter("experiment", &["ron"])
                    .set_file_name(name)
                    .set_directory(self.base_dir())
                    .save_file()
                {
                    self.save_to(&path);
                }
            }
            Action::OpenDialog => {
                if let Some(path) = rfd::FileDialog::new()
                    .add_filter("experiment", &["ron"])
                    .set_directory(self.base_dir())
                    .pick_file()
                {
                    self.open(&path);
                }
            }
            Action::Open(path) => self.open(&path),
            Action::New => {
                self.notebook = Notebook::default();
                self.saved_experiment = Experiment::default();
                self.console.log.info("new experiment");
            }
            Action::Browse(target) => self.browse(target),
            Action::Log(kind, text) => self.console.log.push(kind, text),
        }
    }

    fn browse(&mut self, target: BrowseTarget) {
        use crate::data::{LabelSource, SequenceSource};
        use crate::experiment::schema::DataSpec;
        let base = self.base_dir();
        let dialog = rfd::FileDialog::new().set_directory(&base);
        let base = self.notebook.path.as_ref().map(|_| base.as_path());
        match (target, &mut self.notebook.experiment.data) {
            (BrowseTarget::TextCorpus, DataSpec::Text(t)) => {
                if let Some(p) = dialog.pick_file() {
                    t.path = relative_to(&p, base);
                }
            }
            (BrowseTarget::CsvFeatures, DataSpec::Csv(c)) => {
                if let Some(p) = dialog.pick_folder() {
                    c.features = SequenceSource::Directory(relative_to(&p, base));
                }
            }
            (BrowseTarget::CsvLabels, DataSpec::Csv(c)) => {
                if let Some(p) = dialog.pick_folder() {
                    c.labels = LabelSource::Files(SequenceSource::Directory(relative_to(&p, base)));
                }
            }
            _ => {}
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let file = self
            .notebook
            .path
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "not saved".into());
        let dirty = if self.is_dirty() { " •" } else { "" };
        let title = format!("{}{dirty} ({file}) — seqlab", self.notebook.experiment.name);
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            ui.heading("seqlab");
            ui.separator();
            if ui
                .button("New")
                .on_hover_text("Start a new experiment")
                .clicked()
            {
                self.actions.push(Action::New);
            }
            if ui
                .button("Open…")
                .on_hover_text("Open an experiment file (.ron)")
                .clicked()
            {
                self.actions.push(Action::OpenDialog);
            }
            if ui
                .button("Save")
                .on_hover_text("Save the experiment to its file (Ctrl+S)")
                .clicked()
            {
                self.actions.push(Action::Save(None));
            }
            if ui
                .button("Save as…")
                .on_hover_text("Save the experiment to another file")
                .clicked()
            {
                self.actions.push(Action::SaveAs);
            }
            ui.separator();
            self.train.controls_ui(ui, &mut self.actions);
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let file = self
                    .notebook
                    .path
                    .as_deref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "not saved yet".into());
                let dirty = if self.is_dirty() {
                    " • unsaved changes"
                } else {
                    ""
                };
                ui.weak(format!("{file}{dirty}"))
                    .on_hover_text("The experiment file");
            });
        });
    }
}

impl eframe::App for SeqlabApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.train.drain_events(&mut self.console.log);
        self.data.poll();
        if ctx.input_mut(|i| {
            i.consume_shortcut(&egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND,
                egui::Key::S,
            ))
        }) {
            self.actions.push(Action::Save(None));
        }
        self.update_title(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("toolbar").show(ui, |ui| {
            ui.add_space(2.0);
            self.toolbar_ui(ui);
            ui.add_space(2.0);
        });
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| self.train.status_ui(ui));
        });
        egui::Panel::left("experiment")
            .resizable(true)
            .default_size(400.0)
            .size_range(300.0..=700.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                ui.heading("Experiment");
                ui.separator();
                let problems = self.problems();
                egui::ScrollArea::vertical()
                    .id_salt("experiment_scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        self.editor.ui(
                            ui,
                            &mut self.notebook.experiment,
                            &problems,
                            &mut self.actions,
                        );
                    });
            });
        egui::Panel::bottom("console")
            .resizable(true)
            .default_size(150.0)
            .size_range(80.0..=500.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                self.console.ui(ui, &mut self.actions);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.notebook.view, View::Training, "Training")
                    .on_hover_text("Live plots, validation and samples");
                ui.selectable_value(&mut self.notebook.view, View::Data, "Data preview")
                    .on_hover_text("How CSV sequences are aligned, padded and masked");
            });
            ui.separator();
            match self.notebook.view {
                View::Training => self.train.ui(ui, &mut self.actions),
                View::Data => {
                    let base = self.base_dir();
                    self.data.ui(ui, &mut self.notebook.experiment, &base);
                }
            }
        });

        let ctx = ui.ctx().clone();
        for action in std::mem::take(&mut self.actions) {
            self.apply(action, &ctx);
        }
    }
}
