//! Gradient normalisation modes (DL4J's set and PyTorch's global-norm clip) and the
//! per-update statistics (gradient, parameter and update norms, update:parameter ratio).

use ndarray::Array3;
use seqlab::nn::bptt::{fit_batch, FitConfig, FitScratch};
use seqlab::nn::network::{Batch, ParamKind, ParamSpec};
use seqlab::nn::normalize::{grad_sums, normalize, GradientNormalization as G};
use seqlab::nn::updater::{Updater, UpdaterConfig};
use seqlab::nn::{LayerConfig, LayerKind, Loss, Network, NetworkConfig, OutputConfig};

/// Two layers: layer 0 has tensors a (2) and b (2); layer 1 has c (1).
fn specs() -> Vec<ParamSpec> {
    let s = |layer, name, offset, len| ParamSpec {
        layer,
        name,
        kind: ParamKind::InputWeight,
        shape: vec![len],
        offset,
        len,
    };
    vec![s(0, "a", 0, 2), s(0, "b", 2, 2), s(1, "c", 4, 1)]
}

fn apply(mode: G) -> Vec<f64> {
    let specs = specs();
    let mut g = vec![3.0, 4.0, 0.0, 12.0, -2.0];
    let mut sq = vec![0.0; 3];
    grad_sums(&g, &specs, &mut sq);
    assert_eq!(sq, vec![25.0, 144.0, 4.0]);
    normalize(mode, &mut g, &specs, &[0..4, 4..5], &sq);
    g
}

fn close(a: &[f64], b: &[f64]) {
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
    }
}

#[test]
fn each_normalization_mode_does_what_it_says() {
    close(&apply(G::None), &[3.0, 4.0, 0.0, 12.0, -2.0]);
    // layer 0 norm 13, layer 1 norm 2
    close(
        &apply(G::RenormalizeL2PerLayer),
        &[3.0 / 13.0, 4.0 / 13.0, 0.0, 12.0 / 13.0, -1.0],
    );
    close(
        &apply(G::RenormalizeL2PerParamType),
        &[0.6, 0.8, 0.0, 1.0, -1.0],
    );
    close(
        &apply(G::ClipElementWiseAbsoluteValue { threshold: 3.5 }),
        &[3.0, 3.5, 0.0, 3.5, -2.0],
    );
    close(
        &apply(G::ClipL2PerLayer { threshold: 6.5 }),
        &[1.5, 2.0, 0.0, 6.0, -2.0],
    );
    close(
        &apply(G::ClipL2PerParamType { threshold: 6.0 }),
        &[3.0, 4.0, 0.0, 6.0, -2.0],
    );
    // PyTorch clip_grad_norm_: total norm sqrt(173), coef = max / (total + 1e-6)
    let coef = 5.0 / (173f64.sqrt() + 1e-6);
    close(
        &apply(G::ClipGlobalL2 { max_norm: 5.0 }),
        &[3.0 * coef, 4.0 * coef, 0.0, 12.0 * coef, -2.0 * coef],
    );
    // below the threshold nothing changes
    close(
        &apply(G::ClipGlobalL2 { max_norm: 100.0 }),
        &[3.0, 4.0, 0.0, 12.0, -2.0],
    );
}

#[test]
fn update_statistics_are_the_norms_of_this_update() {
    let config = NetworkConfig {
        input_size: 3,
        layers: vec![LayerConfig::new(LayerKind::Gru, 4)],
        output: OutputConfig::new(Loss::Mse, 2),
    };
    let mut net = Network::<f64>::new(config, 1).unwrap();
    let x = Array3::from_shape_fn((5, 2, 3), |(t, b, i)| {
        ((t * 3 + b * 7 + i) as f64 * 0.3).sin()
    });
    let y = Array3::from_shape_fn((5, 2, 2), |(t, b, o)| ((t + b + o) as f64 * 0.5).cos());
    let batch = Batch {
        features: x.view(),
        labels: y.view(),
        feature_mask: None,
        label_mask: None,
    };
    let mut upd = Updater::new(UpdaterConfig::Sgd { lr: 0.1 }, net.num_params());
    let before = net.params().to_vec();
    let mut st = net.zero_state(2);
    let r = fit_batch(
        &mut net,
        &mut upd,
        &batch,
        &mut st,
        0.1,
        &FitConfig {
            tbptt: None,
            normalization: G::ClipGlobalL2 { max_norm: 1e-3 },
        },
        &mut FitScratch::default(),
    );
    for (spec, t) in net.specs().iter().zip(&r.stats.tensors) {
        let d: f64 = net.params()[spec.range()]
            .iter()
            .zip(&before[spec.range()])
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        let p: f64 = net.params()[spec.range()]
            .iter()
            .map(|a| a * a)
            .sum::<f64>()
            .sqrt();
        assert!(
            (t.update_norm - d).abs() < 1e-12 && (t.param_norm - p).abs() < 1e-12,
            "{}",
            t.name
        );
        assert!((t.ratio() - d / p).abs() < 1e-12);
    }
    // the reported gradient norm is the one before clipping; the update is clipped
    let total_update: f64 = r
        .stats
        .tensors
        .iter()
        .map(|t| t.update_norm * t.update_norm)
        .sum::<f64>()
        .sqrt();
    assert!(r.stats.global_grad_norm > 1e-3);
    assert!(
        (total_update - 0.1 * 1e-3 * r.stats.global_grad_norm / (r.stats.global_grad_norm + 1e-6))
            .abs()
            < 1e-12
    );
    assert_eq!(r.stats.layers.len(), 2);
    let layer0: f64 = r
        .stats
        .tensors
        .iter()
        .filter(|t| t.layer == 0)
        .map(|t| t.grad_norm * t.grad_norm)
        .sum::<f64>()
        .sqrt();
    assert!((r.stats.layers[0].grad_norm - layer0).abs() < 1e-12);
}
