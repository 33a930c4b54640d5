//! The MLP of a transformer block, with its residual, as one operation of ours:
//!   y = r + GELU(x W₁ + b₁) W₂ + b₂
//! r taking dy as its gradient. Its GELU joins the products both ways: the first layer's
//! product writes GELU(h) and h = x W₁ + b₁, and the second layer's backward product for its
//! input multiplies by GELU'(h), giving the first layer the gradient of h directly. Built as a
//! linear layer, our GELU and a linear layer, the GELU was a dispatch each way of its own.
//!
//! For projections without adapters (full fine-tuning, and LoRA runs that leave the MLP frozen);
//! an adapted MLP goes through `lora::Projection` and `ops::gelu` as before.

mod autodiff;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;

use super::linear::LinearKernels;

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait MlpOps: Backend {
    /// x (rows, d), W₁ (d, d_ff), b₁ (d_ff), W₂ (d_ff, d), b₂ (d), r (rows, d) → (rows, d).
    /// (Tensors one by one: the backend-extension macro passes no arrays of them.)
    fn mlp_onto(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// The forward pass on a backend without autodiff, from its linear kernels.
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

impl MlpOps for Flex {
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
}

#[cfg(feature = "wgpu")]
impl MlpOps for burn::backend::wgpu::CubeBackend {
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
