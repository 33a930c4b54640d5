//! AdamW on burn's CPU backend: the norm, then one pass over the elements.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;

use super::{AdamWOps, AdamWStep, update};
use crate::ops::host::{f32s, tensor};

impl AdamWOps for Flex {
    fn adamw_step(
        param: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        m: FloatTensor<Self>,
        v: FloatTensor<Self>,
        step: AdamWStep,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let shape = param.layout().shape().clone();
        let (param, grad) = (param.to_contiguous(), grad.to_contiguous());
        let (p, g) = (f32s(&param), f32s(&grad));
        let scale = step.clip_scale(g.iter().map(|g| g * g).sum::<f32>().sqrt());
        let (m, v) = (m.to_contiguous(), v.to_contiguous());
        let (m, v) = (f32s(&m), f32s(&v));

        let (mut p_out, mut m_out, mut v_out) =
            (Vec::with_capacity(p.len()), Vec::with_capacity(p.len()), Vec::with_capacity(p.len()));
        for i in 0..p.len() {
            let (p, m, v) = update(p[i], g[i] * scale, m[i], v[i], &step);
            p_out.push(p);
            m_out.push(m);
            v_out.push(v);
        }
        (tensor(p_out, shape.clone()), tensor(m_out, shape.clone()), tensor(v_out, shape))
    }
}
