//! The helper thread pool of the numeric core: one persistent helper thread beside the
//! caller, and the ways work is split over the two (fixed ranges, halves, claimed
//! chunks), so that results never depend on which thread ran what.
//!
//! The thread setting itself is owned above `nn` ([`crate::threads`]): it decides how
//! many threads a run uses, sets OpenBLAS's count and seqlab's own threads here
//! together, and restores both when the run ends. This module only reads the setting.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// Type-erased pointer to the job of the current [`with_helper`] call.
#[derive(Clone, Copy)]
struct JobPtr(*const (dyn Fn() + Sync));

const IDLE: u8 = 0;
const POSTED: u8 = 1;
const TAKEN: u8 = 2;
const DONE: u8 = 3;

struct Shared {
    /// `IDLE`, `POSTED` (by the caller), `TAKEN` (by the helper), `DONE` (by the helper).
    slot: AtomicU8,
    /// The helper is (about to be) parked.
    sleeping: AtomicBool,
    /// Set when a job panicked on the helper (the caller re-raises).
    panicked: AtomicBool,
    job: UnsafeCell<Option<JobPtr>>,
}

// SAFETY: `job` is written only by the caller (holding the pool's mutex) while `slot` is
// `IDLE`, before it releases `POSTED`; the helper reads it only after winning the
// `POSTED -> TAKEN` exchange, and the caller waits for `DONE` before the closure can go
// out of scope (or takes the job back with `POSTED -> IDLE`, after which the helper
// never reads it).
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

struct Helper {
    shared: Arc<Shared>,
    thread: Thread,
}

/// How long the helper spins (yielding) for the next job before parking: covers the
/// serial gaps of a training iteration (weight packing, the update), so that a hand-over
/// costs about a microsecond instead of a wake-up. With 40 us, more than half the
/// parallel sections of medium and large found the helper parked (a wake-up takes tens
/// to hundreds of microseconds on a VM); with 2 ms almost none (medium 3 of 449 posts),
/// and small trained ~8% faster (alternating runs).
const SPIN: Duration = Duration::from_micros(2000);

fn helper() -> &'static Mutex<Option<Helper>> {
    static POOL: OnceLock<Mutex<Option<Helper>>> = OnceLock::new();
    POOL.get_or_init(|| Mutex::new(None))
}

fn helper_loop(shared: Arc<Shared>) {
    loop {
        let mut since = Instant::now();
        let mut spins = 0u32;
        loop {
            if shared.slot.load(Ordering::Relaxed) == POSTED
                && shared
                    .slot
                    .compare_exchange(POSTED, TAKEN, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                break;
            }
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(64) || since.elapsed() < SPIN {
                std::thread::yield_now();
                continue;
            }
            shared.sleeping.store(true, Ordering::SeqCst);
            if shared.slot.load(Ordering::SeqCst) != POSTED {
                std::thread::park();
            }
            shared.sleeping.store(false, Ordering::SeqCst);
            since = Instant::now();
        }
        // SAFETY: see `Shared`: we won `POSTED -> TAKEN`, so the job is live until we
        // store `DONE`.
        let job = unsafe { (*shared.job.get()).expect("posted job") };
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { (*job.0)() }));
        if run.is_err() {
            shared.panicked.store(true, Ordering::SeqCst);
        }
        shared.slot.store(DONE, Ordering::Release);
    }
}

/// Runs `job` on this thread and, if it wakes in time, on the helper thread too (the job
/// must share its work through atomics), and returns when every run has finished.
/// Returns `false` without running anything when the helper is busy (another network is
/// using it) or cannot be started.
pub(crate) fn with_helper(job: &(dyn Fn() + Sync)) -> bool {
    let Ok(mut guard) = helper().try_lock() else {
        return false;
    };
    if guard.is_none() {
        let shared = Arc::new(Shared {
            slot: AtomicU8::new(IDLE),
            sleeping: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            job: UnsafeCell::new(None),
        });
        let s2 = shared.clone();
        let Ok(handle) = std::thread::Builder::new()
            .name("seqlab-gemm".into())
            .spawn(move || helper_loop(s2))
        else {
            return false;
        };
        *guard = Some(Helper {
            shared,
            thread: handle.thread().clone(),
        });
    }
    let h = guard.as_ref().expect("helper started");
    // SAFETY: erases the lifetime of `job`; before returning (also on panic) we either
    // take the job back unread or wait until the helper has finished with it.
    let ptr: *const (dyn Fn() + Sync) = unsafe {
        std::mem::transmute::<*const (dyn Fn() + Sync + '_), *const (dyn Fn() + Sync + 'static)>(
            job,
        )
    };
    // SAFETY: `slot` is `IDLE`, so the helper does not read `job` now (see `Shared`).
    unsafe { *h.shared.job.get() = Some(JobPtr(ptr)) };
    h.shared.slot.store(POSTED, Ordering::SeqCst);
    if h.shared.sleeping.load(Ordering::SeqCst) {
        h.thread.unpark();
    }
    struct Finish<'a>(&'a Shared);
    impl Drop for Finish<'_> {
        fn drop(&mut self) {
            let slot = &self.0.slot;
            if slot
                .compare_exchange(POSTED, IDLE, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return; // the helper never started: all work was done here
            }
            let start = Instant::now();
            let mut spins = 0u32;
            while slot.load(Ordering::Acquire) != DONE {
                spins = spins.wrapping_add(1);
                if spins.is_multiple_of(64) && start.elapsed() > Duration::from_micros(200) {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
            slot.store(IDLE, Ordering::Relaxed);
        }
    }
    {
        let _finish = Finish(&h.shared);
        job();
    }
    if h.shared.panicked.swap(false, Ordering::SeqCst) {
        panic!("recurrent GEMM helper thread panicked");
    }
    true
}

/// seqlab's own thread count while OpenBLAS runs single-threaded ([`set_own_threads`]);
/// 0 = off (OpenBLAS's thread count decides).
static OWN_THREADS: AtomicUsize = AtomicUsize::new(0);

/// Splits the window products over seqlab's own threads: with `n >= 2`, the large
/// window products ([`par_mat_mul`]), the recurrent per-step products ([`threads`]) and
/// the sampling GEMVs are split over the caller and the persistent helper thread (each
/// part a single-threaded BLAS call or a packed kernel); `n <= 1` turns it off. Returns
/// the previous setting. OpenBLAS must run single-threaded meanwhile (its idle worker
/// would spin against the helper): [`crate::threads::ThreadSetup::apply`] sets both
/// together and restores both; call that rather than this.
pub fn set_own_threads(n: usize) -> usize {
    let n = if n >= 2 { n.min(2) } else { 0 };
    OWN_THREADS.swap(n, Ordering::Relaxed)
}

/// seqlab's own threads when set ([`set_own_threads`]), else 1.
pub fn own_threads() -> usize {
    OWN_THREADS.load(Ordering::Relaxed).max(1)
}

/// The threads the recurrent products may use: seqlab's own when set, else OpenBLAS's.
fn team_threads() -> usize {
    match OWN_THREADS.load(Ordering::Relaxed) {
        0 => crate::blas::threads(),
        n => n,
    }
}

/// Tensors at least this long are summed / scaled / updated in two halves on two threads
/// when own threads are on ([`set_own_threads`]).
pub const SPLIT_FROM: usize = 1 << 15;

/// Products of at least this many multiply-adds are split by [`par_mat_mul`].
pub const PAR_FROM_MNK: usize = 1 << 22;

/// Chunks of a split window product (claimed one at a time by the two threads). Each
/// chunk is a BLAS call that packs the shared operand again, so fewer chunks pack less:
/// with the helper spinning between sections (see `SPIN`), 2 chunks trained small,
/// medium and large 2-7% faster than 4 (alternating runs).
const PAR_CHUNKS: usize = 2;

/// Runs `f` on the chunks `0..n` is cut into (`chunks` parts, boundaries multiples of
/// `align`), on the caller and the helper thread; each chunk is run by exactly one
/// thread, and the chunks depend only on `n`, `chunks` and `align`, so the results do not
/// depend on which thread ran what.
pub fn par_ranges(
    n: usize,
    chunks: usize,
    align: usize,
    f: &(dyn Fn(std::ops::Range<usize>) + Sync),
) {
    let align = align.max(1);
    let bound = |c: usize| {
        if c >= chunks {
            n
        } else {
            (n * c / chunks) / align * align
        }
    };
    let next = AtomicUsize::new(0);
    let job = || loop {
        let c = next.fetch_add(1, Ordering::Relaxed);
        if c >= chunks {
            break;
        }
        let (r0, r1) = (bound(c), bound(c + 1));
        if r1 > r0 {
            f(r0..r1);
        }
    };
    if !with_helper(&job) {
        job();
    }
}

/// [`par_ranges`] when own threads are on ([`set_own_threads`]) and `worth` (the work
/// pays for a hand-over), else `f(0..n)` on this thread. For `f` whose results do not
/// depend on how `0..n` is cut.
pub fn split_ranges(
    worth: bool,
    n: usize,
    chunks: usize,
    align: usize,
    f: &(dyn Fn(std::ops::Range<usize>) + Sync),
) {
    if worth && own_threads() >= 2 {
        par_ranges(n, chunks, align, f);
    } else {
        f(0..n);
    }
}

/// `f` on the two halves of `0..n` (split at a multiple of `align`), on the caller and the
/// helper thread when own threads are on ([`set_own_threads`]) and `n >= min_len`, else
/// one after the other; returns the two results in order. The halves depend only on `n`
/// and `align`, so anything combined from the two results in order is the same whichever
/// way it ran.
pub fn halves<R: Copy + Default + Send>(
    n: usize,
    align: usize,
    min_len: usize,
    f: &(dyn Fn(std::ops::Range<usize>) -> R + Sync),
) -> [R; 2] {
    let mid = (n / 2) / align.max(1) * align.max(1);
    if own_threads() < 2 || n < min_len || mid == 0 {
        return [f(0..mid), f(mid..n)];
    }
    let mut out = [R::default(); 2];
    let slots = SharedMut(out.as_mut_ptr());
    // `par_ranges` cuts at the same `mid`; both halves are non-empty
    par_ranges(n, 2, align, &|r| {
        let i = usize::from(r.start == mid);
        // SAFETY: each half (index 0 or 1) is run by one thread while `out` lives here.
        unsafe { slots.slice(i, 1)[0] = f(r) };
    });
    out
}

/// A raw pointer handed to the threads of a split ([`par_ranges`]) that write disjoint
/// parts of one buffer.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut<T>(pub *mut T);
// SAFETY: whoever builds one hands disjoint parts to the threads (see the users).
unsafe impl<T: Send> Send for SharedMut<T> {}
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// `len` values from `offset`.
    ///
    /// # Safety
    /// In bounds of the buffer, live for `'a`, and no other live reference to these
    /// values meanwhile.
    pub(crate) unsafe fn slice<'a>(self, offset: usize, len: usize) -> &'a mut [T] {
        std::slice::from_raw_parts_mut(self.0.add(offset), len)
    }
}

/// `C = alpha A B + beta C` ([`ndarray::linalg::general_mat_mul`]); with own threads
/// ([`set_own_threads`]) and at least [`PAR_FROM_MNK`] multiply-adds, the rows of `C`
/// (and `A`) are cut into [`PAR_CHUNKS`] chunks run on the caller and the helper thread
/// (single-threaded BLAS each).
pub fn par_mat_mul<F>(
    alpha: F,
    a: &ndarray::ArrayView2<F>,
    b: &ndarray::ArrayView2<F>,
    beta: F,
    c: &mut ndarray::ArrayViewMut2<F>,
) where
    F: ndarray::LinalgScalar + Send + Sync,
{
    let (m, k) = a.dim();
    let n = b.ncols();
    let strides = c.strides();
    if own_threads() < 2
        || m < 32
        || m.saturating_mul(n).saturating_mul(k) < PAR_FROM_MNK
        || strides.iter().any(|&s| s < 0)
    {
        ndarray::linalg::general_mat_mul(alpha, a, b, beta, c);
        return;
    }
    assert_eq!(c.dim(), (m, n), "par_mat_mul: c shape");
    let (s0, s1) = (strides[0] as usize, strides[1] as usize);
    let cptr = SharedMut(c.as_mut_ptr());
    par_ranges(m, PAR_CHUNKS, 16, &|r| {
        let cp = cptr;
        // SAFETY: the chunks are disjoint row ranges of `c` (positive strides, checked
        // above), each written by one thread while `c` is borrowed mutably here.
        let mut cv = unsafe {
            ndarray::ArrayViewMut2::from_shape_ptr(
                ndarray::ShapeBuilder::strides((r.len(), n), (s0, s1)),
                cp.0.add(r.start * s0),
            )
        };
        let av = a.slice(ndarray::s![r, ..]);
        ndarray::linalg::general_mat_mul(alpha, &av, b, beta, &mut cv);
    });
}

/// Per-step products of at least this many multiply-adds (`m * n * k`) are split over
/// two threads when the run's thread setting allows it ([`threads`]).
pub const SPLIT_FROM_MNK: usize = 1 << 22;

/// Threads for a recurrent per-step product `(m, k) x (k, n)`: 2 when the run's OpenBLAS
/// thread setting (the `threads` policy, `--threads`, `OPENBLAS_NUM_THREADS`) is at least
/// 2 and the product has at least [`SPLIT_FROM_MNK`] multiply-adds, else 1.
///
/// Measured on the 2-vCPU reference VM (`seqlab bench --threads 2`, 20 iterations,
/// second vCPU idle): splitting the per-step products raised medium (32x1024x256) from
/// ~52k to ~55k tokens/s and large (64x2048x512) from ~38k to ~50k; the small workload's
/// products (32x512x128, 2^21) gained nothing and stay on one thread. With the second
/// vCPU busy with other work, any split (this one or OpenBLAS's) was slower than one
/// thread: that is for the thread setting to decide (see [`crate::threads::training_threads`]).
pub fn threads(m: usize, n: usize, k: usize) -> usize {
    if team_threads() >= 2 && m.saturating_mul(n).saturating_mul(k) >= SPLIT_FROM_MNK {
        2
    } else {
        1
    }
}

/// Whether a recurrent layer splits its batch over two threads: each thread runs the
/// whole segment (per-step products and cell updates) for half of the examples, so the
/// steps need no hand-over between threads. Needs two threads in the run's setting
/// ([`threads`]), at least 4 examples, and per-step products `(b, k) x (k, n)` of at
/// least 2^18 multiply-adds.
///
/// Each example's values are computed by the same code whichever thread runs them, so
/// results are bit-identical to one thread.
pub fn batch_split(b: usize, n: usize, k: usize) -> bool {
    team_threads() >= 2 && batch_split_shape(b, n, k)
}

/// The shape part of [`batch_split`]: at least 4 examples and per-step products of at
/// least 2^18 multiply-adds (smaller steps finish before a second thread would help).
pub fn batch_split_shape(b: usize, n: usize, k: usize) -> bool {
    b >= 4 && b.saturating_mul(n).saturating_mul(k) >= 1 << 18
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::gemm::tests::filled;
    use ndarray::Array2;

    #[test]
    fn split_window_product_matches_blas_and_repeats() {
        // (m, k) x (k, n) with m * n * k >= PAR_FROM_MNK and an odd row count
        let (m, k, n) = (333, 129, 100);
        let a = filled(m, k, 2);
        let b = filled(k, n, 3);
        let mut want = Array2::<f32>::zeros((m, n));
        ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut want);
        let own = set_own_threads(2);
        let mut got = Array2::<f32>::zeros((m, n));
        par_mat_mul(1.0, &a.view(), &b.view(), 0.0, &mut got.view_mut());
        let mut again = Array2::<f32>::zeros((m, n));
        par_mat_mul(1.0, &a.view(), &b.view(), 0.0, &mut again.view_mut());
        set_own_threads(own);
        assert_eq!(got, again, "split product not deterministic");
        for (x, y) in got.iter().zip(want.iter()) {
            assert!((x - y).abs() < 1e-4, "{x} vs {y}");
        }
    }
}
