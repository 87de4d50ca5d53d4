//! The one interface every hidden layer kind implements ([`Layer`]), and the recurrent
//! state it carries ([`LayerState`]).
//!
//! The stack ([`super::network::Network`]) never matches on the layer kind: it asks
//! each layer for its parameter table, its state table, runs its forward over a window,
//! its backward, and its single step for stateful stepping. Adding a layer kind is one
//! file implementing [`Layer`], its registration in [`super::config::LayerKind`], and
//! the experiment file's variant (`experiment::schema::LayerType`).
//!
//! Shapes: `x (T, B, I)` input, `out (T, B, H)` output, `mask (T, B)` (1 = the step
//! runs, 0 = padding: the state passes through and the output is 0), `p`/`g` the layer's
//! slice of the flat parameter/gradient buffer laid out as [`Layer::param_shapes`].

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut3};

use super::params::ParamShape;
use super::Float;

/// One named tensor of a layer's recurrent state: its name (`h`, `c`, ...) and its
/// width per example. A layer lists its state as it lists its parameters
/// ([`Layer::state_shapes`]); stepping, `state show/save/load`, checkpoints and the
/// gradient checks iterate that list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateShape {
    /// The tensor's name (`h` hidden state, `c` LSTM cell state).
    pub name: &'static str,
    /// Values per example.
    pub width: usize,
}

/// Recurrent state of one layer for B examples: its named tensors `(B, width)` in the
/// order of the layer's [`Layer::state_shapes`] (`h`, and `c` for LSTM).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerState<F> {
    names: Vec<&'static str>,
    tensors: Vec<Array2<F>>,
}

impl<F: Float> LayerState<F> {
    /// Zero state for `b` examples of the tensors `shapes`.
    pub fn zeros(b: usize, shapes: &[StateShape]) -> Self {
        LayerState {
            names: shapes.iter().map(|s| s.name).collect(),
            tensors: shapes.iter().map(|s| Array2::zeros((b, s.width))).collect(),
        }
    }

    /// A state from named tensors; `None` when they do not all have the same number of
    /// rows (examples) or there are none.
    pub fn from_tensors(tensors: Vec<(&'static str, Array2<F>)>) -> Option<Self> {
        let b = tensors.first()?.1.nrows();
        if tensors.iter().any(|(_, t)| t.nrows() != b) {
            return None;
        }
        let (names, tensors) = tensors.into_iter().unzip();
        Some(LayerState { names, tensors })
    }

    /// A zero state of the same shapes.
    pub fn zeros_like(&self) -> Self {
        LayerState {
            names: self.names.clone(),
            tensors: self
                .tensors
                .iter()
                .map(|t| Array2::zeros(t.dim()))
                .collect(),
        }
    }

    /// Sets every value to 0 (keeps the shapes).
    pub fn fill_zero(&mut self) {
        self.tensors.iter_mut().for_each(|t| t.fill(F::zero()));
    }

    /// Whether `other` has the same tensors (names and shapes).
    pub fn same_shape(&self, other: &Self) -> bool {
        self.names == other.names
            && self.tensors.len() == other.tensors.len()
            && self
                .tensors
                .iter()
                .zip(&other.tensors)
                .all(|(a, b)| a.dim() == b.dim())
    }

    /// Examples `B` (rows of every tensor).
    pub fn batch(&self) -> usize {
        self.tensors.first().map_or(0, |t| t.nrows())
    }

    /// Tensor `i` in the layer's order.
    pub fn tensor(&self, i: usize) -> &Array2<F> {
        &self.tensors[i]
    }

    /// Tensor `i` in the layer's order, to write.
    pub fn tensor_mut(&mut self, i: usize) -> &mut Array2<F> {
        &mut self.tensors[i]
    }

    /// The tensor named `name`.
    pub fn get(&self, name: &str) -> Option<&Array2<F>> {
        self.names
            .iter()
            .position(|n| *n == name)
            .map(|i| &self.tensors[i])
    }

    /// The named tensors in the layer's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &Array2<F>)> {
        self.names.iter().copied().zip(&self.tensors)
    }

    /// The named tensors in the layer's order, to write.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&'static str, &mut Array2<F>)> {
        self.names.iter().copied().zip(&mut self.tensors)
    }

    /// The tensors' shapes (names and widths).
    pub fn shapes(&self) -> Vec<StateShape> {
        self.iter()
            .map(|(name, t)| StateShape {
                name,
                width: t.ncols(),
            })
            .collect()
    }
}

/// The state of every layer of a stack (`None` for stateless layers such as dense).
pub type NetState<F> = Vec<Option<LayerState<F>>>;

/// What a layer's backward pass reads: the last forward pass's window.
pub struct Window<'a, F> {
    /// The pass's input `x (T, B, I)`.
    pub x: ArrayView3<'a, F>,
    /// The pass's mask `(T, B)`.
    pub mask: Option<ArrayView2<'a, F>>,
    /// The pass's output `out (T, B, H)`.
    pub out: ArrayView3<'a, F>,
    /// d loss / d output `(T, B, H)`.
    pub dout: ArrayView3<'a, F>,
    /// First step to backpropagate through (truncated BPTT when `> 0`).
    pub from: usize,
}

/// What a layer's backward pass writes.
pub struct Gradients<'a, F> {
    /// The layer's slice of the gradient buffer; gradients accumulate (`+=`).
    pub g: &'a mut [F],
    /// d loss / d input `(T, B, I)` when wanted; overwritten.
    pub dx: Option<ArrayViewMut3<'a, F>>,
    /// d loss / d final state on entry; d loss / d initial state on return (zero when
    /// `from > 0`). `None` for a stateless layer.
    pub dstate: Option<&'a mut LayerState<F>>,
}

/// A hidden layer: its parameter table, its state table, its passes over a window, and
/// its single step.
///
/// Forward keeps in the layer whatever its backward needs (activations, gates), so a
/// backward pass always refers to the last forward pass. Hot paths allocate only when
/// the window or batch size changes.
pub trait Layer<F: Float>: Send {
    /// Input width `I`.
    fn input_size(&self) -> usize;

    /// Output width `H` (hidden units, or a dense layer's outputs).
    fn size(&self) -> usize;

    /// The layer's tensors in buffer order, with PyTorch's names and shapes.
    fn param_shapes(&self) -> Vec<ParamShape>;

    /// The layer's recurrent state tensors in order (empty for a stateless layer):
    /// `h` for GRU/RNN, `h, c` for LSTM.
    fn state_shapes(&self) -> Vec<StateShape> {
        Vec::new()
    }

    /// Gate blocks the rows of each weight and bias are cut into for initialisation
    /// (4 for LSTM `i, f, g, o`, 3 for GRU `r, z, n`, else 1): each block is
    /// initialised as its own `(H, I)` matrix.
    fn gate_blocks(&self) -> usize {
        1
    }

    /// A constant for part of bias `name` after initialisation: `(range within the
    /// tensor, value)`, e.g. the LSTM forget-gate bias. `None` by default.
    fn bias_fill(&self, name: &str) -> Option<(std::ops::Range<usize>, f64)> {
        let _ = name;
        None
    }

    /// Zero state for `b` examples; `None` for a stateless layer.
    fn zero_state(&self, b: usize) -> Option<LayerState<F>> {
        let shapes = self.state_shapes();
        (!shapes.is_empty()).then(|| LayerState::zeros(b, &shapes))
    }

    /// Whether the forward and backward passes split a minibatch over two threads
    /// (see [`super::pool::batch_split`]).
    fn splits_batch(&self) -> bool {
        false
    }

    /// Runs the window `x (T, B, I)` into `out (T, B, H)` from `state` (replaced by the
    /// final state; `None` for a stateless layer), keeping what backward needs.
    /// Panics (programmer error) when `x`'s width is not [`Self::input_size`] or a
    /// recurrent layer is given no state.
    fn forward(
        &mut self,
        p: &[F],
        x: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
        state: Option<&mut LayerState<F>>,
        out: &mut Array3<F>,
    );

    /// Backpropagates through steps `window.from..T` of the last forward pass (see
    /// [`Window`] and [`Gradients`]).
    fn backward(&mut self, p: &[F], window: Window<F>, grads: Gradients<F>);

    /// Whether the layer can run one step at a time ([`Self::step_one`]): false for a
    /// layer that needs the whole sequence (one reading it backwards, say); `step` and
    /// sampling then refuse the model and say why.
    fn can_step(&self) -> bool {
        true
    }

    /// Scratch values [`Self::step_one`] needs in `z`.
    fn step_scratch(&self) -> usize;

    /// One step for one example, allocation-free (sampling): `x (I)` in, the step's
    /// output into `out (H)`. `state` holds the layer's state tensors for the example
    /// one after the other in [`Self::state_shapes`] order (empty for a stateless layer)
    /// and is updated in place; `z` is scratch of [`Self::step_scratch`] values.
    fn step_one(&self, p: &[F], x: &[F], state: &mut [F], out: &mut [F], z: &mut [F]);
}
