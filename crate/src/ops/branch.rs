//! What the two halves of a pre-LN block share as operations of ours (`ops::attention_block`,
//! `ops::mlp`): each is a residual branch `x + f(LayerNorm(x))`, so x has two paths back, through
//! the LayerNorm and through the residual, and the two meet in the LayerNorm's backward kernel
//! rather than in a sum of their own.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch};
use burn::tensor::Tensor;

use super::layer_norm::LayerNormKernels;

/// What the LayerNorm at a branch's start keeps for the backward pass: x, γ, the rows' (mean,
/// rstd).
pub type Norm<B> = [FloatTensor<B>; 3];

/// Register each gradient whose node is tracked.
pub fn register<B: Backend, const N: usize>(
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

/// The LayerNorm's backward pass, given dn (when anything before the branch's products takes a
/// gradient) and dy, which reaches x through the residual too.
pub fn norm_backward<B: LayerNormKernels>(
    [x, gamma, stats]: Norm<B>,
    dn: Option<FloatTensor<B>>,
    dy: FloatTensor<B>,
    [x_node, gamma_node, beta_node]: [Option<NodeId>; 3],
    grads: &mut Gradients,
) {
    let Some(dn) = dn else {
        // Nothing before the products trains: only the residual's path reaches x.
        return register::<B, 1>([dy], [x_node], grads);
    };
    let params = gamma_node.is_some() || beta_node.is_some();
    let (dx, dparams) = B::layer_norm_backward(x, gamma, stats, dn, params, Some(dy));
    register::<B, 1>([dx], [x_node], grads);
    if let Some((dgamma, dbeta)) = dparams {
        register::<B, 2>([dgamma, dbeta], [gamma_node, beta_node], grads);
    }
}

/// (rows, d) views of x, and a function giving the output x's shape back.
pub fn rows<const D: usize>(x: Tensor<D>) -> (FloatTensor<Dispatch>, impl Fn(FloatTensor<Dispatch>) -> Tensor<D>) {
    let dims = x.dims();
    let d = dims[D - 1];
    let rows = x.shape().num_elements() / d.max(1);
    (x.reshape([rows, d]).into_dispatch(), move |y| Tensor::<2>::from_dispatch(y).reshape(dims))
}
