//! The MLP's backward pass. Kept from the forward pass: x, W₁, h = x W₁ + b₁, a = GELU(h) and
//! W₂, the tensors a linear layer, a GELU and a linear layer keep between them. Then
//!   dh = dy W₂ᵀ ⊙ GELU'(h)  (with dW₂ = aᵀ dy, db₂ = Σ dy)   and   dx = dh W₁ᵀ  (dW₁ = xᵀ dh,
//!   db₁ = Σ dh),
//! each product run only when something upstream of it takes a gradient.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::MlpOps;
use crate::ops::linear::LinearKernels;

#[derive(Debug)]
struct MlpBackward;

/// What the backward pass reads: x, W₁, h, a, W₂.
type Kept<B> = [FloatTensor<B>; 5];

impl<B: LinearKernels> Backward<B, 6> for MlpBackward {
    type State = Kept<B>;

    fn backward(self, ops: Ops<Self::State, 6>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x_node, w1_node, b1_node, w2_node, b2_node, residual_node] = ops.parents.map(|p| p.map(|n| n.id));
        let [x, w1, h, a, w2] = ops.state;
        if let Some(node) = residual_node {
            grads.register::<B>(node, dy.clone());
        }
        let first_layer = x_node.is_some() || w1_node.is_some() || b1_node.is_some();
        let second_params = w2_node.is_some() || b2_node.is_some();
        let (dh, dw2_db2) = B::linear_backward(a, w2, dy, first_layer, second_params, Some(h));
        register_params::<B>(dw2_db2, [w2_node, b2_node], grads);
        if let Some(dh) = dh {
            let first_params = w1_node.is_some() || b1_node.is_some();
            let (dx, dw1_db1) = B::linear_backward(x, w1, dh, x_node.is_some(), first_params, None);
            register_params::<B>(dw1_db1, [w1_node, b1_node], grads);
            if let (Some(node), Some(dx)) = (x_node, dx) {
                grads.register::<B>(node, dx);
            }
        }
    }
}

fn register_params<B: LinearKernels>(
    gradients: Option<(FloatTensor<B>, FloatTensor<B>)>,
    [weight_node, bias_node]: [Option<NodeId>; 2],
    grads: &mut Gradients,
) {
    let Some((dw, db)) = gradients else { return };
    if let Some(node) = weight_node {
        grads.register::<B>(node, dw);
    }
    if let Some(node) = bias_node {
        grads.register::<B>(node, db);
    }
}

impl<B: LinearKernels + MlpOps, C: CheckpointStrategy> MlpOps for Autodiff<B, C> {
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
                let (a, h) = B::linear_gelu_forward(x.clone(), w1.clone(), b1);
                let y = B::linear_forward(a.clone(), w2.clone(), Some(b2), Some(residual));
                prep.finish([x, w1, h, a, w2], y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::mlp_onto(x, w1, b1, w2, b2, residual)),
        }
    }
}
