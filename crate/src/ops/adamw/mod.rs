//! One AdamW step on a group of parameter tensors, each with per-tensor gradient-norm clipping:
//! burn 0.22's `AdamW` + `GradientClippingConfig::Norm` maths in one kernel
//! (`shaders/adamw.wgsl`) per group of `GROUP` tensors, where burn runs about twenty
//! elementwise kernels per tensor.
//!
//! A group keeps its moments in one flat buffer, and on the GPU its parameters in another, each
//! parameter a view into it (`Layout`) updated in place, so every step binds the group's
//! parameters as one buffer: three buffers for parameters, moments and scalars, and one per
//! gradient, within WebGPU's default 8 storage buffers a dispatch.
//!
//! The optimizer works on the tensors under autodiff (`Tensor::inner`), so this operation needs
//! no backward pass.

mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use super::VIEW_ALIGN;
use super::shader::ADAMW;

/// Tensors one dispatch updates: their gradients, one binding each, and the group's three other
/// buffers fill WebGPU's default limit of 8 storage buffers per shader stage.
pub const GROUP: usize = ADAMW.constant("GROUP") as usize;
/// Slots of the kernel's uniform for the group's sizes and offsets (two vec4s each).
pub const UNIFORM_SLOTS: usize = 8;
const _: () = assert!(GROUP <= UNIFORM_SLOTS, "a group fits the kernel's uniform");

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
    /// The first step: m and v start at zero and no moments are read.
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

/// Where each tensor of a group lies in the group's flat buffers: back to back in the order
/// given, each start rounded up to a multiple of `ops::VIEW_ALIGN` values, so each parameter
/// can be bound on its own as a view of the group's buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub sizes: Vec<usize>,
    pub offsets: Vec<usize>,
    /// Values in the flat parameter buffer; the moments hold twice this (all m, then all v).
    pub total: usize,
}

impl Layout {
    pub fn new(sizes: impl IntoIterator<Item = usize>) -> Self {
        let sizes: Vec<usize> = sizes.into_iter().collect();
        let mut offsets = Vec::with_capacity(sizes.len());
        let mut total = 0;
        for &n in &sizes {
            offsets.push(total);
            total += n.next_multiple_of(VIEW_ALIGN);
        }
        Self { sizes, offsets, total }
    }
}

/// One group's tensors: `GROUP` slots of which the first `count` hold tensors to update. (A
/// backend extension's operation takes its tensors one by one, not in a Vec.)
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"))]
pub trait AdamWOps: Backend {
    /// Updates the first `count` flat parameters `p0..` from their flat gradients `g0..`;
    /// `moments` is the group's m and v as `Layout` lays them out (not read on the first step).
    /// Returns the updated parameters in their slots (the unused slots' inputs in theirs) and
    /// the moments.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn adamw_step(
        moments: FloatTensor<Self>,
        p0: FloatTensor<Self>,
        p1: FloatTensor<Self>,
        p2: FloatTensor<Self>,
        p3: FloatTensor<Self>,
        p4: FloatTensor<Self>,
        g0: FloatTensor<Self>,
        g1: FloatTensor<Self>,
        g2: FloatTensor<Self>,
        g3: FloatTensor<Self>,
        g4: FloatTensor<Self>,
        count: usize,
        step: AdamWStep,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

/// A group's slots and its moments, as a backend's `adamw_step` returns them (the trait spells
/// the tuple out, as the backend-extension macro reads it).
pub type Slots<T> = (T, T, T, T, T, T);

/// Update a group of flat parameters from their gradients; returns the new parameters and the
/// group's moments (`None` on the first step). All on one device, without autodiff.
pub fn adamw_step(
    params: Vec<Tensor<1>>,
    grads: Vec<Tensor<1>>,
    moments: Option<Tensor<1>>,
    step: AdamWStep,
) -> (Vec<Tensor<1>>, Tensor<1>) {
    assert_eq!(moments.is_none(), step.first, "moments exist from the second step on");
    let count = params.len();
    assert!((1..=GROUP).contains(&count), "1 to {GROUP} tensors a group");
    assert_eq!(count, grads.len(), "a gradient for each parameter");
    let layout = Layout::new(params.iter().map(|p| p.shape().num_elements()));
    // Unwritten memory on the first step: the kernel does not read it then.
    let moments = moments.unwrap_or_else(|| Tensor::empty([2 * layout.total], &params[0].device()));
    // Unused slots repeat the first gradient, which the kernels do not touch there: a parameter
    // repeated would be one more holder of the group's buffer, which the GPU then copies rather
    // than update in place.
    let filler = grads[0].clone();
    let slots = |tensors: Vec<Tensor<1>>| {
        let mut slots = tensors.into_iter().chain(std::iter::repeat(filler.clone())).map(Tensor::into_dispatch);
        [(); GROUP].map(|_| slots.next().expect("an endless iterator"))
    };
    let ([p0, p1, p2, p3, p4], [g0, g1, g2, g3, g4]) = (slots(params), slots(grads));
    drop(filler);
    let moments = moments.into_dispatch();
    let (p0, p1, p2, p3, p4, moments) =
        <Dispatch as AdamWOps>::adamw_step(moments, p0, p1, p2, p3, p4, g0, g1, g2, g3, g4, count, step);
    let updated = [p0, p1, p2, p3, p4].into_iter().take(count).map(Tensor::from_dispatch).collect();
    (updated, Tensor::from_dispatch(moments))
}

/// A backend's slots as the group's parameters and gradients, and the unused slots' inputs to
/// hand back.
fn from_slots<T>(params: [T; GROUP], grads: [T; GROUP], count: usize) -> (Vec<T>, Vec<T>, Vec<T>) {
    let (mut params, mut grads) = (Vec::from(params), Vec::from(grads));
    let unused = params.split_off(count);
    grads.truncate(count);
    (params, grads, unused)
}

/// The updated tensors back in their slots, the unused slots' inputs after them, and the
/// moments: what a backend's `adamw_step` returns.
fn into_slots<T>(updated: Vec<T>, unused: Vec<T>, moments: T) -> Slots<T> {
    let mut slots = updated.into_iter().chain(unused);
    let mut next = || slots.next().expect("GROUP slots");
    (next(), next(), next(), next(), next(), moments)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tensor_starts_on_a_256_byte_boundary() {
        let layout = Layout::new([29, 64, 1073, 1]);
        assert_eq!(layout.offsets, [0, 64, 128, 1216]);
        assert_eq!(layout.total, 1280);
    }
}
