//! Operations of our own, where burn's op-by-op kernels cost a training step most.
//!
//! At this model's size a step on the GPU is bound by the number of kernel launches, not by
//! arithmetic: burn runs a LayerNorm, a softmax or an AdamW update as a chain of small
//! elementwise kernels. Each operation here is one or two launches of a WGSL kernel of ours
//! (`shaders/` at the repository's top level, loaded by `shader.rs`, launched by `wgsl.rs`) on
//! burn's wgpu backend, and a Rust implementation of the same maths on burn's CPU backend, so the
//! CPU path and the GPU path run one training loop and one model. Each is a burn backend
//! extension (`#[backend_extension]`) with, where it is differentiable, its own backward pass.

pub mod adamw;
pub mod attention;
pub mod check;
pub mod cross_entropy;
pub mod gelu;
pub mod gemm;
mod host;
pub mod layer_norm;
pub mod linear;
pub mod lora_bgmv;
pub mod shader;

#[cfg(feature = "wgpu")]
mod wgsl;
