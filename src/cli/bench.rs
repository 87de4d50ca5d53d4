//! `seqlab bench`: the reference workloads' training and sampling speed, optionally side
//! by side with the PyTorch script `bench/torch_lstm.py` shipped in this repository.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::bench::{
    default_threads, run_workload, workload, BenchOptions, BenchResult, Workload, WORKLOADS,
};

/// Measure training and sampling speed on the reference workloads.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  seqlab bench
  seqlab bench medium large --iters 50 --json
  seqlab bench --compare --python /tmp/torchenv/bin/python")]
pub struct BenchArgs {
    /// Workloads to run (tiny, small, medium, large); all four when none is given.
    pub workloads: Vec<String>,

    /// Print one JSON object per line per workload instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Timed training iterations per workload (after 3 warm-up iterations).
    #[arg(long, default_value_t = 30, allow_negative_numbers = true, value_parser = super::args::whole_usize)]
    pub iters: usize,

    /// Threads; default: the trainer's measured choice per workload (two where the
    /// minibatch splits over two threads and the second core is free, else one), or
    /// OPENBLAS_NUM_THREADS when set.
    #[arg(long, allow_negative_numbers = true, value_parser = super::args::whole_usize)]
    pub threads: Option<usize>,

    /// Characters to sample per workload.
    #[arg(long, default_value_t = 2000, allow_negative_numbers = true, value_parser = super::args::whole_usize)]
    pub samples: usize,

    /// Also run the PyTorch reference script with 1 and 2 threads, alternating with
    /// seqlab, and print the ratios against PyTorch's better result.
    #[arg(long)]
    pub compare: bool,

    /// Alternating rounds per workload (seqlab, then PyTorch with 1 and 2 threads when
    /// comparing); each side's best round is reported, since on a shared machine other
    /// work only ever slows a run down.
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = super::args::whole_usize)]
    pub rounds: usize,

    /// The PyTorch reference script (for --compare); default: `bench/torch_lstm.py` of
    /// the repository seqlab was built from.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/torch_lstm.py"))]
    pub torch_script: PathBuf,

    /// Python interpreter with PyTorch installed (for --compare).
    #[arg(long, default_value = "python3")]
    pub python: String,

    /// Size of the square sgemm that measures the machine's peak rate.
    #[arg(long, default_value_t = 2048, allow_negative_numbers = true, value_parser = super::args::whole_usize)]
    pub sgemm_size: usize,
}

/// What the PyTorch script printed (its JSON keys).
#[derive(Clone, Debug, serde::Deserialize, Serialize)]
struct TorchResult {
    threads: usize,
    train_tokens_per_s: f64,
    sample_chars_per_s: f64,
}

/// PyTorch's better result of its thread settings, per figure.
#[derive(Clone, Debug, Serialize)]
struct TorchBest {
    train_tokens_per_s: f64,
    train_threads: usize,
    sample_chars_per_s: f64,
    sample_threads: usize,
}

fn best_of(runs: &[TorchResult]) -> TorchBest {
    let train = runs
        .iter()
        .max_by(|a, b| a.train_tokens_per_s.total_cmp(&b.train_tokens_per_s))
        .expect("at least one run");
    let sample = runs
        .iter()
        .max_by(|a, b| a.sample_chars_per_s.total_cmp(&b.sample_chars_per_s))
        .expect("at least one run");
    TorchBest {
        train_tokens_per_s: train.train_tokens_per_s,
        train_threads: train.threads,
        sample_chars_per_s: sample.sample_chars_per_s,
        sample_threads: sample.threads,
    }
}

/// seqlab's better round: training and sampling figures each from their best round,
/// the fraction of the sgemm peak against the best peak measured.
fn best_of_ours(a: BenchResult, b: BenchResult) -> BenchResult {
    let (mut best, other) = if b.train_tokens_per_s > a.train_tokens_per_s {
        (b, a)
    } else {
        (a, b)
    };
    best.sample_chars_per_s = best.sample_chars_per_s.max(other.sample_chars_per_s);
    best.peak_rss_bytes = best.peak_rss_bytes.max(other.peak_rss_bytes);
    // against the best sgemm rate measured in any round
    best.sgemm_peak_gflops = best.sgemm_peak_gflops.max(other.sgemm_peak_gflops);
    if best.sgemm_peak_gflops > 0.0 {
        best.peak_fraction = best.gflops / best.sgemm_peak_gflops;
    }
    best
}

/// One JSON line: seqlab's figures, plus PyTorch's and the ratios with --compare.
#[derive(Serialize)]
struct JsonLine<'a> {
    #[serde(flatten)]
    seqlab: &'a BenchResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    torch: Option<&'a TorchBest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    train_ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sample_ratio: Option<f64>,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let workloads = selected(&args.workloads)?;
    if args.iters == 0 || args.samples == 0 || args.rounds == 0 {
        bail!("--iters, --samples and --rounds must be at least 1");
    }
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    if args.compare {
        check_torch(args)?;
    }
    let info = crate::blas::blas_info();
    // the sgemm peak per thread count: measured once, and again in every further round
    // of a workload (the best is kept, like the rounds themselves)
    let mut peaks: Vec<(usize, f64)> = Vec::new();
    let mut peak_for = |threads: usize, again: bool| -> f64 {
        let i = match peaks.iter().position(|(t, _)| *t == threads) {
            Some(i) if !again => return peaks[i].1,
            Some(i) => i,
            None => {
                peaks.push((threads, 0.0));
                peaks.len() - 1
            }
        };
        let p = crate::blas::measure_sgemm_gflops(args.sgemm_size, threads);
        peaks[i].1 = peaks[i].1.max(p);
        peaks[i].1
    };
    if !args.json {
        println!("BLAS: {info}");
    }
    let mut rows = Vec::new();
    for w in &workloads {
        let threads = args.threads.unwrap_or_else(|| default_threads(w));
        let opts = BenchOptions {
            iters: args.iters,
            samples: args.samples,
            threads,
            seed: 0,
        };
        // alternate: seqlab, PyTorch 1 thread, PyTorch 2 threads; each side's best round
        let mut result: Option<BenchResult> = None;
        let mut runs = Vec::new();
        for round in 0..args.rounds {
            let peak = peak_for(threads, round > 0);
            let r = run_workload(*w, &opts, peak);
            result = Some(match result {
                Some(best) => best_of_ours(best, r),
                None => r,
            });
            if args.compare {
                for t in [1, 2] {
                    runs.push(run_torch(args, w, t)?);
                }
            }
        }
        let result = result.expect("at least one round");
        let torch = args.compare.then(|| best_of(&runs));
        if args.json {
            let line = JsonLine {
                seqlab: &result,
                torch: torch.as_ref(),
                train_ratio: torch
                    .as_ref()
                    .map(|t| result.train_tokens_per_s / t.train_tokens_per_s),
                sample_ratio: torch
                    .as_ref()
                    .map(|t| result.sample_chars_per_s / t.sample_chars_per_s),
            };
            println!("{}", serde_json::to_string(&line)?);
        } else if torch.is_none() {
            print_row(&result, rows.is_empty());
        }
        rows.push((result, torch));
    }
    if args.compare && !args.json {
        print_comparison(&rows);
    }
    Ok(ExitCode::SUCCESS)
}

fn selected(names: &[String]) -> anyhow::Result<Vec<Workload>> {
    if names.is_empty() {
        return Ok(WORKLOADS.to_vec());
    }
    names
        .iter()
        .map(|n| {
            workload(n).with_context(|| {
                let all: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
                format!("unknown workload `{n}`: choose from {}", all.join(", "))
            })
        })
        .collect()
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("?".into(), |b| format!("{:.0} MiB", b as f64 / 1048576.0))
}

fn print_row(r: &BenchResult, header: bool) {
    if header {
        println!(
            "{:<8} {:>7} {:>12} {:>8} {:>7} {:>10} {:>15} {:>10}",
            "workload",
            "threads",
            "train tok/s",
            "GFLOP/s",
            "% peak",
            "sgemm peak",
            "sample chars/s",
            "peak RSS"
        );
    }
    println!(
        "{:<8} {:>7} {:>12.0} {:>8.1} {:>6.0}% {:>10.1} {:>15.0} {:>10}",
        r.config,
        r.threads,
        r.train_tokens_per_s,
        r.gflops,
        100.0 * r.peak_fraction,
        r.sgemm_peak_gflops,
        r.sample_chars_per_s,
        mib(r.peak_rss_bytes)
    );
}

fn print_comparison(rows: &[(BenchResult, Option<TorchBest>)]) {
    println!(
        "\n| workload | seqlab train tok/s | PyTorch train tok/s | ratio | seqlab sample chars/s | PyTorch sample chars/s | ratio | seqlab GFLOP/s | % of sgemm peak | sgemm peak GFLOP/s | kernel | seqlab threads |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    for (r, t) in rows {
        let t = t.as_ref().expect("compare rows have PyTorch figures");
        println!(
            "| {} | {:.0} | {:.0} ({}t) | {:.2}x | {:.0} | {:.0} ({}t) | {:.1}x | {:.1} | {:.0}% | {:.1} | {} | {} |",
            r.config,
            r.train_tokens_per_s,
            t.train_tokens_per_s,
            t.train_threads,
            r.train_tokens_per_s / t.train_tokens_per_s,
            r.sample_chars_per_s,
            t.sample_chars_per_s,
            t.sample_threads,
            r.sample_chars_per_s / t.sample_chars_per_s,
            r.gflops,
            100.0 * r.peak_fraction,
            r.sgemm_peak_gflops,
            r.blas_kernel,
            r.threads
        );
    }
    if let Some((r, _)) = rows.last() {
        println!("\npeak RSS of seqlab: {}", mib(r.peak_rss_bytes));
    }
}

/// The child's environment: seqlab's own kernel restart must not leak into PyTorch.
fn torch_command(args: &BenchArgs) -> Command {
    let mut cmd = Command::new(&args.python);
    if std::env::var_os(crate::blas::RESTART_GUARD_VAR).is_some() {
        cmd.env_remove(crate::blas::CORETYPE_VAR);
        cmd.env_remove(crate::blas::RESTART_GUARD_VAR);
    }
    cmd
}

fn check_torch(args: &BenchArgs) -> anyhow::Result<()> {
    if !args.torch_script.is_file() {
        bail!(
            "--compare needs the PyTorch script, not found at {} (give its path with --torch-script)",
            args.torch_script.display()
        );
    }
    let out = torch_command(args)
        .args(["-c", "import torch"])
        .output()
        .with_context(|| {
            format!(
                "--compare: cannot run `{}` (give a Python with --python)",
                args.python
            )
        })?;
    if !out.status.success() {
        bail!(
            "--compare: PyTorch is not installed for `{}` (install it, e.g. `pip install torch`, or give another interpreter with --python)",
            args.python
        );
    }
    Ok(())
}

fn run_torch(args: &BenchArgs, w: &Workload, threads: usize) -> anyhow::Result<TorchResult> {
    let out = torch_command(args)
        .arg(&args.torch_script)
        .arg(w.name)
        .args(["--threads", &threads.to_string()])
        .args(["--iters", &args.iters.to_string()])
        .args(["--samples", &args.samples.to_string()])
        .output()
        .with_context(|| format!("running {} {}", args.python, args.torch_script.display()))?;
    if !out.status.success() {
        bail!(
            "the PyTorch script failed on {}: {}",
            w.name,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .with_context(|| format!("the PyTorch script printed no JSON line for {}", w.name))?;
    serde_json::from_str(line)
        .with_context(|| format!("reading the PyTorch script's output `{line}`"))
}
