//! The notebook: the centre of the window, a scrolling list of cells (each command with
//! its typed outputs drawn richly), the runs list with overlays and the settings that
//! differ, and the monitor pinned above the cells while a run goes on.
//!
//! Cells are the session's transcript ([`crate::experiment::notebook::Cell`]), so they are
//! saved with the file and drawn again on reopening. Only view state lives here
//! (collapsed cells, table sort orders, the Markdown cache). What the user chooses
//! (delete, re-run, branch, export) becomes an [`Action`] applied at the end of the frame.

use eframe::egui;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::experiment::notebook::{Cell, Output, RunEntry, Table};
use crate::experiment::rundir::RunDir;
use crate::repl::Snapshot;

use super::monitor::Monitor;
#[cfg(test)]
use super::outputs::shown_classes;
use super::outputs::{confusion_ui, probabilities_ui, series_ui, table_ui};
use super::Action;

/// Height of the monitor's charts inside a cell.
const MONITOR_HEIGHT: f32 = 430.0;

/// A cell's state as shown in its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellStatus {
    Running,
    Done,
    Failed,
}

/// The notebook's view state (nothing here is saved).
pub struct NotebookView {
    /// Collapsed cells, by transcript index.
    collapsed: HashSet<usize>,
    /// Sort order of tables: (cell, output) -> (column, ascending).
    sorts: HashMap<(usize, usize), (usize, bool)>,
    /// Keep the live monitor above the cells even when its cell is in view.
    pub pinned: bool,
    /// Whether the active run's cell was in view last frame.
    train_cell_visible: bool,
    /// Cells last frame: a new one scrolls the notebook to the bottom.
    cells_seen: usize,
    /// Settings of runs, by folder, for "settings that differ" (`None`: unreadable).
    settings: HashMap<PathBuf, Option<Vec<(String, String)>>>,
    markdown: egui_commonmark::CommonMarkCache,
    /// Commands sent to the session have not all run (Delete waits for them).
    pub busy: bool,
    /// The command lines sent after the one running, by request id: queued cells.
    pub queued: Vec<(u64, String)>,
}

impl Default for NotebookView {
    fn default() -> Self {
        NotebookView {
            collapsed: HashSet::new(),
            sorts: HashMap::new(),
            pinned: false,
            train_cell_visible: true,
            cells_seen: 0,
            settings: HashMap::new(),
            markdown: Default::default(),
            busy: false,
            queued: Vec::new(),
        }
    }
}

/// The run a `train` cell started: its index in `runs`, from the cell's typed run
/// reference ([`Output::Run`]).
pub fn cell_run(cell: &Cell, runs: &[RunEntry]) -> Option<usize> {
    let name = cell.outputs.iter().find_map(Output::run_name)?;
    runs.iter().position(|r| r.name() == name)
}

impl NotebookView {
    /// Forgets the view state of the cells (a new or opened notebook).
    pub fn reset(&mut self) {
        self.collapsed.clear();
        self.sorts.clear();
        self.cells_seen = 0;
    }

    /// Whether cell `index` is collapsed.
    pub fn is_collapsed(&self, index: usize) -> bool {
        self.collapsed.contains(&index)
    }

    /// Keeps the view state in step with a cell removed from the transcript.
    pub fn cell_deleted(&mut self, index: usize) {
        let shift = |i: usize| if i > index { i - 1 } else { i };
        self.collapsed = self
            .collapsed
            .iter()
            .filter(|&&i| i != index)
            .map(|&i| shift(i))
            .collect();
        self.sorts = self
            .sorts
            .iter()
            .filter(|(&(c, _), _)| c != index)
            .map(|(&(c, o), &v)| ((shift(c), o), v))
            .collect();
        self.cells_seen = self.cells_seen.saturating_sub(1);
    }

    /// The runs list, the pinned monitor and the cells.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &Snapshot,
        monitor: &mut Monitor,
        actions: &mut Vec<Action>,
    ) {
        let base = session.base_dir();
        let nb = &session.experiment.notebook;
        let active = session.active_cell();

        if !nb.runs.is_empty() {
            self.runs_ui(ui, session, monitor, actions);
        }
        if active.is_some() {
            let show_pinned = self.pinned || !self.train_cell_visible;
            ui.horizontal(|ui| {
                ui.toggle_value(&mut self.pinned, "Pin monitor")
                    .on_hover_text(
                        "Keep the live monitor above the notebook (it is shown here \
                         anyway while the run's cell is scrolled out of view)",
                    );
            });
            if show_pinned {
                egui::CollapsingHeader::new("Monitor (active run)")
                    .id_salt("pinned_monitor")
                    .default_open(true)
                    .show(ui, |ui| {
                        monitor.live_ui(ui, "pinned", 300.0, actions);
                    });
                ui.separator();
            }
        }

        let new_cell = nb.cells.len() > self.cells_seen;
        self.cells_seen = nb.cells.len();
        let mut train_cell_visible = false;
        egui::ScrollArea::vertical()
            .id_salt("notebook_scroll")
            .auto_shrink([false, false])
            .show(ui, |ui| {
                // the experiment's own notes (the shipped examples document themselves
                // there) head the notebook, rendered as Markdown
                let notes = session.experiment.notes.trim();
                if !notes.is_empty() {
                    egui::CollapsingHeader::new("Notes")
                        .id_salt("experiment_notes")
                        .default_open(nb.cells.is_empty())
                        .show(ui, |ui| {
                            egui_commonmark::CommonMarkViewer::new().show(
                                ui,
                                &mut self.markdown,
                                notes,
                            );
                        });
                    ui.separator();
                }
                if nb.cells.is_empty() {
                    empty_notebook_ui(ui);
                }
                for (i, cell) in nb.cells.iter().enumerate() {
                    let is_active = active.is_some_and(|(c, _)| c == i);
                    let status = if is_active {
                        CellStatus::Running
                    } else if cell.ok {
                        CellStatus::Done
                    } else {
                        CellStatus::Failed
                    };
                    let run = cell_run(cell, &nb.runs);
                    let response = egui::Frame::group(ui.style())
                        .inner_margin(egui::Margin::same(6))
                        .show(ui, |ui| {
                            ui.set_width(ui.available_width());
                            self.cell_header_ui(ui, i, cell, status, actions);
                            if self.collapsed.contains(&i) {
                                return;
                            }
                            if is_active {
                                // the live monitor, drawn only when in view
                                let top = ui.cursor().min;
                                let rect = egui::Rect::from_min_size(
                                    top,
                                    egui::vec2(ui.available_width(), MONITOR_HEIGHT),
                                );
                                if ui.is_rect_visible(rect) && !self.pinned {
                                    train_cell_visible = true;
                                    monitor.live_ui(
                                        ui,
                                        &format!("cell{i}"),
                                        MONITOR_HEIGHT - 120.0,
                                        actions,
                                    );
                                } else if self.pinned {
                                    ui.weak("The live monitor is pinned above the notebook.");
                                } else {
                                    ui.allocate_space(rect.size());
                                }
                                return;
                            }
                            self.outputs_ui(ui, i, cell, run.is_some());
                            if let Some(r) = run {
                                run_record_ui(ui, i, r, &nb.runs[r], &base, monitor, actions);
                            }
                        });
                    if new_cell && i + 1 == nb.cells.len() {
                        response.response.scroll_to_me(Some(egui::Align::BOTTOM));
                    }
                    ui.add_space(4.0);
                }
                pending_cells_ui(ui, session, &self.queued, nb.cells.len(), actions);
            });
        self.train_cell_visible = train_cell_visible || active.is_none();
    }

    fn cell_header_ui(
        &mut self,
        ui: &mut egui::Ui,
        i: usize,
        cell: &Cell,
        status: CellStatus,
        actions: &mut Vec<Action>,
    ) {
        ui.horizontal(|ui| {
            let collapsed = self.collapsed.contains(&i);
            let arrow = if collapsed { "+" } else { "-" };
            if ui
                .small_button(arrow)
                .on_hover_text(if collapsed {
                    "Expand this cell"
                } else {
                    "Collapse this cell"
                })
                .clicked()
            {
                if collapsed {
                    self.collapsed.remove(&i);
                } else {
                    self.collapsed.insert(i);
                }
            }
            ui.weak(format!("[{}]", i + 1));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let running = status == CellStatus::Running;
                // cells are deleted by position: not while commands sent may still move them
                if ui
                    .add_enabled(!running && !self.busy, egui::Button::new("Delete").small())
                    .on_hover_text("Delete this cell from the notebook")
                    .on_disabled_hover_text(if running {
                        "The run is under way; stop it first"
                    } else {
                        "Commands are still running; delete when they are done"
                    })
                    .clicked()
                {
                    actions.push(Action::DeleteCell(i));
                }
                if ui
                    .add_enabled(!running, egui::Button::new("Re-run").small())
                    .on_hover_text("Run this command again (as a new cell at the end)")
                    .clicked()
                {
                    actions.push(Action::Command(cell.command.clone()));
                }
                let (text, color) = match status {
                    CellStatus::Running => ("running", egui::Color32::from_rgb(90, 180, 90)),
                    CellStatus::Done => ("done", ui.visuals().weak_text_color()),
                    CellStatus::Failed => ("failed", ui.visuals().error_fg_color),
                };
                ui.label(egui::RichText::new(text).color(color).small())
                    .on_hover_text("This cell's status");
                // the command takes what is left of the row, cut short when long
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    ui.add(
                        egui::Label::new(egui::RichText::new(&cell.command).monospace().strong())
                            .truncate(),
                    )
                    .on_hover_text(&cell.command);
                });
            });
        });
    }

    /// The outputs of cell `i`; a run's score curves are left to its record when
    /// `has_record`.
    fn outputs_ui(&mut self, ui: &mut egui::Ui, i: usize, cell: &Cell, has_record: bool) {
        for (k, out) in cell.outputs.iter().enumerate() {
            match out {
                Output::Text(t) => {
                    ui.add(egui::Label::new(egui::RichText::new(t).monospace()).selectable(true));
                }
                Output::Markdown(md) => {
                    egui_commonmark::CommonMarkViewer::new().show(ui, &mut self.markdown, md);
                }
                Output::Table(t) => {
                    let sort = self.sorts.get(&(i, k)).copied();
                    if let Some(s) = table_ui(ui, (i, k), t, sort) {
                        self.sorts.insert((i, k), s);
                    }
                }
                Output::Series(s) if has_record && s.lines.iter().any(|l| l.source.is_some()) => {}
                Output::Series(s) => series_ui(ui, &format!("cell{i}_series{k}"), s),
                Output::Confusion(c) => confusion_ui(ui, c),
                Output::Sample(text) => {
                    egui::Frame::group(ui.style()).show(ui, |ui| {
                        ui.add(
                            egui::Label::new(egui::RichText::new(text).monospace())
                                .wrap()
                                .selectable(true),
                        );
                    });
                }
                Output::Probabilities(p) => probabilities_ui(ui, p),
                Output::Error(e) => {
                    ui.add(
                        egui::Label::new(egui::RichText::new(e).color(ui.visuals().error_fg_color))
                            .wrap()
                            .selectable(true),
                    );
                }
                // a run reference, and any kind without a view of its own: its text
                // (as the terminal prints it), so a new output kind needs no change here
                _ => {
                    ui.add(
                        egui::Label::new(
                            egui::RichText::new(crate::repl::render::render(out)).monospace(),
                        )
                        .selectable(true),
                    );
                }
            }
        }
    }

    /// The runs: overlay toggles, branch and export, and the settings that differ
    /// between the overlaid runs.
    fn runs_ui(
        &mut self,
        ui: &mut egui::Ui,
        session: &Snapshot,
        monitor: &mut Monitor,
        actions: &mut Vec<Action>,
    ) {
        let base = session.base_dir();
        let runs = &session.experiment.notebook.runs;
        let active = session.active_cell().map(|(_, r)| r);
        let live = session.progress();
        egui::CollapsingHeader::new(format!("Runs ({})", runs.len()))
            .id_salt("runs_list")
            .default_open(false)
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("runs_scroll")
                    .max_height(160.0)
                    .show(ui, |ui| {
                        egui::Grid::new("runs_grid")
                            .striped(true)
                            .num_columns(8)
                            .show(ui, |ui| {
                                for h in [
                                    "overlay",
                                    "run",
                                    "stop reason",
                                    "iterations",
                                    "best validation",
                                    "final score",
                                    "",
                                    "",
                                ] {
                                    ui.weak(h);
                                }
                                ui.end_row();
                                for (i, r) in runs.iter().enumerate() {
                                    let folder = r.folder(&base);
                                    let mut on = monitor.overlay.contains(&folder);
                                    if ui
                                        .checkbox(&mut on, "")
                                        .on_hover_text(format!(
                                            "Overlay run {}'s curves on the charts",
                                            r.name()
                                        ))
                                        .changed()
                                    {
                                        if on {
                                            monitor.overlay.insert(folder.clone());
                                        } else {
                                            monitor.overlay.remove(&folder);
                                        }
                                    }
                                    ui.monospace(r.name());
                                    let d = &r.summary;
                                    let running = active == Some(i);
                                    ui.label(if running {
                                        "running".into()
                                    } else if !folder.is_dir() {
                                        "missing".into()
                                    } else {
                                        d.ended().unwrap_or("-").to_string()
                                    });
                                    // the active run's count grows live; the others'
                                    // come from their summaries
                                    let iterations = match live.as_ref() {
                                        Some(p) if running => p.iteration,
                                        _ => d.iterations,
                                    };
                                    ui.monospace(iterations.to_string());
                                    ui.monospace(
                                        d.best_score.map_or("-".into(), |s| format!("{s:.4}")),
                                    );
                                    ui.monospace(
                                        d.final_score.map_or("-".into(), |s| format!("{s:.4}")),
                                    );
                                    run_buttons_ui(ui, i, r, running, actions);
                                    ui.end_row();
                                }
                            });
                    });
                let selected: Vec<(String, PathBuf)> = runs
                    .iter()
                    .map(|r| (r.name(), r.folder(&base)))
                    .filter(|(_, f)| monitor.overlay.contains(f) || *f == monitor.live_folder())
                    .collect();
                if selected.len() >= 2 {
                    self.settings_diff_ui(ui, &selected);
                }
            });
    }

    /// The settings that differ between `runs` (name, folder), from their `run.ron`.
    fn settings_diff_ui(&mut self, ui: &mut egui::Ui, runs: &[(String, PathBuf)]) {
        for (_, folder) in runs {
            self.settings.entry(folder.clone()).or_insert_with(|| {
                RunDir::read_record(folder)
                    .ok()
                    .map(|r| crate::experiment::fields::leaves(&r.experiment))
            });
        }
        let columns: Vec<(&String, &Vec<(String, String)>)> = runs
            .iter()
            .filter_map(|(name, folder)| Some((name, self.settings.get(folder)?.as_ref()?)))
            .collect();
        let table = settings_diff(&columns);
        ui.add_space(4.0);
        if table.rows.is_empty() {
            ui.weak("The overlaid runs have the same settings.");
        } else {
            table_ui(ui, (usize::MAX, 0), &table, None);
        }
    }
}

/// A table of the settings whose values differ between runs (`(name, leaves)` each).
pub fn settings_diff(runs: &[(&String, &Vec<(String, String)>)]) -> Table {
    let leaves: Vec<&[(String, String)]> = runs.iter().map(|(_, l)| l.as_slice()).collect();
    Table {
        title: "settings that differ between the overlaid runs".into(),
        columns: std::iter::once("setting".to_string())
            .chain(runs.iter().map(|(n, _)| format!("run {n}")))
            .collect(),
        rows: crate::experiment::fields::differing_leaves(&leaves),
    }
}

fn run_buttons_ui(
    ui: &mut egui::Ui,
    i: usize,
    r: &RunEntry,
    running: bool,
    actions: &mut Vec<Action>,
) {
    if ui
        .add_enabled(!running, egui::Button::new("Branch from here").small())
        .on_hover_text(format!(
            "Start from run {}'s final weights with its model and training settings: edit \
             them, then Train",
            r.name()
        ))
        .clicked()
    {
        actions.push(Action::Branch(i));
    }
    if ui
        .button("Export CSV")
        .on_hover_text(format!(
            "Write run {}'s metrics (every iteration, with the validation score) as one CSV \
             file beside the experiment",
            r.name()
        ))
        .clicked()
    {
        actions.push(Action::ExportMetrics(i));
    }
}

/// A finished run's record under its `train` cell: the charts and the run's buttons.
fn run_record_ui(
    ui: &mut egui::Ui,
    cell: usize,
    run: usize,
    entry: &RunEntry,
    base: &Path,
    monitor: &mut Monitor,
    actions: &mut Vec<Action>,
) {
    let folder = entry.folder(base);
    ui.horizontal(|ui| {
        let mut on = monitor.overlay.contains(&folder);
        if ui
            .checkbox(&mut on, "Overlay")
            .on_hover_text("Draw this run's curves under the other runs' charts")
            .changed()
        {
            if on {
                monitor.overlay.insert(folder.clone());
            } else {
                monitor.overlay.remove(&folder);
            }
        }
        run_buttons_ui(ui, run, entry, false, actions);
    });
    egui::CollapsingHeader::new(format!("Run {} charts", entry.name()))
        .id_salt(format!("record{cell}"))
        .default_open(true)
        .show(ui, |ui| {
            monitor.record_ui(ui, &format!("record{cell}"), &folder, &entry.name(), 300.0);
        });
}

fn empty_notebook_ui(ui: &mut egui::Ui) {
    ui.add_space(12.0);
    ui.heading("An empty notebook");
    ui.label(
        "Type a command in the command line below (Enter runs it, Up/Down recall earlier ones, \
         Tab completes), or use the buttons: each becomes a cell here with its output.",
    );
    ui.add_space(6.0);
    for (cmd, what) in [
        ("help", "every command"),
        (
            "load data assets/corpus.txt",
            "a text corpus, or a folder of CSV sequences",
        ),
        (
            "add lstm 128",
            "a layer (show model lists them with their sizes)",
        ),
        ("analyze", "sizes, parameter counts and training memory"),
        (
            "train 500 iterations",
            "a run, with its live monitor in its cell",
        ),
        ("eval", "the selected run's validation metrics"),
        ("sample 200 --temperature 0.8", "text from a text model"),
    ] {
        ui.horizontal(|ui| {
            ui.monospace(cmd);
            ui.weak(format!("— {what}"));
        });
    }
}

/// The command running in the session and the ones queued behind it, below the cells:
/// the running one with an Interrupt button (an evaluation, a sampling or a prediction ends early).
fn pending_cells_ui(
    ui: &mut egui::Ui,
    session: &Snapshot,
    queued: &[(u64, String)],
    cells: usize,
    actions: &mut Vec<Action>,
) {
    let running = session.running.iter().map(|r| (r, true));
    let queued = queued.iter().map(|r| (r, false));
    for (k, ((_, line), is_running)) in running.chain(queued).enumerate() {
        egui::Frame::group(ui.style())
            .inner_margin(egui::Margin::same(6))
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.horizontal(|ui| {
                    ui.weak(format!("[{}]", cells + k + 1));
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        if is_running {
                            if ui
                                .small_button("Interrupt")
                                .on_hover_text(
                                    "Stop this command early (an evaluation, a sampling, a prediction or reading data; \
                                     other commands run to their end)",
                                )
                                .clicked()
                            {
                                actions.push(Action::StopCommand);
                            }
                            ui.spinner();
                        }
                        let status = if is_running { "working" } else { "queued" };
                        ui.label(egui::RichText::new(status).small().weak())
                            .on_hover_text("This command has not finished yet");
                        ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                            ui.add(
                                egui::Label::new(egui::RichText::new(line).monospace().strong())
                                    .truncate(),
                            )
                            .on_hover_text(line);
                        });
                    });
                });
            });
        ui.add_space(4.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::notebook::Confusion;

    #[test]
    fn a_train_cell_names_its_run() {
        let runs = vec![
            RunEntry {
                path: "x.runs/001".into(),
                ..Default::default()
            },
            RunEntry {
                path: "x.runs/002".into(),
                ..Default::default()
            },
        ];
        let cell = Cell {
            command: "train 10 iterations".into(),
            outputs: vec![Output::Run {
                name: "002".into(),
                folder: "x.runs/002".into(),
            }],
            ok: true,
        };
        assert_eq!(cell_run(&cell, &runs), Some(1));
        // text that looks like a run reference is not one
        let other = Cell {
            command: "note run 002 started".into(),
            outputs: vec![Output::Markdown("run 002 started in x.runs/002".into())],
            ok: true,
        };
        assert_eq!(cell_run(&other, &runs), None);
    }

    #[test]
    fn only_settings_that_differ_are_listed() {
        let (a, b) = ("001".to_string(), "002".to_string());
        let la = vec![
            ("training.batch_size".to_string(), "16".to_string()),
            ("training.seed".to_string(), "1".to_string()),
        ];
        let lb = vec![
            ("training.batch_size".to_string(), "32".to_string()),
            ("training.seed".to_string(), "1".to_string()),
            ("training.tbptt".to_string(), "Some(50)".to_string()),
        ];
        let t = settings_diff(&[(&a, &la), (&b, &lb)]);
        assert_eq!(t.columns, vec!["setting", "run 001", "run 002"]);
        assert_eq!(
            t.rows,
            vec![
                vec!["training.batch_size", "16", "32"],
                vec!["training.tbptt", "—", "Some(50)"],
            ]
        );
    }

    #[test]
    fn many_classes_show_only_those_that_occur() {
        let n = 40;
        let mut counts = vec![vec![0u64; n]; n];
        counts[3][3] = 5;
        counts[3][7] = 1;
        counts[9][9] = 2;
        let c = Confusion {
            classes: (0..n).map(|k| k.to_string()).collect(),
            counts,
        };
        assert_eq!(shown_classes(&c), vec![3, 7, 9]);
        let small = Confusion {
            classes: vec!["a".into(), "b".into()],
            counts: vec![vec![0, 0], vec![0, 1]],
        };
        assert_eq!(shown_classes(&small), vec![0, 1]);
    }
}
