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
pub mod editor;
pub mod files;
mod menu;
pub mod monitor;
pub mod notebook_view;
mod prompt;
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
use editor::Editor;
use files::{Dialogs, Purpose, Settings};
use monitor::Monitor;
use notebook_view::NotebookView;
use prompt::{Pending, Prompt};

/// Frames per second at most while a run streams events (a display's rate).
pub const REDRAW_HZ: f64 = 60.0;

/// Opens the window; `initial_file` is an experiment to open. The window's size, the
/// panels' sizes, the theme and the recent files come back from the last launch
/// (eframe's storage).
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
        Box::new(move |cc| {
            let settings: Settings = cc
                .storage
                .and_then(|s| eframe::get_value(s, Settings::KEY))
                .unwrap_or_default();
            let app = SeqlabApp::with_settings(initial_file, settings);
            app.apply_theme(&cc.egui_ctx);
            Ok(Box::new(app))
        }),
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
    /// Ask for an experiment file, then open it (asking first about unsaved changes).
    OpenDialog,
    /// Open this file (asking first about unsaved changes and a run under way).
    Open(PathBuf),
    /// A new experiment (asking first about unsaved changes and a run under way).
    New,
    /// Ask for a data file or folder.
    Browse(BrowseTarget),
    /// Data files or a folder picked (dropped on the window): the data source follows
    /// what they are (a folder or `.csv` files: CSV sequences; another file: text).
    PickData(Vec<PathBuf>),
    /// Light or dark theme.
    SetDark(bool),
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
    pub editor: Editor,
    pub data: DataPanel,
    /// The live monitor and every run's curves.
    pub train: Monitor,
    /// The notebook's cells (view state).
    pub notebook: NotebookView,
    pub console: ConsolePanel,
    /// What is kept between launches (recent files, theme, dialog choice).
    pub settings: Settings,
    /// The file dialogs (native on a thread, or in the window).
    pub dialogs: Dialogs,
    /// The question shown before losing work (unsaved changes, a run under way).
    pub prompt: Option<Prompt>,
    /// Why the last file could not be opened at all (shown until dismissed).
    pub open_error: Option<String>,
    /// What is done once the active run has stopped (New, Open or closing, asked for
    /// during the run).
    after_run: Option<Pending>,
    /// What is done once the Save As dialog has saved (the prompt's "Save").
    after_save: Option<Pending>,
    /// Closing was confirmed: the next close request is let through.
    allow_close: bool,
    actions: Vec<Action>,
    /// The experiment the problems were computed for, and the problems.
    problems: Option<(Experiment, Vec<editor::Problem>)>,
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
        SeqlabApp::with_settings(file, Settings::default())
    }

    /// A new window with the settings of the last launch.
    pub fn with_settings(file: Option<PathBuf>, settings: Settings) -> Self {
        let mut session = Session::new();
        session.set_blocking_allowed(false);
        let mut app = SeqlabApp {
            session,
            view: View::default(),
            editor: Editor::default(),
            data: DataPanel::default(),
            train: Monitor::default(),
            notebook: NotebookView::default(),
            console: ConsolePanel::default(),
            settings,
            dialogs: Dialogs::default(),
            prompt: None,
            open_error: None,
            after_run: None,
            after_save: None,
            allow_close: false,
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

    fn apply_theme(&self, ctx: &egui::Context) {
        match self.settings.dark {
            Some(true) => ctx.set_theme(egui::Theme::Dark),
            Some(false) => ctx.set_theme(egui::Theme::Light),
            None => {}
        }
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

    /// Opens an experiment file, discarding unsaved changes (the window asks first). A
    /// file with problems opens with what could be read and its problems listed; a file
    /// that cannot be read at all leaves a new, empty experiment and says why.
    pub fn open(&mut self, path: &Path) {
        if self.run_line(&format!("open! {}", quote(path))) {
            self.notebook_replaced();
            self.settings.remember(path);
            self.open_error = None;
        } else {
            let why = self
                .session
                .experiment
                .notebook
                .cells
                .last()
                .and_then(|c| {
                    c.outputs.iter().find_map(|o| match o {
                        crate::repl::Output::Error(e) => Some(e.clone()),
                        _ => None,
                    })
                })
                .unwrap_or_else(|| format!("{}: could not be opened", path.display()));
            // a file that is there but cannot be parsed at all opens empty, with its
            // error; one that cannot be read leaves the experiment as it was
            if path.is_file() && self.run_line("new!") {
                self.notebook_replaced();
            }
            self.open_error = Some(why);
        }
    }

    /// Writes the experiment and its notebook to `path` (atomically) and makes it the
    /// notebook's file. Relative data paths are rebased onto the new folder (the
    /// session's `save` does it), so a copy saved elsewhere still finds its data.
    pub fn save_to(&mut self, path: &Path) -> bool {
        let ok = self.run_line(&format!("save {}", quote(path)));
        if ok {
            if let Some(file) = self.session.file().map(Path::to_path_buf) {
                self.settings.remember(&file);
            }
        }
        ok
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

    /// True when closing, New or Open would lose edits (a notebook that only ran
    /// commands, or a new experiment nobody edited, has nothing to lose).
    pub fn has_unsaved_edits(&self) -> bool {
        self.session.has_unsaved_edits()
    }

    fn problems(&mut self) -> Vec<editor::Problem> {
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
                .iter()
                .map(editor::Problem::from_error)
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
            Some(_) => editor::relative_to(&weights, Some(base.as_path())),
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

    /// Opens a file dialog for `purpose` (never blocks the window).
    fn ask_path(&mut self, ctx: &egui::Context, purpose: Purpose) {
        let name = matches!(purpose, Purpose::SaveAs).then(|| {
            self.session
                .file()
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("{}.ron", self.session.experiment.name))
        });
        let dir = self.base_dir();
        self.dialogs
            .open(ctx, purpose, &dir, name, self.settings.builtin_dialogs);
        if let Some(why) = self.dialogs.fell_back.take() {
            self.console.log.info(why);
        }
    }

    /// A path picked in a dialog (native or in the window) for `purpose`.
    pub fn dialog_picked(&mut self, ctx: &egui::Context, purpose: Purpose, path: PathBuf) {
        match purpose {
            Purpose::Open => self.open(&path),
            Purpose::SaveAs => {
                let path = if path.extension().is_none() {
                    path.with_extension("ron")
                } else {
                    path
                };
                if self.save_to(&path) {
                    if let Some(next) = self.after_save.take() {
                        self.perform(ctx, next);
                    }
                } else {
                    self.after_save = None;
                }
            }
            Purpose::Browse(target) => self.pick_data(Some(target), vec![path]),
        }
    }

    /// Goes on with `pending` once nothing would be lost: asks to stop a run under way,
    /// then about unsaved changes.
    pub fn request(&mut self, ctx: &egui::Context, pending: Pending) {
        if self.session.is_running() {
            let run = self.session.progress().map(|p| p.run).unwrap_or_default();
            self.prompt = Some(Prompt::running(pending, run));
        } else if self.has_unsaved_edits() {
            let what = self
                .session
                .file()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| format!("{} (not saved yet)", self.session.experiment.name));
            self.prompt = Some(Prompt::unsaved(pending, what));
        } else {
            self.perform(ctx, pending);
        }
    }

    /// Does `pending` now (whatever is unsaved is dropped).
    fn perform(&mut self, ctx: &egui::Context, pending: Pending) {
        match pending {
            Pending::New => {
                if self.run_line("new!") {
                    self.notebook_replaced();
                    self.open_error = None;
                }
            }
            Pending::Open(path) => self.open(&path),
            Pending::OpenDialog => self.ask_path(ctx, Purpose::Open),
            Pending::Close => {
                self.allow_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    /// The prompt's answer.
    fn answer(&mut self, ctx: &egui::Context, answer: prompt::Answer) {
        let Some(p) = self.prompt.take() else {
            return;
        };
        match answer {
            prompt::Answer::Cancel => {}
            prompt::Answer::StopRun => {
                self.run_line("stop");
                self.after_run = Some(p.pending);
            }
            prompt::Answer::Discard => self.perform(ctx, p.pending),
            prompt::Answer::Save => match self.session.file() {
                Some(_) => {
                    if self.run_line("save") {
                        self.perform(ctx, p.pending);
                    }
                }
                None => {
                    self.after_save = Some(p.pending);
                    self.ask_path(ctx, Purpose::SaveAs);
                }
            },
        }
    }

    /// Data files or a folder picked for `target` (a Browse… button), or dropped on the
    /// window (`None`): the data source follows what they are.
    pub fn pick_data(&mut self, target: Option<BrowseTarget>, paths: Vec<PathBuf>) {
        use crate::data::{CsvDataConfig, LabelSource, SequenceSource};
        use crate::experiment::schema::{DataSpec, TextSpec};
        let Some(first) = paths.first().cloned() else {
            return;
        };
        let base = self.session.file().map(|_| self.base_dir());
        let rel = |p: &Path| editor::relative_to(p, base.as_deref());
        let is_csv = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let data = &mut self.session.experiment.data;
        let what = match target {
            Some(BrowseTarget::CsvLabels) => {
                if let DataSpec::Csv(c) = data {
                    c.labels = LabelSource::Files(if first.is_dir() {
                        SequenceSource::Directory(rel(&first))
                    } else {
                        SequenceSource::Files(paths.iter().map(|p| rel(p)).collect())
                    });
                }
                "labels"
            }
            _ if first.is_dir() || paths.iter().all(|p| is_csv(p)) => {
                let source = if first.is_dir() {
                    SequenceSource::Directory(rel(&first))
                } else {
                    SequenceSource::Files(paths.iter().map(|p| rel(p)).collect())
                };
                match data {
                    DataSpec::Csv(c) => c.features = source,
                    other => {
                        *other = DataSpec::Csv(CsvDataConfig {
                            features: source,
                            ..CsvDataConfig::default()
                        })
                    }
                }
                "CSV sequences"
            }
            _ => {
                match data {
                    DataSpec::Text(t) => t.path = rel(&first),
                    other => {
                        *other = DataSpec::Text(TextSpec {
                            path: rel(&first),
                            ..TextSpec::default()
                        })
                    }
                }
                "a text corpus"
            }
        };
        self.console
            .log
            .info(format!("data: {} as {what}", first.display()));
    }

    fn apply(&mut self, action: Action, ctx: &egui::Context) {
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
            Action::Save(Some(path)) => {
                self.save_to(&path);
            }
            Action::Save(None) => match self.session.file() {
                Some(_) => {
                    self.run_line("save");
                }
                None => self.ask_path(ctx, Purpose::SaveAs),
            },
            Action::SaveAs => self.ask_path(ctx, Purpose::SaveAs),
            Action::OpenDialog => self.request(ctx, Pending::OpenDialog),
            Action::Open(path) => self.request(ctx, Pending::Open(path)),
            Action::New => self.request(ctx, Pending::New),
            Action::Browse(target) => self.ask_path(ctx, Purpose::Browse(target)),
            Action::PickData(paths) => self.pick_data(None, paths),
            Action::SetDark(dark) => {
                self.settings.dark = Some(dark);
                self.apply_theme(ctx);
            }
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
            menu::menu_bar_ui(ui, &mut self.settings, &mut self.actions);
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

    /// The left panel: the editor, bounded so the centre keeps its room, scrolling
    /// inside (both ways) when its content is larger.
    fn editor_panel_ui(&mut self, ui: &mut egui::Ui) {
        let width = ui.available_width();
        let max = (width * 0.42).clamp(300.0, 620.0);
        egui::Panel::left("experiment")
            .resizable(true)
            .default_size(380.0_f32.min(max))
            .size_range(280.0..=max)
            .show(ui, |ui| {
                ui.add_space(4.0);
                ui.heading("Experiment");
                self.load_notice_ui(ui);
                ui.separator();
                let errors = self.problems();
                let base = self.base_dir();
                egui::ScrollArea::both()
                    .id_salt("experiment_scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        ui.set_max_width(ui.available_width());
                        self.editor.ui(
                            ui,
                            &mut self.session.experiment,
                            &errors,
                            &base,
                            &mut self.actions,
                        );
                    });
            });
    }

    /// What the opened file's problems were (entries left out), or why it could not be
    /// opened, until dismissed.
    fn load_notice_ui(&mut self, ui: &mut egui::Ui) {
        let error = ui.visuals().error_fg_color;
        if let Some(e) = self.open_error.clone() {
            ui.add(
                egui::Label::new(egui::RichText::new(format!("Could not open: {e}")).color(error))
                    .wrap(),
            );
            if ui.small_button("Dismiss").clicked() {
                self.open_error = None;
            }
        }
        let problems = self.session.unreadable_entries();
        if !problems.is_empty() {
            egui::CollapsingHeader::new(
                egui::RichText::new(format!(
                    "{} entr{} of the file could not be read and took the default",
                    problems.len(),
                    if problems.len() == 1 { "y" } else { "ies" }
                ))
                .color(ui.visuals().warn_fg_color),
            )
            .id_salt("load_problems")
            .default_open(true)
            .show(ui, |ui| {
                for p in problems {
                    ui.add(egui::Label::new(egui::RichText::new(p).small()).wrap());
                }
            });
        }
    }

    /// Keyboard shortcuts of the File menu.
    fn shortcuts(&mut self, ctx: &egui::Context) {
        for (shortcut, action) in menu::shortcuts() {
            if ctx.input_mut(|i| i.consume_shortcut(&shortcut)) {
                self.actions.push(action);
            }
        }
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
        self.editor.poll();
        if self.after_run.is_some() && !self.session.is_running() {
            let next = self.after_run.take().expect("checked");
            self.request(ctx, next);
        }
        if ctx.input(|i| i.viewport().close_requested())
            && !self.allow_close
            && (self.session.is_running() || self.has_unsaved_edits())
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.request(ctx, Pending::Close);
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .collect()
        });
        if let Some(first) = dropped.first() {
            if first.extension().is_some_and(|e| e == "ron") {
                self.actions.push(Action::Open(first.clone()));
            } else {
                self.actions.push(Action::PickData(dropped));
            }
        }
        self.shortcuts(ctx);
        self.update_title(ctx);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, Settings::KEY, &self.settings);
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
        self.editor_panel_ui(ui);
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
        if let Some((purpose, path)) = self.dialogs.ui(&ctx) {
            self.dialog_picked(&ctx, purpose, path);
        }
        if let Some(why) = self.dialogs.fell_back.take() {
            self.console.log.info(why);
        }
        if let Some(p) = &self.prompt {
            if let Some(answer) = p.ui(&ctx) {
                self.answer(&ctx, answer);
            }
        }
        for action in std::mem::take(&mut self.actions) {
            self.apply(action, &ctx);
        }
    }
}
