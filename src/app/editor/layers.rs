//! The layer stack: each layer's kind, size and settings with its input and output size
//! and parameter count (from the data, as the REPL's `analyze` computes them), the
//! output layer, the total and an estimate of training memory.

use eframe::egui;

use egui::{DragValue, RichText, Ui};

use crate::experiment::schema::{
    ActivationSpec, Activations, Experiment, InitSpec, LayerSpec, LayerType, LossSpec,
    OutputModeSpec,
};
use crate::train::memory::{self, LayerSize};

use super::{combo, grid, mark, row, Form};

/// A change to the layer stack chosen while drawing it, applied after the loop.
enum LayerOp {
    Up(usize),
    Down(usize),
    Remove(usize),
    Add,
}

/// The layer kinds as the kind menu lists them, from the file format's one list.
fn kinds() -> Vec<(LayerType, &'static str)> {
    LayerType::ALL.map(|k| (k, k.info().label)).to_vec()
}

/// An activation's name in the menus.
fn activation_label(a: ActivationSpec) -> &'static str {
    match a {
        ActivationSpec::Identity => "identity",
        ActivationSpec::Sigmoid => "sigmoid",
        ActivationSpec::HardSigmoid => "hard sigmoid",
        ActivationSpec::Tanh => "tanh",
        ActivationSpec::Softsign => "softsign",
        ActivationSpec::Relu => "relu",
        ActivationSpec::LeakyRelu(_) => "leaky relu",
    }
}

/// The activations a layer kind accepts (None = the kind's default), as the file
/// format describes the kind ([`LayerType::info`]).
fn activations(kind: LayerType) -> Vec<(Option<ActivationSpec>, &'static str)> {
    use ActivationSpec as A;
    let listed: &[ActivationSpec] = match kind.info().activations {
        Activations::Fixed => return vec![(None, "fixed")],
        Activations::OneOf(allowed) => allowed,
        Activations::Any => &[
            A::Tanh,
            A::Softsign,
            A::Relu,
            A::Sigmoid,
            A::HardSigmoid,
            A::Identity,
        ],
    };
    std::iter::once((None, "default (tanh)"))
        .chain(listed.iter().map(|&a| (Some(a), activation_label(a))))
        .collect()
}

/// Clears the fields a layer kind does not accept (after the kind changed).
fn fit_layer_to_kind(layer: &mut LayerSpec) {
    let defaults = LayerSpec::default();
    let info = layer.kind.info();
    if !info.lstm_options {
        layer.gate_activation = None;
        layer.peephole = false;
        layer.forget_bias = defaults.forget_bias;
    }
    if !info.single_bias {
        layer.single_bias = false;
    }
    if !info.recurrent {
        layer.recurrent_init = defaults.recurrent_init;
    }
    if !activations(layer.kind)
        .iter()
        .any(|(a, _)| *a == layer.activation)
    {
        layer.activation = None;
    }
}

#[derive(Clone, Copy, PartialEq)]
enum InitKind {
    XavierUniform,
    XavierNormal,
    Uniform,
    Normal,
    Orthogonal,
    PyTorch,
    Zeros,
}

/// An initialisation with its parameters.
fn init_ui(ui: &mut Ui, id: &str, name: &str, init: &mut InitSpec) -> egui::Response {
    let mut kind = match init {
        InitSpec::XavierUniform => InitKind::XavierUniform,
        InitSpec::XavierNormal => InitKind::XavierNormal,
        InitSpec::Uniform { .. } => InitKind::Uniform,
        InitSpec::Normal { .. } => InitKind::Normal,
        InitSpec::Orthogonal { .. } => InitKind::Orthogonal,
        InitSpec::PyTorch => InitKind::PyTorch,
        InitSpec::Zeros => InitKind::Zeros,
    };
    ui.horizontal_wrapped(|ui| {
        let r = combo(
            ui,
            id,
            name,
            &mut kind,
            &[
                (InitKind::XavierUniform, "Xavier uniform"),
                (InitKind::XavierNormal, "Xavier normal"),
                (InitKind::Uniform, "uniform"),
                (InitKind::Normal, "normal"),
                (InitKind::Orthogonal, "orthogonal"),
                (InitKind::PyTorch, "PyTorch default"),
                (InitKind::Zeros, "zeros"),
            ],
        );
        let now = std::mem::replace(init, InitSpec::Zeros);
        *init = match (kind, now) {
            (InitKind::Uniform, u @ InitSpec::Uniform { .. })
            | (InitKind::Normal, u @ InitSpec::Normal { .. })
            | (InitKind::Orthogonal, u @ InitSpec::Orthogonal { .. }) => u,
            (InitKind::XavierUniform, _) => InitSpec::XavierUniform,
            (InitKind::XavierNormal, _) => InitSpec::XavierNormal,
            (InitKind::Uniform, _) => InitSpec::Uniform {
                low: -0.1,
                high: 0.1,
            },
            (InitKind::Normal, _) => InitSpec::Normal {
                mean: 0.0,
                std: 0.01,
            },
            (InitKind::Orthogonal, _) => InitSpec::Orthogonal { gain: 1.0 },
            (InitKind::PyTorch, _) => InitSpec::PyTorch,
            (InitKind::Zeros, _) => InitSpec::Zeros,
        };
        let value = |ui: &mut Ui, v: &mut f64, label: &str| {
            ui.add(
                super::real_value(v)
                    .speed(0.001)
                    .prefix(format!("{label} ")),
            )
            .accessible_name(format!("{name} {label}"));
        };
        match init {
            InitSpec::Uniform { low, high } => {
                value(ui, low, "low");
                value(ui, high, "high");
            }
            InitSpec::Normal { mean, std } => {
                value(ui, mean, "mean");
                value(ui, std, "std");
            }
            InitSpec::Orthogonal { gain } => value(ui, gain, "gain"),
            _ => {}
        }
        r
    })
    .inner
}

/// L1/L2 on weights and biases, one line.
fn regularization_ui(
    ui: &mut Ui,
    name: &str,
    l1: &mut f64,
    l2: &mut f64,
    l1_bias: &mut f64,
    l2_bias: &mut f64,
) -> egui::Response {
    ui.horizontal_wrapped(|ui| {
        let add = |ui: &mut Ui, v: &mut f64, label: &str, hover: &str| {
            ui.add(
                super::real_value(v)
                    .range(0.0..=10.0)
                    .speed(1e-5)
                    .prefix(format!("{label} ")),
            )
            .accessible_name(format!("{name} {label}"))
            .on_hover_text(hover)
        };
        let r = add(ui, l1, "L1", "L1 penalty on the weights");
        add(ui, l2, "L2", "L2 penalty on the weights (weight decay)");
        add(ui, l1_bias, "L1 bias", "L1 penalty on the biases");
        add(ui, l2_bias, "L2 bias", "L2 penalty on the biases");
        r
    })
    .inner
}

/// The sizes of every layer and the output, when the data has been read.
fn sizes(exp: &Experiment, form: &Form) -> Option<(Vec<LayerSize>, memory::MemoryEstimate)> {
    let info = form.data?;
    let shape = info.data.shape();
    let loss = exp.model.output.loss.unwrap_or(info.default_loss());
    let config = exp.model.to_nn(shape.input, shape.output, loss);
    let (batch, steps) = memory::minibatch_shape(&exp.training, info.longest);
    Some((
        memory::layer_sizes(&config),
        memory::estimate(&config, batch, steps),
    ))
}

fn size_line(ui: &mut Ui, s: Option<&LayerSize>) {
    let text = match s {
        Some(s) => format!(
            "in {} -> out {} · {} parameters",
            s.input,
            s.output,
            thousands(s.parameters)
        ),
        None => "in ? -> out ? (sizes come from the data)".into(),
    };
    ui.label(RichText::new(text).small().weak());
}

/// `12345678` as `12,345,678`.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn layers_ui(ui: &mut Ui, exp: &mut Experiment, form: &mut Form) {
    let sizes = sizes(exp, form);
    let mut op = None;
    let n = exp.model.layers.len();
    for (k, layer) in exp.model.layers.iter_mut().enumerate() {
        let id = k + 1;
        let at = format!("model.layers[{k}]");
        ui.push_id(&at, |ui| {
            egui::Frame::group(ui.style())
                .inner_margin(6.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    let head = ui
                        .horizontal_wrapped(|ui| {
                            ui.strong(format!("Layer {id}"));
                            let before = layer.kind;
                            combo(
                                ui,
                                "kind",
                                &format!("Layer {id} kind"),
                                &mut layer.kind,
                                &kinds(),
                            )
                            .on_hover_text("The layer type");
                            if layer.kind != before {
                                fit_layer_to_kind(layer);
                            }
                            let r = ui
                                .add(
                                    DragValue::new(&mut layer.size)
                                        .range(1..=65_536)
                                        .prefix("units "),
                                )
                                .accessible_name(format!("Layer {id} size"))
                                .on_hover_text("Hidden units");
                            if ui
                                .add_enabled(k > 0, egui::Button::new("up").small())
                                .accessible_name(format!("Move layer {id} up"))
                                .on_hover_text("Move this layer towards the input")
                                .clicked()
                            {
                                op = Some(LayerOp::Up(k));
                            }
                            if ui
                                .add_enabled(k + 1 < n, egui::Button::new("down").small())
                                .accessible_name(format!("Move layer {id} down"))
                                .on_hover_text("Move this layer towards the output")
                                .clicked()
                            {
                                op = Some(LayerOp::Down(k));
                            }
                            if ui
                                .small_button("×")
                                .accessible_name(format!("Remove layer {id}"))
                                .on_hover_text("Remove this layer")
                                .clicked()
                            {
                                op = Some(LayerOp::Remove(k));
                            }
                            r
                        })
                        .inner;
                    mark(ui, form, &format!("{at}.size"), &head);
                    mark(ui, form, &format!("{at}.kind"), &head);
                    size_line(ui, sizes.as_ref().and_then(|(s, _)| s.get(k)));
                    egui::CollapsingHeader::new(format!("Layer {id} settings"))
                        .id_salt("settings")
                        .default_open(false)
                        .show(ui, |ui| layer_settings_ui(ui, form, layer, id, &at));
                    // whatever else is wrong with the layer, at the layer
                    let frame = ui.min_rect();
                    let resp =
                        ui.interact(frame, ui.scope_id().with("frame"), egui::Sense::hover());
                    mark(ui, form, &at, &resp);
                });
        });
    }
    ui.horizontal(|ui| {
        if ui
            .button("Add layer")
            .on_hover_text("Add a layer like the last one at the top of the stack")
            .clicked()
        {
            op = Some(LayerOp::Add);
        }
    });
    match op {
        Some(LayerOp::Up(k)) => exp.model.layers.swap(k - 1, k),
        Some(LayerOp::Down(k)) => exp.model.layers.swap(k, k + 1),
        Some(LayerOp::Remove(k)) => {
            exp.model.layers.remove(k);
        }
        Some(LayerOp::Add) => {
            let layer = exp.model.layers.last().cloned().unwrap_or_default();
            exp.model.layers.push(layer);
        }
        None => {}
    }
    ui.add_space(4.0);
    output_ui(ui, exp, form, sizes.as_ref().map(|(s, _)| s));
    ui.add_space(4.0);
    match (&sizes, form.data_error) {
        (Some((s, estimate)), _) => {
            let total: usize = s.iter().map(|l| l.parameters).sum();
            let (batch, steps) = form
                .data
                .map(|d| memory::minibatch_shape(&exp.training, d.longest))
                .unwrap_or_default();
            ui.label(format!(
                "Total: {} parameters · training memory about {} (minibatch {batch} × {steps} steps)",
                thousands(total),
                memory::human_bytes(estimate.total())
            ))
            .on_hover_text(
                "Parameters, gradients and updater state, plus the activations of one \
                 minibatch kept for the backward pass (an upper-side estimate)",
            );
        }
        (None, Some(e)) => {
            ui.add(
                egui::Label::new(
                    RichText::new(format!("Sizes need the data: {e}"))
                        .small()
                        .weak(),
                )
                .wrap(),
            );
        }
        (None, None) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak("reading the data for the layer sizes…");
            });
        }
    }
}

fn layer_settings_ui(ui: &mut Ui, form: &mut Form, layer: &mut LayerSpec, id: usize, at: &str) {
    let grid_id = format!("{at}.grid");
    grid(ui, &grid_id, |ui| {
        let info = layer.kind.info();
        let fixed = info.activations == Activations::Fixed;
        row(
            ui,
            form,
            &format!("{at}.activation"),
            "Activation",
            "Cell/output activation (GRU's is fixed)",
            |ui| {
                ui.add_enabled_ui(!fixed, |ui| {
                    combo(
                        ui,
                        "activation",
                        &format!("Layer {id} activation"),
                        &mut layer.activation,
                        &activations(layer.kind),
                    )
                })
                .inner
            },
        );
        if info.lstm_options {
            row(
                ui,
                form,
                &format!("{at}.gate_activation"),
                "Gate activation",
                "The input, forget and output gates' activation",
                |ui| {
                    combo(
                        ui,
                        "gate_activation",
                        &format!("Layer {id} gate activation"),
                        &mut layer.gate_activation,
                        &[
                            (None, "default (sigmoid)"),
                            (Some(ActivationSpec::Sigmoid), "sigmoid"),
                            (Some(ActivationSpec::HardSigmoid), "hard sigmoid"),
                        ],
                    )
                },
            );
            row(
                ui,
                form,
                &format!("{at}.peephole"),
                "Peepholes",
                "Gates also see the cell state (DL4J's GravesLSTM)",
                |ui| ui.checkbox(&mut layer.peephole, ""),
            );
            row(
                ui,
                form,
                &format!("{at}.forget_bias"),
                "Forget-gate bias",
                "The forget gate's bias at initialisation (1 keeps memory early on)",
                |ui| ui.add(DragValue::new(&mut layer.forget_bias).speed(0.1)),
            );
        }
        if info.single_bias {
            row(
                ui,
                form,
                &format!("{at}.single_bias"),
                "One bias",
                "One bias per gate (DL4J's layout) instead of PyTorch's bias_ih and bias_hh",
                |ui| ui.checkbox(&mut layer.single_bias, ""),
            );
        }
        row(
            ui,
            form,
            &format!("{at}.weight_init"),
            "Input weights init",
            "How the input weights are initialised",
            |ui| {
                init_ui(
                    ui,
                    "weight_init",
                    &format!("Layer {id} weight init"),
                    &mut layer.weight_init,
                )
            },
        );
        if info.recurrent {
            row(
                ui,
                form,
                &format!("{at}.recurrent_init"),
                "Recurrent init",
                "How the recurrent weights are initialised",
                |ui| {
                    init_ui(
                        ui,
                        "recurrent_init",
                        &format!("Layer {id} recurrent init"),
                        &mut layer.recurrent_init,
                    )
                },
            );
        }
        row(
            ui,
            form,
            &format!("{at}.dropout"),
            "Dropout",
            "Inverted dropout on this layer's input while training (drop probability)",
            |ui| {
                ui.add(
                    DragValue::new(&mut layer.dropout)
                        .range(0.0..=0.95)
                        .speed(0.01),
                )
                .accessible_name(format!("Layer {id} dropout"))
            },
        );
        row(
            ui,
            form,
            &format!("{at}.l2"),
            "Regularisation",
            "L1 and L2 penalties on this layer's weights and biases",
            |ui| {
                regularization_ui(
                    ui,
                    &format!("Layer {id}"),
                    &mut layer.l1,
                    &mut layer.l2,
                    &mut layer.l1_bias,
                    &mut layer.l2_bias,
                )
            },
        );
    });
}

fn output_ui(ui: &mut Ui, exp: &mut Experiment, form: &mut Form, sizes: Option<&Vec<LayerSize>>) {
    let o = &mut exp.model.output;
    ui.strong("Output layer");
    size_line(ui, sizes.and_then(|s| s.last()));
    grid(ui, "output_grid", |ui| {
        row(
            ui,
            form,
            "model.output.loss",
            "Output loss",
            "The output layer's loss (default from the data)",
            |ui| {
                combo(
                    ui,
                    "loss",
                    "Output loss",
                    &mut o.loss,
                    &[
                        (None, "default"),
                        (Some(LossSpec::CrossEntropy), "softmax + cross-entropy"),
                        (Some(LossSpec::Mse), "identity + MSE"),
                        (Some(LossSpec::BinaryCrossEntropy), "sigmoid + binary CE"),
                    ],
                )
            },
        );
        row(
            ui,
            form,
            "model.output.mode",
            "Output at",
            "Predict at every step, or only the last (many-to-one)",
            |ui| {
                combo(
                    ui,
                    "output_mode",
                    "Output at",
                    &mut o.mode,
                    &[
                        (OutputModeSpec::EveryStep, "every step"),
                        (OutputModeSpec::LastStep, "last step"),
                    ],
                )
            },
        );
        row(
            ui,
            form,
            "model.output.weight_init",
            "Output init",
            "How the output weights are initialised",
            |ui| init_ui(ui, "output_init", "Output weight init", &mut o.weight_init),
        );
        row(
            ui,
            form,
            "model.output.dropout",
            "Output dropout",
            "Dropout on the output layer's input while training",
            |ui| ui.add(DragValue::new(&mut o.dropout).range(0.0..=0.95).speed(0.01)),
        );
        row(
            ui,
            form,
            "model.output.l2",
            "Output regularisation",
            "L1 and L2 penalties on the output layer",
            |ui| {
                regularization_ui(
                    ui,
                    "Output",
                    &mut o.l1,
                    &mut o.l2,
                    &mut o.l1_bias,
                    &mut o.l2_bias,
                )
            },
        );
        // the output size is normally the data's; only a given size that disagrees
        // is a problem, drawn here
        let field = "model.output.size";
        if o.size.is_some() {
            let r = row(
                ui,
                form,
                field,
                "Output size",
                "Outputs; remove to take the data's",
                |ui| {
                    let mut on = true;
                    let r = ui.checkbox(&mut on, "given");
                    if !on {
                        o.size = None;
                    }
                    r
                },
            );
            let _ = r;
        }
    });
}
