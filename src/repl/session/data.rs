//! The data group: `load data` and `align`; the data as the session reads it (cached
//! while its settings stay the same) and its preview.

use super::row::{mismatch, resolve, CommandRow, Edit, Handler};
use super::*;
use crate::data::AlignmentMode;
use crate::repl::command::{Call, Complete};

/// The data group's rows.
pub(super) const ROWS: &[CommandRow] = &[
    CommandRow {
        name: "load",
        aliases: &[],
        usage: "load data PATH... [--labels PATH]",
        summary: "use a text corpus (a .txt file) or CSV sequences (a folder, a %d pattern or .csv files) as the data; `load data --labels PATH` alone changes only the labels of CSV data",
        window: "the Data section's Browse…, dropping files on the window",
        complete: Complete::LoadData,
        parse: parse_load,
        run: Handler::Edit(load),
    },
    CommandRow {
        name: "align",
        aliases: &[],
        usage: "align start|end|equal",
        summary: "how CSV sequences of different lengths line up (ALIGN_START, ALIGN_END, EQUAL_LENGTH)",
        window: "the Data section's alignment",
        complete: Complete::Alignments,
        parse: parse_align,
        run: Handler::Edit(align),
    },
];

fn parse_load(call: &Call) -> Result<Command, String> {
    let usage = || call.usage();
    let a = call.args()?;
    let Some((what, paths)) = a.split_first() else {
        return Err(format!("load what? {}", usage()));
    };
    if what != "data" {
        return Err(format!(
            "only data can be loaded (got {what:?}); {}",
            usage()
        ));
    }
    let mut files = Vec::new();
    let mut labels = None;
    let mut it = paths.iter();
    while let Some(p) = it.next() {
        if p == "--labels" {
            labels = Some(
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("--labels needs a path; {}", usage()))?,
            );
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() && labels.is_none() {
        return Err(format!("give the data's path; {}", usage()));
    }
    Ok(Command::LoadData {
        paths: files,
        labels,
    })
}

fn load(s: &mut Edit<'_>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::LoadData { paths, labels } = cmd else {
        mismatch("load")
    };
    s.load_data(&paths, labels.as_deref())
}

fn parse_align(call: &Call) -> Result<Command, String> {
    let mode = match call.rest.to_ascii_lowercase().as_str() {
        "start" | "alignstart" | "align_start" => AlignmentMode::AlignStart,
        "end" | "alignend" | "align_end" => AlignmentMode::AlignEnd,
        "equal" | "equallength" | "equal_length" => AlignmentMode::EqualLength,
        other => return Err(format!("{other:?} is not an alignment; {}", call.usage())),
    };
    Ok(Command::Align(mode))
}

fn align(s: &mut Edit<'_>, cmd: Command) -> Result<Vec<Output>, String> {
    let Command::Align(mode) = cmd else {
        mismatch("align")
    };
    let DataSpec::Csv(c) = &mut s.experiment.data else {
        return Err(
            "alignment applies to CSV data; load CSV sequences first (load data FOLDER)".into(),
        );
    };
    c.alignment = mode;
    let mut out = vec![text(format!("data.alignment = {mode:?}"))];
    if let Ok(p) = s.show_data() {
        out.extend(p);
    }
    Ok(out)
}

/// `experiment` without its notebook and with its paths made absolute against `base`
/// (what the trainer reads).
fn resolved(experiment: &Experiment, base: &Path) -> Experiment {
    let mut e = experiment.clone();
    e.notebook = Default::default();
    resolve_paths(&mut e, base);
    e
}

impl Session {
    /// The experiment with its paths made absolute (what the trainer reads).
    pub(super) fn resolved(&self) -> Experiment {
        resolved(&self.experiment, &self.base_dir())
    }
}

impl Edit<'_> {
    /// The experiment with its paths made absolute (what the trainer reads).
    pub(super) fn resolved(&self) -> Experiment {
        resolved(self.experiment, &self.base_dir())
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
            *self.data = Some((exp.data.clone(), data));
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
            let abs = resolve(Path::new(p));
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
        let first_abs = resolve(Path::new(&first));
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
                    let abs = resolve(Path::new(p));
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
                    if !resolve(Path::new(p)).is_file() {
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
        *self.data = None;
        let mut out = vec![text(format!(
            "data = {}",
            fields::get(self.experiment, "data").unwrap_or_default()
        ))];
        match self.show_data() {
            Ok(o) => out.extend(o),
            Err(e) => out.push(Output::Error(format!("the data cannot be read yet: {e}"))),
        }
        Ok(out)
    }
}
