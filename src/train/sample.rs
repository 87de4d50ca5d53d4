//! Generating text from a character model by stateful single-example stepping.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::data::Vocabulary;
use crate::nn::network::{Network, StepBuffers};

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
    sample_text_until(net, vocab, opts, &|| false).map(|(text, _)| text)
}

/// [`sample_text`], asking `stop` before each generated character: when it answers
/// true, generation ends there. Returns the text and how many characters were
/// generated (fewer than `opts.length` when stopped).
pub fn sample_text_until(
    net: &Network<f32>,
    vocab: &Vocabulary,
    opts: &SampleOptions,
    stop: &dyn Fn() -> bool,
) -> Result<(String, usize), String> {
    let v = vocab.len();
    if v == 0 {
        return Err("the model has an empty vocabulary".into());
    }
    if let Some(why) = net.cannot_step() {
        return Err(format!("cannot sample: {why}"));
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
    let mut sampler = CharSampler::new(net, opts.seed);
    let mut out: String = prime.iter().collect();
    for &id in &ids {
        sampler.feed(id);
    }
    for made in 0..opts.length {
        if stop() {
            return Ok((out, made));
        }
        let next = sampler.pick(opts.temperature, opts.greedy);
        out.push(vocab.chars()[next]);
        sampler.feed(next);
    }
    Ok((out, opts.length))
}

/// Stateful single-example generation over a one-hot vocabulary, allocation-free per
/// character: the loop behind `seqlab sample` ([`sample_text`]) and `seqlab bench`'s
/// sampling figure, so the benchmark measures the code users run.
pub struct CharSampler<'a> {
    net: &'a Network<f32>,
    buf: StepBuffers<f32>,
    x: Vec<f32>,
    weights: Vec<f64>,
    rng: StdRng,
}

impl<'a> CharSampler<'a> {
    /// A zero state and a draw sequence fixed by `seed`, for a network whose input and
    /// output are the vocabulary (`V` wide).
    pub fn new(net: &'a Network<f32>, seed: u64) -> Self {
        CharSampler {
            buf: net.step_buffers(),
            x: vec![0.0; net.config().input_size],
            weights: vec![0.0; net.config().output.size],
            rng: StdRng::seed_from_u64(seed),
            net,
        }
    }

    /// Feeds character `id` (one-hot) for one step; its output distribution is then
    /// what [`Self::pick`] draws from. Panics if `id >= V`.
    pub fn feed(&mut self, id: usize) {
        self.x.iter_mut().for_each(|e| *e = 0.0);
        self.x[id] = 1.0;
        self.net.step_one(&self.x, &mut self.buf);
    }

    /// The next character after the last [`Self::feed`]: the most likely when `greedy`,
    /// else a draw from the softmax tempered by `temperature` ([`tempered_pick`]).
    pub fn pick(&mut self, temperature: f64, greedy: bool) -> usize {
        if greedy {
            self.buf
                .out
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i)
        } else {
            let u = self.rng.random::<f64>();
            tempered_pick(&self.buf.out, temperature, u, &mut self.weights)
        }
    }
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
