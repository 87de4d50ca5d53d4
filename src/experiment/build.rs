//! From the file's specs to the numeric core's configurations.

use crate::nn::bptt::Tbptt;
use crate::nn::init::WeightInit;
use crate::nn::network::Regularization;
use crate::nn::normalize::GradientNormalization;
use crate::nn::updater::{Schedule, UpdaterConfig};
use crate::nn::{Activation, LayerConfig, Loss, NetworkConfig, OutputConfig, OutputMode};

use super::schema::*;

impl ActivationSpec {
    pub fn to_nn(self) -> Activation {
        match self {
            ActivationSpec::Identity => Activation::Identity,
            ActivationSpec::Sigmoid => Activation::Sigmoid,
            ActivationSpec::HardSigmoid => Activation::HardSigmoid,
            ActivationSpec::Tanh => Activation::Tanh,
            ActivationSpec::Softsign => Activation::Softsign,
            ActivationSpec::Relu => Activation::Relu,
            ActivationSpec::LeakyRelu(a) => Activation::LeakyRelu(a),
        }
    }
}

impl InitSpec {
    pub fn to_nn(self) -> WeightInit {
        match self {
            InitSpec::XavierUniform => WeightInit::XavierUniform,
            InitSpec::XavierNormal => WeightInit::XavierNormal,
            InitSpec::Uniform { low, high } => WeightInit::Uniform { low, high },
            InitSpec::Normal { mean, std } => WeightInit::Normal { mean, std },
            InitSpec::Orthogonal { gain } => WeightInit::Orthogonal { gain },
            InitSpec::PyTorch => WeightInit::PyTorch,
            InitSpec::Zeros => WeightInit::Zeros,
        }
    }
}

impl LossSpec {
    pub fn to_nn(self) -> Loss {
        match self {
            LossSpec::CrossEntropy => Loss::SoftmaxCrossEntropy,
            LossSpec::Mse => Loss::Mse,
            LossSpec::BinaryCrossEntropy => Loss::SigmoidBinaryCrossEntropy,
        }
    }
}

impl LayerSpec {
    pub fn to_nn(&self) -> LayerConfig {
        let kind = self.kind.to_kind(self);
        LayerConfig {
            kind,
            size: self.size,
            weight_init: self.weight_init.to_nn(),
            recurrent_init: self.recurrent_init.to_nn(),
            dropout: self.dropout,
            single_bias: self.single_bias,
            regularization: Regularization {
                l1: self.l1,
                l2: self.l2,
                l1_bias: self.l1_bias,
                l2_bias: self.l2_bias,
            },
        }
    }
}

impl ModelSpec {
    /// The network for `input` features and `output` outputs with the given loss.
    pub fn to_nn(&self, input: usize, output: usize, loss: LossSpec) -> NetworkConfig {
        let o = &self.output;
        NetworkConfig {
            input_size: input,
            layers: self.layers.iter().map(LayerSpec::to_nn).collect(),
            output: OutputConfig {
                loss: loss.to_nn(),
                size: output,
                mode: match o.mode {
                    OutputModeSpec::EveryStep => OutputMode::EveryStep,
                    OutputModeSpec::LastStep => OutputMode::LastStep,
                },
                weight_init: o.weight_init.to_nn(),
                dropout: o.dropout,
                regularization: Regularization {
                    l1: o.l1,
                    l2: o.l2,
                    l1_bias: o.l1_bias,
                    l2_bias: o.l2_bias,
                },
            },
        }
    }
}

impl UpdaterSpec {
    pub fn to_nn(self) -> UpdaterConfig {
        match self {
            UpdaterSpec::Sgd(s) => UpdaterConfig::Sgd { lr: s.lr },
            UpdaterSpec::Momentum(s) => UpdaterConfig::Momentum {
                lr: s.lr,
                momentum: s.momentum,
                dampening: s.dampening,
                nesterov: s.nesterov,
            },
            UpdaterSpec::Adam(s) => UpdaterConfig::Adam {
                lr: s.lr,
                beta1: s.beta1,
                beta2: s.beta2,
                eps: s.eps,
            },
            UpdaterSpec::AdamW(s) => UpdaterConfig::AdamW {
                lr: s.lr,
                beta1: s.beta1,
                beta2: s.beta2,
                eps: s.eps,
                weight_decay: s.weight_decay,
            },
            UpdaterSpec::AmsGrad(s) => UpdaterConfig::AmsGrad {
                lr: s.lr,
                beta1: s.beta1,
                beta2: s.beta2,
                eps: s.eps,
            },
            UpdaterSpec::AdaMax(s) => UpdaterConfig::AdaMax {
                lr: s.lr,
                beta1: s.beta1,
                beta2: s.beta2,
                eps: s.eps,
            },
            UpdaterSpec::Nadam(s) => UpdaterConfig::Nadam {
                lr: s.lr,
                beta1: s.beta1,
                beta2: s.beta2,
                eps: s.eps,
                momentum_decay: s.momentum_decay,
            },
            UpdaterSpec::RmsProp(s) => UpdaterConfig::RmsProp {
                lr: s.lr,
                alpha: s.alpha,
                eps: s.eps,
            },
            UpdaterSpec::AdaGrad(s) => UpdaterConfig::AdaGrad {
                lr: s.lr,
                lr_decay: s.lr_decay,
                eps: s.eps,
            },
            UpdaterSpec::AdaDelta(s) => UpdaterConfig::AdaDelta {
                lr: s.lr,
                rho: s.rho,
                eps: s.eps,
            },
        }
    }
}

impl ScheduleSpec {
    /// The schedule in iterations; `batches_per_epoch` turns periods given in epochs
    /// into iterations (rounded, at least 1). Validation ([`super::validate`]) has
    /// checked that each period is given exactly once.
    pub fn to_nn(&self, batches_per_epoch: u64) -> Schedule {
        let iterations = |it: &Option<u64>, epochs: &Option<f64>| match (it, epochs) {
            (Some(n), _) => *n,
            (None, Some(e)) => ((e * batches_per_epoch as f64).round() as u64).max(1),
            (None, None) => 1,
        };
        match self {
            ScheduleSpec::Constant => Schedule::Constant,
            ScheduleSpec::Step {
                every,
                every_epochs,
                gamma,
            } => Schedule::Step {
                every: iterations(every, every_epochs),
                gamma: *gamma,
            },
            ScheduleSpec::Exponential { gamma } => Schedule::Exponential { gamma: *gamma },
            ScheduleSpec::InverseTime { gamma, power } => Schedule::InverseTime {
                gamma: *gamma,
                power: *power,
            },
            ScheduleSpec::Cosine {
                period,
                period_epochs,
                min_lr,
            } => Schedule::Cosine {
                period: iterations(period, period_epochs),
                min_lr: *min_lr,
            },
            ScheduleSpec::Warmup { steps, then } => Schedule::Warmup {
                steps: *steps,
                then: Box::new(then.to_nn(batches_per_epoch)),
            },
        }
    }
}

impl GradientNormalizationSpec {
    pub fn to_nn(self) -> GradientNormalization {
        use GradientNormalizationSpec as G;
        match self {
            G::None => GradientNormalization::None,
            G::RenormalizeL2PerLayer => GradientNormalization::RenormalizeL2PerLayer,
            G::RenormalizeL2PerParamType => GradientNormalization::RenormalizeL2PerParamType,
            G::ClipElementWiseAbsoluteValue(t) => {
                GradientNormalization::ClipElementWiseAbsoluteValue { threshold: t }
            }
            G::ClipL2PerLayer(t) => GradientNormalization::ClipL2PerLayer { threshold: t },
            G::ClipL2PerParamType(t) => GradientNormalization::ClipL2PerParamType { threshold: t },
            G::ClipGlobalL2(m) => GradientNormalization::ClipGlobalL2 { max_norm: m },
        }
    }
}

impl TbpttSpec {
    pub fn to_nn(self) -> Tbptt {
        Tbptt {
            forward: self.forward,
            backward: self.backward,
        }
    }
}
