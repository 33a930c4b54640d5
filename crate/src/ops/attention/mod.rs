//! Causal self-attention's core as an operation of ours: for q, k, v of shape (B, T, C) split
//! into `heads` heads of hs = C / heads channels,
//!   y_i = Σ_{j ≤ i} softmax_j(q_i · k_j / sqrt(hs)) v_j      per head, y in (B, T, C).
//! burn runs it as a split into heads, transposes, a T × T score matrix, a mask and a softmax
//! chain, about twenty kernels forward and forty backward; ours reads and writes the (B, T, C)
//! layout directly, in one kernel forward (`shaders/attention.wgsl`) and two backward. The
//! forward pass keeps each row's log-sum-exp, and the backward pass recomputes the softmax from
//! it rather than keeping the scores (as FlashAttention does, Dao et al. 2022).
//!
//! `AttentionKernels` run on a concrete backend (`cpu.rs`: strided matrix products through
//! the `gemm` crate burn's CPU backend uses; `gpu.rs`: WGSL); `AttentionOps` is the
//! differentiable operation the model calls (`autodiff.rs`).

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

/// The kernels on one backend, without autodiff; q, k, v, y and their gradients are (B, T, C),
/// `lse` is (B, heads, T).
pub trait AttentionKernels: Backend {
    /// (y, lse).
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// (dq, dk, dv) from dy.
    #[allow(clippy::too_many_arguments)]
    fn attention_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        y: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait AttentionOps: Backend {
    fn causal_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self>;
}

/// Causal multi-head attention of (B, T, C) projections, `heads` heads: (B, T, C).
pub fn causal_attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as AttentionOps>::causal_attention(
        q.into_dispatch(),
        k.into_dispatch(),
        v.into_dispatch(),
        heads,
    ))
}

/// (B, T, C, hs) of a (B, T, C) input, checked against the head count.
pub fn dims(shape: &[usize], heads: usize) -> (usize, usize, usize, usize) {
    let [b, t, c] = shape else { panic!("attention takes (B, T, C) tensors, got {shape:?}") };
    assert!(heads > 0 && c % heads == 0, "{c} channels do not split into {heads} heads");
    (*b, *t, *c, c / heads)
}
