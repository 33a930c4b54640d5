//! The block's backward passes. Kept from the forward pass: what a LayerNorm, a linear layer (or
//! an adapted projection), a GELU and a second one keep between them, h = GELU's input among
//! them. Then, n being the LayerNorm's output,
//!   dh = dy W₂ᵀ ⊙ GELU'(h)  (with W₂'s or the adapter's gradients),   dn = dh W₁ᵀ  (with W₁'s
//!   or the adapter's),   dx = LayerNorm'(dn) + dy  (with γ's and β's),
//! the adapters' paths in dh and dn as `ops::lora_linear` adds them; each product runs only
//! when something upstream of it takes a gradient.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{MlpOps, forward, forward_adapted};
use crate::ops::branch::{Norm, norm_backward, register};
use crate::ops::layer_norm::LayerNormKernels;
use crate::ops::linear::InputGradient::{Alone, ThroughGelu};
use crate::ops::linear::LinearKernels;
use crate::ops::lora_linear::LoraKernels;

#[derive(Debug)]
struct MlpBackward;

impl<B: LayerNormKernels + LinearKernels> Backward<B, 7> for MlpBackward {
    /// The LayerNorm's, then n, W₁, h, GELU(h), W₂.
    type State = (Norm<B>, [FloatTensor<B>; 5]);

    fn backward(self, ops: Ops<Self::State, 7>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x_node, gamma_node, beta_node, w1_node, b1_node, w2_node, b2_node] = ops.parents.map(|p| p.map(|n| n.id));
        let (norm, [normed, w1, h, activation, w2]) = ops.state;
        let norm_nodes = [x_node, gamma_node, beta_node];
        let before_norm = norm_nodes.iter().any(Option::is_some);
        let first_params = w1_node.is_some() || b1_node.is_some();
        let second_params = w2_node.is_some() || b2_node.is_some();
        let (dh, dw2_db2) =
            B::linear_backward(activation, w2, dy.clone(), before_norm || first_params, second_params, ThroughGelu(h));
        if let Some((dw2, db2)) = dw2_db2 {
            register::<B, 2>([dw2, db2], [w2_node, b2_node], grads);
        }
        let dn = dh.and_then(|dh| {
            let (dn, dw1_db1) = B::linear_backward(normed, w1, dh, before_norm, first_params, Alone);
            if let Some((dw1, db1)) = dw1_db1 {
                register::<B, 2>([dw1, db1], [w1_node, b1_node], grads);
            }
            dn
        });
        norm_backward::<B>(norm, dn, dy, norm_nodes, grads);
    }
}

#[derive(Debug)]
struct MlpAdaptedBackward {
    scales: [f32; 2],
}

impl<B: LayerNormKernels + LoraKernels> Backward<B, 7> for MlpAdaptedBackward {
    /// The LayerNorm's, then n, n A₁, W₁, A₁, B₁, h, GELU(h), GELU(h) A₂, W₂, A₂, B₂.
    type State = (Norm<B>, [FloatTensor<B>; 11]);

    fn backward(self, ops: Ops<Self::State, 7>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x_node, gamma_node, beta_node, a1_node, b1_node, a2_node, b2_node] = ops.parents.map(|p| p.map(|n| n.id));
        let (norm, [normed, low1, w1, a1, b1, h, activation, low2, w2, a2, b2]) = ops.state;
        let [scale1, scale2] = self.scales;
        let norm_nodes = [x_node, gamma_node, beta_node];
        let before_norm = norm_nodes.iter().any(Option::is_some);
        let first_layer = before_norm || a1_node.is_some() || b1_node.is_some();
        let (dh, da2, db2) =
            B::lora_backward(activation, low2, w2, a2, b2, scale2, dy.clone(), first_layer, ThroughGelu(h));
        register::<B, 2>([da2, db2], [a2_node, b2_node], grads);
        let dn = dh.and_then(|dh| {
            let (dn, da1, db1) = B::lora_backward(normed, low1, w1, a1, b1, scale1, dh, before_norm, Alone);
            register::<B, 2>([da1, db1], [a1_node, b1_node], grads);
            dn
        });
        norm_backward::<B>(norm, dn, dy, norm_nodes, grads);
    }
}

impl<B: LayerNormKernels + LinearKernels + LoraKernels + MlpOps, C: CheckpointStrategy> MlpOps for Autodiff<B, C> {
    fn mlp_block(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parents = [x.node(), gamma.node(), beta.node(), w1.node(), b1.node(), w2.node(), b2.node()];
        let prep = MlpBackward.prepare::<C>(parents).compute_bound().stateful();
        let [x, gamma, beta, w1, b1, w2, b2] = [x, gamma, beta, w1, b1, w2, b2].map(|t| t.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, kept) = forward::<B>(x, gamma, beta, w1, b1, w2, b2);
                prep.finish(kept, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::mlp_block(x, gamma, beta, w1, b1, w2, b2)),
        }
    }

    fn mlp_adapted_block(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        lora_a1: FloatTensor<Self>,
        lora_b1: FloatTensor<Self>,
        scale1: f32,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        lora_a2: FloatTensor<Self>,
        lora_b2: FloatTensor<Self>,
        scale2: f32,
    ) -> FloatTensor<Self> {
        let parents =
            [x.node(), gamma.node(), beta.node(), lora_a1.node(), lora_b1.node(), lora_a2.node(), lora_b2.node()];
        let prep = MlpAdaptedBackward { scales: [scale1, scale2] }.prepare::<C>(parents).compute_bound().stateful();
        let [x, gamma, beta, w1, b1, a1, lora_b1] =
            [x, gamma, beta, w1, b1, lora_a1, lora_b1].map(|t| t.into_primitive());
        let [w2, b2, a2, lora_b2] = [w2, b2, lora_a2, lora_b2].map(|t| t.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, kept) =
                    forward_adapted::<B>(x, gamma, beta, w1, b1, a1, lora_b1, scale1, w2, b2, a2, lora_b2, scale2);
                prep.finish(kept, y)
            }
            OpsKind::UnTracked(prep) => prep
                .finish(B::mlp_adapted_block(x, gamma, beta, w1, b1, a1, lora_b1, scale1, w2, b2, a2, lora_b2, scale2)),
        }
    }
}
