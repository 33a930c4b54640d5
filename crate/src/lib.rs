//! finetune-lab: a tiny GPT that fine-tunes fully or through LoRA adapters, natively or in the
//! browser on WebGPU, and the memory model that scales its figures to GPT-3 and N tenants.
//!
//! The model and what it is made of stand at the root; each folder is a group whose `mod.rs`
//! says what it holds.

// The decoder-only GPT, read bottom-up: attention, MLP, block, model.
pub mod model;
// Its shape and exact parameter count, and the presets up to GPT-3 175B.
pub mod shape;
// Seeded parameter initialisation, the same model on every backend.
pub mod init;
// Characters to token ids and back: 97 ids, any UTF-8 in.
pub mod tokenizer;
// LoRA: what is trained, as plain data, and the projection that carries an adapter.
pub mod lora;
// Our operations: each a WGSL kernel on the GPU, its Rust twin on the CPU, its backward pass.
pub mod ops;
// AdamW over the whole model, each tensor's gradient clipped, in one fused step.
pub mod optimizer;
// The `.ftlab` file: tensors by module path under a JSON header.
pub mod checkpoint;
// Hugging Face's formats: a model for transformers, an adapter for PEFT, and PEFT's back.
pub mod hf;
// The .zip an export travels in, and the reader's own read back, hostile input included.
pub mod zip;
// Text to learn from: the generated corpus, the built-in tasks, the user's own text.
pub mod data;

// One fine-tuning run: its settings checked, its time budget, the run, the loop, the report.
pub mod run;
// Sampling text from the model, one character at a time.
pub mod generate;
// Many tenants' adapters served on one base.
pub mod serve;
// The memory model: what fine-tuning and serving take, pure arithmetic up to GPT-3.
pub mod memory;
// Measuring memory: burn's pool on a GPU, a counting allocator on the CPU.
pub mod measure;
// Opening burn's wgpu runtime: how much of a step it sends the GPU at once.
#[cfg(feature = "wgpu")]
pub mod gpu;

// SplitMix64: every generated text, batch order and initial weight from one seed.
pub mod rng;
// The median every timing reports.
pub mod median;
// Reading tensors back to the host, always async: a synchronous read panics on WebGPU.
pub mod readback;

// The WebAssembly boundary, and the only one; what it answers with compiles everywhere, so its
// TypeScript is generated and the page is checked against it.
pub mod web;

/// The page's CPU path keeps its tensors on the wasm heap: count it (`measure::heap`).
#[cfg(target_family = "wasm")]
#[global_allocator]
static HEAP: measure::heap::Counting<std::alloc::System> = measure::heap::Counting(std::alloc::System);
