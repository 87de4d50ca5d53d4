//! Training with two threads, in its own test binary: the thread settings are global to
//! the process (OpenBLAS's and seqlab's own), so no other test runs beside it.

use std::path::Path;
use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use seqlab::experiment::file;

const EXPERIMENT: &str = r#"(
    name: "two_threads",
    data: Echo(length: 3000, echo: 3, validation_length: 600, seed: 3),
    model: (layers: [(kind: Lstm, size: 256)]),
    training: (updater: Adam(lr: 0.01), batch_size: 32, sequence_length: 20, threads: 2,
               iterations: 4, seed: 5, gradient_normalization: ClipGlobalL2(5.0)),
)"#;

/// The thread settings are global: the tests of this file take turns.
static SETTINGS: Mutex<()> = Mutex::new(());

/// Two BLAS threads on a model whose per-step products are split by seqlab's own helper
/// thread: training works and repeats bit for bit.
#[test]
fn two_thread_training_splits_products_and_is_deterministic() {
    let _one_at_a_time = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    let text = EXPERIMENT;
    let run = || {
        let e = file::from_ron_str(text, Path::new("two.ron")).unwrap();
        let mut t = seqlab::train::Trainer::new(e, &mut |_| {}).unwrap();
        assert!(
            seqlab::nn::pool::own_threads() >= 2,
            "the split mode is on for this model"
        );
        let scores: Vec<f64> = (0..4).map(|_| t.step().unwrap().score).collect();
        (scores, t.net.params().to_vec())
    };
    let (s1, p1) = run();
    let (s2, p2) = run();
    assert!(s1.iter().all(|s| s.is_finite()));
    assert_eq!(s1, s2);
    assert!(p1 == p2, "parameters differ between two identical runs");
}

/// A 2-layer plain LSTM (`f32`, the packed path) on a masked batch with a carried state:
/// the loss, every gradient, d input and d initial state with the batch split over two
/// threads are bit-identical to one thread, for odd and even batch sizes, dense and
/// one-hot inputs and a truncated backward window. (The window products here are below `PAR_FROM_MNK`, so the batch
/// split is the only thing the thread setting changes; split window products are
/// deterministic but OpenBLAS may round a block of rows differently from the whole.)
#[test]
fn batch_split_over_two_threads_gives_the_same_bits_as_one() {
    use ndarray::{Array2, Array3};
    use seqlab::nn::network::{BackpropOptions, Batch};
    use seqlab::nn::{Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig};
    let _one_at_a_time = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    let lstm = LayerKind::Lstm {
        peephole: false,
        gate_activation: Activation::Sigmoid,
        activation: Activation::Tanh,
        forget_bias: 1.0,
    };
    let h = 72;
    let config = NetworkConfig {
        input_size: 9,
        layers: vec![LayerConfig::new(lstm.clone(), h), LayerConfig::new(lstm, h)],
        output: seqlab::nn::OutputConfig::new(Loss::SoftmaxCrossEntropy, 5),
    };
    let cases = [
        (13usize, 11usize, 0usize, false),
        (16, 12, 4, true),
        (20, 9, 0, true),
    ];
    for &(b, t_len, from, one_hot) in &cases {
        assert!(t_len * b * 4 * h * h < seqlab::nn::pool::PAR_FROM_MNK);
        let mut rng = StdRng::seed_from_u64(b as u64);
        let x = if one_hot {
            // the sparse input paths: per-step input columns, split column sums
            Array3::from_shape_fn((t_len, b, 9), |(t, bi, c)| {
                f32::from(u8::from((t * 3 + bi) % 9 == c))
            })
        } else {
            Array3::from_shape_fn((t_len, b, 9), |_| rng.random_range(-1.0f32..1.0))
        };
        let y = Array3::from_shape_fn((t_len, b, 5), |(t, bi, c)| {
            f32::from(u8::from((t + bi) % 5 == c))
        });
        // example bi has its last bi % 4 steps masked
        let mask = Array2::from_shape_fn((t_len, b), |(t, bi)| {
            f32::from(u8::from(t + bi % 4 < t_len))
        });
        let run = |threads: usize| {
            // seqlab's own threads with OpenBLAS on one, or one thread in all
            let guard = seqlab::threads::ThreadGuard::set(1, threads);
            assert_eq!(
                seqlab::nn::pool::batch_split(b, 4 * h, h),
                threads >= 2,
                "the split is on with 2 threads only"
            );
            let mut net = Network::<f32>::new(config.clone(), 9).unwrap();
            let mut state = net.zero_state(b);
            for layer in state.iter_mut().flatten() {
                layer
                    .tensor_mut(0)
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, v)| *v = (i % 7) as f32 * 0.1);
            }
            let batch = Batch {
                features: x.view(),
                labels: y.view(),
                feature_mask: Some(mask.view()),
                label_mask: Some(mask.view()),
            };
            let opts = BackpropOptions {
                from,
                input_grad: true,
                train: true,
            };
            net.zero_grads();
            let bp = net.forward_backward(&batch, &mut state, &opts);
            if one_hot {
                let xs = x.as_slice().unwrap();
                assert!(
                    seqlab::nn::window::is_sparse(xs),
                    "one-hot input takes the sparse paths"
                );
            }
            drop(guard);
            let mut bits: Vec<u64> = net.grads().iter().map(|g| g.to_bits().into()).collect();
            bits.push(bp.loss.sum.to_bits());
            bits.extend(
                bp.input_grad
                    .unwrap()
                    .iter()
                    .map(|g| u64::from(g.to_bits())),
            );
            let states = bp.state_grad.iter().chain(state.iter()).flatten();
            for layer in states {
                for (_, t) in layer.iter() {
                    bits.extend(t.iter().map(|g| u64::from(g.to_bits())));
                }
            }
            bits
        };
        let one = run(1);
        for _ in 0..5 {
            assert!(run(2) == one, "B = {b}: 2 threads differ from 1");
        }
    }
}

/// `pool::halves` returns the two halves' results in order, whether they ran on two
/// threads or one after the other.
#[test]
fn halves_come_back_in_order_on_two_threads() {
    let _one_at_a_time = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    for threads in [1, 2] {
        let guard = seqlab::threads::ThreadGuard::set(1, threads);
        for n in [0usize, 1, 100, 1000, 70_000] {
            for _ in 0..20 {
                let got = seqlab::nn::pool::halves(n, 64, 128, &|r| (r.start, r.end));
                let mid = n / 2 / 64 * 64;
                assert_eq!(got, [(0, mid), (mid, n)], "n = {n}, {threads} threads");
            }
        }
        drop(guard);
    }
}

/// A network without a plain LSTM layer cannot split its minibatch: with two threads it
/// leaves them to OpenBLAS instead of running OpenBLAS single-threaded.
#[test]
fn two_threads_without_a_plain_lstm_go_to_openblas() {
    let _one_at_a_time = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    let text = EXPERIMENT.replace("kind: Lstm", "kind: Gru");
    let e = file::from_ron_str(&text, Path::new("gru.ron")).unwrap();
    let mut t = seqlab::train::Trainer::new(e, &mut |_| {}).unwrap();
    assert_eq!(seqlab::nn::pool::own_threads(), 1, "own threads stay off");
    assert_eq!(seqlab::blas::threads(), 2, "OpenBLAS has the two threads");
    assert!(t.step().unwrap().score.is_finite());
}

/// A run started through the runner (as the window starts one) records in `run.ron` and
/// in its `Started` event the threads it really uses, not the setting before it; when
/// the run ends, the previous setting is back.
#[test]
fn a_runner_started_run_records_its_real_threads_and_restores_the_setting() {
    use seqlab::experiment::rundir::{RunDir, RunRecord};
    use seqlab::train::runner::Event;
    let _one_at_a_time = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("seqlab-threads-record-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // the setting before the run: OpenBLAS on 2 threads, own threads off
    let before = seqlab::threads::ThreadGuard::set(2, 0);
    assert_eq!(seqlab::blas::threads(), 2);
    // a GRU run on one thread (it does not split its batch, so OpenBLAS gets the 1)
    let text = EXPERIMENT
        .replace("kind: Lstm", "kind: Gru")
        .replace("threads: 2", "threads: 1");
    let e = file::from_ron_str(&text, Path::new("one.ron")).unwrap();
    let runner = seqlab::train::Runner::spawn_experiment(
        e,
        Some((dir.clone(), RunRecord::default())),
        std::sync::Arc::new(|| {}),
    )
    .unwrap();
    let mut setup = None;
    loop {
        match runner
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("an event within two minutes")
        {
            Event::Started { setup: s, .. } => setup = Some(s),
            Event::Finished(summary) => {
                assert!(summary.error.is_none(), "{summary:?}");
                break;
            }
            _ => {}
        }
    }
    // the run's trainer is dropped with the thread's result
    drop(runner.join());
    let setup = setup.expect("a Started event");
    assert!(setup.ends_with(", 1 thread"), "Started says {setup:?}");
    let record = RunDir::read_record(&dir).unwrap();
    assert_eq!(record.blas, setup, "run.ron records the run's own setup");
    // the trainer is gone: the setting before the run is back
    assert_eq!(seqlab::blas::threads(), 2, "OpenBLAS's count restored");
    assert_eq!(seqlab::nn::pool::own_threads(), 1, "own threads still off");
    drop(before);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Dropping a trainer puts back the thread setting it replaced (the trainer's choice does
/// not outlive it).
#[test]
fn dropping_the_trainer_restores_the_thread_setting() {
    let _one_at_a_time = SETTINGS.lock().unwrap_or_else(|e| e.into_inner());
    let before = seqlab::threads::ThreadGuard::set(1, 0);
    let e = file::from_ron_str(EXPERIMENT, Path::new("two.ron")).unwrap();
    let t = seqlab::train::Trainer::new(e, &mut |_| {}).unwrap();
    assert_eq!(
        seqlab::nn::pool::own_threads(),
        2,
        "the run's own two threads"
    );
    assert_eq!(t.thread_setup().own_threads, 2);
    drop(t);
    assert_eq!(seqlab::nn::pool::own_threads(), 1, "own threads off again");
    assert_eq!(seqlab::blas::threads(), 1, "OpenBLAS back to one thread");
    drop(before);
}
