//! The four reference workloads (character LSTMs, one-hot
//! input, softmax cross-entropy, Adam, global-norm clipping) and the measurements
//! `seqlab bench` reports: training tokens/s, GFLOP/s, fraction of the measured sgemm
//! rate, sampling chars/s and peak resident memory.
//!
//! The definitions mirror the PyTorch script `bench/torch_lstm.py` (shipped in this
//! repository) so that the figures compare one to one:
//! random token ids `(T+1, B)`, input = one-hot of `ids[..T]`, labels = one-hot of
//! `ids[1..]`, mean cross-entropy over all `T*B` positions, `clip_grad_norm_(5.0)`,
//! `Adam(lr=2e-3)`, 3 warm-up iterations, then timed iterations; sampling is stateful
//! single-example stepping from character 0 with a multinomial draw from the softmax.
//!
//! This module holds no CLI or output formatting (that is `cli::bench`).

use std::time::Instant;

use ndarray::Array3;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::nn::bptt::{fit_batch_into, FitConfig, FitReport, FitScratch};
use crate::nn::init::WeightInit;
use crate::nn::network::{Batch, NetState};
use crate::nn::normalize::GradientNormalization;
use crate::nn::updater::{Updater, UpdaterConfig};
use crate::nn::{Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};
use crate::train::sample::CharSampler;

/// One reference workload: a character LSTM and its minibatch shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Workload {
    pub name: &'static str,
    /// Input and output width (one-hot characters).
    pub vocab: usize,
    /// Stacked LSTM layers.
    pub layers: usize,
    /// Hidden units per layer.
    pub hidden: usize,
    /// Time steps per minibatch (T).
    pub seq: usize,
    /// Sequences per minibatch (B).
    pub batch: usize,
}

/// The four workloads, in the order of `bench/torch_lstm.py` and docs/performance.md:
/// tiny is overhead-bound (one example per minibatch), large GEMM-bound.
pub const WORKLOADS: [Workload; 4] = [
    Workload {
        name: "tiny",
        vocab: 23,
        layers: 3,
        hidden: 100,
        seq: 101,
        batch: 1,
    },
    Workload {
        name: "small",
        vocab: 65,
        layers: 2,
        hidden: 128,
        seq: 64,
        batch: 32,
    },
    Workload {
        name: "medium",
        vocab: 65,
        layers: 2,
        hidden: 256,
        seq: 100,
        batch: 32,
    },
    Workload {
        name: "large",
        vocab: 65,
        layers: 1,
        hidden: 512,
        seq: 100,
        batch: 64,
    },
];

/// The reference workload called `name`.
pub fn workload(name: &str) -> Option<Workload> {
    WORKLOADS.iter().copied().find(|w| w.name == name)
}

/// Adam's learning rate in the reference script.
pub const LEARNING_RATE: f64 = 2e-3;
/// `clip_grad_norm_` threshold in the reference script.
pub const CLIP_NORM: f64 = 5.0;
/// Untimed iterations before the timed ones (as the reference script).
pub const WARMUP_ITERS: usize = 3;

impl Workload {
    /// A network like `torch.nn.LSTM(vocab, hidden, layers)` + `Linear(hidden, vocab)`:
    /// PyTorch's initialisation and a zero forget-gate bias.
    pub fn network_config(&self) -> NetworkConfig {
        let lstm = LayerKind::Lstm {
            peephole: false,
            gate_activation: Activation::Sigmoid,
            activation: Activation::Tanh,
            forget_bias: 0.0,
        };
        let mut layer = LayerConfig::new(lstm, self.hidden);
        layer.weight_init = WeightInit::PyTorch;
        layer.recurrent_init = WeightInit::PyTorch;
        let mut output = OutputConfig::new(Loss::SoftmaxCrossEntropy, self.vocab);
        output.weight_init = WeightInit::PyTorch;
        NetworkConfig {
            input_size: self.vocab,
            layers: vec![layer; self.layers],
            output,
        }
    }

    /// Floating-point operations per training token, counted from the matrix products
    /// (2 per multiply-add) of the forward and backward passes as dense products (the
    /// one-hot input counted as a dense matrix):
    ///
    /// ```text
    /// per LSTM layer k (input width I_k = V for k = 0, else H):
    ///   forward   2 * 4H * (I_k + H)       x W_ih^T and h W_hh^T
    ///   backward  2 * 4H * (I_k + H)       gradients of W_ih and W_hh
    ///           + 2 * 4H * H               d h_{t-1} = dz W_hh
    ///           + 2 * 4H * I_k  (k > 0)    d x = dz W_ih (not needed below layer 0)
    /// output:     3 * 2 * V * H            forward, weight gradient, d h
    /// ```
    /// Elementwise work (gates, softmax, Adam) is not counted. The layers do not execute
    /// layer 0's two input products as matrix products: with a sparse input
    /// (`nn::window::is_sparse`) they add one weight column per token instead. Those
    /// `2 * 2 * 4H * V` FLOPs per token (see [`Self::one_hot_flops_per_token`]) are
    /// therefore dense-equivalent, not executed.
    pub fn flops_per_token(&self) -> f64 {
        let (v, h) = (self.vocab as f64, self.hidden as f64);
        let mut f = 0.0;
        for k in 0..self.layers {
            let i = if k == 0 { v } else { h };
            f += 2.0 * 4.0 * h * (i + h); // forward
            f += 2.0 * 4.0 * h * (i + h); // weight gradients
            f += 2.0 * 4.0 * h * h; // d h_{t-1}
            if k > 0 {
                f += 2.0 * 4.0 * h * i; // d x
            }
        }
        f + 3.0 * 2.0 * v * h
    }

    /// The part of [`Self::flops_per_token`] that the sparse one-hot input skips: layer
    /// 0's `x W_ih^T` and `W_ih` gradient, `2 * 2 * 4H * V`.
    pub fn one_hot_flops_per_token(&self) -> f64 {
        2.0 * 2.0 * 4.0 * self.hidden as f64 * self.vocab as f64
    }

    /// Tokens in one minibatch (`T * B`).
    pub fn tokens_per_iter(&self) -> usize {
        self.seq * self.batch
    }
}

/// One training setup of a workload: network, Adam, the fixed minibatch and every
/// buffer an iteration needs, so that [`Self::step`] allocates nothing after the first.
pub struct TrainBench {
    pub workload: Workload,
    pub net: Network<f32>,
    updater: Updater<f32>,
    features: Array3<f32>, // (T, B, V) one-hot ids[t]
    labels: Array3<f32>,   // (T, B, V) one-hot ids[t + 1]
    state: NetState<f32>,
    fit: FitConfig,
    scratch: FitScratch,
    report: FitReport,
}

impl TrainBench {
    /// Builds the network (weights from `seed`) and a random minibatch.
    pub fn new(workload: Workload, seed: u64) -> Self {
        let net = Network::<f32>::new(workload.network_config(), seed)
            .expect("reference workloads are valid networks");
        let updater = Updater::new(
            UpdaterConfig::Adam {
                lr: LEARNING_RATE,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            net.num_params(),
        );
        let (t_len, b, v) = (workload.seq, workload.batch, workload.vocab);
        let mut rng = StdRng::seed_from_u64(seed ^ 0xbe4c);
        let ids: Vec<usize> = (0..(t_len + 1) * b)
            .map(|_| rng.random_range(0..v))
            .collect();
        let one_hot = |offset: usize| {
            Array3::from_shape_fn((t_len, b, v), |(t, bi, c)| {
                f32::from(u8::from(ids[(t + offset) * b + bi] == c))
            })
        };
        let state = net.zero_state(b);
        TrainBench {
            workload,
            updater,
            features: one_hot(0),
            labels: one_hot(1),
            state,
            fit: FitConfig {
                tbptt: None,
                normalization: GradientNormalization::ClipGlobalL2 {
                    max_norm: CLIP_NORM,
                },
            },
            scratch: FitScratch::default(),
            report: FitReport::default(),
            net,
        }
    }

    /// One training iteration from a zero state (as the reference script); returns the
    /// mean loss.
    pub fn step(&mut self) -> f64 {
        self.state.iter_mut().flatten().for_each(|s| s.fill_zero());
        let batch = Batch {
            features: self.features.view(),
            labels: self.labels.view(),
            feature_mask: None,
            label_mask: None,
        };
        fit_batch_into(
            &mut self.net,
            &mut self.updater,
            &batch,
            &mut self.state,
            LEARNING_RATE,
            &self.fit,
            &mut self.scratch,
            &mut self.report,
        );
        self.report.score
    }

    /// Runs [`WARMUP_ITERS`] untimed and `iters` timed iterations; training tokens/s.
    pub fn tokens_per_second(&mut self, iters: usize) -> f64 {
        for _ in 0..WARMUP_ITERS {
            self.step();
        }
        let start = Instant::now();
        for _ in 0..iters {
            self.step();
        }
        let secs = start.elapsed().as_secs_f64();
        (iters * self.workload.tokens_per_iter()) as f64 / secs
    }
}

/// Stateful single-example sampling, `seqlab sample`'s own loop
/// ([`crate::train::sample::CharSampler`] at temperature 1): feeds the last drawn
/// character (one-hot) and draws the next from the softmax. Allocation-free per
/// character.
pub struct Sampler<'a> {
    inner: CharSampler<'a>,
    current: usize,
}

impl<'a> Sampler<'a> {
    /// Starts from character 0 and a zero state.
    pub fn new(net: &'a Network<f32>, seed: u64) -> Self {
        Sampler {
            inner: CharSampler::new(net, seed),
            current: 0,
        }
    }

    /// Feeds the current character, draws and returns the next one.
    pub fn next_char(&mut self) -> usize {
        self.inner.feed(self.current);
        self.current = self.inner.pick(1.0, false);
        self.current
    }

    /// Draws `samples` characters (after 10 untimed ones); chars/s.
    pub fn chars_per_second(&mut self, samples: usize) -> f64 {
        for _ in 0..10 {
            self.next_char();
        }
        let start = Instant::now();
        let mut sink = 0;
        for _ in 0..samples {
            sink ^= self.next_char();
        }
        std::hint::black_box(sink);
        samples as f64 / start.elapsed().as_secs_f64()
    }
}

/// How to run one workload.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BenchOptions {
    /// Timed training iterations (after [`WARMUP_ITERS`]).
    pub iters: usize,
    /// Sampled characters.
    pub samples: usize,
    /// OpenBLAS threads for this workload.
    pub threads: usize,
    /// Weights and data seed.
    pub seed: u64,
}

impl Default for BenchOptions {
    /// The reference script's defaults: 30 iterations, 2000 characters.
    fn default() -> Self {
        BenchOptions {
            iters: 30,
            samples: 2000,
            threads: 1,
            seed: 0,
        }
    }
}

/// The figures of one workload. The first four fields carry the reference script's
/// JSON keys.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchResult {
    pub config: String,
    pub threads: usize,
    pub train_tokens_per_s: f64,
    pub sample_chars_per_s: f64,
    /// `train_tokens_per_s * flops_per_token / 1e9`.
    pub gflops: f64,
    pub flops_per_token: f64,
    /// Measured sgemm rate with the same thread count.
    pub sgemm_peak_gflops: f64,
    /// `gflops / sgemm_peak_gflops`.
    pub peak_fraction: f64,
    pub blas_kernel: String,
    /// Peak resident set size of the process so far (VmHWM), if known.
    pub peak_rss_bytes: Option<u64>,
    /// Mean loss of the last training iteration (a sanity check).
    pub final_loss: f64,
}

/// Trains and samples `workload` with `opts`; `sgemm_peak_gflops` is the machine's rate
/// for `opts.threads` threads (see [`crate::blas::measure_sgemm_gflops`]).
pub fn run_workload(
    workload: Workload,
    opts: &BenchOptions,
    sgemm_peak_gflops: f64,
) -> BenchResult {
    // the trainer's thread setup: with two threads and a batch that splits, seqlab's own
    // two threads and OpenBLAS on one
    let threads =
        crate::threads::ThreadGuard::training(opts.threads, workload.batch, workload.hidden);
    let mut train = TrainBench::new(workload, opts.seed);
    let tps = train.tokens_per_second(opts.iters);
    let final_loss = train.report.score;
    let cps = Sampler::new(&train.net, opts.seed ^ 0x5a3b).chars_per_second(opts.samples);
    drop(threads);
    let flops = workload.flops_per_token();
    let gflops = tps * flops / 1e9;
    BenchResult {
        config: workload.name.to_string(),
        threads: opts.threads,
        train_tokens_per_s: tps,
        sample_chars_per_s: cps,
        gflops,
        flops_per_token: flops,
        sgemm_peak_gflops,
        peak_fraction: if sgemm_peak_gflops > 0.0 {
            gflops / sgemm_peak_gflops
        } else {
            0.0
        },
        blas_kernel: crate::blas::kernel_name(),
        peak_rss_bytes: peak_rss_bytes(),
        final_loss,
    }
}

/// The default thread count for a workload: the trainer's policy
/// ([`crate::threads::training_threads`]).
pub fn default_threads(workload: &Workload) -> usize {
    crate::threads::training_threads(workload.batch, workload.hidden)
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), Linux only.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}
