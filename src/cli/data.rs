//! `seqlab data`: read CSV sequence files exactly as an experiment would and print the
//! first minibatch after alignment, as a grid or as JSON.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::data::{
    load_csv, AlignmentMode, CsvDataConfig, CsvOptions, DataError, Delimiter, LabelSource,
    SeqBatch, SequenceDataset, SequenceSource, Task,
};

/// Preview how CSV sequence files are read, aligned, padded and masked.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  seqlab data walks/ --classes 3 --align end
  seqlab data 'uci/features/%d.csv' --labels 'uci/labels/%d.csv' --range 0..9 \\
      --classes 6 --align end --json")]
pub struct DataArgs {
    /// Feature files: one file, a directory (every file, natural sort), a glob such as
    /// `'dir/features_*.csv'` (natural sort), or a numbered pattern such as
    /// `dir/seq_%d.csv` or `dir/seq_%04d.csv` (with --range).
    pub features: String,

    /// Label files paired with the feature files by position (same forms as FEATURES). A
    /// one-line label file is many-to-one. Without it, labels are a column of the feature
    /// files (--label-column).
    #[arg(long)]
    pub labels: Option<String>,

    /// Inclusive index range for numbered patterns: `0..9` (or `0..=9`) reads 10 files;
    /// `3..` reads from 3 until a file is missing. Refused with anything but a pattern.
    #[arg(long)]
    pub range: Option<IndexRange>,

    /// Lines to skip at the top of every file (headers).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true, value_parser = super::args::whole_usize)]
    pub skip: usize,

    /// Field delimiter: comma, semicolon, tab or whitespace (or the character itself).
    #[arg(long, default_value = "comma")]
    pub delimiter: Delimiter,

    /// Lines to skip at the top of every label file (default: --skip).
    #[arg(long, value_name = "N", requires = "labels")]
    pub label_skip: Option<usize>,

    /// Field delimiter of the label files (default: --delimiter).
    #[arg(long, requires = "labels")]
    pub label_delimiter: Option<Delimiter>,

    /// Classification with N classes: labels are 0-based class indices, shown one-hot.
    #[arg(long, value_name = "N", conflicts_with = "regression")]
    pub classes: Option<usize>,

    /// Regression: label columns are target values (the default when --classes is absent).
    #[arg(long)]
    pub regression: bool,

    /// Label column of the feature files when there is no --labels: 0-based, negative
    /// counts from the end. Default -1, the last column.
    #[arg(
        long,
        value_name = "K",
        allow_negative_numbers = true,
        conflicts_with = "labels"
    )]
    pub label_column: Option<i64>,

    /// How sequences of different lengths are aligned: equal (all lengths must match),
    /// start (pad after), end (features and labels end together, pad after).
    #[arg(long, default_value = "equal")]
    pub align: AlignmentMode,

    /// Examples in the minibatch.
    #[arg(
        long,
        default_value_t = 4,
        allow_negative_numbers = true,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub batch: u64,

    /// Print one JSON object (example-major arrays) instead of the grid; on failure
    /// `{"error": "..."}`.
    #[arg(long)]
    pub json: bool,
}

/// An inclusive index range `A..B` or `A..=B`, or `A..` (until a file is missing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexRange {
    pub start: usize,
    /// `None`: read until the first missing file.
    pub end: Option<usize>,
}

impl FromStr for IndexRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("{s:?} is not a range; write A..B (inclusive), e.g. 0..9, or A.. to read until a file is missing")
        };
        let (a, b) = s.split_once("..").ok_or_else(bad)?;
        let b = b.strip_prefix('=').unwrap_or(b);
        let start = a.trim().parse().map_err(|_| bad())?;
        let end = if b.trim().is_empty() {
            None
        } else {
            Some(b.trim().parse().map_err(|_| bad())?)
        };
        Ok(IndexRange { start, end })
    }
}

/// Runs the command: prints the grid or JSON. On failure with `--json` it prints
/// `{"error": "..."}` and still returns the error, so the process exits non-zero.
pub fn run(args: &DataArgs) -> anyhow::Result<()> {
    match render(args) {
        Ok(text) => {
            print!("{text}");
            Ok(())
        }
        Err(e) => {
            if args.json {
                println!("{}", error_json(&e));
            }
            Err(e.into())
        }
    }
}

/// What `run` prints on success: the JSON object (one line) or the grid.
pub fn render(args: &DataArgs) -> Result<String, DataError> {
    let (dataset, batch) = first_batch(args)?;
    if args.json {
        let json = serde_json::to_string(&batch.to_dump()).expect("plain numbers serialise");
        Ok(format!("{json}\n"))
    } else {
        Ok(grid(args, &dataset, &batch))
    }
}

/// The `--json` object for an error.
pub fn error_json(error: &DataError) -> String {
    serde_json::json!({ "error": error.to_string() }).to_string()
}

/// The data config the flags describe (the same one an experiment would hold).
pub fn config(args: &DataArgs) -> Result<CsvDataConfig, DataError> {
    let range = args.range.map(|r| (r.start, r.end));
    let features = SequenceSource::from_cli(&args.features, range)?;
    let labels = match &args.labels {
        Some(path) => LabelSource::Files(SequenceSource::from_cli(path, range)?),
        None => LabelSource::Column(args.label_column.unwrap_or(-1)),
    };
    let task = match args.classes {
        Some(classes) => Task::Classification { classes },
        None => Task::Regression,
    };
    Ok(CsvDataConfig {
        features,
        labels,
        csv: CsvOptions {
            skip_lines: args.skip,
            delimiter: args.delimiter,
        },
        label_csv: (args.label_skip.is_some() || args.label_delimiter.is_some()).then(|| {
            CsvOptions {
                skip_lines: args.label_skip.unwrap_or(args.skip),
                delimiter: args.label_delimiter.unwrap_or(args.delimiter),
            }
        }),
        task,
        alignment: args.align,
        ..CsvDataConfig::default()
    })
}

/// Loads every file (as training would, so any bad file is reported) and aligns the first
/// `--batch` sequences in file order.
pub fn first_batch(args: &DataArgs) -> Result<(SequenceDataset, SeqBatch), DataError> {
    let config = config(args)?;
    let dataset = load_csv(&config, &mut |_| {})?;
    let batch = dataset
        .batches(config.alignment, args.batch as usize, None, 0)?
        .next()
        .ok_or_else(|| DataError::NoFiles {
            source_desc: args.features.clone(),
        })?;
    Ok((dataset, batch))
}

/// `text` right-aligned in `width` characters (`format!`'s `{:>w$}` panics for widths
/// of 65536 and more, which 6,554 columns reach).
fn pad_left(text: &str, width: usize) -> String {
    let n = text.chars().count();
    let mut out = " ".repeat(width.saturating_sub(n));
    out.push_str(text);
    out
}

fn steps(n: usize) -> String {
    if n == 1 {
        "1 step".to_string()
    } else {
        format!("{n} steps")
    }
}

/// The readable form: a header, then per example one row per step with features, feature
/// mask, labels and label mask; padded values show as `.`.
fn grid(args: &DataArgs, dataset: &SequenceDataset, batch: &SeqBatch) -> String {
    let mut out = String::new();
    let task = match dataset.task() {
        Task::Classification { classes } => format!("classification, {classes} classes (one-hot)"),
        Task::Regression => "regression".to_string(),
    };
    let _ = writeln!(
        out,
        "{} sequences, {} features, {} label columns; {task}; alignment {}",
        dataset.len(),
        dataset.feature_count(),
        dataset.label_width(),
        args.align.dl4j_name(),
    );
    let mask_note = |m: &Option<_>| {
        if m.is_some() {
            "present"
        } else {
            "omitted (all ones)"
        }
    };
    let _ = writeln!(
        out,
        "first minibatch: B={}, T={}; feature mask {}, label mask {}",
        batch.batch_size(),
        batch.steps(),
        mask_note(&batch.feature_mask),
        mask_note(&batch.label_mask),
    );
    let (feature_lengths, label_lengths) = (batch.feature_lengths(), batch.label_lengths());
    const CELL: usize = 9;
    let width = |n: usize| (n * (CELL + 1)).saturating_sub(1).max(8);
    let (fw, lw) = (width(batch.feature_count()), width(batch.label_width()));
    let cells = |values: ndarray::ArrayView1<'_, f32>, real: bool, w: usize| -> String {
        let text = values
            .iter()
            .map(|v| {
                if real {
                    format!("{v:>CELL$.4}")
                } else {
                    format!("{:>CELL$}", ".")
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        pad_left(&text, w)
    };
    for b in 0..batch.batch_size() {
        let _ = writeln!(
            out,
            "\nexample {b}: {} (features: {}, labels: {})",
            dataset.examples()[b].name(),
            steps(feature_lengths[b]),
            steps(label_lengths[b]),
        );
        let _ = writeln!(
            out,
            "{:>5} | {} | fm | {} | lm",
            "t",
            pad_left("features", fw),
            pad_left("labels", lw)
        );
        for t in 0..batch.steps() {
            let fm = batch.feature_mask.as_ref().map_or(1.0, |m| m[[t, b]]);
            let lm = batch.label_mask.as_ref().map_or(1.0, |m| m[[t, b]]);
            let _ = writeln!(
                out,
                "{t:>5} | {} | {fm:>2.0} | {} | {lm:>2.0}",
                cells(batch.features.slice(ndarray::s![t, b, ..]), fm != 0.0, fw),
                cells(batch.labels.slice(ndarray::s![t, b, ..]), lm != 0.0, lw),
            );
        }
    }
    out
}
