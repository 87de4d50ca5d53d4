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
    /// Softmax temperature (> 0): below 1 sharper, above 1 flatter.
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
    let inv_t = 1.0 / opts.temperature.max(1e-6);
    let mut weights = vec![0.0f64; v];
    for _ in 0..opts.length {
        let next = if opts.greedy {
            buf.out
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i)
        } else {
            // p^(1/T), renormalised: softmax of logits / T
            let mut total = 0.0;
            for (w, &p) in weights.iter_mut().zip(&buf.out) {
                *w = (p as f64).max(1e-30).powf(inv_t);
                total += *w;
            }
            let mut r = rng.random::<f64>() * total;
            let mut pick = v - 1;
            for (i, &w) in weights.iter().enumerate() {
                if r < w {
                    pick = i;
                    break;
                }
                r -= w;
            }
            pick
        };
        out.push(vocab.chars()[next]);
        x.iter_mut().for_each(|e| *e = 0.0);
        x[next] = 1.0;
        net.step_one(&x, &mut buf);
    }
    Ok(out)
}
