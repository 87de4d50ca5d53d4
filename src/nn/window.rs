//! What the recurrent layers share: the weight gradients of a whole backward window in
//! one GEMM each ([`accumulate_window`]), and sparse (one-hot) input products that touch
//! only the weight columns of the non-zero inputs.
//!
//! Shapes: `x (T, B, I)`, hidden states `(T, B, H)`, pre-activation gradients
//! `(T, B, G)` with `G = gates * H` (4H LSTM, 3H GRU, H RNN).

use std::ops::Range;

use ndarray::{s, ArrayView2, ArrayView3, ArrayViewMut3};

use super::pool::SharedMut;
use super::Float;

/// Gradient slices of a recurrent layer for [`accumulate_window`].
pub struct WindowGrads<'a, F> {
    /// `None`: the caller has accumulated it.
    pub gw_ih: Option<&'a mut [F]>,
    /// `gW_hh (G, H)`.
    pub gw_hh: &'a mut [F],
    /// `None`: the caller has accumulated it.
    pub gb_ih: Option<&'a mut [F]>,
    /// `gb_hh (G)` with two biases (gets the same gradient as `gb_ih`).
    pub gb_hh: Option<&'a mut [F]>,
    /// Scratch for a sparse input (see [`is_sparse`]): with it, `gW_ih` is accumulated
    /// from the non-zero inputs alone instead of by a dense GEMM.
    pub sparse_scratch: Option<&'a mut Vec<F>>,
}

/// At most one in eight entries non-zero (e.g. one-hot characters): input products
/// then touch only the weights of the non-zero entries.
pub fn is_sparse<F: Float>(x: &[F]) -> bool {
    let nnz = x.iter().filter(|&&v| v != F::zero()).count();
    nnz * 8 <= x.len()
}

/// `z (N, G) = x (N, I) W^T` for a sparse `x` and `w_t = W^T (I, G)`: each row of `z` is
/// the sum, in increasing `j`, of `x[r, j] W^T[j, ..]` over the non-zero `x[r, j]`.
pub fn sparse_matmul_into<F: Float>(x: &[F], i_len: usize, w_t: &[F], z: &mut [F]) {
    let g_len = w_t.len() / i_len.max(1);
    assert_eq!(w_t.len(), i_len * g_len, "w_t must be (I, G)");
    assert_eq!(
        x.len() / i_len.max(1),
        z.len() / g_len.max(1),
        "rows of x and z"
    );
    super::kernels::dispatch(
        #[inline(always)]
        || {
            for (xr, zr) in x.chunks_exact(i_len).zip(z.chunks_exact_mut(g_len)) {
                sparse_row_into(xr, w_t, zr);
            }
        },
    );
}

/// One row of [`sparse_matmul_into`]: `z (G) = x (I) W^T` for `w_t = W^T (I, G)`.
#[inline(always)]
pub fn sparse_row_into<F: Float>(x: &[F], w_t: &[F], z: &mut [F]) {
    let g_len = z.len();
    z.iter_mut().for_each(|v| *v = F::zero());
    for (j, &v) in x.iter().enumerate() {
        if v != F::zero() {
            let wr = &w_t[j * g_len..(j + 1) * g_len];
            z.iter_mut().zip(wr).for_each(|(zz, &ww)| *zz += v * ww);
        }
    }
}

/// A sparse input's weight gradient for [`column_pass`]: `x (N, I)`, `I`, `gW (G, I)`
/// and the scratch buffer.
type SparseGrad<'a, F> = (&'a [F], usize, &'a mut [F], &'a mut Vec<F>);

/// One pass over the rows of `dz (N, G)`: `gb (G) +=` its column sums and, for a sparse
/// `x (N, I)`, `gW (G, I) += dz^T x` through `scratch` (resized to `I x G`, the
/// transposed sum). With own threads ([`super::pool::set_own_threads`]) the columns
/// are cut into fixed ranges run on the caller and the helper thread; every sum runs
/// over the rows in order either way, so the results do not depend on the threads.
fn column_pass<F: Float>(dz: &[F], gb: &mut [F], sparse: Option<SparseGrad<F>>) {
    let g_len = gb.len();
    if g_len == 0 {
        return;
    }
    let (x, i_len, gw, scratch) = match sparse {
        Some((x, i_len, gw, scratch)) => {
            scratch.resize(i_len * g_len, F::zero());
            scratch.iter_mut().for_each(|v| *v = F::zero());
            (
                x,
                i_len,
                Some(SharedMut(gw.as_mut_ptr())),
                Some(SharedMut(scratch.as_mut_ptr())),
            )
        }
        None => (&[][..], 0, None, None),
    };
    let gb_ptr = SharedMut(gb.as_mut_ptr());
    let run = |cols: Range<usize>| {
        let (gb, gw, scratch) = (gb_ptr, gw, scratch);
        let w = cols.len();
        // SAFETY: `cols` ranges run at the same time are disjoint; `gb` has `g_len`
        // values, `scratch` `i_len * g_len` and `gw` `g_len * i_len` (checked by the
        // caller's shapes); only the columns `cols` of each are touched here.
        let gbs = unsafe { gb.slice(cols.start, w) };
        super::kernels::dispatch(
            #[inline(always)]
            || {
                for (r, row) in dz.chunks_exact(g_len).enumerate() {
                    let d = &row[cols.clone()];
                    gbs.iter_mut().zip(d).for_each(|(g, &v)| *g += v);
                    let Some(sc) = scratch else { continue };
                    for (j, &v) in x[r * i_len..(r + 1) * i_len].iter().enumerate() {
                        if v != F::zero() {
                            // SAFETY: as above, columns `cols` of scratch row `j`.
                            let sr = unsafe { sc.slice(j * g_len + cols.start, w) };
                            sr.iter_mut().zip(d).for_each(|(s, &dv)| *s += v * dv);
                        }
                    }
                }
            },
        );
        if let (Some(gw), Some(sc)) = (gw, scratch) {
            // SAFETY: rows `cols` of gW and columns `cols` of scratch belong to this range.
            let gw_rows = unsafe { gw.slice(cols.start * i_len, w * i_len) };
            let s_rows = (0..i_len).map(|j| &*unsafe { sc.slice(j * g_len + cols.start, w) });
            add_transposed(gw_rows, i_len, s_rows);
        }
    };
    let worth = dz.len() >= 1 << 14 && g_len >= 64;
    super::pool::split_ranges(worth, g_len, 4, 16, &run);
}

/// `gW += S^T` for rows of `gW (G, I)` and the matching columns of a transposed sum
/// `S (I, G)`: `gw_rows` holds the rows, `s_rows` yields for each `j < I` the part of
/// row `j` of `S` in those columns.
pub(crate) fn add_transposed<'a, F: Float + 'a>(
    gw_rows: &mut [F],
    i_len: usize,
    s_rows: impl Iterator<Item = &'a [F]>,
) {
    for (j, s_row) in s_rows.enumerate() {
        for (g, &v) in s_row.iter().enumerate() {
            gw_rows[g * i_len + j] += v;
        }
    }
}

/// Weight gradients of a recurrent layer over the backward window `from..T` in one GEMM
/// each: `gW_ih += dZx^T X`, `gW_hh += dZh^T H_prev`, biases += column sums; and
/// `dx = dZx W_ih` (zero before the window) when asked.
#[allow(clippy::too_many_arguments)]
pub fn accumulate_window<F: Float>(
    from: usize,
    x: ArrayView3<F>,      // (T, B, I)
    h_prev: ArrayView3<F>, // (T, B, H) state before each step
    dzx: ArrayView3<F>,    // (T, B, G) d loss / d input-side pre-activations
    dzh: ArrayView3<F>,    // (T, B, G) d loss / d recurrent-side pre-activations
    w_ih: ArrayView2<F>,   // (G, I)
    grads: WindowGrads<F>,
    dx: Option<ArrayViewMut3<F>>,
) {
    let (t_len, b, i_len) = x.dim();
    let (g_len, h) = (dzx.dim().2, h_prev.dim().2);
    let n = (t_len - from) * b;
    if let Some(mut dx) = dx {
        dx.slice_mut(s![..from, .., ..]).fill(F::zero());
        if n > 0 {
            let dz = dzx.slice(s![from.., .., ..]);
            let dz = dz.to_shape((n, g_len)).expect("contiguous");
            let mut dxr = dx.slice_mut(s![from.., .., ..]);
            let mut dx2 = dxr
                .view_mut()
                .into_shape_with_order((n, i_len))
                .expect("contiguous dx");
            super::pool::par_mat_mul(F::one(), &dz.view(), &w_ih, F::zero(), &mut dx2);
        }
    }
    if n == 0 {
        return;
    }
    let dzx = dzx.slice(s![from.., .., ..]);
    let dzx = dzx.to_shape((n, g_len)).expect("contiguous");
    let dzh = dzh.slice(s![from.., .., ..]);
    let dzh = dzh.to_shape((n, g_len)).expect("contiguous");
    let xr = x.slice(s![from.., .., ..]);
    let xr = xr.to_shape((n, i_len)).expect("contiguous");
    let hp = h_prev.slice(s![from.., .., ..]);
    let hp = hp.to_shape((n, h)).expect("contiguous");
    let dzs = dzx.as_slice().expect("contiguous");
    let sparse_x = match grads.sparse_scratch {
        Some(_) => xr.as_slice().filter(|xs| is_sparse(xs)),
        None => None,
    };
    match (grads.gw_ih, grads.gb_ih, grads.sparse_scratch, sparse_x) {
        (Some(gw), Some(gb), Some(scratch), Some(xs)) => {
            // bias sums and the sparse W_ih gradient in one pass over dz
            column_pass(dzs, gb, Some((xs, i_len, gw, scratch)));
        }
        (gw, gb, _, _) => {
            if let Some(gw) = gw {
                let mut gw = ndarray::ArrayViewMut2::from_shape((g_len, i_len), gw).expect("shape");
                super::pool::par_mat_mul(F::one(), &dzx.t(), &xr.view(), F::one(), &mut gw);
            }
            if let Some(gb) = gb {
                column_pass(dzs, gb, None);
            }
        }
    }
    let mut gw = ndarray::ArrayViewMut2::from_shape((g_len, h), grads.gw_hh).expect("shape");
    super::pool::par_mat_mul(F::one(), &dzh.t(), &hp.view(), F::one(), &mut gw);
    if let Some(gb_hh) = grads.gb_hh {
        column_pass(dzh.as_slice().expect("contiguous"), gb_hh, None);
    }
}
