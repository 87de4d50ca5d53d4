//! One-to-many sequences: a step with a label but no input runs the recurrence on zero
//! input (padding, with neither, passes the state through). Checked against PyTorch on a
//! zero-filled input (literals from `tests/reference/make_one_to_many.py`), and on the
//! issue's example, which must learn; `seqlab predict` then generates its steps.

mod common;
#[rustfmt::skip]
#[path = "reference/one_to_many.rs"]
mod reference;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use common::assert_close;
use ndarray::{Array2, Array3};
use reference::{Tensor, CASES};
use seqlab::nn::network::{BackpropOptions, Batch, NamedTensor};
use seqlab::nn::{Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};

const TOL: f64 = 1e-12;

fn named(t: &Tensor) -> NamedTensor<f64> {
    NamedTensor {
        name: t.name.to_string(),
        shape: t.shape.to_vec(),
        data: t.data.to_vec(),
    }
}

fn arr2(t: &Tensor) -> Array2<f64> {
    Array2::from_shape_vec((t.shape[0], t.shape[1]), t.data.to_vec()).expect("shape")
}

#[test]
fn one_to_many_batches_match_pytorch_on_zero_filled_input() {
    assert_eq!(CASES.len(), 3);
    for case in CASES {
        let kind = match case.name {
            "lstm" => LayerKind::lstm(),
            "gru" => LayerKind::Gru,
            "rnn_tanh" => LayerKind::Rnn {
                activation: Activation::Tanh,
            },
            other => panic!("unexpected case {other}"),
        };
        let (t, b, i) = (
            case.input.shape[0],
            case.input.shape[1],
            case.input.shape[2],
        );
        let config = NetworkConfig {
            input_size: i,
            layers: vec![LayerConfig::new(kind, 4)],
            output: OutputConfig::new(Loss::SoftmaxCrossEntropy, 2),
        };
        let mut net = Network::<f64>::new(config, 0).expect("network");
        let tensors: Vec<NamedTensor<f64>> = case.params.iter().map(named).collect();
        net.load_torch_tensors(&tensors)
            .expect("torch weights load");
        let x = Array3::from_shape_vec((t, b, i), case.input.data.to_vec()).expect("shape");
        let classes = arr2(&case.classes);
        let labels = Array3::from_shape_fn((t, b, 2), |(s, k, c)| {
            f64::from(u8::from(classes[[s, k]] as usize == c))
        });
        let (fm, lm) = (arr2(&case.feature_mask), arr2(&case.label_mask));
        // the rule is exercised: some steps have a label but no input
        assert!(fm
            .iter()
            .zip(lm.iter())
            .any(|(&f, &l)| f == 0.0 && l == 1.0));
        let batch = Batch {
            features: x.view(),
            labels: labels.view(),
            feature_mask: Some(fm.view()),
            label_mask: Some(lm.view()),
        };
        let mut state = net.zero_state(b);
        net.zero_grads();
        let opts = BackpropOptions {
            input_grad: true,
            ..Default::default()
        };
        let bp = net.forward_backward(&batch, &mut state, &opts);
        assert_close(
            &format!("{} loss", case.name),
            &[bp.loss.mean()],
            &[case.loss],
            TOL,
        );
        let grads = net.torch_tensors_of(net.grads());
        for want in case.grads {
            // an LSTM/RNN keeping one summed bias exports its gradient as bias_ih; torch's
            // bias_hh gradient is the same numbers (checked here), so bias_ih covers it
            if want.name.ends_with("bias_hh") && case.name != "gru" {
                let ih = case
                    .grads
                    .iter()
                    .find(|g| g.name == want.name.replace("bias_hh", "bias_ih"))
                    .expect("bias_ih gradient");
                assert_close(
                    &format!("{} torch biases", case.name),
                    ih.data,
                    want.data,
                    TOL,
                );
                continue;
            }
            let got = grads
                .iter()
                .find(|g| g.name == want.name)
                .unwrap_or_else(|| panic!("{}: no gradient {}", case.name, want.name));
            assert_close(
                &format!("{} d{}", case.name, want.name),
                &got.data,
                want.data,
                TOL,
            );
        }
        let dx = bp.input_grad.expect("input gradient");
        assert_close(
            &format!("{} d input", case.name),
            dx.as_slice().expect("contiguous"),
            case.grad_input.data,
            TOL,
        );
    }
}

/// A scratch folder removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("seqlab-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(&p, text).expect("write");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The issue's example: 8 feature files of one line `x` (x = i mod 2), label files of
/// 4 lines `x, 1-x, x, 1-x`, 2 classes, ALIGN_START, LSTM(16), Adam 0.02, batch 8.
fn issue_example(dir: &Scratch) -> PathBuf {
    for i in 0..8 {
        let x = i % 2;
        dir.write(&format!("features/{i}.csv"), &format!("{x}\n"));
        dir.write(
            &format!("labels/{i}.csv"),
            &format!("{x}\n{}\n{x}\n{}\n", 1 - x, 1 - x),
        );
    }
    dir.write(
        "one_to_many.ron",
        r#"(
    name: "one_to_many",
    data: Csv(
        features: Directory("features"),
        labels: Files(Directory("labels")),
        task: Classification(classes: 2),
        alignment: AlignStart,
    ),
    model: (layers: [(kind: Lstm, size: 16)], output: (loss: CrossEntropy)),
    training: (updater: Adam(lr: 0.02), batch_size: 8, iterations: 300),
)"#,
    )
}

#[test]
fn the_issues_one_to_many_example_learns_and_predict_generates_its_steps() {
    let dir = Scratch::new("one-to-many");
    let file = issue_example(&dir);
    let out = dir.0.join("run");
    let args = seqlab::cli::run::RunArgs {
        out: Some(out.clone()),
        quiet: true,
        ..Default::default()
    };
    let code = seqlab::cli::run::run(Some(&file), &args).expect("run");
    assert_eq!(code, ExitCode::SUCCESS);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).expect("summary"))
            .expect("json");
    let score = summary["final_score"].as_f64().expect("final score");
    eprintln!("final score after 300 iterations: {score:.6}");
    // steps 1..3 at chance would leave 0.75 ln 2 = 0.52
    assert!(score < 0.01, "final score {score}");

    // predict: the one-line inputs alone, 4 output steps by default (the training shape)
    let only_inputs = dir.0.join("inputs");
    std::fs::create_dir_all(&only_inputs).expect("dir");
    for x in 0..2 {
        std::fs::write(only_inputs.join(format!("{x}.csv")), format!("{x}\n")).expect("write");
    }
    let predictions = dir.0.join("predictions.csv");
    let predict = seqlab::cli::run::PredictArgs {
        select: seqlab::cli::run::DataSelection {
            run_dir: out,
            data: only_inputs.display().to_string(),
            labels: None,
            range: None,
            best: false,
        },
        steps: None,
        output: Some(predictions.clone()),
    };
    seqlab::cli::run::predict(&predict).expect("predict");
    let text = std::fs::read_to_string(&predictions).expect("predictions");
    let rows: Vec<(String, usize, usize)> = text
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let name = Path::new(f[0])
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (name, f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect();
    let want: Vec<(String, usize, usize)> = (0..2)
        .flat_map(|x| {
            [x, 1 - x, x, 1 - x]
                .into_iter()
                .enumerate()
                .map(move |(t, c)| (format!("{x}.csv"), t, c))
        })
        .collect();
    assert_eq!(rows, want, "{text}");
}
