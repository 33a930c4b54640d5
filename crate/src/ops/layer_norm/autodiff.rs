//! LayerNorm's backward pass: the forward kernel's stats are kept with x and γ, and γ and β's
//! gradients are taken only when either trains.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{LayerNormKernels, LayerNormOps};

#[derive(Debug)]
struct LayerNormBackward;

impl<B: LayerNormKernels> Backward<B, 3> for LayerNormBackward {
    /// x, γ and the rows' (mean, rstd).
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, gamma, stats) = ops.state;
        let dy = grads.consume::<B>(&ops.node);
        let [x_node, gamma_node, beta_node] = ops.parents;
        let params = gamma_node.is_some() || beta_node.is_some();
        let (dx, dparams) = B::layer_norm_backward(x, gamma, stats, dy, params, None);
        if let Some((dgamma, dbeta)) = dparams {
            if let Some(node) = gamma_node {
                grads.register::<B>(node.id, dgamma);
            }
            if let Some(node) = beta_node {
                grads.register::<B>(node.id, dbeta);
            }
        }
        if let Some(node) = x_node {
            grads.register::<B>(node.id, dx);
        }
    }
}

impl<B: LayerNormKernels + LayerNormOps, C: CheckpointStrategy> LayerNormOps for Autodiff<B, C> {
    fn layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        let prep = LayerNormBackward.prepare::<C>([x.node(), gamma.node(), beta.node()]).compute_bound().stateful();
        let (x, gamma, beta) = (x.into_primitive(), gamma.into_primitive(), beta.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, stats, _) = B::layer_norm_forward(x.clone(), gamma.clone(), beta, epsilon, &[]);
                prep.finish((x, gamma, stats), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(<B as LayerNormOps>::layer_norm(x, gamma, beta, epsilon)),
        }
    }
}
