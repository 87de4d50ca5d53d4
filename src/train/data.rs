//! The training data of an experiment, loaded once, with minibatches addressed by
//! (epoch, index) so a run can resume at any iteration.

use std::path::PathBuf;

use crate::data::{
    load_train_validation, AlignmentMode, CharCorpus, EchoTask, FeatureNormalizer, Progress,
    SeqBatch, SequenceDataset, StreamData, Task, TextOptions, Vocabulary,
};
use crate::experiment::schema::{DataSpec, Experiment, LossSpec};

use super::TrainError;

/// Loaded data, split into training and validation (and test for text).
// one value per run: the size difference between variants does not matter
#[allow(clippy::large_enum_variant)]
pub enum TrainingData {
    /// Parallel streams (text, sentence, echo): minibatch `k` of every epoch continues
    /// minibatch `k - 1` of each stream.
    Stream {
        train: StreamData,
        validation: Option<StreamData>,
        test: Option<StreamData>,
        /// Text models keep their vocabulary (for sampling and `seqlab sample`).
        vocab: Option<Vocabulary>,
    },
    /// Separate sequences (CSV files), shuffled per epoch.
    Sequences {
        train: Box<SequenceDataset>,
        validation: Option<Box<SequenceDataset>>,
        /// Held out for one score at the end; never used for any choice.
        test: Option<Box<SequenceDataset>>,
        normalizer: Option<FeatureNormalizer>,
        alignment: AlignmentMode,
        task: Task,
    },
}

/// What the data looks like to the network: the experiment layer's one definition.
pub use crate::experiment::validate::DataShape;

impl TrainingData {
    /// Loads the experiment's data (paths already resolved), reporting file progress.
    pub fn load(exp: &Experiment, progress: &mut dyn FnMut(Progress)) -> Result<Self, TrainError> {
        match &exp.data {
            DataSpec::Text(t) => {
                let opts = TextOptions {
                    lowercase: t.lowercase,
                    validation_fraction: t.validation,
                    test_fraction: t.test,
                };
                let corpus = CharCorpus::from_file(&t.path, &opts)?;
                progress(Progress {
                    done: 1,
                    total: 1,
                    path: t.path.clone(),
                });
                let split = corpus.split(t.validation, t.test)?;
                check_corpus_size(&t.path, &corpus, split.train.len(), exp)?;
                let nonempty = |c: &CharCorpus| (c.len() > 1).then(|| c.next_char_data());
                Ok(TrainingData::Stream {
                    train: split.train.next_char_data(),
                    validation: nonempty(&split.validation),
                    test: nonempty(&split.test),
                    vocab: Some(corpus.vocab().clone()),
                })
            }
            DataSpec::Sentence(s) => {
                let opts = TextOptions {
                    lowercase: false,
                    validation_fraction: 0.0,
                    test_fraction: 0.0,
                };
                let corpus = CharCorpus::from_text(&s.text, &opts);
                let data = corpus.next_char_data();
                // the sentence is the whole task: it is also what validation measures
                Ok(TrainingData::Stream {
                    validation: Some(data.clone()),
                    train: data,
                    test: None,
                    vocab: Some(corpus.vocab().clone()),
                })
            }
            DataSpec::Echo(e) => {
                let task = EchoTask {
                    length: e.length,
                    echo: e.echo,
                    seed: e.seed,
                    ..EchoTask::default()
                };
                let val = EchoTask {
                    length: e.validation_length,
                    echo: e.echo,
                    seed: e.seed.wrapping_add(1),
                    ..EchoTask::default()
                };
                Ok(TrainingData::Stream {
                    train: task.data(),
                    validation: (e.validation_length > e.echo).then(|| val.data()),
                    test: None,
                    vocab: None,
                })
            }
            DataSpec::Csv(c) => {
                let tv = load_train_validation(c, progress)?;
                if tv.train.is_empty() {
                    return Err(TrainError::NotEnoughData(format!(
                        "{}: no training sequences are left after the validation split; \
                         give more files or a smaller data.validation",
                        c.features
                    )));
                }
                let validation = (!tv.validation.is_empty()).then(|| Box::new(tv.validation));
                let test = (!tv.test.is_empty()).then(|| Box::new(tv.test));
                Ok(TrainingData::Sequences {
                    train: Box::new(tv.train),
                    validation,
                    test,
                    normalizer: tv.normalizer,
                    alignment: c.alignment,
                    task: c.task,
                })
            }
        }
    }

    pub fn shape(&self) -> DataShape {
        match self {
            TrainingData::Stream { train, vocab, .. } => DataShape {
                input: train.inputs.width(),
                output: train.targets.width(),
                classification: vocab.is_some()
                    || matches!(train.targets, crate::data::StepSeries::OneHot { .. }),
            },
            TrainingData::Sequences { train, task, .. } => DataShape {
                input: train.feature_count(),
                output: train.label_width(),
                classification: matches!(task, Task::Classification { .. }),
            },
        }
    }

    /// The loss the data calls for when the file does not say.
    pub fn default_loss(&self) -> LossSpec {
        if self.shape().classification {
            LossSpec::CrossEntropy
        } else {
            LossSpec::Mse
        }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self, TrainingData::Stream { .. })
    }

    /// The longest training sequence (sequence data; `None` for streams, whose
    /// minibatches are as long as the settings say).
    pub fn longest_sequence(&self) -> Option<usize> {
        match self {
            TrainingData::Stream { .. } => None,
            TrainingData::Sequences { train, .. } => Some(
                train
                    .examples()
                    .iter()
                    .map(|e| e.feature_steps())
                    .max()
                    .unwrap_or(0),
            ),
        }
    }

    /// Minibatches in one epoch.
    pub fn batches_per_epoch(&self, batch_size: usize, steps: usize) -> Result<usize, TrainError> {
        Ok(match self {
            TrainingData::Stream { train, .. } => {
                train.batcher(batch_size, steps)?.batches_per_epoch()
            }
            TrainingData::Sequences { train, .. } => train.len().div_ceil(batch_size),
        })
    }

    /// Minibatch `k` of `epoch` of the training data.
    pub fn train_batch(
        &self,
        epoch: u64,
        k: usize,
        batch_size: usize,
        steps: usize,
        shuffle_seed: Option<u64>,
    ) -> Result<SeqBatch, TrainError> {
        match self {
            TrainingData::Stream { train, .. } => Ok(train.batcher(batch_size, steps)?.batch(k)),
            TrainingData::Sequences {
                train, alignment, ..
            } => {
                let batches = train.batches(*alignment, batch_size, shuffle_seed, epoch)?;
                let order = batches.order();
                let end = ((k + 1) * batch_size).min(order.len());
                Ok(train.batch_of(&order[k * batch_size..end], *alignment))
            }
        }
    }

    /// Every minibatch of the validation data, in order (streams: consecutive chunks).
    pub fn validation_batches(
        &self,
        batch_size: usize,
        steps: usize,
    ) -> Result<Vec<SeqBatch>, TrainError> {
        match self {
            TrainingData::Stream {
                validation: Some(v),
                ..
            } => stream_batches(v, batch_size, steps),
            TrainingData::Sequences {
                validation: Some(v),
                alignment,
                ..
            } => Ok(v.batches(*alignment, batch_size, None, 0)?.collect()),
            _ => Ok(Vec::new()),
        }
    }

    /// Every minibatch of the test split, in order (a text corpus's test part is cut
    /// into streams of `steps` time steps as validation is, to be read with the state
    /// carried); empty without one.
    pub fn test_batches(
        &self,
        batch_size: usize,
        steps: usize,
    ) -> Result<Vec<SeqBatch>, TrainError> {
        match self {
            TrainingData::Stream { test: Some(t), .. } => stream_batches(t, batch_size, steps),
            TrainingData::Sequences {
                test: Some(t),
                alignment,
                ..
            } => Ok(t.batches(*alignment, batch_size, None, 0)?.collect()),
            _ => Ok(Vec::new()),
        }
    }

    pub fn has_validation(&self) -> bool {
        matches!(
            self,
            TrainingData::Stream {
                validation: Some(_),
                ..
            } | TrainingData::Sequences {
                validation: Some(_),
                ..
            }
        )
    }

    pub fn vocab(&self) -> Option<&Vocabulary> {
        match self {
            TrainingData::Stream { vocab, .. } => vocab.as_ref(),
            _ => None,
        }
    }

    /// Files the data was read from (for the run record's hashes).
    pub fn files(exp: &Experiment) -> Vec<PathBuf> {
        match &exp.data {
            DataSpec::Text(t) => vec![t.path.clone()],
            DataSpec::Csv(c) => {
                let mut v = c.features.files().unwrap_or_default();
                if let crate::data::LabelSource::Files(l) = &c.labels {
                    v.extend(l.files().unwrap_or_default());
                }
                for split in [&c.validation, &c.test] {
                    if let crate::data::ValidationSplit::Folders { features, labels } = split {
                        v.extend(features.files().unwrap_or_default());
                        if let Some(l) = labels {
                            v.extend(l.files().unwrap_or_default());
                        }
                    }
                }
                v
            }
            _ => Vec::new(),
        }
    }
}

/// A text corpus too small to train on, refused with the file, the sizes and the
/// settings that decide them: the training part must give every one of the
/// `batch_size` parallel streams at least one (input, next character) step.
fn check_corpus_size(
    path: &std::path::Path,
    corpus: &CharCorpus,
    train_chars: usize,
    exp: &Experiment,
) -> Result<(), TrainError> {
    let t = &exp.training;
    let DataSpec::Text(spec) = &exp.data else {
        return Ok(());
    };
    let steps = train_chars.saturating_sub(1);
    if corpus.is_empty() {
        return Err(TrainError::NotEnoughData(format!(
            "{}: the corpus is empty; give a UTF-8 text file with at least {} characters \
             (training.batch_size {} parallel streams, each at least one character plus the \
             next)",
            path.display(),
            t.batch_size + 1,
            t.batch_size
        )));
    }
    if steps < t.batch_size {
        return Err(TrainError::NotEnoughData(format!(
            "{}: the training part of the corpus has {train_chars} characters ({} in all, \
             validation {} and test {} taken from the end), which gives {steps} \
             (input, next character) steps, fewer than training.batch_size = {} parallel \
             streams need; use a longer text, a smaller training.batch_size, or a smaller \
             validation/test fraction (training.sequence_length is {})",
            path.display(),
            corpus.len(),
            spec.validation,
            spec.test,
            t.batch_size,
            t.sequence_length
        )));
    }
    Ok(())
}

/// One pass over a held-out series: `batch_size` parallel streams (fewer when the series
/// is short) of `steps` time steps, in order.
fn stream_batches(
    v: &StreamData,
    batch_size: usize,
    steps: usize,
) -> Result<Vec<SeqBatch>, TrainError> {
    let b = batch_size.min(v.len() / steps.max(1)).max(1);
    let steps = steps.min(v.len());
    Ok(v.batcher(b, steps)?.epoch().collect())
}
