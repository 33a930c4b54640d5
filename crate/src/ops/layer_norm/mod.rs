//! LayerNorm over the last dimension (Ba et al. 2016) as an operation of ours:
//! `y = (x − mean) / sqrt(var + ε) · γ + β`, mean and biased variance over the last dimension,
//! as burn's `LayerNorm` computes it. burn runs it as about eight kernels forward and twenty
//! backward; ours is one kernel forward (`shaders/layer_norm.wgsl`) and one backward, for the
//! input's gradient and, unless they are frozen (an adapter run), γ and β's.
//!
//! `LayerNormKernels` are the two kernels on a concrete backend (`cpu.rs` in Rust, `gpu.rs`
//! in WGSL); `LayerNormOps` is the differentiable operation the model calls (`autodiff.rs`).

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::module::{Module, Param};
use burn::tensor::Tensor;

/// Added to the variance: burn's and PyTorch's default, which the references in bench/ use.
pub const EPSILON: f32 = 1e-5;

/// Adapters whose x A the forward kernel writes with y: two fill WebGPU's default eight storage
/// buffers with the LayerNorm's own five and the one x A is written to.
pub const ADAPTERS_READING: usize = 2;

/// The kernels on one backend, without autodiff. `stats` holds each row's (mean, rstd), rstd =
/// 1 / sqrt(var + ε), as `rows × 2` values.
pub trait LayerNormKernels: Backend {
    /// (y, stats, y A for each A of `adapters`, or for none) for x: (..., d), γ and β: (d), each A
    /// (d, r), at most `ADAPTERS_READING` of them: the first products of LoRA adapters that read
    /// y, which a hardware GPU writes with y rather than in a dispatch of each adapter's own.
    /// Elsewhere none comes back, and each adapted layer computes its own.
    fn layer_norm_forward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
        adapters: &[FloatTensor<Self>],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, Vec<FloatTensor<Self>>);

    /// dx from dy, `rstd · (g − mean(g) − x̂ · mean(g · x̂))` per row with g = dy · γ (plus
    /// `plus`, the gradient reaching x by a residual path, when given), and when `params` (γ
    /// and β train) also (dγ, dβ) = (Σ_rows dy · x̂, Σ_rows dy).
    #[allow(clippy::type_complexity)]
    fn layer_norm_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        params: bool,
        plus: Option<FloatTensor<Self>>,
    ) -> (FloatTensor<Self>, Option<(FloatTensor<Self>, FloatTensor<Self>)>);
}

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait LayerNormOps: Backend {
    fn layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self>;
}

/// A LayerNorm's parameters: scale γ and shift β, each (d).
#[derive(Module, Debug)]
pub struct LayerNorm {
    pub gamma: Param<Tensor<1>>,
    pub beta: Param<Tensor<1>>,
}

impl LayerNorm {
    /// `x`: (..., d) → (..., d), differentiable in x, γ and β.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        Tensor::from_dispatch(<Dispatch as LayerNormOps>::layer_norm(
            x.into_dispatch(),
            self.gamma.val().into_dispatch(),
            self.beta.val().into_dispatch(),
            EPSILON,
        ))
    }
}
