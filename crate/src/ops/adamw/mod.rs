//! One AdamW step on one parameter tensor, with per-tensor gradient-norm clipping: burn 0.22's
//! `AdamW` + `GradientClipping::Norm` maths in one kernel (`shaders/adamw.wgsl`) where burn runs
//! about twenty elementwise kernels per tensor.
//!
//! The optimizer works on the tensors under autodiff (`Tensor::inner`), so this operation needs
//! no backward pass.

mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

/// The scalars of one step, derived on the host in the precision burn derives them.
#[derive(Debug, Clone, Copy)]
pub struct AdamWStep {
    pub lr: f32,
    /// 1 − lr · weight decay (exactly 1 without decay).
    pub decay: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub one_minus_beta1: f32,
    pub one_minus_beta2: f32,
    /// Bias corrections 1 − β1^t and 1 − β2^t.
    pub bc1: f32,
    pub bc2: f32,
    pub epsilon: f32,
    /// Clip the gradient to this L2 norm first.
    pub clip_norm: Option<f32>,
    /// The first step: m and v start at zero and the tensors given for them are not read.
    pub first: bool,
}

impl AdamWStep {
    /// Step `time` (1 for the first) of AdamW with these settings, as burn's `AdamW::step` and
    /// `AdaptiveMomentumW::transform` derive their scalars.
    pub fn new(
        lr: f64,
        time: i32,
        beta1: f32,
        beta2: f32,
        epsilon: f32,
        weight_decay: f32,
        clip_norm: Option<f32>,
    ) -> Self {
        Self {
            lr: lr as f32,
            decay: (1.0 - lr * weight_decay as f64) as f32,
            beta1,
            beta2,
            one_minus_beta1: 1.0 - beta1,
            one_minus_beta2: 1.0 - beta2,
            bc1: 1.0 - beta1.powi(time),
            bc2: 1.0 - beta2.powi(time),
            epsilon,
            clip_norm,
            first: time == 1,
        }
    }

    /// The factor the gradient is scaled by, given its norm.
    pub fn clip_scale(&self, norm: f32) -> f32 {
        match self.clip_norm {
            Some(max) => (max / (norm + f32::MIN_POSITIVE)).min(1.0),
            None => 1.0,
        }
    }
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"))]
pub trait AdamWOps: Backend {
    /// (param', m', v'). On the first step (`step.first`) `m` and `v` are not read.
    fn adamw_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamWStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// The first and second moment estimates AdamW keeps for one parameter.
#[derive(Clone)]
pub struct Moments<const D: usize> {
    pub m: Tensor<D>,
    pub v: Tensor<D>,
}

/// Update `param` from `grad`; returns the new parameter and moments. All on one device,
/// without autodiff.
pub fn adamw_step<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    moments: Option<Moments<D>>,
    step: AdamWStep,
) -> (Tensor<D>, Moments<D>) {
    assert_eq!(moments.is_none(), step.first, "moments exist from the second step on");
    // The first step reads no moments: the gradient stands in for them.
    let Moments { m, v } = moments.unwrap_or_else(|| Moments { m: grad.clone(), v: grad.clone() });
    let (param, m, v) = <Dispatch as AdamWOps>::adamw_step(
        param.into_dispatch(),
        grad.into_dispatch(),
        m.into_dispatch(),
        v.into_dispatch(),
        step,
    );
    (Tensor::from_dispatch(param), Moments { m: Tensor::from_dispatch(m), v: Tensor::from_dispatch(v) })
}

/// The same maths for one element, as the CPU kernel runs it.
#[inline]
pub fn update(p: f32, g: f32, m: f32, v: f32, step: &AdamWStep) -> (f32, f32, f32) {
    let mut m_i = step.one_minus_beta1 * g;
    let mut v_i = g * g * step.one_minus_beta2;
    if !step.first {
        m_i += m * step.beta1;
        v_i += v * step.beta2;
    }
    let delta = (m_i / step.bc1) / ((v_i / step.bc2).sqrt() + step.epsilon);
    (p * step.decay - delta * step.lr, m_i, v_i)
}
