//! Finite-difference gradient checks in f64 over every parameter, the input and the
//! initial state, and the standard suite that `seqlab gradcheck` and the tests run.

use ndarray::{Array2, Array3};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::{LayerConfig, LayerKind, NetworkConfig, OutputConfig, Regularization};
use super::layer::NetState;
use super::network::{BackpropOptions, Batch, Network};
use super::{Activation, Loss, OutputMode};

/// Thresholds: relative error `|a - n| / max(|a|, |n|)` must be `<= max_rel` wherever the
/// absolute error is `>= min_abs`; central differences with step `eps`.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Central-difference step (in f64).
    pub eps: f64,
    /// Largest relative error that passes.
    pub max_rel: f64,
    /// Absolute errors below this pass whatever the relative error.
    pub min_abs: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            eps: 1e-6,
            max_rel: 1e-3,
            min_abs: 1e-8,
        }
    }
}

/// Worst errors for one named tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorCheck {
    /// Tensor name (`layers.{k}.{name}`, `input`, `state.{k}.h`, ...).
    pub name: String,
    /// Entries compared.
    pub checked: usize,
    /// Entries beyond the tolerance.
    pub failures: usize,
    /// Worst relative error among entries of magnitude `>= 1e-6`.
    pub max_rel: f64,
    /// Worst absolute error.
    pub max_abs: f64,
}

/// Result of one gradient check.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckReport {
    /// Name of the checked configuration.
    pub case: String,
    /// Per tensor results.
    pub tensors: Vec<TensorCheck>,
}

impl GradCheckReport {
    /// Whether every entry of every tensor is within the tolerance.
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(|t| t.failures == 0)
    }

    /// The worst relative error over all tensors.
    pub fn worst_rel(&self) -> f64 {
        self.tensors.iter().map(|t| t.max_rel).fold(0.0, f64::max)
    }
}

/// The scalar being differentiated: mean data loss plus regularisation penalty.
fn score(net: &mut Network<f64>, batch: &Batch<f64>, state: &NetState<f64>) -> f64 {
    let mut st = state.clone();
    net.loss(batch, &mut st).mean() + net.regularization_penalty()
}

/// Compares analytic gradients with central differences for every parameter, every
/// input value and every initial-state value. No dropout.
pub fn check(
    case: &str,
    net: &mut Network<f64>,
    batch: &Batch<f64>,
    state: &NetState<f64>,
    tol: Tolerance,
) -> GradCheckReport {
    net.zero_grads();
    let mut st = state.clone();
    let bp = net.forward_backward(
        batch,
        &mut st,
        &BackpropOptions {
            from: 0,
            input_grad: true,
            train: false,
        },
    );
    net.add_regularization_grads();
    let analytic = net.grads().to_vec();
    let mut tensors = Vec::new();

    // parameters
    for spec in net.specs().to_vec() {
        let mut tc = TensorCheck {
            name: spec.full_name(),
            checked: 0,
            failures: 0,
            max_rel: 0.0,
            max_abs: 0.0,
        };
        for i in spec.range() {
            let orig = net.params()[i];
            net.params_mut()[i] = orig + tol.eps;
            let up = score(net, batch, state);
            net.params_mut()[i] = orig - tol.eps;
            let down = score(net, batch, state);
            net.params_mut()[i] = orig;
            record(&mut tc, analytic[i], (up - down) / (2.0 * tol.eps), tol);
        }
        tensors.push(tc);
    }

    // input
    let dx = bp.input_grad.expect("input gradient");
    let mut x = batch.features.to_owned();
    let mut tc = TensorCheck {
        name: "input".into(),
        checked: 0,
        failures: 0,
        max_rel: 0.0,
        max_abs: 0.0,
    };
    for idx in 0..x.len() {
        let orig = x.as_slice().expect("contiguous")[idx];
        let eval = |v: f64, x: &mut Array3<f64>, net: &mut Network<f64>| {
            x.as_slice_mut().expect("contiguous")[idx] = v;
            let b = Batch {
                features: x.view(),
                ..*batch
            };
            score(net, &b, state)
        };
        let up = eval(orig + tol.eps, &mut x, net);
        let down = eval(orig - tol.eps, &mut x, net);
        x.as_slice_mut().expect("contiguous")[idx] = orig;
        record(
            &mut tc,
            dx.as_slice().expect("contiguous")[idx],
            (up - down) / (2.0 * tol.eps),
            tol,
        );
    }
    tensors.push(tc);

    // initial state
    for (k, s) in state.iter().enumerate() {
        let Some(s) = s else { continue };
        let ds = bp.state_grad[k].as_ref().expect("state gradient");
        // every named state tensor the layer lists (h, and c for LSTM)
        for (i, (which, d)) in ds.iter().enumerate() {
            debug_assert_eq!(s.tensor(i).dim(), d.dim());
            let mut tc = TensorCheck {
                name: format!("state.{k}.{which}"),
                checked: 0,
                failures: 0,
                max_rel: 0.0,
                max_abs: 0.0,
            };
            for idx in 0..d.len() {
                let mut perturbed = |delta: f64| {
                    let mut st = state.clone();
                    let ls = st[k].as_mut().expect("state");
                    ls.tensor_mut(i).as_slice_mut().expect("contiguous")[idx] += delta;
                    score(net, batch, &st)
                };
                let up = perturbed(tol.eps);
                let down = perturbed(-tol.eps);
                record(
                    &mut tc,
                    d.as_slice().expect("contiguous")[idx],
                    (up - down) / (2.0 * tol.eps),
                    tol,
                );
            }
            tensors.push(tc);
        }
    }
    GradCheckReport {
        case: case.to_string(),
        tensors,
    }
}

/// Gradient entries smaller than this are left out of the reported worst relative error.
pub const REPORT_FLOOR: f64 = 1e-6;

fn record(tc: &mut TensorCheck, analytic: f64, numeric: f64, tol: Tolerance) {
    tc.checked += 1;
    let abs = (analytic - numeric).abs();
    let scale = analytic.abs().max(numeric.abs());
    tc.max_abs = tc.max_abs.max(abs);
    let rel = if scale > 0.0 { abs / scale } else { 0.0 };
    // the reported worst relative error covers entries of magnitude >= 1e-6 (below,
    // rounding in the differences dominates) ...
    if scale >= REPORT_FLOOR {
        tc.max_rel = tc.max_rel.max(rel);
    }
    // ... and an entry fails when both its absolute and relative errors are too large
    if abs >= tol.min_abs && rel > tol.max_rel {
        tc.failures += 1;
    }
}

/// One configuration of the standard suite.
pub struct SuiteCase {
    /// Case name (shown by `seqlab gradcheck`).
    pub name: String,
    /// The network checked.
    pub config: NetworkConfig,
    /// Time steps `T`.
    pub steps: usize,
    /// Examples `B`.
    pub batch: usize,
    /// Mask padding: `Some(true)` pads at the end, `Some(false)` at the start.
    pub pad_end: Option<bool>,
    /// One-to-many: example `k` has inputs at its first `1 + k % 2` steps only (zeros
    /// after, feature mask 0), labels at all of its `T - k` real steps, and padding
    /// (neither) after; the layers run on zero input where there is a label.
    pub one_to_many: bool,
    /// Run a first segment forward and check the second from its carried state.
    pub second_segment: bool,
}

fn lstm(peephole: bool, gate: Activation, act: Activation) -> LayerKind {
    LayerKind::Lstm {
        peephole,
        gate_activation: gate,
        activation: act,
        forget_bias: 1.0,
    }
}

/// Every layer and output kind, with and without masks, peepholes, regularisation and
/// a carried state across a TBPTT segment boundary.
pub fn standard_suite() -> Vec<SuiteCase> {
    use Activation::*;
    let reg = Regularization {
        l1: 1e-3,
        l2: 1e-2,
        l1_bias: 1e-3,
        l2_bias: 1e-2,
    };
    let hidden: Vec<(&str, Vec<LayerKind>)> = vec![
        ("lstm", vec![LayerKind::lstm()]),
        ("lstm_peephole", vec![lstm(true, Sigmoid, Tanh)]),
        (
            "lstm_hardsigmoid_softsign",
            vec![lstm(true, HardSigmoid, Softsign)],
        ),
        ("gru", vec![LayerKind::Gru]),
        ("rnn_tanh", vec![LayerKind::Rnn { activation: Tanh }]),
        ("rnn_relu", vec![LayerKind::Rnn { activation: Relu }]),
        (
            "lstm_dense_gru",
            vec![
                LayerKind::lstm(),
                LayerKind::Dense { activation: Tanh },
                LayerKind::Gru,
            ],
        ),
        (
            "dense_sigmoid_lstm",
            vec![
                LayerKind::Dense {
                    activation: Sigmoid,
                },
                LayerKind::lstm(),
            ],
        ),
        (
            "dense_leakyrelu_softsign",
            vec![
                LayerKind::Dense {
                    activation: LeakyRelu(0.1),
                },
                LayerKind::Dense {
                    activation: Softsign,
                },
                LayerKind::Rnn { activation: Tanh },
            ],
        ),
    ];
    let outputs = [
        ("ce", Loss::SoftmaxCrossEntropy, OutputMode::EveryStep),
        ("mse", Loss::Mse, OutputMode::EveryStep),
        (
            "bce",
            Loss::SigmoidBinaryCrossEntropy,
            OutputMode::EveryStep,
        ),
        ("ce_last", Loss::SoftmaxCrossEntropy, OutputMode::LastStep),
    ];
    let mut cases = Vec::new();
    for (hname, kinds) in &hidden {
        for (oname, loss, mode) in outputs {
            for pad in [None, Some(true), Some(false)] {
                let sizes = [4, 3, 5];
                let layers = kinds
                    .iter()
                    .enumerate()
                    .map(|(k, kind)| LayerConfig::new(kind.clone(), sizes[k % 3]))
                    .collect();
                let mut output = OutputConfig::new(loss, 3);
                output.mode = mode;
                let mut config = NetworkConfig {
                    input_size: 3,
                    layers,
                    output,
                };
                if hname == &"lstm" && oname == "mse" {
                    for l in &mut config.layers {
                        l.regularization = reg;
                    }
                    config.output.regularization = reg;
                }
                let pad_name = match pad {
                    None => "",
                    Some(true) => "_masked_end",
                    Some(false) => "_masked_start",
                };
                let second = mode == OutputMode::EveryStep && pad.is_none();
                if mode == OutputMode::EveryStep && pad == Some(true) {
                    cases.push(SuiteCase {
                        name: format!("{hname}_{oname}_one_to_many"),
                        config: config.clone(),
                        steps: 5,
                        batch: 3,
                        pad_end: None,
                        one_to_many: true,
                        second_segment: false,
                    });
                }
                cases.push(SuiteCase {
                    name: format!(
                        "{hname}_{oname}{pad_name}{}",
                        if second { "_second_segment" } else { "" }
                    ),
                    config,
                    steps: 5,
                    batch: 3,
                    pad_end: pad,
                    one_to_many: false,
                    second_segment: second,
                });
            }
        }
    }
    cases
}

/// Builds the data of a suite case and runs the check.
pub fn run_case(case: &SuiteCase, seed: u64, tol: Tolerance) -> GradCheckReport {
    let mut net = Network::<f64>::new(case.config.clone(), seed).expect("suite config is valid");
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(1));
    let (t, b, i, o) = (
        case.steps,
        case.batch,
        case.config.input_size,
        case.config.output.size,
    );
    let mut x = Array3::from_shape_fn((t, b, i), |_| rng.random_range(-1.0..1.0));
    let mask = case.pad_end.map(|end| {
        // example k has t - k real steps, padded at the end or the start
        Array2::from_shape_fn((t, b), |(s, k)| {
            let real = t - k.min(t - 1);
            let is_real = if end { s < real } else { s >= t - real };
            if is_real {
                1.0
            } else {
                0.0
            }
        })
    });
    let t_lab = if case.config.output.mode == OutputMode::LastStep {
        1
    } else {
        t
    };
    let labels = Array3::from_shape_fn((t_lab, b, o), |(s, k, c)| match case.config.output.loss {
        Loss::SoftmaxCrossEntropy => f64::from(u8::from((s + k) % o == c)),
        Loss::Mse => ((s * 7 + k * 3 + c) as f64 * 0.37).sin(),
        Loss::SigmoidBinaryCrossEntropy => [0.0, 1.0, 0.3, 0.7][(s + k + c) % 4],
    });
    let mut label_mask = match case.config.output.mode {
        OutputMode::EveryStep => mask.clone(),
        OutputMode::LastStep => None,
    };
    let mut mask = mask;
    if case.one_to_many {
        // non-zero biases: on zero input a zero bias would sit on relu's kink
        let biases: Vec<_> = net
            .specs()
            .iter()
            .filter(|p| p.kind.is_bias())
            .map(|p| p.range())
            .collect();
        for r in biases {
            for v in &mut net.params_mut()[r] {
                *v = rng.random_range(-0.5..0.5);
            }
        }
        let real = |k: usize| t - k.min(t - 1);
        let inputs = |k: usize| (1 + k % 2).min(real(k));
        let fm = Array2::from_shape_fn((t, b), |(s, k)| f64::from(u8::from(s < inputs(k))));
        let lm = Array2::from_shape_fn((t, b), |(s, k)| f64::from(u8::from(s < real(k))));
        // steps without an input hold zeros, as the data's padding does
        for ((s, k, _), v) in x.indexed_iter_mut() {
            if s >= inputs(k) {
                *v = 0.0;
            }
        }
        mask = Some(fm);
        label_mask = Some(lm);
    }
    let mut state = net.zero_state(b);
    if case.second_segment {
        // a first segment carries a non-zero state into the checked one
        let x0 = Array3::from_shape_fn((3, b, i), |_| rng.random_range(-1.0..1.0));
        net.predict(x0.view(), None, &mut state);
    }
    let batch = Batch {
        features: x.view(),
        labels: labels.view(),
        feature_mask: mask.as_ref().map(|m| m.view()),
        label_mask: label_mask.as_ref().map(|m| m.view()),
    };
    check(&case.name, &mut net, &batch, &state, tol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> TensorCheck {
        TensorCheck {
            name: "w".into(),
            checked: 0,
            failures: 0,
            max_rel: 0.0,
            max_abs: 0.0,
        }
    }

    #[test]
    fn a_wrong_gradient_is_a_failure() {
        let mut tc = fresh();
        record(&mut tc, 0.5, 0.25, Tolerance::default());
        assert_eq!(tc.failures, 1);
        assert!((tc.max_rel - 0.5).abs() < 1e-12);
    }

    #[test]
    fn tiny_absolute_differences_are_not_failures() {
        let mut tc = fresh();
        record(&mut tc, 1e-10, 3e-10, Tolerance::default());
        record(&mut tc, 1.0, 1.0 + 1e-9, Tolerance::default());
        assert_eq!(tc.failures, 0);
        assert_eq!(tc.checked, 2);
    }
}
