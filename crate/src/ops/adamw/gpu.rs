//! AdamW on burn's wgpu backend: `shaders/adamw.wgsl`, one dispatch per parameter tensor.

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::CubeBackend;
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
        // What changes every step goes in a buffer: the launch info stays the same from step to
        // step, so the backend's cache of infos (keyed by content) holds one per tensor size.
        let scalars = TensorData::new(vec![step.lr, step.decay, step.bc1, step.bc2], [4]);
        let scalars = Self::float_from_data(scalars, &param.device);
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
