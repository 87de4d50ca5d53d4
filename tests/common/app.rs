//! Helpers for the window's headless tests (egui_kittest). The window does its slow work
//! (reading data for the preview, training, evaluation) on background threads, so a test
//! never assumes that work is done within a fixed number of frames: it steps the window
//! until the work reports back, with a generous time limit.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use seqlab::app::SeqlabApp;

/// How long a test waits for background work before it fails.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// Runs frames until the window is idle: every command sent has run on the session's
/// thread, no animation and no repaint requested. While a
/// background thread keeps the window repainting (a spinner while data loads, a live
/// run), it keeps stepping, 10 ms apart, for up to [`PATIENCE`]; past that it fails with
/// what kept repainting.
#[track_caller]
pub fn settle(h: &mut Harness<'_, SeqlabApp>) {
    let start = Instant::now();
    loop {
        match h.try_run() {
            // the commands sent run on the session's thread: idle means they are done
            // and the window has drawn their results
            Ok(_) if h.state().is_idle() => {
                h.run_steps(1);
                return;
            }
            Ok(_) if start.elapsed() > PATIENCE => panic!(
                "the session never finished its commands within {PATIENCE:?}: {:?} running, {:?} queued",
                h.state().session.running,
                h.state().session.queued
            ),
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) if start.elapsed() > PATIENCE => {
                panic!("the window never settled within {PATIENCE:?}: {e}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Steps frames, 10 ms apart, until `done` holds for the app, then one more frame so the
/// result is drawn; fails after [`PATIENCE`] naming `what` and the run's state.
#[track_caller]
pub fn step_until(h: &mut Harness<'_, SeqlabApp>, what: &str, done: impl Fn(&SeqlabApp) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < PATIENCE,
            "timed out waiting for {what}; run state {:?}",
            h.state().train.state
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    h.step();
}
