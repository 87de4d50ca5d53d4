//! The run folder: `run.ron`, `metrics.csv`, `eval.csv`, `samples.txt`,
//! `weights.safetensors`, `best.safetensors`, `checkpoints/`, `summary.json`.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

/// An open run folder being written.
pub struct RunDir {
    pub path: PathBuf,
    metrics: Option<BufWriter<File>>,
    eval: Option<BufWriter<File>>,
    samples: BufWriter<File>,
}

impl RunDir {
    /// Creates the folder (it must not exist or be empty) and writes `run.ron`.
    pub fn create(path: &Path, record: &RunRecord) -> Result<Self, ExperimentError> {
        if path.exists()
            && fs::read_dir(path)
                .map_err(|e| io(path, e))?
                .next()
                .is_some()
        {
            return Err(ExperimentError::Io {
                action: "use",
                path: path.to_path_buf(),
                source: std::io::Error::other("the run folder exists and is not empty"),
                hint: "choose another --out, or continue that run with --resume",
            });
        }
        fs::create_dir_all(path.join("checkpoints")).map_err(|e| io(path, e))?;
        // the settings only: a notebook's transcript is not part of a run's record
        let mut record = record.clone();
        record.experiment.notebook = Default::default();
        let text = ron::ser::to_string_pretty(&record, pretty())
            .map_err(|e| io(path, std::io::Error::other(e.to_string())))?;
        super::file::write_atomic(&path.join("run.ron"), text.as_bytes())?;
        let samples = File::create(path.join("samples.txt")).map_err(|e| io(path, e))?;
        Ok(RunDir {
            path: path.to_path_buf(),
            metrics: None,
            eval: None,
            samples: BufWriter::new(samples),
        })
    }

    /// Reopens a run folder to continue after `iteration`: rows of `metrics.csv` and
    /// `eval.csv` beyond it are dropped (they will be recomputed).
    pub fn reopen(path: &Path, iteration: u64) -> Result<Self, ExperimentError> {
        for name in ["metrics.csv", "eval.csv"] {
            let p = path.join(name);
            if !p.exists() {
                continue;
            }
            let reader = BufReader::new(File::open(&p).map_err(|e| io(&p, e))?);
            let mut kept = String::new();
            for (i, line) in reader.lines().enumerate() {
                let line = line.map_err(|e| io(&p, e))?;
                let it: Option<u64> = line.split(',').next().and_then(|f| f.parse().ok());
                if i == 0 || it.is_some_and(|it| it <= iteration) {
                    kept.push_str(&line);
                    kept.push('\n');
                }
            }
            super::file::write_atomic(&p, kept.as_bytes())?;
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
        let mut samples = BufWriter::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&sp)
                .map_err(|e| io(&sp, e))?,
        );
        writeln!(samples, "== resumed after iteration {iteration} ==").map_err(|e| io(&sp, e))?;
        Ok(RunDir {
            path: path.to_path_buf(),
            metrics,
            eval,
            samples,
        })
    }

    /// Reads `run.ron` of a run folder.
    pub fn read_record(path: &Path) -> Result<RunRecord, ExperimentError> {
        let p = path.join("run.ron");
        let text = fs::read_to_string(&p).map_err(|e| ExperimentError::io("read", &p, e))?;
        super::file::ron_options()
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

    /// Flushes the CSV writers.
    pub fn flush(&mut self) -> Result<(), ExperimentError> {
        for (w, name) in [
            (&mut self.metrics, "metrics.csv"),
            (&mut self.eval, "eval.csv"),
        ] {
            if let Some(w) = w {
                w.flush().map_err(|e| io(&self.path.join(name), e))?;
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
        super::file::write_atomic(
            &self.path.join("checkpoints").join("latest"),
            name.as_bytes(),
        )
    }

    /// The latest checkpoint of a run folder.
    pub fn latest_checkpoint(path: &Path) -> Result<PathBuf, ExperimentError> {
        let p = path.join("checkpoints").join("latest");
        let name = fs::read_to_string(&p).map_err(|e| ExperimentError::io("read", &p, e))?;
        Ok(path.join("checkpoints").join(name.trim()))
    }

    /// Writes `summary.json`.
    pub fn write_summary(&self, summary: &serde_json::Value) -> Result<(), ExperimentError> {
        let text = serde_json::to_string_pretty(summary).expect("json value");
        super::file::write_atomic(&self.path.join("summary.json"), text.as_bytes())
    }
}
