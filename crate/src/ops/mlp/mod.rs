//! The MLP of a transformer block, with its residual, as one operation of ours:
//!   y = r + GELU(x W₁ + b₁) W₂ + b₂
//! r taking dy as its gradient. Its GELU joins the products both ways: the first layer's
//! product writes GELU(h) and h = x W₁ + b₁, and the second layer's backward product for its
//! input multiplies by GELU'(h), giving the first layer the gradient of h directly. Built as a
//! linear layer, our GELU and a linear layer, the GELU was a dispatch each way of its own.
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

use super::linear::LinearKernels;
use super::lora_linear::LoraKernels;

/// Tensors one by one: the backend-extension macro passes no arrays or structs of them.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait MlpOps: Backend {
    /// x (rows, d), W₁ (d, d_ff), b₁ (d_ff), W₂ (d_ff, d), b₂ (d), r (rows, d) → (rows, d).
    fn mlp_onto(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self>;

    /// The same with each layer's adapter: h = x W₁ + b₁ + s₁ · (x A₁) B₁ and likewise the
    /// second; W and b frozen, so gradients reach x, the A and B, and r only.
    #[allow(clippy::too_many_arguments)]
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
    ) -> FloatTensor<Self>;
}

/// The plain forward pass on a backend without autodiff, from its linear kernels.
fn forward<B: LinearKernels>(
    x: FloatTensor<B>,
    w1: FloatTensor<B>,
    b1: FloatTensor<B>,
    w2: FloatTensor<B>,
    b2: FloatTensor<B>,
    residual: FloatTensor<B>,
) -> FloatTensor<B> {
    let (a, _) = B::linear_gelu_forward(x, w1, b1);
    B::linear_forward(a, w2, Some(b2), Some(residual))
}

/// The adapted forward pass on a backend without autodiff, from its LoRA kernels.
#[allow(clippy::too_many_arguments)]
fn forward_adapted<B: LoraKernels>(
    x: FloatTensor<B>,
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
    residual: FloatTensor<B>,
) -> FloatTensor<B> {
    let [_, activation, _] = B::lora_gelu_forward(x, w1, b1, lora_a1, lora_b1, scale1);
    B::lora_forward(activation, w2, b2, lora_a2, lora_b2, scale2, Some(residual)).1
}

/// Flex and Cube run the same forward passes, from their own kernels.
macro_rules! mlp_ops_from_kernels {
    ($backend:ty) => {
        impl MlpOps for $backend {
            fn mlp_onto(
                x: FloatTensor<Self>,
                w1: FloatTensor<Self>,
                b1: FloatTensor<Self>,
                w2: FloatTensor<Self>,
                b2: FloatTensor<Self>,
                residual: FloatTensor<Self>,
            ) -> FloatTensor<Self> {
                forward::<Self>(x, w1, b1, w2, b2, residual)
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
                forward_adapted::<Self>(x, w1, b1, lora_a1, lora_b1, scale1, w2, b2, lora_a2, lora_b2, scale2, residual)
            }
        }
    };
}

mlp_ops_from_kernels!(Flex);
#[cfg(feature = "wgpu")]
mlp_ops_from_kernels!(burn::backend::wgpu::CubeBackend);

/// A projection with a LoRA adapter on a frozen base, as `mlp_adapted_onto` takes it:
/// `x W + b + scale · (x A) B`.
pub struct AdaptedLayer {
    pub weight: Tensor<2>,
    pub bias: Tensor<1>,
    pub a: Tensor<2>,
    pub b: Tensor<2>,
    pub scale: f32,
}

/// `residual + GELU(x W₁ + b₁) W₂ + b₂` over the last dimension of x, (..., d) → (..., d).
pub fn mlp_onto<const D: usize>(
    x: Tensor<D>,
    weights: [Tensor<2>; 2],
    biases: [Tensor<1>; 2],
    residual: Tensor<D>,
) -> Tensor<D> {
    let dims = residual.dims();
    let d = x.dims()[D - 1];
    let rows = x.shape().num_elements() / d.max(1);
    let [w1, w2] = weights.map(Tensor::into_dispatch);
    let [b1, b2] = biases.map(Tensor::into_dispatch);
    let (x, residual) = (x.reshape([rows, d]).into_dispatch(), residual.reshape([rows, d]).into_dispatch());
    let y = <Dispatch as MlpOps>::mlp_onto(x, w1, b1, w2, b2, residual);
    Tensor::<2>::from_dispatch(y).reshape(dims)
}

/// `residual + mlp(x)` with both layers adapted, over the last dimension of x.
pub fn mlp_adapted_onto<const D: usize>(
    x: Tensor<D>,
    fc: AdaptedLayer,
    proj: AdaptedLayer,
    residual: Tensor<D>,
) -> Tensor<D> {
    let dims = residual.dims();
    let d = x.dims()[D - 1];
    let rows = x.shape().num_elements() / d.max(1);
    let (x, residual) = (x.reshape([rows, d]).into_dispatch(), residual.reshape([rows, d]).into_dispatch());
    let layer = |l: AdaptedLayer| {
        (l.weight.into_dispatch(), l.bias.into_dispatch(), l.a.into_dispatch(), l.b.into_dispatch(), l.scale)
    };
    let ((w1, b1, a1, lora_b1, s1), (w2, b2, a2, lora_b2, s2)) = (layer(fc), layer(proj));
    let y = <Dispatch as MlpOps>::mlp_adapted_onto(x, w1, b1, a1, lora_b1, s1, w2, b2, a2, lora_b2, s2, residual);
    Tensor::<2>::from_dispatch(y).reshape(dims)
}
