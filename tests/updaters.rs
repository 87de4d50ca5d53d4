//! Each updater's first three steps equal PyTorch's (`torch.optim`, float64), from
//! fixed parameters with fixed gradients. Literals from
//! `tests/reference/make_updater_reference.py` (torch 2.15.0+cu132).

mod common;

use seqlab::nn::network::{ParamKind, ParamSpec};
use seqlab::nn::updater::{LearningRate, Schedule, UpdateSums, Updater, UpdaterConfig};

const P0: [f64; 4] = [1.0, -2.0, 0.5, 0.0];
const GRADS: [[f64; 4]; 3] = [
    [0.5, -0.3, 0.1, 0.0],
    [0.2, 0.4, -0.6, 1e-3],
    [-0.7, 0.05, 0.3, -0.2],
];

#[rustfmt::skip]
const TORCH: &[(&str, [[f64; 4]; 3])] = &[
    ("sgd", [[0.95, -1.97, 0.49, 0.0], [0.9299999999999999, -2.01, 0.55, -0.0001], [0.9999999999999999, -2.0149999999999997, 0.52, 0.0199]]),
    ("momentum", [[0.95, -1.97, 0.49, 0.0], [0.8849999999999999, -1.9829999999999999, 0.541, -0.0001], [0.8964999999999999, -1.9996999999999998, 0.5569000000000001, 0.01981]]),
    ("nesterov", [[0.905, -1.943, 0.481, 0.0], [0.8265, -1.9947000000000001, 0.5869, -0.00019], [0.90685, -2.01473, 0.57121, 0.037729000000000006]]),
    ("adam", [[0.9900000002, -1.9900000003333334, 0.4900000009999999, 0.0], [0.9810142483902928, -1.9919351043699691, 0.49623918751964197, -0.007441263026631013], [0.9818463473875774, -1.9940595833273007, 0.49773739445231224, -0.0010819536064563626]]),
    ("adamw", [[0.9890000002, -1.9880000003333334, 0.4895000009999999, 0.0], [0.9790252483900929, -1.9879471043696357, 0.49524968751864196, -0.007441263026631013], [0.9788783221389873, -1.9880836362225978, 0.4962526447637936, -0.0010745123434297314]]),
    ("amsgrad", [[0.9900000002, -1.9900000003333334, 0.4900000009999999, 0.0], [0.9810142483902928, -1.9919351043699691, 0.49623918751964197, -0.007441263026631013], [0.9818463473875774, -1.9940595833273007, 0.49773739445231224, -0.0010819536064563626]]),
    ("adamax", [[0.9900000002, -1.9900000003333334, 0.4900000009999999, 0.0], [0.9831510461196038, -1.9917105266063597, 0.49447368513596485, -0.005263105263684206], [0.9837572664588613, -1.993252659106249, 0.4954525237368659, -0.0015896737130384397]]),
    ("nadam", [[0.9894354824277365, -1.9894354825685967, 0.4894354832728978, 0.0], [0.9849672893609148, -1.997418526301377, 0.49963960848343864, -0.010449656902080318], [0.9933768789723035, -1.9987316832802706, 0.4951958772606869, 0.0008324621407525679]]),
    ("rmsprop", [[0.900000019999996, -1.9000000333333222, 0.40000009999990005, 0.0], [0.8626998346269039, -1.9801444072456034, 0.49865280851270055, -0.09999000099989998], [0.9422337267859667, -1.9901622730132225, 0.45423643731420815, 8.711524333057663e-06]]),
    ("adagrad", [[0.90000000002, -1.9000000000333332, 0.4000000001, 0.0], [0.8632286459323626, -1.979207920809571, 0.49766276481980015, -0.0990098910891099], [0.9409339325805463, -1.9889631873783158, 0.45429748360416544, -0.0009719009190723993]]),
    ("adadelta", [[0.9968377855834876, -1.996837898007285, 0.4968393022937949, 0.0], [0.9951003467682721, -2.0004816213519345, 0.501255400148623, -0.0009534625892455924], [0.9989486785325273, -2.0010880500771546, 0.4983905697585953, 0.0023489787791462343]]),
];

fn config(name: &str) -> UpdaterConfig {
    match name {
        "sgd" => UpdaterConfig::Sgd { lr: 0.1 },
        "momentum" => UpdaterConfig::Momentum {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
        },
        "nesterov" => UpdaterConfig::Momentum {
            lr: 0.1,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: true,
        },
        "adam" => UpdaterConfig::Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        "adamw" => UpdaterConfig::AdamW {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.1,
        },
        "amsgrad" => UpdaterConfig::AmsGrad {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        "adamax" => with_lr(UpdaterConfig::adamax(), 0.01),
        "nadam" => with_lr(UpdaterConfig::nadam(), 0.01),
        "rmsprop" => with_lr(UpdaterConfig::rmsprop(), 0.01),
        "adagrad" => UpdaterConfig::AdaGrad {
            lr: 0.1,
            lr_decay: 0.01,
            eps: 1e-10,
        },
        "adadelta" => UpdaterConfig::adadelta(),
        other => panic!("no updater {other}"),
    }
}

fn with_lr(c: UpdaterConfig, lr: f64) -> UpdaterConfig {
    match c {
        UpdaterConfig::AdaMax {
            beta1, beta2, eps, ..
        } => UpdaterConfig::AdaMax {
            lr,
            beta1,
            beta2,
            eps,
        },
        UpdaterConfig::Nadam {
            beta1,
            beta2,
            eps,
            momentum_decay,
            ..
        } => UpdaterConfig::Nadam {
            lr,
            beta1,
            beta2,
            eps,
            momentum_decay,
        },
        UpdaterConfig::RmsProp { alpha, eps, .. } => UpdaterConfig::RmsProp { lr, alpha, eps },
        other => other,
    }
}

#[test]
fn every_updater_matches_pytorch_for_three_steps() {
    assert_eq!(TORCH.len(), 11);
    let spec = ParamSpec {
        layer: 0,
        name: "w",
        kind: ParamKind::InputWeight,
        shape: vec![4],
        offset: 0,
        len: 4,
    };
    for (name, want) in TORCH {
        let cfg = config(name);
        let mut upd = Updater::<f64>::new(cfg, 4);
        let mut p = P0.to_vec();
        let mut sums = [UpdateSums::default()];
        for (step, g) in GRADS.iter().enumerate() {
            let before = p.clone();
            upd.step(&mut p, g, cfg.lr(), std::slice::from_ref(&spec), &mut sums);
            common::assert_close(&format!("{name} step {}", step + 1), &p, &want[step], 1e-12);
            // the update statistics are those of this step
            let upd_sq: f64 = p.iter().zip(&before).map(|(a, b)| (a - b) * (a - b)).sum();
            let par_sq: f64 = p.iter().map(|a| a * a).sum();
            assert!(
                (sums[0].update_sq - upd_sq).abs() < 1e-12
                    && (sums[0].param_sq - par_sq).abs() < 1e-12,
                "{name} sums"
            );
        }
    }
}

#[test]
fn pytorch_defaults_are_the_defaults() {
    assert_eq!(
        UpdaterConfig::adam(),
        UpdaterConfig::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8
        }
    );
    assert_eq!(
        UpdaterConfig::rmsprop(),
        UpdaterConfig::RmsProp {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8
        }
    );
    assert_eq!(
        UpdaterConfig::adadelta(),
        UpdaterConfig::AdaDelta {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6
        }
    );
    assert_eq!(
        UpdaterConfig::adagrad(),
        UpdaterConfig::AdaGrad {
            lr: 1e-2,
            lr_decay: 0.0,
            eps: 1e-10
        }
    );
    assert_eq!(
        UpdaterConfig::adamw(),
        UpdaterConfig::AdamW {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-2
        }
    );
}

#[test]
fn schedules_follow_their_formulas() {
    let lr = |s: Schedule, it| {
        LearningRate {
            base: 0.1,
            schedule: s,
        }
        .at(it)
    };
    assert_eq!(lr(Schedule::Constant, 50), 0.1);
    assert!(
        (lr(
            Schedule::Step {
                every: 10,
                gamma: 0.5
            },
            25
        ) - 0.025)
            .abs()
            < 1e-15
    );
    assert!((lr(Schedule::Exponential { gamma: 0.9 }, 2) - 0.081).abs() < 1e-15);
    assert!(
        (lr(
            Schedule::InverseTime {
                gamma: 1.0,
                power: 2.0
            },
            1
        ) - 0.025)
            .abs()
            < 1e-15
    );
    assert!(
        (lr(
            Schedule::Cosine {
                period: 10,
                min_lr: 0.0
            },
            5
        ) - 0.05)
            .abs()
            < 1e-15
    );
    assert!(
        (lr(
            Schedule::Cosine {
                period: 10,
                min_lr: 0.01
            },
            99
        ) - 0.01)
            .abs()
            < 1e-15
    );
    let warm = Schedule::Warmup {
        steps: 4,
        then: Box::new(Schedule::Step {
            every: 2,
            gamma: 0.1,
        }),
    };
    assert!((lr(warm.clone(), 0) - 0.025).abs() < 1e-15);
    assert!((lr(warm.clone(), 3) - 0.1).abs() < 1e-15);
    assert!((lr(warm, 6) - 0.01).abs() < 1e-15);
    // the base may change between steps; the schedule continues from the new base
    let mut l = LearningRate {
        base: 0.1,
        schedule: Schedule::Exponential { gamma: 0.5 },
    };
    assert!((l.at(1) - 0.05).abs() < 1e-15);
    l.base = 1.0;
    assert!((l.at(2) - 0.25).abs() < 1e-15);
}
