//! The adapted projection's backward pass: x, x A, W, A and B are kept; W and b are frozen, so
//! only x, A and B are tracked, and a residual summed in the product, which takes dy itself.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{LoraKernels, LoraOps};
use crate::ops::linear::InputGradient;

#[derive(Debug)]
struct LoraBackward {
    scale: f32,
}

/// (x, x A, W, A, B)
type State<B> = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

/// Register the gradients of x, A and B.
fn backward<B: LoraKernels>(
    scale: f32,
    (x, low, weight, a, b): State<B>,
    [x_node, a_node, b_node]: [Option<NodeId>; 3],
    dy: FloatTensor<B>,
    grads: &mut Gradients,
) {
    let (dx, da, db) = B::lora_backward(x, low, weight, a, b, scale, dy, x_node.is_some(), InputGradient::Alone);
    if let (Some(node), Some(dx)) = (x_node, dx) {
        grads.register::<B>(node, dx);
    }
    if let Some(node) = a_node {
        grads.register::<B>(node, da);
    }
    if let Some(node) = b_node {
        grads.register::<B>(node, db);
    }
}

impl<B: LoraKernels> Backward<B, 3> for LoraBackward {
    type State = State<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        backward::<B>(self.scale, ops.state, ops.parents.map(|p| p.map(|n| n.id)), dy, grads);
    }
}

impl<B: LoraKernels> Backward<B, 4> for LoraBackward {
    type State = State<B>;

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x, a, b, residual] = ops.parents.map(|p| p.map(|n| n.id));
        if let Some(node) = residual {
            grads.register::<B>(node, dy.clone());
        }
        backward::<B>(self.scale, ops.state, [x, a, b], dy, grads);
    }
}

impl<B: LoraKernels + LoraOps, C: CheckpointStrategy> LoraOps for Autodiff<B, C> {
    fn lora_projection(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self> {
        let prep =
            <LoraBackward as Backward<B, 3>>::prepare::<C>(LoraBackward { scale }, [x.node(), a.node(), b.node()])
                .compute_bound()
                .stateful();
        let (x, weight, bias) = (x.into_primitive(), weight.into_primitive(), bias.into_primitive());
        let (a, b) = (a.into_primitive(), b.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (low, y) =
                    B::lora_forward(x.clone(), weight.clone(), bias, a.clone(), b.clone(), scale, None, None);
                prep.finish((x, low, weight, a, b), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::lora_projection(x, weight, bias, a, b, scale)),
        }
    }

    fn lora_projection_onto(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parents = [x.node(), a.node(), b.node(), residual.node()];
        let prep =
            <LoraBackward as Backward<B, 4>>::prepare::<C>(LoraBackward { scale }, parents).compute_bound().stateful();
        let (x, weight, bias) = (x.into_primitive(), weight.into_primitive(), bias.into_primitive());
        let (a, b, residual) = (a.into_primitive(), b.into_primitive(), residual.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (low, y) =
                    B::lora_forward(x.clone(), weight.clone(), bias, a.clone(), b.clone(), scale, Some(residual), None);
                prep.finish((x, low, weight, a, b), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::lora_projection_onto(x, weight, bias, a, b, scale, residual)),
        }
    }
}
