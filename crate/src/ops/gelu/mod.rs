//! GELU (the exact, erf form) as an operation of our own: a vectorised kernel on the CPU, a WGSL one on the GPU.
//!
//! burn's CPU backend evaluates GELU and its derivative one element at a time through libm's
//! `erff` and `expf`: about a fifth of a training step of the tiny model, in `perf`.
//! `math.rs` computes the same function in a form the compiler vectorises; `cpu.rs` runs it on
//! burn's CPU backend, `gpu.rs` on the GPU (`shaders/gelu.wgsl`, the same erf: burn's GPU
//! backward is the tanh approximation's derivative), and `autodiff.rs` gives it a backward pass.
//! The trait's default bodies are burn's own operations, the reference the tests compare with.

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;
pub mod math;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

/// Backends that run GELU through us. The defaults are burn's own operations.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait GeluOps: Backend {
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu(x)
    }

    /// `grad` · GELU'(`x`).
    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::gelu_backward(x, grad)
    }
}

/// GELU(x) = x · Φ(x), differentiable, on whichever device `x` lives.
pub fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as GeluOps>::exact_gelu(x.into_dispatch()))
}
