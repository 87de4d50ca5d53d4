//! Reference values from PyTorch (float64, deterministic weights): forward outputs,
//! final states, losses and every gradient of LSTM, GRU, RNN (tanh, relu) and the
//! LSTM + Linear heads with cross-entropy, MSE and BCE losses.
//!
//! The literals in `reference/data.rs` come from `tests/reference/make_reference.py`
//! (`python tests/reference/make_reference.py` with torch installed regenerates them).

mod common;
#[rustfmt::skip]
#[path = "reference/data.rs"]
mod data;

use common::assert_close;
use data::{Case, Tensor, CASES};
use ndarray::{Array2, Array3, ArrayView3};
use seqlab::nn::gru::Gru;
use seqlab::nn::layer::{Gradients, Window};
use seqlab::nn::lstm::Lstm;
use seqlab::nn::network::{BackpropOptions, Batch, NamedTensor};
use seqlab::nn::rnn::Rnn;
use seqlab::nn::{Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};
use seqlab::nn::{Layer, LayerState};

const TOL: f64 = 1e-12;

fn param<'a>(case: &'a Case, name: &str) -> &'a [f64] {
    case.params
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{}: no {name}", case.name))
        .data
}

fn grad<'a>(case: &'a Case, name: &str) -> &'a [f64] {
    case.grads
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{}: no grad {name}", case.name))
        .data
}

fn arr3(t: &Tensor) -> Array3<f64> {
    Array3::from_shape_vec((t.shape[0], t.shape[1], t.shape[2]), t.data.to_vec()).expect("shape")
}

/// Layer-0 slice `(B, H)` of a `(layers, B, H)` state tensor.
fn state2(t: &Tensor) -> Array2<f64> {
    Array2::from_shape_vec(
        (t.shape[1], t.shape[2]),
        t.data[..t.shape[1] * t.shape[2]].to_vec(),
    )
    .expect("shape")
}

/// Runs one plain layer case through the layer directly: forward from (h0, c0), then
/// backward with d output = probe and d final state = (probe_h, probe_c).
fn check_plain_layer(case: &Case) {
    let (i, h) = (case.input_size, case.hidden_size);
    // PyTorch's four tensors in PyTorch's order, both biases kept
    let mut params: Vec<f64> = param(case, "layers.0.weight_ih").to_vec();
    params.extend_from_slice(param(case, "layers.0.weight_hh"));
    params.extend_from_slice(param(case, "layers.0.bias_ih"));
    params.extend_from_slice(param(case, "layers.0.bias_hh"));
    // every kind through the one layer interface
    let mut cell: Box<dyn Layer<f64>> = match case.kind {
        "lstm" => Box::new(Lstm::new(
            i,
            h,
            false,
            Activation::Sigmoid,
            Activation::Tanh,
            true,
        )),
        "gru" => Box::new(Gru::new(i, h)),
        "rnn_tanh" | "rnn_relu" => {
            let act = if case.kind == "rnn_tanh" {
                Activation::Tanh
            } else {
                Activation::Relu
            };
            Box::new(Rnn::new(i, h, act, true))
        }
        other => panic!("unexpected kind {other}"),
    };
    let x = arr3(&case.input);
    let (t_len, b) = (case.steps, case.batch);
    let named = |h: Array2<f64>, c: Option<Array2<f64>>| {
        let tensors = std::iter::once(("h", h)).chain(c.map(|c| ("c", c)));
        LayerState::from_tensors(tensors.collect()).unwrap()
    };
    let mut state = named(
        state2(case.h0.as_ref().expect("h0")),
        case.c0.as_ref().map(state2),
    );
    let mut out = Array3::zeros((t_len, b, h));
    cell.forward(&params, x.view(), None, Some(&mut state), &mut out);
    assert_close(
        &format!("{} output", case.name),
        out.as_slice().unwrap(),
        case.output.data,
        TOL,
    );
    let hn = case.h_n.as_ref().expect("h_n");
    assert_close(
        &format!("{} h_n", case.name),
        state.get("h").unwrap().as_slice().unwrap(),
        hn.data,
        TOL,
    );
    if let (Some(c), Some(cn)) = (state.get("c"), &case.c_n) {
        assert_close(
            &format!("{} c_n", case.name),
            c.as_slice().unwrap(),
            cn.data,
            TOL,
        );
    }
    // the probe loss
    let probe = arr3(case.probe.as_ref().expect("probe"));
    let ph = state2(case.probe_h.as_ref().expect("probe_h"));
    let mut loss = (&out * &probe).sum() + (state.get("h").unwrap() * &ph).sum();
    let pc = case.probe_c.as_ref().map(state2);
    if let (Some(c), Some(pc)) = (state.get("c"), &pc) {
        loss += (c * pc).sum();
    }
    assert_close(&format!("{} loss", case.name), &[loss], &[case.loss], TOL);

    // backward
    let mut g = vec![0.0; params.len()];
    let mut dx = Array3::zeros(x.dim());
    let mut dstate = named(ph.clone(), pc.clone());
    let dout: ArrayView3<f64> = probe.view();
    let window = Window {
        x: x.view(),
        mask: None,
        out: out.view(),
        dout,
        from: 0,
    };
    let grads = Gradients {
        g: &mut g,
        dx: Some(dx.view_mut()),
        dstate: Some(&mut dstate),
    };
    cell.backward(&params, window, grads);
    let n_ih = param(case, "layers.0.weight_ih").len();
    let n_hh = param(case, "layers.0.weight_hh").len();
    assert_close(
        &format!("{} d weight_ih", case.name),
        &g[..n_ih],
        grad(case, "layers.0.weight_ih"),
        TOL,
    );
    assert_close(
        &format!("{} d weight_hh", case.name),
        &g[n_ih..n_ih + n_hh],
        grad(case, "layers.0.weight_hh"),
        TOL,
    );
    let nb = param(case, "layers.0.bias_ih").len();
    let gb = &g[n_ih + n_hh..n_ih + n_hh + nb];
    assert_close(
        &format!("{} d bias_ih", case.name),
        gb,
        grad(case, "layers.0.bias_ih"),
        TOL,
    );
    assert_close(
        &format!("{} d bias_hh", case.name),
        &g[n_ih + n_hh + nb..],
        grad(case, "layers.0.bias_hh"),
        TOL,
    );
    assert_close(
        &format!("{} d input", case.name),
        dx.as_slice().unwrap(),
        case.grad_input.data,
        TOL,
    );
    assert_close(
        &format!("{} d h0", case.name),
        dstate.get("h").unwrap().as_slice().unwrap(),
        case.grad_h0.as_ref().unwrap().data,
        TOL,
    );
    if let (Some(dc), Some(gc)) = (dstate.get("c"), &case.grad_c0) {
        assert_close(
            &format!("{} d c0", case.name),
            dc.as_slice().unwrap(),
            gc.data,
            TOL,
        );
    }
}

#[test]
fn lstm_gru_rnn_layers_match_pytorch_outputs_states_and_gradients() {
    let plain: Vec<&Case> = CASES.iter().filter(|c| c.output_size == 0).collect();
    assert!(plain.len() >= 5, "reference file lost its plain cases");
    for case in plain {
        check_plain_layer(case);
    }
}

/// LSTM stack + Linear head + loss through the whole network, loading PyTorch's
/// tensors by name, each as it is.
#[test]
fn lstm_linear_heads_match_pytorch_losses_and_gradients() {
    let heads: Vec<&Case> = CASES.iter().filter(|c| c.output_size > 0).collect();
    assert!(heads.len() >= 4, "reference file lost its head cases");
    for case in heads {
        let loss = match case.kind {
            "lstm_linear_ce" | "lstm2_linear_ce" => Loss::SoftmaxCrossEntropy,
            "lstm_linear_mse" => Loss::Mse,
            "lstm_linear_bce" => Loss::SigmoidBinaryCrossEntropy,
            other => panic!("unexpected kind {other}"),
        };
        let (t_len, b, o) = (case.steps, case.batch, case.output_size);
        let config = NetworkConfig {
            input_size: case.input_size,
            layers: (0..case.num_layers)
                .map(|_| LayerConfig::new(LayerKind::lstm(), case.hidden_size))
                .collect(),
            output: OutputConfig::new(loss, o),
        };
        let mut net = Network::<f64>::new(config, 0).unwrap();
        let tensors: Vec<NamedTensor<f64>> = case
            .params
            .iter()
            .map(|t| NamedTensor {
                name: t.name.to_string(),
                shape: t.shape.to_vec(),
                data: t.data.to_vec(),
            })
            .collect();
        net.load_torch_tensors(&tensors).unwrap();
        let targets = case.targets.as_ref().expect("targets");
        let labels = if loss == Loss::SoftmaxCrossEntropy {
            Array3::from_shape_fn((t_len, b, o), |(t, k, c)| {
                f64::from(u8::from(targets.data[t * b + k] as usize == c))
            })
        } else {
            arr3(targets)
        };
        let x = arr3(&case.input);
        let batch = Batch {
            features: x.view(),
            labels: labels.view(),
            feature_mask: None,
            label_mask: None,
        };
        let mut state = net.zero_state(b);
        net.zero_grads();
        let bp = net.forward_backward(
            &batch,
            &mut state,
            &BackpropOptions {
                from: 0,
                input_grad: true,
                train: false,
            },
        );
        assert_close(
            &format!("{} loss", case.name),
            &[bp.loss.mean()],
            &[case.loss],
            TOL,
        );
        // predictions = activated logits
        let pred = net.output(x.view(), None);
        let want: Vec<f64> = case
            .output
            .data
            .chunks(o)
            .flat_map(|row| match loss {
                Loss::SoftmaxCrossEntropy => {
                    let m = row.iter().cloned().fold(f64::MIN, f64::max);
                    let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
                    row.iter().map(|v| (v - m).exp() / s).collect::<Vec<_>>()
                }
                Loss::Mse => row.to_vec(),
                Loss::SigmoidBinaryCrossEntropy => {
                    row.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect()
                }
            })
            .collect();
        assert_close(
            &format!("{} predictions", case.name),
            pred.as_slice().unwrap(),
            &want,
            TOL,
        );
        assert_eq!(
            net.specs().len(),
            case.grads.len(),
            "one tensor per torch's"
        );
        for spec in net.specs() {
            let got = &net.grads()[spec.range()];
            assert_close(
                &format!("{} d {}", case.name, spec.full_name()),
                got,
                grad(case, &spec.full_name()),
                TOL,
            );
        }
        let dx = bp.input_grad.unwrap();
        assert_close(
            &format!("{} d input", case.name),
            dx.as_slice().unwrap(),
            case.grad_input.data,
            TOL,
        );
        // export gives the same tensors back under PyTorch names, each as it was loaded
        let exported = net.torch_tensors();
        assert_eq!(exported.len(), case.params.len());
        for t in case.params {
            let e = exported.iter().find(|e| e.name == t.name).unwrap();
            assert_eq!(e.data, t.data, "{} exported as loaded", t.name);
        }
    }
}
