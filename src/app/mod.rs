//! The desktop notebook (eframe): an experiment editor on the left, the training view or
//! the data preview in the middle, a console below and a status line at the bottom.
//!
//! # State
//! The window is a front end of one [`Session`] (the same as the terminal REPL's): the
//! session owns the experiment with its notebook (what is saved), its file, the runs and
//! the active run. Buttons and the command line run command lines in it, so the
//! notebook's transcript records both. Everything else in [`SeqlabApp`] is runtime
//! state: plot histories, the preview thread, the console log.
//!
//! # Frame
//! [`eframe::App::logic`] takes the session's runner events and the preview thread's result;
//! [`eframe::App::ui`] draws the panels, which push the [`Action`]s the user chose; the
//! actions are applied at the end of the frame. The trainer runs on its own thread and
//! wakes the window with `request_repaint`; the UI thread never waits for it.

pub mod console;
pub mod data_panel;
pub mod experiment_panel;
pub mod monitor;
pub mod notebook_view;
pub mod series;

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::experiment::{validate, Experiment};
use crate::repl::Session;
use crate::train::Command;

use console::{ConsolePanel, LogKind};
use data_panel::DataPanel;
use experiment_panel::{relative_to, ExperimentPanel};
use monitor::Monitor;
use notebook_view::NotebookView;

/// Frames per second at most while a run streams events (a display's rate).
pub const REDRAW_HZ: f64 = 60.0;

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

/// The tab shown in the middle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    #[default]
    Notebook,
    Data,
}

/// What the user asked for while a frame was drawn; applied at its end. Actions that
/// the command language has run as their command line, so the notebook's transcript
/// records what was done from buttons as well as what was typed.
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
    /// A line typed in the command line (or a cell re-run).
    Command(String),
    /// Delete this cell of the transcript.
    DeleteCell(usize),
    /// A new run from this run's (index in the notebook's runs) final weights and
    /// settings, to be edited before training.
    Branch(usize),
    /// Write this run's metrics as one CSV file beside the experiment.
    ExportMetrics(usize),
    Log(LogKind, String),
}

/// What a Browse… button picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowseTarget {
    TextCorpus,
    CsvFeatures,
    CsvLabels,
}

/// The application: a front end of one [`Session`].
pub struct SeqlabApp {
    /// The experiment, its notebook and its runs (what is saved), and the active run.
    pub session: Session,
    /// The tab shown in the middle.
    pub view: View,
    pub editor: ExperimentPanel,
    pub data: DataPanel,
    /// The live monitor and every run's curves.
    pub train: Monitor,
    /// The notebook's cells (view state).
    pub notebook: NotebookView,
    pub console: ConsolePanel,
    actions: Vec<Action>,
    /// The experiment the problems were computed for, and the problems.
    problems: Option<(Experiment, Vec<String>)>,
    title: String,
    /// The session repaints the window on runner events once it has the context.
    wake_set: bool,
}

/// `path` as one argument of a command line.
fn quote(path: &Path) -> String {
    let s = path.display().to_string();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl SeqlabApp {
    /// A new window, with `file` opened if given (errors go to the console).
    pub fn new(file: Option<PathBuf>) -> Self {
        let mut session = Session::new();
        session.set_blocking_allowed(false);
        let mut app = SeqlabApp {
            session,
            view: View::default(),
            editor: ExperimentPanel::default(),
            data: DataPanel::default(),
            train: Monitor::default(),
            notebook: NotebookView::default(),
            console: ConsolePanel::default(),
            actions: Vec::new(),
            problems: None,
            title: String::new(),
            wake_set: false,
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

    /// Runs one command line in the session and logs the command and its outputs.
    /// Returns whether it succeeded.
    pub fn run_line(&mut self, line: &str) -> bool {
        self.console.log.push(LogKind::Input, line.trim());
        let cell = self.session.execute(line);
        for out in &cell.outputs {
            let text = crate::repl::render::render(out);
            match out {
                crate::repl::Output::Error(e) => self.console.log.error(e.clone()),
                _ => self.console.log.info(text),
            }
        }
        cell.ok
    }

    /// Queues an action as a button would (applied at the end of the next frame).
    pub fn push_action(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// Opens an experiment file (problems are logged; the notebook stays as it was).
    pub fn open(&mut self, path: &Path) {
        if self.run_line(&format!("open! {}", quote(path))) {
            self.notebook_replaced();
        }
    }

    /// Writes the experiment and its notebook to `path` (atomically) and makes it the
    /// notebook's file.
    pub fn save_to(&mut self, path: &Path) {
        self.run_line(&format!("save {}", quote(path)));
    }

    /// The folder relative data paths are read from: the experiment file's, or the
    /// current folder for a notebook not saved yet.
    pub fn base_dir(&self) -> PathBuf {
        self.session.base_dir()
    }

    /// True when the experiment or its notebook differs from the file.
    pub fn is_dirty(&self) -> bool {
        self.session.is_dirty()
    }

    fn problems(&mut self) -> Vec<String> {
        let exp = &self.session.experiment;
        if self.problems.as_ref().is_none_or(|(e, _)| {
            e.data != exp.data
                || e.model != exp.model
                || e.training != exp.training
                || e.evaluation != exp.evaluation
                || e.sampling != exp.sampling
                || e.initial_weights != exp.initial_weights
        }) {
            let file = self
                .session
                .file()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("(unsaved)"));
            let mut settings = exp.clone();
            settings.notebook = Default::default();
            let list = validate::problems(&settings, &file)
                .into_iter()
                .map(|e| e.to_string())
                .collect();
            self.problems = Some((settings, list));
        }
        self.problems
            .as_ref()
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    }

    fn start_training(&mut self) {
        self.run_train_line("train");
    }

    /// Runs a `train` command line and, when the run started, follows it in the monitor
    /// (the previous run stays, overlaid).
    fn run_train_line(&mut self, line: &str) {
        let lr = monitor::updater_lr(&self.session.experiment.training.updater);
        let base = self.base_dir();
        let previous = self
            .session
            .experiment
            .notebook
            .runs
            .last()
            .map(|r| r.folder(&base));
        if self.run_line(line) {
            if let Some((_, run)) = self.session.active_cell() {
                let entry = &self.session.experiment.notebook.runs[run];
                let (name, folder) = (entry.name(), entry.folder(&base));
                self.train.begin(&name, folder, lr, previous);
            }
        }
    }

    /// A new or opened notebook: the live run and the cells' view state start afresh.
    fn notebook_replaced(&mut self) {
        self.train.reset();
        self.notebook.reset();
    }

    /// "Branch from here": the run's model and training settings (where they differ)
    /// and its final weights as the initial weights, each as a `set` command line, so
    /// the notebook records the branch; the user edits, then trains.
    fn branch(&mut self, run: usize) {
        let Some(entry) = self.session.experiment.notebook.runs.get(run).cloned() else {
            return;
        };
        let base = self.base_dir();
        let folder = entry.folder(&base);
        let weights = folder.join("weights.safetensors");
        if !weights.is_file() {
            self.console.log.error(format!(
                "run {}: {} is missing, so there is nothing to branch from (the run wrote no final weights)",
                entry.name(),
                weights.display()
            ));
            return;
        }
        let record = match crate::experiment::rundir::RunDir::read_record(&folder) {
            Ok(r) => r,
            Err(e) => {
                self.console.log.error(format!("run {}: {e}", entry.name()));
                return;
            }
        };
        use crate::experiment::fields;
        let one_line = |v: String| v.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        for field in ["model", "training"] {
            let (Ok(theirs), Ok(ours)) = (
                fields::get(&record.experiment, field),
                fields::get(&self.session.experiment, field),
            ) else {
                continue;
            };
            if theirs != ours && !self.run_line(&format!("set {field} {}", one_line(theirs))) {
                return;
            }
        }
        let path = match self.session.file() {
            Some(_) => experiment_panel::relative_to(&weights, Some(base.as_path())),
            None => weights,
        };
        if self.run_line(&format!("set initial_weights Some({})", quote(&path))) {
            self.run_line(&format!(
                "note Branched from run **{}**: its final weights are the initial weights. \
                 Edit the settings (e.g. `set training.updater ...`), then `train`.",
                entry.name()
            ));
        }
    }

    /// Writes a run's metrics and validation scores as one CSV file beside the
    /// experiment (`<name>-run<NNN>-metrics.csv`).
    fn export_metrics(&mut self, run: usize) {
        let Some(entry) = self.session.experiment.notebook.runs.get(run).cloned() else {
            return;
        };
        let base = self.base_dir();
        let dest = base.join(format!(
            "{}-run{}-metrics.csv",
            self.session.experiment.name,
            entry.name()
        ));
        match crate::experiment::notebook::export_metrics_csv(&entry.folder(&base), &dest) {
            Ok(rows) => self.console.log.info(format!(
                "run {}: {rows} rows of metrics written to {}",
                entry.name(),
                dest.display()
            )),
            Err(e) => self
                .console
                .log
                .error(format!("run {}: export failed: {e}", entry.name())),
        }
    }

    /// Window controls with no command of their own (a sample or an evaluation during
    /// the run) go to the runner directly.
    fn command(&mut self, cmd: Command) {
        let what = format!("{cmd:?}");
        if !self.session.send_to_run(cmd) {
            self.console.log.error(format!(
                "{what}: no run is under way (start one with Train)"
            ));
        }
    }

    fn apply(&mut self, action: Action, _ctx: &egui::Context) {
        match action {
            Action::Train => self.start_training(),
            Action::Pause => {
                self.run_line("pause");
            }
            Action::Resume => {
                self.run_line("resume");
            }
            Action::Stop => {
                self.run_line("stop");
            }
            Action::SetLearningRate(lr) => {
                self.run_line(&format!("lr {lr}"));
            }
            Action::CheckpointNow => {
                self.run_line("checkpoint");
            }
            Action::SampleNow if !self.session.is_running() => {
                self.run_line("sample");
            }
            Action::SampleNow => self.command(Command::SampleNow),
            Action::EvaluateNow => self.command(Command::EvaluateNow),
            Action::Save(Some(path)) => self.save_to(&path),
            Action::Save(None) => match self.session.file().map(Path::to_path_buf) {
                Some(_) => {
                    self.run_line("save");
                }
                None => self.apply(Action::SaveAs, _ctx),
            },
            Action::SaveAs => {
                let name = format!("{}.ron", self.session.experiment.name);
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
                if self.run_line("new!") {
                    self.notebook_replaced();
                }
            }
            Action::Browse(target) => self.browse(target),
            Action::Command(line) => {
                let parsed = crate::repl::parse(&line);
                let is_train = parsed
                    .as_ref()
                    .is_ok_and(|c| matches!(c, crate::repl::Command::Train(_)));
                let reset = parsed.as_ref().is_ok_and(|c| {
                    matches!(
                        c,
                        crate::repl::Command::New { .. } | crate::repl::Command::Open { .. }
                    )
                });
                if is_train {
                    self.run_train_line(&line);
                } else if self.run_line(&line) && reset {
                    self.notebook_replaced();
                }
            }
            Action::DeleteCell(i) => {
                if self.session.delete_cell(i) {
                    self.notebook.cell_deleted(i);
                }
            }
            Action::Branch(run) => self.branch(run),
            Action::ExportMetrics(run) => self.export_metrics(run),
            Action::Log(kind, text) => self.console.log.push(kind, text),
        }
    }

    fn browse(&mut self, target: BrowseTarget) {
        use crate::data::{LabelSource, SequenceSource};
        use crate::experiment::schema::DataSpec;
        let base = self.base_dir();
        let dialog = rfd::FileDialog::new().set_directory(&base);
        let base = self.session.file().map(|_| base.as_path());
        match (target, &mut self.session.experiment.data) {
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
            .session
            .file()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "not saved".into());
        let dirty = if self.is_dirty() { " •" } else { "" };
        let title = format!("{}{dirty} ({file}) — seqlab", self.session.experiment.name);
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
                    .session
                    .file()
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
        if !self.wake_set {
            // trainer events arrive up to thousands of times a second: each asks for a
            // frame within one display interval, so frames come at most at the display
            // rate however fast the events do
            let ctx = ctx.clone();
            self.session.set_wake(Arc::new(move || {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(1.0 / REDRAW_HZ))
            }));
            self.wake_set = true;
        }
        let events = self.session.poll();
        self.train.apply_events(events, &mut self.console.log);
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
                            &mut self.session.experiment,
                            &problems,
                            &mut self.actions,
                        );
                    });
            });
        egui::Panel::bottom("console")
            .resizable(true)
            .default_size(120.0)
            .size_range(60.0..=500.0)
            .show(ui, |ui| {
                ui.add_space(4.0);
                self.console.ui(ui, &self.session, &mut self.actions);
            });
        egui::CentralPanel::default().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.view, View::Notebook, "Notebook")
                    .on_hover_text(
                        "The cells: each command with its output; runs and their live monitor",
                    );
                ui.selectable_value(&mut self.view, View::Data, "Data preview")
                    .on_hover_text("How CSV sequences are aligned, padded and masked");
            });
            ui.separator();
            match self.view {
                View::Notebook => {
                    self.notebook
                        .ui(ui, &self.session, &mut self.train, &mut self.actions)
                }
                View::Data => {
                    let base = self.base_dir();
                    self.data.ui(ui, &mut self.session.experiment, &base);
                }
            }
        });

        let ctx = ui.ctx().clone();
        for action in std::mem::take(&mut self.actions) {
            self.apply(action, &ctx);
        }
    }
}
