//! What the session shows of its experiment and runs: settings, data, the model
//! table, evaluations, samples and predictions.

use super::*;

impl Session {
    pub(super) fn after_model_change(&mut self, what: String) -> Result<Vec<Output>, String> {
        let mut out = vec![text(what)];
        out.push(self.model_table(None)?);
        Ok(out)
    }

    pub(super) fn show(&mut self, what: ShowWhat) -> Result<Vec<Output>, String> {
        match what {
            ShowWhat::Experiment => {
                let mut e = self.experiment.clone();
                e.notebook = Default::default();
                Ok(vec![text(to_ron_string(&e))])
            }
            ShowWhat::Field(path) => {
                let v = fields::get(&self.experiment, &path).map_err(|e| e.to_string())?;
                Ok(vec![text(format!("{path} = {v}"))])
            }
            ShowWhat::Model => Ok(vec![self.model_table(None)?]),
            ShowWhat::Runs => self.runs_table(),
            ShowWhat::State => self.state(StateCommand::Show),
            ShowWhat::Data => self.show_data(),
        }
    }

    /// The experiment with its paths made absolute (what the trainer reads).
    pub(super) fn resolved(&self) -> Experiment {
        let mut e = self.experiment.clone();
        e.notebook = Default::default();
        resolve_paths(&mut e, &self.base_dir());
        e
    }

    /// Loads the data (cached while its settings stay the same).
    pub(super) fn data(&mut self) -> Result<&TrainingData, String> {
        let exp = self.resolved();
        let fresh = self
            .data
            .as_ref()
            .is_some_and(|(spec, _)| *spec == exp.data);
        if !fresh {
            validate::validate(&exp, &self.file_label()).map_err(|e| e.to_string())?;
            let data = TrainingData::load(&exp, &mut |_| {}).map_err(|e| e.to_string())?;
            self.data = Some((exp.data.clone(), data));
        }
        Ok(&self.data.as_ref().expect("loaded").1)
    }

    pub(super) fn show_data(&mut self) -> Result<Vec<Output>, String> {
        let spec = self.experiment.data.clone();
        let data = self.data()?;
        let shape = data.shape();
        let mut out = Vec::new();
        match data {
            TrainingData::Sequences {
                train,
                validation,
                alignment,
                task,
                ..
            } => {
                let preview = train.preview(*alignment, 8);
                let mut t = Table {
                    title: format!(
                        "{} training sequences ({} validation), {} features per step, {:?}, aligned {:?}: ■ real step, □ padding (masked)",
                        train.len(),
                        validation.as_ref().map_or(0, |v| v.len()),
                        shape.input,
                        task,
                        alignment
                    ),
                    columns: vec!["example".into(), "file".into(), "feature steps".into(), "label steps".into(), "features".into(), "labels".into()],
                    rows: Vec::new(),
                };
                for e in &preview.examples {
                    let bar = |f: &dyn Fn(&crate::data::StepPreview) -> bool| -> String {
                        e.steps
                            .iter()
                            .map(|s| if f(s) { '■' } else { '□' })
                            .collect()
                    };
                    t.rows.push(vec![
                        e.index.to_string(),
                        e.source
                            .as_deref()
                            .and_then(Path::file_name)
                            .map_or(String::new(), |n| n.to_string_lossy().into_owned()),
                        e.feature_len.to_string(),
                        e.label_len.to_string(),
                        bar(&|s| s.feature_real),
                        bar(&|s| s.label_real),
                    ]);
                }
                out.push(Output::Table(t));
                if let Some(p) = &preview.problem {
                    out.push(Output::Error(p.clone()));
                }
            }
            TrainingData::Stream { vocab, .. } => {
                let what = match &spec {
                    DataSpec::Text(t) => format!("text corpus {}", t.path.display()),
                    DataSpec::Sentence(_) => "one sentence (learned by heart)".into(),
                    DataSpec::Echo(e) => format!(
                        "echo task: a random bit stream, target = input {} steps earlier",
                        e.echo
                    ),
                    DataSpec::Csv(_) => "CSV".into(),
                };
                let mut rows = vec![
                    vec!["data".into(), what],
                    vec!["inputs per step".into(), shape.input.to_string()],
                    vec!["outputs per step".into(), shape.output.to_string()],
                ];
                if let Some(v) = vocab {
                    let chars: String = v
                        .chars()
                        .iter()
                        .map(|c| c.escape_debug().to_string())
                        .collect();
                    rows.push(vec![
                        "vocabulary".into(),
                        format!("{} characters: {chars}", v.len()),
                    ]);
                }
                out.push(Output::Table(Table {
                    title: "data".into(),
                    columns: vec!["".into(), "".into()],
                    rows,
                }));
            }
        }
        Ok(out)
    }

    pub(super) fn load_data(
        &mut self,
        paths: &[String],
        labels: Option<&str>,
    ) -> Result<Vec<Output>, String> {
        let base = self.base_dir();
        let rel = |p: &str| -> PathBuf {
            let abs = self.resolve(Path::new(p));
            if self.file.is_some() {
                relative_to(&abs, &base)
            } else {
                abs
            }
        };
        if paths.is_empty() && !matches!(self.experiment.data, DataSpec::Csv(_)) {
            return Err(
                "labels go with CSV sequences; load the features first (load data FOLDER --labels PATH)"
                    .into(),
            );
        }
        let first = paths.first().cloned().unwrap_or_default();
        let first_abs = self.resolve(Path::new(&first));
        let is_text = paths.len() == 1
            && labels.is_none()
            && first_abs.is_file()
            && first_abs
                .extension()
                .is_none_or(|e| !e.eq_ignore_ascii_case("csv"));
        if is_text {
            let old_split = match &self.experiment.data {
                DataSpec::Text(t) => (t.validation, t.test, t.lowercase),
                _ => (TextSpec::default().validation, 0.0, false),
            };
            self.experiment.data = DataSpec::Text(TextSpec {
                path: rel(&first),
                validation: old_split.0,
                test: old_split.1,
                lowercase: old_split.2,
            });
        } else {
            let source = |list: &[String]| -> Result<SequenceSource, String> {
                if list.len() == 1 {
                    let p = &list[0];
                    let abs = self.resolve(Path::new(p));
                    let rel_text = rel(p).to_string_lossy().into_owned();
                    if crate::data::source::NumberedPattern::is_pattern(p) {
                        // open-ended from the first index that exists (0 or 1)
                        for start in [0, 1] {
                            let abs_source = SequenceSource::from_cli(
                                &abs.to_string_lossy(),
                                Some((start, None)),
                            )
                            .map_err(|e| e.to_string())?;
                            if abs_source.files().is_ok() {
                                return Ok(SequenceSource::Pattern {
                                    pattern: rel_text,
                                    start,
                                    end: None,
                                });
                            }
                        }
                        return Err(format!("{p}: no numbered file from index 0 or 1 exists; check the pattern (e.g. data/seq_%d.csv)"));
                    }
                    if p.contains(['*', '?']) {
                        return Ok(SequenceSource::Glob(rel_text));
                    }
                    if abs.is_dir() {
                        return Ok(SequenceSource::Directory(rel(p)));
                    }
                    if !abs.is_file() {
                        return Err(format!("{p}: no such file or folder; check the path"));
                    }
                }
                for p in list {
                    if !self.resolve(Path::new(p)).is_file() {
                        return Err(format!("{p}: no such file; check the path"));
                    }
                }
                Ok(SequenceSource::Files(list.iter().map(|p| rel(p)).collect()))
            };
            let mut config = match &self.experiment.data {
                DataSpec::Csv(c) => c.clone(),
                _ => crate::data::CsvDataConfig::default(),
            };
            if !paths.is_empty() {
                config.features = source(paths)?;
            }
            if let Some(l) = labels {
                config.labels = LabelSource::Files(source(&[l.to_string()])?);
            }
            if let ValidationSplit::Folders { .. } = config.validation {
                config.validation = ValidationSplit::None;
            }
            self.experiment.data = DataSpec::Csv(config);
        }
        self.data = None;
        let mut out = vec![text(format!(
            "data = {}",
            fields::get(&self.experiment, "data").unwrap_or_default()
        ))];
        match self.show_data() {
            Ok(o) => out.extend(o),
            Err(e) => out.push(Output::Error(format!("the data cannot be read yet: {e}"))),
        }
        Ok(out)
    }

    /// The layer table: kind, input and output size, parameters; with memory when
    /// `memory` carries (batch, steps).
    pub(super) fn model_table(&mut self, memory: Option<(usize, usize)>) -> Result<Output, String> {
        let exp = self.experiment.clone();
        let shape = self.data().map(|d| (d.shape(), d.default_loss()));
        let (input, output, loss, note) = match &shape {
            Ok((s, l)) => (
                s.input,
                s.output,
                exp.model.output.loss.unwrap_or(*l),
                String::new(),
            ),
            Err(e) => (
                0,
                0,
                exp.model
                    .output
                    .loss
                    .unwrap_or(crate::experiment::schema::LossSpec::CrossEntropy),
                format!(" (sizes need the data: {e})"),
            ),
        };
        let mut t = Table {
            title: format!("model{note}"),
            columns: vec![
                "layer".into(),
                "kind".into(),
                "input".into(),
                "output".into(),
                "parameters".into(),
            ],
            rows: Vec::new(),
        };
        if shape.is_err() {
            for (i, l) in exp.model.layers.iter().enumerate() {
                t.rows.push(vec![
                    i.to_string(),
                    format!("{:?}", l.kind),
                    "?".into(),
                    l.size.to_string(),
                    "?".into(),
                ]);
            }
            return Ok(Output::Table(t));
        }
        let config = exp.model.to_nn(input, output, loss);
        let sizes = layer_sizes(&config);
        for (i, (l, spec)) in sizes.iter().zip(&exp.model.layers).enumerate() {
            t.rows.push(vec![
                i.to_string(),
                format!("{:?}", spec.kind),
                l.input.to_string(),
                l.output.to_string(),
                l.parameters.to_string(),
            ]);
        }
        let out = sizes.last().expect("the output layer");
        t.rows.push(vec![
            "output".into(),
            format!("{loss:?}, {:?}", config.output.mode),
            out.input.to_string(),
            out.output.to_string(),
            out.parameters.to_string(),
        ]);
        let total: usize = sizes.iter().map(|l| l.parameters).sum();
        t.rows.push(vec![
            "total".into(),
            String::new(),
            String::new(),
            String::new(),
            total.to_string(),
        ]);
        if let Some((batch, steps)) = memory {
            let estimate = crate::train::memory::estimate(&config, batch, steps);
            t.rows.push(vec![
                "training memory (estimate)".into(),
                format!("batch {batch} × {steps} steps"),
                String::new(),
                String::new(),
                crate::train::memory::human_bytes(estimate.total()),
            ]);
        }
        Ok(Output::Table(t))
    }

    pub(super) fn analyze(&mut self) -> Result<Vec<Output>, String> {
        let t = self.experiment.training.clone();
        let shape = match self.data() {
            Ok(data) => crate::train::memory::minibatch_shape(&t, data.longest_sequence()),
            // the table says why the sizes are missing
            Err(_) => (
                t.batch_size,
                t.tbptt.map_or(t.sequence_length, |tb| tb.forward),
            ),
        };
        Ok(vec![self.model_table(Some(shape))?])
    }

    pub(super) fn eval(&mut self, run: Option<&str>, split: Split) -> Result<Vec<Output>, String> {
        if let Some(r) = run {
            self.select(r)?;
        }
        let sel = self.model()?;
        let name = sel.name.clone();
        let folder = sel.folder.clone();
        let params = sel.model.net.params().to_vec();
        let record = RunDir::read_record(&folder).map_err(|e| format!("run {name}: {e}"))?;
        let mut trainer =
            Trainer::for_file(record.experiment, &folder.join("run.ron"), &mut |_| {})
                .map_err(|e| format!("run {name}: {e}"))?;
        if trainer.net.params().len() != params.len() {
            return Err(format!(
                "run {name}: its weights do not fit the network its run.ron describes"
            ));
        }
        trainer.net.params_mut().copy_from_slice(&params);
        trainer.iteration = self.experiment.notebook.runs[self.find_run(&name)?]
            .summary
            .iterations;
        // Stop in the window, Ctrl-C in the terminal: the scoring ends at the next batch
        let stop = self.stop_requested();
        let ev = match split {
            Split::Validation => trainer
                .evaluate_until(&stop)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!("run {name}: its data has no validation split (data.validation)")
                })?,
            Split::Test => {
                let (last, _best) = trainer
                    .evaluate_test_until(&stop)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("run {name}: its data has no test split (data.test)"))?;
                last
            }
        };
        let vocab = self.selected.as_ref().and_then(|s| s.model.vocab.clone());
        Ok(evaluation_outputs(&ev, Some(&name), vocab.as_ref(), true))
    }

    pub(super) fn sample(&mut self, args: &SampleArgs) -> Result<Vec<Output>, String> {
        let defaults = self.experiment.sampling.clone();
        let seed = self.experiment.training.seed;
        let stop = self.stop_requested();
        let sel = self.model()?;
        let vocab = sel.model.vocab.as_ref().ok_or_else(|| {
            format!(
                "run {}: `sample` needs a text model; for sequence models use `step` or `predict`",
                sel.name
            )
        })?;
        let opts = SampleOptions {
            length: args.length.unwrap_or(defaults.length),
            prime: args.prime.clone().or(defaults.prime).unwrap_or_default(),
            temperature: args.temperature.unwrap_or(defaults.temperature),
            greedy: args.greedy || (args.temperature.is_none() && defaults.greedy),
            seed: args.seed.unwrap_or(seed),
        };
        let (text, made) = sample_text_until(&sel.model.net, vocab, &opts, &stop)
            .map_err(|e| format!("run {}: {e}", sel.name))?;
        let mut out = vec![Output::Sample(text)];
        if made < opts.length {
            out.push(Output::Text(format!(
                "stopped after {made} of {} characters, as asked",
                opts.length
            )));
        }
        Ok(out)
    }

    pub(super) fn predict(
        &mut self,
        path: &str,
        out: Option<&Path>,
    ) -> Result<Vec<Output>, String> {
        use crate::train::predict::{predict, predictions_csv, read_new_data, NewDataSpec};
        let data_path = self.resolve(Path::new(path));
        let features = crate::data::SequenceSource::from_cli(&data_path.to_string_lossy(), None)
            .map_err(|e| e.to_string())?;
        let out_path = out.map(|o| self.resolve(o));
        let sel = self.model()?;
        let spec = NewDataSpec {
            features,
            labels: None,
            output_steps: None,
        };
        let name = sel.name.clone();
        let data = read_new_data(&sel.model, &spec, &mut |_| {})
            .map_err(|e| format!("run {name}: {e}"))?;
        let predictions = predict(&mut sel.model, &data).map_err(|e| format!("run {name}: {e}"))?;
        let csv = predictions_csv(&sel.model, &predictions);
        match out_path {
            Some(o) => {
                crate::experiment::io::write_text_atomic(&o, &csv).map_err(|e| e.to_string())?;
                Ok(vec![text(format!(
                    "predictions of run {name} written to {}",
                    o.display()
                ))])
            }
            None => Ok(vec![Output::Table(csv_table(
                &csv,
                &format!("predictions of run {name}"),
            ))]),
        }
    }
}

/// The outputs of an evaluation: a metrics table, and for classification with
/// `detail` the per-class table (classes that occur) and the confusion matrix. `labels`
/// names the classes (a text model's characters), else they are numbered.
pub fn evaluation_outputs(
    ev: &crate::train::Evaluation,
    run: Option<&str>,
    labels: Option<&crate::data::Vocabulary>,
    detail: bool,
) -> Vec<Output> {
    let name = |c: usize| -> String {
        labels
            .and_then(|v| v.char(c))
            .map_or(c.to_string(), |ch| format!("{:?}", ch))
    };
    // new data scored by `seqlab eval` has no iteration of its own
    let when = match ev.iteration {
        0 => String::new(),
        n => format!(" (after iteration {n})"),
    };
    let title = match run {
        Some(r) => format!("run {r}, {} split{when}", ev.split),
        None => format!("{} split{when}", ev.split),
    };
    let mut rows = vec![
        vec!["score".to_string(), format!("{:.6}", ev.score)],
        vec!["positions".to_string(), ev.positions.to_string()],
    ];
    let mut out = Vec::new();
    match &ev.metrics {
        EvalMetrics::Classification {
            accuracy,
            precision,
            recall,
            f1,
            macro_f1,
            confusion,
        } => {
            rows.push(vec!["accuracy".into(), format!("{accuracy:.4}")]);
            rows.push(vec!["macro F1".into(), format!("{macro_f1:.4}")]);
            out.push(Output::Table(Table {
                title,
                columns: vec!["metric".into(), "value".into()],
                rows,
            }));
            if !detail {
                return out;
            }
            out.push(Output::Table(Table {
                title: "per class (classes that occur)".into(),
                columns: ["class", "precision", "recall", "F1"]
                    .map(String::from)
                    .to_vec(),
                rows: (0..precision.len())
                    .filter(|&c| {
                        confusion
                            .get(c)
                            .is_some_and(|row| row.iter().sum::<u64>() > 0)
                    })
                    .map(|c| {
                        vec![
                            name(c),
                            format!("{:.4}", precision[c]),
                            format!("{:.4}", recall[c]),
                            format!("{:.4}", f1[c]),
                        ]
                    })
                    .collect(),
            }));
            out.push(Output::Confusion(Confusion {
                classes: (0..confusion.len()).map(name).collect(),
                counts: confusion.clone(),
            }));
        }
        EvalMetrics::Regression { mse, mae, r2 } => {
            rows.push(vec!["MSE".into(), format!("{mse:.6}")]);
            rows.push(vec!["MAE".into(), format!("{mae:.6}")]);
            rows.push(vec!["R²".into(), format!("{r2:.4}")]);
            out.push(Output::Table(Table {
                title,
                columns: vec!["metric".into(), "value".into()],
                rows,
            }));
        }
    }
    out
}

/// A CSV text as a table (first line = header).
pub(super) fn csv_table(csv: &str, title: &str) -> Table {
    let mut lines = csv.lines();
    let columns = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(String::from)
        .collect();
    Table {
        title: title.to_string(),
        columns,
        rows: lines
            .map(|l| l.split(',').map(String::from).collect())
            .collect(),
    }
}
