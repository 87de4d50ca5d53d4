//! Updaters (PyTorch's formulas and defaults) and learning-rate schedules, on the
//! network's flat parameter and gradient buffers.

use super::params::ParamSpec;
use super::pool::SPLIT_FROM;
use super::Float;

/// An updater and its settings. `Default`s are PyTorch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UpdaterConfig {
    /// `p -= lr * g`
    Sgd {
        /// Learning rate.
        lr: f64,
    },
    /// PyTorch SGD with momentum: `buf = mu * buf + (1 - dampening) * g` (buf = g at the
    /// first step); Nesterov uses `g + mu * buf`.
    Momentum {
        /// Learning rate.
        lr: f64,
        /// Momentum factor `mu`.
        momentum: f64,
        /// Dampening of the gradient added to the momentum buffer.
        dampening: f64,
        /// Nesterov momentum.
        nesterov: bool,
    },
    /// Adam.
    Adam {
        /// Learning rate.
        lr: f64,
        /// Decay of the first-moment average.
        beta1: f64,
        /// Decay of the second-moment average.
        beta2: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
    },
    /// Adam with decoupled weight decay: `p *= 1 - lr * weight_decay` first.
    AdamW {
        /// Learning rate.
        lr: f64,
        /// Decay of the first-moment average.
        beta1: f64,
        /// Decay of the second-moment average.
        beta2: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
        /// Decoupled weight decay factor.
        weight_decay: f64,
    },
    /// Adam with the running maximum of the second moment.
    AmsGrad {
        /// Learning rate.
        lr: f64,
        /// Decay of the first-moment average.
        beta1: f64,
        /// Decay of the second-moment average.
        beta2: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
    },
    /// Adam with the infinity norm of past gradients.
    AdaMax {
        /// Learning rate.
        lr: f64,
        /// Decay of the first-moment average.
        beta1: f64,
        /// Decay of the second-moment average.
        beta2: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
    },
    /// Adam with Nesterov momentum (PyTorch's `NAdam`).
    Nadam {
        /// Learning rate.
        lr: f64,
        /// Decay of the first-moment average.
        beta1: f64,
        /// Decay of the second-moment average.
        beta2: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
        /// Nadam's momentum decay `psi`.
        momentum_decay: f64,
    },
    /// RMSProp.
    RmsProp {
        /// Learning rate.
        lr: f64,
        /// Decay of the squared-gradient average.
        alpha: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
    },
    /// AdaGrad.
    AdaGrad {
        /// Learning rate.
        lr: f64,
        /// Learning-rate decay per step.
        lr_decay: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
    },
    /// AdaDelta.
    AdaDelta {
        /// Learning rate.
        lr: f64,
        /// Decay of the running averages.
        rho: f64,
        /// Added to the denominator for numerical stability.
        eps: f64,
    },
}

impl UpdaterConfig {
    /// SGD, PyTorch's default learning rate 1e-2.
    pub fn sgd() -> Self {
        UpdaterConfig::Sgd { lr: 1e-2 }
    }
    /// SGD with momentum 0.9 (PyTorch's `SGD(lr=1e-2, momentum=0.9)`).
    pub fn momentum() -> Self {
        UpdaterConfig::Momentum {
            lr: 1e-2,
            momentum: 0.9,
            dampening: 0.0,
            nesterov: false,
        }
    }
    /// Adam with PyTorch's defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8).
    pub fn adam() -> Self {
        UpdaterConfig::Adam {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
    /// AdamW with PyTorch's defaults (Adam's, weight decay 1e-2).
    pub fn adamw() -> Self {
        UpdaterConfig::AdamW {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-2,
        }
    }
    /// AMSGrad: [`Self::adam`]'s defaults.
    pub fn amsgrad() -> Self {
        match Self::adam() {
            UpdaterConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
            } => UpdaterConfig::AmsGrad {
                lr,
                beta1,
                beta2,
                eps,
            },
            _ => unreachable!("adam() is Adam"),
        }
    }
    /// AdaMax with PyTorch's defaults (lr 2e-3).
    pub fn adamax() -> Self {
        UpdaterConfig::AdaMax {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
    /// Nadam with PyTorch's defaults (lr 2e-3, momentum decay 4e-3).
    pub fn nadam() -> Self {
        UpdaterConfig::Nadam {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            momentum_decay: 4e-3,
        }
    }
    /// RMSProp with PyTorch's defaults (lr 1e-2, alpha 0.99).
    pub fn rmsprop() -> Self {
        UpdaterConfig::RmsProp {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
        }
    }
    /// AdaGrad with PyTorch's defaults (lr 1e-2, eps 1e-10).
    pub fn adagrad() -> Self {
        UpdaterConfig::AdaGrad {
            lr: 1e-2,
            lr_decay: 0.0,
            eps: 1e-10,
        }
    }
    /// AdaDelta with PyTorch's defaults (lr 1, rho 0.9, eps 1e-6).
    pub fn adadelta() -> Self {
        UpdaterConfig::AdaDelta {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
        }
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        use UpdaterConfig::*;
        match *self {
            Sgd { lr }
            | Momentum { lr, .. }
            | Adam { lr, .. }
            | AdamW { lr, .. }
            | AmsGrad { lr, .. }
            | AdaMax { lr, .. }
            | Nadam { lr, .. }
            | RmsProp { lr, .. }
            | AdaGrad { lr, .. }
            | AdaDelta { lr, .. } => lr,
        }
    }

    /// How many state buffers (each the size of the parameters) the updater keeps.
    fn buffers(&self) -> usize {
        use UpdaterConfig::*;
        match self {
            Sgd { .. } => 0,
            Momentum { .. } | RmsProp { .. } | AdaGrad { .. } => 1,
            Adam { .. } | AdamW { .. } | AdaMax { .. } | Nadam { .. } | AdaDelta { .. } => 2,
            AmsGrad { .. } => 3,
        }
    }
}

/// Learning-rate schedule, a function of the iteration (0-based) and the base rate.
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// The base rate at every iteration.
    Constant,
    /// `lr * gamma^floor(it / every)`
    Step {
        /// Period in iterations.
        every: u64,
        /// Decay factor.
        gamma: f64,
    },
    /// `lr * gamma^it`
    Exponential {
        /// Decay factor.
        gamma: f64,
    },
    /// `lr / (1 + gamma * it)^power`
    InverseTime {
        /// Decay factor.
        gamma: f64,
        /// Exponent.
        power: f64,
    },
    /// `min + (lr - min) * (1 + cos(pi * min(it, period) / period)) / 2`
    Cosine {
        /// Iterations of the half cosine.
        period: u64,
        /// The rate at the end of the period.
        min_lr: f64,
    },
    /// Linear ramp from `lr / steps` to `lr` over `steps` iterations, then `then`
    /// (counted from the end of the warm-up).
    Warmup {
        /// Warm-up iterations.
        steps: u64,
        /// The schedule after the warm-up.
        then: Box<Schedule>,
    },
}

impl Schedule {
    /// The learning rate at iteration `it` (0-based) for base rate `base`.
    pub fn lr_at(&self, base: f64, it: u64) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Step { every, gamma } => base * gamma.powi((it / (*every).max(1)) as i32),
            Schedule::Exponential { gamma } => base * gamma.powf(it as f64),
            Schedule::InverseTime { gamma, power } => base / (1.0 + gamma * it as f64).powf(*power),
            Schedule::Cosine { period, min_lr } => {
                let p = (*period).max(1) as f64;
                let x = (it as f64).min(p) / p;
                min_lr + (base - min_lr) * 0.5 * (1.0 + (std::f64::consts::PI * x).cos())
            }
            Schedule::Warmup { steps, then } => {
                if it < *steps {
                    base * (it + 1) as f64 / *steps as f64
                } else {
                    then.lr_at(base, it - steps)
                }
            }
        }
    }
}

/// A schedule with a base rate that may be changed between steps (the GUI's live
/// learning-rate control): the new base applies from the next step on.
#[derive(Clone, Debug, PartialEq)]
pub struct LearningRate {
    /// The base learning rate (changed live by the GUI).
    pub base: f64,
    /// How the rate varies with the iteration.
    pub schedule: Schedule,
}

impl LearningRate {
    /// The learning rate at iteration `it`.
    pub fn at(&self, it: u64) -> f64 {
        self.schedule.lr_at(self.base, it)
    }
}

/// Sums of squares gathered during one update, per parameter tensor.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UpdateSums {
    /// sum of squared parameter values after the update
    pub param_sq: f64,
    /// sum of squared parameter changes
    pub update_sq: f64,
}

/// Adam / AdamW over one tensor: `k = [b1, 1 - b1, b2, 1 - b2, 1 / sqrt(bc2), eps,
/// decay, lr / bc1]`. Works in blocks: the update is one elementwise loop, and the
/// parameter and update sums of squares gather in eight `f64` lanes, so both vectorise.
fn adam_pass<F: Float>(p: &mut [F], g: &[F], m: &mut [F], v: &mut [F], k: [F; 8]) -> UpdateSums {
    const BLOCK: usize = 256;
    let [b1, one_b1, b2, one_b2, inv_bc2, eps, decay, step] = k;
    let (mut ps, mut us) = ([0.0f64; 8], [0.0f64; 8]);
    let mut old = [F::zero(); BLOCK];
    super::kernels::dispatch(
        #[inline(always)]
        || {
            let blocks = p
                .chunks_mut(BLOCK)
                .zip(g.chunks(BLOCK))
                .zip(m.chunks_mut(BLOCK).zip(v.chunks_mut(BLOCK)));
            for ((pb, gb), (mb, vb)) in blocks {
                let n = pb.len();
                let (old, gb, mb, vb) = (&mut old[..n], &gb[..n], &mut mb[..n], &mut vb[..n]);
                old.copy_from_slice(pb);
                for i in 0..n {
                    let gi = gb[i];
                    mb[i] = b1 * mb[i] + one_b1 * gi;
                    vb[i] = b2 * vb[i] + one_b2 * gi * gi;
                    let denom = vb[i].sqrt() * inv_bc2 + eps;
                    pb[i] = pb[i] * decay - step * mb[i] / denom;
                }
                let full = n / 8 * 8;
                for (pc, oc) in pb[..full].chunks_exact(8).zip(old[..full].chunks_exact(8)) {
                    for l in 0..8 {
                        let d = (pc[l] - oc[l]).f64();
                        us[l] += d * d;
                        ps[l] += pc[l].f64() * pc[l].f64();
                    }
                }
                for i in full..n {
                    let d = (pb[i] - old[i]).f64();
                    us[0] += d * d;
                    ps[0] += pb[i].f64() * pb[i].f64();
                }
            }
        },
    );
    UpdateSums {
        param_sq: ps.iter().sum(),
        update_sq: us.iter().sum(),
    }
}

/// Updater state over the flat buffers.
#[derive(Clone, Debug)]
pub struct Updater<F> {
    /// The updater and its settings.
    pub config: UpdaterConfig,
    /// Updates applied so far.
    pub t: u64,
    /// State buffers (moments, accumulators), each as long as the parameters.
    pub state: Vec<Vec<F>>,
    /// Nadam's running product of momentum coefficients.
    pub mu_product: f64,
}

impl<F: Float> Updater<F> {
    /// Zero state for `n_params` parameters.
    pub fn new(config: UpdaterConfig, n_params: usize) -> Self {
        Updater {
            config,
            t: 0,
            state: vec![vec![F::zero(); n_params]; config.buffers()],
            mu_product: 1.0,
        }
    }

    /// Applies one update with learning rate `lr`, tensor by tensor, gathering the
    /// parameter and update norms into `sums` (one per spec).
    pub fn step(
        &mut self,
        params: &mut [F],
        grads: &[F],
        lr: f64,
        specs: &[ParamSpec],
        sums: &mut [UpdateSums],
    ) {
        assert_eq!(
            params.len(),
            grads.len(),
            "parameters and gradients differ in length"
        );
        self.t += 1;
        let t = self.t as f64;
        use UpdaterConfig::*;
        // per-step scalars, computed once
        let (nadam_a, nadam_b) = if let Nadam {
            beta1,
            momentum_decay,
            ..
        } = self.config
        {
            let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * momentum_decay));
            let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * momentum_decay));
            self.mu_product *= mu;
            (
                lr * (1.0 - mu) / (1.0 - self.mu_product),
                lr * mu_next / (1.0 - self.mu_product * mu_next),
            )
        } else {
            (0.0, 0.0)
        };
        let config = self.config;
        for (spec, sum) in specs.iter().zip(sums.iter_mut()) {
            let r = spec.range();
            let (p, g) = (&mut params[r.clone()], &grads[r.clone()]);
            // up to three state buffers, cut to this tensor (empty when unused)
            let mut bufs = self.state.iter_mut().map(|b| &mut b[r.clone()]);
            let mut bufs: [&mut [F]; 3] = [
                bufs.next().unwrap_or_default(),
                bufs.next().unwrap_or_default(),
                bufs.next().unwrap_or_default(),
            ];
            let mut acc = UpdateSums::default();
            let mut apply = |p: &mut F, new: F| {
                let d = (new - *p).f64();
                acc.update_sq += d * d;
                acc.param_sq += new.f64() * new.f64();
                *p = new;
            };
            match config {
                Sgd { .. } => {
                    let lr = F::c(lr);
                    for (p, &g) in p.iter_mut().zip(g) {
                        apply(p, *p - lr * g);
                    }
                }
                Momentum {
                    momentum,
                    dampening,
                    nesterov,
                    ..
                } => {
                    let (mu, damp, lr) = (F::c(momentum), F::c(1.0 - dampening), F::c(lr));
                    let first = self.t == 1;
                    for ((p, &g), b) in p.iter_mut().zip(g).zip(bufs[0].iter_mut()) {
                        *b = if first { g } else { mu * *b + damp * g };
                        let d = if nesterov { g + mu * *b } else { *b };
                        apply(p, *p - lr * d);
                    }
                }
                Adam {
                    beta1, beta2, eps, ..
                }
                | AdamW {
                    beta1, beta2, eps, ..
                }
                | AmsGrad {
                    beta1, beta2, eps, ..
                } => {
                    let decay = if let AdamW { weight_decay, .. } = config {
                        F::c(1.0 - lr * weight_decay)
                    } else {
                        F::one()
                    };
                    let bc1 = 1.0 - beta1.powf(t);
                    let bc2_sqrt = (1.0 - beta2.powf(t)).sqrt();
                    let (b1, b2, eps, step) = (F::c(beta1), F::c(beta2), F::c(eps), F::c(lr / bc1));
                    let (one_b1, one_b2, inv_bc2) =
                        (F::c(1.0 - beta1), F::c(1.0 - beta2), F::c(1.0 / bc2_sqrt));
                    let ams = matches!(config, AmsGrad { .. });
                    let (m, rest) = bufs.split_at_mut(1);
                    let (v, vmax) = rest.split_at_mut(1);
                    if !ams {
                        // the common case in one vectorised pass (same formulas), in two
                        // halves (two threads with own threads on), sums added in order
                        let k = [b1, one_b1, b2, one_b2, inv_bc2, eps, decay, step];
                        let ptrs = [p.as_mut_ptr(), m[0].as_mut_ptr(), v[0].as_mut_ptr()]
                            .map(super::pool::SharedMut);
                        let [a, b] = super::pool::halves(p.len(), 256, SPLIT_FROM, &|r| {
                            let (o, n) = (r.start, r.len());
                            // SAFETY: the halves are disjoint parts of the three buffers
                            // (each as long as `p`), borrowed mutably here.
                            let [pp, mm, vv] = ptrs.map(|q| unsafe { q.slice(o, n) });
                            adam_pass(pp, &g[r], mm, vv, k)
                        });
                        *sum = UpdateSums {
                            param_sq: a.param_sq + b.param_sq,
                            update_sq: a.update_sq + b.update_sq,
                        };
                        continue;
                    }
                    for i in 0..p.len() {
                        let gi = g[i];
                        m[0][i] = b1 * m[0][i] + one_b1 * gi;
                        v[0][i] = b2 * v[0][i] + one_b2 * gi * gi;
                        let vv = if ams {
                            vmax[0][i] = vmax[0][i].max(v[0][i]);
                            vmax[0][i]
                        } else {
                            v[0][i]
                        };
                        let denom = vv.sqrt() * inv_bc2 + eps;
                        let pd = p[i] * decay;
                        apply(&mut p[i], pd - step * m[0][i] / denom);
                    }
                }
                AdaMax {
                    beta1, beta2, eps, ..
                } => {
                    let step = F::c(lr / (1.0 - beta1.powf(t)));
                    let (b1, one_b1, b2, eps) =
                        (F::c(beta1), F::c(1.0 - beta1), F::c(beta2), F::c(eps));
                    let (m, u) = bufs.split_at_mut(1);
                    for i in 0..p.len() {
                        m[0][i] = b1 * m[0][i] + one_b1 * g[i];
                        u[0][i] = (b2 * u[0][i]).max(g[i].abs() + eps);
                        let new = p[i] - step * m[0][i] / u[0][i];
                        apply(&mut p[i], new);
                    }
                }
                Nadam {
                    beta1, beta2, eps, ..
                } => {
                    let inv_bc2 = F::c(1.0 / (1.0 - beta2.powf(t)));
                    let (b1, one_b1, b2, one_b2, eps) = (
                        F::c(beta1),
                        F::c(1.0 - beta1),
                        F::c(beta2),
                        F::c(1.0 - beta2),
                        F::c(eps),
                    );
                    let (a, b) = (F::c(nadam_a), F::c(nadam_b));
                    let (m, v) = bufs.split_at_mut(1);
                    for i in 0..p.len() {
                        let gi = g[i];
                        m[0][i] = b1 * m[0][i] + one_b1 * gi;
                        v[0][i] = b2 * v[0][i] + one_b2 * gi * gi;
                        let denom = (v[0][i] * inv_bc2).sqrt() + eps;
                        let new = p[i] - a * gi / denom - b * m[0][i] / denom;
                        apply(&mut p[i], new);
                    }
                }
                RmsProp { alpha, eps, .. } => {
                    let (a, one_a, eps, lr) = (F::c(alpha), F::c(1.0 - alpha), F::c(eps), F::c(lr));
                    for ((p, &g), v) in p.iter_mut().zip(g).zip(bufs[0].iter_mut()) {
                        *v = a * *v + one_a * g * g;
                        apply(p, *p - lr * g / (v.sqrt() + eps));
                    }
                }
                AdaGrad { lr_decay, eps, .. } => {
                    let clr = F::c(lr / (1.0 + (t - 1.0) * lr_decay));
                    let eps = F::c(eps);
                    for ((p, &g), s) in p.iter_mut().zip(g).zip(bufs[0].iter_mut()) {
                        *s += g * g;
                        apply(p, *p - clr * g / (s.sqrt() + eps));
                    }
                }
                AdaDelta { rho, eps, .. } => {
                    let (r, one_r, eps, lr) = (F::c(rho), F::c(1.0 - rho), F::c(eps), F::c(lr));
                    let (v, u) = bufs.split_at_mut(1);
                    for i in 0..p.len() {
                        let gi = g[i];
                        v[0][i] = r * v[0][i] + one_r * gi * gi;
                        let delta = (u[0][i] + eps).sqrt() / (v[0][i] + eps).sqrt() * gi;
                        u[0][i] = r * u[0][i] + one_r * delta * delta;
                        let new = p[i] - lr * delta;
                        apply(&mut p[i], new);
                    }
                }
            }
            *sum = acc;
        }
    }
}
