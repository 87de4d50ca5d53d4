//! End to end: a one-layer LSTM learns to reproduce a fixed sentence from its first
//! character (next-character prediction, greedy decoding through stateful stepping).

use ndarray::Array3;
use seqlab::nn::bptt::{fit_batch, FitConfig, FitScratch};
use seqlab::nn::network::Batch;
use seqlab::nn::normalize::GradientNormalization;
use seqlab::nn::updater::{Updater, UpdaterConfig};
use seqlab::nn::{LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};

const SENTENCE: &str = "*A computer will do what you tell it to do, but that may be much different from what you had in mind.";

#[test]
fn lstm_learns_to_reproduce_a_sentence() {
    let mut vocab: Vec<char> = SENTENCE.chars().collect();
    vocab.sort();
    vocab.dedup();
    let v = vocab.len();
    let idx: Vec<usize> = SENTENCE
        .chars()
        .map(|c| vocab.binary_search(&c).unwrap())
        .collect();
    let t_len = idx.len() - 1;
    let x = Array3::from_shape_fn((t_len, 1, v), |(t, _, c)| f32::from(u8::from(idx[t] == c)));
    let y = Array3::from_shape_fn((t_len, 1, v), |(t, _, c)| {
        f32::from(u8::from(idx[t + 1] == c))
    });
    let config = NetworkConfig {
        input_size: v,
        layers: vec![LayerConfig::new(LayerKind::lstm(), 64)],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, v),
    };
    let mut net = Network::<f32>::new(config, 12345).unwrap();
    let mut upd = Updater::new(
        UpdaterConfig::Adam {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        net.num_params(),
    );
    let batch = Batch {
        features: x.view(),
        labels: y.view(),
        feature_mask: None,
        label_mask: None,
    };
    let fit = FitConfig {
        tbptt: None,
        normalization: GradientNormalization::ClipGlobalL2 { max_norm: 5.0 },
    };
    let mut scratch = FitScratch::default();
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..300 {
        let mut st = net.zero_state(1);
        let r = fit_batch(
            &mut net,
            &mut upd,
            &batch,
            &mut st,
            1e-2,
            &fit,
            &mut scratch,
        );
        first.get_or_insert(r.score);
        last = r.score;
    }
    assert!(last < 0.05, "score went from {first:?} to {last}");

    // greedy decoding from the start marker
    let mut buf = net.step_buffers();
    let mut out = String::from("*");
    let mut cur = idx[0];
    for _ in 0..t_len {
        let xt: Vec<f32> = (0..v).map(|c| f32::from(u8::from(c == cur))).collect();
        net.step_one(&xt, &mut buf);
        cur = buf
            .out
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        out.push(vocab[cur]);
    }
    assert_eq!(out, SENTENCE);
}
