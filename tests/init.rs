//! Every weight initialiser, layer kind by layer kind, against PyTorch's definitions
//! (`torch/nn/init.py`, `nn.LSTM`/`GRU`/`RNN.reset_parameters`, `nn.Linear.reset_parameters`):
//!
//! - `PyTorch`: recurrent layers `U(-1/sqrt(H), 1/sqrt(H))` for weights and biases;
//!   `nn.Linear(in, out)`: weight `kaiming_uniform_(a=sqrt(5))` = `U(-b, b)` with
//!   `b = gain * sqrt(3 / fan_in)`, `gain = sqrt(2 / (1 + 5))`, i.e. `1/sqrt(in)`, and
//!   bias `U(-1/sqrt(in), 1/sqrt(in))`.
//! - `xavier_uniform_`: `U(-a, a)`, `a = sqrt(6 / (fan_in + fan_out))`; `xavier_normal_`:
//!   std `sqrt(2 / (fan_in + fan_out))`; `orthogonal_(gain)`: orthonormal rows (or
//!   columns) times `gain`; fans of a `(rows, cols)` block are `(cols, rows)`. seqlab
//!   applies them per gate block `(H, I)` of a gate-stacked matrix.

use seqlab::nn::init::WeightInit;
use seqlab::nn::{
    Activation, LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig, ParamKind,
};

const INPUT: usize = 37;

/// LSTM(48) -> GRU(40) -> RNN(33) -> Dense(64) -> output(9), every layer with `init`.
fn network(init: WeightInit) -> Network<f64> {
    let kinds = [
        (LayerKind::lstm(), 48),
        (LayerKind::Gru, 40),
        (
            LayerKind::Rnn {
                activation: Activation::Tanh,
            },
            33,
        ),
        (
            LayerKind::Dense {
                activation: Activation::Tanh,
            },
            64,
        ),
    ];
    let layers = kinds
        .into_iter()
        .map(|(kind, h)| {
            let mut lc = LayerConfig::new(kind, h);
            lc.weight_init = init;
            lc.recurrent_init = init;
            lc
        })
        .collect();
    let mut output = OutputConfig::new(Loss::SoftmaxCrossEntropy, 9);
    output.weight_init = init;
    Network::new(
        NetworkConfig {
            input_size: INPUT,
            layers,
            output,
        },
        2024,
    )
    .unwrap()
}

/// `(gate blocks, input width)` of layer `k`.
fn layer_facts(net: &Network<f64>, k: usize) -> (usize, usize, bool) {
    let c = net.config();
    let input = if k == 0 {
        c.input_size
    } else {
        c.layers[k - 1].size
    };
    match c.layers.get(k).map(|l| &l.kind) {
        Some(LayerKind::Lstm { .. }) => (4, input, true),
        Some(LayerKind::Gru) => (3, input, true),
        Some(LayerKind::Rnn { .. }) => (1, input, true),
        _ => (1, input, false),
    }
}

/// The gate blocks `(rows, cols)` of every weight tensor, with the layer index.
fn weight_blocks(net: &Network<f64>) -> Vec<(String, usize, usize, usize, Vec<f64>)> {
    let mut out = Vec::new();
    for spec in net.specs() {
        if spec.kind.is_bias() {
            continue;
        }
        let (gates, _, _) = layer_facts(net, spec.layer);
        let (rows, cols) = (spec.shape[0] / gates, spec.shape[1]);
        for (g, block) in net.params()[spec.range()].chunks(rows * cols).enumerate() {
            out.push((
                format!("{} block {g}", spec.full_name()),
                spec.layer,
                rows,
                cols,
                block.to_vec(),
            ));
        }
    }
    out
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

#[test]
fn pytorch_init_bounds_are_pytorchs_layer_by_layer() {
    let net = network(WeightInit::PyTorch);
    let c = net.config().clone();
    for spec in net.specs() {
        let (_, input, recurrent) = layer_facts(&net, spec.layer);
        let bound = if recurrent {
            1.0 / (c.layers[spec.layer].size as f64).sqrt()
        } else {
            1.0 / (input as f64).sqrt() // nn.Linear: 1/sqrt(in_features)
        };
        let mut v = net.params()[spec.range()].to_vec();
        if spec.layer == 0 && spec.kind.is_bias() {
            // the LSTM's forget block is set to forget_bias (1.0) in bias_ih, 0 in bias_hh
            let h = c.layers[0].size;
            v.drain(h..2 * h);
        }
        let m = max_abs(&v);
        assert!(
            m <= bound,
            "{}: |w| up to {m}, PyTorch's bound {bound}",
            spec.full_name()
        );
        // enough draws that the largest is close to the bound
        let near = match v.len() {
            256.. => 0.95,
            32.. => 0.5,
            _ => 0.0,
        };
        assert!(
            m >= near * bound,
            "{}: |w| only up to {m}, bound {bound}",
            spec.full_name()
        );
    }
    // the example: a 9 x 64 output layer stays within 1/sqrt(64) = 0.125
    let out = net
        .specs()
        .iter()
        .find(|s| s.full_name() == "layers.4.weight")
        .unwrap();
    assert_eq!(out.shape, vec![9, 64]);
    assert!(max_abs(&net.params()[out.range()]) <= 0.125);
}

#[test]
fn xavier_uniform_bounds_are_glorots_per_gate_block() {
    let net = network(WeightInit::XavierUniform);
    for (name, _, rows, cols, v) in weight_blocks(&net) {
        let a = (6.0 / (rows + cols) as f64).sqrt();
        let m = max_abs(&v);
        assert!(m <= a && m >= 0.9 * a, "{name}: max |w| {m}, bound {a}");
    }
}

#[test]
fn xavier_normal_std_is_glorots_per_gate_block() {
    let net = network(WeightInit::XavierNormal);
    for (name, _, rows, cols, v) in weight_blocks(&net) {
        let want = (2.0 / (rows + cols) as f64).sqrt();
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let std = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        // sampling error of a std estimate over n >= 297 draws is below 5%
        assert!(
            (std / want - 1.0).abs() < 0.15,
            "{name}: std {std}, want {want}"
        );
        assert!(mean.abs() < 4.0 * want / n.sqrt(), "{name}: mean {mean}");
    }
}

#[test]
fn orthogonal_blocks_have_orthonormal_rows_or_columns_times_gain() {
    let gain = 1.7;
    let net = network(WeightInit::Orthogonal { gain });
    for (name, _, rows, cols, v) in weight_blocks(&net) {
        // Gram matrix over the shorter side must be gain^2 I
        let (n, len) = if rows <= cols {
            (rows, cols)
        } else {
            (cols, rows)
        };
        let at = |i: usize, k: usize| {
            if rows <= cols {
                v[i * cols + k]
            } else {
                v[k * cols + i]
            }
        };
        for i in 0..n {
            for j in 0..n {
                let dot: f64 = (0..len).map(|k| at(i, k) * at(j, k)).sum();
                let want = if i == j { gain * gain } else { 0.0 };
                assert!((dot - want).abs() < 1e-9, "{name}: ({i}, {j}) = {dot}");
            }
        }
    }
}

#[test]
fn uniform_normal_and_zeros_inits_draw_what_they_say() {
    let net = network(WeightInit::Uniform {
        low: -0.3,
        high: 0.1,
    });
    for (name, _, _, _, v) in weight_blocks(&net) {
        assert!(v.iter().all(|&x| (-0.3..0.1).contains(&x)), "{name}");
    }
    let net = network(WeightInit::Normal {
        mean: 0.5,
        std: 0.2,
    });
    for (name, _, _, _, v) in weight_blocks(&net) {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        assert!(
            (mean - 0.5).abs() < 4.0 * 0.2 / n.sqrt(),
            "{name}: mean {mean}"
        );
    }
    let net = network(WeightInit::Zeros);
    for (name, _, _, _, v) in weight_blocks(&net) {
        assert!(v.iter().all(|&x| x == 0.0), "{name}");
    }
}

/// Biases start at 0 (except with `PyTorch`), and an LSTM's forget-gate bias sum is
/// `forget_bias`, held in `bias_ih` with `bias_hh`'s forget block 0.
#[test]
fn biases_start_at_zero_with_the_lstm_forget_bias_in_bias_ih() {
    let net = network(WeightInit::XavierUniform);
    let h = net.config().layers[0].size;
    for spec in net.specs().iter().filter(|s| s.kind == ParamKind::Bias) {
        let v = &net.params()[spec.range()];
        if spec.full_name() == "layers.0.bias_ih" {
            assert!(v[h..2 * h].iter().all(|&x| x == 1.0));
            assert!(v[..h].iter().chain(&v[2 * h..]).all(|&x| x == 0.0));
        } else {
            assert!(v.iter().all(|&x| x == 0.0), "{}", spec.full_name());
        }
    }
    let net = network(WeightInit::PyTorch);
    let b_hh = net
        .specs()
        .iter()
        .find(|s| s.full_name() == "layers.0.bias_hh")
        .unwrap();
    let v = &net.params()[b_hh.range()];
    assert!(v[h..2 * h].iter().all(|&x| x == 0.0));
    assert!(v[..h].iter().any(|&x| x != 0.0));
}
