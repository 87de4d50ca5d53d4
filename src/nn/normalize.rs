//! Gradient normalisation (DL4J's set plus PyTorch's global-norm clip) and the
//! per-tensor / per-layer statistics the UI charts.

use std::ops::Range;

use super::params::ParamSpec;
use super::pool::SPLIT_FROM;
use super::updater::UpdateSums;
use super::Float;

/// How gradients are normalised before the update.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum GradientNormalization {
    /// Gradients as they are.
    #[default]
    None,
    /// Divide each layer's gradient by its L2 norm.
    RenormalizeL2PerLayer,
    /// Divide each parameter tensor's gradient by its L2 norm.
    RenormalizeL2PerParamType,
    /// Clamp every element to `[-threshold, threshold]`.
    ClipElementWiseAbsoluteValue {
        /// The clipping threshold.
        threshold: f64,
    },
    /// Scale a layer's gradient down to L2 norm `threshold` when above it.
    ClipL2PerLayer {
        /// The clipping threshold.
        threshold: f64,
    },
    /// Scale a tensor's gradient down to L2 norm `threshold` when above it.
    ClipL2PerParamType {
        /// The clipping threshold.
        threshold: f64,
    },
    /// PyTorch's `clip_grad_norm_`: scale all gradients by
    /// `max_norm / (total_norm + 1e-6)` when that is below 1.
    ClipGlobalL2 {
        /// Largest global L2 norm.
        max_norm: f64,
    },
}

/// Norms of one parameter tensor around one update.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TensorStats {
    /// `layers.{k}.{name}`
    pub name: String,
    /// Layer index; the output layer is `layers.len()`.
    pub layer: usize,
    /// L2 norm of the gradient before normalisation.
    pub grad_norm: f64,
    /// L2 norm of the parameters after the update.
    pub param_norm: f64,
    /// L2 norm of the update.
    pub update_norm: f64,
}

impl TensorStats {
    /// The update:parameter ratio (DL4J UI's key chart; ~1e-3 is healthy).
    pub fn ratio(&self) -> f64 {
        if self.param_norm > 0.0 {
            self.update_norm / self.param_norm
        } else {
            0.0
        }
    }
}

/// Statistics of one update: per tensor, per layer, and the global gradient norm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepStats {
    /// Per tensor, in buffer order.
    pub tensors: Vec<TensorStats>,
    /// Per layer (norms over the layer's tensors), the output layer last.
    pub layers: Vec<TensorStats>,
    /// L2 norm of all gradients before normalisation.
    pub global_grad_norm: f64,
}

impl StepStats {
    /// Combines the gradient sums of squares (before normalisation) and the update sums.
    pub fn from_sums(specs: &[ParamSpec], grad_sq: &[f64], updates: &[UpdateSums]) -> Self {
        let tensors: Vec<TensorStats> = specs
            .iter()
            .zip(grad_sq.iter().zip(updates))
            .map(|(s, (&g, u))| TensorStats {
                name: s.full_name(),
                layer: s.layer,
                grad_norm: g.sqrt(),
                param_norm: u.param_sq.sqrt(),
                update_norm: u.update_sq.sqrt(),
            })
            .collect();
        let n_layers = specs.iter().map(|s| s.layer + 1).max().unwrap_or(0);
        let mut layers = Vec::with_capacity(n_layers);
        for k in 0..n_layers {
            let (mut g, mut p, mut u) = (0.0, 0.0, 0.0);
            for (s, (&gs, us)) in specs.iter().zip(grad_sq.iter().zip(updates)) {
                if s.layer == k {
                    g += gs;
                    p += us.param_sq;
                    u += us.update_sq;
                }
            }
            layers.push(TensorStats {
                name: format!("layers.{k}"),
                layer: k,
                grad_norm: g.sqrt(),
                param_norm: p.sqrt(),
                update_norm: u.sqrt(),
            });
        }
        let global_grad_norm = grad_sq.iter().sum::<f64>().sqrt();
        StepStats {
            tensors,
            layers,
            global_grad_norm,
        }
    }

    /// [`Self::from_sums`] into `self`, reusing its vectors and names when they already
    /// describe `specs` (then nothing is allocated).
    pub fn update_from_sums(
        &mut self,
        specs: &[ParamSpec],
        grad_sq: &[f64],
        updates: &[UpdateSums],
    ) {
        let n_layers = specs.iter().map(|s| s.layer + 1).max().unwrap_or(0);
        let same_shape = self.tensors.len() == specs.len()
            && self.layers.len() == n_layers
            && self
                .tensors
                .iter()
                .zip(specs)
                .all(|(t, s)| t.layer == s.layer && t.name.ends_with(s.name));
        if !same_shape {
            *self = Self::from_sums(specs, grad_sq, updates);
            return;
        }
        for l in &mut self.layers {
            l.grad_norm = 0.0;
            l.param_norm = 0.0;
            l.update_norm = 0.0;
        }
        // layer sums of squares accumulate in the norm fields, square-rooted below
        for ((t, s), (&g, u)) in self
            .tensors
            .iter_mut()
            .zip(specs)
            .zip(grad_sq.iter().zip(updates))
        {
            t.grad_norm = g.sqrt();
            t.param_norm = u.param_sq.sqrt();
            t.update_norm = u.update_sq.sqrt();
            let l = &mut self.layers[s.layer];
            l.grad_norm += g;
            l.param_norm += u.param_sq;
            l.update_norm += u.update_sq;
        }
        for l in &mut self.layers {
            l.grad_norm = l.grad_norm.sqrt();
            l.param_norm = l.param_norm.sqrt();
            l.update_norm = l.update_norm.sqrt();
        }
        self.global_grad_norm = grad_sq.iter().sum::<f64>().sqrt();
    }
}

/// Sum of squares of every tensor's gradient (one pass), written into `out`.
pub fn grad_sums<F: Float>(grads: &[F], specs: &[ParamSpec], out: &mut [f64]) {
    for (s, o) in specs.iter().zip(out.iter_mut()) {
        // two halves (on two threads when own threads are on), added in order
        let g = &grads[s.range()];
        let [a, b] = super::pool::halves(g.len(), 64, SPLIT_FROM, &|r| sum_sq(&g[r]));
        *o = a + b;
    }
}

/// Sum of squares in `f64`, gathered in eight lanes (vectorised).
fn sum_sq<F: Float>(xs: &[F]) -> f64 {
    const L: usize = 8;
    let mut lanes = [0.0f64; L];
    super::kernels::dispatch(
        #[inline(always)]
        || {
            for c in xs.chunks_exact(L) {
                for l in 0..L {
                    lanes[l] += c[l].f64() * c[l].f64();
                }
            }
        },
    );
    let tail: f64 = xs[xs.len() / L * L..]
        .iter()
        .map(|&g| g.f64() * g.f64())
        .sum();
    lanes.iter().sum::<f64>() + tail
}

/// Applies `norm` in place, given the per-tensor sums of squares from [`grad_sums`].
pub fn normalize<F: Float>(
    norm: GradientNormalization,
    grads: &mut [F],
    specs: &[ParamSpec],
    layer_ranges: &[Range<usize>],
    grad_sq: &[f64],
) {
    let scale = |g: &mut [F], s: f64| {
        let s = F::c(s);
        let ptr = super::pool::SharedMut(g.as_mut_ptr());
        super::pool::halves(g.len(), 64, SPLIT_FROM, &|r| {
            // SAFETY: the two halves are disjoint parts of `g`, borrowed here.
            let part = unsafe { ptr.slice(r.start, r.len()) };
            part.iter_mut().for_each(|v| *v *= s);
        });
    };
    let layer_sq = |k: usize| -> f64 {
        specs
            .iter()
            .zip(grad_sq)
            .filter(|(s, _)| s.layer == k)
            .map(|(_, &g)| g)
            .sum()
    };
    match norm {
        GradientNormalization::None => {}
        GradientNormalization::RenormalizeL2PerLayer => {
            for (k, r) in layer_ranges.iter().enumerate() {
                let n = layer_sq(k).sqrt();
                if n > 0.0 {
                    scale(&mut grads[r.clone()], 1.0 / n);
                }
            }
        }
        GradientNormalization::RenormalizeL2PerParamType => {
            for (s, &g) in specs.iter().zip(grad_sq) {
                if g > 0.0 {
                    scale(&mut grads[s.range()], 1.0 / g.sqrt());
                }
            }
        }
        GradientNormalization::ClipElementWiseAbsoluteValue { threshold } => {
            let t = F::c(threshold);
            grads.iter_mut().for_each(|v| *v = v.max(-t).min(t));
        }
        GradientNormalization::ClipL2PerLayer { threshold } => {
            for (k, r) in layer_ranges.iter().enumerate() {
                let n = layer_sq(k).sqrt();
                if n > threshold {
                    scale(&mut grads[r.clone()], threshold / n);
                }
            }
        }
        GradientNormalization::ClipL2PerParamType { threshold } => {
            for (s, &g) in specs.iter().zip(grad_sq) {
                let n = g.sqrt();
                if n > threshold {
                    scale(&mut grads[s.range()], threshold / n);
                }
            }
        }
        GradientNormalization::ClipGlobalL2 { max_norm } => {
            let total = grad_sq.iter().sum::<f64>().sqrt();
            let coef = max_norm / (total + 1e-6);
            if coef < 1.0 {
                scale(grads, coef);
            }
        }
    }
}
