//! Token and position embeddings as an operation of ours: `x[b, t] = tok[ids[b, t]] + pos[t]`
//! for ids (B, T), tok (vocab, C), pos (context, C), and its backward pass: a token row's
//! gradient is the sum of dx over the places the token occurs, a position's the sum over the
//! batch. burn runs two gathers, an add and an index copy forward and a fill and a scatter per
//! table backward; ours is one kernel each way (`shaders/embedding*.wgsl`).

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::{Int, Tensor};

/// The backward kernel on one backend, without autodiff: ids (B, T), dx (B · T, C).
pub trait EmbeddingKernels: Backend {
    /// (the token table's gradient (vocab, C), the position table's (context, C)).
    fn embed_backward(
        ids: IntTensor<Self>,
        dx: FloatTensor<Self>,
        vocab: usize,
        context: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait EmbeddingOps: Backend {
    /// ids (B, T) → (B · T, C).
    fn embed(ids: IntTensor<Self>, tok: FloatTensor<Self>, pos: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// Each token's embedding plus its position's: ids (B, T) → (B, T, C). T must not exceed the
/// position table's rows.
pub fn embed(ids: Tensor<2, Int>, tok: Tensor<2>, pos: Tensor<2>) -> Tensor<3> {
    let ([b, t], [context, c]) = (ids.dims(), pos.dims());
    assert!(t <= context, "{t} tokens a sequence, past the {context} positions the table holds");
    let x = <Dispatch as EmbeddingOps>::embed(ids.into_dispatch(), tok.into_dispatch(), pos.into_dispatch());
    Tensor::<2>::from_dispatch(x).reshape([b, t, c])
}
