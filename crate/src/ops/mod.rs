//! Operations of our own, where burn's op-by-op kernels cost a training step most.
//!
//! At this model's size a step on the GPU is bound by the number of kernel launches, not by
//! arithmetic: burn runs a LayerNorm, a softmax or an AdamW update as a chain of small
//! elementwise kernels. Each operation here is one or two launches of a WGSL kernel of ours
//! (`shaders/` at the repository's top level, loaded by `shader.rs`, launched by `wgsl.rs`) on
//! burn's wgpu backend, and a Rust implementation of the same maths on burn's CPU backend, so the
//! CPU path and the GPU path run one training loop and one model. Each is a burn backend
//! extension (`#[backend_extension]`) with, where it is differentiable, its own backward pass.
//!
//! Each operation's folder holds the same files (GELU's also `math.rs`, its maths in a form the
//! compiler vectorises; the two halves of a block, `attention_block` and `mlp`, only `mod.rs`
//! and `autodiff.rs`, as they run the other operations' kernels on both backends, with what
//! they share in `branch.rs`):
//! - `mod.rs`: the operation as the model calls it, and its trait, the backend extension;
//! - `gpu.rs`: its launch on burn's wgpu backend (`CubeBackend`), built with the `wgpu` feature;
//! - `cpu.rs`: its twin in Rust on burn's CPU backend (`Flex`);
//! - `autodiff.rs`, where it is differentiable: its backward pass on burn's `Autodiff`.
//!
//! Beside them, `check.rs` holds every operation against burn's own ops; `gemm.rs` and `host.rs`
//! serve the CPU twins (matrix products on strided views, tensors as slices); `kernel_form.rs`
//! chooses between the GPU kernels written for software WebGPU and those for hardware GPUs.

/// How far apart, in f32 values, tensors packed into one buffer start: 256 bytes, WebGPU's
/// default storage-binding offset alignment and the largest it lets a device require, so each
/// can be bound on its own as a view (an AdamW group's parameters; q, k and v side by side).
pub const VIEW_ALIGN: usize = 64;

pub mod adamw;
pub mod attention;
pub mod attention_block;
pub mod branch;
pub mod check;
pub mod cross_entropy;
pub mod embedding;
pub mod gelu;
pub mod gemm;
mod host;
pub mod kernel_form;
pub mod layer_norm;
pub mod linear;
pub mod lora_bgmv;
pub mod lora_linear;
pub mod mlp;
pub mod shader;

#[cfg(feature = "wgpu")]
mod wgsl;
