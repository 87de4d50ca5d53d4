//! Numerics: recurrent layers, losses, updaters, backpropagation through time.
//!
//! # Dims legend
//! - `T` time steps in a segment, `B` examples in a minibatch
//! - `I` input features of a layer, `H` hidden units, `O` outputs, `V` vocabulary
//!
//! Every sequence tensor is **time-major** `(T, B, feature)` in standard (row-major)
//! layout, so one step `x.index_axis(Axis(0), t)` is a contiguous `(B, feature)` matrix
//! and a whole segment reshapes to `(T*B, feature)` for one GEMM. Masks are `(T, B)`
//! with 1 for a real step and 0 for padding.
//!
//! Parameters follow PyTorch's layout and gate order (LSTM `i, f, g, o`; GRU `r, z, n`),
//! so `torch.nn.LSTM`/`GRU`/`RNN`/`Linear` can load the same tensors and agree.
//!
//! All parameters of a network live in one flat buffer and their gradients in another of
//! the same length ([`params::ParamSpec`] says where each named tensor sits). Updaters,
//! clipping, statistics, checkpoints and gradient checks all work on those buffers, so a
//! new layer kind gets all of them for free.
//!
//! This module knows nothing of files, threads, serde or the GUI.

pub mod activation;
pub mod bptt;
pub mod config;
pub mod dense;
pub mod gemm;
pub mod gradcheck;
pub mod gru;
pub mod init;
pub mod kernels;
pub mod layer;
pub mod lstm;
pub mod mask;
pub mod network;
pub mod normalize;
pub mod output;
pub mod params;
pub mod pool;
pub mod rnn;
pub mod torch_names;
pub mod updater;
pub mod window;

pub use activation::Activation;
pub use config::{LayerConfig, LayerKind, NetworkConfig, OutputConfig};
pub use layer::{Layer, LayerState, NetState};
pub use network::Network;
pub use output::{Loss, OutputMode};
pub use params::{ParamKind, ParamSpec};

use ndarray::NdFloat;
use num_traits::FromPrimitive;

/// The element type of a network: `f32` for training, `f64` for gradient checks.
pub trait Float: NdFloat + FromPrimitive + std::iter::Sum + Default {
    /// Converts an `f64` constant.
    fn c(x: f64) -> Self {
        Self::from_f64(x).expect("finite constant")
    }
    /// Widens to `f64` (for scores and statistics).
    fn f64(self) -> f64;
    /// `exp` in the hot loops: exact for `f64`, [`kernels::exp_f32`] for `f32`.
    fn fast_exp(self) -> Self;
    /// Logistic sigmoid in the hot loops: exact for `f64`, [`kernels::sigmoid_f32`] for
    /// `f32`.
    fn fast_sigmoid(self) -> Self;
    /// `tanh` in the hot loops: exact for `f64`, [`kernels::tanh_f32`] for `f32`.
    fn fast_tanh(self) -> Self;
}

impl Float for f32 {
    fn f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        kernels::exp_f32(self)
    }
    #[inline(always)]
    fn fast_sigmoid(self) -> Self {
        kernels::sigmoid_f32(self)
    }
    #[inline(always)]
    fn fast_tanh(self) -> Self {
        kernels::tanh_f32(self)
    }
}

impl Float for f64 {
    fn f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn fast_sigmoid(self) -> Self {
        activation::sigmoid(self)
    }
    #[inline(always)]
    fn fast_tanh(self) -> Self {
        self.tanh()
    }
}
