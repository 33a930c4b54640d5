//! The MLP's backward passes. Kept from the forward pass: what a linear layer (or an adapted
//! projection), a GELU and a second one keep between them, h = GELU's input among them. Then
//!   dh = dy W₂ᵀ ⊙ GELU'(h)  (with W₂'s or the adapter's gradients)   and   dx = dh W₁ᵀ
//! (with W₁'s or the adapter's), the adapters' paths in dh and dx as `ops::lora_linear` adds
//! them; each product runs only when something upstream of it takes a gradient.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};

use super::MlpOps;
use crate::ops::linear::LinearKernels;
use crate::ops::lora_linear::LoraKernels;

/// Register each gradient whose node is tracked.
fn register<B: Backend, const N: usize>(
    gradients: [FloatTensor<B>; N],
    nodes: [Option<NodeId>; N],
    grads: &mut Gradients,
) {
    for (gradient, node) in gradients.into_iter().zip(nodes) {
        if let Some(node) = node {
            grads.register::<B>(node, gradient);
        }
    }
}

#[derive(Debug)]
struct MlpBackward;

impl<B: LinearKernels> Backward<B, 6> for MlpBackward {
    /// x, W₁, h, GELU(h), W₂.
    type State = [FloatTensor<B>; 5];

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x_node, w1_node, b1_node, w2_node, b2_node, residual_node] = ops.parents.map(|p| p.map(|n| n.id));
        let [x, w1, h, activation, w2] = ops.state;
        if let Some(node) = residual_node {
            grads.register::<B>(node, dy.clone());
        }
        let first_layer = x_node.is_some() || w1_node.is_some() || b1_node.is_some();
        let second_params = w2_node.is_some() || b2_node.is_some();
        let (dh, dw2_db2) = B::linear_backward(activation, w2, dy, first_layer, second_params, Some(h));
        if let Some((dw2, db2)) = dw2_db2 {
            register::<B, 2>([dw2, db2], [w2_node, b2_node], grads);
        }
        if let Some(dh) = dh {
            let first_params = w1_node.is_some() || b1_node.is_some();
            let (dx, dw1_db1) = B::linear_backward(x, w1, dh, x_node.is_some(), first_params, None);
            if let Some((dw1, db1)) = dw1_db1 {
                register::<B, 2>([dw1, db1], [w1_node, b1_node], grads);
            }
            if let Some(dx) = dx {
                register::<B, 1>([dx], [x_node], grads);
            }
        }
    }
}

#[derive(Debug)]
struct MlpAdaptedBackward {
    scales: [f32; 2],
}

impl<B: LoraKernels + LinearKernels> Backward<B, 6> for MlpAdaptedBackward {
    /// x, x A₁, W₁, A₁, B₁, h, GELU(h), GELU(h) A₂, W₂, A₂, B₂.
    type State = [FloatTensor<B>; 11];

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x_node, a1_node, b1_node, a2_node, b2_node, residual_node] = ops.parents.map(|p| p.map(|n| n.id));
        let [x, low1, w1, a1, b1, h, activation, low2, w2, a2, b2] = ops.state;
        let [scale1, scale2] = self.scales;
        if let Some(node) = residual_node {
            grads.register::<B>(node, dy.clone());
        }
        let first_layer = x_node.is_some() || a1_node.is_some() || b1_node.is_some();
        let (dh, da2, db2) = B::lora_backward(activation, low2, w2, a2, b2, scale2, dy, first_layer, Some(h));
        register::<B, 2>([da2, db2], [a2_node, b2_node], grads);
        if let Some(dh) = dh {
            let (dx, da1, db1) = B::lora_backward(x, low1, w1, a1, b1, scale1, dh, x_node.is_some(), None);
            register::<B, 2>([da1, db1], [a1_node, b1_node], grads);
            if let Some(dx) = dx {
                register::<B, 1>([dx], [x_node], grads);
            }
        }
    }
}

impl<B: LinearKernels + LoraKernels + MlpOps, C: CheckpointStrategy> MlpOps for Autodiff<B, C> {
    fn mlp_onto(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parents = [x.node(), w1.node(), b1.node(), w2.node(), b2.node(), residual.node()];
        let prep = MlpBackward.prepare::<C>(parents).compute_bound().stateful();
        let (x, w1, w2) = (x.into_primitive(), w1.into_primitive(), w2.into_primitive());
        let (b1, b2, residual) = (b1.into_primitive(), b2.into_primitive(), residual.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (activation, h) = B::linear_gelu_forward(x.clone(), w1.clone(), b1);
                let y = B::linear_forward(activation.clone(), w2.clone(), Some(b2), Some(residual));
                prep.finish([x, w1, h, activation, w2], y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::mlp_onto(x, w1, b1, w2, b2, residual)),
        }
    }

    fn mlp_adapted_onto(
        x: FloatTensor<Self>,
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
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parents = [x.node(), lora_a1.node(), lora_b1.node(), lora_a2.node(), lora_b2.node(), residual.node()];
        let prep = MlpAdaptedBackward { scales: [scale1, scale2] }.prepare::<C>(parents).compute_bound().stateful();
        let [x, w1, b1, a1, lora_b1] = [x, w1, b1, lora_a1, lora_b1].map(|t| t.into_primitive());
        let [w2, b2, a2, lora_b2, residual] = [w2, b2, lora_a2, lora_b2, residual].map(|t| t.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let [low1, activation, h] =
                    B::lora_gelu_forward(x.clone(), w1.clone(), b1, a1.clone(), lora_b1.clone(), scale1);
                let (low2, y) = B::lora_forward(
                    activation.clone(),
                    w2.clone(),
                    b2,
                    a2.clone(),
                    lora_b2.clone(),
                    scale2,
                    Some(residual),
                );
                prep.finish([x, low1, w1, a1, lora_b1, h, activation, low2, w2, a2, lora_b2], y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::mlp_adapted_onto(x, w1, b1, a1, lora_b1, scale1, w2, b2, a2, lora_b2, scale2, residual))
            }
        }
    }
}
