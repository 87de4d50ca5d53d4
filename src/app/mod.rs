//! The desktop notebook (eframe): an experiment editor on the left, the training view or
//! the data preview in the middle, a console below and a status line at the bottom.
//!
//! # State
//! The window is a front end of one [`Session`] (the same as the terminal REPL's), which
//! runs on its own thread behind a [`Kernel`]: the session owns the experiment with its
//! notebook (what is saved), its file, the runs and the active run. The window draws the
//! kernel's newest [`Snapshot`] and sends command lines: buttons, the command line and
//! the editor's changes (as `set PATH VALUE`) alike, so the notebook's transcript
//! records everything the user did and a replay redoes it. Everything else in
//! [`SeqlabApp`] is runtime state: plot histories, the preview thread, the console log,
//! the editor's scratch copy of the settings.
//!
//! # Frame
//! [`eframe::App::logic`] takes the kernel's replies, its newest snapshot, the live
//! run's events (which the training thread sends to the window directly) and the
//! preview thread's result; [`eframe::App::ui`] draws the panels, which push the
//! [`Action`]s the user chose; the actions are applied at the end of the frame, as
//! command lines sent to the kernel. The UI thread never runs a command and never waits
//! for the kernel or the trainer: while a command runs, its cell and the ones queued
//! behind it show as pending, and the live run keeps streaming.

pub mod console;
pub mod data_panel;
pub mod editor;
pub mod files;
mod kernel_link;
mod menu;
pub mod monitor;
pub mod notebook_view;
pub mod outputs;
mod prompt;
pub mod series;

use eframe::egui;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::experiment::{validate, Experiment};
use crate::repl::{Kernel, Session, Snapshot};
use crate::train::runner::EventStream;
use kernel_link::Then;

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
    /// Ask the command under way (an evaluation, a sampling or a prediction) to stop early.
    StopCommand,
    Log(LogKind, String),
}

/// What a Browse… button picks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowseTarget {
    TextCorpus,
    CsvFeatures,
    CsvLabels,
}

/// The application: a front end of one [`Session`], which runs behind a [`Kernel`].
pub struct SeqlabApp {
    /// The session as the kernel last published it (read-only): the experiment, its
    /// notebook and its runs, the file, the active run's progress, pending requests.
    pub session: Arc<Snapshot>,
    kernel: Kernel,
    /// The window's context once the first frame has it (the kernel's wake repaints it).
    ctx_slot: Arc<std::sync::OnceLock<egui::Context>>,
    /// What to do when a request finishes, by request id.
    then: Vec<(u64, Then)>,
    /// The live run's events, as the training thread sends them to the window.
    run_events: Option<EventStream>,
    /// The settings the editor and the data panel edit: a scratch copy, whose changes
    /// are sent as `set` commands at the end of the frame.
    scratch: Experiment,
    /// The settings as the kernel has them once every edit sent has run.
    scratch_base: Experiment,
    /// The id of the newest editor change sent (0 for none).
    last_edit: u64,
    /// The command lines sent that have not finished, by request id (drawn as pending
    /// cells until the session has them).
    outstanding: Vec<(u64, String)>,
    /// The session's experiment the scratch copy was taken from.
    scratch_source: Arc<Experiment>,
    /// The transcript the view state belongs to (a new or opened notebook resets it).
    epoch: u64,
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
        let ctx_slot: Arc<std::sync::OnceLock<egui::Context>> = Arc::default();
        let slot = ctx_slot.clone();
        // trainer events arrive up to thousands of times a second: each asks for a frame
        // within one display interval, so frames come at most at the display rate however
        // fast the events do
        let wake: crate::train::runner::Wake = Arc::new(move || {
            if let Some(ctx) = slot.get() {
                ctx.request_repaint_after(std::time::Duration::from_secs_f64(1.0 / REDRAW_HZ))
            }
        });
        let kernel = Kernel::spawn(Session::new(), wake)
            .expect("the session thread could not be started (the system is out of threads)");
        let session = kernel.snapshot();
        let scratch = session.experiment.settings();
        let mut app = SeqlabApp {
            session,
            kernel,
            ctx_slot,
            then: Vec::new(),
            run_events: None,
            scratch_base: scratch.clone(),
            scratch,
            last_edit: 0,
            outstanding: Vec::new(),
            scratch_source: Arc::default(),
            epoch: 0,
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

    /// Sends one command line to the session (it runs on the session's thread; its
    /// cell shows as pending until it has) and logs it. Returns the request's id.
    pub fn run_line(&mut self, line: &str) -> u64 {
        self.console.log.push(LogKind::Input, line.trim());
        let id = self.kernel.line(line);
        self.outstanding.push((id, line.trim().to_string()));
        id
    }

    /// Queues an action as a button would (applied at the end of the next frame).
    pub fn push_action(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// Opens an experiment file, discarding unsaved changes (the window asks first). A
    /// file with problems opens with what could be read and its problems listed; a file
    /// that cannot be read at all leaves a new, empty experiment and says why.
    pub fn open(&mut self, path: &Path) {
        self.run_then(
            &format!("open! {}", quote(path)),
            Then::Opened(path.to_path_buf()),
        );
    }

    /// Writes the experiment and its notebook to `path` (atomically) and makes it the
    /// notebook's file, then goes on with `next`. Relative data paths are rebased onto
    /// the new folder (the session's `save` does it), so a copy saved elsewhere still
    /// finds its data.
    fn save_to(&mut self, path: &Path, next: Option<Pending>) {
        self.run_then(&format!("save {}", quote(path)), Then::Saved(next));
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
        let exp = &self.scratch;
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

    /// A new or opened notebook: the live run and the cells' view state start afresh.
    fn notebook_replaced(&mut self) {
        self.train.reset();
        self.notebook.reset();
        self.run_events = None;
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
    pub fn dialog_picked(&mut self, _ctx: &egui::Context, purpose: Purpose, path: PathBuf) {
        match purpose {
            Purpose::Open => self.open(&path),
            Purpose::SaveAs => {
                let path = if path.extension().is_none() {
                    path.with_extension("ron")
                } else {
                    path
                };
                let next = self.after_save.take();
                self.save_to(&path, next);
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
        } else if pending == Pending::Close && !self.outstanding.is_empty() {
            // closing drops what the session has not finished: say so first
            let first = self.outstanding[0].1.clone();
            self.prompt = Some(Prompt::busy(pending, first, self.outstanding.len()));
        } else {
            self.unless_unsaved(ctx, pending);
        }
    }

    /// Goes on with `pending` unless there are unsaved changes (then asks about them).
    fn unless_unsaved(&mut self, ctx: &egui::Context, pending: Pending) {
        if self.has_unsaved_edits() {
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
                self.run_line("new!");
                self.open_error = None;
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
            prompt::Answer::Discard if p.is_busy() => {
                self.kernel.interrupt();
                self.outstanding.clear();
                self.unless_unsaved(ctx, p.pending);
            }
            prompt::Answer::Discard => self.perform(ctx, p.pending),
            prompt::Answer::Save => match self.session.file() {
                Some(_) => self.run_then("save", Then::Saved(Some(p.pending))),
                None => {
                    self.after_save = Some(p.pending);
                    self.ask_path(ctx, Purpose::SaveAs);
                }
            },
        }
    }

    /// Data files or a folder picked for `target` (a Browse… button), or dropped on the
    /// window (`None`): a `load data` command, so the session's one classifier decides
    /// what they are (a text corpus, CSV sequences, a folder, a pattern) and the
    /// notebook records it.
    pub fn pick_data(&mut self, target: Option<BrowseTarget>, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        let list: Vec<String> = paths.iter().map(|p| quote(p)).collect();
        let line = match target {
            Some(BrowseTarget::CsvLabels) => format!("load data --labels {}", list[0]),
            _ => format!("load data {}", list.join(" ")),
        };
        self.run_line(&line);
    }

    fn apply(&mut self, action: Action, ctx: &egui::Context) {
        match action {
            Action::Train => {
                self.run_line("train");
            }
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
            Action::SampleNow => {
                self.run_line("sample now");
            }
            Action::EvaluateNow => {
                self.run_line("eval now");
            }
            Action::Save(Some(path)) => self.save_to(&path, None),
            Action::Save(None) => match self.session.file() {
                Some(_) => self.run_then("save", Then::Saved(None)),
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
                self.run_line(&line);
            }
            Action::DeleteCell(i) => {
                if let Some(cell) = self.session.experiment.notebook.cells.get(i) {
                    let command = cell.command.clone();
                    self.kernel.delete_cell(i, &command);
                }
            }
            Action::Branch(run) => {
                let name = self.run_name(run);
                self.run_line(&format!("branch {name}"));
            }
            Action::ExportMetrics(run) => {
                let name = self.run_name(run);
                self.run_line(&format!("export {name}"));
            }
            Action::StopCommand => self.kernel.interrupt(),
            Action::Log(kind, text) => self.console.log.push(kind, text),
        }
    }

    /// Run `index`'s name as listed (`003`), as commands name it.
    fn run_name(&self, index: usize) -> String {
        self.session
            .experiment
            .notebook
            .runs
            .get(index)
            .map(|r| r.name())
            .unwrap_or_else(|| (index + 1).to_string())
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
                        self.editor
                            .ui(ui, &mut self.scratch, &errors, &base, &mut self.actions);
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
        if self.ctx_slot.get().is_none() {
            let _ = self.ctx_slot.set(ctx.clone());
        }
        self.take_replies();
        if let Some(stream) = &self.run_events {
            let mut events = Vec::new();
            while let Some(e) = stream.try_recv() {
                let last = matches!(e, crate::train::Event::Finished(_));
                events.push(e);
                if last {
                    break;
                }
            }
            if matches!(events.last(), Some(crate::train::Event::Finished(_))) {
                self.run_events = None;
            }
            self.train.apply_events(events, &mut self.console.log);
        }
        if !self.is_idle() {
            // a request under way: look again soon (the kernel also wakes the window)
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(1.0 / REDRAW_HZ));
        }
        self.data.poll();
        self.editor.poll();
        if self.after_run.is_some() && !self.session.is_running() {
            let next = self.after_run.take().expect("checked");
            self.request(ctx, next);
        }
        if ctx.input(|i| i.viewport().close_requested())
            && !self.allow_close
            && (self.session.is_running()
                || self.has_unsaved_edits()
                || !self.outstanding.is_empty())
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
                    self.notebook.busy = !self.is_idle();
                    let running = self.session.running.as_ref().map(|(id, _)| *id);
                    self.notebook.queued = self
                        .outstanding
                        .iter()
                        .filter(|(id, _)| Some(*id) != running)
                        .cloned()
                        .collect();
                    self.notebook
                        .ui(ui, &self.session, &mut self.train, &mut self.actions)
                }
                View::Data => {
                    let base = self.base_dir();
                    self.data.ui(ui, &mut self.scratch, &base);
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
        self.send_edits();
        for action in std::mem::take(&mut self.actions) {
            self.apply(action, &ctx);
        }
    }
}
