//! Weights files: safetensors with PyTorch's names, read from and written for torch.

mod common;

use std::path::{Path, PathBuf};

use ndarray::Array3;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use seqlab::experiment::error::ExperimentError;
use seqlab::experiment::weights::{
    load_weights, load_weights_with_metadata, save_weights, to_safetensors_bytes,
};
use seqlab::nn::network::NamedTensor;
use seqlab::nn::{Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seqlab-weights-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn tensor(name: &str, shape: &[usize], data: Vec<f32>) -> NamedTensor<f32> {
    NamedTensor {
        name: name.into(),
        shape: shape.to_vec(),
        data,
    }
}

fn array3(data: &serde_json::Value, shape: &serde_json::Value) -> Array3<f32> {
    let v: Vec<f32> = data
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    let s: Vec<usize> = shape
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    Array3::from_shape_vec((s[0], s[1], s[2]), v).unwrap()
}

/// The torch fixture (tests/reference/make_torch_weights.py): LSTM(3, 4) + Linear(4, 5)
/// loaded into seqlab gives torch's softmax outputs.
#[test]
fn torch_lstm_weights_give_torch_outputs() {
    let (tensors, metadata) =
        load_weights_with_metadata(&fixture("torch_lstm.safetensors")).unwrap();
    assert_eq!(metadata, [("source".to_string(), "torch".to_string())]);
    let shape = |name: &str| {
        tensors
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.shape.clone())
    };
    assert_eq!(shape("layers.0.weight_ih"), Some(vec![16, 3]));
    assert_eq!(shape("layers.0.weight_hh"), Some(vec![16, 4]));
    assert_eq!(shape("layers.1.weight"), Some(vec![5, 4]));

    let config = NetworkConfig {
        input_size: 3,
        layers: vec![LayerConfig::new(LayerKind::lstm(), 4)],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 5),
    };
    let mut net = Network::<f32>::new(config, 1).unwrap();
    net.load_torch_tensors(&tensors).unwrap();

    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("torch_lstm.json")).unwrap())
            .unwrap();
    let x = array3(&reference["input"], &reference["input_shape"]);
    let want = array3(&reference["softmax"], &reference["softmax_shape"]);
    let got = net.output(x.view(), None);
    assert_eq!(got.dim(), want.dim());
    let worst = common::assert_close(
        "softmax vs torch",
        &common::widen(got.as_slice().unwrap()),
        &common::widen(want.as_slice().unwrap()),
        1e-5,
    );
    println!("max difference from torch: {worst:.2e}");
}

#[test]
fn saved_tensors_load_back_exactly_in_order() {
    let dir = scratch("roundtrip");
    let path = dir.join("w.safetensors");
    let tensors = vec![
        tensor(
            "layers.1.weight",
            &[2, 3],
            vec![1.0, -2.5, 3.25, 0.0, -0.0, 1e-30],
        ),
        tensor("layers.0.bias", &[2], vec![f32::MAX, f32::MIN_POSITIVE]),
        tensor("updater.m.0", &[3], vec![0.1, 0.2, 0.3]),
        tensor("scalar", &[], vec![7.0]),
        tensor("empty", &[0, 4], vec![]),
    ];
    let metadata = vec![
        ("seqlab".to_string(), "0.1.0".to_string()),
        ("iteration".to_string(), "42".to_string()),
    ];
    save_weights(&path, &tensors, &metadata).unwrap();
    let (back, meta) = load_weights_with_metadata(&path).unwrap();
    assert_eq!(back, tensors);
    assert_eq!(
        meta,
        [
            ("iteration".to_string(), "42".to_string()),
            ("seqlab".to_string(), "0.1.0".to_string())
        ]
    );
    assert_eq!(load_weights(&path).unwrap(), tensors);
}

#[test]
fn saved_file_is_standard_safetensors() {
    let tensors = vec![tensor("a", &[2, 2], vec![1.0, 2.0, 3.0, 4.0])];
    let bytes = to_safetensors_bytes(Path::new("w"), &tensors, &[]).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(header_len % 8, 0, "data must start 8-byte aligned");
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let a = st.tensor("a").unwrap();
    assert_eq!(a.dtype(), Dtype::F32);
    assert_eq!(a.shape(), [2, 2]);
    assert_eq!(&a.data()[4..8], &2.0f32.to_le_bytes());
}

#[test]
fn same_tensors_save_to_identical_bytes() {
    let dir = scratch("stable");
    let tensors = vec![
        tensor("b", &[2], vec![1.0, 2.0]),
        tensor("a", &[1], vec![3.0]),
    ];
    let m1 = vec![
        ("x".to_string(), "1".to_string()),
        ("y".to_string(), "2".to_string()),
    ];
    let m2: Vec<_> = m1.iter().rev().cloned().collect();
    save_weights(&dir.join("1"), &tensors, &m1).unwrap();
    save_weights(&dir.join("2"), &tensors, &m2).unwrap();
    assert_eq!(
        std::fs::read(dir.join("1")).unwrap(),
        std::fs::read(dir.join("2")).unwrap()
    );
}

#[test]
fn reserved_and_duplicate_names_are_refused() {
    let file = Path::new("w.safetensors");
    let e =
        to_safetensors_bytes(file, &[tensor("__metadata__", &[1], vec![0.0])], &[]).unwrap_err();
    assert!(e.to_string().contains("reserved"), "{e}");
    let twice = [tensor("a", &[1], vec![0.0]), tensor("a", &[1], vec![1.0])];
    let e = to_safetensors_bytes(file, &twice, &[]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "w.safetensors: tensor a: is given twice; every tensor needs its own name"
    );
}

/// A safetensors file holding one tensor `t` of `dtype` with these raw bytes.
fn one_tensor_file(dir: &Path, dtype: Dtype, shape: &[usize], raw: &[u8]) -> PathBuf {
    let path = dir.join(format!("{dtype:?}.safetensors"));
    let view = TensorView::new(dtype, shape.to_vec(), raw).unwrap();
    let bytes = safetensors::serialize([("t", view)], None).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn f64_f16_and_bf16_tensors_are_converted() {
    let dir = scratch("dtypes");
    let f64s = [1.5f64, -2.0, 1e-3];
    let raw: Vec<u8> = f64s.iter().flat_map(|v| v.to_le_bytes()).collect();
    let t = &load_weights(&one_tensor_file(&dir, Dtype::F64, &[3], &raw)).unwrap()[0];
    assert_eq!(t.data, [1.5, -2.0, 1e-3f32]);

    // 1, -2, 0.5, 2^-24 (smallest subnormal), 65504 (largest), inf
    let f16s: [u16; 6] = [0x3c00, 0xc000, 0x3800, 0x0001, 0x7bff, 0x7c00];
    let raw: Vec<u8> = f16s.iter().flat_map(|v| v.to_le_bytes()).collect();
    let t = &load_weights(&one_tensor_file(&dir, Dtype::F16, &[2, 3], &raw)).unwrap()[0];
    assert_eq!(t.shape, [2, 3]);
    assert_eq!(
        t.data,
        [1.0, -2.0, 0.5, 2f32.powi(-24), 65504.0, f32::INFINITY]
    );

    // bf16 is the top half of an f32
    let bf16s: [u16; 3] = [0x3f80, 0xc040, 0x3e80];
    let raw: Vec<u8> = bf16s.iter().flat_map(|v| v.to_le_bytes()).collect();
    let t = &load_weights(&one_tensor_file(&dir, Dtype::BF16, &[3], &raw)).unwrap()[0];
    assert_eq!(t.data, [1.0, -3.0, 0.25]);
}

#[test]
fn unsupported_dtype_names_file_and_tensor() {
    let dir = scratch("int");
    let raw: Vec<u8> = [1i64, 2].iter().flat_map(|v| v.to_le_bytes()).collect();
    let path = one_tensor_file(&dir, Dtype::I64, &[2], &raw);
    let e = load_weights(&path).unwrap_err();
    assert!(matches!(&e, ExperimentError::Weights { tensor: Some(t), .. } if t == "t"));
    let msg = e.to_string();
    assert!(msg.starts_with(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains("tensor t: has dtype I64"), "{msg}");
    assert!(msg.contains("t.float()"), "{msg}");
}

#[test]
fn not_a_safetensors_file_is_named() {
    let dir = scratch("garbage");
    let path = dir.join("notes.txt");
    std::fs::write(&path, "these are not weights, just some text").unwrap();
    let msg = load_weights(&path).unwrap_err().to_string();
    assert!(msg.starts_with(&*path.to_string_lossy()), "{msg}");
    assert!(msg.contains("is not a readable safetensors file"), "{msg}");

    let missing = dir.join("missing.safetensors");
    let e = load_weights(&missing).unwrap_err();
    assert!(matches!(e, ExperimentError::Io { .. }), "{e:?}");
    assert!(e.to_string().contains("missing.safetensors"), "{e}");
}

/// A network with every layer kind: its exported weights load into a fresh network
/// (other seed) and give the same outputs. With `SEQLAB_EXPORT_WEIGHTS=dir` the LSTM
/// part is also written there for the Python cross-check in docs/weights.md.
#[test]
fn exported_network_weights_load_into_a_fresh_network() {
    let lstm_peep = LayerKind::Lstm {
        peephole: true,
        gate_activation: Activation::Sigmoid,
        activation: Activation::Tanh,
        forget_bias: 1.0,
    };
    let config = NetworkConfig {
        input_size: 3,
        layers: vec![
            LayerConfig::new(lstm_peep, 5),
            LayerConfig::new(LayerKind::Gru, 4),
            LayerConfig::new(
                LayerKind::Rnn {
                    activation: Activation::Tanh,
                },
                4,
            ),
            LayerConfig::new(
                LayerKind::Dense {
                    activation: Activation::Relu,
                },
                3,
            ),
        ],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 2),
    };
    let mut a = Network::<f32>::new(config.clone(), 7).unwrap();
    let mut b = Network::<f32>::new(config, 8).unwrap();
    let dir = scratch("export");
    let path = dir.join("net.safetensors");
    save_weights(&path, &a.torch_tensors(), &[]).unwrap();
    let loaded = load_weights(&path).unwrap();
    let names: Vec<&str> = loaded.iter().map(|t| t.name.as_str()).collect();
    for name in [
        "layers.0.weight_ih",
        "layers.0.bias_hh",
        "layers.0.weight_ci",
        "layers.0.weight_co",
        "layers.1.bias_hh",
        "layers.3.weight",
        "layers.4.bias",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    b.load_torch_tensors(&loaded).unwrap();
    let x = Array3::from_shape_fn((4, 2, 3), |(t, b, i)| ((t * 6 + b * 3 + i) as f32).cos());
    assert_eq!(a.output(x.view(), None), b.output(x.view(), None));

    if let Some(out) = std::env::var_os("SEQLAB_EXPORT_WEIGHTS") {
        export_for_python(Path::new(&out));
    }
}

/// Writes `rust_lstm.safetensors` (LSTM(3, 4) + Linear(4, 5), seed 3) and
/// `rust_lstm.json` (input and seqlab's softmax outputs) for the torch cross-check.
fn export_for_python(dir: &Path) {
    let config = NetworkConfig {
        input_size: 3,
        layers: vec![LayerConfig::new(LayerKind::lstm(), 4)],
        output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 5),
    };
    let mut net = Network::<f32>::new(config, 3).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    save_weights(
        &dir.join("rust_lstm.safetensors"),
        &net.torch_tensors(),
        &[],
    )
    .unwrap();
    let x = Array3::from_shape_fn((6, 2, 3), |(t, b, i)| {
        ((t * 6 + b * 3 + i) as f32 * 0.3).sin()
    });
    let y = net.output(x.view(), None);
    let json = serde_json::json!({
        "input": x.iter().collect::<Vec<_>>(),
        "input_shape": x.shape(),
        "softmax": y.iter().collect::<Vec<_>>(),
        "softmax_shape": y.shape(),
    });
    std::fs::write(dir.join("rust_lstm.json"), json.to_string()).unwrap();
}
