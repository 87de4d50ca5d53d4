//! Checks an experiment before anything runs: every value in range, every field
//! applicable to where it is set, the loss fitting the data. The GUI uses the same
//! checks.
//!
//! [`problems`] collects every problem in file order; [`validate`] returns the first, so
//! a user fixes one at a time on the command line while the GUI can mark all of them.
//! Each problem is an [`ExperimentError::Field`] whose `field` is a path in the file
//! (`training.updater.Adam.lr`, `model.layers[1].size`), the same paths the parser uses.
//!
//! Checks that need the loaded data (the number of classes or outputs it really has) are
//! in [`validate_against_data`].

use std::path::Path;

/// The most units a layer may have: beyond it the weights of even one layer would not
/// fit in memory, and its parameter count would overflow on the way.
pub const MAX_UNITS: usize = 1_000_000;

use super::error::ExperimentError;
use super::schema::{
    ActivationSpec, Activations, DataSpec, Experiment, GradientNormalizationSpec, InitSpec,
    LayerSpec, LayerType, LossSpec, OutputModeSpec, ScheduleSpec, UpdaterSpec,
};
use crate::data::{LabelSource, SequenceSource, Task, ValidationSplit};

/// What the loaded data looks like to the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataShape {
    /// Input features per step.
    pub input: usize,
    /// Output width: classes (one-hot), vocabulary size, or regression label columns.
    pub output: usize,
    /// One-hot targets (text, echo, CSV classification).
    pub classification: bool,
}

/// The first problem of the experiment, if any (see [`problems`]).
pub fn validate(e: &Experiment, file: &Path) -> Result<(), ExperimentError> {
    match problems(e, file).into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// Every static problem of the experiment, in file order. `file` is only used in
/// messages.
pub fn problems(e: &Experiment, file: &Path) -> Vec<ExperimentError> {
    let mut c = Checker {
        file,
        problems: Vec::new(),
    };
    c.data(&e.data);
    c.model(e);
    c.training(e);
    if let Some(every) = e.evaluation.every {
        c.at_least_one(
            "evaluation.every",
            every,
            "remove it to evaluate once per epoch",
        );
    }
    if let Some(sweep) = &e.sweep {
        c.problems.extend(super::sweep_spec::problems(sweep, file));
    }
    let s = &e.sampling;
    if let Some(every) = s.every {
        c.at_least_one(
            "sampling.every",
            every,
            "remove it to sample only at the end",
        );
    }
    if !(s.temperature.is_finite() && s.temperature > 0.0) {
        c.problem(
            "sampling.temperature",
            format!("is {}", s.temperature),
            "the temperature must be greater than 0 (1 samples the model's distribution; \
             for the most likely character set `greedy: true`)",
        );
    }
    if s.prime.as_deref() == Some("") {
        c.problem(
            "sampling.prime",
            "is empty",
            "give at least one character, or remove it to start from the corpus's first",
        );
    }
    if e.initial_weights
        .as_ref()
        .is_some_and(|p| p.as_os_str().is_empty())
    {
        c.problem(
            "initial_weights",
            "is empty",
            "give a safetensors file (relative to the experiment file) or remove it",
        );
    }
    c.problems
}

/// Checks that need the loaded data: the output size and the loss against what the data
/// really has.
pub fn validate_against_data(
    e: &Experiment,
    file: &Path,
    shape: &DataShape,
) -> Result<(), ExperimentError> {
    let what = |n: usize| match (&e.data, shape.classification) {
        (DataSpec::Text(_) | DataSpec::Sentence(_), _) => format!("a vocabulary of {n} characters"),
        (_, true) => format!("{n} classes"),
        (_, false) => format!("{n} label columns"),
    };
    if let Some(size) = e.model.output.size {
        if size != shape.output {
            return Err(ExperimentError::field(
                file,
                "model.output.size",
                format!("is {size} but the data has {}", what(shape.output)),
                format!("remove `size` or set it to {}", shape.output),
            ));
        }
    }
    match (e.model.output.loss, shape.classification) {
        (Some(LossSpec::Mse), true) => Err(ExperimentError::field(
            file,
            "model.output.loss",
            format!(
                "is Mse but the data has one-hot targets ({})",
                what(shape.output)
            ),
            "use CrossEntropy (or remove `loss` for the default)",
        )),
        (Some(LossSpec::CrossEntropy), false) => Err(ExperimentError::field(
            file,
            "model.output.loss",
            "is CrossEntropy but the data has real-valued targets (regression)",
            "use Mse, or BinaryCrossEntropy for targets in [0, 1] (or remove `loss`)",
        )),
        _ => Ok(()),
    }
}

struct Checker<'a> {
    file: &'a Path,
    problems: Vec<ExperimentError>,
}

impl Checker<'_> {
    fn problem(
        &mut self,
        field: impl Into<String>,
        problem: impl Into<String>,
        allowed: impl Into<String>,
    ) {
        self.problems
            .push(ExperimentError::field(self.file, field, problem, allowed));
    }

    /// `v` finite and > 0.
    fn positive(&mut self, field: impl Into<String>, v: f64, what: &str) {
        if !(v.is_finite() && v > 0.0) {
            self.problem(
                field,
                format!("is {v}"),
                format!("{what} must be a finite number greater than 0"),
            );
        }
    }

    /// `v` finite and >= 0.
    fn non_negative(&mut self, field: impl Into<String>, v: f64, what: &str) {
        if !(v.is_finite() && v >= 0.0) {
            self.problem(
                field,
                format!("is {v}"),
                format!("{what} must be a finite number >= 0"),
            );
        }
    }

    /// `v` in [0, 1).
    fn unit(&mut self, field: impl Into<String>, v: f64, what: &str) {
        if !(0.0..1.0).contains(&v) {
            self.problem(
                field,
                format!("is {v}"),
                format!("{what} must be in [0, 1)"),
            );
        }
    }

    fn at_least_one<T: Into<u64>>(&mut self, field: impl Into<String>, v: T, otherwise: &str) {
        if v.into() == 0 {
            self.problem(field, "is 0", format!("it must be at least 1; {otherwise}"));
        }
    }

    fn data(&mut self, data: &DataSpec) {
        match data {
            DataSpec::Text(t) => {
                if t.path.as_os_str().is_empty() {
                    self.problem(
                        "data.Text.path",
                        "is empty",
                        "set it to the text file, relative to the experiment file",
                    );
                }
                self.unit(
                    "data.Text.validation",
                    f64::from(t.validation),
                    "the validation fraction",
                );
                self.unit("data.Text.test", f64::from(t.test), "the test fraction");
                if t.validation + t.test >= 1.0 {
                    self.problem(
                        "data.Text.test",
                        format!(
                            "is {} with validation {}, leaving no training text",
                            t.test, t.validation
                        ),
                        "validation + test must be less than 1",
                    );
                }
            }
            DataSpec::Sentence(s) => {
                if s.text.chars().count() < 2 {
                    self.problem(
                        "data.Sentence.text",
                        format!("is {:?}", s.text),
                        "the sentence needs at least 2 characters (one to read, one to predict)",
                    );
                }
            }
            DataSpec::Echo(e) => {
                // the series are generated in memory (one f32 and one label per step)
                const MAX_ECHO_STEPS: usize = 100_000_000;
                for (field, n) in [
                    ("data.Echo.length", e.length),
                    ("data.Echo.validation_length", e.validation_length),
                ] {
                    if n > MAX_ECHO_STEPS {
                        self.problem(
                            field,
                            format!("is {n}"),
                            "the echo series are generated in memory: give at most 100000000 steps",
                        );
                    }
                }
                if e.length <= e.echo {
                    self.problem(
                        "data.Echo.length",
                        format!("is {} with echo {}", e.length, e.echo),
                        "the series must be longer than the echo delay",
                    );
                }
            }
            DataSpec::Csv(c) => {
                self.source("data.Csv.features", &c.features);
                if let LabelSource::Files(labels) = &c.labels {
                    self.source("data.Csv.labels.Files", labels);
                }
                if let Task::Classification { classes: 0 } = c.task {
                    self.problem(
                        "data.Csv.task.Classification.classes",
                        "is 0",
                        "classification needs the number of classes (at least 1, usually 2 or more)",
                    );
                }
                self.split("validation", &c.validation, &c.labels);
                self.split("test", &c.test, &c.labels);
                if let (LabelSource::Column(_), Some(_)) = (&c.labels, &c.label_csv) {
                    self.problem(
                        "data.Csv.label_csv",
                        "is set but the labels are a column of the feature files",
                        "remove `label_csv` (it is for separate label files), or use `csv`",
                    );
                }
                if let (
                    ValidationSplit::Fraction { fraction: v, .. },
                    ValidationSplit::Fraction { fraction: t, .. },
                ) = (&c.validation, &c.test)
                {
                    if v + t >= 1.0 {
                        self.problem(
                            "data.Csv.test.Fraction.fraction",
                            format!("is {t} with a validation fraction of {v}"),
                            "together they must leave training data: keep their sum below 1",
                        );
                    }
                }
            }
        }
    }

    /// A held-out split, `name` being `validation` or `test`.
    fn split(&mut self, name: &str, split: &ValidationSplit, train_labels: &LabelSource) {
        match split {
            ValidationSplit::None => {}
            ValidationSplit::Fraction { fraction, .. } => {
                if !(*fraction > 0.0 && *fraction < 1.0) {
                    self.problem(
                        format!("data.Csv.{name}.Fraction.fraction"),
                        format!("is {fraction}"),
                        format!(
                            "the held-out fraction must be between 0 and 1 (exclusive); \
                             use `{name}: None` for no {name} set"
                        ),
                    );
                }
            }
            ValidationSplit::Folders { features, labels } => {
                self.source(&format!("data.Csv.{name}.Folders.features"), features);
                let field = format!("data.Csv.{name}.Folders.labels");
                match (train_labels, labels) {
                    (LabelSource::Column(_), Some(_)) => self.problem(
                        field,
                        "is set but the training labels are a column of the feature files",
                        format!("remove `labels` (the {name} files have the label column too)"),
                    ),
                    (LabelSource::Files(_), None) => self.problem(
                        field,
                        "is missing but the training labels are separate files",
                        format!("set `labels` to the {name} label files"),
                    ),
                    (_, Some(l)) => self.source(&field, l),
                    _ => {}
                }
            }
        }
    }

    fn source(&mut self, field: &str, source: &SequenceSource) {
        match source {
            SequenceSource::Pattern {
                pattern,
                start,
                end,
            } => {
                if crate::data::source::NumberedPattern::parse(pattern).is_err() {
                    self.problem(
                        format!("{field}.Pattern.pattern"),
                        format!("is {pattern:?}, without exactly one number placeholder"),
                        "put %d, %0Nd (zero-padded, e.g. %04d) or %Nd where the file number \
                         goes, e.g. \"data/seq_%d.csv\"",
                    );
                }
                if let Some(end) = (*end).filter(|e| start > e) {
                    self.problem(
                        format!("{field}.Pattern.start"),
                        format!("is {start}, after end {end}"),
                        "the range is inclusive: start <= end (0 and 9 for ten files)",
                    );
                }
            }
            SequenceSource::Glob(glob) => {
                if !glob.contains(['*', '?']) {
                    self.problem(
                        format!("{field}.Glob"),
                        format!("is {glob:?}, without a wildcard"),
                        "use * or ? in the file name, e.g. \"train/features_*.csv\", or Files([...]) for one file",
                    );
                }
            }
            SequenceSource::Directory(dir) => {
                if dir.as_os_str().is_empty() {
                    self.problem(
                        format!("{field}.Directory"),
                        "is empty",
                        "give the folder, relative to the experiment file",
                    );
                }
            }
            SequenceSource::Files(files) => {
                if files.is_empty() {
                    self.problem(
                        field,
                        "names no files",
                        "use Pattern(pattern: \"data/%d.csv\", start: 0, end: 99), \
                         Directory(\"data\") or Files([\"a.csv\", ...])",
                    );
                }
            }
        }
    }

    fn model(&mut self, e: &Experiment) {
        for (k, layer) in e.model.layers.iter().enumerate() {
            self.layer(&format!("model.layers[{k}]"), layer);
        }
        let o = &e.model.output;
        if let Some(n) = o.size.filter(|&n| n > MAX_UNITS) {
            self.problem(
                "model.output.size",
                format!("is {n}"),
                format!("an output layer has at most {MAX_UNITS} units"),
            );
        }
        if o.size == Some(0) {
            self.problem(
                "model.output.size",
                "is 0",
                "remove it to take the size from the data, or give at least 1",
            );
        }
        let loss = o.loss;
        match (&e.data, loss) {
            (DataSpec::Text(_) | DataSpec::Sentence(_) | DataSpec::Echo(_), Some(l)) if l != LossSpec::CrossEntropy => {
                self.problem(
                    "model.output.loss",
                    format!("is {l:?} but this data is next-symbol classification"),
                    "use CrossEntropy (or remove `loss` for the default)",
                )
            }
            (DataSpec::Csv(c), Some(LossSpec::Mse)) if matches!(c.task, Task::Classification { .. }) => self.problem(
                "model.output.loss",
                "is Mse but the task is classification",
                "use CrossEntropy (or remove `loss` for the default)",
            ),
            (DataSpec::Csv(c), Some(LossSpec::CrossEntropy)) if c.task == Task::Regression => self.problem(
                "model.output.loss",
                "is CrossEntropy but the task is regression",
                "use Mse, or BinaryCrossEntropy for targets in [0, 1] (or remove `loss` for the default)",
            ),
            _ => {}
        }
        if let (DataSpec::Csv(c), Some(size)) = (&e.data, o.size) {
            if let Task::Classification { classes } = c.task {
                if classes > 0 && size != classes {
                    self.problem(
                        "model.output.size",
                        format!("is {size} but the task has {classes} classes"),
                        format!("remove `size` or set it to {classes}"),
                    );
                }
            }
        }
        if o.mode == OutputModeSpec::LastStep && e.data.is_stream() {
            self.problem(
                "model.output.mode",
                "is LastStep but this data is a stream predicted at every step",
                "use EveryStep; LastStep (many-to-one) is for CSV sequences",
            );
        }
        self.init("model.output.weight_init", &o.weight_init);
        self.unit("model.output.dropout", o.dropout, "dropout");
        self.regularization("model.output", [o.l1, o.l2, o.l1_bias, o.l2_bias]);
    }

    fn layer(&mut self, at: &str, l: &LayerSpec) {
        if l.size == 0 {
            self.problem(
                format!("{at}.size"),
                "is 0",
                "a layer needs at least 1 unit",
            );
        }
        if l.size > MAX_UNITS {
            self.problem(
                format!("{at}.size"),
                format!("is {}", l.size),
                format!(
                    "a layer has at most {MAX_UNITS} units (its weights would not fit in memory)"
                ),
            );
        }
        let kind = l.kind;
        let info = kind.info();
        let applies_to = |field: &str, kinds: String| {
            (
                format!("{at}.{field}"),
                format!("is set on a {kind:?} layer"),
                format!("it only applies to {kinds} layers; remove it"),
            )
        };
        if info.lstm_options {
            if let Some(g) = l.gate_activation {
                if !matches!(g, ActivationSpec::Sigmoid | ActivationSpec::HardSigmoid) {
                    self.problem(
                        format!("{at}.gate_activation"),
                        format!("is {g:?}"),
                        "LSTM gates use Sigmoid or HardSigmoid",
                    );
                }
            }
            if !l.forget_bias.is_finite() {
                self.problem(
                    format!("{at}.forget_bias"),
                    format!("is {}", l.forget_bias),
                    "it must be a finite number (default 1)",
                );
            }
        } else {
            let lstm = || LayerType::those(|i| i.lstm_options);
            let set = [
                ("gate_activation", l.gate_activation.is_some()),
                ("peephole", l.peephole),
                ("forget_bias", l.forget_bias != 1.0),
            ];
            for (field, _) in set.into_iter().filter(|(_, on)| *on) {
                let (f, p, a) = applies_to(field, lstm());
                self.problem(f, p, a);
            }
        }
        if l.single_bias && !info.single_bias {
            self.problem(
                format!("{at}.single_bias"),
                format!("is set on a {kind:?} layer"),
                format!(
                    "it only applies to {} layers (a GRU keeps two biases, a dense layer \
                     one); remove it",
                    LayerType::those(|i| i.single_bias).replace(", ", " and ")
                ),
            );
        }
        match (info.activations, l.activation) {
            (Activations::OneOf(allowed), Some(a)) if !allowed.contains(&a) => self.problem(
                format!("{at}.activation"),
                format!("is {a:?}"),
                format!(
                    "a {} layer uses {} (as torch.nn.{})",
                    info.label,
                    allowed
                        .iter()
                        .map(|a| format!("{a:?}"))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    kind.to_kind(l).torch_class()
                ),
            ),
            (Activations::Fixed, Some(a)) => self.problem(
                format!("{at}.activation"),
                format!("is {a:?} on a {kind:?} layer"),
                format!(
                    "{} activations are fixed (PyTorch's formulation); remove it",
                    info.label
                ),
            ),
            (_, Some(ActivationSpec::LeakyRelu(slope))) if !slope.is_finite() => self.problem(
                format!("{at}.activation.LeakyRelu"),
                format!("is {slope}"),
                "the slope must be a finite number",
            ),
            _ => {}
        }
        self.init(&format!("{at}.weight_init"), &l.weight_init);
        if !info.recurrent {
            if l.recurrent_init != InitSpec::XavierUniform {
                self.problem(
                    format!("{at}.recurrent_init"),
                    format!("is set on a {kind:?} layer"),
                    format!(
                        "it only applies to recurrent layers ({}); remove it",
                        LayerType::those(|i| i.recurrent)
                    ),
                );
            }
        } else {
            self.init(&format!("{at}.recurrent_init"), &l.recurrent_init);
        }
        self.unit(format!("{at}.dropout"), l.dropout, "dropout");
        self.regularization(at, [l.l1, l.l2, l.l1_bias, l.l2_bias]);
    }

    fn regularization(&mut self, at: &str, values: [f64; 4]) {
        for (name, v) in ["l1", "l2", "l1_bias", "l2_bias"].iter().zip(values) {
            self.non_negative(format!("{at}.{name}"), v, "a regularisation coefficient");
        }
    }

    fn init(&mut self, at: &str, init: &InitSpec) {
        match *init {
            InitSpec::Uniform { low, high } => {
                if !(low.is_finite() && high.is_finite() && low < high) {
                    self.problem(
                        format!("{at}.Uniform"),
                        format!("is [{low}, {high}]"),
                        "low must be less than high, both finite",
                    );
                }
            }
            InitSpec::Normal { mean, std } => {
                if !mean.is_finite() {
                    self.problem(
                        format!("{at}.Normal.mean"),
                        format!("is {mean}"),
                        "the mean must be finite",
                    );
                }
                self.positive(format!("{at}.Normal.std"), std, "the standard deviation");
            }
            InitSpec::Orthogonal { gain } => {
                self.positive(format!("{at}.Orthogonal.gain"), gain, "the gain")
            }
            InitSpec::XavierUniform
            | InitSpec::XavierNormal
            | InitSpec::PyTorch
            | InitSpec::Zeros => {}
        }
    }

    fn training(&mut self, e: &Experiment) {
        let t = &e.training;
        self.updater(&t.updater);
        self.schedule("training.schedule", &t.schedule);
        self.at_least_one(
            "training.batch_size",
            t.batch_size as u64,
            "it is the number of examples (or streams) per minibatch",
        );
        self.at_least_one(
            "training.sequence_length",
            t.sequence_length as u64,
            "it is the number of steps per minibatch",
        );
        // training stops at the first limit reached, so any limit of 0 trains nothing
        if t.iterations == Some(0) || t.epochs == Some(0) {
            let field = if t.iterations == Some(0) {
                "training.iterations"
            } else {
                "training.epochs"
            };
            self.problem(
                field,
                "is 0, so nothing would be trained",
                "give at least 1, or remove it (default: 10 epochs)",
            );
        }
        if let Some(tb) = t.tbptt {
            self.at_least_one(
                "training.tbptt.forward",
                tb.forward as u64,
                "it is the segment length in steps",
            );
            self.at_least_one(
                "training.tbptt.backward",
                tb.backward as u64,
                "it is how many steps gradients flow back",
            );
            if tb.backward > tb.forward {
                self.problem(
                    "training.tbptt.backward",
                    format!("is {} but forward is {}", tb.backward, tb.forward),
                    "backward must be at most forward (gradients cannot flow back further than the segment)",
                );
            }
            if e.model.output.mode == OutputModeSpec::LastStep {
                self.problem(
                    "training.tbptt",
                    "is set with a LastStep output (many-to-one): segments before the last would have no target",
                    "remove `tbptt` (full BPTT) or use `mode: EveryStep`",
                );
            }
        }
        let clip = |c: &mut Self, name: &str, v: f64| {
            c.positive(
                format!("training.gradient_normalization.{name}"),
                v,
                "the threshold",
            )
        };
        match t.gradient_normalization {
            GradientNormalizationSpec::ClipElementWiseAbsoluteValue(v) => {
                clip(self, "ClipElementWiseAbsoluteValue", v)
            }
            GradientNormalizationSpec::ClipL2PerLayer(v) => clip(self, "ClipL2PerLayer", v),
            GradientNormalizationSpec::ClipL2PerParamType(v) => clip(self, "ClipL2PerParamType", v),
            GradientNormalizationSpec::ClipGlobalL2(v) => clip(self, "ClipGlobalL2", v),
            GradientNormalizationSpec::None
            | GradientNormalizationSpec::RenormalizeL2PerLayer
            | GradientNormalizationSpec::RenormalizeL2PerParamType => {}
        }
        if let Some(threads) = t.threads {
            self.at_least_one(
                "training.threads",
                threads as u64,
                "remove it to let seqlab choose",
            );
        }
        if let Some(every) = t.checkpoint_every {
            self.at_least_one(
                "training.checkpoint_every",
                every,
                "remove it to checkpoint only at the end",
            );
        }
        if let Some(es) = t.early_stopping {
            self.at_least_one(
                "training.early_stopping.patience",
                es.patience,
                "it is how many evaluations without improvement are tolerated; remove `early_stopping` to turn it off",
            );
            self.non_negative(
                "training.early_stopping.min_delta",
                es.min_delta,
                "the minimum improvement",
            );
        }
    }

    fn updater(&mut self, u: &UpdaterSpec) {
        let at = |kind: &str, field: &str| format!("training.updater.{kind}.{field}");
        let (kind, lr) = match u {
            UpdaterSpec::Sgd(s) => ("Sgd", s.lr),
            UpdaterSpec::Momentum(s) => ("Momentum", s.lr),
            UpdaterSpec::Adam(s) => ("Adam", s.lr),
            UpdaterSpec::AdamW(s) => ("AdamW", s.lr),
            UpdaterSpec::AmsGrad(s) => ("AmsGrad", s.lr),
            UpdaterSpec::AdaMax(s) => ("AdaMax", s.lr),
            UpdaterSpec::Nadam(s) => ("Nadam", s.lr),
            UpdaterSpec::RmsProp(s) => ("RmsProp", s.lr),
            UpdaterSpec::AdaGrad(s) => ("AdaGrad", s.lr),
            UpdaterSpec::AdaDelta(s) => ("AdaDelta", s.lr),
        };
        self.positive(at(kind, "lr"), lr, "the learning rate");
        let betas_eps = |c: &mut Self, b1: f64, b2: f64, eps: f64| {
            c.unit(at(kind, "beta1"), b1, "beta1");
            c.unit(at(kind, "beta2"), b2, "beta2");
            c.positive(at(kind, "eps"), eps, "eps");
        };
        match u {
            UpdaterSpec::Sgd(_) => {}
            UpdaterSpec::Momentum(s) => {
                self.unit(at(kind, "momentum"), s.momentum, "momentum");
                if !(0.0..=1.0).contains(&s.dampening) {
                    self.problem(
                        at(kind, "dampening"),
                        format!("is {}", s.dampening),
                        "dampening must be in [0, 1]",
                    );
                }
                if s.nesterov && (s.momentum == 0.0 || s.dampening != 0.0) {
                    self.problem(
                        at(kind, "nesterov"),
                        format!(
                            "is set with momentum {} and dampening {}",
                            s.momentum, s.dampening
                        ),
                        "Nesterov momentum needs momentum > 0 and dampening 0 (as in PyTorch)",
                    );
                }
            }
            UpdaterSpec::Adam(s) | UpdaterSpec::AmsGrad(s) => {
                betas_eps(self, s.beta1, s.beta2, s.eps)
            }
            UpdaterSpec::AdamW(s) => {
                betas_eps(self, s.beta1, s.beta2, s.eps);
                self.non_negative(at(kind, "weight_decay"), s.weight_decay, "weight decay");
            }
            UpdaterSpec::AdaMax(s) => betas_eps(self, s.beta1, s.beta2, s.eps),
            UpdaterSpec::Nadam(s) => {
                betas_eps(self, s.beta1, s.beta2, s.eps);
                self.non_negative(
                    at(kind, "momentum_decay"),
                    s.momentum_decay,
                    "momentum decay",
                );
            }
            UpdaterSpec::RmsProp(s) => {
                self.unit(at(kind, "alpha"), s.alpha, "alpha (the smoothing constant)");
                self.positive(at(kind, "eps"), s.eps, "eps");
            }
            UpdaterSpec::AdaGrad(s) => {
                self.non_negative(at(kind, "lr_decay"), s.lr_decay, "the learning-rate decay");
                self.positive(at(kind, "eps"), s.eps, "eps");
            }
            UpdaterSpec::AdaDelta(s) => {
                self.unit(at(kind, "rho"), s.rho, "rho");
                self.positive(at(kind, "eps"), s.eps, "eps");
            }
        }
    }

    fn schedule(&mut self, at: &str, s: &ScheduleSpec) {
        match s {
            ScheduleSpec::Constant => {}
            ScheduleSpec::Step {
                every,
                every_epochs,
                gamma,
            } => {
                self.period(
                    &format!("{at}.Step"),
                    ("every", *every),
                    ("every_epochs", *every_epochs),
                    "the number of iterations between decays",
                );
                self.positive(format!("{at}.Step.gamma"), *gamma, "the decay factor");
            }
            ScheduleSpec::Exponential { gamma } => self.positive(
                format!("{at}.Exponential.gamma"),
                *gamma,
                "the decay factor",
            ),
            ScheduleSpec::InverseTime { gamma, power } => {
                self.non_negative(format!("{at}.InverseTime.gamma"), *gamma, "gamma");
                self.non_negative(format!("{at}.InverseTime.power"), *power, "the power");
            }
            ScheduleSpec::Cosine {
                period,
                period_epochs,
                min_lr,
            } => {
                self.period(
                    &format!("{at}.Cosine"),
                    ("period", *period),
                    ("period_epochs", *period_epochs),
                    "the number of iterations of one cosine cycle",
                );
                self.non_negative(
                    format!("{at}.Cosine.min_lr"),
                    *min_lr,
                    "the minimum learning rate",
                );
            }
            ScheduleSpec::Warmup { then, .. } => self.schedule(&format!("{at}.Warmup.then"), then),
        }
    }

    /// A schedule period given once, in iterations or in epochs (`what` says what the
    /// iterations count).
    fn period(
        &mut self,
        at: &str,
        (it_name, it): (&str, Option<u64>),
        (ep_name, ep): (&str, Option<f64>),
        what: &str,
    ) {
        match (it, ep) {
            (Some(_), Some(_)) => self.problem(
                format!("{at}.{ep_name}"),
                format!("is given together with {it_name}"),
                format!("give the period once: {it_name} in iterations or {ep_name} in epochs"),
            ),
            (None, None) => self.problem(
                format!("{at}.{it_name}"),
                "is missing".to_string(),
                format!(
                    "give {it_name} ({what}) or {ep_name} (passes over the training data, \
                     e.g. {ep_name}: 2.5)"
                ),
            ),
            (Some(n), None) => {
                self.at_least_one(format!("{at}.{it_name}"), n, &format!("it is {what}"))
            }
            (None, Some(e)) => self.positive(format!("{at}.{ep_name}"), e, "the number of epochs"),
        }
    }
}
