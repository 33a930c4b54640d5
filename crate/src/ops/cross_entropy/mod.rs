//! Mean cross-entropy of next-token logits as an operation of ours:
//! `loss = mean_r (log Σ_j exp(logits_rj) − logits_r,target_r)`, what burn's
//! `CrossEntropyLoss` computes through a log-softmax, a gather and a mean (about eight kernels
//! forward, more backward). Ours is one kernel each way (`shaders/cross_entropy*.wgsl`); the
//! forward pass keeps each row's log-sum-exp for the backward one.

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::{Int, Tensor};

/// The kernels on one backend, without autodiff: logits (rows, vocab), targets (rows).
pub trait CrossEntropyKernels: Backend {
    /// (loss of shape [1], each row's log-sum-exp).
    fn cross_entropy_forward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// The logits' gradient, given the loss's gradient `grad` (shape [1]).
    fn cross_entropy_backward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait CrossEntropyOps: Backend {
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self>;
}

/// Mean cross-entropy of `logits` (rows, vocab) against `targets` (rows): shape [1].
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as CrossEntropyOps>::cross_entropy(logits.into_dispatch(), targets.into_dispatch()))
}
