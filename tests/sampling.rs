//! Sampling at any temperature: a numerically stable tempered distribution that tends
//! to greedy as the temperature goes to 0 and never draws a zero-probability character.

use seqlab::data::Vocabulary;
use seqlab::nn::{Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};
use seqlab::train::sample::{sample_text, tempered_pick, SampleOptions};

/// A character RNN over `abcdef` whose logits are large (about 1000, from the output
/// bias) and differ by a few units, so no character is near certain: `p^(1/T)` of every
/// character underflows to 0 at low temperatures.
fn large_logit_model() -> (Network<f32>, Vocabulary) {
    let vocab = Vocabulary::from_text("abcdef");
    let v = vocab.len();
    let config = NetworkConfig {
        input_size: v,
        layers: vec![LayerConfig::new(
            LayerKind::Rnn {
                activation: Activation::Tanh,
            },
            16,
        )],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, v),
    };
    let mut net = Network::<f32>::new(config, 11).unwrap();
    let out = net.specs().last().unwrap().range();
    let w = net.specs()[net.specs().len() - 2].range();
    for p in &mut net.params_mut()[w] {
        *p *= 1.5;
    }
    net.params_mut()[out].iter_mut().for_each(|p| *p = 1000.0);
    (net, vocab)
}

fn options(temperature: f64, greedy: bool, seed: u64) -> SampleOptions {
    SampleOptions {
        length: 60,
        prime: "a".into(),
        temperature,
        greedy,
        seed,
    }
}

#[test]
fn low_temperature_sampling_equals_greedy_on_a_model_with_large_logits() {
    let (net, vocab) = large_logit_model();
    let greedy = sample_text(&net, &vocab, &options(1.0, true, 0)).unwrap();
    // the model is not degenerate: greedy text uses more than one character
    let distinct: std::collections::BTreeSet<char> = greedy.chars().skip(1).collect();
    assert!(distinct.len() >= 2, "greedy text {greedy:?}");
    // the most likely character's probability stays well below 1 at every step
    let mut buf = net.step_buffers();
    let mut x = vec![0.0f32; vocab.len()];
    for c in greedy.chars() {
        x.iter_mut().for_each(|v| *v = 0.0);
        x[vocab.id(c).unwrap()] = 1.0;
        net.step_one(&x, &mut buf);
        let p_max = buf.out.iter().cloned().fold(0.0f32, f32::max);
        assert!(p_max < 0.9, "p_max {p_max}");
    }
    // 0.9^(1/T) underflows to 0 for these temperatures, so every p^(1/T) did
    for t in [1e-4, 1e-5, 1e-6] {
        assert_eq!(0.9f64.powf(1.0 / t), 0.0);
        for seed in 0..5 {
            let got = sample_text(&net, &vocab, &options(t, false, seed)).unwrap();
            assert_eq!(got, greedy, "temperature {t}, seed {seed}");
        }
    }
}

#[test]
fn no_temperature_draws_a_zero_probability_character() {
    let cases: [&[f32]; 3] = [
        &[0.0, 0.5, 0.0, 0.5, 0.0],
        &[0.0, 1.0, 0.0, 0.0, 0.0],
        &[1e-45, 0.0, 0.3, 0.0, 0.7 - 1e-45],
    ];
    for probs in cases {
        let mut w = vec![0.0; probs.len()];
        for t in [1e-300, 1e-9, 0.002, 0.5, 1.0, 10.0, 1e9, 1e300] {
            for k in 0..=1000 {
                let u = (k as f64 / 1000.0).min(1.0 - f64::EPSILON);
                let i = tempered_pick(probs, t, u, &mut w);
                assert!(probs[i] > 0.0, "T {t}, u {u}: picked {i} of {probs:?}");
            }
        }
    }
}

#[test]
fn tempered_draws_tend_to_greedy_as_temperature_goes_to_zero() {
    let probs = [0.2f32, 0.45, 0.35];
    let mut w = vec![0.0; 3];
    let grid = |t: f64, w: &mut Vec<f64>| {
        let mut counts = [0usize; 3];
        for k in 0..10_000 {
            counts[tempered_pick(&probs, t, (k as f64 + 0.5) / 10_000.0, w)] += 1;
        }
        counts
    };
    // T = 1: the model's own distribution
    let c = grid(1.0, &mut w);
    for (i, &p) in probs.iter().enumerate() {
        assert!((c[i] as f64 / 1e4 - p as f64).abs() < 2e-4, "{c:?}");
    }
    // T = 0.5: p^2 renormalised
    let c = grid(0.5, &mut w);
    let z: f64 = probs.iter().map(|&p| (p as f64).powi(2)).sum();
    for (i, &p) in probs.iter().enumerate() {
        assert!(
            (c[i] as f64 / 1e4 - (p as f64).powi(2) / z).abs() < 2e-4,
            "{c:?}"
        );
    }
    // the share of the most likely character grows to 1 as T shrinks
    let mut last = 0;
    for t in [0.3, 0.1, 0.03, 0.01] {
        let c = grid(t, &mut w);
        assert!(c[1] >= last, "T {t}: {c:?}");
        last = c[1];
    }
    assert_eq!(last, 10_000);
    // the failure: at T = 0.001 every p^(1/T) of this distribution underflows
    // to 0 (so a draw over those weights fell back to the last character)
    let probs = [0.2f32, 0.25, 0.3, 0.25];
    assert_eq!(0.3f64.powf(1.0 / 0.001), 0.0);
    let mut w = vec![0.0; 4];
    for k in 0..1000 {
        let u = (k as f64 + 0.5) / 1000.0;
        assert_eq!(tempered_pick(&probs, 0.001, u, &mut w), 2);
    }
}

#[test]
fn sampling_asked_to_stop_ends_with_the_text_it_has() {
    use seqlab::train::sample::sample_text_until;
    let (net, vocab) = large_logit_model();
    let opts = options(1.0, true, 0);
    let whole = sample_text(&net, &vocab, &opts).unwrap();
    let asked = std::cell::Cell::new(0);
    let stop = || {
        asked.set(asked.get() + 1);
        asked.get() > 5
    };
    let (text, made) = sample_text_until(&net, &vocab, &opts, &stop).unwrap();
    assert_eq!(made, 5, "stopped before the 6th character");
    assert!(made < opts.length);
    // the same characters as the whole run, cut short
    assert!(
        whole.starts_with(&text),
        "{text:?} is a prefix of {whole:?}"
    );
    assert_eq!(
        text.chars().count(),
        whole.chars().count() - (opts.length - made)
    );
}
