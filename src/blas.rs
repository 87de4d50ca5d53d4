//! The BLAS under every matrix product: which library and kernel are loaded, how many
//! threads it uses, and how fast its sgemm runs on this machine.
//!
//! # Why this module exists
//! Debian's OpenBLAS 0.3.21 is built with `DYNAMIC_ARCH`: it picks its kernels when the
//! shared library loads, before `main`, from the CPU model. On CPUs it does not know
//! (recent Xeons, some AMD parts) it falls back to the SSE3 `Prescott` kernels, whose
//! sgemm is about 5x slower than the AVX-512 `SkylakeX`/`Cooperlake` kernels on the same
//! CPU. The environment variable `OPENBLAS_CORETYPE` overrides the choice, but only if it
//! is set before the library loads. So [`ensure_fast_kernel`], called first in `main`,
//! restarts the program once with that variable set when the loaded kernel is generic
//! and the CPU can do better, and never when the user has set the variable.
//!
//! Kernel names are those OpenBLAS 0.3.21 accepts in `OPENBLAS_CORETYPE` and returns
//! from `openblas_get_corename`: `Katmai Coppermine Northwood Prescott Banias Atom Core2
//! Penryn Dunnington Nehalem Athlon Opteron Opteron_SSE3 Barcelona Nano Sandybridge
//! Bobcat Bulldozer Piledriver Haswell Steamroller Excavator Zen SkylakeX Cooperlake`
//! (an unknown name is ignored silently, which is why a restart checks the result).
//!
//! # Threads
//! OpenBLAS keeps one global thread count ([`set_threads`], [`threads`]); it starts from
//! `OPENBLAS_NUM_THREADS` (or `GOTO_NUM_THREADS`, `OMP_NUM_THREADS`) or the number of
//! cores. This module is the thin binding: the policy that chooses a run's threads and
//! sets them (with seqlab's own threads) is [`crate::threads`].
//!
//! This module knows nothing of files, the CLI or the GUI; callers show
//! [`BlasInfo`] and [`KernelDecision`] (both `Display` and `Serialize`).

use std::ffi::{c_char, c_int, CStr};
use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ndarray::linalg::general_mat_mul;
use ndarray::Array2;
use serde::Serialize;

// Links libopenblas (the `system` feature emits the link line).
use openblas_src as _;

/// The environment variable OpenBLAS reads once, at load time, to force a kernel.
pub const CORETYPE_VAR: &str = "OPENBLAS_CORETYPE";

/// Set by [`ensure_fast_kernel`] on the restarted process, to the kernel OpenBLAS had
/// chosen before the restart. Its presence means "do not restart again".
pub const RESTART_GUARD_VAR: &str = "SEQLAB_BLAS_REEXEC";

mod ffi {
    use std::ffi::{c_char, c_int};

    extern "C" {
        pub fn openblas_get_corename() -> *const c_char;
        pub fn openblas_get_config() -> *const c_char;
        pub fn openblas_get_num_threads() -> c_int;
        pub fn openblas_set_num_threads(num_threads: c_int);
    }
}

fn c_string(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: OpenBLAS returns pointers to static NUL-terminated strings.
    unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .trim()
        .to_owned()
}

/// The kernel OpenBLAS chose at load time, e.g. `SkylakeX` or `Prescott`.
pub fn kernel_name() -> String {
    // SAFETY: no arguments; returns a static string.
    c_string(unsafe { ffi::openblas_get_corename() })
}

/// OpenBLAS's build description, e.g.
/// `OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64`.
pub fn config_string() -> String {
    // SAFETY: no arguments; returns a static string.
    c_string(unsafe { ffi::openblas_get_config() })
}

/// OpenBLAS's current thread count (1 for a single-threaded build).
pub fn threads() -> usize {
    // SAFETY: reads a global.
    let n = unsafe { ffi::openblas_get_num_threads() };
    n.max(1) as usize
}

/// Sets OpenBLAS's global thread count (at least 1). OpenBLAS does not clamp it to the
/// number of cores, so more threads than cores oversubscribe. Call it between matrix
/// products, not while another thread is inside one.
pub fn set_threads(n: usize) {
    let n = n.clamp(1, c_int::MAX as usize) as c_int;
    // SAFETY: sets a global; OpenBLAS grows its thread pool if needed.
    unsafe { ffi::openblas_set_num_threads(n) }
}

/// `"OpenBLAS 0.3.21"` from a config string that starts `OpenBLAS 0.3.21 ...`; the first
/// word alone if there is no version, and `"OpenBLAS"` if the string is empty.
pub fn library_from_config(config: &str) -> String {
    let mut words = config.split_whitespace();
    match (words.next(), words.next()) {
        (Some(name), Some(version)) if version.starts_with(|c: char| c.is_ascii_digit()) => {
            format!("{name} {version}")
        }
        (Some(name), _) => name.to_owned(),
        (None, _) => "OpenBLAS".to_owned(),
    }
}

/// What BLAS this process runs on; `Display` gives
/// `OpenBLAS 0.3.21 kernel SkylakeX, 2 threads`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlasInfo {
    /// Library and version, e.g. `OpenBLAS 0.3.21`.
    pub library: String,
    /// The kernel chosen at load time, e.g. `SkylakeX`.
    pub kernel: String,
    /// OpenBLAS's thread count now.
    pub threads: usize,
    /// seqlab's own threads when training splits its work itself (OpenBLAS then runs
    /// each call on one thread; see [`crate::threads::ThreadGuard`]), else 0.
    pub own_threads: usize,
    /// The full build description from `openblas_get_config`.
    pub config: String,
}

/// Reads the library, kernel, thread count and build description from OpenBLAS
/// (`own_threads` 0: this binding does not know seqlab's own threads;
/// [`crate::threads::info`] gives the whole setup).
pub fn blas_info() -> BlasInfo {
    let config = config_string();
    BlasInfo {
        library: library_from_config(&config),
        kernel: kernel_name(),
        threads: threads(),
        own_threads: 0,
        config,
    }
}

impl fmt::Display for BlasInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.own_threads >= 2 {
            return write!(
                f,
                "{} kernel {}, {} threads (split by seqlab, BLAS calls on 1 each)",
                self.library, self.kernel, self.own_threads
            );
        }
        let s = if self.threads == 1 { "" } else { "s" };
        write!(
            f,
            "{} kernel {}, {} thread{s}",
            self.library, self.kernel, self.threads
        )
    }
}

/// True for OpenBLAS's pre-AVX kernels (SSE-era Intel, AMD and VIA cores), which it
/// falls back to on CPUs it does not recognise, and for `Unknown`/`generic`.
///
/// A name this list does not know (say `SapphireRapids` from a newer OpenBLAS) is *not*
/// generic: newer releases add kernels for newer CPUs, and restarting such a process
/// onto `SkylakeX` would be a downgrade.
pub fn is_generic_kernel(name: &str) -> bool {
    const GENERIC: [&str; 19] = [
        "Unknown",
        "generic",
        "Katmai",
        "Coppermine",
        "Northwood",
        "Prescott",
        "Banias",
        "Atom",
        "Core2",
        "Penryn",
        "Dunnington",
        "Nehalem",
        "Athlon",
        "Opteron",
        "Opteron_SSE3",
        "Opteron(SSE3)",
        "Barcelona",
        "Nano",
        "Bobcat",
    ];
    let name = name.trim();
    name.is_empty() || GENERIC.iter().any(|g| g.eq_ignore_ascii_case(name))
}

/// The fastest OpenBLAS 0.3.21 kernel this CPU (and OS) can run, or `None` when it has
/// no AVX2+FMA or is not x86-64 (then there is nothing better than what OpenBLAS chose).
///
/// AVX-512 F/BW/DQ/VL gives `SkylakeX`, or `Cooperlake` when AVX512-BF16 is present too:
/// that is the kernel OpenBLAS itself picks for such CPUs when it recognises them, and
/// on an AMD Zen 5 its sgemm measured at least as fast as `SkylakeX`. AVX2 with FMA gives
/// `Haswell` (also what 0.3.21's `Zen` kernel is built from).
pub fn best_kernel_for_cpu() -> Option<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512dq")
            && is_x86_feature_detected!("avx512vl")
        {
            if is_x86_feature_detected!("avx512bf16") {
                return Some("Cooperlake");
            }
            return Some("SkylakeX");
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Some("Haswell");
        }
        None
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        None
    }
}

/// What [`ensure_fast_kernel`] found and did about the BLAS kernel; shown by
/// `seqlab --version` and kept in run records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum KernelDecision {
    /// OpenBLAS chose a non-generic kernel by itself.
    AlreadyGood,
    /// OpenBLAS chose the generic `from`; the process restarted itself and now runs `to`.
    Fixed { from: String, to: String },
    /// The user set `OPENBLAS_CORETYPE` to `value`; seqlab leaves it alone.
    UserSet { value: String },
    /// The kernel is generic and stays so, for the stated reason.
    CannotFix { reason: String },
}

impl fmt::Display for KernelDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyGood => write!(f, "kernel chosen by OpenBLAS"),
            Self::Fixed { from, to } => write!(
                f,
                "restarted with {CORETYPE_VAR}={to} (OpenBLAS had chosen the generic {from})"
            ),
            Self::UserSet { value } => write!(f, "{CORETYPE_VAR}={value} set by the user"),
            Self::CannotFix { reason } => write!(f, "generic kernel kept: {reason}"),
        }
    }
}

/// Everything the kernel decision depends on, gathered by [`ensure_fast_kernel`] from
/// OpenBLAS, the CPU and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelInputs<'a> {
    /// The kernel OpenBLAS loaded (`openblas_get_corename`).
    pub loaded: &'a str,
    /// [`best_kernel_for_cpu`].
    pub cpu_best: Option<&'static str>,
    /// `OPENBLAS_CORETYPE` if set and not empty.
    pub coretype_var: Option<&'a str>,
    /// [`RESTART_GUARD_VAR`] if set: this process is the restarted one, and the value is
    /// the kernel that was loaded before the restart.
    pub restarted_from: Option<&'a str>,
}

/// What to do about the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelAction {
    /// Carry on with the loaded kernel.
    Keep(KernelDecision),
    /// Restart the process with `OPENBLAS_CORETYPE=to`.
    Restart { to: &'static str },
}

/// The kernel decision as a pure function of its inputs (every branch is tested).
///
/// In order: a restarted process reports whether the restart worked (it never restarts
/// again); a user's `OPENBLAS_CORETYPE` is respected; a non-generic kernel is kept; a
/// generic one is replaced by the CPU's best if there is one.
pub fn decide_kernel(inputs: KernelInputs<'_>) -> KernelAction {
    let KernelInputs {
        loaded,
        cpu_best,
        coretype_var,
        restarted_from,
    } = inputs;
    if let Some(from) = restarted_from {
        let asked = coretype_var.unwrap_or("(unset)");
        let decision = if is_generic_kernel(loaded) {
            KernelDecision::CannotFix {
                reason: format!(
                    "restarted with {CORETYPE_VAR}={asked} but OpenBLAS still chose {loaded}"
                ),
            }
        } else {
            KernelDecision::Fixed {
                from: from.to_owned(),
                to: loaded.to_owned(),
            }
        };
        return KernelAction::Keep(decision);
    }
    if let Some(value) = coretype_var {
        return KernelAction::Keep(KernelDecision::UserSet {
            value: value.to_owned(),
        });
    }
    if !is_generic_kernel(loaded) {
        return KernelAction::Keep(KernelDecision::AlreadyGood);
    }
    match cpu_best {
        Some(to) => KernelAction::Restart { to },
        None => KernelAction::Keep(KernelDecision::CannotFix {
            reason: format!("OpenBLAS chose {loaded} and this CPU has no AVX2+FMA kernel to offer"),
        }),
    }
}

static DECISION: OnceLock<KernelDecision> = OnceLock::new();

/// Makes sure OpenBLAS runs a fast kernel; call it first in `main`, before any other
/// thread exists and before anything is printed.
///
/// If OpenBLAS loaded a generic kernel on a CPU with AVX2 or AVX-512, `OPENBLAS_CORETYPE`
/// is not set and this is not already the restarted process, it replaces the process
/// (same executable, `argv[0]` and arguments) with one started with
/// `OPENBLAS_CORETYPE=<best>`, so on success it does not return. Otherwise it returns
/// the decision, which [`kernel_decision`] also gives later. If the restart fails the
/// process carries on with the generic kernel and the decision says why.
pub fn ensure_fast_kernel() -> KernelDecision {
    let loaded = kernel_name();
    let coretype = non_empty_var(CORETYPE_VAR);
    let guard = std::env::var(RESTART_GUARD_VAR).ok();
    let inputs = KernelInputs {
        loaded: &loaded,
        cpu_best: best_kernel_for_cpu(),
        coretype_var: coretype.as_deref(),
        restarted_from: guard.as_deref(),
    };
    let decision = match decide_kernel(inputs) {
        KernelAction::Keep(decision) => decision,
        KernelAction::Restart { to } => KernelDecision::CannotFix {
            reason: restart_with_kernel(to, &loaded),
        },
    };
    DECISION.get_or_init(|| decision).clone()
}

/// The decision [`ensure_fast_kernel`] made in this process, if it was called.
pub fn kernel_decision() -> Option<&'static KernelDecision> {
    DECISION.get()
}

fn non_empty_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Replaces this process with itself plus `OPENBLAS_CORETYPE=to`; returns only on
/// failure, with the reason.
#[cfg(unix)]
fn restart_with_kernel(to: &str, loaded: &str) -> String {
    use std::io::Write;
    use std::os::unix::process::CommandExt;

    let hint = format!("start seqlab with {CORETYPE_VAR}={to} to use the faster kernel");
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(err) => return format!("cannot find the running executable ({err}); {hint}"),
    };
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(&exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    command
        .args(args)
        .env(CORETYPE_VAR, to)
        .env(RESTART_GUARD_VAR, loaded);
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let err = command.exec();
    format!("restarting {} failed ({err}); {hint}", exe.display())
}

#[cfg(not(unix))]
fn restart_with_kernel(to: &str, _loaded: &str) -> String {
    format!("seqlab cannot restart itself on this platform; start it with {CORETYPE_VAR}={to}")
}

/// The thread count the user asked OpenBLAS for through the environment
/// (`OPENBLAS_NUM_THREADS`, else `GOTO_NUM_THREADS`, else `OMP_NUM_THREADS`, as OpenBLAS
/// reads them), if any.
pub fn user_threads() -> Option<usize> {
    [
        "OPENBLAS_NUM_THREADS",
        "GOTO_NUM_THREADS",
        "OMP_NUM_THREADS",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok()?.trim().parse::<usize>().ok())
    .filter(|&n| n > 0)
}

/// The sgemm rate on two OpenBLAS threads over the rate on one, from a short probe
/// ([`probe_second_core`], ~10 ms), measured once per process and only when the shapes
/// allow two threads ([`crate::threads::threads_policy`]).
pub fn second_core_speedup() -> f64 {
    static SPEEDUP: OnceLock<f64> = OnceLock::new();
    *SPEEDUP.get_or_init(probe_second_core)
}

/// Side of the probe's square products: 256^3 multiply-adds take ~0.1-0.2 ms on one
/// core of the reference VM, so each window holds a dozen or more.
pub const PROBE_SIZE: usize = 256;

/// Length of one timed window of the probe.
pub const PROBE_WINDOW: Duration = Duration::from_millis(2);

/// Measures [`second_core_speedup`]: `PROBE_SIZE`^3 sgemm products on one OpenBLAS thread
/// and on two, each side the best of two `PROBE_WINDOW` windows after a 1 ms warm-up
/// (about 10 ms in all; a busy second core only ever slows the two-thread windows).
/// OpenBLAS's thread count is restored afterwards.
pub fn probe_second_core() -> f64 {
    let warm = Duration::from_millis(1);
    let one = sgemm_rate(PROBE_SIZE, 1, warm, PROBE_WINDOW, 2);
    let two = sgemm_rate(PROBE_SIZE, 2, warm / 2, PROBE_WINDOW, 2);
    if one > 0.0 {
        two / one
    } else {
        1.0
    }
}

/// The machine's sgemm rate in GFLOP/s: `ndarray::linalg::general_mat_mul` (which calls
/// `cblas_sgemm`) on two `n x n` f32 matrices with `threads` OpenBLAS threads, counting
/// `2 n^3` FLOPs per product. After 0.1 s of warm-up (OpenBLAS starts its threads and the
/// core its clocks) it times three windows of at least 0.1 s and reports the best, since
/// on a shared machine other work only ever slows a window down. OpenBLAS's thread count
/// is restored afterwards.
pub fn measure_sgemm_gflops(n: usize, threads: usize) -> f64 {
    const WINDOW: Duration = Duration::from_millis(100);
    sgemm_rate(n, threads, WINDOW, WINDOW, 3) / 1e9
}

/// FLOP/s of `n x n` f32 products on `threads` OpenBLAS threads: the best of `rounds`
/// windows of at least `window` after `warm_up` (at least one product each).
fn sgemm_rate(n: usize, threads: usize, warm_up: Duration, window: Duration, rounds: usize) -> f64 {
    assert!(n > 0, "sgemm size must be positive");
    let before = self::threads();
    set_threads(threads);
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.1 - 0.5);
    let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 5 + j * 2) % 13) as f32 * 0.1 - 0.6);
    let mut c = Array2::<f32>::zeros((n, n));
    let mut products_for = |window: Duration| {
        let start = Instant::now();
        let mut products = 0u32;
        while products == 0 || start.elapsed() < window {
            general_mat_mul(1.0, &a, &b, 0.0, &mut c);
            products += 1;
        }
        (products, start.elapsed().as_secs_f64())
    };
    products_for(warm_up);
    let flops_per_product = 2.0 * (n as f64).powi(3);
    let best = (0..rounds)
        .map(|_| {
            let (products, seconds) = products_for(window);
            flops_per_product * f64::from(products) / seconds
        })
        .fold(0.0, f64::max);
    set_threads(before);
    best
}
