//! Whole training steps equal PyTorch's: from the same parameters, one SGD step and ten
//! Adam steps on a masked minibatch (examples of 6, 4 and 2 real steps padded to 6)
//! through LSTM, GRU and simple-RNN stacks with a Linear head and softmax cross-entropy
//! leave every parameter where `torch.optim` leaves `nn.LSTM`/`GRU`/`RNN` + `nn.Linear`
//! (both biases of every recurrent layer trained, as PyTorch does): to 1e-12 in f64 and
//! 1e-6 in f32. Literals from `tests/reference/make_training_reference.py`.

mod common;
#[rustfmt::skip]
#[path = "reference/training_data.rs"]
mod data;

use common::assert_close;
use data::{Case, Tensor, CASES};
use ndarray::{Array2, Array3};
use seqlab::nn::bptt::{fit_batch, FitConfig, FitScratch};
use seqlab::nn::network::{Batch, NamedTensor};
use seqlab::nn::updater::{Updater, UpdaterConfig};
use seqlab::nn::{
    Activation, Float, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig,
};

fn config(case: &Case, single_bias: bool) -> NetworkConfig {
    let layers = case
        .layers
        .iter()
        .map(|&(kind, h)| {
            let kind = match kind {
                "lstm" => LayerKind::lstm(),
                "gru" => LayerKind::Gru,
                "rnn_tanh" => LayerKind::Rnn {
                    activation: Activation::Tanh,
                },
                "rnn_relu" => LayerKind::Rnn {
                    activation: Activation::Relu,
                },
                other => panic!("unexpected layer kind {other}"),
            };
            let mut lc = LayerConfig::new(kind, h);
            lc.single_bias = single_bias;
            lc
        })
        .collect();
    NetworkConfig {
        input_size: data::INPUT,
        layers,
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, data::OUTPUT),
    }
}

fn tensors<F: Float>(ts: &[Tensor]) -> Vec<NamedTensor<F>> {
    ts.iter()
        .map(|t| NamedTensor {
            name: t.name.to_string(),
            shape: t.shape.to_vec(),
            data: t.data.iter().map(|&v| F::c(v)).collect(),
        })
        .collect()
}

/// Trains a network built from `case` with its optimizer on the reference batch and
/// returns its parameters under PyTorch's names.
fn train<F: Float>(case: &Case, single_bias: bool) -> Vec<NamedTensor<F>> {
    let mut net = Network::<F>::new(config(case, single_bias), 7).unwrap();
    net.load_torch_tensors(&tensors(case.initial)).unwrap();
    let (t_len, b, o) = (data::STEPS, data::BATCH, data::OUTPUT);
    let x = Array3::from_shape_vec(
        (t_len, b, data::INPUT),
        data::X.iter().map(|&v| F::c(v)).collect(),
    )
    .unwrap();
    let labels = Array3::from_shape_fn((t_len, b, o), |(t, k, c)| {
        if data::TARGETS[t * b + k] == c {
            F::one()
        } else {
            F::zero()
        }
    });
    let mask = Array2::from_shape_fn((t_len, b), |(t, k)| {
        if t < data::LENGTHS[k] {
            F::one()
        } else {
            F::zero()
        }
    });
    let batch = Batch {
        features: x.view(),
        labels: labels.view(),
        feature_mask: Some(mask.view()),
        label_mask: Some(mask.view()),
    };
    let (updater, steps, lr) = match case.optimizer {
        "sgd" => (UpdaterConfig::Sgd { lr: data::SGD_LR }, 1, data::SGD_LR),
        "adam" => (
            UpdaterConfig::Adam {
                lr: data::ADAM_LR,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            data::ADAM_STEPS,
            data::ADAM_LR,
        ),
        other => panic!("unexpected optimizer {other}"),
    };
    let mut updater = Updater::new(updater, net.num_params());
    let mut scratch = FitScratch::default();
    for step in 0..steps {
        let mut state = net.zero_state(b);
        let report = fit_batch(
            &mut net,
            &mut updater,
            &batch,
            &mut state,
            lr,
            &FitConfig::default(),
            &mut scratch,
        );
        let tol = if std::mem::size_of::<F>() == 8 {
            1e-12
        } else {
            1e-6
        };
        assert_close(
            &format!("{} loss at step {step}", case.name),
            &[report.score],
            &[case.losses[step]],
            tol,
        );
    }
    net.torch_tensors()
}

fn check_against_torch<F: Float>(tol: f64) {
    assert!(CASES.len() >= 8, "reference file lost its cases");
    for case in CASES {
        let got = train::<F>(case, false);
        assert_eq!(
            got.len(),
            case.trained.len(),
            "{}: one tensor per PyTorch parameter",
            case.name
        );
        for want in case.trained {
            let t = got
                .iter()
                .find(|t| t.name == want.name)
                .unwrap_or_else(|| panic!("{}: no tensor {}", case.name, want.name));
            let values: Vec<f64> = t.data.iter().map(|v| v.f64()).collect();
            assert_close(
                &format!("{} {}", case.name, want.name),
                &values,
                want.data,
                tol,
            );
        }
    }
}

#[test]
fn sgd_and_adam_steps_equal_pytorch_for_every_parameter_in_f64() {
    check_against_torch::<f64>(1e-12);
}

#[test]
fn sgd_and_adam_steps_equal_pytorch_for_every_parameter_in_f32() {
    check_against_torch::<f32>(1e-6);
}

/// Deeplearning4j's layout (one bias per gate) trains its single bias with the gradient
/// PyTorch gives each of its two, so one SGD step moves the sum half as far.
#[test]
fn single_bias_sgd_step_moves_the_bias_sum_half_as_far_as_pytorch() {
    let case = CASES
        .iter()
        .find(|c| c.name == "lstm_gru_rnn_relu_sgd")
        .expect("mixed SGD case");
    let got = train::<f64>(case, true);
    let find = |ts: &'static [Tensor], name: &str| -> &'static [f64] {
        ts.iter().find(|t| t.name == name).unwrap().data
    };
    for k in [0, 2] {
        // LSTM (layer 0) and RNN (layer 2): exported as bias_ih = the single bias,
        // bias_hh = 0
        let (ih, hh) = (format!("layers.{k}.bias_ih"), format!("layers.{k}.bias_hh"));
        let single = &got.iter().find(|t| t.name == ih).unwrap().data;
        let zero = &got.iter().find(|t| t.name == hh).unwrap().data;
        assert!(zero.iter().all(|&v| v == 0.0), "{hh} exported as zeros");
        let sum = |ts| {
            find(ts, &ih)
                .iter()
                .zip(find(ts, &hh))
                .map(|(a, b)| a + b)
                .collect::<Vec<f64>>()
        };
        let (before, torch_after) = (sum(case.initial), sum(case.trained));
        let half: Vec<f64> = before
            .iter()
            .zip(&torch_after)
            .map(|(b, a)| (a + b) / 2.0)
            .collect();
        assert_close(&format!("layer {k} single bias"), single, &half, 1e-12);
        assert!(
            single
                .iter()
                .zip(&torch_after)
                .any(|(s, t)| (s - t).abs() > 1e-4),
            "layer {k}: the single bias must not land where PyTorch's sum does"
        );
    }
    // the GRU keeps both biases whatever the option says, so it still matches
    for name in ["layers.1.bias_ih", "layers.1.bias_hh"] {
        let t = got.iter().find(|t| t.name == name).unwrap();
        assert_close(name, &t.data, find(case.trained, name), 1e-12);
    }
}

#[test]
fn single_bias_is_an_lstm_and_rnn_layer_option_only() {
    use seqlab::experiment::file::from_ron_str;
    for kind in ["Lstm", "Rnn"] {
        let text = format!("(model: (layers: [(kind: {kind}, single_bias: true)]))");
        let e = from_ron_str(&text, std::path::Path::new("exp.ron")).unwrap();
        assert!(e.model.layers[0].to_nn().single_bias, "{kind}");
    }
    for kind in ["Gru", "Dense"] {
        let text = format!("(model: (layers: [(kind: {kind}, single_bias: true)]))");
        let msg = from_ron_str(&text, std::path::Path::new("exp.ron"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("model.layers[0].single_bias")
                && msg.contains("only applies to Lstm and Rnn"),
            "{msg}"
        );
    }
}

/// Import and export: two biases travel as they are; a single bias is loaded as PyTorch's
/// `bias_ih + bias_hh` and written as `bias_ih` with a zero `bias_hh`, so both layouts
/// give the same outputs from the same PyTorch tensors.
#[test]
fn both_bias_layouts_load_pytorch_tensors_to_the_same_outputs() {
    let case = &CASES[0];
    let mut two = Network::<f64>::new(config(case, false), 1).unwrap();
    let mut one = Network::<f64>::new(config(case, true), 1).unwrap();
    two.load_torch_tensors(&tensors(case.initial)).unwrap();
    one.load_torch_tensors(&tensors(case.initial)).unwrap();
    assert_eq!(one.num_params() + 2 * 4 * 4, two.num_params());
    let exported = two.torch_tensors();
    for want in case.initial {
        let got = exported.iter().find(|t| t.name == want.name).unwrap();
        assert_eq!(got.data, want.data, "{} exported as loaded", want.name);
    }
    let single = one.torch_tensors();
    let b_hh = single
        .iter()
        .find(|t| t.name == "layers.0.bias_hh")
        .unwrap();
    assert!(b_hh.data.iter().all(|&v| v == 0.0));
    let x =
        Array3::from_shape_vec((data::STEPS, data::BATCH, data::INPUT), data::X.to_vec()).unwrap();
    let (a, b) = (two.output(x.view(), None), one.output(x.view(), None));
    assert_close(
        "outputs of the two layouts",
        a.as_slice().unwrap(),
        b.as_slice().unwrap(),
        1e-14,
    );
}
