//! A pre-packed `f32` matrix product for the recurrent per-step products of the
//! recurrent layers: `C (M, N) += A (M, K) B (K, N)` where `B` (a recurrent weight
//! matrix or its transpose) is the same for every step of a segment.
//!
//! BLAS repacks `B` on every call; at the sizes of one time step (`M` = batch, a few
//! dozen rows) the packing costs as much as the product. Here `B` is packed once per
//! segment ([`PackedB`]) into column panels of [`NR`] columns (`K` rows of `NR`
//! contiguous values each, zero-padded on the right), and a register-blocked
//! micro-kernel computes [`MR`] rows x [`NR`] columns of `C` at a time: broadcast one `A`
//! value per row, load the panel's row, fused multiply-add. The kernel is chosen at run
//! time: AVX-512 (two 16-lane accumulators per row, masked edges), AVX2 + FMA (four
//! 8-lane accumulators per row, 4-row blocks), or portable scalar code.
//!
//! With 2 threads ([`super::pool::threads`]), the caller and one persistent helper
//! thread ([`super::pool`]; started
//! on first use, spinning up to 2 ms between products and then parking) claim panels one at
//! a time from an atomic counter: a step's hand-over costs about a microsecond, and a
//! helper that is slow to wake or descheduled only leaves more panels to the caller.
//! Every element of `C` is a sum over `k` in increasing order computed by one thread, so
//! the result does not depend on the split: 2 threads are bit-identical to 1 on the same
//! CPU (`tests/recurrent_gemm.rs`). Only `f32` uses this path; `f64` (gradient checks,
//! PyTorch reference tests) keeps BLAS.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use super::pool::{with_helper, SharedMut};

/// Columns per packed panel.
pub const NR: usize = 32;
/// Rows of `C` per micro-kernel call (AVX-512 and scalar; AVX2 uses 4).
pub const MR: usize = 8;

/// `B (K, N)` packed into `ceil(N / NR)` panels of `K x NR` values.
#[derive(Default, Clone)]
pub struct PackedB {
    k: usize,
    n: usize,
    data: Vec<f32>,
    /// Offset of the first panel in `data` (64-byte alignment).
    start: usize,
}

impl PackedB {
    /// An empty buffer (sized on the first pack).
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows of `B` (the product's inner dimension).
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of `B`.
    pub fn n(&self) -> usize {
        self.n
    }

    fn panels(&self) -> usize {
        self.n.div_ceil(NR)
    }

    fn reserve(&mut self, k: usize, n: usize) {
        self.k = k;
        self.n = n;
        let len = n.div_ceil(NR) * k * NR + 16;
        if self.data.len() != len {
            // only when the shape changes: packing again reuses the buffer
            self.data = vec![0.0; len];
        }
        let addr = self.data.as_ptr() as usize;
        self.start = (64 - addr % 64) % 64 / std::mem::size_of::<f32>();
    }

    fn panel(&self, p: usize) -> &[f32] {
        let len = self.k * NR;
        &self.data[self.start + p * len..self.start + (p + 1) * len]
    }

    /// Packs `B = W` for a row-major `w (K, N)`.
    pub fn pack(&mut self, w: &[f32], k: usize, n: usize) {
        assert_eq!(w.len(), k * n, "pack: w must be (k, n)");
        self.reserve(k, n);
        let (start, len) = (self.start, k * NR);
        for p in 0..self.panels() {
            let (c0, c1) = (p * NR, ((p + 1) * NR).min(n));
            let panel = &mut self.data[start + p * len..start + (p + 1) * len];
            for (kk, dst) in panel.chunks_exact_mut(NR).enumerate() {
                dst[..c1 - c0].copy_from_slice(&w[kk * n + c0..kk * n + c1]);
                dst[c1 - c0..].iter_mut().for_each(|v| *v = 0.0);
            }
        }
    }

    /// Packs `B = W^T` for a row-major `w (N, K)` (e.g. `W_hh^T` from `W_hh (4H, H)`).
    pub fn pack_transposed(&mut self, w: &[f32], n: usize, k: usize) {
        assert_eq!(w.len(), k * n, "pack_transposed: w must be (n, k)");
        self.reserve(k, n);
        let (start, len) = (self.start, k * NR);
        for p in 0..self.panels() {
            let (c0, c1) = (p * NR, ((p + 1) * NR).min(n));
            let panel = &mut self.data[start + p * len..start + (p + 1) * len];
            panel.iter_mut().for_each(|v| *v = 0.0);
            for (j, row) in w.chunks_exact(k).enumerate().take(c1).skip(c0) {
                let jj = j - c0;
                for (kk, &v) in row.iter().enumerate() {
                    panel[kk * NR + jj] = v;
                }
            }
        }
    }
}

/// `C += A B` for a row-major `a (M, K)` with row stride `lda`, packed `b (K, N)`, and a
/// row-major `c (M, N)` with row stride `ldc`, on up to `threads` threads (at most 2:
/// the caller and one persistent helper).
pub fn gemm_acc(
    a: &[f32],
    lda: usize,
    m: usize,
    b: &PackedB,
    c: &mut [f32],
    ldc: usize,
    threads: usize,
) {
    gemm_acc_with(best_kernel(), a, lda, m, b, c, ldc, threads);
}

/// [`gemm_acc`] with a given micro-kernel (one of [`available_kernels`]; for tests).
///
/// # Panics
/// If `kernel` is not available on this CPU.
#[allow(clippy::too_many_arguments)]
pub fn gemm_acc_with(
    kernel: Kernel,
    a: &[f32],
    lda: usize,
    m: usize,
    b: &PackedB,
    c: &mut [f32],
    ldc: usize,
    threads: usize,
) {
    assert!(
        kernel == best_kernel() || kernel.is_available(),
        "{kernel:?} kernel not available on this CPU"
    );
    let (k, n) = (b.k, b.n);
    if m == 0 || n == 0 {
        return;
    }
    assert!(lda >= k && ldc >= n, "gemm_acc: row strides too small");
    assert!(a.len() >= (m - 1) * lda + k, "gemm_acc: a too short");
    assert!(c.len() >= (m - 1) * ldc + n, "gemm_acc: c too short");
    let panels = b.panels();
    // Products this small are not worth waking a second thread.
    if threads >= 2 && panels >= 2 && m * n * k >= 1 << 18 {
        // Both threads claim panels one at a time from a shared counter, so when the
        // helper is slow to wake (or descheduled) this thread simply does more of them.
        let next = AtomicUsize::new(0);
        let cptr = SharedMut(c.as_mut_ptr());
        let job = || {
            let cp = cptr;
            loop {
                let p = next.fetch_add(1, Ordering::Relaxed);
                if p >= panels {
                    break;
                }
                // SAFETY: each panel (a disjoint column range of `c`, bounds checked
                // above) is claimed by exactly one thread; `a` and `b` are only read.
                unsafe { run_panels(kernel, a, lda, m, b, cp.0, ldc, p..p + 1) }
            }
        };
        if with_helper(&job) {
            return;
        }
    }
    // SAFETY: bounds checked above.
    unsafe { run_panels(kernel, a, lda, m, b, c.as_mut_ptr(), ldc, 0..panels) }
}

/// Computes the panels `range` of `C += A B`.
///
/// # Safety
/// `c` must be valid for writes of `(m - 1) * ldc + n` values, and no other thread may
/// touch the columns of these panels meanwhile; `a` must hold `m` rows of `lda >= k`.
#[allow(clippy::too_many_arguments)]
unsafe fn run_panels(
    kernel: Kernel,
    a: &[f32],
    lda: usize,
    m: usize,
    b: &PackedB,
    c: *mut f32,
    ldc: usize,
    range: std::ops::Range<usize>,
) {
    let (k, n) = (b.k, b.n);
    // every tile: up to `mr` rows of `A` / `C` against one panel
    let tiles =
        |mr: usize, tile: &mut dyn FnMut(usize, *const f32, *const f32, *mut f32, usize)| {
            for p in range.clone() {
                let panel = b.panel(p).as_ptr();
                let cols = (n - p * NR).min(NR);
                let mut r = 0;
                while r < m {
                    let rows = (m - r).min(mr);
                    tile(
                        rows,
                        a.as_ptr().add(r * lda),
                        panel,
                        c.add(r * ldc + p * NR),
                        cols,
                    );
                    r += rows;
                }
            }
        };
    #[cfg(target_arch = "x86_64")]
    {
        if kernel == Kernel::Avx512 {
            tiles(MR, &mut |rows, ap, panel, cp, cols| {
                // SAFETY: `level` checked AVX-512F; pointers in bounds as documented.
                match rows {
                    8 => avx512::tile::<8>(k, ap, lda, panel, cp, ldc, cols),
                    7 => avx512::tile::<7>(k, ap, lda, panel, cp, ldc, cols),
                    6 => avx512::tile::<6>(k, ap, lda, panel, cp, ldc, cols),
                    5 => avx512::tile::<5>(k, ap, lda, panel, cp, ldc, cols),
                    4 => avx512::tile::<4>(k, ap, lda, panel, cp, ldc, cols),
                    3 => avx512::tile::<3>(k, ap, lda, panel, cp, ldc, cols),
                    2 => avx512::tile::<2>(k, ap, lda, panel, cp, ldc, cols),
                    _ => avx512::tile::<1>(k, ap, lda, panel, cp, ldc, cols),
                }
            });
            return;
        }
        if kernel == Kernel::Avx2 {
            tiles(4, &mut |rows, ap, panel, cp, cols| {
                // SAFETY: `level` checked AVX2 and FMA; pointers as documented.
                match rows {
                    4 => avx2::tile::<4>(k, ap, lda, panel, cp, ldc, cols),
                    3 => avx2::tile::<3>(k, ap, lda, panel, cp, ldc, cols),
                    2 => avx2::tile::<2>(k, ap, lda, panel, cp, ldc, cols),
                    _ => avx2::tile::<1>(k, ap, lda, panel, cp, ldc, cols),
                }
            });
            return;
        }
    }
    tiles(MR, &mut |rows, ap, panel, cp, cols| {
        let mut acc = [[0.0f32; NR]; MR];
        for kk in 0..k {
            let bk = std::slice::from_raw_parts(panel.add(kk * NR), NR);
            for (i, row) in acc.iter_mut().enumerate().take(rows) {
                let av = *ap.add(i * lda + kk);
                row.iter_mut().zip(bk).for_each(|(s, &bv)| *s += av * bv);
            }
        }
        for (i, row) in acc.iter().enumerate().take(rows) {
            let cp = cp.add(i * ldc);
            for (j, &v) in row.iter().enumerate().take(cols) {
                *cp.add(j) += v;
            }
        }
    });
}

/// A micro-kernel of the packed product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Portable code (any CPU).
    Scalar,
    /// AVX2 + FMA, 4 rows x 32 columns.
    Avx2,
    /// AVX-512F, 8 rows x 32 columns.
    Avx512,
}

impl Kernel {
    /// Short name (`scalar`, `avx2`, `avx512`).
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }
}

impl Kernel {
    /// Whether this CPU can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => is_x86_feature_detected!("avx512f"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }
}

/// The kernels this CPU can run, slowest first.
pub fn available_kernels() -> Vec<Kernel> {
    [Kernel::Scalar, Kernel::Avx2, Kernel::Avx512]
        .into_iter()
        .filter(|k| k.is_available())
        .collect()
}

/// The kernel [`gemm_acc`] uses: the widest this CPU has (detected once).
pub fn best_kernel() -> Kernel {
    static BEST: OnceLock<Kernel> = OnceLock::new();
    *BEST.get_or_init(|| {
        *available_kernels()
            .last()
            .expect("scalar is always available")
    })
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // register tiles indexed by row and lane group
mod avx512 {
    use super::NR;
    use std::arch::x86_64::*;

    /// `y += W x` for a row-major `w (y.len(), x.len())`.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `w.len() == y.len() * x.len()`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn gemv(w: &[f32], x: &[f32], y: &mut [f32]) {
        let (rows, cols) = (y.len(), x.len());
        let main = cols / 16 * 16;
        let tail: __mmask16 = ((1u32 << (cols - main)) - 1) as u16;
        let (wp, xp) = (w.as_ptr(), x.as_ptr());
        let mut r = 0;
        while r + 4 <= rows {
            let mut acc = [_mm512_setzero_ps(); 4];
            let mut c = 0;
            while c < main {
                let xv = _mm512_loadu_ps(xp.add(c));
                for i in 0..4 {
                    let wv = _mm512_loadu_ps(wp.add((r + i) * cols + c));
                    acc[i] = _mm512_fmadd_ps(wv, xv, acc[i]);
                }
                c += 16;
            }
            if tail != 0 {
                let xv = _mm512_maskz_loadu_ps(tail, xp.add(main));
                for i in 0..4 {
                    let wv = _mm512_maskz_loadu_ps(tail, wp.add((r + i) * cols + main));
                    acc[i] = _mm512_fmadd_ps(wv, xv, acc[i]);
                }
            }
            for i in 0..4 {
                y[r + i] += _mm512_reduce_add_ps(acc[i]);
            }
            r += 4;
        }
        while r < rows {
            let mut acc = _mm512_setzero_ps();
            let mut c = 0;
            while c < main {
                let xv = _mm512_loadu_ps(xp.add(c));
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(wp.add(r * cols + c)), xv, acc);
                c += 16;
            }
            if tail != 0 {
                let xv = _mm512_maskz_loadu_ps(tail, xp.add(main));
                let wv = _mm512_maskz_loadu_ps(tail, wp.add(r * cols + main));
                acc = _mm512_fmadd_ps(wv, xv, acc);
            }
            y[r] += _mm512_reduce_add_ps(acc);
            r += 1;
        }
    }

    /// `C[0..R, 0..cols] += A[0..R, 0..k] panel[0..k, 0..cols]`.
    ///
    /// # Safety
    /// The CPU must have AVX-512F; `a` holds `R` rows of `k` values at stride `lda`,
    /// `panel` holds `k * NR` values, `c` is writable for `R` rows of `cols <= NR`
    /// values at stride `ldc`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tile<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        panel: *const f32,
        c: *mut f32,
        ldc: usize,
        cols: usize,
    ) {
        let mut lo = [_mm512_setzero_ps(); R];
        let mut hi = [_mm512_setzero_ps(); R];
        for kk in 0..k {
            let b0 = _mm512_loadu_ps(panel.add(kk * NR));
            let b1 = _mm512_loadu_ps(panel.add(kk * NR + 16));
            for r in 0..R {
                let av = _mm512_set1_ps(*a.add(r * lda + kk));
                lo[r] = _mm512_fmadd_ps(av, b0, lo[r]);
                hi[r] = _mm512_fmadd_ps(av, b1, hi[r]);
            }
        }
        if cols == NR {
            for r in 0..R {
                let cp = c.add(r * ldc);
                _mm512_storeu_ps(cp, _mm512_add_ps(_mm512_loadu_ps(cp), lo[r]));
                _mm512_storeu_ps(
                    cp.add(16),
                    _mm512_add_ps(_mm512_loadu_ps(cp.add(16)), hi[r]),
                );
            }
        } else {
            let m0: __mmask16 = if cols >= 16 {
                0xffff
            } else {
                ((1u32 << cols) - 1) as u16
            };
            let m1: __mmask16 = if cols <= 16 {
                0
            } else {
                ((1u32 << (cols - 16)) - 1) as u16
            };
            for r in 0..R {
                let cp = c.add(r * ldc);
                let v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, cp), lo[r]);
                _mm512_mask_storeu_ps(cp, m0, v0);
                let v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, cp.add(16)), hi[r]);
                _mm512_mask_storeu_ps(cp.add(16), m1, v1);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // register tiles indexed by row and lane group
mod avx2 {
    use super::NR;
    use std::arch::x86_64::*;

    /// As [`super::avx512::tile`] with four 8-lane accumulators per row.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA; pointers as in [`super::avx512::tile`].
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn tile<const R: usize>(
        k: usize,
        a: *const f32,
        lda: usize,
        panel: *const f32,
        c: *mut f32,
        ldc: usize,
        cols: usize,
    ) {
        let mut acc = [[_mm256_setzero_ps(); 4]; R];
        for kk in 0..k {
            let bp = panel.add(kk * NR);
            let b = [
                _mm256_loadu_ps(bp),
                _mm256_loadu_ps(bp.add(8)),
                _mm256_loadu_ps(bp.add(16)),
                _mm256_loadu_ps(bp.add(24)),
            ];
            for r in 0..R {
                let av = _mm256_set1_ps(*a.add(r * lda + kk));
                for q in 0..4 {
                    acc[r][q] = _mm256_fmadd_ps(av, b[q], acc[r][q]);
                }
            }
        }
        for r in 0..R {
            let cp = c.add(r * ldc);
            if cols == NR {
                for q in 0..4 {
                    let v = _mm256_add_ps(_mm256_loadu_ps(cp.add(8 * q)), acc[r][q]);
                    _mm256_storeu_ps(cp.add(8 * q), v);
                }
            } else {
                let mut tmp = [0.0f32; NR];
                for q in 0..4 {
                    _mm256_storeu_ps(tmp.as_mut_ptr().add(8 * q), acc[r][q]);
                }
                for (j, &v) in tmp.iter().enumerate().take(cols) {
                    *cp.add(j) += v;
                }
            }
        }
    }
}

/// `y += W x` for a row-major `w (R, C)` with `R = y.len()`, `C = x.len()`: an AVX-512
/// kernel (4 rows at a time, 16-lane partial sums) when the CPU has it, else `None`
/// (the caller falls back to BLAS). Results depend only on the shapes, not on threads.
pub fn gemv_acc_f32(w: &[f32], x: &[f32], y: &mut [f32]) -> Option<()> {
    let (rows, cols) = (y.len(), x.len());
    assert_eq!(w.len(), rows * cols, "gemv: W must be (y.len(), x.len())");
    #[cfg(target_arch = "x86_64")]
    {
        if best_kernel() == Kernel::Avx512 {
            // SAFETY: AVX-512F checked; shapes checked above.
            unsafe { avx512::gemv(w, x, y) };
            return Some(());
        }
    }
    None
}

/// `x` as `f32` values when `F` is `f32` (the packed product is for `f32` only; `f64`
/// keeps BLAS).
pub fn as_f32<F: 'static>(x: &[F]) -> Option<&[f32]> {
    if std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>() {
        // SAFETY: `F` is `f32`, so this is the same slice with its own type.
        Some(unsafe { std::slice::from_raw_parts(x.as_ptr().cast::<f32>(), x.len()) })
    } else {
        None
    }
}

/// [`as_f32`] for a mutable slice.
pub fn as_f32_mut<F: 'static>(x: &mut [F]) -> Option<&mut [f32]> {
    if std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>() {
        // SAFETY: `F` is `f32`, so this is the same slice with its own type.
        Some(unsafe { std::slice::from_raw_parts_mut(x.as_mut_ptr().cast::<f32>(), x.len()) })
    } else {
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use ndarray::Array2;

    /// A deterministic `(r, c)` matrix of values in [-0.5, 0.5) for the kernels' tests.
    pub(crate) fn filled(r: usize, c: usize, seed: u32) -> Array2<f32> {
        Array2::from_shape_fn((r, c), |(i, j)| {
            let v = (i as u32 * 131 + j as u32 * 71 + seed * 17) % 97;
            v as f32 / 97.0 - 0.5
        })
    }

    /// The AVX-512 GEMV where the CPU has AVX-512; elsewhere the test says it skips that
    /// kernel and checks what runs instead: the fallback GEMV and the AVX2 packed kernel
    /// on the same one-row products.
    #[test]
    fn gemv_matches_reference_on_odd_shapes() {
        let avx512 = best_kernel() == Kernel::Avx512;
        if !avx512 {
            eprintln!(
                "gemv_matches_reference_on_odd_shapes: no AVX-512 on this CPU, its GEMV is \
                 skipped; checking the fallback GEMV and the {} packed kernel instead",
                best_kernel().name()
            );
        }
        for &(rows, cols) in &[(1, 1), (5, 17), (37, 33), (64, 256), (9, 15)] {
            let w = filled(rows, cols, 1);
            let x: Vec<f32> = (0..cols).map(|j| (j % 7) as f32 * 0.25 - 0.7).collect();
            let mut y: Vec<f32> = (0..rows).map(|i| i as f32 * 0.1).collect();
            let want: Vec<f64> = (0..rows)
                .map(|i| {
                    y[i] as f64
                        + (0..cols)
                            .map(|j| w[[i, j]] as f64 * x[j] as f64)
                            .sum::<f64>()
                })
                .collect();
            let check = |got: &[f32], what: &str| {
                for (a, b) in got.iter().zip(&want) {
                    assert!(
                        (*a as f64 - b).abs() < 1e-4,
                        "{what} {rows}x{cols}: {a} vs {b}"
                    );
                }
            };
            let y0 = y.clone();
            let ran = gemv_acc_f32(w.as_slice().unwrap(), &x, &mut y);
            assert_eq!(
                ran.is_some(),
                avx512,
                "the AVX-512 GEMV runs exactly on AVX-512"
            );
            if avx512 {
                check(&y, "avx512 gemv");
                continue;
            }
            // what `y += W x` runs without AVX-512
            let mut fallback = y0.clone();
            crate::nn::kernels::gemv_acc(w.as_slice().unwrap(), &x, &mut fallback);
            check(&fallback, "fallback gemv");
            // the packed kernels on the one-row product x^T W^T
            for kernel in available_kernels() {
                let mut packed = PackedB::new();
                packed.pack_transposed(w.as_slice().unwrap(), rows, cols);
                let mut c = y0.clone();
                gemm_acc_with(kernel, &x, cols, 1, &packed, &mut c, rows, 1);
                check(&c, kernel.name());
            }
        }
    }
}
