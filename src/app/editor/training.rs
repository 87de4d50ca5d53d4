//! Training (updater and its parameters, the learning-rate schedule with a plot of the
//! rate over the run, minibatches, length, TBPTT, clipping, early stopping), evaluation
//! and sampling, and the warnings for settings that do little.

use eframe::egui;

use egui::{DragValue, Ui};
use egui_plot::{Line, Plot, PlotPoints};

use crate::experiment::schema::{
    EarlyStoppingSpec, Experiment, GradientNormalizationSpec, ScheduleSpec, TbpttSpec, UpdaterSpec,
};

use super::{combo, grid, remembered, row, DataInfo, Form, Problem};

/// The updater's name in field paths (`training.updater.Adam.lr`).
fn updater_name(u: &UpdaterSpec) -> String {
    u.kind().to_string()
}

/// The updater's own parameters besides the learning rate, as (name, value, hover).
fn updater_params(u: &mut UpdaterSpec) -> Vec<(&'static str, &mut f64, &'static str)> {
    const B1: &str = "Decay of the first-moment (mean) estimate";
    const B2: &str = "Decay of the second-moment (variance) estimate";
    const EPS: &str = "Added to the denominator for stability";
    match u {
        UpdaterSpec::Sgd(_) => vec![],
        UpdaterSpec::Momentum(s) => vec![
            ("momentum", &mut s.momentum, "Momentum factor"),
            ("dampening", &mut s.dampening, "Dampening of the momentum"),
        ],
        UpdaterSpec::Adam(s) | UpdaterSpec::AmsGrad(s) => vec![
            ("beta1", &mut s.beta1, B1),
            ("beta2", &mut s.beta2, B2),
            ("eps", &mut s.eps, EPS),
        ],
        UpdaterSpec::AdamW(s) => vec![
            ("beta1", &mut s.beta1, B1),
            ("beta2", &mut s.beta2, B2),
            ("eps", &mut s.eps, EPS),
            (
                "weight_decay",
                &mut s.weight_decay,
                "Decoupled weight decay",
            ),
        ],
        UpdaterSpec::AdaMax(s) => vec![
            ("beta1", &mut s.beta1, B1),
            ("beta2", &mut s.beta2, B2),
            ("eps", &mut s.eps, EPS),
        ],
        UpdaterSpec::Nadam(s) => vec![
            ("beta1", &mut s.beta1, B1),
            ("beta2", &mut s.beta2, B2),
            ("eps", &mut s.eps, EPS),
            (
                "momentum_decay",
                &mut s.momentum_decay,
                "Nadam's momentum decay",
            ),
        ],
        UpdaterSpec::RmsProp(s) => vec![
            (
                "alpha",
                &mut s.alpha,
                "Decay of the squared-gradient average",
            ),
            ("eps", &mut s.eps, EPS),
        ],
        UpdaterSpec::AdaGrad(s) => vec![
            ("lr_decay", &mut s.lr_decay, "Learning-rate decay"),
            ("eps", &mut s.eps, EPS),
        ],
        UpdaterSpec::AdaDelta(s) => vec![
            ("rho", &mut s.rho, "Decay of the running averages"),
            ("eps", &mut s.eps, EPS),
        ],
    }
}

#[derive(Clone, Copy, PartialEq)]
enum ClipKind {
    None,
    GlobalL2,
    PerLayerL2,
    PerParamTypeL2,
    ElementWise,
    RenormPerLayer,
    RenormPerParamType,
}

#[derive(Clone, Copy, PartialEq)]
enum ScheduleKind {
    Constant,
    Step,
    Exponential,
    InverseTime,
    Cosine,
}

fn schedule_kind(s: &ScheduleSpec) -> ScheduleKind {
    match s {
        ScheduleSpec::Constant => ScheduleKind::Constant,
        ScheduleSpec::Step { .. } => ScheduleKind::Step,
        ScheduleSpec::Exponential { .. } => ScheduleKind::Exponential,
        ScheduleSpec::InverseTime { .. } => ScheduleKind::InverseTime,
        ScheduleSpec::Cosine { .. } => ScheduleKind::Cosine,
        ScheduleSpec::Warmup { then, .. } => schedule_kind(then),
    }
}

/// The schedule (after any warm-up) and its parameters.
fn schedule_ui(ui: &mut Ui, form: &Form, s: &mut ScheduleSpec, at: &str) {
    let mut kind = schedule_kind(s);
    row(
        ui,
        form,
        at,
        "LR schedule",
        "How the learning rate changes over the run",
        |ui| {
            combo(
                ui,
                "schedule",
                "Learning-rate schedule",
                &mut kind,
                &[
                    (ScheduleKind::Constant, "constant"),
                    (ScheduleKind::Step, "step decay"),
                    (ScheduleKind::Exponential, "exponential"),
                    (ScheduleKind::InverseTime, "inverse time"),
                    (ScheduleKind::Cosine, "cosine"),
                ],
            )
        },
    );
    if kind != schedule_kind(s) {
        *s = match kind {
            ScheduleKind::Constant => ScheduleSpec::Constant,
            ScheduleKind::Step => ScheduleSpec::Step {
                every: Some(1000),
                every_epochs: None,
                gamma: 0.5,
            },
            ScheduleKind::Exponential => ScheduleSpec::Exponential { gamma: 0.999 },
            ScheduleKind::InverseTime => ScheduleSpec::InverseTime {
                gamma: 0.001,
                power: 1.0,
            },
            ScheduleKind::Cosine => ScheduleSpec::Cosine {
                period: Some(1000),
                period_epochs: None,
                min_lr: 0.0,
            },
        };
    }
    let gamma_row = |ui: &mut Ui, field: &str, g: &mut f64, hover: &str| {
        row(ui, form, field, "Gamma", hover, |ui| {
            ui.add(super::real_value(g).range(0.0..=1.0).speed(0.001))
        });
    };
    match s {
        ScheduleSpec::Constant | ScheduleSpec::Warmup { .. } => {}
        ScheduleSpec::Step {
            every,
            every_epochs,
            gamma,
        } => {
            let mut n = every.unwrap_or(1000);
            if every_epochs.is_none() {
                row(
                    ui,
                    form,
                    &format!("{at}.Step.every"),
                    "Every",
                    "Iterations between decays",
                    |ui| ui.add(DragValue::new(&mut n).range(1..=100_000_000).suffix(" it")),
                );
                *every = Some(n);
            } else if let Some(e) = every_epochs {
                row(
                    ui,
                    form,
                    &format!("{at}.Step.every_epochs"),
                    "Every",
                    "Epochs between decays",
                    |ui| ui.add(DragValue::new(e).range(0.01..=10_000.0).suffix(" epochs")),
                );
            }
            gamma_row(
                ui,
                &format!("{at}.Step.gamma"),
                gamma,
                "The rate is multiplied by this at each step",
            );
        }
        ScheduleSpec::Exponential { gamma } => gamma_row(
            ui,
            &format!("{at}.Exponential.gamma"),
            gamma,
            "The rate is multiplied by this every iteration",
        ),
        ScheduleSpec::InverseTime { gamma, power } => {
            gamma_row(
                ui,
                &format!("{at}.InverseTime.gamma"),
                gamma,
                "lr / (1 + gamma·it)^power",
            );
            row(
                ui,
                form,
                &format!("{at}.InverseTime.power"),
                "Power",
                "lr / (1 + gamma·it)^power",
                |ui| ui.add(DragValue::new(power).range(0.0..=10.0).speed(0.01)),
            );
        }
        ScheduleSpec::Cosine {
            period,
            period_epochs,
            min_lr,
        } => {
            if period_epochs.is_none() {
                let mut n = period.unwrap_or(1000);
                row(
                    ui,
                    form,
                    &format!("{at}.Cosine.period"),
                    "Period",
                    "Iterations from the base rate down to the minimum",
                    |ui| ui.add(DragValue::new(&mut n).range(1..=100_000_000).suffix(" it")),
                );
                *period = Some(n);
            } else if let Some(e) = period_epochs {
                row(
                    ui,
                    form,
                    &format!("{at}.Cosine.period_epochs"),
                    "Period",
                    "Epochs from the base rate down to the minimum",
                    |ui| ui.add(DragValue::new(e).range(0.01..=10_000.0).suffix(" epochs")),
                );
            }
            row(
                ui,
                form,
                &format!("{at}.Cosine.min_lr"),
                "Minimum rate",
                "The rate at the end of the period",
                |ui| ui.add(super::real_value(min_lr).range(0.0..=1.0).speed(1e-5)),
            );
        }
    }
}

/// Warm-up steps (0 = none) wrapping the schedule.
fn warmup_ui(ui: &mut Ui, form: &Form, s: &mut ScheduleSpec) {
    let mut steps = match s {
        ScheduleSpec::Warmup { steps, .. } => *steps,
        _ => 0,
    };
    row(
        ui,
        form,
        "training.schedule.Warmup",
        "Warm-up",
        "Iterations over which the rate ramps up linearly to the base rate (0: none)",
        |ui| {
            ui.add(
                DragValue::new(&mut steps)
                    .range(0..=10_000_000)
                    .suffix(" it"),
            )
        },
    );
    let inner = match std::mem::replace(s, ScheduleSpec::Constant) {
        ScheduleSpec::Warmup { then, .. } => *then,
        other => other,
    };
    *s = if steps > 0 {
        ScheduleSpec::Warmup {
            steps,
            then: Box::new(inner),
        }
    } else {
        inner
    };
}

/// Iterations per epoch and the run's length in iterations, when the data is known.
fn run_length(exp: &Experiment, data: Option<&DataInfo>) -> Option<(u64, u64)> {
    let t = &exp.training;
    let per_epoch = data?
        .data
        .batches_per_epoch(t.batch_size.max(1), t.sequence_length.max(1))
        .ok()?
        .max(1) as u64;
    let total = match (t.iterations, t.epochs) {
        (Some(n), _) => n,
        (None, Some(e)) => e * per_epoch,
        (None, None) => 10 * per_epoch,
    };
    Some((per_epoch, total))
}

/// A small plot of the learning rate over the run.
fn schedule_plot_ui(ui: &mut Ui, exp: &Experiment, data: Option<&DataInfo>) {
    let (per_epoch, total) =
        run_length(exp, data).unwrap_or((1, exp.training.iterations.unwrap_or(1000)));
    let schedule = exp.training.schedule.to_nn(per_epoch);
    let base = exp.training.updater.lr();
    let total = total.max(2);
    let n = 200u64.min(total);
    let points: Vec<[f64; 2]> = (0..=n)
        .map(|i| {
            let it = i * (total - 1) / n;
            [it as f64, schedule.lr_at(base, it)]
        })
        .collect();
    Plot::new("lr_schedule_plot")
        .height(70.0)
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .show_axes([true, true])
        .include_y(0.0)
        .x_axis_label("iteration")
        .show(ui, |p| {
            p.line(Line::new("learning rate", PlotPoints::from(points)));
        })
        .response
        .on_hover_text("The learning rate over the run, from the schedule");
}

pub(super) fn training_ui(ui: &mut Ui, exp: &mut Experiment, form: &mut Form) {
    let stream = exp.data.is_stream();
    let data = form.data;
    grid(ui, "training_grid", |ui| {
        let t = &mut exp.training;
        let mut kind = t.updater.kind();
        let lr = t.updater.lr();
        let name = updater_name(&t.updater);
        row(
            ui,
            form,
            "training.updater.kind",
            "Updater",
            "The optimiser (PyTorch's defaults for its other settings)",
            |ui| combo(ui, "updater", "Updater", &mut kind, &UpdaterSpec::KINDS),
        );
        if kind != t.updater.kind() {
            t.updater = UpdaterSpec::with_kind(kind, lr).unwrap_or(t.updater);
        }
        let mut lr = lr;
        let r = row(
            ui,
            form,
            &format!("training.updater.{name}.lr"),
            "Learning rate",
            "The base learning rate of the updater",
            |ui| {
                ui.add(
                    egui::Slider::new(&mut lr, 1e-6..=1.0)
                        .logarithmic(true)
                        .custom_formatter(|v, _| format!("{v:.2e}"))
                        .custom_parser(|s| s.trim().parse().ok()),
                )
            },
        );
        if r.changed() {
            t.updater.set_lr(lr);
        }
        let name = updater_name(&t.updater);
        for (param, value, hover) in updater_params(&mut t.updater) {
            row(
                ui,
                form,
                &format!("training.updater.{name}.{param}"),
                param,
                hover,
                |ui| ui.add(super::real_value(value).speed(0.001)),
            );
        }
        if let UpdaterSpec::Momentum(m) = &mut t.updater {
            row(
                ui,
                form,
                "training.updater.Momentum.nesterov",
                "Nesterov",
                "Nesterov momentum",
                |ui| ui.checkbox(&mut m.nesterov, ""),
            );
        }
    });
    grid(ui, "schedule_grid", |ui| {
        let s = &mut exp.training.schedule;
        match &mut *s {
            ScheduleSpec::Warmup { then, .. } => {
                schedule_ui(ui, form, then, "training.schedule.Warmup.then")
            }
            other => schedule_ui(ui, form, other, "training.schedule"),
        }
        warmup_ui(ui, form, s);
    });
    schedule_plot_ui(ui, exp, data);

    grid(ui, "training_grid_2", |ui| {
        let t = &mut exp.training;
        row(
            ui,
            form,
            "training.batch_size",
            "Batch size",
            "Examples (or parallel streams) per minibatch",
            |ui| ui.add(DragValue::new(&mut t.batch_size).range(1..=65_536)),
        );
        row(
            ui,
            form,
            "training.sequence_length",
            "Sequence length",
            "Steps per minibatch (text, sentence and echo data; CSV sequences keep their own \
             lengths)",
            |ui| {
                ui.add_enabled(
                    stream,
                    DragValue::new(&mut t.sequence_length).range(1..=100_000),
                )
            },
        );

        // neither given means 10 epochs: shown as such, written only when edited
        let mut by_epochs = t.iterations.is_none();
        row(
            ui,
            form,
            "training.length",
            "Stop after",
            "Stop after a number of iterations (minibatches) or epochs",
            |ui| {
                ui.horizontal(|ui| {
                    let a = ui.radio_value(&mut by_epochs, false, "iterations");
                    ui.radio_value(&mut by_epochs, true, "epochs");
                    a
                })
                .inner
            },
        );
        let implicit = t.iterations.is_none() && t.epochs.is_none();
        if !(implicit && by_epochs) {
            remembered(ui, "training.epochs", &mut t.epochs, by_epochs, || 10);
        }
        remembered(
            ui,
            "training.iterations",
            &mut t.iterations,
            !by_epochs,
            || 1000,
        );
        if by_epochs {
            let mut n = t.epochs.unwrap_or(10);
            let r = row(
                ui,
                form,
                "training.epochs",
                "Epochs",
                "Passes over the training data (10 when not given)",
                |ui| ui.add(DragValue::new(&mut n).range(1..=1_000_000)),
            );
            if r.changed() || t.epochs.is_some() {
                t.epochs = Some(n);
            }
        }
        if let Some(n) = &mut t.iterations {
            row(
                ui,
                form,
                "training.iterations",
                "Iterations",
                "Minibatches to train",
                |ui| ui.add(DragValue::new(n).range(1..=100_000_000).speed(10)),
            );
        }

        let mut tbptt = t.tbptt.is_some();
        row(
            ui,
            form,
            "training.tbptt",
            "Truncated BPTT",
            "Train in segments; gradients flow back through part of each",
            |ui| ui.checkbox(&mut tbptt, ""),
        );
        remembered(
            ui,
            "training.tbptt",
            &mut t.tbptt,
            tbptt,
            TbpttSpec::default,
        );
        if let Some(tb) = &mut t.tbptt {
            row(
                ui,
                form,
                "training.tbptt.forward",
                "TBPTT forward",
                "Segment length in steps",
                |ui| ui.add(DragValue::new(&mut tb.forward).range(1..=100_000)),
            );
            row(
                ui,
                form,
                "training.tbptt.backward",
                "TBPTT backward",
                "Steps gradients flow back (at most forward)",
                |ui| ui.add(DragValue::new(&mut tb.backward).range(1..=100_000)),
            );
        }

        clipping_ui(ui, form, &mut t.gradient_normalization);

        if stream {
            row(
                ui,
                form,
                "training.carry_state",
                "Carry state",
                "Carry the recurrent state from one minibatch to the next",
                |ui| ui.checkbox(&mut t.carry_state, ""),
            );
        } else {
            row(
                ui,
                form,
                "training.shuffle",
                "Shuffle",
                "Shuffle the examples every epoch",
                |ui| ui.checkbox(&mut t.shuffle, ""),
            );
        }
        row(
            ui,
            form,
            "training.seed",
            "Seed",
            "Seeds initial weights, shuffling, dropout and sampling",
            |ui| ui.add(DragValue::new(&mut t.seed)),
        );
        let mut fixed_threads = t.threads.is_some();
        row(
            ui,
            form,
            "training.threads",
            "Fixed BLAS threads",
            "Off: seqlab picks the threads for the workload",
            |ui| ui.checkbox(&mut fixed_threads, ""),
        );
        remembered(ui, "training.threads", &mut t.threads, fixed_threads, || 1);
        if let Some(n) = &mut t.threads {
            row(
                ui,
                form,
                "training.threads.value",
                "Threads",
                "BLAS threads for this run",
                |ui| ui.add(DragValue::new(n).range(1..=256)),
            );
        }
        let mut early = t.early_stopping.is_some();
        row(
            ui,
            form,
            "training.early_stopping",
            "Early stopping",
            "Stop when the validation score stops improving; the best weights are kept",
            |ui| ui.checkbox(&mut early, ""),
        );
        remembered(
            ui,
            "training.early_stopping",
            &mut t.early_stopping,
            early,
            EarlyStoppingSpec::default,
        );
        if let Some(es) = &mut t.early_stopping {
            row(
                ui,
                form,
                "training.early_stopping.patience",
                "Patience",
                "Evaluations without improvement before stopping",
                |ui| ui.add(DragValue::new(&mut es.patience).range(1..=10_000)),
            );
            row(
                ui,
                form,
                "training.early_stopping.min_delta",
                "Minimum improvement",
                "An improvement smaller than this does not count",
                |ui| {
                    ui.add(
                        DragValue::new(&mut es.min_delta)
                            .range(0.0..=100.0)
                            .speed(1e-4),
                    )
                },
            );
        }
    });
}

fn clipping_ui(ui: &mut Ui, form: &Form, g: &mut GradientNormalizationSpec) {
    use GradientNormalizationSpec as G;
    let (mut clip, threshold) = match *g {
        G::None => (ClipKind::None, None),
        G::ClipGlobalL2(v) => (ClipKind::GlobalL2, Some(v)),
        G::ClipL2PerLayer(v) => (ClipKind::PerLayerL2, Some(v)),
        G::ClipL2PerParamType(v) => (ClipKind::PerParamTypeL2, Some(v)),
        G::ClipElementWiseAbsoluteValue(v) => (ClipKind::ElementWise, Some(v)),
        G::RenormalizeL2PerLayer => (ClipKind::RenormPerLayer, None),
        G::RenormalizeL2PerParamType => (ClipKind::RenormPerParamType, None),
    };
    row(
        ui,
        form,
        "training.gradient_normalization",
        "Gradient clipping",
        "Gradient normalisation before the update",
        |ui| {
            combo(
                ui,
                "clipping",
                "Gradient clipping",
                &mut clip,
                &[
                    (ClipKind::None, "none"),
                    (ClipKind::GlobalL2, "clip global L2 norm"),
                    (ClipKind::PerLayerL2, "clip L2 per layer"),
                    (ClipKind::PerParamTypeL2, "clip L2 per parameter type"),
                    (ClipKind::ElementWise, "clip each value"),
                    (ClipKind::RenormPerLayer, "renormalise per layer"),
                    (
                        ClipKind::RenormPerParamType,
                        "renormalise per parameter type",
                    ),
                ],
            )
        },
    );
    let with_threshold = !matches!(
        clip,
        ClipKind::None | ClipKind::RenormPerLayer | ClipKind::RenormPerParamType
    );
    let mut t = threshold;
    remembered(
        ui,
        "training.gradient_normalization.threshold",
        &mut t,
        with_threshold,
        || 5.0,
    );
    if let Some(v) = &mut t {
        row(
            ui,
            form,
            "training.gradient_normalization.threshold",
            "Clip threshold",
            "The largest norm (or absolute value) allowed",
            |ui| ui.add(DragValue::new(v).range(1e-6..=1e6).speed(0.1)),
        );
    }
    let v = t.unwrap_or(5.0);
    *g = match clip {
        ClipKind::None => G::None,
        ClipKind::GlobalL2 => G::ClipGlobalL2(v),
        ClipKind::PerLayerL2 => G::ClipL2PerLayer(v),
        ClipKind::PerParamTypeL2 => G::ClipL2PerParamType(v),
        ClipKind::ElementWise => G::ClipElementWiseAbsoluteValue(v),
        ClipKind::RenormPerLayer => G::RenormalizeL2PerLayer,
        ClipKind::RenormPerParamType => G::RenormalizeL2PerParamType,
    };
}

/// An optional interval: a checkbox that turns it on and the value (kept while off).
fn optional_every(
    ui: &mut Ui,
    form: &Form,
    field: &str,
    label: &str,
    hover: &str,
    value: &mut Option<u64>,
    default: u64,
) {
    let mut on = value.is_some();
    ui.checkbox(&mut on, label).on_hover_text(hover);
    remembered(ui, field, value, on, || default);
    let mut shown = value.unwrap_or(default);
    ui.push_id(field, |ui| {
        ui.vertical(|ui| {
            let r = ui
                .add_enabled(
                    on,
                    DragValue::new(&mut shown)
                        .range(1..=100_000_000)
                        .prefix("every "),
                )
                .accessible_name(format!("{label} interval"))
                .on_hover_text(hover);
            super::mark(ui, form, field, &r);
        });
    });
    if let Some(v) = value {
        *v = shown;
    }
    ui.end_row();
}

pub(super) fn evaluation_ui(ui: &mut Ui, exp: &mut Experiment, form: &Form) {
    grid(ui, "evaluation_grid", |ui| {
        optional_every(
            ui,
            form,
            "evaluation.every",
            "Evaluate",
            "Evaluate every this many iterations (off: once per epoch)",
            &mut exp.evaluation.every,
            100,
        );
        optional_every(
            ui,
            form,
            "sampling.every",
            "Sample",
            "Generate a sample every this many iterations (off: only at the end)",
            &mut exp.sampling.every,
            250,
        );
        optional_every(
            ui,
            form,
            "training.checkpoint_every",
            "Checkpoint",
            "Write a checkpoint every this many iterations (always at the end)",
            &mut exp.training.checkpoint_every,
            1000,
        );
        let s = &mut exp.sampling;
        row(
            ui,
            form,
            "sampling.length",
            "Sample length",
            "Characters to generate",
            |ui| ui.add(DragValue::new(&mut s.length).range(1..=100_000)),
        );
        row(
            ui,
            form,
            "sampling.greedy",
            "Greedy",
            "Take the most likely character instead of drawing",
            |ui| ui.checkbox(&mut s.greedy, ""),
        );
        let greedy = s.greedy;
        row(
            ui,
            form,
            "sampling.temperature",
            "Temperature",
            "Softmax temperature (1 samples the model's distribution)",
            |ui| {
                ui.add_enabled(
                    !greedy,
                    DragValue::new(&mut s.temperature)
                        .range(0.01..=10.0)
                        .speed(0.01),
                )
            },
        );
        let mut prime = s.prime.clone().unwrap_or_default();
        let r = row(
            ui,
            form,
            "sampling.prime",
            "Prime",
            "Text fed before generating (empty: the corpus's first character)",
            |ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut prime)
                        .id_salt("sampling.prime")
                        .desired_width(ui.available_width()),
                )
            },
        );
        if r.changed() {
            s.prime = (!prime.is_empty()).then_some(prime);
        }
    });
}

/// Settings that work but do little: TBPTT segments at least as long as every
/// minibatch (it is full BPTT), validating very often on a large validation split.
pub(super) fn warnings(exp: &Experiment, data: Option<&DataInfo>) -> Vec<Problem> {
    let mut out = Vec::new();
    let t = &exp.training;
    if let Some(tb) = t.tbptt {
        let longest = match data.and_then(|d| d.longest) {
            Some(l) => Some(l),
            None if exp.data.is_stream() => Some(t.sequence_length),
            None => None,
        };
        if let Some(longest) = longest.filter(|&l| tb.forward >= l) {
            out.push(Problem::warning(
                "training.tbptt.forward",
                format!(
                    "segments of {} steps are at least as long as every minibatch ({longest} \
                     steps): this is full BPTT; shorten the segments or switch TBPTT off",
                    tb.forward
                ),
            ));
        }
    }
    let validation_positions = data.map(|d| d.validation_steps);
    let every = match (exp.evaluation.every, run_length(exp, data)) {
        (Some(n), _) => Some(n),
        (None, Some((per_epoch, _))) => Some(per_epoch),
        (None, None) => None,
    };
    if let (Some(every), Some(positions)) = (every, validation_positions) {
        let train_positions = (t.batch_size * t.sequence_length) as u64;
        if every <= 10 && positions as u64 > 10 * train_positions.max(1) {
            out.push(Problem::warning(
                "evaluation.every",
                format!(
                    "validating every {every} iteration(s) on {positions} validation steps \
                     costs more than the training in between; evaluate less often (e.g. \
                     every 100)"
                ),
            ));
        }
    }
    out
}
