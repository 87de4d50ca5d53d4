//! The parameter table: where each named tensor of a network sits in the one flat
//! parameter buffer (and, at the same offsets, in the gradient buffer).
//!
//! A layer describes its tensors as [`ParamShape`]s in buffer order
//! ([`super::layer::Layer::param_shapes`]); the network lays them out one after the
//! other into [`ParamSpec`]s. Updaters, clipping, statistics, checkpoints and gradient
//! checks walk the specs, so a new layer kind gets all of them for free.

use std::ops::Range;

/// What role a tensor plays (regularisation, statistics, clipping by type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// Weights applied to the layer's input: `weight_ih (G*H, I)`, dense `weight (O, I)`.
    InputWeight,
    /// Weights applied to the previous hidden state: `weight_hh (G*H, H)`.
    RecurrentWeight,
    /// Biases (`bias`, `bias_ih`, `bias_hh`): regularised by `l1_bias`/`l2_bias`.
    Bias,
    /// LSTM peephole weights `weight_ci`, `weight_cf`, `weight_co (H)`.
    Peephole,
}

impl ParamKind {
    /// Whether the tensor is a bias (biases have their own L1/L2 coefficients).
    pub fn is_bias(self) -> bool {
        self == ParamKind::Bias
    }
}

/// One tensor a layer owns, as the layer declares it: its name within the layer, its
/// role and its shape (row-major). The network assigns the offsets.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamShape {
    /// Name within the layer (`weight_ih`, `weight_hh`, `bias`, `weight`, ...),
    /// PyTorch's where PyTorch has the tensor.
    pub name: &'static str,
    /// Role of the tensor.
    pub kind: ParamKind,
    /// Shape, e.g. `[4H, I]` for an LSTM's `weight_ih`.
    pub shape: Vec<usize>,
}

impl ParamShape {
    /// A tensor `name` of role `kind` and shape `shape`.
    pub fn new(name: &'static str, kind: ParamKind, shape: Vec<usize>) -> Self {
        ParamShape { name, kind, shape }
    }

    /// Number of values (the product of the shape).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where one named tensor sits in the flat buffers.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// Layer index; the output layer is `layers.len()`.
    pub layer: usize,
    /// Name within the layer (`weight_ih`, `weight_hh`, `bias`, `weight`, ...).
    pub name: &'static str,
    /// Role of the tensor.
    pub kind: ParamKind,
    /// Shape of the tensor (row-major).
    pub shape: Vec<usize>,
    /// Index of the tensor's first value in the flat buffers.
    pub offset: usize,
    /// Number of values (the product of `shape`).
    pub len: usize,
}

impl ParamSpec {
    /// `layers.{layer}.{name}`.
    pub fn full_name(&self) -> String {
        format!("layers.{}.{}", self.layer, self.name)
    }

    /// The tensor's values in the flat buffers: `offset..offset + len`.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// Appends the tensors of layer `layer` to `specs`, starting at `*offset` (advanced past
/// them). Returns the layer's range in the flat buffers.
pub fn lay_out(
    specs: &mut Vec<ParamSpec>,
    offset: &mut usize,
    layer: usize,
    shapes: Vec<ParamShape>,
) -> Range<usize> {
    let start = *offset;
    for s in shapes {
        let len = s.len();
        specs.push(ParamSpec {
            layer,
            name: s.name,
            kind: s.kind,
            shape: s.shape,
            offset: *offset,
            len,
        });
        *offset += len;
    }
    start..*offset
}
