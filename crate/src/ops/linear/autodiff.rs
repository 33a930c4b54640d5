//! Linear's backward pass: x and W are kept; the weight's product (which also gives the bias's
//! gradient) runs only when W or b takes a gradient, the input's only when x does. A residual
//! summed in the product takes dy itself.

use burn::backend::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{InputGradient, LinearKernels, LinearOps};

#[derive(Debug)]
struct LinearBackward;

/// Register the gradients of x, W and (when given) b.
fn backward<B: LinearKernels>(
    (x, weight): (FloatTensor<B>, FloatTensor<B>),
    parents: [Option<NodeId>; 3],
    dy: FloatTensor<B>,
    grads: &mut Gradients,
) {
    let [x_node, weight_node, bias_node] = parents;
    let params = weight_node.is_some() || bias_node.is_some();
    let (dx, dw_db) = B::linear_backward(x, weight, dy, x_node.is_some(), params, InputGradient::Alone);
    if let (Some(node), Some(dx)) = (x_node, dx) {
        grads.register::<B>(node, dx);
    }
    if let Some((dw, db)) = dw_db {
        if let Some(node) = weight_node {
            grads.register::<B>(node, dw);
        }
        if let Some(node) = bias_node {
            grads.register::<B>(node, db);
        }
    }
}

impl<B: LinearKernels> Backward<B, 3> for LinearBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        backward::<B>(ops.state, ops.parents.map(|p| p.map(|n| n.id)), dy, grads);
    }
}

impl<B: LinearKernels> Backward<B, 2> for LinearBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x, weight] = ops.parents.map(|p| p.map(|n| n.id));
        backward::<B>(ops.state, [x, weight, None], dy, grads);
    }
}

impl<B: LinearKernels> Backward<B, 4> for LinearBackward {
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<B>(&ops.node);
        let [x, weight, bias, residual] = ops.parents.map(|p| p.map(|n| n.id));
        if let Some(node) = residual {
            grads.register::<B>(node, dy.clone());
        }
        backward::<B>(ops.state, [x, weight, bias], dy, grads);
    }
}

impl<B: LinearKernels + LinearOps, C: CheckpointStrategy> LinearOps for Autodiff<B, C> {
    fn linear_biased(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep =
            <LinearBackward as Backward<B, 3>>::prepare::<C>(LinearBackward, [x.node(), weight.node(), bias.node()])
                .compute_bound()
                .stateful();
        let (x, weight, bias) = (x.into_primitive(), weight.into_primitive(), bias.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let y = B::linear_forward(x.clone(), weight.clone(), Some(bias), None);
                prep.finish((x, weight), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::linear_biased(x, weight, bias)),
        }
    }

    fn linear_unbiased(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = <LinearBackward as Backward<B, 2>>::prepare::<C>(LinearBackward, [x.node(), weight.node()])
            .compute_bound()
            .stateful();
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let y = B::linear_forward(x.clone(), weight.clone(), None, None);
                prep.finish((x, weight), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::linear_unbiased(x, weight)),
        }
    }

    fn linear_onto(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let parents = [x.node(), weight.node(), bias.node(), residual.node()];
        let prep = <LinearBackward as Backward<B, 4>>::prepare::<C>(LinearBackward, parents).compute_bound().stateful();
        let (x, weight) = (x.into_primitive(), weight.into_primitive());
        let (bias, residual) = (bias.into_primitive(), residual.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let y = B::linear_forward(x.clone(), weight.clone(), Some(bias), Some(residual));
                prep.finish((x, weight), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::linear_onto(x, weight, bias, residual)),
        }
    }
}
