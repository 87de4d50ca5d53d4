//! Generating text from a character model by stateful single-example stepping.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::data::Vocabulary;
use crate::nn::network::Network;

/// How to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct SampleOptions {
    /// Characters to generate after the prime.
    pub length: usize,
    /// Text fed first (must use the model's vocabulary); empty = the first vocabulary
    /// character.
    pub prime: String,
    /// Softmax temperature (> 0): below 1 sharper, above 1 flatter; towards 0 it tends
    /// to greedy (see [`tempered_pick`]).
    pub temperature: f64,
    /// Most likely character instead of a draw.
    pub greedy: bool,
    pub seed: u64,
}

/// Returns the prime followed by `length` generated characters.
pub fn sample_text(
    net: &Network<f32>,
    vocab: &Vocabulary,
    opts: &SampleOptions,
) -> Result<String, String> {
    let v = vocab.len();
    if v == 0 {
        return Err("the model has an empty vocabulary".into());
    }
    if net.config().input_size != v || net.config().output.size != v {
        return Err(format!(
            "the model reads {} inputs and writes {} outputs, but the vocabulary has {v} characters",
            net.config().input_size,
            net.config().output.size
        ));
    }
    let prime: Vec<char> = if opts.prime.is_empty() {
        vec![vocab.chars()[0]]
    } else {
        opts.prime.chars().collect()
    };
    let mut ids = Vec::with_capacity(prime.len());
    for (i, c) in prime.iter().enumerate() {
        ids.push(vocab.id(*c).ok_or_else(|| {
            format!(
                "prime character {c:?} (position {}) is not in the model's vocabulary",
                i + 1
            )
        })?);
    }
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut buf = net.step_buffers();
    let mut x = vec![0.0f32; v];
    let mut out: String = prime.iter().collect();
    for &id in &ids {
        x.iter_mut().for_each(|e| *e = 0.0);
        x[id] = 1.0;
        net.step_one(&x, &mut buf);
    }
    let mut weights = vec![0.0f64; v];
    for _ in 0..opts.length {
        let next = if opts.greedy {
            buf.out
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i)
        } else {
            tempered_pick(
                &buf.out,
                opts.temperature,
                rng.random::<f64>(),
                &mut weights,
            )
        };
        out.push(vocab.chars()[next]);
        x.iter_mut().for_each(|e| *e = 0.0);
        x[next] = 1.0;
        net.step_one(&x, &mut buf);
    }
    Ok(out)
}

/// Draws an index from `probs` (the softmax of the logits `z`) tempered by `temperature`
/// `T > 0`, i.e. from `softmax(z / T)`, with `u` uniform in `[0, 1)`. Computed stably as
/// `w_i = exp((ln p_i - ln p_max) / T)`: the shift by the maximum makes the most likely
/// character's weight 1, so no temperature underflows every weight, and as `T -> 0`
/// every other weight goes to 0 (greedy, ties shared). A character with probability 0
/// has weight exactly 0 and is never drawn, at any temperature. `weights` is scratch of
/// `probs.len()`. Returns 0 for an empty or all-zero `probs`.
pub fn tempered_pick(probs: &[f32], temperature: f64, u: f64, weights: &mut [f64]) -> usize {
    assert_eq!(
        weights.len(),
        probs.len(),
        "scratch of the vocabulary's size"
    );
    let max = probs.iter().fold(0.0f32, |m, &p| m.max(p));
    if max <= 0.0 || max.is_nan() {
        return 0;
    }
    let ln_max = f64::from(max).ln();
    let inv_t = 1.0 / temperature;
    let mut total = 0.0;
    let mut last = 0;
    for (i, (w, &p)) in weights.iter_mut().zip(probs).enumerate() {
        *w = if p > 0.0 {
            ((f64::from(p).ln() - ln_max) * inv_t).exp()
        } else {
            0.0
        };
        if *w > 0.0 {
            last = i;
        }
        total += *w;
    }
    let mut r = u * total;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 && r < w {
            return i;
        }
        r -= w;
    }
    // rounding left `r` past the end: the last character with a positive weight
    last
}
