//! The one owner of the thread setting: how many threads a run uses, and the guard that
//! sets them and puts the previous setting back.
//!
//! Two globals make up the setting: OpenBLAS's thread count ([`crate::blas`], the thin
//! binding) and seqlab's own threads ([`crate::nn::pool`], the numeric core's helper
//! thread). Only this module writes them, always together, through [`ThreadGuard`]:
//! a run holds its guard for as long as it trains (the trainer keeps it), and dropping
//! it restores what was there before, so one run's choice never leaks into the next.

use std::fmt;

use crate::blas::{self, BlasInfo};
use crate::nn::pool;

/// Two OpenBLAS threads must run the probe's sgemm ([`blas::probe_second_core`]) this many
/// times as fast as one for [`training_threads`] to use them: on a shared VM whose
/// second vCPU is busy with other work, every split measured was slower than one thread.
pub const MIN_TWO_THREAD_SPEEDUP: f64 = 1.3;

/// The measured thread policy as a pure function, for a network whose widest recurrent
/// layer has `hidden` units, trained on minibatches of `batch` examples: two threads when
/// the machine has two cores, the recurrence can split its batch
/// ([`crate::nn::pool::batch_split_shape`]: at least 4 examples and per-step products of
/// at least 2^18 multiply-adds) and the second core is really free (`second_core_speedup`
/// at least [`MIN_TWO_THREAD_SPEEDUP`]; only called when the rest allows two); else one.
/// Never more than two: more were not measured to help at the sizes seqlab reaches, and
/// the GUI thread needs a core of its own.
///
/// Measured on the 2-vCPU reference VM (`seqlab bench --compare`, second vCPU idle):
/// two threads with the batch split made small, medium and large 1.3-1.6x as fast as
/// one; tiny (one example per minibatch) cannot split and stays on one.
pub fn threads_policy(
    batch: usize,
    hidden: usize,
    cores: usize,
    second_core_speedup: impl FnOnce() -> f64,
) -> usize {
    let splits = crate::nn::pool::batch_split_shape(batch, 4 * hidden, hidden);
    if cores >= 2 && splits && second_core_speedup() >= MIN_TWO_THREAD_SPEEDUP {
        2
    } else {
        1
    }
}

/// The default thread count for training: the user's `OPENBLAS_NUM_THREADS` (see
/// [`blas::user_threads`]) if set, else [`threads_policy`] for this machine's cores and
/// [`blas::second_core_speedup`]. The trainer (window and `--run`) and `seqlab bench` both
/// use it.
pub fn training_threads(batch: usize, hidden: usize) -> usize {
    blas::user_threads().unwrap_or_else(|| {
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
        threads_policy(batch, hidden, cores, blas::second_core_speedup)
    })
}

/// The thread setup in force now: OpenBLAS's library, kernel and thread count, and
/// seqlab's own threads; `Display` gives e.g. `OpenBLAS 0.3.21 kernel SkylakeX, 2
/// threads` (what a run records in `run.ron` and the window shows).
pub fn info() -> BlasInfo {
    BlasInfo {
        own_threads: match pool::own_threads() {
            1 => 0,
            n => n,
        },
        ..blas::blas_info()
    }
}

/// A thread setting in force; dropping it restores the setting it replaced (OpenBLAS's
/// count and seqlab's own threads).
#[must_use = "the setting is undone when the guard is dropped"]
pub struct ThreadGuard {
    blas_before: usize,
    own_before: usize,
    setup: BlasInfo,
}

impl ThreadGuard {
    /// Sets up `threads` for training a network whose widest batch-splitting layer has
    /// `hidden` units, on minibatches of `batch`: OpenBLAS's thread count, and, when two
    /// threads can split the batch ([`pool::batch_split_shape`]), seqlab's own two
    /// threads with OpenBLAS single-threaded (the mode [`pool::set_own_threads`]
    /// describes). The trainer (window and `--run`) and `seqlab bench` both use it.
    pub fn training(threads: usize, batch: usize, hidden: usize) -> Self {
        let own = threads >= 2 && pool::batch_split_shape(batch, 4 * hidden, hidden);
        if own {
            Self::set(1, threads)
        } else {
            Self::set(threads, 0)
        }
    }

    /// Sets OpenBLAS to `blas_threads` (at least 1) and seqlab's own threads to `own`
    /// (0 or 1 = off, 2 = on; see [`pool::set_own_threads`]).
    pub fn set(blas_threads: usize, own: usize) -> Self {
        let blas_before = blas::threads();
        blas::set_threads(blas_threads);
        let own_before = pool::set_own_threads(own);
        ThreadGuard {
            blas_before,
            own_before,
            setup: info(),
        }
    }

    /// What this guard set up (see [`info`]).
    pub fn setup(&self) -> &BlasInfo {
        &self.setup
    }

    /// The threads the run really uses: seqlab's own when on, else OpenBLAS's.
    pub fn threads(&self) -> usize {
        if self.setup.own_threads >= 2 {
            self.setup.own_threads
        } else {
            self.setup.threads
        }
    }
}

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        pool::set_own_threads(self.own_before);
        blas::set_threads(self.blas_before);
    }
}

impl fmt::Debug for ThreadGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ThreadGuard({})", self.setup)
    }
}
