//! Measuring memory, to hold it against the memory model's prediction:
//! - `samples`: what the device holds, sampled at the phases of a training step (burn's memory
//!   pool on a GPU, else the heap), and the per-category figures derived from the samples.
//! - `heap`: a counting global allocator, the heap's live and peak bytes, where burn's CPU
//!   backend keeps its tensors; the wasm module, the CLI and some tests install it.

pub mod heap;
pub mod samples;

pub use samples::{MeasuredMemory, PoolSnapshot, Source, StepSamples, bytes_in_use, snapshot};
