//! AdamW on burn's CPU backend: per tensor, the norm, then one pass over the elements; the
//! group's moments in one buffer as `Layout` lays them out.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;

use super::{AdamWOps, AdamWStep, Layout, Slots, from_slots, into_slots, update};
use crate::ops::host::{f32s, tensor};

impl AdamWOps for Flex {
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
    ) -> Slots<FloatTensor<Self>> {
        let (params, grads, unused) = from_slots([p0, p1, p2, p3, p4], [g0, g1, g2, g3, g4], count);
        let layout = Layout::new(params.iter().map(|p| p.layout().shape().num_elements()));
        let total = layout.total;
        // Updated in place (copied first only if shared): the optimizer holds the only reference.
        let mut moments = moments;
        let state = moments.storage_mut::<f32>();
        assert_eq!(state.len(), 2 * total, "a group's moments, whole, as `Layout` lays them out");
        let (m, v) = state.split_at_mut(total);

        let mut updated = Vec::with_capacity(params.len());
        for ((param, grad), &start) in params.into_iter().zip(grads).zip(&layout.offsets) {
            let shape = param.layout().shape().clone();
            let (param, grad) = (param.to_contiguous(), grad.to_contiguous());
            let (p, g) = (f32s(&param), f32s(&grad));
            let scale = step.clip_scale(g.iter().map(|g| g * g).sum::<f32>().sqrt());
            let mut p_out = Vec::with_capacity(p.len());
            for i in 0..p.len() {
                let at = start + i;
                let (p, m_i, v_i) = update(p[i], g[i] * scale, m[at], v[at], &step);
                p_out.push(p);
                (m[at], v[at]) = (m_i, v_i);
            }
            updated.push(tensor(p_out, shape));
        }
        into_slots(updated, unused, moments)
    }
}
