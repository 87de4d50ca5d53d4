//! Frame time of the notebook window while the medium workload trains, and training
//! throughput with the window open vs headless. A benchmark, not a test: it prints
//! figures and asserts nothing.
//!
//! ```text
//! cargo bench --bench app_frames                  # release profile
//! cargo bench --profile dev --bench app_frames    # quicker to build, slower frames
//! SEQLAB_FRAMES_ITERS=200 cargo bench --bench app_frames
//! ```
//!
//! - Workload: the shared benchmark's `medium` shape as an experiment (a two-layer
//!   character LSTM of 256 units, minibatch 32 × 100 steps, Adam, clipping at 5) on
//!   `assets/corpus.txt`.
//! - Headless: a [`Session`] runs `train N iterations` and `wait`s (the terminal REPL).
//! - Window: the app in egui_kittest at the default size (1360 × 860), a frame every
//!   1/[`REDRAW_HZ`] s as a display would ask for them, with a previous run of 100 000
//!   points per curve overlaid on the live charts. A frame here is the app's `logic` and
//!   `ui`, egui's layout and tessellation, all on the UI thread; kittest has no GPU, so
//!   rasterising the triangles is not included.
//! - Reported: mean and p99 frame time, and iterations/s of both runs and their ratio.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use seqlab::app::monitor::RunState;
use seqlab::app::{SeqlabApp, REDRAW_HZ};
use seqlab::repl::Session;
use seqlab::train::view::{LayerCurves, RunView};

fn write_experiment(dir: &Path, iterations: u64) -> PathBuf {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/corpus.txt");
    let path = dir.join("medium.ron");
    std::fs::write(
        &path,
        format!(
            r#"(
    name: "medium",
    data: Text(path: {corpus:?}, validation: 0.05),
    model: (layers: [(kind: Lstm, size: 256), (kind: Lstm, size: 256)], output: (loss: CrossEntropy)),
    training: (
        updater: Adam(lr: 0.002),
        batch_size: 32,
        sequence_length: 100,
        iterations: {iterations},
        gradient_normalization: ClipGlobalL2(5.0),
        seed: 1,
    ),
    evaluation: (every: 1000000),
)
"#
        ),
    )
    .unwrap();
    path
}

/// A run of `n` iterations' curves, as a long previous run would have.
fn long_run(n: usize) -> RunView {
    let mut v = RunView::new("long", PathBuf::from("/nonexistent/long-run"));
    let c = &mut v.curves;
    for i in 0..n {
        let x = i as f64;
        let noise = ((i * 7919) % 1000) as f64 / 1000.0;
        c.score.push(x, 4.0 / (1.0 + x / 5000.0) + 0.3 * noise);
        c.lr.push(x, 2e-3 * 0.99999f64.powf(x));
        c.grad_norm.push(x, 1.0 + noise);
        if i % 50 == 0 {
            c.validation.push(x, 4.2 / (1.0 + x / 5000.0));
        }
    }
    for l in 0..3 {
        let mut layer = LayerCurves {
            name: format!("layer{l}"),
            ..Default::default()
        };
        for i in 0..n {
            let noise = ((i * 104_729 + l) % 1000) as f64 / 1000.0;
            layer.grad_norm.push(i as f64, 0.5 + noise);
            layer.ratio.push(i as f64, 1e-3 * (0.5 + noise));
        }
        c.layers.push(layer);
    }
    v
}

fn headless(path: &Path, iterations: u64) -> f64 {
    let mut s = Session::open(path).expect("opens");
    let cell = s.execute(&format!("train {iterations} iterations"));
    assert!(cell.ok, "{:?}", cell.outputs);
    let start = Instant::now();
    let mut first: Option<(Instant, u64)> = None;
    let mut last = (start, 0);
    s.wait(&mut |e| {
        if let seqlab::train::Event::Iteration { metrics, .. } = e {
            let now = Instant::now();
            first.get_or_insert((now, metrics.iteration));
            last = (now, metrics.iteration);
        }
    });
    let (t0, i0) = first.expect("iterations");
    (last.1 - i0) as f64 / (last.0 - t0).as_secs_f64()
}

fn windowed(path: &Path, iterations: u64) -> (f64, Vec<f64>) {
    let p = path.to_path_buf();
    let mut h = Harness::builder()
        .with_size([1360.0, 860.0])
        .build_eframe(move |_cc| SeqlabApp::new(Some(p)));
    let long = PathBuf::from("/nonexistent/long-run");
    h.state_mut()
        .train
        .insert_view(long.clone(), long_run(100_000).shared());
    h.step();
    h.state_mut()
        .push_action(seqlab::app::Action::Command(format!(
            "train {iterations} iterations"
        )));
    h.step();
    h.state_mut().train.overlay.insert(long);
    let interval = Duration::from_secs_f64(1.0 / REDRAW_HZ);
    let mut frames = Vec::new();
    let mut first: Option<(Instant, u64)> = None;
    let mut last = (Instant::now(), 0);
    loop {
        // as eframe does: a frame only when one was asked for (trainer events ask with
        // a delay of one display interval), at most one per interval
        if !h.ctx.has_requested_repaint() {
            std::thread::sleep(Duration::from_millis(1));
            continue;
        }
        let tick = Instant::now();
        h.step();
        let spent = tick.elapsed();
        let app = h.state();
        if app.train.state == RunState::Running {
            frames.push(spent.as_secs_f64() * 1e3);
            let it = app.train.iteration();
            if it > 0 {
                let now = Instant::now();
                first.get_or_insert((now, it));
                last = (now, it);
            }
        }
        if matches!(app.train.state, RunState::Finished(_)) {
            break;
        }
        if let Some(rest) = interval.checked_sub(spent) {
            std::thread::sleep(rest);
        }
    }
    let (t0, i0) = first.expect("iterations");
    let rate = (last.1 - i0) as f64 / (last.0 - t0).as_secs_f64();
    (rate, frames)
}

fn main() {
    let iterations: u64 = std::env::var("SEQLAB_FRAMES_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let dir = std::env::temp_dir().join(format!("seqlab-bench-frames-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = write_experiment(&dir, iterations);

    let headless_rate = headless(&path, iterations);
    let (window_rate, mut frames) = windowed(&path, iterations);
    frames.sort_by(f64::total_cmp);
    let mean = frames.iter().sum::<f64>() / frames.len() as f64;
    let p99 = frames[((frames.len() as f64 * 0.99) as usize).min(frames.len() - 1)];
    println!("medium workload, {iterations} iterations, frames at most {REDRAW_HZ} Hz, score plot with 100000 overlaid points per curve");
    println!(
        "frames while training: {} frames, mean {mean:.2} ms, p99 {p99:.2} ms, max {:.2} ms",
        frames.len(),
        frames[frames.len() - 1]
    );
    println!(
        "frames per iteration: {:.2}",
        frames.len() as f64 / iterations as f64
    );
    println!(
        "training: headless {headless_rate:.3} it/s, window {window_rate:.3} it/s, ratio {:.3}",
        window_rate / headless_rate
    );
    let _ = std::fs::remove_dir_all(&dir);
}
