//! The inspect group: `eval`, `sample` and `predict` with the selected run's model (and
//! `eval now`/`sample now`, asked of the active run); the outputs of an evaluation.

use super::row::{mismatch, CommandRow, Handler};
use super::*;
use crate::repl::command::{Call, Complete};

/// The inspect group's rows.
pub(super) const ROWS: &[CommandRow] = &[
    CommandRow {
        name: "eval",
        aliases: &["evaluate"],
        usage: "eval [RUN] [validation|test] | eval now",
        summary: "score a run's weights on the validation (default) or test split: score, accuracy, per-class precision/recall/F1 and confusion matrix, or MSE/MAE/R²; `eval now`: the active run evaluates at its next iteration",
        window: "the notebook, Evaluate now",
        complete: Complete::Runs,
        parse: parse_eval,
        run: Handler::Session(eval),
    },
    CommandRow {
        name: "sample",
        aliases: &[],
        usage: "sample [N] [--prime TEXT] [--temperature T | --greedy] [--seed S] | sample now",
        summary: "generate N characters from the selected run's text model; `sample now`: the active run samples at its next iteration",
        window: "Sample now",
        complete: Complete::Nothing,
        parse: parse_sample,
        run: Handler::Session(sample),
    },
    CommandRow {
        name: "predict",
        aliases: &[],
        usage: "predict PATH [-o FILE]",
        summary: "predictions of the selected run for CSV sequence files (training normalisation applied)",
        window: "the notebook",
        complete: Complete::Files,
        parse: parse_predict,
        run: Handler::Session(predict),
    },
];

fn parse_eval(call: &Call) -> Result<Command, String> {
    if call.rest == "now" {
        return Ok(Command::RunNow(crate::train::Command::EvaluateNow));
    }
    let mut run = None;
    let mut split = Split::Validation;
    for w in call.args()? {
        match w.as_str() {
            "validation" | "val" => split = Split::Validation,
            "test" => split = Split::Test,
            _ if run.is_none() => run = Some(w),
            _ => return Err(format!("unexpected {w:?}; {}", call.usage())),
        }
    }
    Ok(Command::Eval { run, split })
}

fn eval(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    match cmd {
        Command::Eval { run, split } => s.eval(run.as_deref(), split),
        Command::RunNow(now) => s.send(now, "an evaluation at the next iteration requested"),
        _ => mismatch("eval"),
    }
}

fn parse_sample(call: &Call) -> Result<Command, String> {
    if call.rest == "now" {
        return Ok(Command::RunNow(crate::train::Command::SampleNow));
    }
    let usage = || call.usage();
    let a = call.args()?;
    let mut s = SampleArgs::default();
    let mut it = a.iter();
    while let Some(w) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value; {}", usage()))
        };
        match w.as_str() {
            "--prime" => s.prime = Some(value("--prime")?),
            "--temperature" | "-t" => {
                let v = value("--temperature")?;
                let t: f64 = v
                    .parse()
                    .map_err(|_| format!("--temperature {v:?} is not a number; {}", usage()))?;
                if !(t.is_finite() && t > 0.0) {
                    return Err(format!("the temperature must be greater than 0 (got {v}); use --greedy for the most likely character"));
                }
                s.temperature = Some(t);
            }
            "--greedy" => s.greedy = true,
            "--seed" => {
                let v = value("--seed")?;
                s.seed = Some(v.parse().map_err(|_| {
                    format!("--seed {v:?} is not a whole number from 0; {}", usage())
                })?);
            }
            n if s.length.is_none() && !n.starts_with('-') => {
                s.length = Some(call.number(n, "the length")?)
            }
            other => return Err(format!("unexpected {other:?}; {}", usage())),
        }
    }
    if s.greedy && s.temperature.is_some() {
        return Err("give --temperature or --greedy, not both".into());
    }
    // the text is built (and kept in the notebook) whole
    if s.length.is_some_and(|n| n > 1_000_000) {
        return Err("give at most 1000000 characters: sample 1000".into());
    }
    if s.length == Some(0) {
        return Err("give at least 1 character: sample 200".into());
    }
    Ok(Command::Sample(s))
}

fn sample(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    match cmd {
        Command::Sample(args) => s.sample(&args),
        Command::RunNow(now) => s.send(now, "a sample at the next iteration requested"),
        _ => mismatch("sample"),
    }
}

fn parse_predict(call: &Call) -> Result<Command, String> {
    match call.args()?.as_slice() {
        [p] => Ok(Command::Predict {
            path: p.clone(),
            out: None,
        }),
        [p, o, f] if o == "-o" || o == "--output" => Ok(Command::Predict {
            path: p.clone(),
            out: Some(PathBuf::from(f)),
        }),
        _ => Err(call.usage()),
    }
}

fn predict(s: &mut Session, cmd: Command, _: usize) -> Result<Vec<Output>, String> {
    let Command::Predict { path, out } = cmd else {
        mismatch("predict")
    };
    s.predict(&path, out.as_deref())
}

impl Session {
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
        use crate::train::predict::{predict_until, predictions_csv, read_new_data, NewDataSpec};
        let data_path = self.resolve(Path::new(path));
        let features = crate::data::SequenceSource::from_cli(&data_path.to_string_lossy(), None)
            .map_err(|e| e.to_string())?;
        let out_path = out.map(|o| self.resolve(o));
        let spec = NewDataSpec {
            features,
            labels: None,
            output_steps: None,
        };
        let (name, run_dir) = {
            let sel = self.model()?;
            (sel.name.clone(), sel.folder.clone())
        };
        if let Some(o) = &out_path {
            crate::train::predict::check_output(o, &run_dir, &spec)
                .map_err(|e| format!("-o {e}"))?;
            self.check_write_target(o, "predict", false)?;
        }
        let stop = self.stop_requested();
        let sel = self.model()?;
        let data = read_new_data(&sel.model, &spec, &mut |_| {})
            .map_err(|e| format!("run {name}: {e}"))?;
        let predictions =
            predict_until(&mut sel.model, &data, &stop).map_err(|e| format!("run {name}: {e}"))?;
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
