//! New data through a trained model, on training's own data path: the same CSV options,
//! label column or label files ([`crate::data::load_new`]), the training normaliser, the
//! training alignment and minibatches ([`crate::data::SequenceDataset::batches`]), and
//! the same step rule as training ([`crate::nn::network::step_mask`]). `seqlab predict`,
//! `seqlab eval` and the end-of-run test score all go through here.

use std::path::{Path, PathBuf};

use crate::data::{load_new, NewData, Progress, SeqBatch, SequenceSource};
use crate::experiment::schema::DataSpec;
use crate::nn::network::step_mask;
use crate::nn::OutputMode;

use super::eval::Evaluation;
pub use super::eval::{evaluate_batches, evaluate_batches_until};
use super::trainer::TrainedModel;
use super::TrainError;

pub use crate::experiment::weights::SequenceShape;

/// Which files to read for a trained model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewDataSpec {
    /// Feature files, laid out like the training files (the label column may be kept).
    pub features: SequenceSource,
    /// Label files paired by position, for a model trained with label files.
    pub labels: Option<SequenceSource>,
    /// Output steps per unlabelled sequence (default: the training data's shape).
    pub output_steps: Option<usize>,
}

/// Refuses an output file for predictions that would destroy something: a folder, a
/// file inside the run folder `run_dir` (weights, checkpoints, logs), one of the files
/// being predicted (`spec`), or a notebook or weights file (`.ron`, `.safetensors`).
/// Errors say what the path is and what to give instead.
pub fn check_output(out: &Path, run_dir: &Path, spec: &NewDataSpec) -> Result<(), String> {
    let abs = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| std::path::absolute(p).unwrap_or(p.into()))
    };
    // a file that does not exist yet: its folder's real path and its name
    let real = |p: &Path| match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) if !p.exists() => abs(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .join(name),
        _ => abs(p),
    };
    let target = real(out);
    let refuse = |what: &str| {
        Err(format!(
            "{} is {what}; predictions never write there: give another file name (a .csv)",
            out.display()
        ))
    };
    if out.is_dir() {
        return Err(format!(
            "{} is a folder; give a file name in it, e.g. {}",
            out.display(),
            out.join("predictions.csv").display()
        ));
    }
    if target.starts_with(abs(run_dir)) {
        return refuse("inside the run folder");
    }
    let ext = out.extension().map(|e| e.to_ascii_lowercase());
    if ext
        .as_deref()
        .is_some_and(|e| e == "ron" || e == "safetensors")
    {
        return refuse("a notebook or weights file");
    }
    let inputs = std::iter::once(&spec.features)
        .chain(spec.labels.as_ref())
        .filter_map(|s| s.files().ok())
        .flatten();
    for f in inputs {
        if abs(&f) == target {
            return refuse("one of the files being predicted");
        }
    }
    Ok(())
}

/// Reads `spec` for `model` on the training data path and applies the training
/// normaliser. Errors name the file and what to change.
pub fn read_new_data(
    model: &TrainedModel,
    spec: &NewDataSpec,
    progress: &mut dyn FnMut(Progress),
) -> Result<NewData, TrainError> {
    let DataSpec::Csv(cfg) = &model.experiment.data else {
        return Err(TrainError::Request(
            "this model was trained on text, not CSV sequences; use `seqlab sample`".into(),
        ));
    };
    if spec.output_steps == Some(0) {
        return Err(TrainError::Request(
            "--steps: give at least 1 output step".to_string(),
        ));
    }
    let features = spec.features.files()?;
    let labels = spec.labels.as_ref().map(|l| l.files()).transpose()?;
    let config = model.net.config();
    let mut data = load_new(
        cfg,
        &features,
        labels.as_deref(),
        config.input_size,
        config.output.size,
        spec.output_steps
            .or(model.sequence_shape.default_output_steps()),
        progress,
    )?;
    if let Some(n) = &model.normalizer {
        n.apply(&mut data.dataset)?;
    }
    data.dataset.check_alignment(cfg.alignment)?;
    Ok(data)
}

/// The model's outputs for one sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct SequencePrediction {
    /// The feature file.
    pub source: PathBuf,
    /// `(step, outputs)`: probabilities (softmax / sigmoid) or values, at each output
    /// step of the sequence (steps count from the sequence's first step, 0).
    pub steps: Vec<(usize, Vec<f32>)>,
}

/// Minibatch size for prediction and scoring (results do not depend on it).
const BATCH: usize = 32;

/// Predictions for every sequence of `data`, in file order: at each step with a label
/// (real or placeholder), or at each sequence's last input step for a last-step output.
pub fn predict(
    model: &mut TrainedModel,
    data: &NewData,
) -> Result<Vec<SequencePrediction>, TrainError> {
    predict_until(model, data, &|| false)
}

/// [`predict`], asking `stop` before each minibatch of [`BATCH`] sequences: when it
/// answers true, prediction ends with [`TrainError::Interrupted`].
pub fn predict_until(
    model: &mut TrainedModel,
    data: &NewData,
    stop: &dyn Fn() -> bool,
) -> Result<Vec<SequencePrediction>, TrainError> {
    let alignment = alignment(model);
    let last_step = model.net.config().output.mode == OutputMode::LastStep;
    let examples = data.dataset.examples();
    let mut out = Vec::with_capacity(examples.len());
    let mut next = 0;
    let batches = data.dataset.batches(alignment, BATCH, None, 0)?;
    let total = examples.len().div_ceil(BATCH);
    for (done, mb) in batches.enumerate() {
        if stop() {
            return Err(TrainError::Interrupted {
                what: "predicting".into(),
                done,
                total,
            });
        }
        let mask = step_mask(
            mb.feature_mask.as_ref().map(|m| m.view()),
            mb.label_mask.as_ref().map(|m| m.view()),
            model.net.config().output.mode,
        );
        let pred = model
            .net
            .output(mb.features.view(), mask.as_ref().map(|m| m.view()));
        let last = mb.last_feature_steps();
        for b in 0..mb.batch_size() {
            let row = |t: usize| pred.slice(ndarray::s![t, b, ..]).to_vec();
            let steps = if last_step {
                vec![(last[b], row(0))]
            } else {
                (0..mb.steps())
                    .filter(|&t| mb.label_mask.as_ref().is_none_or(|m| m[[t, b]] != 0.0))
                    .map(|t| (t, row(t)))
                    .collect()
            };
            out.push(SequencePrediction {
                source: examples[next].source.clone().unwrap_or_default(),
                steps,
            });
            next += 1;
        }
    }
    Ok(out)
}

/// Predictions as CSV text: a header `file,step[,predicted_class],output_0,...`, then one
/// line per output step (`seqlab predict`, the REPL's `predict`).
pub fn predictions_csv(model: &TrainedModel, predictions: &[SequencePrediction]) -> String {
    let o = model.net.config().output.size;
    let mut out = String::from("file,step");
    if model.classification {
        out.push_str(",predicted_class");
    }
    for c in 0..o {
        out.push_str(&format!(",output_{c}"));
    }
    out.push('\n');
    for p in predictions {
        for (step, row) in &p.steps {
            out.push_str(&format!("{},{step}", p.source.display()));
            if model.classification {
                let best = row
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map_or(0, |(i, _)| i);
                out.push_str(&format!(",{best}"));
            }
            for v in row {
                out.push_str(&format!(",{v}"));
            }
            out.push('\n');
        }
    }
    out
}

/// Scores labelled `data` with the model (`split` names it in the result: "eval",
/// "test", ...). Unlabelled data is an error saying how to give the labels.
pub fn evaluate(
    model: &mut TrainedModel,
    data: &NewData,
    split: &str,
) -> Result<Evaluation, TrainError> {
    if !data.labelled {
        return Err(TrainError::Request(
            "the data has no labels to score against: keep the label column in the files, or \
             give the label files with --labels"
                .to_string(),
        ));
    }
    let batches: Vec<SeqBatch> = data
        .dataset
        .batches(alignment(model), BATCH, None, 0)?
        .collect();
    let classification = model.classification;
    Ok(evaluate_batches(
        &mut model.net,
        &batches,
        classification,
        false,
        0,
        split,
    ))
}

fn alignment(model: &TrainedModel) -> crate::data::AlignmentMode {
    match &model.experiment.data {
        DataSpec::Csv(c) => c.alignment,
        _ => crate::data::AlignmentMode::EqualLength,
    }
}
