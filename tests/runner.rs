//! The background runner and headless runs: pause/resume, stop, live learning-rate
//! changes, divergence and data errors as events, resume-equals-uninterrupted, and
//! determinism.

mod common;

use common::temp_dir;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use seqlab::cli::run::{run, RunArgs};
use seqlab::experiment::{file, Experiment};
use seqlab::train::runner::{Event, RunSummary};
use seqlab::train::{Command, Runner, StopReason};

const SMALL: &str = r#"(
    name: "small",
    data: Echo(length: 3000, echo: 3, validation_length: 600, seed: 3),
    model: (layers: [(kind: Lstm, size: 12), (kind: Dense, size: 8, dropout: 0.1)]),
    training: (updater: Adam(lr: 0.01), batch_size: 4, sequence_length: 15, iterations: ITER, seed: 5,
               gradient_normalization: ClipGlobalL2(5.0), checkpoint_every: 10),
    evaluation: (every: 25),
)"#;

fn experiment(iterations: u64) -> Experiment {
    file::from_ron_str(
        &SMALL.replace("ITER", &iterations.to_string()),
        Path::new("small.ron"),
    )
    .unwrap()
}

fn write_experiment(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("exp.ron");
    std::fs::write(&p, text).unwrap();
    p
}

fn next(r: &Runner) -> Event {
    r.recv_timeout(Duration::from_secs(60))
        .expect("an event within a minute")
}

fn until_finished(r: &Runner) -> (Vec<Event>, RunSummary) {
    let mut seen = Vec::new();
    loop {
        match next(r) {
            Event::Finished(s) => return (seen, s),
            e => seen.push(e),
        }
    }
}

fn iteration_of(e: &Event) -> Option<u64> {
    match e {
        Event::Iteration { metrics, .. } => Some(metrics.iteration),
        _ => None,
    }
}

#[test]
fn pause_then_resume_continues_where_it_stopped() {
    let r = Runner::spawn_experiment(experiment(150), None, Arc::new(|| {})).unwrap();
    r.send(Command::Pause);
    let paused_at = loop {
        if let Event::Paused { iteration } = next(&r) {
            break iteration;
        }
    };
    // drain what was queued before the pause, then nothing more arrives
    std::thread::sleep(Duration::from_millis(300));
    while let Some(e) = r.try_recv() {
        if let Some(it) = iteration_of(&e) {
            assert!(
                it <= paused_at,
                "iteration {it} ran while paused at {paused_at}"
            );
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(r.try_recv().is_none(), "events while paused");
    r.send(Command::Resume);
    let mut first_after = None;
    let (events, summary) = until_finished(&r);
    for e in &events {
        if let (None, Some(it)) = (first_after, iteration_of(e)) {
            first_after = Some(it);
        }
    }
    assert!(matches!(events[0], Event::Resumed { iteration } if iteration == paused_at));
    assert_eq!(first_after, Some(paused_at + 1));
    assert_eq!(summary.stop_reason, StopReason::Completed);
    assert_eq!(summary.iterations, 150);
}

#[test]
fn stop_ends_cleanly_with_weights_written() {
    let dir = temp_dir("runner-stop");
    let run_dir = dir.join("run");
    let record = seqlab::experiment::rundir::RunRecord {
        experiment: experiment(100_000),
        ..Default::default()
    };
    let r = Runner::spawn_experiment(
        experiment(100_000),
        Some((run_dir.clone(), record)),
        Arc::new(|| {}),
    )
    .unwrap();
    loop {
        if iteration_of(&next(&r)).is_some_and(|it| it >= 5) {
            break;
        }
    }
    r.send(Command::Stop);
    let (_, summary) = until_finished(&r);
    assert_eq!(summary.stop_reason, StopReason::Stopped);
    assert!(summary.iterations < 100_000);
    for f in [
        "weights.safetensors",
        "summary.json",
        "metrics.csv",
        "run.ron",
    ] {
        assert!(run_dir.join(f).is_file(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["stop_reason"], "stopped");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn learning_rate_change_applies_from_the_next_iteration_and_shows_in_metrics() {
    let dir = temp_dir("runner-lr");
    let run_dir = dir.join("run");
    let record = seqlab::experiment::rundir::RunRecord {
        experiment: experiment(60),
        ..Default::default()
    };
    let r = Runner::spawn_experiment(
        experiment(60),
        Some((run_dir.clone(), record)),
        Arc::new(|| {}),
    )
    .unwrap();
    loop {
        if iteration_of(&next(&r)).is_some_and(|it| it >= 3) {
            break;
        }
    }
    r.send(Command::SetLearningRate(0.0025));
    let (events, _) = until_finished(&r);
    let set_at = events
        .iter()
        .find_map(|e| match e {
            Event::LearningRateSet { iteration, lr } => Some((*iteration, *lr)),
            _ => None,
        })
        .expect("acknowledged");
    assert_eq!(set_at.1, 0.0025);
    let csv = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
    let lrs: Vec<(u64, f64)> = csv
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect();
    for (it, lr) in lrs {
        if it <= set_at.0 {
            assert_eq!(lr, 0.01, "iteration {it}");
        } else {
            assert_eq!(lr, 0.0025, "iteration {it}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn divergence_and_data_errors_arrive_as_events() {
    // a learning rate far too large makes the score infinite or NaN
    let mut e = experiment(500);
    e.training.updater =
        seqlab::experiment::schema::UpdaterSpec::Sgd(seqlab::experiment::schema::SgdSpec {
            lr: 0.1,
        });
    e.training.schedule = seqlab::experiment::schema::ScheduleSpec::Exponential { gamma: 3.0 };
    e.training.gradient_normalization = seqlab::experiment::schema::GradientNormalizationSpec::None;
    let r = Runner::spawn_experiment(e, None, Arc::new(|| {})).unwrap();
    let (events, summary) = until_finished(&r);
    assert_eq!(summary.stop_reason, StopReason::Diverged);
    let msg = events.iter().find_map(|e| match e {
        Event::Failed { message, .. } => Some(message.clone()),
        _ => None,
    });
    let msg = msg.expect("a Failed event");
    assert!(
        msg.contains("at iteration") && msg.contains("learning rate"),
        "{msg}"
    );

    // a data file that does not exist
    let mut e = experiment(10);
    e.data = seqlab::experiment::schema::DataSpec::Text(seqlab::experiment::schema::TextSpec {
        path: "/nonexistent/corpus.txt".into(),
        ..Default::default()
    });
    let r = Runner::spawn_experiment(e, None, Arc::new(|| {})).unwrap();
    let (events, summary) = until_finished(&r);
    assert!(
        summary
            .error
            .as_deref()
            .is_some_and(|m| m.contains("/nonexistent/corpus.txt")),
        "{summary:?}"
    );
    assert!(matches!(events[0], Event::Failed { .. }));
}

fn metrics_without_timing(run_dir: &Path) -> Vec<String> {
    let csv = std::fs::read_to_string(run_dir.join("metrics.csv")).unwrap();
    csv.lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f[..f.len() - 2].join(",")
        })
        .collect()
}

#[test]
fn resumed_run_equals_an_uninterrupted_one() {
    let dir = temp_dir("runner-resume");
    let exp = write_experiment(&dir, &SMALL.replace("ITER", "40"));
    let quiet = |out: &Path| RunArgs {
        out: Some(out.to_path_buf()),
        quiet: true,
        ..Default::default()
    };
    assert_eq!(
        run(Some(&exp), &quiet(&dir.join("a"))).unwrap(),
        ExitCode::SUCCESS
    );
    // interrupted after 20 iterations, then resumed to 40
    let mut first = quiet(&dir.join("b"));
    first.iterations = Some(20);
    assert_eq!(run(Some(&exp), &first).unwrap(), ExitCode::SUCCESS);
    let resume = RunArgs {
        resume: Some(dir.join("b")),
        iterations: Some(40),
        quiet: true,
        ..Default::default()
    };
    assert_eq!(run(None, &resume).unwrap(), ExitCode::SUCCESS);
    let wa = std::fs::read(dir.join("a/weights.safetensors")).unwrap();
    let wb = std::fs::read(dir.join("b/weights.safetensors")).unwrap();
    assert_eq!(
        metrics_without_timing(&dir.join("a")),
        metrics_without_timing(&dir.join("b"))
    );
    assert!(wa == wb, "final weights differ");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_runs_with_the_same_seed_give_identical_metrics() {
    let dir = temp_dir("runner-determinism");
    let exp = write_experiment(&dir, &SMALL.replace("ITER", "30"));
    for name in ["a", "b"] {
        let args = RunArgs {
            out: Some(dir.join(name)),
            quiet: true,
            ..Default::default()
        };
        assert_eq!(run(Some(&exp), &args).unwrap(), ExitCode::SUCCESS);
    }
    let a = metrics_without_timing(&dir.join("a"));
    assert_eq!(a.len(), 31);
    assert_eq!(a, metrics_without_timing(&dir.join("b")));
    // another seed gives another run
    let args = RunArgs {
        out: Some(dir.join("c")),
        seed: Some(99),
        quiet: true,
        ..Default::default()
    };
    run(Some(&exp), &args).unwrap();
    assert_ne!(a, metrics_without_timing(&dir.join("c")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn divergence_stops_the_run_keeps_the_last_finite_checkpoint_and_fails() {
    let dir = temp_dir("runner-diverge");
    // fine for a while, then a learning-rate schedule that explodes
    let text = SMALL
        .replace("ITER", "200")
        .replace(
            "updater: Adam(lr: 0.01)",
            "updater: Sgd(lr: 0.1), schedule: Exponential(gamma: 3.0)",
        )
        .replace("gradient_normalization: ClipGlobalL2(5.0), ", "");
    let exp = write_experiment(&dir, &text);
    let args = RunArgs {
        out: Some(dir.join("run")),
        quiet: true,
        ..Default::default()
    };
    let code = run(Some(&exp), &args).unwrap();
    assert_ne!(code, ExitCode::SUCCESS);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run/summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["stop_reason"], "diverged");
    assert!(s["error"].as_str().unwrap().contains("iteration"));
    // the last finite parameters are the run's weights, marked as diverged
    let (weights, meta) = seqlab::experiment::weights::load_weights_with_metadata(
        &dir.join("run/weights.safetensors"),
    )
    .unwrap();
    assert!(weights.iter().all(|t| t.data.iter().all(|v| v.is_finite())));
    assert!(
        meta.iter().any(|(k, _)| k == "seqlab.diverged_at"),
        "{meta:?}"
    );
    let latest = seqlab::experiment::rundir::RunDir::latest_checkpoint(&dir.join("run")).unwrap();
    let ck = seqlab::experiment::checkpoint::load(&latest).unwrap();
    assert!(ck.params.iter().all(|p| p.is_finite()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_slow_consumer_never_stalls_training_and_loses_no_important_event() {
    let trainer = seqlab::train::Trainer::new(experiment(120), &mut |_| {}).unwrap();
    let mut options = seqlab::train::runner::RunnerOptions::from_trainer(&trainer, None);
    options.metrics_capacity = 4;
    options.sample_every = Some(30);
    let r = Runner::spawn(trainer, options, Arc::new(|| {})).unwrap();
    // a consumer that reads nothing while training runs (it takes well under 2 s)
    std::thread::sleep(Duration::from_secs(2));
    let (events, summary) = until_finished(&r);
    assert_eq!(
        summary.iterations, 120,
        "training went on without the consumer"
    );
    let metrics = events.iter().filter(|e| iteration_of(e).is_some()).count();
    assert!(
        metrics <= 4 + 1,
        "the metrics channel is bounded, got {metrics}"
    );
    let samples = events
        .iter()
        .filter(|e| matches!(e, Event::Sample { .. }))
        .count();
    assert_eq!(
        samples, 4,
        "samples at 30, 60, 90 and the end are never dropped"
    );
    assert!(events.iter().any(|e| matches!(e, Event::Validation(_))));
}

#[test]
fn early_stopping_waits_for_patience_and_keeps_the_best_weights() {
    use seqlab::train::eval::{EvalMetrics, Evaluation};
    let mut e = experiment(10);
    e.training.early_stopping = Some(seqlab::experiment::schema::EarlyStoppingSpec {
        patience: 2,
        min_delta: 0.01,
    });
    let mut t = seqlab::train::Trainer::new(e, &mut |_| {}).unwrap();
    let ev = |iteration, score| Evaluation {
        iteration,
        split: "validation".into(),
        score,
        positions: 1,
        metrics: EvalMetrics::Regression {
            mse: 0.0,
            mae: 0.0,
            r2: 0.0,
        },
    };
    assert!(!t.early_stopping_update(&ev(1, 1.0)));
    t.step().unwrap();
    let best = t.net.params().to_vec();
    assert!(!t.early_stopping_update(&ev(2, 0.9)));
    t.step().unwrap();
    assert!(
        !t.early_stopping_update(&ev(3, 0.895)),
        "not better by min_delta: first bad evaluation"
    );
    assert!(
        t.early_stopping_update(&ev(4, 0.95)),
        "second bad evaluation reaches the patience"
    );
    assert_eq!(t.early.best_iteration, 2);
    assert_eq!(t.early.best_params.as_deref(), Some(best.as_slice()));
    let best_tensors = t.best_weights().unwrap();
    assert_eq!(best_tensors.len(), t.weights().len());
    assert_ne!(best_tensors, t.weights());
}

/// A checkpoint whose carried state does not fit the network (as a damaged or foreign
/// file would give `--resume`) is refused with a message naming the layer and what it
/// needs, and the trainer is left as it was; nothing panics.
#[test]
fn a_checkpoint_with_wrong_state_shapes_is_refused() {
    let mut t = seqlab::train::Trainer::new(experiment(20), &mut |_| {}).unwrap();
    for _ in 0..3 {
        t.step().unwrap();
    }
    let good = t.checkpoint();
    assert!(
        !good.carried.is_empty(),
        "the echo stream carries its state"
    );
    let fresh = || seqlab::train::Trainer::new(experiment(20), &mut |_| {}).unwrap();
    // every kind of damage: a wider state (values to match), a missing cell, a missing
    // layer, too few values for the stated shape
    let mut wider = good.clone();
    let (_, b, h) = wider.info.carried_tensors[0][0].clone();
    for (k, shape) in wider.info.carried_tensors[0].iter_mut().enumerate() {
        shape.2 = h + 1;
        wider.carried[0][k].1 = vec![0.0; b * (h + 1)];
    }
    let mut no_cell = good.clone();
    no_cell.info.carried_tensors[0].pop();
    no_cell.carried[0].pop();
    let mut no_layer = good.clone();
    no_layer.carried.clear();
    no_layer.carried.push(vec![("h".into(), vec![0.0; 3])]);
    no_layer.carried.push(vec![("h".into(), vec![0.0; 3])]);
    let mut renamed = good.clone();
    renamed.info.carried_tensors[0][1].0 = "x".into();
    renamed.carried[0][1].0 = "x".into();
    let mut short = good.clone();
    short.carried[0][0].1.pop();
    for (what, ck) in [
        ("wider", wider),
        ("no cell", no_cell),
        ("extra layer", no_layer),
        ("renamed tensor", renamed),
        ("short", short),
    ] {
        let mut t2 = fresh();
        let params = t2.net.params().to_vec();
        match t2.restore(&ck) {
            Err(seqlab::train::TrainError::Checkpoint(msg)) => {
                assert!(msg.contains("carried recurrent state"), "{what}: {msg}");
            }
            Err(e) => panic!("{what}: another error: {e}"),
            Ok(()) => panic!("{what}: a bad checkpoint was accepted"),
        }
        assert_eq!(t2.iteration, 0, "{what}: the trainer is unchanged");
        assert_eq!(t2.net.params(), &params[..], "{what}: parameters unchanged");
        t2.step().unwrap();
    }
    // the good one still resumes
    let mut t3 = fresh();
    t3.restore(&good).unwrap();
    assert_eq!(t3.iteration, 3);
    t3.step().unwrap();
}

/// `Finished` travels on the important channel, which is read first; it still arrives
/// after every iteration event sent before it, so a consumer that stops at `Finished`
/// (the window's monitor, the REPL) has every iteration. Read both ways: polling with
/// `try_recv` after the run has ended (everything queued at once) and `recv_timeout`.
#[test]
fn finished_comes_after_every_iteration() {
    let r = Runner::spawn_experiment(experiment(60), None, Arc::new(|| {})).unwrap();
    while !r.is_finished() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut iterations = Vec::new();
    loop {
        match r.try_recv().expect("queued events end with Finished") {
            Event::Finished(_) => break,
            e => iterations.extend(iteration_of(&e)),
        }
    }
    assert_eq!(iterations, (1..=60).collect::<Vec<u64>>());

    let r = Runner::spawn_experiment(experiment(60), None, Arc::new(|| {})).unwrap();
    let (seen, _) = until_finished(&r);
    let got: Vec<u64> = seen.iter().filter_map(iteration_of).collect();
    assert_eq!(got, (1..=60).collect::<Vec<u64>>());
}

/// The run's view is kept by the training thread: it holds every iteration, every
/// validation and how the run ended, whether or not anyone read the events (a window
/// that falls behind, a session busy with another command), and while a reader holds
/// it the run goes on; read back from the run folder, its curves are the same.
#[test]
fn the_run_view_holds_every_iteration_without_a_reader() {
    let dir = temp_dir("runner-view");
    let run_dir = dir.join("run");
    let record = seqlab::experiment::rundir::RunRecord {
        experiment: experiment(60),
        ..Default::default()
    };
    let r = Runner::spawn_experiment(
        experiment(60),
        Some((run_dir.clone(), record)),
        Arc::new(|| {}),
    )
    .unwrap();
    let view = r.view();
    // a reader holding the view does not stop the run: iterations go on meanwhile
    {
        let _held = seqlab::train::view::read(&view);
        while iteration_of(&next(&r)).is_none_or(|it| it < 10) {}
    }
    // nobody reads the events from here until the thread has ended
    while !r.is_finished() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let v = seqlab::train::view::read(&view).clone();
    assert_eq!(v.iteration, 60);
    assert_eq!(v.curves.score.len(), 60, "every iteration is in the view");
    assert_eq!(v.curves.score.points()[59][0], 60.0);
    assert_eq!(v.max_iterations, 60);
    assert_eq!(v.curves.validation.len(), v.validations.len());
    assert!(v.validations.len() >= 2, "validations every 25 iterations");
    assert!(matches!(
        v.phase,
        seqlab::train::view::RunPhase::Finished(_)
    ));
    assert_eq!(v.summary.as_ref().unwrap().iterations, 60);
    assert_eq!(v.folder, run_dir);
    let (_, summary) = until_finished(&r);
    assert_eq!(summary.iterations, 60);
    let back = seqlab::train::view::RunView::read(&run_dir, "001").unwrap();
    assert_eq!(back.curves.score, v.curves.score);
    assert_eq!(back.curves.lr, v.curves.lr);
    assert_eq!(back.curves.grad_norm, v.curves.grad_norm);
    std::fs::remove_dir_all(&dir).unwrap();
}
