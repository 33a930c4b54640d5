//! The block's backward pass, from what its forward pass kept (h = GELU's input among it). For
//! n the LayerNorm's output:
//!   dh = dy W₂ᵀ ⊙ GELU'(h), in the product (with the second layer's own gradients),
//!   dn = dh W₁ᵀ (with the first layer's),
//!   dx = LayerNorm'(dn) + dy, in the LayerNorm's kernel (with γ's and β's);
//! an adapter's path in dh and dn as `ops::lora_linear` adds it, and each product running only
//! when something upstream of it takes a gradient.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{MlpOps, Saved, forward};
use crate::ops::branch::{LayerOf, norm_backward, project_backward};
use crate::ops::layer_norm::LayerNormKernels;
use crate::ops::linear::InputGradient::{Alone, ThroughGelu};
use crate::ops::linear::LinearKernels;
use crate::ops::lora_linear::LoraKernels;

#[derive(Debug)]
struct MlpBackward;

/// x, γ, β, then each layer's two trained tensors (W and b, or A and B), fc's then proj's.
const PARENTS: usize = 7;

impl<B: LayerNormKernels + LinearKernels + LoraKernels> Backward<B, PARENTS> for MlpBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, PARENTS>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x, gamma, beta, fc_w, fc_b, proj_w, proj_b] = ops.parents.map(|p| p.map(|n| n.id));
        let Saved { norm, normed, h, activation, layers: [fc, proj] } = ops.state;
        let before_norm = [x, gamma, beta].iter().any(Option::is_some);
        let first_layer = before_norm || fc_w.is_some() || fc_b.is_some();
        let through = ThroughGelu(h);
        let dh = project_backward(activation, proj, dy.clone(), first_layer, through, [proj_w, proj_b], grads);
        let dn = dh.and_then(|dh| project_backward(normed, fc, dh, before_norm, Alone, [fc_w, fc_b], grads));
        norm_backward::<B>(norm, dn, dy, [x, gamma, beta], grads);
    }
}

impl<B: LayerNormKernels + LinearKernels + LoraKernels + MlpOps, C: CheckpointStrategy> MlpOps for Autodiff<B, C> {
    fn mlp_block(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        fc: LayerOf<Self>,
        proj: LayerOf<Self>,
    ) -> FloatTensor<Self> {
        let ([fc0, fc1], [proj0, proj1]) = (fc.nodes(), proj.nodes());
        let parents = [x.node(), gamma.node(), beta.node(), fc0, fc1, proj0, proj1];
        let prep = MlpBackward.prepare::<C>(parents).compute_bound().stateful();
        let [x, gamma, beta] = [x, gamma, beta].map(|t| t.into_primitive());
        let layers = [fc, proj].map(LayerOf::into_inner);
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, saved) = forward::<B>(x, gamma, beta, layers);
                prep.finish(saved, y)
            }
            OpsKind::UnTracked(prep) => {
                let [fc, proj] = layers;
                prep.finish(B::mlp_block(x, gamma, beta, fc, proj))
            }
        }
    }
}
