//! A projection that carries a LoRA adapter (Hu et al. 2021), as one operation of ours:
//!   y = x W + b + s · (x A) B
//! (or `r + ...` for the projection that ends a residual branch, r taking dy as its gradient)
//! with W and b frozen, as LoRA keeps them, and its backward pass for x, A and B:
//!   dB = s · (x A)ᵀ dy,   d(x A) = s · dy Bᵀ,   dA = xᵀ d(x A),   dx = dy Wᵀ + d(x A) Aᵀ.
//!
//! Built from linear layers, a scale and two sums, an adapted projection took five dispatches
//! forward and seven backward; here it takes two forward (x A, then both products and the bias
//! into y; only the second where a LayerNorm before it wrote x A, on a hardware GPU) and four
//! backward (three when x takes no gradient; one fewer on a hardware GPU, whose tiled kernel
//! writes dB and d(x A) from one dispatch), with `shaders/matmul.wgsl`'s second product adding
//! the adapter's path into the base's. Adapters on layers of one input (a block's q, k and v) run
//! each of their own products once for all of them on a software adapter (`lows_side_by_side`,
//! `lora_three_backward`: `shaders/lora_side_by_side.wgsl`). On the CPU the same products are
//! `gemm` calls that accumulate into one output.

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use crate::ops::linear::InputGradient;

/// The kernels on one backend, without autodiff; x and dy are 2-D: (rows, d_in), (rows, d_out);
/// W (d_in, d_out), b (d_out), A (d_in, r), B (r, d_out).
pub trait LoraKernels: Backend {
    /// (x A, x W + b + s · (x A) B (+ r)): the first is kept for the backward pass, and is
    /// `low` where the kernel before wrote it (`ops::layer_norm`'s forward).
    #[allow(clippy::too_many_arguments)]
    fn lora_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        residual: Option<FloatTensor<Self>>,
        low: Option<FloatTensor<Self>>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// (x A, GELU(h), h) for h = x W + b + s · (x A) B: an adapted first layer of the MLP, x A
    /// given as for `lora_forward`.
    fn lora_gelu_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        low: Option<FloatTensor<Self>>,
    ) -> [FloatTensor<Self>; 3];

    /// (dx when `input_gradient`, going on as `onward` says, dA, dB), given x, `low` = x A and
    /// dy.
    #[allow(clippy::too_many_arguments)]
    fn lora_backward(
        x: FloatTensor<Self>,
        low: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        dy: FloatTensor<Self>,
        input_gradient: bool,
        onward: InputGradient<FloatTensor<Self>>,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>, FloatTensor<Self>);

    /// x A for adapters of one rank on layers of one input x (a block's q, k and v), in one
    /// dispatch where the backend has a kernel that runs them side by side; None to leave each
    /// to its layer's `lora_forward`.
    fn lows_side_by_side(_x: FloatTensor<Self>, _a: &[FloatTensor<Self>]) -> Option<Vec<FloatTensor<Self>>> {
        None
    }

    /// The backward pass of three frozen layers of one input x (q, k, v), `adapters[s]` = ((x A,
    /// A, B), scale) where layer s is adapted, all of one rank, with each kind of product run
    /// once for every adapter where the backend can: (dx when `input`, each adapter's (dA, dB)).
    /// None to run each layer's `lora_backward` or `linear_backward` instead.
    fn lora_three_backward(
        _x: FloatTensor<Self>,
        _weights: [FloatTensor<Self>; 3],
        _adapters: [Option<([FloatTensor<Self>; 3], f32)>; 3],
        _dys: [FloatTensor<Self>; 3],
        _input: bool,
    ) -> Option<ThreeAdapted<Self>> {
        None
    }
}

/// What `lora_three_backward` returns: the input's gradient when asked for, and each adapted
/// layer's (dA, dB).
pub type ThreeAdapted<B> = (Option<FloatTensor<B>>, [Option<(FloatTensor<B>, FloatTensor<B>)>; 3]);

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait LoraOps: Backend {
    /// x (rows, d_in) → (rows, d_out); gradients reach x, A and B only.
    fn lora_projection(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self>;

    /// r + the same, r (rows, d_out); r takes dy as its gradient.
    fn lora_projection_onto(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// `x W + b + scale · (x A) B` over the last dimension of x: (..., d_in) → (..., d_out). W and
/// b take no gradient here: call it only with a frozen base (`Projection::forward` checks).
pub fn lora_projection<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    a: Tensor<2>,
    b: Tensor<2>,
    scale: f32,
) -> Tensor<D> {
    let mut dims = x.dims();
    let d_in = dims[D - 1];
    dims[D - 1] = weight.dims()[1];
    let rows = x.shape().num_elements() / d_in.max(1);
    let y = <Dispatch as LoraOps>::lora_projection(
        x.reshape([rows, d_in]).into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        a.into_dispatch(),
        b.into_dispatch(),
        scale,
    );
    Tensor::<2>::from_dispatch(y).reshape(dims)
}

/// `residual + lora_projection(...)`, the residual (..., d_out) summed in the product: an
/// adapted projection that ends a block's residual branch.
pub fn lora_projection_onto<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Tensor<1>,
    a: Tensor<2>,
    b: Tensor<2>,
    scale: f32,
    residual: Tensor<D>,
) -> Tensor<D> {
    let dims = residual.dims();
    let d_in = x.dims()[D - 1];
    let rows = x.shape().num_elements() / d_in.max(1);
    let d_out = weight.dims()[1];
    let y = <Dispatch as LoraOps>::lora_projection_onto(
        x.reshape([rows, d_in]).into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        a.into_dispatch(),
        b.into_dispatch(),
        scale,
        residual.reshape([rows, d_out]).into_dispatch(),
    );
    Tensor::<2>::from_dispatch(y).reshape(dims)
}
