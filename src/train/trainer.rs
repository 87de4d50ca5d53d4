//! The synchronous trainer: one iteration (minibatch) at a time, deterministic for a
//! seed, and resumable from a checkpoint at any iteration.

use std::time::Instant;

use ndarray::Array2;
use serde::Serialize;

use crate::data::{Progress, SeqBatch};
use crate::experiment::checkpoint::{Checkpoint, CheckpointInfo};
use crate::experiment::schema::{DataSpec, Experiment, OutputModeSpec};
use crate::nn::bptt::{fit_batch, FitConfig, FitScratch};
use crate::nn::network::{Batch, LayerState, NamedTensor, NetState, Network};
use crate::nn::normalize::StepStats;
use crate::nn::updater::{LearningRate, Updater};

use super::data::{DataShape, TrainingData};
use super::eval::evaluate_batches;
use super::eval::Evaluation;
use super::sample::{sample_text, SampleOptions};
use super::TrainError;
use crate::experiment::weights::{SequenceShape, WeightsMetadata};

/// Statistics of one parameter group (a layer or a tensor) after an update.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupStats {
    pub name: String,
    pub grad_norm: f64,
    pub param_norm: f64,
    pub update_norm: f64,
    /// update:parameter ratio
    pub ratio: f64,
}

/// What one iteration reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IterationMetrics {
    /// Iterations completed (1 after the first).
    pub iteration: u64,
    pub epoch: u64,
    pub score: f64,
    pub lr: f64,
    pub global_grad_norm: f64,
    pub layers: Vec<GroupStats>,
    pub tensors: Vec<GroupStats>,
    /// Time steps x examples in the minibatch.
    pub tokens: usize,
    /// Wall time of the iteration.
    pub seconds: f64,
}

pub use crate::experiment::notebook::StopReason;

/// Early-stopping bookkeeping.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EarlyStopping {
    pub best_score: Option<f64>,
    pub best_iteration: u64,
    pub bad_evaluations: u32,
    /// Parameters at the best validation score.
    pub best_params: Option<Vec<f32>>,
}

/// Trains an experiment's network on its data.
pub struct Trainer {
    /// The experiment with every path resolved.
    pub exp: Experiment,
    pub data: TrainingData,
    pub net: Network<f32>,
    pub updater: Updater<f32>,
    pub lr: LearningRate,
    pub shape: DataShape,
    fit: FitConfig,
    batch_size: usize,
    steps: usize,
    batches_per_epoch: usize,
    max_iterations: u64,
    /// Iterations completed.
    pub iteration: u64,
    pub epoch: u64,
    /// Index within the epoch of the next minibatch.
    pub batch: usize,
    carried: Option<NetState<f32>>,
    scratch: FitScratch,
    pub early: EarlyStopping,
    /// The parameters before the current iteration (copied every step, no allocation):
    /// what a diverged run falls back to.
    last_finite: Vec<f32>,
    /// The run's thread setting, in force while the trainer lives (dropping the trainer
    /// restores the previous one).
    thread_guard: crate::threads::ThreadGuard,
}

impl Trainer {
    /// Loads the data and builds the network. `exp` must have its paths resolved. Errors
    /// name the experiment by its `name`; [`Trainer::for_file`] names its file instead.
    pub fn new(exp: Experiment, progress: &mut dyn FnMut(Progress)) -> Result<Self, TrainError> {
        let label = std::path::PathBuf::from(&exp.name);
        Self::for_file(exp, &label, progress)
    }

    /// [`Trainer::new`] for the experiment read from `file`, which the errors name (a
    /// model that does not fit the data or the memory).
    pub fn for_file(
        exp: Experiment,
        file: &std::path::Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Self, TrainError> {
        let data = TrainingData::load(&exp, progress)?;
        let shape = data.shape();
        crate::experiment::validate::validate_against_data(&exp, file, &shape)?;
        let loss = exp.model.output.loss.unwrap_or(data.default_loss());
        let config = exp.model.to_nn(shape.input, shape.output, loss);
        let t = &exp.training;
        super::memory::check_fits(
            &config,
            t.batch_size,
            t.sequence_length,
            super::memory::available_bytes(),
        )
        .map_err(|e| TrainError::TooLarge(format!("{}: {e}", file.display())))?;
        let mut net = Network::new(config, t.seed)?;
        if let Some(path) = &exp.initial_weights {
            let tensors = crate::experiment::weights::load_weights(path)?;
            crate::experiment::weights::check_finite(path, &tensors)?;
            net.load_torch_tensors(&tensors).map_err(|e| {
                let expected: Vec<String> =
                    net.torch_tensors().into_iter().map(|t| t.name).collect();
                TrainError::Weights(format!(
                    "{}: {e}; this network's tensors are {}: give a file with exactly these, \
                     or change model.layers to match the file",
                    path.display(),
                    expected.join(", ")
                ))
            })?;
        }
        let last_finite = net.params().to_vec();
        // threads: the file's setting, else the measured policy for the widest LSTM
        // layer that can split its minibatch (respects OPENBLAS_NUM_THREADS); with two
        // threads and such a layer, seqlab's own two threads run the recurrence by
        // example rows and the window products, with OpenBLAS single-threaded (the mode
        // `seqlab bench` measures); without one, OpenBLAS runs its own threads
        let widest = net
            .config()
            .layers
            .iter()
            .filter(|l| l.kind.splits_batch())
            .map(|l| l.size)
            .max()
            .unwrap_or(0);
        let threads = t
            .threads
            .unwrap_or_else(|| crate::threads::training_threads(t.batch_size, widest));
        let thread_guard = crate::threads::ThreadGuard::training(threads, t.batch_size, widest);
        let updater = Updater::new(t.updater.to_nn(), net.num_params());
        let steps = t.sequence_length;
        let batches_per_epoch = data.batches_per_epoch(t.batch_size, steps)?.max(1);
        let lr = LearningRate {
            base: t.updater.to_nn().lr(),
            schedule: t.schedule.to_nn(batches_per_epoch as u64),
        };
        let max_iterations = match (t.iterations, t.epochs) {
            (Some(i), _) => i,
            (None, Some(e)) => e * batches_per_epoch as u64,
            (None, None) => 10 * batches_per_epoch as u64,
        };
        Ok(Trainer {
            fit: FitConfig {
                tbptt: t.tbptt.map(|s| s.to_nn()),
                normalization: t.gradient_normalization.to_nn(),
            },
            batch_size: t.batch_size,
            steps,
            batches_per_epoch,
            max_iterations,
            iteration: 0,
            epoch: 0,
            batch: 0,
            carried: None,
            scratch: FitScratch::default(),
            early: EarlyStopping::default(),
            last_finite,
            thread_guard,
            updater,
            lr,
            net,
            shape,
            data,
            exp,
        })
    }

    pub fn max_iterations(&self) -> u64 {
        self.max_iterations
    }

    /// The thread setup this run really uses (OpenBLAS library, kernel, threads and
    /// seqlab's own threads), e.g. `OpenBLAS 0.3.21 kernel SkylakeX, 2 threads`.
    pub fn thread_setup(&self) -> &crate::blas::BlasInfo {
        self.thread_guard.setup()
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.batches_per_epoch
    }

    /// True once the iteration budget is used up.
    pub fn is_complete(&self) -> bool {
        self.iteration >= self.max_iterations
    }

    fn carry(&self) -> bool {
        self.data.is_stream() && self.exp.training.carry_state
    }

    fn last_step(&self) -> bool {
        self.exp.model.output.mode == OutputModeSpec::LastStep
    }

    /// One iteration: the next minibatch, forward, backward, update(s).
    pub fn step(&mut self) -> Result<IterationMetrics, TrainError> {
        let start = Instant::now();
        let t = &self.exp.training;
        let shuffle = t.shuffle.then_some(t.seed);
        let mb =
            self.data
                .train_batch(self.epoch, self.batch, self.batch_size, self.steps, shuffle)?;
        let b = mb.batch_size();
        let mut state = match self.carried.take() {
            Some(s)
                if self.carry() && self.batch > 0 && s.iter().flatten().all(|l| l.batch() == b) =>
            {
                s
            }
            _ => self.net.zero_state(b),
        };
        let lr = self.lr.at(self.iteration);
        self.net.set_dropout_seed(
            t.seed ^ (self.iteration.wrapping_add(1)).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let last_labels;
        let batch = if self.last_step() {
            last_labels = mb.last_step_labels();
            Batch {
                features: mb.features.view(),
                labels: last_labels.view(),
                feature_mask: mb.feature_mask.as_ref().map(|m| m.view()),
                label_mask: None,
            }
        } else {
            view(&mb)
        };
        self.last_finite.copy_from_slice(self.net.params());
        let report = fit_batch(
            &mut self.net,
            &mut self.updater,
            &batch,
            &mut state,
            lr,
            &self.fit,
            &mut self.scratch,
        );
        // never keep non-finite parameters: a non-finite score, or an update that
        // overflowed, restores the parameters of the last finite iteration
        let bad_param = self.net.params().iter().position(|v| !v.is_finite());
        if !report.score.is_finite() || bad_param.is_some() {
            self.net.params_mut().copy_from_slice(&self.last_finite);
            return Err(TrainError::Diverged {
                iteration: self.iteration + 1,
                score: report.score,
                lr,
                parameters: bad_param.is_some(),
            });
        }
        if self.carry() {
            self.carried = Some(state);
        }
        self.iteration += 1;
        self.batch += 1;
        if self.batch >= self.batches_per_epoch {
            self.batch = 0;
            self.epoch += 1;
        }
        Ok(IterationMetrics {
            iteration: self.iteration,
            epoch: self.epoch,
            score: report.score,
            lr,
            global_grad_norm: report.stats.global_grad_norm,
            layers: groups(&report.stats, true),
            tensors: groups(&report.stats, false),
            tokens: mb.steps() * b,
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Evaluates on the validation split; `None` when there is none.
    pub fn evaluate(&mut self) -> Result<Option<Evaluation>, TrainError> {
        self.evaluate_until(&|| false)
    }

    /// [`Trainer::evaluate`], asking `stop` before each batch (see
    /// [`evaluate_batches_until`](super::eval::evaluate_batches_until)).
    pub fn evaluate_until(
        &mut self,
        stop: &dyn Fn() -> bool,
    ) -> Result<Option<Evaluation>, TrainError> {
        if !self.data.has_validation() {
            return Ok(None);
        }
        let batches = self.data.validation_batches(self.batch_size, self.steps)?;
        super::eval::evaluate_batches_until(
            &mut self.net,
            &batches,
            self.shape.classification,
            self.data.is_stream(),
            self.iteration,
            "validation",
            stop,
        )
        .map(Some)
    }

    /// Scores the test split (CSV data, or a text corpus's `test` part) once: with the current (final) weights, and with
    /// early stopping's best weights when there are any (`(final, best)`). Nothing here
    /// feeds back into training. `None` when there is no test split.
    pub fn evaluate_test(
        &mut self,
    ) -> Result<Option<(Evaluation, Option<Evaluation>)>, TrainError> {
        self.evaluate_test_until(&|| false)
    }

    /// [`Trainer::evaluate_test`], asking `stop` before each batch of the final
    /// weights' scoring.
    pub fn evaluate_test_until(
        &mut self,
        stop: &dyn Fn() -> bool,
    ) -> Result<Option<(Evaluation, Option<Evaluation>)>, TrainError> {
        let batches = self.data.test_batches(self.batch_size, self.steps)?;
        if batches.is_empty() {
            return Ok(None);
        }
        let c = self.shape.classification;
        let carry = self.data.is_stream();
        let last = super::eval::evaluate_batches_until(
            &mut self.net,
            &batches,
            c,
            carry,
            self.iteration,
            "test",
            stop,
        )?;
        let best = match &self.early.best_params {
            Some(best) => {
                let current = self.net.params().to_vec();
                self.net.params_mut().copy_from_slice(best);
                let ev = evaluate_batches(
                    &mut self.net,
                    &batches,
                    c,
                    carry,
                    self.early.best_iteration,
                    "test_best",
                );
                self.net.params_mut().copy_from_slice(&current);
                Some(ev)
            }
            None => None,
        };
        Ok(Some((last, best)))
    }

    /// Records an evaluation for early stopping; true when training should stop.
    pub fn early_stopping_update(&mut self, eval: &Evaluation) -> bool {
        let improved = match self.early.best_score {
            None => true,
            Some(best) => {
                eval.score
                    < best
                        - self
                            .exp
                            .training
                            .early_stopping
                            .map_or(0.0, |e| e.min_delta)
            }
        };
        if improved {
            self.early.best_score = Some(eval.score);
            self.early.best_iteration = eval.iteration;
            self.early.bad_evaluations = 0;
            self.early.best_params = Some(self.net.params().to_vec());
            false
        } else {
            self.early.bad_evaluations += 1;
            self.exp
                .training
                .early_stopping
                .is_some_and(|e| self.early.bad_evaluations >= e.patience)
        }
    }

    /// A sample for the log: generated text for text models; for other data the
    /// predictions on the first validation (or training) sequence.
    pub fn sample(&mut self) -> Result<String, TrainError> {
        let s = &self.exp.sampling;
        if let Some(vocab) = self.data.vocab() {
            let prime = s.prime.clone().unwrap_or_else(|| match &self.exp.data {
                DataSpec::Sentence(sp) => {
                    sp.text.chars().next().map(String::from).unwrap_or_default()
                }
                _ => String::new(),
            });
            let opts = SampleOptions {
                length: s.length,
                prime,
                temperature: s.temperature,
                greedy: s.greedy,
                seed: self.exp.training.seed ^ self.iteration,
            };
            return sample_text(&self.net, vocab, &opts).map_err(TrainError::Request);
        }
        let mb = match self
            .data
            .validation_batches(self.batch_size.min(1), self.steps.min(30))?
            .into_iter()
            .next()
        {
            Some(b) => b,
            None => self.data.train_batch(0, 0, 1, self.steps.min(30), None)?,
        };
        let mask = crate::nn::network::step_mask(
            mb.feature_mask.as_ref().map(|m| m.view()),
            mb.label_mask.as_ref().map(|m| m.view()),
            self.net.config().output.mode,
        );
        let pred = self
            .net
            .output(mb.features.view(), mask.as_ref().map(|m| m.view()));
        Ok(describe_predictions(
            &mb,
            &pred,
            self.shape.classification,
            self.last_step(),
        ))
    }

    /// Everything needed to continue exactly from here.
    pub fn checkpoint(&self) -> Checkpoint {
        let carried: Vec<&LayerState<f32>> = self.carried.iter().flatten().flatten().collect();
        Checkpoint {
            info: CheckpointInfo {
                iteration: self.iteration,
                epoch: self.epoch,
                batch: self.batch,
                lr_base: self.lr.base,
                updater_steps: self.updater.t,
                nadam_mu_product: self.updater.mu_product,
                best_score: self.early.best_score,
                best_iteration: self.early.best_iteration,
                bad_evaluations: self.early.bad_evaluations,
                carried_tensors: carried
                    .iter()
                    .map(|s| {
                        s.iter()
                            .map(|(n, t)| (n.to_string(), t.nrows(), t.ncols()))
                            .collect()
                    })
                    .collect(),
                carried_shapes: Vec::new(),
            },
            params: self.net.params().to_vec(),
            updater_state: self.updater.state.clone(),
            carried: carried
                .iter()
                .map(|s| {
                    s.iter()
                        .map(|(n, t)| (n.to_string(), t.iter().copied().collect()))
                        .collect()
                })
                .collect(),
        }
    }

    /// Continues from a checkpoint of the same experiment.
    pub fn restore(&mut self, ck: &Checkpoint) -> Result<(), TrainError> {
        if ck.params.len() != self.net.num_params()
            || ck.updater_state.len() != self.updater.state.len()
        {
            return Err(TrainError::Checkpoint(format!(
                "the checkpoint holds {} parameters and {} updater buffers; this experiment's network has {} and {}{}",
                ck.params.len(),
                ck.updater_state.len(),
                self.net.num_params(),
                self.updater.state.len(),
                if ck.params.len() < self.net.num_params() {
                    " (a checkpoint from before LSTM and RNN layers kept PyTorch's two biases \
                     resumes with `single_bias: true` on those layers in the run's run.ron)"
                } else {
                    ""
                }
            )));
        }
        let i = &ck.info;
        // validated before anything changes: a bad checkpoint leaves the trainer as it was
        let carried = self.carried_from(ck)?;
        self.net.params_mut().copy_from_slice(&ck.params);
        self.updater.state = ck.updater_state.clone();
        self.updater.t = i.updater_steps;
        self.updater.mu_product = i.nadam_mu_product;
        self.lr.base = i.lr_base;
        self.iteration = i.iteration;
        self.epoch = i.epoch;
        self.batch = i.batch;
        self.early = EarlyStopping {
            best_score: i.best_score,
            best_iteration: i.best_iteration,
            bad_evaluations: i.bad_evaluations,
            best_params: None,
        };
        self.carried = carried;
        Ok(())
    }

    /// The carried recurrent state of a checkpoint as this network's state, checked
    /// against the network (one `(B, H)` state per recurrent layer, with a cell exactly
    /// for the layers that have one, `B` the batch size); `None` when it carries none.
    fn carried_from(&self, ck: &Checkpoint) -> Result<Option<NetState<f32>>, TrainError> {
        if ck.carried.is_empty() {
            return Ok(None);
        }
        let bad = |why: String| {
            TrainError::Checkpoint(format!(
                "the checkpoint's carried recurrent state does not fit this experiment's \
                 network: {why}; resume with the experiment the checkpoint was written by \
                 (its run.ron)"
            ))
        };
        let template = self.net.zero_state(self.batch_size);
        let recurrent = template.iter().flatten().count();
        let layout = ck.info.carried_layout();
        if ck.carried.len() != recurrent || layout.len() != ck.carried.len() {
            return Err(bad(format!(
                "{} layer states ({} shapes) for {recurrent} recurrent layers",
                ck.carried.len(),
                layout.len()
            )));
        }
        let mut it = ck.carried.iter().zip(&layout);
        let mut out = Vec::with_capacity(template.len());
        let describe = |tensors: &mut dyn Iterator<Item = (&str, usize, usize)>| {
            tensors
                .map(|(n, b, w)| format!("{n} ({b}, {w})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (k, slot) in template.iter().enumerate() {
            let Some(want) = slot else {
                out.push(None);
                continue;
            };
            let (values, shapes) = it.next().expect("one state per recurrent layer");
            // the layer's own tensors, by name and shape, in its order, each full
            let fits =
                shapes.len() == want.shapes().len()
                    && values.len() == shapes.len()
                    && want.iter().zip(shapes).zip(values).all(
                        |(((wn, wt), (n, b, w)), (vn, v))| {
                            wn == n && vn == n && wt.dim() == (*b, *w) && v.len() == b * w
                        },
                    );
            if !fits {
                return Err(bad(format!(
                    "layer {k} has the state {}, the layer needs {}",
                    describe(&mut shapes.iter().map(|(n, b, w)| (n.as_str(), *b, *w))),
                    describe(&mut want.iter().map(|(n, t)| (n, t.nrows(), t.ncols()))),
                )));
            }
            let tensors = want
                .iter()
                .zip(values)
                .map(|((name, t), (_, v))| {
                    Array2::from_shape_vec(t.dim(), v.clone())
                        .map(|a| (name, a))
                        .map_err(|e| bad(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.push(LayerState::from_tensors(tensors));
        }
        Ok(Some(out))
    }

    /// The trained weights under PyTorch's names.
    pub fn weights(&self) -> Vec<NamedTensor<f32>> {
        self.net.torch_tensors()
    }

    /// Metadata stored with the weights so that `seqlab sample` / `predict` can rebuild
    /// the model without the training data: sizes, loss, vocabulary, normaliser.
    pub fn model_metadata(&self) -> Vec<(String, String)> {
        let (normalizer, sequence_shape) = match &self.data {
            TrainingData::Sequences {
                normalizer, train, ..
            } => (normalizer.clone(), Some(SequenceShape::of(train))),
            _ => (None, None),
        };
        WeightsMetadata {
            input_size: self.shape.input,
            output_size: self.shape.output,
            classification: self.shape.classification,
            loss: self
                .exp
                .model
                .output
                .loss
                .unwrap_or(self.data.default_loss()),
            vocab: self.data.vocab().cloned(),
            normalizer,
            sequence_shape,
        }
        .to_pairs()
    }

    /// The best weights seen by early stopping, if any.
    pub fn best_weights(&self) -> Option<Vec<NamedTensor<f32>>> {
        self.early
            .best_params
            .as_ref()
            .map(|p| self.net.torch_tensors_of(p))
    }
}

fn view(mb: &SeqBatch) -> Batch<'_, f32> {
    Batch {
        features: mb.features.view(),
        labels: mb.labels.view(),
        feature_mask: mb.feature_mask.as_ref().map(|m| m.view()),
        label_mask: mb.label_mask.as_ref().map(|m| m.view()),
    }
}

fn groups(stats: &StepStats, layers: bool) -> Vec<GroupStats> {
    let src = if layers {
        &stats.layers
    } else {
        &stats.tensors
    };
    src.iter()
        .map(|t| GroupStats {
            name: t.name.clone(),
            grad_norm: t.grad_norm,
            param_norm: t.param_norm,
            update_norm: t.update_norm,
            ratio: t.ratio(),
        })
        .collect()
}

/// One line per step of the first example: input, label and prediction.
fn describe_predictions(
    mb: &SeqBatch,
    pred: &ndarray::Array3<f32>,
    classification: bool,
    last_step: bool,
) -> String {
    let argmax = |row: ndarray::ArrayView1<f32>| {
        row.iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i)
    };
    let steps = if last_step {
        1
    } else {
        mb.steps().min(pred.dim().0)
    };
    let mut out = String::new();
    for t in 0..steps {
        if mb.label_mask.as_ref().is_some_and(|m| m[[t, 0]] == 0.0) && !last_step {
            continue;
        }
        let p = pred.slice(ndarray::s![t, 0, ..]);
        let y = if last_step {
            mb.last_step_labels()
                .slice(ndarray::s![0, 0, ..])
                .to_owned()
        } else {
            mb.labels.slice(ndarray::s![t, 0, ..]).to_owned()
        };
        if classification {
            out.push_str(&format!(
                "step {t}: label {} predicted {} (p={:.3})\n",
                argmax(y.view()),
                argmax(p),
                p[argmax(p)]
            ));
        } else {
            out.push_str(&format!(
                "step {t}: target {:?} predicted {:?}\n",
                y.to_vec(),
                p.to_vec()
            ));
        }
    }
    out
}

/// A trained model rebuilt from a run folder (for sampling and prediction).
pub struct TrainedModel {
    pub experiment: Experiment,
    pub net: Network<f32>,
    pub vocab: Option<crate::data::Vocabulary>,
    pub normalizer: Option<crate::data::FeatureNormalizer>,
    pub classification: bool,
    /// The training data's shape (predict's default output steps); many-to-many for
    /// weights written before it was recorded.
    pub sequence_shape: SequenceShape,
}

/// Loads `weights.safetensors` (or `best.safetensors` when `best`) of a run folder.
pub fn load_trained(run_dir: &std::path::Path, best: bool) -> Result<TrainedModel, TrainError> {
    use crate::experiment::rundir::RunDir;
    let record = RunDir::read_record(run_dir)?;
    let file = run_dir.join(if best {
        "best.safetensors"
    } else {
        "weights.safetensors"
    });
    let (tensors, meta) = crate::experiment::weights::load_weights_with_metadata(&file)?;
    let meta = WeightsMetadata::parse(&file, &meta)?;
    let exp = record.experiment;
    let config = exp
        .model
        .to_nn(meta.input_size, meta.output_size, meta.loss);
    let mut net = Network::new(config, 0)?;
    net.load_torch_tensors(&tensors)
        .map_err(|e| TrainError::Weights(format!("{}: {e}", file.display())))?;
    Ok(TrainedModel {
        experiment: exp,
        net,
        vocab: meta.vocab,
        normalizer: meta.normalizer,
        classification: meta.classification,
        sequence_shape: meta.sequence_shape.unwrap_or_default(),
    })
}
