//! The block's backward pass, from what its forward pass kept:
//!   the output projection's products (its input's gradient dA, its own W and b's or A and B's),
//!   attention's two kernels (dq, dk, dv),
//!   dn = dq W_qᵀ + dk W_kᵀ + dv W_vᵀ, with each projection's own gradients (`branch::
//!   project_three_backward`: one product for all three when plain, else each summed onto the
//!   last in its own, an adapter's path as `ops::lora_linear` adds it, and the adapters' own
//!   products side by side where the backend has a kernel for them),
//!   dx = LayerNorm'(dn) + dy, with γ's and β's;
//! each product running only when something upstream of it takes a gradient.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, TensorMetadata};

use super::{AttentionBlockOps, Qkv, Saved, forward};
use crate::ops::attention::AttentionKernels;
use crate::ops::branch::{LayerOf, norm_backward, project_backward, project_three_backward};
use crate::ops::layer_norm::LayerNormKernels;
use crate::ops::linear::InputGradient::Alone;
use crate::ops::linear::LinearKernels;
use crate::ops::lora_linear::LoraKernels;

#[derive(Debug)]
struct AttentionBlockBackward;

/// x, γ, β, then each projection's two trained tensors in the order q, k, v, o.
const PARENTS: usize = 11;

impl<B: LayerNormKernels + LinearKernels + LoraKernels + AttentionKernels> Backward<B, PARENTS>
    for AttentionBlockBackward
{
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, PARENTS>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let nodes = ops.parents.map(|p| p.map(|n| n.id));
        let norm_nodes = [nodes[0], nodes[1], nodes[2]];
        let layer_nodes = |i: usize| [nodes[3 + 2 * i], nodes[4 + 2 * i]];
        let Saved { norm, normed, attention, layers: [q, k, v, o], sequences, heads } = ops.state;
        let [queries, keys, values, y, lse] = attention;
        let before_norm = norm_nodes.iter().any(Option::is_some);
        let before_attention = before_norm || (0..3).any(|i| layer_nodes(i).iter().any(Option::is_some));
        let dy_attention = project_backward(y.clone(), o, dy.clone(), before_attention, Alone, layer_nodes(3), grads);
        let dn = dy_attention.and_then(|dy_attention| {
            let flat = dy_attention.shape();
            let as_sequences = |t: FloatTensor<B>| B::float_reshape(t, sequences.clone());
            let [queries, keys, values, y, dy_attention] = [queries, keys, values, y, dy_attention].map(as_sequences);
            let (dq, dk, dv) = B::attention_backward(queries, keys, values, y, lse, dy_attention, heads);
            let dys = [dq, dk, dv].map(|d| B::float_reshape(d, flat.clone()));
            let nodes = [0, 1, 2].map(layer_nodes);
            project_three_backward(normed, [q, k, v], dys, before_norm, nodes, grads)
        });
        norm_backward::<B>(norm, dn, dy, norm_nodes, grads);
    }
}

impl<B, C> AttentionBlockOps for Autodiff<B, C>
where
    B: LayerNormKernels + LinearKernels + LoraKernels + AttentionKernels + AttentionBlockOps,
    C: CheckpointStrategy,
{
    fn attention_block(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        q: LayerOf<Self>,
        k: LayerOf<Self>,
        v: LayerOf<Self>,
        o: LayerOf<Self>,
        time: usize,
        heads: usize,
    ) -> FloatTensor<Self> {
        let [[q0, q1], [k0, k1], [v0, v1], [o0, o1]] = [&q, &k, &v, &o].map(LayerOf::nodes);
        let parents = [x.node(), gamma.node(), beta.node(), q0, q1, k0, k1, v0, v1, o0, o1];
        let prep = AttentionBlockBackward.prepare::<C>(parents).compute_bound().stateful();
        let [x, gamma, beta] = [x, gamma, beta].map(|t| t.into_primitive());
        let layers = [q, k, v, o].map(LayerOf::into_inner);
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, saved) = forward::<B>(x, gamma, beta, layers, time, heads, Qkv::Together);
                prep.finish(saved, y)
            }
            OpsKind::UnTracked(prep) => {
                let [q, k, v, o] = layers;
                prep.finish(B::attention_block(x, gamma, beta, q, k, v, o, time, heads))
            }
        }
    }
}
