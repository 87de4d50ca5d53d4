//! The session kernel: a session on its own thread behind requests, replies and
//! snapshots (what the window drives). Commands queue in order and show as pending while
//! one runs; the editor's changes become `set` cells, consecutive changes of one field
//! folded into one; a run's events reach the front end directly from the training
//! thread; Stop ends a long evaluation early.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{long_eval_experiment, temp_dir};
use seqlab::repl::{Kernel, Reply, Session, Snapshot};

fn kernel() -> Kernel {
    Kernel::spawn(Session::new(), Arc::new(|| {})).expect("the session thread starts")
}

/// Waits until every request sent has run; returns the replies and the snapshot.
fn wait(k: &Kernel) -> (Vec<Reply>, Arc<Snapshot>) {
    let start = Instant::now();
    let mut replies = Vec::new();
    loop {
        replies.extend(k.replies());
        let s = k.snapshot();
        if s.done + 1 >= k.next_id() && !s.is_busy() {
            replies.extend(k.replies());
            return (replies, s);
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the kernel never finished: {:?} running, {:?} queued",
            s.running,
            s.queued
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn done_lines(replies: &[Reply]) -> Vec<(u64, String, bool)> {
    replies
        .iter()
        .filter_map(|r| match r {
            Reply::Done { id, line, cell, .. } => {
                Some((*id, line.clone(), cell.as_ref().is_none_or(|c| c.ok)))
            }
            Reply::RunStarted(_) => None,
        })
        .collect()
}

fn commands(s: &Snapshot) -> Vec<String> {
    s.experiment
        .notebook
        .cells
        .iter()
        .map(|c| c.command.clone())
        .collect()
}

#[test]
fn requests_run_in_order_on_the_session_thread_and_the_snapshot_follows() {
    let k = kernel();
    let a = k.line("set name \"kernel\"");
    let b = k.line("add gru 8");
    let c = k.line("set training.batch_size nonsense");
    assert!(a < b && b < c);
    let (replies, snap) = wait(&k);
    let done = done_lines(&replies);
    assert_eq!(
        done.iter().map(|d| d.0).collect::<Vec<_>>(),
        [a, b, c],
        "replies in the order sent"
    );
    assert!(!done[2].2, "the bad value fails its cell");
    assert_eq!(snap.experiment.name, "kernel");
    assert_eq!(snap.experiment.model.layers.len(), 2);
    assert_eq!(
        commands(&snap),
        [
            "set name \"kernel\"",
            "add gru 8",
            "set training.batch_size nonsense"
        ]
    );
    assert!(snap.is_dirty());
    assert!(!snap.is_running());
}

#[test]
fn editor_changes_of_one_field_fold_into_one_set_cell() {
    let k = kernel();
    k.edit("model.layers[0].size", "1");
    k.edit("model.layers[0].size", "12");
    k.edit("model.layers[0].size", "128");
    k.edit("training.updater", "Sgd(lr: 0.1)");
    k.edit("training.updater.Sgd.lr", "0.2");
    k.line("show model.layers[0].size");
    k.edit("model.layers[0].size", "64");
    let (_, snap) = wait(&k);
    assert_eq!(
        commands(&snap),
        [
            "set! model.layers[0].size 128",
            "set! training.updater Sgd(lr: 0.1)",
            "set! training.updater.Sgd.lr 0.2",
            "show model.layers[0].size",
            "set! model.layers[0].size 64",
        ],
        "one cell per field changed in a row; a command in between starts a new one"
    );
    assert_eq!(snap.experiment.model.layers[0].size, 64);
    let history = &snap.experiment.notebook.history;
    assert_eq!(
        history.iter().filter(|h| h.contains("size")).count(),
        3,
        "folded lines leave the history too: {history:?}"
    );
}

#[test]
fn an_edit_that_does_not_read_fails_and_one_out_of_range_is_kept_as_a_problem() {
    let k = kernel();
    k.edit("training.batch_size", "many");
    k.edit("training.batch_size", "0");
    let (replies, snap) = wait(&k);
    let done = done_lines(&replies);
    assert!(!done[0].2, "a word where a number goes is refused");
    assert!(done[1].2, "0 reads: the editor keeps it");
    assert_eq!(snap.experiment.training.batch_size, 0);
    let cell = snap.experiment.notebook.cells.last().unwrap();
    let said = format!("{:?}", cell.outputs);
    assert!(
        said.contains("now has 1 problem(s)") && said.contains("batch_size"),
        "{said}"
    );
    // the refused one is not folded into the next: it says what was wrong
    assert_eq!(commands(&snap).len(), 2);
    // and train refuses until it is fixed
    k.line("train");
    let (replies, _) = wait(&k);
    assert!(!done_lines(&replies)[0].2);
}

#[test]
fn a_run_streams_to_the_front_end_while_a_long_command_runs_and_stop_ends_it() {
    let dir = temp_dir("kernel-stream");
    // a validation split of ~50,000 sequences of 20 characters
    let file = long_eval_experiment(&dir, 2_000_000);
    let k = kernel();
    k.line(&format!("open {}", file.display()));
    k.line("train");
    let (replies, _) = wait(&k);
    assert!(
        done_lines(&replies).iter().all(|d| d.2),
        "open and train succeed: {:?}",
        k.snapshot().experiment.notebook.cells
    );
    let first = replies
        .into_iter()
        .find_map(|r| match r {
            Reply::RunStarted(s) => Some(*s),
            _ => None,
        })
        .expect("the run's stream reaches the front end");
    assert_eq!(first.name, "001");
    // the short run ends; its stream ends with Finished
    let start = Instant::now();
    loop {
        if let Some(seqlab::train::Event::Finished(_)) =
            first.events.recv_timeout(Duration::from_millis(100))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "run 001 never ended"
        );
    }
    while k.snapshot().is_running() {
        std::thread::sleep(Duration::from_millis(10));
    }

    // a long run, then a long evaluation of run 001 while it trains
    k.line("train 1000000 iterations");
    let (replies, _) = wait(&k);
    let live = replies
        .into_iter()
        .find_map(|r| match r {
            Reply::RunStarted(s) => Some(*s),
            _ => None,
        })
        .expect("run 002 started");
    let eval = k.line("eval 001");
    let queued = k.line("show training.batch_size");
    let mut iterations_during_eval = Vec::new();
    let start = Instant::now();
    let mut saw_pending = false;
    loop {
        while let Some(e) = live.events.recv_timeout(Duration::from_millis(5)) {
            if let seqlab::train::Event::Iteration { metrics, .. } = e {
                let s = k.snapshot();
                if s.running.as_ref().is_some_and(|(id, _)| *id == eval) {
                    iterations_during_eval.push(metrics.iteration);
                }
            }
        }
        let s = k.snapshot();
        if s.running.as_ref().is_some_and(|(id, _)| *id == eval)
            && s.queued.iter().any(|(id, _)| *id == queued)
        {
            saw_pending = true;
        }
        if iterations_during_eval.len() >= 20 || s.done >= eval {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
    }
    assert!(
        iterations_during_eval.len() >= 20,
        "the run kept streaming while the evaluation ran (got {} iterations; the evaluation \
         ended first: {:?})",
        iterations_during_eval.len(),
        k.snapshot().experiment.notebook.cells.last()
    );
    assert!(
        iterations_during_eval.windows(2).all(|w| w[1] > w[0]),
        "the iteration count rises"
    );
    assert!(
        saw_pending,
        "the next command showed as queued behind the evaluation"
    );
    // Stop: the evaluation ends early and says so
    k.interrupt();
    k.line("stop");
    let (replies, snap) = wait(&k);
    let done = done_lines(&replies);
    let eval_cell = replies
        .iter()
        .find_map(|r| match r {
            Reply::Done { id, cell, .. } if *id == eval => cell.clone(),
            _ => None,
        })
        .expect("the eval cell came back");
    assert!(!eval_cell.ok);
    let said = format!("{:?}", eval_cell.outputs);
    assert!(
        said.contains("stopped scoring the validation split after"),
        "{said}"
    );
    assert!(done.iter().any(|d| d.0 == queued && d.2));
    // the eval cell is in the transcript, before the queued command
    let cmds = commands(&snap);
    let at = |c: &str| cmds.iter().position(|x| x == c).expect(c);
    assert!(at("eval 001") < at("show training.batch_size"));
    drop(k);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_deletion_removes_the_cell_it_names_or_nothing() {
    let k = kernel();
    k.line("note a");
    k.line("note b");
    k.line("note c");
    wait(&k);
    // as a window would send them, both drawn before either ran: the second names a
    // position the first one shifted
    k.delete_cell(0, "note a");
    k.delete_cell(1, "note b");
    let (replies, snap) = wait(&k);
    let deleted: Vec<(usize, bool)> = replies
        .iter()
        .filter_map(|r| match r {
            Reply::Done { deleted, .. } => *deleted,
            _ => None,
        })
        .collect();
    assert_eq!(deleted, [(0, true), (1, false)]);
    assert_eq!(
        commands(&snap),
        ["note b", "note c"],
        "note c was not deleted"
    );
}
