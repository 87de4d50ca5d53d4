//! The experiment file's schema (RON through serde). Every struct has documented
//! defaults, so a minimal file is short; unknown fields are errors.
//!
//! Later additions (the notebook's notes, console transcript, run history) become new
//! top-level fields with defaults, so older files keep loading; a change that alters the
//! meaning of an existing field raises [`FORMAT_VERSION`] and gets a migration in
//! [`super::file`].

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::notebook::Notebook;
use crate::data::CsvDataConfig;
use crate::nn::updater::UpdaterConfig;

/// The format version this build writes.
pub const FORMAT_VERSION: u32 = 2;

/// One experiment: data, model, training, evaluation and sampling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Experiment {
    /// File format version (default: this build's).
    pub version: u32,
    pub name: String,
    /// Free text / Markdown.
    pub notes: String,
    pub data: DataSpec,
    pub model: ModelSpec,
    pub training: TrainingSpec,
    pub evaluation: EvaluationSpec,
    pub sampling: SamplingSpec,
    /// Initial weights (safetensors with PyTorch names), relative to the file.
    pub initial_weights: Option<PathBuf>,
    /// A sweep over settings of this experiment (`seqlab sweep`); see
    /// [`super::sweep`]. Not written when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sweep: Option<super::sweep_spec::SweepSpec>,
    /// What a session added: transcript, history, named states, runs (format version
    /// 2). Not a setting: run records, field paths and comparisons leave it out, and a
    /// file that was never used as a notebook does not write it.
    #[serde(skip_serializing_if = "Notebook::is_empty")]
    pub notebook: Notebook,
}

impl Experiment {
    /// The settings alone: a copy with an empty notebook, made without copying the
    /// notebook (its cells and curves can be large).
    pub fn settings(&self) -> Experiment {
        let Experiment {
            version,
            name,
            notes,
            data,
            model,
            training,
            evaluation,
            sampling,
            initial_weights,
            sweep,
            notebook: _,
        } = self;
        Experiment {
            version: *version,
            name: name.clone(),
            notes: notes.clone(),
            data: data.clone(),
            model: model.clone(),
            training: training.clone(),
            evaluation: evaluation.clone(),
            sampling: sampling.clone(),
            initial_weights: initial_weights.clone(),
            sweep: sweep.clone(),
            notebook: Default::default(),
        }
    }
}

/// A new experiment: one LSTM of 100 learning the default sentence by heart, as one
/// stream of 100-step minibatches (a sentence is too short to cut into 32 parallel
/// streams of 3 characters), for 300 iterations with Adam at 5e-3, validating every 50
/// iterations and sampling every 100. It reproduces the sentence in well under a
/// minute. A file that leaves out `training`, `evaluation` or `sampling` gets these;
/// one that gives them gets each struct's own defaults for the fields it leaves out.
impl Default for Experiment {
    fn default() -> Self {
        Experiment {
            version: FORMAT_VERSION,
            name: "untitled".into(),
            notes: String::new(),
            data: DataSpec::default(),
            model: ModelSpec::default(),
            training: TrainingSpec {
                updater: UpdaterSpec::Adam(AdamSpec {
                    lr: 5e-3,
                    ..AdamSpec::default()
                }),
                batch_size: 1,
                sequence_length: 100,
                iterations: Some(300),
                ..TrainingSpec::default()
            },
            evaluation: EvaluationSpec { every: Some(50) },
            sampling: SamplingSpec {
                every: Some(100),
                ..SamplingSpec::default()
            },
            initial_weights: None,
            sweep: None,
            notebook: Notebook::default(),
        }
    }
}

/// Where the data comes from.
// configuration, built a few times per run: the CSV variant's size costs nothing, and
// boxing it would put a `Box` in every pattern that reads it
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum DataSpec {
    /// A UTF-8 text corpus, next-character prediction.
    Text(TextSpec),
    /// One sentence learned by heart (next-character prediction).
    Sentence(SentenceSpec),
    /// The echo task: a random bit stream, target = input `echo` steps earlier.
    Echo(EchoSpec),
    /// CSV sequence files (see the README's data section).
    Csv(CsvDataConfig),
}

impl Default for DataSpec {
    fn default() -> Self {
        DataSpec::Sentence(SentenceSpec::default())
    }
}

impl DataSpec {
    /// Data read as parallel streams (text, sentence, echo): minibatches continue each
    /// stream, so the recurrent state can be carried from one to the next.
    pub fn is_stream(&self) -> bool {
        !matches!(self, DataSpec::Csv(_))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextSpec {
    /// The corpus, relative to the experiment file.
    pub path: PathBuf,
    pub lowercase: bool,
    /// Fraction of the corpus (taken from its end) held out for validation. Default 0.1.
    pub validation: f32,
    /// Fraction held out for testing, just before the validation part. Default 0.
    pub test: f32,
}

impl Default for TextSpec {
    fn default() -> Self {
        TextSpec {
            path: PathBuf::new(),
            lowercase: false,
            validation: 0.1,
            test: 0.0,
        }
    }
}

/// The sentence of DL4J's "learn a string" example.
pub const DEFAULT_SENTENCE: &str = "*A computer will do what you tell it to do, but that may be much different from what you had in mind.";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SentenceSpec {
    pub text: String,
}

impl Default for SentenceSpec {
    fn default() -> Self {
        SentenceSpec {
            text: DEFAULT_SENTENCE.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EchoSpec {
    /// Steps in the training series. Default 50000.
    pub length: usize,
    /// Echo delay in steps. Default 3.
    pub echo: usize,
    /// Steps in the validation series (generated with `seed + 1`). Default 5000.
    pub validation_length: usize,
    pub seed: u64,
}

impl Default for EchoSpec {
    fn default() -> Self {
        EchoSpec {
            length: 50_000,
            echo: 3,
            validation_length: 5_000,
            seed: 0,
        }
    }
}

/// The layer stack and the output layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSpec {
    pub layers: Vec<LayerSpec>,
    pub output: OutputSpec,
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            layers: vec![LayerSpec::default()],
            output: OutputSpec::default(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerType {
    Lstm,
    Gru,
    Rnn,
    Dense,
}

/// Which activations a layer kind's `activation` field accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activations {
    /// Any activation (LSTM's cell/output activation, dense layers).
    Any,
    /// One of these (RNN: tanh or relu, as `torch.nn.RNN`).
    OneOf(&'static [ActivationSpec]),
    /// None: the kind's activations are fixed (GRU, PyTorch's formulation).
    Fixed,
}

/// What the experiment file accepts on a layer of one kind: the facts validation, the
/// editor and the REPL read, kept beside the variant so that a new kind is described
/// in one place.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerTypeInfo {
    /// Its name in command lines (`add lstm 64`).
    pub name: &'static str,
    /// Its name in the window (`LSTM`).
    pub label: &'static str,
    /// What `activation` accepts.
    pub activations: Activations,
    /// Whether `gate_activation`, `peephole` and `forget_bias` apply (LSTM).
    pub lstm_options: bool,
    /// Whether `single_bias` applies (LSTM and RNN; a GRU keeps two, dense one).
    pub single_bias: bool,
    /// Whether it has recurrent weights (`recurrent_init` applies).
    pub recurrent: bool,
}

impl LayerType {
    /// Every kind, in the order menus list them: the one list the REPL's parser, help
    /// and completion and the window's layer menus read.
    pub const ALL: [LayerType; 4] = [
        LayerType::Lstm,
        LayerType::Gru,
        LayerType::Rnn,
        LayerType::Dense,
    ];

    /// What the file accepts on a layer of this kind.
    pub fn info(self) -> LayerTypeInfo {
        let base = LayerTypeInfo {
            name: "",
            label: "",
            activations: Activations::Any,
            lstm_options: false,
            single_bias: false,
            recurrent: true,
        };
        match self {
            LayerType::Lstm => LayerTypeInfo {
                name: "lstm",
                label: "LSTM",
                lstm_options: true,
                single_bias: true,
                ..base
            },
            LayerType::Gru => LayerTypeInfo {
                name: "gru",
                label: "GRU",
                activations: Activations::Fixed,
                ..base
            },
            LayerType::Rnn => LayerTypeInfo {
                name: "rnn",
                label: "RNN",
                activations: Activations::OneOf(&[ActivationSpec::Tanh, ActivationSpec::Relu]),
                single_bias: true,
                ..base
            },
            LayerType::Dense => LayerTypeInfo {
                name: "dense",
                label: "Dense",
                recurrent: false,
                ..base
            },
        }
    }

    /// The numerics' layer kind for a layer `spec` of this kind: the one place the
    /// file's layer type becomes an [`crate::nn::LayerKind`] (defaults filled in).
    pub fn to_kind(self, spec: &LayerSpec) -> crate::nn::LayerKind {
        use crate::nn::{Activation, LayerKind};
        let activation = spec
            .activation
            .map_or(Activation::Tanh, ActivationSpec::to_nn);
        match self {
            LayerType::Lstm => LayerKind::Lstm {
                peephole: spec.peephole,
                gate_activation: spec
                    .gate_activation
                    .map_or(Activation::Sigmoid, ActivationSpec::to_nn),
                activation,
                forget_bias: spec.forget_bias,
            },
            LayerType::Gru => LayerKind::Gru,
            LayerType::Rnn => LayerKind::Rnn { activation },
            LayerType::Dense => LayerKind::Dense { activation },
        }
    }

    /// The kinds whose `info` passes `test`, by file name, for messages (`Lstm, Rnn`).
    pub fn those(test: impl Fn(&LayerTypeInfo) -> bool) -> String {
        Self::ALL
            .iter()
            .filter(|k| test(&k.info()))
            .map(|k| format!("{k:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The kind named `name` (any case), as [`LayerTypeInfo::name`] names it.
    pub fn from_name(name: &str) -> Option<LayerType> {
        Self::ALL
            .into_iter()
            .find(|k| k.info().name.eq_ignore_ascii_case(name))
    }

    /// The kinds' names, comma-separated (for messages).
    pub fn names() -> String {
        Self::ALL.map(|k| k.info().name).join(", ")
    }
}

/// One hidden layer. Fields that do not apply to the kind are errors when set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LayerSpec {
    pub kind: LayerType,
    /// Hidden units. Default 100.
    pub size: usize,
    /// Cell/output activation (LSTM, default tanh), the activation (RNN: tanh or relu,
    /// default tanh; dense, default tanh).
    pub activation: Option<ActivationSpec>,
    /// LSTM gate activation: sigmoid (default) or hard sigmoid.
    pub gate_activation: Option<ActivationSpec>,
    /// LSTM peephole connections (DL4J GravesLSTM). Default false.
    pub peephole: bool,
    /// LSTM forget-gate bias at initialisation. Default 1.0.
    pub forget_bias: f64,
    /// LSTM / RNN: one bias per gate (`bias`, Deeplearning4j's layout) instead of
    /// PyTorch's two trained biases `bias_ih` and `bias_hh`. Default false (two, so
    /// training steps equal `torch.nn.LSTM` / `nn.RNN`'s).
    pub single_bias: bool,
    /// Input weights. Default Xavier uniform.
    pub weight_init: InitSpec,
    /// Recurrent weights. Default Xavier uniform.
    pub recurrent_init: InitSpec,
    /// Dropout on this layer's input while training: the probability that an input
    /// value is dropped (PyTorch's convention; Deeplearning4j's `dropOut(x)` is a
    /// retain probability). Kept values are scaled by `1 / (1 - p)` (inverted dropout),
    /// so nothing changes at evaluation. Default 0 (off); must be in [0, 1).
    pub dropout: f64,
    pub l1: f64,
    pub l2: f64,
    pub l1_bias: f64,
    pub l2_bias: f64,
}

impl Default for LayerSpec {
    fn default() -> Self {
        LayerSpec {
            kind: LayerType::Lstm,
            size: 100,
            activation: None,
            gate_activation: None,
            peephole: false,
            forget_bias: 1.0,
            single_bias: false,
            weight_init: InitSpec::XavierUniform,
            recurrent_init: InitSpec::XavierUniform,
            dropout: 0.0,
            l1: 0.0,
            l2: 0.0,
            l1_bias: 0.0,
            l2_bias: 0.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum ActivationSpec {
    Identity,
    Sigmoid,
    HardSigmoid,
    Tanh,
    Softsign,
    Relu,
    /// With the slope for negative inputs.
    LeakyRelu(f64),
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)] // in the struct variants
pub enum InitSpec {
    XavierUniform,
    XavierNormal,
    Uniform {
        low: f64,
        high: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    Orthogonal {
        gain: f64,
    },
    /// PyTorch's defaults, `U(-k, k)` for weights and biases: `k = 1/sqrt(H)` (hidden
    /// size) for recurrent layers, `k = 1/sqrt(in_features)` for dense and output layers
    /// (`nn.Linear`).
    PyTorch,
    Zeros,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LossSpec {
    /// Softmax + cross-entropy (classification, next character).
    CrossEntropy,
    /// Identity + mean squared error (regression).
    Mse,
    /// Sigmoid + binary cross-entropy (multi-label).
    BinaryCrossEntropy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutputModeSpec {
    EveryStep,
    LastStep,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputSpec {
    /// Default: cross-entropy for text, echo and classification; MSE for regression.
    pub loss: Option<LossSpec>,
    /// Outputs; default from the data (vocabulary, classes, label columns). When given it
    /// must match the data.
    pub size: Option<usize>,
    /// Default every step.
    pub mode: OutputModeSpec,
    pub weight_init: InitSpec,
    /// Dropout on the output layer's input (the last hidden layer's output) while
    /// training, as a drop probability (see [`LayerSpec::dropout`]). Default 0.
    pub dropout: f64,
    pub l1: f64,
    pub l2: f64,
    pub l1_bias: f64,
    pub l2_bias: f64,
}

impl Default for OutputSpec {
    fn default() -> Self {
        OutputSpec {
            loss: None,
            size: None,
            mode: OutputModeSpec::EveryStep,
            weight_init: InitSpec::XavierUniform,
            dropout: 0.0,
            l1: 0.0,
            l2: 0.0,
            l1_bias: 0.0,
            l2_bias: 0.0,
        }
    }
}

/// Updaters with PyTorch's defaults for every omitted field.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum UpdaterSpec {
    Sgd(SgdSpec),
    Momentum(MomentumSpec),
    Adam(AdamSpec),
    AdamW(AdamWSpec),
    AmsGrad(AdamSpec),
    AdaMax(AdaMaxSpec),
    Nadam(NadamSpec),
    RmsProp(RmsPropSpec),
    AdaGrad(AdaGradSpec),
    AdaDelta(AdaDeltaSpec),
}

impl Default for UpdaterSpec {
    fn default() -> Self {
        UpdaterSpec::Adam(AdamSpec::default())
    }
}

macro_rules! spec_struct {
    ($(#[$m:meta])* $name:ident { $($field:ident : $ty:ty = $default:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name { $(pub $field: $ty),* }
        impl Default for $name {
            fn default() -> Self { $name { $($field: $default),* } }
        }
    };
}

/// An updater's spec struct whose `Default` is PyTorch's defaults as `nn`'s
/// [`UpdaterConfig`] constructor of the same name holds them (the numbers live there
/// only).
macro_rules! updater_spec {
    ($(#[$m:meta])* $name:ident = $ctor:ident / $variant:ident { $($field:ident : $ty:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name { $(pub $field: $ty),* }
        impl Default for $name {
            fn default() -> Self {
                match UpdaterConfig::$ctor() {
                    UpdaterConfig::$variant { $($field),* } => $name { $($field),* },
                    _ => unreachable!(concat!("UpdaterConfig::", stringify!($ctor), " is ", stringify!($variant))),
                }
            }
        }
    };
}

updater_spec!(
    /// Plain SGD.
    SgdSpec = sgd / Sgd { lr: f64 }
);
updater_spec!(
    /// SGD with momentum (PyTorch's `SGD(momentum=...)`).
    MomentumSpec = momentum / Momentum { lr: f64, momentum: f64, dampening: f64, nesterov: bool }
);
updater_spec!(
    /// Adam (and AMSGrad, which has the same settings).
    AdamSpec = adam / Adam { lr: f64, beta1: f64, beta2: f64, eps: f64 }
);
updater_spec!(
    /// AdamW (decoupled weight decay).
    AdamWSpec = adamw / AdamW { lr: f64, beta1: f64, beta2: f64, eps: f64, weight_decay: f64 }
);
updater_spec!(
    /// AdaMax.
    AdaMaxSpec = adamax / AdaMax { lr: f64, beta1: f64, beta2: f64, eps: f64 }
);
updater_spec!(
    /// Nadam.
    NadamSpec = nadam / Nadam { lr: f64, beta1: f64, beta2: f64, eps: f64, momentum_decay: f64 }
);
updater_spec!(
    /// RMSProp.
    RmsPropSpec = rmsprop / RmsProp { lr: f64, alpha: f64, eps: f64 }
);
updater_spec!(
    /// AdaGrad.
    AdaGradSpec = adagrad / AdaGrad { lr: f64, lr_decay: f64, eps: f64 }
);
updater_spec!(
    /// AdaDelta.
    AdaDeltaSpec = adadelta / AdaDelta { lr: f64, rho: f64, eps: f64 }
);

impl UpdaterSpec {
    /// Every updater kind: its name in the experiment file and a label for display.
    pub const KINDS: [(&'static str, &'static str); 10] = [
        ("Sgd", "SGD"),
        ("Momentum", "SGD + momentum"),
        ("Adam", "Adam"),
        ("AdamW", "AdamW"),
        ("AmsGrad", "AMSGrad"),
        ("AdaMax", "AdaMax"),
        ("Nadam", "Nadam"),
        ("RmsProp", "RMSProp"),
        ("AdaGrad", "AdaGrad"),
        ("AdaDelta", "AdaDelta"),
    ];

    /// This updater's kind: its name in the experiment file (one of [`Self::KINDS`]).
    pub fn kind(&self) -> &'static str {
        match self {
            UpdaterSpec::Sgd(_) => "Sgd",
            UpdaterSpec::Momentum(_) => "Momentum",
            UpdaterSpec::Adam(_) => "Adam",
            UpdaterSpec::AdamW(_) => "AdamW",
            UpdaterSpec::AmsGrad(_) => "AmsGrad",
            UpdaterSpec::AdaMax(_) => "AdaMax",
            UpdaterSpec::Nadam(_) => "Nadam",
            UpdaterSpec::RmsProp(_) => "RmsProp",
            UpdaterSpec::AdaGrad(_) => "AdaGrad",
            UpdaterSpec::AdaDelta(_) => "AdaDelta",
        }
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        self.to_nn().lr()
    }

    /// Sets the base learning rate, keeping the other settings.
    pub fn set_lr(&mut self, lr: f64) {
        match self {
            UpdaterSpec::Sgd(s) => s.lr = lr,
            UpdaterSpec::Momentum(s) => s.lr = lr,
            UpdaterSpec::Adam(s) | UpdaterSpec::AmsGrad(s) => s.lr = lr,
            UpdaterSpec::AdamW(s) => s.lr = lr,
            UpdaterSpec::AdaMax(s) => s.lr = lr,
            UpdaterSpec::Nadam(s) => s.lr = lr,
            UpdaterSpec::RmsProp(s) => s.lr = lr,
            UpdaterSpec::AdaGrad(s) => s.lr = lr,
            UpdaterSpec::AdaDelta(s) => s.lr = lr,
        }
    }

    /// The updater of `kind` (a name of [`Self::KINDS`]) with learning rate `lr` and
    /// PyTorch's defaults for the rest; `None` for an unknown kind.
    pub fn with_kind(kind: &str, lr: f64) -> Option<Self> {
        let mut u = match kind {
            "Sgd" => UpdaterSpec::Sgd(SgdSpec::default()),
            "Momentum" => UpdaterSpec::Momentum(MomentumSpec::default()),
            "Adam" => UpdaterSpec::Adam(AdamSpec::default()),
            "AdamW" => UpdaterSpec::AdamW(AdamWSpec::default()),
            "AmsGrad" => UpdaterSpec::AmsGrad(AdamSpec::default()),
            "AdaMax" => UpdaterSpec::AdaMax(AdaMaxSpec::default()),
            "Nadam" => UpdaterSpec::Nadam(NadamSpec::default()),
            "RmsProp" => UpdaterSpec::RmsProp(RmsPropSpec::default()),
            "AdaGrad" => UpdaterSpec::AdaGrad(AdaGradSpec::default()),
            "AdaDelta" => UpdaterSpec::AdaDelta(AdaDeltaSpec::default()),
            _ => return None,
        };
        u.set_lr(lr);
        Some(u)
    }
}
spec_struct!(
    /// Truncated BPTT: segments of `forward` steps, gradients through the last `backward`.
    TbpttSpec { forward: usize = 50, backward: usize = 50 }
);
spec_struct!(
    /// Stop when the validation score has not improved by `min_delta` for `patience`
    /// evaluations; the best weights are kept.
    EarlyStoppingSpec { patience: u32 = 5, min_delta: f64 = 0.0 }
);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)] // in the struct variants
pub enum ScheduleSpec {
    Constant,
    /// `lr * gamma^floor(it / every)`; the period in iterations (`every`) or in passes
    /// over the training data (`every_epochs`, may be fractional), one of the two.
    Step {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        every: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        every_epochs: Option<f64>,
        gamma: f64,
    },
    Exponential {
        gamma: f64,
    },
    InverseTime {
        gamma: f64,
        power: f64,
    },
    /// Cosine from the base rate down to `min_lr` over `period` iterations or
    /// `period_epochs` passes over the training data (one of the two), then `min_lr`.
    Cosine {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        period_epochs: Option<f64>,
        min_lr: f64,
    },
    Warmup {
        steps: u64,
        then: Box<ScheduleSpec>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum GradientNormalizationSpec {
    None,
    RenormalizeL2PerLayer,
    RenormalizeL2PerParamType,
    ClipElementWiseAbsoluteValue(f64),
    ClipL2PerLayer(f64),
    ClipL2PerParamType(f64),
    /// PyTorch's `clip_grad_norm_(max_norm)`.
    ClipGlobalL2(f64),
}

/// How training runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSpec {
    pub updater: UpdaterSpec,
    pub schedule: ScheduleSpec,
    /// Examples (or parallel streams) per minibatch. Default 32.
    pub batch_size: usize,
    /// Steps per minibatch for stream data (text, sentence, echo). Default 100.
    pub sequence_length: usize,
    /// Stop after this many iterations (minibatches).
    pub iterations: Option<u64>,
    /// Stop after this many passes over the training data. Default 10 when neither is
    /// given.
    pub epochs: Option<u64>,
    /// Truncated BPTT within each minibatch; none = full BPTT.
    pub tbptt: Option<TbpttSpec>,
    /// Carry the recurrent state from one minibatch to the next (stream data only).
    /// Default true.
    pub carry_state: bool,
    pub gradient_normalization: GradientNormalizationSpec,
    /// Shuffle CSV examples each epoch. Default true.
    pub shuffle: bool,
    /// Seeds initial weights, shuffling, dropout and sampling. Default 12345.
    pub seed: u64,
    /// BLAS threads; default chosen by seqlab for the workload.
    pub threads: Option<usize>,
    /// Write a checkpoint every this many iterations (and always at the end).
    pub checkpoint_every: Option<u64>,
    pub early_stopping: Option<EarlyStoppingSpec>,
}

impl Default for TrainingSpec {
    fn default() -> Self {
        TrainingSpec {
            updater: UpdaterSpec::default(),
            schedule: ScheduleSpec::Constant,
            batch_size: 32,
            sequence_length: 100,
            iterations: None,
            epochs: None,
            tbptt: None,
            carry_state: true,
            gradient_normalization: GradientNormalizationSpec::None,
            shuffle: true,
            seed: 12345,
            threads: None,
            checkpoint_every: None,
            early_stopping: None,
        }
    }
}

/// Validation during training.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluationSpec {
    /// Evaluate every this many iterations; default once per epoch (and at the end).
    pub every: Option<u64>,
}

/// Generated samples during training (text models) or predictions (others).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingSpec {
    /// Sample every this many iterations (and at the end); none = only at the end.
    pub every: Option<u64>,
    /// Characters to generate. Default 200.
    pub length: usize,
    /// Text fed before generating. Default: the first character of the corpus.
    pub prime: Option<String>,
    /// Softmax temperature. Default 1.
    pub temperature: f64,
    /// Take the most likely character instead of drawing.
    pub greedy: bool,
}

impl Default for SamplingSpec {
    fn default() -> Self {
        SamplingSpec {
            every: None,
            length: 200,
            prime: None,
            temperature: 1.0,
            greedy: false,
        }
    }
}
