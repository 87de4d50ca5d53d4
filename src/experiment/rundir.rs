//! The run folder: `run.ron`, `metrics.csv`, `eval.csv`, `samples.txt`,
//! `weights.safetensors`, `best.safetensors`, `checkpoints/`, `summary.json`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::notebook::{CurveSource, Notebook, RunDigest, StopReason};
use super::schema::Experiment;
use super::ExperimentError;

/// What `run.ron` records: the fully resolved experiment and the environment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunRecord {
    /// The experiment as run (paths absolute, overrides applied).
    pub experiment: Experiment,
    /// Where the experiment file was.
    pub experiment_file: PathBuf,
    pub seqlab_version: String,
    /// e.g. `OpenBLAS 0.3.21 kernel SkylakeX, 2 threads`
    pub blas: String,
    pub blas_kernel_decision: String,
    /// SHA-256 of every data file read, by path.
    pub data_hashes: Vec<(PathBuf, String)>,
    /// Seconds since the Unix epoch at the start.
    pub started_unix: u64,
    /// The `--set FIELD=VALUE` overrides given on the command line (already applied to
    /// `experiment`).
    pub overrides: Vec<String>,
}

impl Default for RunRecord {
    fn default() -> Self {
        RunRecord {
            experiment: Experiment::default(),
            experiment_file: PathBuf::new(),
            seqlab_version: env!("CARGO_PKG_VERSION").into(),
            blas: String::new(),
            blas_kernel_decision: String::new(),
            data_hashes: Vec::new(),
            started_unix: 0,
            overrides: Vec::new(),
        }
    }
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String, ExperimentError> {
    use sha2::{Digest, Sha256};
    let bytes = fs::read(path).map_err(|e| ExperimentError::io("read", path, e))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn io(path: &Path, e: std::io::Error) -> ExperimentError {
    ExperimentError::io("write", path, e)
}

fn pretty() -> ron::ser::PrettyConfig {
    use ron::extensions::Extensions;
    ron::ser::PrettyConfig::default()
        .extensions(Extensions::UNWRAP_VARIANT_NEWTYPES | Extensions::IMPLICIT_SOME)
}

/// The next numbered folder `<experiment stem>.runs/NNN` beside the experiment file.
pub fn next_run_dir(experiment_file: &Path) -> PathBuf {
    let stem = experiment_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    let root = experiment_file
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!("{stem}.runs"));
    let next = fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .max()
                .map_or(1, |m| m + 1)
        })
        .unwrap_or(1);
    root.join(format!("{next:03}"))
}

/// One row of `metrics.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricsRow<'a> {
    pub iteration: u64,
    pub epoch: u64,
    pub score: f64,
    pub lr: f64,
    pub global_grad_norm: f64,
    /// Per layer: (name, gradient norm, update:parameter ratio).
    pub layers: &'a [(String, f64, f64)],
    pub tokens_per_s: f64,
    pub elapsed_s: f64,
}

/// Columns of `metrics.csv` that depend on timing (left out when comparing runs).
pub const TIMING_COLUMNS: [&str; 2] = ["tokens_per_s", "elapsed_s"];

/// An open run folder being written. It holds an OS lock on the folder's `lock` file
/// for as long as it exists, so two processes never write one run folder.
pub struct RunDir {
    pub path: PathBuf,
    metrics: Option<BufWriter<File>>,
    eval: Option<BufWriter<File>>,
    samples: BufWriter<File>,
    /// The locked `lock` file (released when the process ends, however it ends).
    _lock: File,
}

/// The file of a run folder that is locked while a run writes the folder; it holds the
/// writer's process id.
pub const LOCK_FILE: &str = "lock";

/// Takes the OS lock on `dir/lock` (creating it) and writes this process's id into it.
/// A folder locked by another process is refused with that process's id.
pub fn lock_run_dir(dir: &Path) -> Result<File, ExperimentError> {
    let p = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .map_err(|e| io(&p, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = std::io::Read::read_to_string(&mut file, &mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another seqlab process".to_string()
            } else {
                format!("seqlab process {holder}")
            };
            return Err(ExperimentError::Io {
                action: "lock",
                path: dir.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    format!("the run folder is in use by {who}"),
                ),
                hint: "wait for that run to finish (or stop it), then try again; two runs \
                       never write one folder"
                    .into(),
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(io(&p, e)),
    }
    let pid = format!("{}\n", std::process::id());
    file.set_len(0)
        .and_then(|_| (&file).write_all(pid.as_bytes()))
        .and_then(|_| file.sync_data())
        .map_err(|e| io(&p, e))?;
    Ok(file)
}

/// True when `dir` holds nothing but what a run that never started leaves (an empty
/// `checkpoints/`, an empty `samples.txt`, the lock file): such a folder can be reused.
fn never_started(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.into_iter().all(|e| {
        let Ok(e) = e else { return false };
        let name = e.file_name();
        let p = e.path();
        match name.to_str() {
            Some("checkpoints") => fs::read_dir(&p).is_ok_and(|mut d| d.next().is_none()),
            Some("samples.txt") => fs::metadata(&p).is_ok_and(|m| m.len() == 0),
            Some(LOCK_FILE) => true,
            _ => false,
        }
    })
}

/// Removes temporary files (`*.tmp-<pid>`) that an interrupted atomic write left in the
/// run folder and in `checkpoints/`. Only called with the folder locked, so no other
/// seqlab process is writing them.
fn remove_stale_temp_files(dir: &Path) {
    for folder in [dir.to_path_buf(), dir.join("checkpoints")] {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let stale = name
                .to_str()
                .and_then(|n| n.rsplit_once(".tmp-"))
                .is_some_and(|(_, pid)| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()));
            if stale && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// The rows of a CSV log to keep when a run continues after `iteration`: the header,
/// then every complete row (ending in a newline, with the header's number of fields)
/// whose first field is an iteration <= `iteration`. Torn and later rows are dropped.
pub fn reconcile_csv(text: &str, iteration: u64) -> String {
    let mut kept = String::new();
    let mut fields = None;
    for line in text.split_inclusive('\n') {
        let Some(row) = line.strip_suffix('\n') else {
            break; // torn: the process died while writing this row
        };
        let row = row.strip_suffix('\r').unwrap_or(row);
        let n = row.split(',').count();
        match fields {
            None => fields = Some(n),
            Some(expected) => {
                let it: Option<u64> = row.split(',').next().and_then(|f| f.parse().ok());
                if n != expected || it.is_none_or(|it| it > iteration) {
                    continue;
                }
            }
        }
        kept.push_str(row);
        kept.push('\n');
    }
    kept
}

/// What of `samples.txt` to keep when a run continues after `iteration`: every complete
/// section `== iteration K ==` with K <= `iteration`; later and torn sections are dropped.
pub fn reconcile_samples(text: &str, iteration: u64) -> String {
    let mut kept = String::new();
    let mut keep = true;
    let mut section = String::new();
    let flush = |section: &mut String, keep: bool, kept: &mut String| {
        // a section is complete when it ends with the blank line written after it
        if keep && section.ends_with("\n\n") {
            kept.push_str(section);
        }
        section.clear();
    };
    for line in text.split_inclusive('\n') {
        let header = line
            .strip_prefix("== iteration ")
            .and_then(|r| r.trim_end().strip_suffix(" =="))
            .and_then(|k| k.parse::<u64>().ok());
        if let Some(k) = header {
            flush(&mut section, keep, &mut kept);
            keep = k <= iteration;
        }
        section.push_str(line);
    }
    flush(&mut section, keep, &mut kept);
    kept
}

impl RunDir {
    /// Creates the folder (it must not exist, be empty, or hold only what a run that
    /// never started leaves), locks it and writes `run.ron`. If this fails, what it
    /// created is removed again, so a failed start leaves nothing behind.
    pub fn create(path: &Path, record: &RunRecord) -> Result<Self, ExperimentError> {
        let existed = path.exists();
        if existed && !never_started(path) {
            let (problem, hint) = if !path.is_dir() {
                (
                    "it is a file, not a folder",
                    "give --out the path of a new folder for the run",
                )
            } else if path.join("run.ron").is_file() {
                (
                    "the run folder exists and is not empty",
                    "choose another --out, or continue that run with --resume",
                )
            } else {
                (
                    "the folder exists and holds files that are not a seqlab run",
                    "give --out a new or empty folder",
                )
            };
            return Err(ExperimentError::Io {
                action: "use",
                path: path.to_path_buf(),
                source: std::io::Error::other(problem),
                hint: hint.into(),
            });
        }
        let made = (|| -> Result<Self, ExperimentError> {
            fs::create_dir_all(path).map_err(|e| io(path, e))?;
            let lock = lock_run_dir(path)?;
            fs::create_dir_all(path.join("checkpoints")).map_err(|e| io(path, e))?;
            // the settings only: a notebook's transcript is not part of a run's record
            let mut record = record.clone();
            record.experiment.notebook = Default::default();
            let text = ron::ser::to_string_pretty(&record, pretty())
                .map_err(|e| io(path, std::io::Error::other(e.to_string())))?;
            let sp = path.join("samples.txt");
            let samples = File::create(&sp).map_err(|e| io(&sp, e))?;
            // run.ron last: a folder with run.ron is a started run
            super::io::write_atomic(&path.join("run.ron"), text.as_bytes())?;
            Ok(RunDir {
                path: path.to_path_buf(),
                metrics: None,
                eval: None,
                samples: BufWriter::new(samples),
                _lock: lock,
            })
        })();
        if made.is_err() {
            if existed {
                let _ = fs::remove_dir(path.join("checkpoints"));
                let _ = fs::remove_file(path.join("samples.txt"));
            } else {
                let _ = fs::remove_dir_all(path);
            }
        }
        made
    }

    /// Reopens a run folder to continue after `iteration` (its latest checkpoint): locks
    /// it, removes stale temporary files, and reconciles the logs with the checkpoint:
    /// rows of `metrics.csv` and `eval.csv` and sections of `samples.txt` beyond it, and
    /// rows torn by a kill, are dropped (they will be recomputed).
    pub fn reopen(path: &Path, iteration: u64) -> Result<Self, ExperimentError> {
        let lock = lock_run_dir(path)?;
        remove_stale_temp_files(path);
        for name in ["metrics.csv", "eval.csv", "samples.txt"] {
            let p = path.join(name);
            if !p.exists() {
                continue;
            }
            let bytes = fs::read(&p).map_err(|e| ExperimentError::io("read", &p, e))?;
            let text = String::from_utf8_lossy(&bytes);
            let kept = if name == "samples.txt" {
                reconcile_samples(&text, iteration)
            } else {
                reconcile_csv(&text, iteration)
            };
            if kept.len() != bytes.len() {
                super::io::write_atomic(&p, kept.as_bytes())?;
            }
        }
        let open = |name: &str| -> Result<Option<BufWriter<File>>, ExperimentError> {
            let p = path.join(name);
            if !p.exists() {
                return Ok(None);
            }
            Ok(Some(BufWriter::new(
                OpenOptions::new()
                    .append(true)
                    .open(&p)
                    .map_err(|e| io(&p, e))?,
            )))
        };
        let metrics = open("metrics.csv")?;
        let eval = open("eval.csv")?;
        let sp = path.join("samples.txt");
        let samples = BufWriter::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&sp)
                .map_err(|e| io(&sp, e))?,
        );
        Ok(RunDir {
            path: path.to_path_buf(),
            metrics,
            eval,
            samples,
            _lock: lock,
        })
    }

    /// Reads `summary.json` of a run folder (`None` when the run never finished).
    pub fn read_summary(path: &Path) -> Option<serde_json::Value> {
        let p = path.join("summary.json");
        let bytes = crate::data::read::read_regular(&p).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The checkpoints of a run folder that load, newest first, as (iteration, path).
    pub fn intact_checkpoints(path: &Path) -> Vec<(u64, PathBuf)> {
        let dir = path.join("checkpoints");
        let mut found: Vec<(u64, PathBuf)> = fs::read_dir(&dir)
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| {
                        p.extension().is_some_and(|x| x == "safetensors")
                            && p.file_name()
                                .and_then(|n| n.to_str())
                                .is_some_and(|n| n.starts_with("iter_"))
                    })
                    .filter_map(|p| Some((super::checkpoint::load(&p).ok()?.info.iteration, p)))
                    .collect()
            })
            .unwrap_or_default();
        found.sort_by(|a, b| b.cmp(a));
        found
    }

    /// Reads `run.ron` of a run folder.
    pub fn read_record(path: &Path) -> Result<RunRecord, ExperimentError> {
        let p = path.join("run.ron");
        let bytes =
            crate::data::read::read_regular(&p).map_err(|e| ExperimentError::io("read", &p, e))?;
        let text = String::from_utf8_lossy(crate::data::read::strip_bom(&bytes));
        super::io::ron_options()
            .from_str(&text)
            .map_err(|e| ExperimentError::Weights {
                file: p.clone(),
                tensor: None,
                problem: format!(
                    "not a seqlab run record ({e}); give the folder written by `seqlab --run`"
                ),
            })
    }

    pub fn append_metrics(&mut self, row: &MetricsRow) -> Result<(), ExperimentError> {
        let p = self.path.join("metrics.csv");
        if self.metrics.is_none() {
            let mut w = BufWriter::new(File::create(&p).map_err(|e| io(&p, e))?);
            let mut header = String::from("iteration,epoch,score,lr,grad_norm");
            for (name, _, _) in row.layers {
                header.push_str(&format!(",{name}.grad_norm"));
            }
            for (name, _, _) in row.layers {
                header.push_str(&format!(",{name}.update_ratio"));
            }
            header.push_str(",tokens_per_s,elapsed_s");
            writeln!(w, "{header}").map_err(|e| io(&p, e))?;
            self.metrics = Some(w);
        }
        let w = self.metrics.as_mut().expect("metrics writer");
        let mut line = format!(
            "{},{},{},{},{}",
            row.iteration, row.epoch, row.score, row.lr, row.global_grad_norm
        );
        for (_, g, _) in row.layers {
            line.push_str(&format!(",{g}"));
        }
        for (_, _, r) in row.layers {
            line.push_str(&format!(",{r}"));
        }
        line.push_str(&format!(",{:.1},{:.3}", row.tokens_per_s, row.elapsed_s));
        writeln!(w, "{line}").map_err(|e| io(&p, e))
    }

    /// Appends to `eval.csv`: iteration, split, score, then the named metrics.
    pub fn append_eval(
        &mut self,
        iteration: u64,
        split: &str,
        score: f64,
        metrics: &[(&str, f64)],
    ) -> Result<(), ExperimentError> {
        let p = self.path.join("eval.csv");
        if self.eval.is_none() {
            let mut w = BufWriter::new(File::create(&p).map_err(|e| io(&p, e))?);
            let names: Vec<&str> = metrics.iter().map(|(n, _)| *n).collect();
            writeln!(w, "iteration,split,score,{}", names.join(",")).map_err(|e| io(&p, e))?;
            self.eval = Some(w);
        }
        let w = self.eval.as_mut().expect("eval writer");
        let values: Vec<String> = metrics.iter().map(|(_, v)| v.to_string()).collect();
        writeln!(w, "{iteration},{split},{score},{}", values.join(",")).map_err(|e| io(&p, e))?;
        w.flush().map_err(|e| io(&p, e))
    }

    pub fn append_sample(&mut self, iteration: u64, text: &str) -> Result<(), ExperimentError> {
        let p = self.path.join("samples.txt");
        writeln!(self.samples, "== iteration {iteration} ==\n{text}\n").map_err(|e| io(&p, e))?;
        self.samples.flush().map_err(|e| io(&p, e))
    }

    /// Flushes the logs (`metrics.csv`, `eval.csv`, `samples.txt`) to the operating
    /// system and syncs them to disk: called before a checkpoint is published, so every
    /// row up to the checkpoint survives a kill or a power cut.
    pub fn flush(&mut self) -> Result<(), ExperimentError> {
        for (w, name) in [
            (self.metrics.as_mut(), "metrics.csv"),
            (self.eval.as_mut(), "eval.csv"),
            (Some(&mut self.samples), "samples.txt"),
        ] {
            if let Some(w) = w {
                let p = self.path.join(name);
                w.flush().map_err(|e| io(&p, e))?;
                w.get_ref().sync_data().map_err(|e| io(&p, e))?;
            }
        }
        Ok(())
    }

    /// Path of the checkpoint for `iteration`.
    pub fn checkpoint_path(&self, iteration: u64) -> PathBuf {
        self.path
            .join("checkpoints")
            .join(format!("iter_{iteration:08}.safetensors"))
    }

    /// Records which checkpoint is the latest.
    pub fn set_latest_checkpoint(&self, ck: &Path) -> Result<(), ExperimentError> {
        let name = ck
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        super::io::write_atomic(
            &self.path.join("checkpoints").join("latest"),
            name.as_bytes(),
        )
    }

    /// The latest checkpoint of a run folder.
    pub fn latest_checkpoint(path: &Path) -> Result<PathBuf, ExperimentError> {
        let p = path.join("checkpoints").join("latest");
        let bytes =
            crate::data::read::read_regular(&p).map_err(|e| ExperimentError::io("read", &p, e))?;
        let name = String::from_utf8_lossy(&bytes);
        Ok(path.join("checkpoints").join(name.trim()))
    }

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &serde_json::Value) -> Result<(), ExperimentError> {
        let text = serde_json::to_string_pretty(summary).expect("json value");
        super::io::write_atomic(&self.path.join("summary.json"), text.as_bytes())
    }
}

// ---- the run folder's logs, as the notebook and the window read them ----

/// The `(x, y)` points of two named columns of a run's CSV log (`metrics.csv`,
/// `eval.csv`); `None` when the file or a column is missing. Rows that do not parse
/// (a torn last line) are skipped.
pub fn read_curve(csv: &Path, x: &str, y: &str) -> Option<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(csv).ok()?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next()?.split(',').collect();
    let (xi, yi) = (
        header.iter().position(|h| *h == x)?,
        header.iter().position(|h| *h == y)?,
    );
    Some(
        lines
            .filter_map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                Some((cells.get(xi)?.parse().ok()?, cells.get(yi)?.parse().ok()?))
            })
            .collect(),
    )
}

/// What a run folder's `summary.json` (and `run.ron`'s start time) say; `None` when the
/// folder has no record. A run without a summary (running, or killed) has an empty
/// stop reason.
pub fn read_run_digest(folder: &Path) -> Option<RunDigest> {
    let record = RunDir::read_record(folder).ok()?;
    let mut d = RunDigest {
        started_unix: record.started_unix,
        ..RunDigest::default()
    };
    let Ok(text) = std::fs::read_to_string(folder.join("summary.json")) else {
        return Some(d);
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Some(d);
    };
    d.stop_reason = StopReason::parse(v["stop_reason"].as_str().unwrap_or(""));
    d.iterations = v["iterations"].as_u64().unwrap_or(0);
    d.final_score = v["final_score"].as_f64();
    d.best_score = v["best_score"]
        .as_f64()
        .or_else(|| v["evaluation"]["score"].as_f64());
    d.wall_seconds = v["wall_seconds"].as_f64().unwrap_or(0.0);
    d.error = v["error"].as_str().map(String::from);
    Some(d)
}

/// A run's numeric CSV log (`metrics.csv`): the header and the rows, a cell that does
/// not parse as a number read as NaN. `None` when the file cannot be read or is empty.
/// Rows with fewer fields than the header (a torn last line) are skipped.
pub fn read_log(csv: &Path) -> Option<(Vec<String>, Vec<Vec<f64>>)> {
    let text = std::fs::read_to_string(csv).ok()?;
    let mut lines = text.lines();
    let header: Vec<String> = lines.next()?.split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|cells| cells.len() == header.len())
        .map(|cells| {
            cells
                .iter()
                .map(|c| c.trim().parse().unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    Some((header, rows))
}

/// Writes a run's metrics as one CSV file at `dest` (atomically): every row of its
/// `metrics.csv` with a last column `validation_score`, the validation score logged in
/// `eval.csv` after that iteration (empty where there was none). Returns the rows
/// written.
///
/// # Errors
/// The run folder has no `metrics.csv` (names the file), or `dest` cannot be written.
pub fn export_metrics_csv(run: &Path, dest: &Path) -> Result<usize, super::ExperimentError> {
    let metrics = run.join("metrics.csv");
    let text = std::fs::read_to_string(&metrics)
        .map_err(|e| super::ExperimentError::io("read", &metrics, e))?;
    let validation: std::collections::HashMap<String, String> =
        std::fs::read_to_string(run.join("eval.csv"))
            .map(|t| {
                t.lines()
                    .skip(1)
                    .filter_map(|l| {
                        let c: Vec<&str> = l.split(',').collect();
                        (c.len() >= 3 && c[1] == "validation")
                            .then(|| (c[0].to_string(), c[2].to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
    let mut lines = text.lines();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let header = lines.next().unwrap_or("");
    out.push_str(header);
    out.push_str(",validation_score\n");
    let width = header.split(',').count();
    let mut rows = 0;
    for l in lines.filter(|l| l.split(',').count() == width) {
        let iteration = l.split(',').next().unwrap_or("");
        out.push_str(l);
        out.push(',');
        out.push_str(validation.get(iteration).map_or("", String::as_str));
        out.push('\n');
        rows += 1;
    }
    super::io::write_text_atomic(dest, &out)?;
    Ok(rows)
}

/// The points of a notebook curve, read from its run's log (`None` when the file or a
/// column is missing).
pub fn read_curve_source(src: &CurveSource, base: &Path) -> Option<Vec<(f64, f64)>> {
    let folder = if src.run.is_absolute() {
        src.run.clone()
    } else {
        base.join(&src.run)
    };
    read_curve(&folder.join(&src.file), &src.x, &src.y)
}

/// Reads the points of a notebook's run-log curves back from their runs' logs (after
/// opening); a curve whose run folder is gone stays empty.
pub fn read_notebook_curves(nb: &mut Notebook, base: &Path) {
    for line in nb.lines_mut() {
        if let Some(src) = &line.source {
            line.points = read_curve_source(src, base).unwrap_or_default();
        }
    }
}
