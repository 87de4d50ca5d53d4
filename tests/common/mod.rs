//! Shared test helpers.
#![allow(dead_code)]

#[cfg(feature = "gui")]
pub mod app;

/// Asserts `got` and `want` agree elementwise within `tol` (absolute, or relative to
/// the magnitude when larger than 1); on failure prints the first values and the worst
/// difference.
pub fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) -> f64 {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: length {} vs expected {}",
        got.len(),
        want.len()
    );
    let mut worst = (0.0f64, 0usize);
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let d = (g - w).abs() / w.abs().max(1.0);
        if d.is_nan() || d > worst.0 {
            worst = (d, i);
        }
    }
    if std::env::var_os("SEQLAB_REPORT").is_some() {
        let abs = got
            .iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0, f64::max);
        eprintln!("{what}: max abs difference {abs:.3e}");
    }
    if worst.0.is_nan() || worst.0 > tol {
        let n = got.len().min(6);
        panic!(
            "{what}: max difference {:.3e} at index {} (got {}, want {})\n  got  first {:?}\n  want first {:?}",
            worst.0, worst.1, got[worst.1], want[worst.1], &got[..n], &want[..n]
        );
    }
    worst.0
}

/// f32 slice to f64.
pub fn widen(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

/// A fresh, empty folder `seqlab-{name}-{pid}` under the system temp folder.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("seqlab-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `dir/echo.ron`: the tiny echo task (a 4-unit RNN, checkpoints and validation every
/// 10 iterations) with `iterations` and the `sweep` section given, for the sweep tests.
pub fn sweep_experiment(dir: &std::path::Path, iterations: u64, sweep: &str) -> std::path::PathBuf {
    let text = format!(
        r#"(
    name: "echo",
    data: Echo(echo: 3, length: 3000, validation_length: 500, seed: 0),
    model: (layers: [(kind: Rnn, size: 4)], output: (loss: CrossEntropy)),
    training: (updater: AdaGrad(lr: 0.3), batch_size: 5, sequence_length: 15,
               iterations: {iterations}, checkpoint_every: 10),
    evaluation: (every: 10),
    sweep: {sweep},
)"#
    );
    let p = dir.join("echo.ron");
    std::fs::write(&p, text).unwrap();
    p
}

/// `dir/k.ron`: a text experiment on a `bytes`-long corpus with half of it held out for
/// validation (about `bytes / 40` sequences of 20 characters), a 96-unit LSTM, 3
/// iterations and no validation during runs: an `eval` of it takes seconds while a run
/// of the same file trains (the session-kernel tests).
pub fn long_eval_experiment(dir: &std::path::Path, bytes: usize) -> std::path::PathBuf {
    let line = "the cat sat on the mat and the dog sat on the log. ";
    let text = line.repeat(bytes / line.len() + 1);
    std::fs::write(dir.join("corpus.txt"), &text[..bytes]).unwrap();
    let path = dir.join("k.ron");
    std::fs::write(
        &path,
        "(name: \"k\", data: Text(path: \"corpus.txt\", validation: 0.5), \
         model: (layers: [(kind: Lstm, size: 96)]), \
         training: (batch_size: 8, sequence_length: 20, iterations: 3), \
         evaluation: (every: None))",
    )
    .unwrap();
    path
}
