//! AdamW on burn's wgpu backend: `shaders/adamw.wgsl`, one dispatch per parameter tensor.

use std::cell::RefCell;

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};
use burn::tensor::TensorData;

use super::{AdamWOps, AdamWStep};
use crate::ops::shader::ADAMW;
use crate::ops::wgsl::{Info, empty, inputs, launch};

impl AdamWOps for CubeBackend {
    fn adamw_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamWStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let shape = param.meta.shape().clone();
        // The first step reads no moments (the caller passes stand-ins): bind one-value buffers.
        let (m, v) = if step.first { (empty(&param, [1]), empty(&param, [1])) } else { (m, v) };
        let scalars = step_scalars(&step, &param);
        let [param, grad, m, v, scalars] = inputs([param, grad, m, v, scalars]);
        let outputs = [empty(&param, shape.clone()), empty(&param, shape.clone()), empty(&param, shape)];
        let info = Info::new()
            .usize(param.meta.shape().num_elements())
            .u32(step.first as u32)
            .u32(step.clip_norm.is_some() as u32)
            .f32(step.clip_norm.unwrap_or(0.0))
            .f32(step.beta1)
            .f32(step.beta2)
            .f32(step.one_minus_beta1)
            .f32(step.one_minus_beta2)
            .f32(step.epsilon);
        let [p_out, m_out, v_out] = outputs;
        launch(&ADAMW, (1, 1), &[&param, &grad, &m, &v, &scalars, &p_out, &m_out, &v_out], info);
        (p_out, m_out, v_out)
    }
}

thread_local! {
    /// The last step's scalars on the device, with the values they hold.
    static SCALARS: RefCell<Option<([u32; 4], CubeTensor)>> = const { RefCell::new(None) };
}

/// What changes every step (lr, decay, bc1, bc2) goes in a buffer, so the launch info stays the
/// same from step to step and the backend's cache of infos (keyed by content) holds one per
/// tensor size. Every tensor of one step shares these values, so they are uploaded once a step:
/// burn submits the queued work before every upload, and an upload per tensor made one
/// submission per tensor.
fn step_scalars(step: &AdamWStep, like: &CubeTensor) -> CubeTensor {
    let values = [step.lr, step.decay, step.bc1, step.bc2];
    let key = values.map(f32::to_bits);
    SCALARS.with_borrow_mut(|last| {
        if let Some((held, tensor)) = last.as_ref()
            && *held == key
            && tensor.device == like.device
        {
            return tensor.clone();
        }
        let tensor = CubeBackend::float_from_data(TensorData::new(values.to_vec(), [4]), &like.device);
        *last = Some((key, tensor.clone()));
        tensor
    })
}
