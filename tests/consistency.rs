//! Consistency of the numeric core: stepping equals the whole-sequence pass, a padded
//! and masked batch equals each example alone, and TBPTT with one segment equals full
//! BPTT.

mod common;

use common::assert_close;
use ndarray::{s, Array2, Array3, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use seqlab::nn::bptt::{fit_batch, FitConfig, FitScratch, Tbptt};
use seqlab::nn::network::{BackpropOptions, Batch};
use seqlab::nn::updater::{Updater, UpdaterConfig};
use seqlab::nn::{
    Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig, OutputMode,
};

fn stack() -> NetworkConfig {
    NetworkConfig {
        input_size: 3,
        layers: vec![
            LayerConfig::new(
                LayerKind::Lstm {
                    peephole: true,
                    gate_activation: Activation::Sigmoid,
                    activation: Activation::Tanh,
                    forget_bias: 1.0,
                },
                6,
            ),
            LayerConfig::new(LayerKind::Gru, 5),
            LayerConfig::new(
                LayerKind::Dense {
                    activation: Activation::Relu,
                },
                4,
            ),
            LayerConfig::new(
                LayerKind::Rnn {
                    activation: Activation::Tanh,
                },
                4,
            ),
        ],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 3),
    }
}

fn random(shape: (usize, usize, usize), seed: u64) -> Array3<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Array3::from_shape_fn(shape, |_| rng.random_range(-1.0..1.0))
}

#[test]
fn stepping_piece_by_piece_equals_the_whole_sequence() {
    let mut net = Network::<f64>::new(stack(), 3).unwrap();
    let x = random((9, 2, 3), 1);
    let (whole, stepped, single) = run_stepping(&mut net, &x);
    assert_close("stepped vs whole", &stepped, &whole, 1e-13);
    // the single-example GEMV path gives the same outputs
    for (t, out) in single.iter().enumerate() {
        assert_close("step_one", out, &example_1(&whole, t, out.len()), 1e-13);
    }
}

#[test]
fn state_can_be_read_cleared_and_restored() {
    let mut net = Network::<f64>::new(stack(), 3).unwrap();
    let x = random((6, 1, 3), 2);
    net.rnn_time_step(x.slice(s![..3, .., ..]), None);
    let saved = net.rnn_get_state().clone();
    let after = net.rnn_time_step(x.slice(s![3.., .., ..]), None);
    net.rnn_clear_previous_state();
    assert!(net.rnn_get_state().is_empty());
    net.rnn_set_state(saved);
    let again = net.rnn_time_step(x.slice(s![3.., .., ..]), None);
    assert_eq!(after, again);
}

/// Each example of a padded, masked batch gets exactly the loss, predictions and
/// gradients it gets alone, for padding at the end and at the start.
#[test]
fn padded_masked_batch_equals_each_example_alone() {
    for (pad_end, mode) in [
        (true, OutputMode::EveryStep),
        (false, OutputMode::EveryStep),
        (true, OutputMode::LastStep),
        (false, OutputMode::LastStep),
    ] {
        let mut config = stack();
        config.output.mode = mode;
        let mut net = Network::<f64>::new(config, 5).unwrap();
        let lens = [7usize, 4, 1];
        let t_max = 7;
        let seqs: Vec<Array3<f64>> = lens
            .iter()
            .enumerate()
            .map(|(k, &l)| random((l, 1, 3), 10 + k as u64))
            .collect();
        let labels_of = |l: usize, k: usize| {
            Array3::from_shape_fn((l, 1, 3), |(t, _, c)| f64::from(u8::from((t + k) % 3 == c)))
        };
        // padded batch
        let b = lens.len();
        let mut x = Array3::zeros((t_max, b, 3));
        let t_lab = if mode == OutputMode::LastStep {
            1
        } else {
            t_max
        };
        let mut y = Array3::zeros((t_lab, b, 3));
        let mut mask = Array2::zeros((t_max, b));
        for (k, &l) in lens.iter().enumerate() {
            let off = if pad_end { 0 } else { t_max - l };
            x.slice_mut(s![off..off + l, k..k + 1, ..]).assign(&seqs[k]);
            mask.slice_mut(s![off..off + l, k]).fill(1.0);
            match mode {
                OutputMode::EveryStep => y
                    .slice_mut(s![off..off + l, k..k + 1, ..])
                    .assign(&labels_of(l, k)),
                OutputMode::LastStep => y
                    .slice_mut(s![0..1, k..k + 1, ..])
                    .assign(&labels_of(l, k).slice(s![l - 1..l, .., ..])),
            }
        }
        let label_mask = (mode == OutputMode::EveryStep).then(|| mask.clone());
        let pred = net.output(x.view(), Some(mask.view()));
        let batch = Batch {
            features: x.view(),
            labels: y.view(),
            feature_mask: Some(mask.view()),
            label_mask: label_mask.as_ref().map(|m| m.view()),
        };
        net.zero_grads();
        let mut st = net.zero_state(b);
        let bp = net.forward_backward(&batch, &mut st, &BackpropOptions::default());
        // sum over examples of (loss sum, grads * count) must match
        let batch_grads: Vec<f64> = net.grads().iter().map(|g| g * bp.loss.count).collect();
        let mut sum_loss = 0.0;
        let mut sum_grads = vec![0.0; net.num_params()];
        for (k, &l) in lens.iter().enumerate() {
            let lab = match mode {
                OutputMode::EveryStep => labels_of(l, k),
                OutputMode::LastStep => labels_of(l, k).slice(s![l - 1..l, .., ..]).to_owned(),
            };
            let alone = net.output(seqs[k].view(), None);
            let off = if pad_end { 0 } else { t_max - l };
            match mode {
                OutputMode::EveryStep => assert_close(
                    "prediction",
                    &pred
                        .slice(s![off..off + l, k, ..])
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>(),
                    alone.as_slice().unwrap(),
                    1e-13,
                ),
                OutputMode::LastStep => assert_close(
                    "prediction",
                    &pred.slice(s![0, k, ..]).to_vec(),
                    alone.as_slice().unwrap(),
                    1e-13,
                ),
            };
            let one = Batch {
                features: seqs[k].view(),
                labels: lab.view(),
                feature_mask: None,
                label_mask: None,
            };
            net.zero_grads();
            let mut st = net.zero_state(1);
            let bpk = net.forward_backward(&one, &mut st, &BackpropOptions::default());
            sum_loss += bpk.loss.sum;
            for (s, g) in sum_grads.iter_mut().zip(net.grads()) {
                *s += g * bpk.loss.count;
            }
        }
        assert_close("loss", &[bp.loss.sum], &[sum_loss], 1e-12);
        assert_close("gradients", &batch_grads, &sum_grads, 1e-12);
    }
}

#[test]
fn tbptt_with_one_segment_equals_full_bptt() {
    let x = random((8, 3, 3), 4).mapv(|v| v as f32);
    let y = Array3::from_shape_fn((8, 3, 3), |(t, b, c)| f32::from(u8::from((t + b) % 3 == c)));
    let run = |tbptt: Option<Tbptt>| {
        let mut net = Network::<f32>::new(stack(), 9).unwrap();
        let mut upd = Updater::new(UpdaterConfig::adam(), net.num_params());
        let batch = Batch {
            features: x.view(),
            labels: y.view(),
            feature_mask: None,
            label_mask: None,
        };
        let mut scratch = FitScratch::default();
        let mut scores = Vec::new();
        for _ in 0..3 {
            let mut st = net.zero_state(3);
            let r = fit_batch(
                &mut net,
                &mut upd,
                &batch,
                &mut st,
                1e-2,
                &FitConfig {
                    tbptt,
                    ..Default::default()
                },
                &mut scratch,
            );
            scores.push(r.score);
            assert_eq!(r.updates, 1);
        }
        (net.params().to_vec(), scores)
    };
    let (full, s_full) = run(None);
    let (one, s_one) = run(Some(Tbptt {
        forward: 8,
        backward: 8,
    }));
    let (longer, _) = run(Some(Tbptt {
        forward: 20,
        backward: 20,
    }));
    assert_eq!(full, one);
    assert_eq!(
        full, longer,
        "a sequence shorter than the segment is one segment"
    );
    assert_eq!(s_full, s_one);
}

#[test]
fn tbptt_segments_update_after_each_segment_and_carry_state() {
    let x = random((10, 2, 3), 6);
    let y = Array3::from_shape_fn((10, 2, 3), |(t, b, c)| {
        f64::from(u8::from((t * 2 + b) % 3 == c))
    });
    let mut net = Network::<f64>::new(stack(), 1).unwrap();
    let mut upd = Updater::new(UpdaterConfig::sgd(), net.num_params());
    let batch = Batch {
        features: x.view(),
        labels: y.view(),
        feature_mask: None,
        label_mask: None,
    };
    let mut st = net.zero_state(2);
    let before = net.params().to_vec();
    let r = fit_batch(
        &mut net,
        &mut upd,
        &batch,
        &mut st,
        0.1,
        &FitConfig {
            tbptt: Some(Tbptt {
                forward: 4,
                backward: 2,
            }),
            ..Default::default()
        },
        &mut FitScratch::default(),
    );
    assert_eq!(r.updates, 3, "segments 4 + 4 + 2");
    assert_eq!(upd.t, 3);
    assert_eq!(r.loss.count, 20.0, "every step counts in the score");
    assert_ne!(before, net.params());

    // the same by hand: segment by segment with the carried state and manual SGD
    let mut net2 = Network::<f64>::new(stack(), 1).unwrap();
    let mut st2 = net2.zero_state(2);
    for (a, b) in [(0, 4), (4, 8), (8, 10)] {
        let seg = Batch {
            features: x.slice(s![a..b, .., ..]),
            labels: y.slice(s![a..b, .., ..]),
            feature_mask: None,
            label_mask: None,
        };
        net2.zero_grads();
        let len = b - a;
        net2.forward_backward(
            &seg,
            &mut st2,
            &BackpropOptions {
                from: len - 2.min(len),
                input_grad: false,
                train: true,
            },
        );
        let (p, g) = net2.params_and_grads();
        p.iter_mut().zip(g.iter()).for_each(|(p, g)| *p -= 0.1 * g);
    }
    assert_close("manual TBPTT", net2.params(), net.params(), 1e-12);
    assert_close(
        "carried state",
        st2[0]
            .as_ref()
            .unwrap()
            .get("h")
            .unwrap()
            .as_slice()
            .unwrap(),
        st[0]
            .as_ref()
            .unwrap()
            .get("h")
            .unwrap()
            .as_slice()
            .unwrap(),
        1e-12,
    );
}

#[test]
fn same_seed_gives_bit_identical_training() {
    let run = || {
        let mut config = stack();
        config.layers[0].dropout = 0.2;
        let mut net = Network::<f32>::new(config, 42).unwrap();
        let mut upd = Updater::new(UpdaterConfig::adam(), net.num_params());
        let x = random((6, 4, 3), 8).mapv(|v| v as f32);
        let y = Array3::from_shape_fn((6, 4, 3), |(t, b, c)| f32::from(u8::from((t + b) % 3 == c)));
        let batch = Batch {
            features: x.view(),
            labels: y.view(),
            feature_mask: None,
            label_mask: None,
        };
        let mut scratch = FitScratch::default();
        let mut st = net.zero_state(4);
        for _ in 0..5 {
            fit_batch(
                &mut net,
                &mut upd,
                &batch,
                &mut st,
                1e-2,
                &FitConfig::default(),
                &mut scratch,
            );
        }
        net.params().to_vec()
    };
    assert_eq!(run(), run());
}

#[test]
fn dropout_applies_only_while_training_and_is_seeded() {
    let mut with = stack();
    with.layers[1].dropout = 0.5;
    with.output.dropout = 0.3;
    let mut net = Network::<f64>::new(with, 3).unwrap();
    let mut plain = Network::<f64>::new(stack(), 3).unwrap();
    let x = random((6, 2, 3), 7);
    let y = Array3::from_shape_fn((6, 2, 3), |(t, b, c)| f64::from(u8::from((t + b) % 3 == c)));
    let batch = Batch {
        features: x.view(),
        labels: y.view(),
        feature_mask: None,
        label_mask: None,
    };
    // inference and evaluation never drop
    assert_eq!(net.output(x.view(), None), plain.output(x.view(), None));
    let eval = |n: &mut Network<f64>, train: bool, seed: u64| {
        n.set_dropout_seed(seed);
        n.zero_grads();
        let mut st = n.zero_state(2);
        let l = n
            .forward_backward(
                &batch,
                &mut st,
                &BackpropOptions {
                    from: 0,
                    input_grad: false,
                    train,
                },
            )
            .loss
            .sum;
        (l, n.grads().to_vec())
    };
    let (l_off, g_off) = eval(&mut net, false, 1);
    assert_eq!(
        (l_off, g_off.clone()),
        eval(&mut plain, true, 1),
        "train=false means no dropout"
    );
    let (l1, g1) = eval(&mut net, true, 1);
    assert_ne!(l1, l_off, "training drops units");
    assert_eq!(
        (l1, g1.clone()),
        eval(&mut net, true, 1),
        "same seed, same masks"
    );
    assert_ne!(g1, eval(&mut net, true, 2).1, "another seed, other masks");
}

/// A plain LSTM stack (sigmoid gates, tanh, no peepholes: the vectorised path).
fn plain_stack() -> NetworkConfig {
    NetworkConfig {
        input_size: 5,
        layers: vec![
            LayerConfig::new(LayerKind::lstm(), 8),
            LayerConfig::new(LayerKind::lstm(), 6),
        ],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 5),
    }
}

#[test]
fn stepping_a_plain_lstm_equals_the_whole_sequence() {
    // f64: the same arithmetic up to rounding; f32: the fast math of both paths
    for tol in [1e-13, 1e-5] {
        let x = random((9, 2, 5), 21);
        let (whole, stepped, single): (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) = if tol < 1e-9 {
            let mut net = Network::<f64>::new(plain_stack(), 4).unwrap();
            run_stepping(&mut net, &x)
        } else {
            let mut net = Network::<f32>::new(plain_stack(), 4).unwrap();
            let x32 = x.mapv(|v| v as f32);
            let (w, s, o) = run_stepping(&mut net, &x32);
            (w, s, o)
        };
        assert_close("plain stepped vs whole", &stepped, &whole, tol);
        for (t, out) in single.iter().enumerate() {
            assert_close(
                &format!("plain step_one at {t}"),
                out,
                &example_1(&whole, t, 5),
                tol,
            );
        }
    }
}

/// Step `t` of example 1 of a flattened `(T, 2, outputs)` array.
fn example_1(flat: &[f64], t: usize, outputs: usize) -> Vec<f64> {
    flat[(t * 2 + 1) * outputs..(t * 2 + 2) * outputs].to_vec()
}

/// Whole-sequence outputs, the outputs stepped in pieces with `rnn_time_step`, and the
/// single-example `step_one` outputs of example 1, all widened to `f64`.
fn run_stepping<F: seqlab::nn::Float>(
    net: &mut Network<F>,
    x: &Array3<F>,
) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
    let whole = net.output(x.view(), None);
    net.rnn_clear_previous_state();
    let mut pieces = Vec::new();
    for (a, b) in [(0, 1), (1, 4), (4, 5), (5, 9)] {
        pieces.push(net.rnn_time_step(x.slice(s![a..b, .., ..]), None));
    }
    let views: Vec<_> = pieces.iter().map(|p| p.view()).collect();
    let stepped = ndarray::concatenate(Axis(0), &views).unwrap();
    let mut buf = net.step_buffers();
    let mut single = Vec::new();
    for t in 0..x.dim().0 {
        let xt: Vec<F> = x.slice(s![t, 1, ..]).to_vec();
        net.step_one(&xt, &mut buf);
        single.push(buf.out.iter().map(|v| v.f64()).collect());
    }
    let wide = |a: &Array3<F>| a.iter().map(|v| v.f64()).collect::<Vec<f64>>();
    (wide(&whole), wide(&stepped), single)
}

/// The general cell (any activations, peepholes; one step over the whole batch) and the
/// vectorised path by example rows give the same outputs, final state, gradients and
/// input and state gradients on the same plain LSTM: with and without a mask, with a
/// dense and a one-hot input, over the whole window and a truncated one.
#[test]
fn lstm_general_and_fast_paths_agree() {
    agree_general_fast::<f64>(1e-12);
    agree_general_fast::<f32>(2e-5);
}

fn agree_general_fast<F: seqlab::nn::Float>(tol: f64) {
    use seqlab::nn::layer::{Gradients, Window};
    use seqlab::nn::lstm::Lstm;
    use seqlab::nn::{Layer, LayerState};
    let (t_len, b, i, h) = (7, 6, 9, 12);
    let mut rng = StdRng::seed_from_u64(7);
    let n = Lstm::<F>::param_len(i, h, false, true);
    let p: Vec<F> = (0..n).map(|_| F::c(rng.random_range(-0.5..0.5))).collect();
    let dense = Array3::from_shape_fn((t_len, b, i), |_| F::c(rng.random_range(-1.0..1.0)));
    let one_hot = Array3::from_shape_fn((t_len, b, i), |(t, bi, j)| {
        if (t * 3 + bi * 5) % i == j {
            F::one()
        } else {
            F::zero()
        }
    });
    let mask = Array2::from_shape_fn((t_len, b), |(t, bi)| {
        if t + bi >= t_len {
            F::zero()
        } else {
            F::one()
        }
    });
    let dout = Array3::from_shape_fn((t_len, b, h), |_| F::c(rng.random_range(-1.0..1.0)));
    let h0 = Array2::from_shape_fn((b, h), |_| F::c(rng.random_range(-0.5..0.5)));
    let c0 = Array2::from_shape_fn((b, h), |_| F::c(rng.random_range(-0.5..0.5)));
    let dh = Array2::from_shape_fn((b, h), |_| F::c(rng.random_range(-0.5..0.5)));
    let dc = Array2::from_shape_fn((b, h), |_| F::c(rng.random_range(-0.5..0.5)));
    let wide = |xs: &[F]| xs.iter().map(|v| v.f64()).collect::<Vec<f64>>();
    for (input, name) in [(&dense, "dense"), (&one_hot, "one-hot")] {
        for masked in [false, true] {
            for from in [0, 3] {
                let what = format!("{name} input, masked {masked}, from {from}");
                let m = masked.then(|| mask.view());
                let mut results = Vec::new();
                for general in [false, true] {
                    let mut layer =
                        Lstm::<F>::new(i, h, false, Activation::Sigmoid, Activation::Tanh, true);
                    if general {
                        layer = layer.with_general_path();
                    }
                    let mut state =
                        LayerState::from_tensors(vec![("h", h0.clone()), ("c", c0.clone())])
                            .unwrap();
                    let mut out = Array3::zeros((t_len, b, h));
                    layer.forward(&p, input.view(), m, Some(&mut state), &mut out);
                    let mut g = vec![F::zero(); n];
                    let mut dx = Array3::zeros((t_len, b, i));
                    let mut dstate =
                        LayerState::from_tensors(vec![("h", dh.clone()), ("c", dc.clone())])
                            .unwrap();
                    let window = Window {
                        x: input.view(),
                        mask: m,
                        out: out.view(),
                        dout: dout.view(),
                        from,
                    };
                    let grads = Gradients {
                        g: &mut g,
                        dx: Some(dx.view_mut()),
                        dstate: Some(&mut dstate),
                    };
                    layer.backward(&p, window, grads);
                    results.push([
                        wide(out.as_slice().unwrap()),
                        wide(state.tensor(0).as_slice().unwrap()),
                        wide(state.tensor(1).as_slice().unwrap()),
                        wide(&g),
                        wide(dx.as_slice().unwrap()),
                        wide(dstate.tensor(0).as_slice().unwrap()),
                        wide(dstate.tensor(1).as_slice().unwrap()),
                    ]);
                }
                let names = ["output", "h_n", "c_n", "gradients", "dx", "dh0", "dc0"];
                for (k, part) in names.iter().enumerate() {
                    assert_close(
                        &format!("{what}: {part}"),
                        &results[0][k],
                        &results[1][k],
                        tol,
                    );
                }
            }
        }
    }
}
