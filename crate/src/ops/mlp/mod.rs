//! The second half of a pre-LN transformer block as one operation of ours:
//!   y = x + GELU(LayerNorm(x) W₁ + b₁) W₂ + b₂
//! Its GELU joins the products both ways: the first layer's product writes GELU(h) and h =
//! LayerNorm(x) W₁ + b₁, and the second layer's backward product for its input multiplies by
//! GELU'(h), giving the first layer the gradient of h directly. And x's two paths, through the
//! LayerNorm and the residual, meet in the LayerNorm's backward kernel, which adds dy to x's
//! gradient. Built from a LayerNorm, a linear layer, our GELU and a linear layer, the GELU was a
//! dispatch each way and the two paths' sum a third.
//!
//! Two forms: plain layers (full fine-tuning, and LoRA runs that leave the MLP alone), and both
//! layers carrying a LoRA adapter on a frozen base (the page's recipe adapts every projection),
//! each layer then `ops::lora_linear`'s products with the GELU added the same way. An MLP with
//! one layer adapted, or serving tenants' adapters, goes through `lora::Projection` and
//! `ops::gelu`.

mod autodiff;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;

use super::branch::{Norm, rows};
use super::layer_norm::{EPSILON, LayerNorm, LayerNormKernels};
use super::linear::LinearKernels;
use super::lora_linear::LoraKernels;

/// Tensors one by one: the backend-extension macro passes no arrays or structs of them.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait MlpOps: Backend {
    /// x (rows, d), the LayerNorm's γ and β (d), W₁ (d, d_ff), b₁ (d_ff), W₂ (d_ff, d), b₂ (d)
    /// → (rows, d).
    fn mlp_block(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The same with each layer's adapter: h = n W₁ + b₁ + s₁ · (n A₁) B₁ for n the
    /// LayerNorm's output, and likewise the second; W and b frozen, so gradients reach x, γ, β
    /// and the A and B only.
    #[allow(clippy::too_many_arguments)]
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
    ) -> FloatTensor<Self>;
}

/// The plain forward pass from a backend's kernels: y, and what the backward pass reads (the
/// LayerNorm's, then n, W₁, h, GELU(h), W₂), which a backend without autodiff drops at once.
#[allow(clippy::type_complexity)]
fn forward<B: LayerNormKernels + LinearKernels>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    w1: FloatTensor<B>,
    b1: FloatTensor<B>,
    w2: FloatTensor<B>,
    b2: FloatTensor<B>,
) -> (FloatTensor<B>, (Norm<B>, [FloatTensor<B>; 5])) {
    let (normed, stats) = B::layer_norm_forward(x.clone(), gamma.clone(), beta, EPSILON);
    let (activation, h) = B::linear_gelu_forward(normed.clone(), w1.clone(), b1);
    let y = B::linear_forward(activation.clone(), w2.clone(), Some(b2), Some(x.clone()));
    (y, ([x, gamma, stats], [normed, w1, h, activation, w2]))
}

/// The adapted forward pass likewise: y, and the LayerNorm's, then n, n A₁, W₁, A₁, B₁, h,
/// GELU(h), GELU(h) A₂, W₂, A₂, B₂.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn forward_adapted<B: LayerNormKernels + LoraKernels>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    w1: FloatTensor<B>,
    b1: FloatTensor<B>,
    lora_a1: FloatTensor<B>,
    lora_b1: FloatTensor<B>,
    scale1: f32,
    w2: FloatTensor<B>,
    b2: FloatTensor<B>,
    lora_a2: FloatTensor<B>,
    lora_b2: FloatTensor<B>,
    scale2: f32,
) -> (FloatTensor<B>, (Norm<B>, [FloatTensor<B>; 11])) {
    let (normed, stats) = B::layer_norm_forward(x.clone(), gamma.clone(), beta, EPSILON);
    let [low1, activation, h] =
        B::lora_gelu_forward(normed.clone(), w1.clone(), b1, lora_a1.clone(), lora_b1.clone(), scale1);
    let residual = Some(x.clone());
    let (low2, y) =
        B::lora_forward(activation.clone(), w2.clone(), b2, lora_a2.clone(), lora_b2.clone(), scale2, residual);
    let kept = [normed, low1, w1, lora_a1, lora_b1, h, activation, low2, w2, lora_a2, lora_b2];
    (y, ([x, gamma, stats], kept))
}

/// Flex and Cube run the same forward passes, from their own kernels.
macro_rules! mlp_ops_from_kernels {
    ($backend:ty) => {
        impl MlpOps for $backend {
            fn mlp_block(
                x: FloatTensor<Self>,
                gamma: FloatTensor<Self>,
                beta: FloatTensor<Self>,
                w1: FloatTensor<Self>,
                b1: FloatTensor<Self>,
                w2: FloatTensor<Self>,
                b2: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                forward::<Self>(x, gamma, beta, w1, b1, w2, b2).0
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
                forward_adapted::<Self>(
                    x, gamma, beta, w1, b1, lora_a1, lora_b1, scale1, w2, b2, lora_a2, lora_b2, scale2,
                )
                .0
            }
        }
    };
}

mlp_ops_from_kernels!(Flex);
#[cfg(feature = "wgpu")]
mlp_ops_from_kernels!(burn::backend::wgpu::CubeBackend);

/// A projection with a LoRA adapter on a frozen base, as `mlp_adapted_block` takes it:
/// `x W + b + scale · (x A) B`.
pub struct AdaptedLayer {
    pub weight: Tensor<2>,
    pub bias: Tensor<1>,
    pub a: Tensor<2>,
    pub b: Tensor<2>,
    pub scale: f32,
}

/// `x + GELU(norm(x) W₁ + b₁) W₂ + b₂` over the last dimension of x, (..., d) → (..., d).
pub fn mlp_block<const D: usize>(
    x: Tensor<D>,
    norm: &LayerNorm,
    weights: [Tensor<2>; 2],
    biases: [Tensor<1>; 2],
) -> Tensor<D> {
    let (x, shaped) = rows(x);
    let (gamma, beta) = (norm.gamma.val().into_dispatch(), norm.beta.val().into_dispatch());
    let [w1, w2] = weights.map(Tensor::into_dispatch);
    let [b1, b2] = biases.map(Tensor::into_dispatch);
    shaped(<Dispatch as MlpOps>::mlp_block(x, gamma, beta, w1, b1, w2, b2))
}

/// The same with both layers adapted.
pub fn mlp_adapted_block<const D: usize>(
    x: Tensor<D>,
    norm: &LayerNorm,
    fc: AdaptedLayer,
    proj: AdaptedLayer,
) -> Tensor<D> {
    let (x, shaped) = rows(x);
    let (gamma, beta) = (norm.gamma.val().into_dispatch(), norm.beta.val().into_dispatch());
    let layer = |l: AdaptedLayer| {
        (l.weight.into_dispatch(), l.bias.into_dispatch(), l.a.into_dispatch(), l.b.into_dispatch(), l.scale)
    };
    let ((w1, b1, a1, lora_b1, s1), (w2, b2, a2, lora_b2, s2)) = (layer(fc), layer(proj));
    shaped(<Dispatch as MlpOps>::mlp_adapted_block(x, gamma, beta, w1, b1, a1, lora_b1, s1, w2, b2, a2, lora_b2, s2))
}
