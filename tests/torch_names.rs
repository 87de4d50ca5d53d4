//! PyTorch's own `state_dict` names (`lstm.weight_ih_l0`, ..., `head.weight`) load into
//! a network of one recurrent kind plus a Linear head under any single prefix; anything
//! ambiguous or incomplete is refused with the names that were expected.

mod common;

use std::path::Path;

use ndarray::Array3;
use seqlab::experiment::weights::load_weights;
use seqlab::nn::network::NamedTensor;
use seqlab::nn::{Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};

fn stack(kind: LayerKind, layers: usize) -> NetworkConfig {
    NetworkConfig {
        input_size: 3,
        layers: (0..layers)
            .map(|_| LayerConfig::new(kind.clone(), 4))
            .collect(),
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 5),
    }
}

/// seqlab's tensors renamed as a `state_dict` with the recurrent module under `p` and the
/// Linear head under `q`.
fn as_state_dict(net: &Network<f32>, p: &str, q: &str) -> Vec<NamedTensor<f32>> {
    let n = net.config().layers.len();
    net.torch_tensors()
        .into_iter()
        .map(|t| {
            let rest = &t.name["layers.".len()..];
            let (k, local) = rest.split_once('.').unwrap();
            let name = if k == n.to_string() {
                format!("{q}{local}")
            } else {
                format!("{p}{local}_l{k}")
            };
            NamedTensor { name, ..t }
        })
        .collect()
}

#[test]
fn torch_module_state_dict_gives_torchs_outputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let tensors = load_weights(&root.join("torch_state_dict.safetensors")).unwrap();
    assert!(tensors.iter().any(|t| t.name == "lstm.bias_hh_l1"));
    let mut net = Network::<f32>::new(stack(LayerKind::lstm(), 2), 0).unwrap();
    net.load_torch_tensors(&tensors).unwrap();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("torch_state_dict.json")).unwrap())
            .unwrap();
    let vals = |key: &str| -> Vec<f32> {
        reference[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let x = Array3::from_shape_vec((5, 2, 3), vals("input")).unwrap();
    let got = net.output(x.view(), None);
    common::assert_close(
        "softmax vs torch",
        &common::widen(got.as_slice().unwrap()),
        &common::widen(&vals("softmax")),
        1e-5,
    );
}

#[test]
fn pytorch_names_under_any_single_prefix_load_into_gru_and_rnn_stacks() {
    for kind in [
        LayerKind::Gru,
        LayerKind::Rnn {
            activation: Activation::Relu,
        },
        LayerKind::lstm(),
    ] {
        let a = Network::<f32>::new(stack(kind.clone(), 3), 1).unwrap();
        for (p, q) in [("", "fc."), ("encoder.rnn.", "decoder.out."), ("rnn.", "")] {
            let mut b = Network::<f32>::new(stack(kind.clone(), 3), 2).unwrap();
            b.load_torch_tensors(&as_state_dict(&a, p, q)).unwrap();
            assert_eq!(a.params(), b.params(), "{kind:?} under {p:?} / {q:?}");
        }
    }
}

#[test]
fn two_recurrent_prefixes_are_refused_naming_both() {
    let a = Network::<f32>::new(stack(LayerKind::lstm(), 2), 1).unwrap();
    let mut sd = as_state_dict(&a, "lstm.", "head.");
    sd.iter_mut()
        .filter(|t| t.name.ends_with("_l1"))
        .for_each(|t| t.name = t.name.replace("lstm.", "lstm2."));
    let mut b = Network::<f32>::new(stack(LayerKind::lstm(), 2), 2).unwrap();
    let msg = b.load_torch_tensors(&sd).unwrap_err().to_string();
    assert!(msg.contains("`lstm.`") && msg.contains("`lstm2.`"), "{msg}");
    assert!(
        msg.contains("ambiguous") && msg.contains("expected"),
        "{msg}"
    );
}

#[test]
fn a_missing_tensor_is_named_as_pytorch_names_it() {
    let a = Network::<f32>::new(stack(LayerKind::lstm(), 2), 1).unwrap();
    let sd: Vec<_> = as_state_dict(&a, "lstm.", "head.")
        .into_iter()
        .filter(|t| t.name != "lstm.bias_hh_l1")
        .collect();
    let mut b = Network::<f32>::new(stack(LayerKind::lstm(), 2), 2).unwrap();
    let before = b.params().to_vec();
    let msg = b.load_torch_tensors(&sd).unwrap_err().to_string();
    assert!(msg.contains("lacks `lstm.bias_hh_l1`"), "{msg}");
    assert!(
        msg.contains("lstm.weight_ih_l0, lstm.weight_hh_l0"),
        "{msg}"
    );
    assert_eq!(b.params(), &before[..], "nothing changes on error");
}

#[test]
fn a_layer_the_network_does_not_have_is_refused_with_the_expected_names() {
    let a = Network::<f32>::new(stack(LayerKind::Gru, 3), 1).unwrap();
    let mut b = Network::<f32>::new(stack(LayerKind::Gru, 2), 2).unwrap();
    let msg = b
        .load_torch_tensors(&as_state_dict(&a, "gru.", "head."))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("gru.weight_ih_l2"), "{msg}");
    assert!(msg.contains("is not a tensor of this network"), "{msg}");
    assert!(
        msg.contains("gru.bias_hh_l1, head.weight, head.bias"),
        "{msg}"
    );
}

#[test]
fn pytorch_multi_layer_names_for_a_mixed_stack_say_what_to_use() {
    let config = NetworkConfig {
        input_size: 3,
        layers: vec![
            LayerConfig::new(LayerKind::lstm(), 4),
            LayerConfig::new(LayerKind::Gru, 4),
        ],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 5),
    };
    let a = Network::<f32>::new(config.clone(), 1).unwrap();
    let mut b = Network::<f32>::new(config, 2).unwrap();
    let msg = b
        .load_torch_tensors(&as_state_dict(&a, "rnn.", "head."))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("stack of one recurrent kind"), "{msg}");
    assert!(msg.contains("LSTM, GRU"), "{msg}");
    assert!(msg.contains("layers.{k}.weight_ih"), "{msg}");
    // the bidirectional suffix is named too
    let mut sd = as_state_dict(&a, "rnn.", "head.");
    sd[0].name.push_str("_reverse");
    let msg = b.load_torch_tensors(&sd).unwrap_err().to_string();
    assert!(msg.contains("bidirectional"), "{msg}");
}

#[test]
fn a_name_of_neither_kind_lists_the_expected_names() {
    let mut b = Network::<f32>::new(stack(LayerKind::lstm(), 1), 2).unwrap();
    let t = NamedTensor {
        name: "bias_hh_l0x".into(),
        shape: vec![16],
        data: vec![0.0f32; 16],
    };
    let msg = b.load_torch_tensors(&[t]).unwrap_err().to_string();
    assert!(msg.starts_with("tensor bias_hh_l0x: is neither"), "{msg}");
    assert!(msg.contains("{P}weight_ih_l0"), "{msg}");
}
