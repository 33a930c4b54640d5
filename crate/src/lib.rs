//! finetune-lab: a tiny GPT that fine-tunes fully or through LoRA adapters, natively or in the
//! browser on WebGPU, and the memory model that scales its figures to GPT-3 and N tenants.

pub mod checkpoint;
pub mod data;
pub mod generate;
pub mod init;
pub mod lora;
pub mod measure;
pub mod median;
pub mod memory;
pub mod model;
pub mod ops;
pub mod optimizer;
pub mod readback;
pub mod rng;
pub mod run;
pub mod serve;
pub mod shape;
pub mod tokenizer;

#[cfg(target_family = "wasm")]
pub mod web;

/// The page's CPU path keeps its tensors on the wasm heap: count it (`measure::heap`).
#[cfg(target_family = "wasm")]
#[global_allocator]
static HEAP: measure::heap::Counting<std::alloc::System> = measure::heap::Counting(std::alloc::System);
