//! The second half of a pre-LN transformer block as one operation of ours:
//!   y = x + GELU(LayerNorm(x) W₁ + b₁) W₂ + b₂
//! Its GELU joins the products both ways: the first layer's product writes GELU(h) and h =
//! LayerNorm(x) W₁ + b₁, and the second layer's backward product for its input multiplies by
//! GELU'(h), giving the first layer the gradient of h directly. And x's two paths, through the
//! LayerNorm and the residual, meet in the LayerNorm's backward kernel, which adds dy to x's
//! gradient. Built from a LayerNorm, a linear layer, our GELU and a linear layer, the GELU was a
//! dispatch each way and the two paths' sum a third.
//!
//! Each layer is plain (full fine-tuning, and LoRA runs that leave it alone) or carries a LoRA
//! adapter on a frozen base, then `ops::lora_linear`'s products with the GELU added the same
//! way. Serving tenants' adapters, or a base that trains under its adapter, goes through
//! `lora::Projection` and `ops::gelu`.

mod autodiff;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;

use super::branch::{Kept, Layer, LayerOf, Norm, norm_for, project, project_gelu, rows};
use super::layer_norm::{LayerNorm, LayerNormKernels};
use super::linear::LinearKernels;
use super::lora_linear::LoraKernels;

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait MlpOps: Backend {
    /// x (rows, d), the LayerNorm's γ and β (d), the layers d → d_ff and d_ff → d → (rows, d).
    fn mlp_block(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        #[extension_type] fc: LayerOf<Self>,
        #[extension_type] proj: LayerOf<Self>,
    ) -> FloatTensor<Self>;
}

/// What the backward pass reads: the LayerNorm's; n; h and GELU(h); the two layers'.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    norm: Norm<B>,
    normed: FloatTensor<B>,
    h: FloatTensor<B>,
    activation: FloatTensor<B>,
    layers: [Kept<B>; 2],
}

/// The forward pass from a backend's kernels: y, and what the backward pass reads, which a
/// backend without autodiff drops at once.
fn forward<B: LayerNormKernels + LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    [fc, proj]: [LayerOf<B>; 2],
) -> (FloatTensor<B>, Saved<B>) {
    let (normed, stats, [low]) = norm_for(x.clone(), gamma.clone(), beta, [&fc]);
    let (activation, h, fc) = project_gelu(normed.clone(), fc, low);
    let (y, proj) = project(activation.clone(), proj, Some(x.clone()), None);
    (y, Saved { norm: [x, gamma, stats], normed, h, activation, layers: [fc, proj] })
}

/// Flex and Cube run the same forward pass, from their own kernels.
macro_rules! mlp_ops_from_kernels {
    ($backend:ty) => {
        impl MlpOps for $backend {
            fn mlp_block(
                x: FloatTensor<Self>,
                gamma: FloatTensor<Self>,
                beta: FloatTensor<Self>,
                fc: LayerOf<Self>,
                proj: LayerOf<Self>,
            ) -> FloatTensor<Self> {
                forward::<Self>(x, gamma, beta, [fc, proj]).0
            }
        }
    };
}

mlp_ops_from_kernels!(Flex);
#[cfg(feature = "wgpu")]
mlp_ops_from_kernels!(burn::backend::wgpu::CubeBackend);

/// `x + GELU(norm(x) W₁ + b₁) W₂ + b₂` over the last dimension of x, (..., d) → (..., d), the
/// layers in the order fc, proj.
pub fn mlp_block<const D: usize>(x: Tensor<D>, norm: &LayerNorm, layers: [Layer; 2]) -> Tensor<D> {
    let (x, shaped) = rows(x);
    let (gamma, beta) = (norm.gamma.val().into_dispatch(), norm.beta.val().into_dispatch());
    let [fc, proj] = layers.map(Layer::into_dispatch);
    shaped(<Dispatch as MlpOps>::mlp_block(x, gamma, beta, fc, proj))
}
