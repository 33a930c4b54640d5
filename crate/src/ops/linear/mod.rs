//! A linear layer as an operation of ours: `y = x W + b` for x (..., d_in), W (d_in, d_out),
//! b (d_out), and its backward pass `dx = dy Wᵀ`, `dW = xᵀ dy`, `db = Σ_rows dy`.
//!
//! On the GPU every product is `shaders/matmul.wgsl`: the bias joins the forward product and
//! the bias's gradient joins the weight's, so a layer is one dispatch forward and two backward
//! (one when its weights are frozen). burn's matrix product keeps tiles in workgroup memory
//! behind barriers, which software WebGPU runs slowest of all (see the shader). On the CPU the
//! products are `gemm` on strided views (`ops::gemm`), as burn's CPU backend computes them.

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
pub(crate) mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

/// The kernels on one backend, without autodiff; x and dy are 2-D: (rows, d_in), (rows, d_out).
pub trait LinearKernels: Backend {
    /// `x W (+ b)`.
    fn linear_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
    ) -> FloatTensor<Self>;

    /// `dy Wᵀ`.
    fn linear_backward_input(dy: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;

    /// (`xᵀ dy`, `Σ_rows dy`).
    fn linear_backward_weight(x: FloatTensor<Self>, dy: FloatTensor<Self>) -> (FloatTensor<Self>, FloatTensor<Self>);
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait LinearOps: Backend {
    /// x (rows, d_in) → (rows, d_out).
    fn linear_biased(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self>;

    /// x (rows, d_in) → (rows, d_out), no bias.
    fn linear_unbiased(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// `x W + b` over the last dimension of x: (..., d_in) → (..., d_out).
pub fn linear<const D: usize>(x: Tensor<D>, weight: Tensor<2>, bias: Option<Tensor<1>>) -> Tensor<D> {
    let mut dims = x.dims();
    let d_in = dims[D - 1];
    dims[D - 1] = weight.dims()[1];
    let rows = x.shape().num_elements() / d_in.max(1);
    let x = x.reshape([rows, d_in]).into_dispatch();
    let y = match bias {
        Some(bias) => <Dispatch as LinearOps>::linear_biased(x, weight.into_dispatch(), bias.into_dispatch()),
        None => <Dispatch as LinearOps>::linear_unbiased(x, weight.into_dispatch()),
    };
    Tensor::<2>::from_dispatch(y).reshape(dims)
}
