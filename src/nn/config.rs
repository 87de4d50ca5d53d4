//! The architecture as data: layer kinds and their settings, the output layer, the whole
//! network, and the errors of building one. [`LayerKind::build`] is the registration of
//! the layer kinds (the only place that maps a kind to its implementation).

use super::dense::Dense;
use super::gru::Gru;
use super::init::WeightInit;
use super::layer::Layer;
use super::lstm::Lstm;
use super::rnn::Rnn;
use super::{Activation, Float, Loss, OutputMode};

/// What a hidden layer computes.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    /// LSTM ([`super::lstm::Lstm`]): PyTorch's cell, optionally with DL4J's peepholes
    /// and other gate/cell activations.
    Lstm {
        /// DL4J GravesLSTM peephole connections from the cell to the gates.
        peephole: bool,
        /// Activation of the i, f, o gates (sigmoid or hard sigmoid).
        gate_activation: Activation,
        /// Activation of the candidate g and of the cell output (tanh, softsign, ...).
        activation: Activation,
        /// Initial value of the forget-gate bias.
        forget_bias: f64,
    },
    /// GRU ([`super::gru::Gru`]), PyTorch's formulation.
    Gru,
    /// Elman RNN ([`super::rnn::Rnn`]).
    Rnn {
        /// tanh or relu.
        activation: Activation,
    },
    /// A dense layer applied at every step ([`super::dense::Dense`]).
    Dense {
        /// Activation after the affine map.
        activation: Activation,
    },
}

impl LayerKind {
    /// A plain LSTM: sigmoid gates, tanh activations, forget bias 1.
    pub fn lstm() -> Self {
        LayerKind::Lstm {
            peephole: false,
            gate_activation: Activation::Sigmoid,
            activation: Activation::Tanh,
            forget_bias: 1.0,
        }
    }

    /// Whether the layer carries a state from step to step (and so PyTorch's
    /// `1/sqrt(hidden_size)` init bound and a `bias_ih`/`bias_hh` pair apply).
    pub fn is_recurrent(&self) -> bool {
        match self {
            LayerKind::Lstm { .. } | LayerKind::Gru | LayerKind::Rnn { .. } => true,
            LayerKind::Dense { .. } => false,
        }
    }

    /// Whether the layer's passes split a minibatch over two threads
    /// ([`super::pool::batch_split`]): the plain LSTM (sigmoid gates, tanh activations,
    /// no peepholes, PyTorch's), which has the vectorised recurrence by example rows.
    pub fn splits_batch(&self) -> bool {
        match self {
            LayerKind::Lstm {
                peephole,
                gate_activation,
                activation,
                ..
            } => Lstm::<f32>::is_plain_kind(*peephole, *gate_activation, *activation),
            LayerKind::Gru | LayerKind::Rnn { .. } | LayerKind::Dense { .. } => false,
        }
    }

    /// The layer's implementation for input width `input` and `size` units; LSTM and
    /// RNN keep one `bias` instead of PyTorch's two when `single_bias`. This is the
    /// registration of the layer kinds: the only place that maps a kind to its code.
    pub fn build<F: Float>(
        &self,
        input: usize,
        size: usize,
        single_bias: bool,
    ) -> Box<dyn Layer<F>> {
        match *self {
            LayerKind::Lstm {
                peephole,
                gate_activation,
                activation,
                forget_bias,
            } => Box::new(
                Lstm::new(
                    input,
                    size,
                    peephole,
                    gate_activation,
                    activation,
                    !single_bias,
                )
                .with_forget_bias(forget_bias),
            ),
            LayerKind::Gru => Box::new(Gru::new(input, size)),
            LayerKind::Rnn { activation } => {
                Box::new(Rnn::new(input, size, activation, !single_bias))
            }
            LayerKind::Dense { activation } => Box::new(Dense::new(input, size, activation)),
        }
    }

    /// The kind's name in messages: `LSTM`, `GRU`, `RNN`, `Dense`.
    pub fn name(&self) -> &'static str {
        match self {
            LayerKind::Lstm { .. } => "LSTM",
            LayerKind::Gru => "GRU",
            LayerKind::Rnn { .. } => "RNN",
            LayerKind::Dense { .. } => "Dense",
        }
    }

    /// The `torch.nn` module that computes this kind (`LSTM`, `GRU`, `RNN`, `Linear`),
    /// for PyTorch names and `export --torch`.
    pub fn torch_class(&self) -> &'static str {
        match self {
            LayerKind::Lstm { .. } => "LSTM",
            LayerKind::Gru => "GRU",
            LayerKind::Rnn { .. } => "RNN",
            LayerKind::Dense { .. } => "Linear",
        }
    }

    /// What `torch.nn` needs besides [`Self::torch_class`] to compute this kind: `RNN`'s
    /// nonlinearity (`tanh`/`relu`), the activation after a `Linear` (`identity`,
    /// `tanh`, ...: [`Activation::torch_name`]), else empty; or why PyTorch
    /// has no such module (peepholes, hard-sigmoid or non-tanh LSTM activations).
    pub fn torch_activation(&self) -> Result<String, String> {
        match *self {
            LayerKind::Lstm {
                peephole,
                gate_activation,
                activation,
                ..
            } => {
                if peephole {
                    return Err(
                        "has peepholes (DL4J's GravesLSTM), which torch.nn.LSTM does not have"
                            .into(),
                    );
                }
                if gate_activation != Activation::Sigmoid || activation != Activation::Tanh {
                    return Err(format!(
                        "uses {gate_activation:?} gates and {activation:?} activations; \
                         torch.nn.LSTM has Sigmoid and Tanh only"
                    ));
                }
                Ok(String::new())
            }
            LayerKind::Gru => Ok(String::new()),
            LayerKind::Rnn { activation } => Ok(match activation {
                Activation::Relu => "relu",
                _ => "tanh",
            }
            .to_string()),
            LayerKind::Dense { activation } => Ok(activation.torch_name()),
        }
    }

    /// Gate blocks per step: 4 for LSTM (`i, f, g, o`), 3 for GRU (`r, z, n`), else 1
    /// (what the memory estimate counts per unit).
    pub fn gates(&self) -> usize {
        match self {
            LayerKind::Lstm { .. } => 4,
            LayerKind::Gru => 3,
            LayerKind::Rnn { .. } | LayerKind::Dense { .. } => 1,
        }
    }

    /// Whether a layer of this kind keeps PyTorch's `bias_ih` and `bias_hh` (GRU always;
    /// LSTM and RNN unless `single_bias`; dense never).
    pub fn two_biases(&self, single_bias: bool) -> bool {
        match self {
            LayerKind::Gru => true,
            LayerKind::Lstm { .. } | LayerKind::Rnn { .. } => !single_bias,
            LayerKind::Dense { .. } => false,
        }
    }

    /// Number of parameters of a layer of this kind (no allocation, so absurd sizes can
    /// be shown before they are refused).
    pub fn param_len(&self, input: usize, size: usize, single_bias: bool) -> usize {
        match *self {
            LayerKind::Lstm { peephole, .. } => {
                Lstm::<f32>::param_len(input, size, peephole, !single_bias)
            }
            LayerKind::Gru => Gru::<f32>::param_len(input, size),
            LayerKind::Rnn { .. } => Rnn::<f32>::param_len(input, size, !single_bias),
            LayerKind::Dense { .. } => Dense::<f32>::param_len(input, size),
        }
    }
}

/// L1/L2 penalties: `l1 * sum|w| + 0.5 * l2 * sum w^2` on weights, and separately on
/// biases. Added to the score; their gradients are added after gradient normalisation
/// (DL4J's order).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Regularization {
    /// L1 coefficient on weights.
    pub l1: f64,
    /// L2 coefficient on weights.
    pub l2: f64,
    /// L1 coefficient on biases.
    pub l1_bias: f64,
    /// L2 coefficient on biases.
    pub l2_bias: f64,
}

/// One hidden layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerConfig {
    /// What the layer computes.
    pub kind: LayerKind,
    /// Hidden units (H) or dense outputs.
    pub size: usize,
    /// Initialisation of input weights (`weight_ih`, dense `weight`).
    pub weight_init: WeightInit,
    /// Initialisation of recurrent weights (`weight_hh`).
    pub recurrent_init: WeightInit,
    /// Inverted dropout on this layer's input during training: the probability that an
    /// input value is dropped (set to 0; the kept ones are scaled by `1 / (1 - p)`),
    /// PyTorch's convention (Deeplearning4j's `dropOut(x)` is a retain probability).
    pub dropout: f64,
    /// L1/L2 penalties on this layer's tensors.
    pub regularization: Regularization,
    /// LSTM and RNN: one bias per gate (`bias`, Deeplearning4j's layout) instead of
    /// PyTorch's two (`bias_ih`, `bias_hh`, both trained, each getting the same
    /// gradient). With two, training steps equal `torch.nn.LSTM`/`nn.RNN`'s; with one,
    /// a plain SGD step moves the summed bias half as far. GRU always keeps two (its
    /// `bias_hh` sits inside the reset product); dense layers have one.
    pub single_bias: bool,
}

impl LayerConfig {
    /// A layer with Xavier-uniform weights, PyTorch's two biases, no dropout and no
    /// regularisation.
    pub fn new(kind: LayerKind, size: usize) -> Self {
        LayerConfig {
            kind,
            size,
            weight_init: WeightInit::XavierUniform,
            recurrent_init: WeightInit::XavierUniform,
            dropout: 0.0,
            regularization: Regularization::default(),
            single_bias: false,
        }
    }

    /// Whether the layer keeps PyTorch's `bias_ih` and `bias_hh` (GRU always; LSTM and
    /// RNN unless [`Self::single_bias`]).
    pub fn two_biases(&self) -> bool {
        self.kind.two_biases(self.single_bias)
    }
}

/// The output layer.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputConfig {
    /// The loss (and with it the output activation).
    pub loss: Loss,
    /// Outputs `O` (classes, vocabulary or label columns).
    pub size: usize,
    /// Every step or the last step only.
    pub mode: OutputMode,
    /// Initialisation of the output weight.
    pub weight_init: WeightInit,
    /// Inverted dropout on the output layer's input, as a drop probability (see
    /// [`LayerConfig::dropout`]).
    pub dropout: f64,
    /// L1/L2 penalties on the output tensors.
    pub regularization: Regularization,
}

impl OutputConfig {
    /// An every-step output of `size` outputs with Xavier-uniform weights, no dropout and no
    /// regularisation.
    pub fn new(loss: Loss, size: usize) -> Self {
        OutputConfig {
            loss,
            size,
            mode: OutputMode::EveryStep,
            weight_init: WeightInit::XavierUniform,
            dropout: 0.0,
            regularization: Regularization::default(),
        }
    }
}

/// The whole architecture.
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfig {
    /// Input features per step `I`.
    pub input_size: usize,
    /// Hidden layers, bottom first.
    pub layers: Vec<LayerConfig>,
    /// The output layer.
    pub output: OutputConfig,
}

/// A configuration the network cannot be built from.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum NetworkError {
    /// A setting out of range.
    #[error("{field}: {problem}")]
    Invalid {
        /// The setting, e.g. `layers[1].size`.
        field: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// A named tensor that does not fit the network (loading weights).
    #[error("tensor {name}: {problem}")]
    Tensor {
        /// The tensor's name, e.g. `layers.0.weight_ih`.
        name: String,
        /// What is wrong (shape, missing, unknown).
        problem: String,
    },
}

/// A PyTorch-named tensor for export.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor<F> {
    /// PyTorch-style name, e.g. `layers.0.weight_ih`.
    pub name: String,
    /// Shape (row-major).
    pub shape: Vec<usize>,
    /// Values, row-major, `shape.iter().product()` of them.
    pub data: Vec<F>,
}
