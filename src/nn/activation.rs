//! Elementwise activations. Each derivative is written in terms of the activation's
//! *output* `y`, so backward passes need only the stored outputs.
//!
//! Sigmoid and tanh go through [`Float::fast_sigmoid`] / [`Float::fast_tanh`]: exact in
//! `f64`, vectorisable approximations within a few ulp in `f32` (see
//! [`super::kernels`]).

use super::Float;

/// An elementwise activation function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `x`.
    Identity,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// DL4J's hard sigmoid: `clamp(0.2 x + 0.5, 0, 1)`.
    HardSigmoid,
    /// `tanh(x)`.
    Tanh,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `max(x, 0)`.
    Relu,
    /// `x` for `x > 0`, else `alpha * x`.
    LeakyRelu(f64),
}

impl Activation {
    /// The name `export --torch` writes for the activation after a `torch.nn.Linear`
    /// (`identity`, `sigmoid`, `hard_sigmoid`, `tanh`, `softsign`, `relu`,
    /// `leaky_relu:{slope}`).
    pub fn torch_name(self) -> String {
        match self {
            Activation::Identity => "identity".into(),
            Activation::Sigmoid => "sigmoid".into(),
            Activation::HardSigmoid => "hard_sigmoid".into(),
            Activation::Tanh => "tanh".into(),
            Activation::Softsign => "softsign".into(),
            Activation::Relu => "relu".into(),
            Activation::LeakyRelu(s) => format!("leaky_relu:{s}"),
        }
    }

    /// `y = f(x)`.
    #[inline(always)]
    pub fn apply<F: Float>(self, x: F) -> F {
        match self {
            Activation::Identity => x,
            Activation::Sigmoid => x.fast_sigmoid(),
            Activation::HardSigmoid => (F::c(0.2) * x + F::c(0.5)).max(F::zero()).min(F::one()),
            Activation::Tanh => x.fast_tanh(),
            Activation::Softsign => x / (F::one() + x.abs()),
            Activation::Relu => x.max(F::zero()),
            Activation::LeakyRelu(a) => {
                if x > F::zero() {
                    x
                } else {
                    F::c(a) * x
                }
            }
        }
    }

    /// `f'(x)` expressed through `y = f(x)`.
    #[inline(always)]
    pub fn derivative_from_output<F: Float>(self, y: F) -> F {
        match self {
            Activation::Identity => F::one(),
            Activation::Sigmoid => y * (F::one() - y),
            Activation::HardSigmoid => {
                if y > F::zero() && y < F::one() {
                    F::c(0.2)
                } else {
                    F::zero()
                }
            }
            Activation::Tanh => F::one() - y * y,
            Activation::Softsign => {
                let d = F::one() - y.abs();
                d * d
            }
            Activation::Relu => {
                if y > F::zero() {
                    F::one()
                } else {
                    F::zero()
                }
            }
            Activation::LeakyRelu(a) => {
                if y > F::zero() {
                    F::one()
                } else {
                    F::c(a)
                }
            }
        }
    }

    /// Applies the activation in place.
    pub fn apply_slice<F: Float>(self, xs: &mut [F]) {
        match self {
            Activation::Identity => {}
            Activation::Tanh => {
                super::kernels::dispatch(|| xs.iter_mut().for_each(|x| *x = x.fast_tanh()))
            }
            Activation::Sigmoid => {
                super::kernels::dispatch(|| xs.iter_mut().for_each(|x| *x = x.fast_sigmoid()))
            }
            _ => xs.iter_mut().for_each(|x| *x = self.apply(*x)),
        }
    }

    /// `dx = dy * f'(x)` given the outputs `y`, in place on `dy`.
    pub fn backward_slice<F: Float>(self, ys: &[F], dys: &mut [F]) {
        if self == Activation::Identity {
            return;
        }
        for (d, &y) in dys.iter_mut().zip(ys) {
            *d *= self.derivative_from_output(y);
        }
    }

    /// The name used in experiment files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Sigmoid => "sigmoid",
            Activation::HardSigmoid => "hard_sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softsign => "softsign",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
        }
    }
}

/// Logistic sigmoid, computed without overflow for large `|x|`.
#[inline(always)]
pub fn sigmoid<F: Float>(x: F) -> F {
    if x >= F::zero() {
        F::one() / (F::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (F::one() + e)
    }
}
