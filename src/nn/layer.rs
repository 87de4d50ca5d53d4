//! The one interface every hidden layer kind implements ([`Layer`]), and the recurrent
//! state it carries ([`LayerState`]).
//!
//! The stack ([`super::network::Network`]) never matches on the layer kind: it asks
//! each layer for its parameter table, runs its forward over a window, its backward, and
//! its single step for stateful stepping. Adding a layer kind is one file implementing
//! [`Layer`] plus its registration in [`super::config::LayerKind`] (and the experiment
//! schema, build and GUI that name it).
//!
//! Shapes: `x (T, B, I)` input, `out (T, B, H)` output, `mask (T, B)` (1 = the step
//! runs, 0 = padding: the state passes through and the output is 0), `p`/`g` the layer's
//! slice of the flat parameter/gradient buffer laid out as [`Layer::param_shapes`].

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut3};

use super::params::ParamShape;
use super::Float;

/// Recurrent state of one layer for B examples: `h (B, H)`, and `c (B, H)` for LSTM.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerState<F> {
    /// Hidden state `(B, H)`.
    pub h: Array2<F>,
    /// Cell state `(B, H)` (LSTM only).
    pub c: Option<Array2<F>>,
}

impl<F: Float> LayerState<F> {
    /// Zero state for `b` examples of `h` units, with a cell when `with_cell`.
    pub fn zeros(b: usize, h: usize, with_cell: bool) -> Self {
        LayerState {
            h: Array2::zeros((b, h)),
            c: with_cell.then(|| Array2::zeros((b, h))),
        }
    }

    /// A zero state of the same shapes.
    pub fn zeros_like(&self) -> Self {
        LayerState {
            h: Array2::zeros(self.h.dim()),
            c: self.c.as_ref().map(|c| Array2::zeros(c.dim())),
        }
    }

    /// Sets every value to 0 (keeps the shapes).
    pub fn fill_zero(&mut self) {
        self.h.fill(F::zero());
        if let Some(c) = self.c.as_mut() {
            c.fill(F::zero());
        }
    }

    /// Whether `other` has the same shapes (`h`, and `c` present with the same shape).
    pub fn same_shape(&self, other: &Self) -> bool {
        self.h.dim() == other.h.dim()
            && self.c.as_ref().map(|c| c.dim()) == other.c.as_ref().map(|c| c.dim())
    }
}

/// The state of every layer of a stack (`None` for stateless layers such as dense).
pub type NetState<F> = Vec<Option<LayerState<F>>>;

/// A hidden layer: its parameter table, its passes over a window, and its single step.
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
    fn zero_state(&self, b: usize) -> Option<LayerState<F>>;

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

    /// Backpropagates through steps `from..T` of the last forward pass (truncated BPTT
    /// when `from > 0`). `x` and `out` are that pass's input and output, `dout (T, B, H)`
    /// d loss / d output. `dstate` holds d loss / d final state on entry and receives
    /// d loss / d initial state (zero when `from > 0`). Gradients accumulate (`+=`)
    /// into `g`; `dx (T, B, I)`, when given, is overwritten.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        p: &[F],
        g: &mut [F],
        x: ArrayView3<F>,
        mask: Option<ArrayView2<F>>,
        from: usize,
        out: ArrayView3<F>,
        dout: ArrayView3<F>,
        dx: Option<ArrayViewMut3<F>>,
        dstate: Option<&mut LayerState<F>>,
    );

    /// Scratch values [`Self::step_one`] needs in `z`.
    fn step_scratch(&self) -> usize;

    /// Whether the single-step state has a cell `c (H)` besides `h (H)`.
    fn has_cell(&self) -> bool {
        false
    }

    /// One step for one example, allocation-free (sampling): `x (I)` in; the state
    /// `h (H)` (and `c (H)` when [`Self::has_cell`], else empty) is updated in place and
    /// `h` is the step's output; `z` is scratch of [`Self::step_scratch`] values.
    fn step_one(&self, p: &[F], x: &[F], h: &mut [F], c: &mut [F], z: &mut [F]);
}
