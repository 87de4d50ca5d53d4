//! Masks: which `(step, example)` positions are real. A mask is `(T, B)` with 1 for a
//! real position and 0 for padding; `None` means every position is real. Which steps
//! the layers run on, given a batch's feature and label masks, is the stack's decision
//! ([`super::network::step_mask`]).

use ndarray::ArrayView2;

use super::Float;

/// Mask value at `(t, b)`, 1 when there is no mask. Panics (programmer error) when
/// `(t, b)` is outside a given `(T, B)` mask.
#[inline(always)]
pub fn mask_at<F: Float>(mask: Option<ArrayView2<F>>, t: usize, b: usize) -> F {
    match mask {
        None => F::one(),
        Some(m) => m[[t, b]],
    }
}
