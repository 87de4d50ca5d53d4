//! The session kernel: one [`Session`] on its own thread, driven by requests.
//!
//! Jupyter's front ends never execute code: they send requests to a kernel and draw what
//! comes back. seqlab's window does the same. [`Kernel::spawn`] moves a session onto a
//! thread named `seqlab-session`; the window sends it command lines ([`Kernel::line`]),
//! the editor's changes as `set PATH VALUE` ([`Kernel::edit`]) and cell deletions, and
//! reads what comes back:
//!
//! - a [`Snapshot`] published after every request and run event: the experiment with
//!   its notebook, the file, unsaved changes, the opened file's problems, the active
//!   run's progress, and the requests still queued or running (drawn as pending cells);
//! - [`Reply`]s: a finished request with its cell (for the console log and for what the
//!   window does next, e.g. remember a file it opened), and each run started, with a
//!   stream of the run's events that the training thread delivers to the window itself,
//!   so the live monitor keeps streaming while the session works on another command.
//!
//! Requests run one at a time in the order sent. The UI thread never runs a command,
//! loads data or builds a trainer: everything a command does happens here. The
//! terminal REPL keeps calling its session directly (it has nothing else to do while a
//! command runs).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};

use super::session::{self, Progress, RunStart, INTERRUPT_PENDING};
use super::Session;
use crate::experiment::notebook::Cell;
use crate::experiment::Experiment;
use crate::train::runner::Wake;

/// How often the kernel takes a run's events when no request wakes it.
const RUN_POLL: Duration = Duration::from_millis(40);

/// What a front end asks of the kernel. Each request has the id [`Kernel`] gave it.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Run one command line as a new cell.
    Line { id: u64, line: String },
    /// `set! PATH VALUE` from the window's editor (a value out of range is kept and
    /// listed as a problem, as the editor shows it). When the newest cell is the
    /// editor's `set!` of the same path (nothing ran after it), this one replaces it: a
    /// field dragged or typed letter by letter is one cell.
    Edit {
        id: u64,
        path: String,
        value: String,
    },
    /// Remove cell `index` from the transcript, if it is still the cell with this
    /// command line (the transcript may have changed since the front end drew it).
    DeleteCell {
        id: u64,
        index: usize,
        command: String,
    },
}

impl Request {
    /// The request's id.
    pub fn id(&self) -> u64 {
        match self {
            Request::Line { id, .. }
            | Request::Edit { id, .. }
            | Request::DeleteCell { id, .. } => *id,
        }
    }

    /// The command line it runs (as a pending cell shows it).
    pub fn line(&self) -> String {
        match self {
            Request::Line { line, .. } => line.trim().to_string(),
            Request::Edit { path, value, .. } => format!("set! {path} {value}"),
            Request::DeleteCell { index, .. } => format!("(delete cell {})", index + 1),
        }
    }
}

/// What the kernel sends back.
pub enum Reply {
    /// A request finished.
    Done {
        id: u64,
        /// The command line as run.
        line: String,
        /// Its cell (as the transcript holds it): `None` for a deletion.
        cell: Option<Cell>,
        /// For a deletion, whether the cell was removed.
        deleted: Option<(usize, bool)>,
    },
    /// A run started: its cell, its name and folder, and its own event stream.
    RunStarted(Box<RunStart>),
}

/// What a front end draws: the session as it was after the last request or run event.
/// Read-only; a new one replaces it.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The settings and the notebook (transcript, history, states, runs).
    pub experiment: Arc<Experiment>,
    file: Option<PathBuf>,
    base_dir: PathBuf,
    dirty: bool,
    unsaved_edits: bool,
    load_problems: Vec<String>,
    unreadable: usize,
    progress: Option<Progress>,
    active_cell: Option<(usize, usize)>,
    /// The request running now (id, command line).
    pub running: Option<(u64, String)>,
    /// The requests waiting behind it, in order.
    pub queued: Vec<(u64, String)>,
    /// The newest request finished (ids count from 1; 0 before any).
    pub done: u64,
    /// Counts the times the transcript was replaced (`new`, `open`, a replay): a front
    /// end's view state of the cells starts afresh when it changes.
    pub epoch: u64,
}

impl Snapshot {
    /// The experiment file, if the notebook has been saved or opened.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The folder relative paths are read from: the file's, or the current folder.
    pub fn base_dir(&self) -> PathBuf {
        self.base_dir.clone()
    }

    /// True when there are changes that are not in the file.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// True when closing, New or Open would lose edits ([`Session::has_unsaved_edits`]).
    pub fn has_unsaved_edits(&self) -> bool {
        self.unsaved_edits
    }

    /// The problems of the file as it was opened ([`Session::load_problems`]).
    pub fn load_problems(&self) -> &[String] {
        &self.load_problems
    }

    /// The entries of the opened file that could not be read at all.
    pub fn unreadable_entries(&self) -> &[String] {
        &self.load_problems[..self.unreadable.min(self.load_problems.len())]
    }

    /// True while a run is under way.
    pub fn is_running(&self) -> bool {
        self.active_cell.is_some()
    }

    /// The active run's progress as the session last took it.
    pub fn progress(&self) -> Option<Progress> {
        self.progress.clone()
    }

    /// The active run's `train` cell and its index in the notebook's runs.
    pub fn active_cell(&self) -> Option<(usize, usize)> {
        self.active_cell
    }

    /// True while a request runs or waits.
    pub fn is_busy(&self) -> bool {
        self.running.is_some() || !self.queued.is_empty()
    }

    /// Tab completion against this snapshot's experiment ([`session::complete`]).
    pub fn complete(&self, line: &str, pos: usize) -> (usize, Vec<String>) {
        session::complete(&self.experiment, line, pos)
    }
}

enum Message {
    Request(Request),
    Shutdown,
}

/// The front end's handle on a session running on its own thread. Dropping it stops
/// the thread after the request under way (a run under way is stopped and writes its
/// folder, as when a session is dropped).
pub struct Kernel {
    requests: Sender<Message>,
    replies: Receiver<Reply>,
    snapshot: Arc<Mutex<Arc<Snapshot>>>,
    interrupt: Arc<AtomicU8>,
    next_id: AtomicU64,
    /// The requests sent and not yet finished, as sent: the snapshot's `queued` is taken
    /// from here, so a request sent while the session thread is busy (it publishes no
    /// snapshot until it is done) shows as queued at once.
    sent: Mutex<Vec<(u64, String)>>,
    handle: Option<JoinHandle<()>>,
}

impl Kernel {
    /// Moves `session` onto a thread named `seqlab-session`. `wake` is called after
    /// every snapshot and reply, and on every run event (a window passes its repaint).
    pub fn spawn(mut session: Session, wake: Wake) -> std::io::Result<Kernel> {
        let (req_tx, req_rx) = unbounded();
        let (rep_tx, rep_rx) = unbounded();
        session.set_blocking_allowed(false);
        session.set_wake(wake.clone());
        let runs = rep_tx.clone();
        let run_wake = wake.clone();
        session.set_run_observer(Box::new(move |start| {
            let _ = runs.send(Reply::RunStarted(Box::new(start)));
            run_wake();
        }));
        let interrupt = session.interrupt_handle();
        let first = Arc::new(snapshot_of(&session, None, 0, None, Vec::new()));
        let snapshot = Arc::new(Mutex::new(first));
        let shared = snapshot.clone();
        let handle = std::thread::Builder::new()
            .name("seqlab-session".into())
            .spawn(move || {
                Worker {
                    session,
                    requests: req_rx,
                    replies: rep_tx,
                    snapshot: shared,
                    wake,
                    queue: VecDeque::new(),
                    done: 0,
                    last_edit: None,
                }
                .run()
            })?;
        Ok(Kernel {
            requests: req_tx,
            replies: rep_rx,
            snapshot,
            interrupt,
            next_id: AtomicU64::new(1),
            sent: Mutex::new(Vec::new()),
            handle: Some(handle),
        })
    }

    fn send(&self, make: impl FnOnce(u64) -> Request) -> u64 {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let request = make(id);
        sent.push((id, request.line()));
        let _ = self.requests.send(Message::Request(request));
        id
    }

    /// Queues a command line; returns its request id.
    pub fn line(&self, line: &str) -> u64 {
        let line = line.to_string();
        self.send(|id| Request::Line { id, line })
    }

    /// Queues an editor change (`set PATH VALUE`, folded into the newest cell when that
    /// is the editor's `set` of the same path); returns its request id.
    pub fn edit(&self, path: &str, value: &str) -> u64 {
        let (path, value) = (path.to_string(), value.to_string());
        self.send(|id| Request::Edit { id, path, value })
    }

    /// Queues the removal of cell `index`, the cell with `command` as the front end
    /// drew it (nothing is removed when the transcript has changed since); returns its
    /// request id.
    pub fn delete_cell(&self, index: usize, command: &str) -> u64 {
        let command = command.to_string();
        self.send(|id| Request::DeleteCell { id, index, command })
    }

    /// The newest snapshot, with every request sent and not yet started as queued.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        let snap = self
            .snapshot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.retain(|(id, _)| *id > snap.done);
        let running = snap.running.as_ref().map(|(id, _)| *id);
        let queued: Vec<(u64, String)> = sent
            .iter()
            .filter(|(id, _)| Some(*id) != running)
            .cloned()
            .collect();
        if queued == snap.queued {
            return snap;
        }
        let mut merged = (*snap).clone();
        merged.queued = queued;
        Arc::new(merged)
    }

    /// The replies that have arrived (never waits).
    pub fn replies(&self) -> Vec<Reply> {
        self.replies.try_iter().collect()
    }

    /// The id the next request will get (every id below it has been sent).
    pub fn next_id(&self) -> u64 {
        self.next_id.load(Ordering::SeqCst)
    }

    /// Asks the command under way to stop early (as Ctrl-C in the terminal does): an
    /// evaluation or a prediction ends at its next batch and reading data (`load data`,
    /// an evaluation's data) after its current file, each saying how far it got;
    /// sampling ends with the text it has. Other commands run to their end.
    pub fn interrupt(&self) {
        self.interrupt.store(INTERRUPT_PENDING, Ordering::SeqCst);
    }
}

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.requests.send(Message::Shutdown);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

struct Worker {
    session: Session,
    requests: Receiver<Message>,
    replies: Sender<Reply>,
    snapshot: Arc<Mutex<Arc<Snapshot>>>,
    wake: Wake,
    queue: VecDeque<Request>,
    done: u64,
    /// The newest cell when it is the editor's `set`: its index and path.
    last_edit: Option<(usize, String)>,
}

/// A snapshot of `session`; `reuse` keeps an earlier snapshot's experiment and file
/// state when only the run's progress changed (cloning a large notebook at every run
/// event would cost the session's thread more than the run does).
fn snapshot_of(
    session: &Session,
    running: Option<(u64, String)>,
    done: u64,
    reuse: Option<&Snapshot>,
    queued: Vec<(u64, String)>,
) -> Snapshot {
    let (experiment, dirty, unsaved_edits) = match reuse {
        Some(prev) => (prev.experiment.clone(), prev.dirty, prev.unsaved_edits),
        None => (
            Arc::new(session.experiment.clone()),
            session.is_dirty(),
            session.has_unsaved_edits(),
        ),
    };
    Snapshot {
        experiment,
        file: session.file().map(Path::to_path_buf),
        base_dir: session.base_dir(),
        dirty,
        unsaved_edits,
        load_problems: session.load_problems().to_vec(),
        unreadable: session.unreadable_entries().len(),
        progress: session.progress(),
        active_cell: session.active_cell(),
        running,
        queued,
        done,
        epoch: session.transcript_epoch(),
    }
}

impl Worker {
    fn run(mut self) {
        loop {
            // everything sent so far joins the queue, so pending cells show at once
            loop {
                match self.requests.try_recv() {
                    Ok(Message::Request(r)) => self.queue.push_back(r),
                    Ok(Message::Shutdown) => return,
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                    Err(crossbeam_channel::TryRecvError::Disconnected) => return,
                }
            }
            if let Some(request) = self.queue.pop_front() {
                let id = request.id();
                self.publish(Some((id, request.line())), false);
                let reply = self.handle(request);
                self.done = id;
                self.publish(None, true);
                let _ = self.replies.send(reply);
                (self.wake)();
                continue;
            }
            let events = self.session.poll();
            if !events.is_empty() {
                let changed = events.iter().any(|e| {
                    matches!(
                        e,
                        crate::train::Event::Finished(_) | crate::train::Event::Started { .. }
                    )
                });
                self.publish(None, changed);
                (self.wake)();
            }
            let timeout = if self.session.is_running() {
                RUN_POLL
            } else {
                Duration::from_secs(3600)
            };
            match self.requests.recv_timeout(timeout) {
                Ok(Message::Request(r)) => self.queue.push_back(r),
                Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Publishes a snapshot; `full` takes the experiment anew.
    fn publish(&mut self, running: Option<(u64, String)>, full: bool) {
        let queued = self.queue.iter().map(|r| (r.id(), r.line())).collect();
        let prev = self
            .snapshot
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let snap = snapshot_of(
            &self.session,
            running,
            self.done,
            (!full).then_some(&*prev),
            queued,
        );
        *self.snapshot.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(snap);
        (self.wake)();
    }

    fn handle(&mut self, request: Request) -> Reply {
        let id = request.id();
        let line = request.line();
        // a Stop pressed while nothing ran stops nothing later
        self.session.take_interrupt();
        match request {
            Request::DeleteCell { index, command, .. } => {
                let same = self
                    .session
                    .experiment
                    .notebook
                    .cells
                    .get(index)
                    .is_some_and(|c| c.command == command);
                let removed = same && self.session.delete_cell(index);
                if removed {
                    self.last_edit = None;
                }
                Reply::Done {
                    id,
                    line,
                    cell: None,
                    deleted: Some((index, removed)),
                }
            }
            Request::Line { .. } => {
                let cell = self.session.execute(&line);
                self.last_edit = None;
                Reply::Done {
                    id,
                    line,
                    cell: Some(cell),
                    deleted: None,
                }
            }
            Request::Edit { path, .. } => {
                let earlier = self
                    .last_edit
                    .take()
                    .filter(|(i, p)| *p == path && i + 1 == self.cells());
                let cell = self.session.execute(&line);
                if let Some((i, _)) = earlier {
                    self.session.fold_edit(i);
                }
                self.last_edit = cell.ok.then(|| (self.cells().saturating_sub(1), path));
                Reply::Done {
                    id,
                    line,
                    cell: Some(cell),
                    deleted: None,
                }
            }
        }
    }

    fn cells(&self) -> usize {
        self.session.experiment.notebook.cells.len()
    }
}
