//! `seqlab export RUN --torch DIR`: a state_dict in PyTorch's own module names plus a
//! runnable module file. When a Python with torch is found (`SEQLAB_PYTHON`, else
//! `/tmp/torchenv/bin/python`, else `python3`), the module file is run and must give
//! seqlab's predictions; without torch that part is skipped with a message on stderr.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::temp_dir;
use ndarray::Array3;
use seqlab::experiment::weights::load_weights;
use seqlab::train::trainer::load_trained;

fn seqlab(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_seqlab"))
        .args(args)
        .output()
        .expect("seqlab runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Trains `layers` (RON) on DL4J's sentence for 2 iterations; returns the run folder.
fn run_with(dir: &Path, layers: &str) -> PathBuf {
    let exp = dir.join("exp.ron");
    std::fs::write(
        &exp,
        format!(
            "(data: Sentence(), model: (layers: [{layers}]), \
             training: (iterations: 2, batch_size: 4, sequence_length: 10))"
        ),
    )
    .unwrap();
    let run = dir.join("run");
    let out = seqlab(&[
        "--run",
        exp.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    run
}

/// A Python that imports torch, if any.
fn python_with_torch() -> Option<String> {
    let candidates = [
        std::env::var("SEQLAB_PYTHON").ok(),
        Some("/tmp/torchenv/bin/python".to_string()),
        Some("python3".to_string()),
    ];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", "import torch"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Exports `run` into `dir/torch`, checks the names, and when torch is present runs the
/// module on a fixed input and compares with seqlab's predictions.
fn export_and_check(run: &Path, dir: &Path, want_names: &[&str]) {
    let out_dir = dir.join("torch");
    let out = seqlab(&[
        "export",
        run.to_str().unwrap(),
        "--torch",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tensors = load_weights(&out_dir.join("state_dict.safetensors")).unwrap();
    let names: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
    for n in want_names {
        assert!(names.contains(n), "{n} not in {names:?}");
    }

    let mut model = load_trained(run, false).unwrap();
    let i = model.net.config().input_size;
    let x = Array3::from_shape_fn((7, 2, i), |(t, b, k)| {
        if (t * 3 + b * 5) % i == k {
            1.0f32
        } else {
            0.0
        }
    });
    let want = model.net.output(x.view(), None);

    let Some(py) = python_with_torch() else {
        eprintln!(
            "SKIPPED: running the exported model.py needs a Python with torch (set SEQLAB_PYTHON); \
             the state_dict names were checked"
        );
        return;
    };
    let input = dir.join("input.json");
    std::fs::write(
        &input,
        serde_json::json!({"x": x.iter().collect::<Vec<_>>(), "shape": x.shape()}).to_string(),
    )
    .unwrap();
    let script = format!(
        "import json, sys, torch\n\
         sys.path.insert(0, {dir:?})\n\
         import model\n\
         net = model.load()\n\
         d = json.load(open({input:?}))\n\
         x = torch.tensor(d['x'], dtype=torch.float32).reshape(d['shape'])\n\
         with torch.no_grad():\n    y = net(x)\n\
         print(json.dumps(y.flatten().tolist()))\n",
        dir = out_dir.to_str().unwrap(),
        input = input.to_str().unwrap(),
    );
    let out = Command::new(&py).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{py}: {}", text(&out.stderr));
    let got: Vec<f64> = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    common::assert_close(
        "torch module vs seqlab",
        &got,
        &common::widen(want.as_slice().unwrap()),
        1e-5,
    );
    // `python model.py` runs as it is
    let out = Command::new(&py)
        .arg(out_dir.join("model.py"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("SeqlabNet loaded"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn exported_gru_stack_runs_in_torch_with_seqlabs_outputs() {
    let dir = temp_dir("export-gru");
    let run = run_with(&dir, "(kind: Gru, size: 8), (kind: Gru, size: 8)");
    export_and_check(
        &run,
        &dir,
        &[
            "rnn.weight_ih_l0",
            "rnn.bias_hh_l1",
            "head.weight",
            "head.bias",
        ],
    );
}

#[test]
fn exported_mixed_stack_runs_in_torch_with_seqlabs_outputs() {
    let dir = temp_dir("export-mixed");
    let run = run_with(
        &dir,
        "(kind: Lstm, size: 6), (kind: Rnn, size: 5, activation: Relu), \
         (kind: Dense, size: 4, activation: Relu)",
    );
    export_and_check(
        &run,
        &dir,
        &[
            "layers.0.weight_ih_l0",
            "layers.0.bias_hh_l0",
            "layers.1.weight_hh_l0",
            "layers.2.weight",
            "head.bias",
        ],
    );
}

#[test]
fn exporting_peepholes_says_torch_has_none() {
    let dir = temp_dir("export-peep");
    let run = run_with(&dir, "(kind: Lstm, size: 4, peephole: true)");
    let out = seqlab(&[
        "export",
        run.to_str().unwrap(),
        "--torch",
        dir.join("torch").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let msg = text(&out.stderr);
    assert!(
        msg.contains("peepholes") && msg.contains("torch.nn.LSTM"),
        "{msg}"
    );
    assert!(msg.contains(run.to_str().unwrap()), "{msg}");
}
