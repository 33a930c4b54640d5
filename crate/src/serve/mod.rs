//! Many tenants on one base: each tenant's fine-tuning is an adapter file of kilobytes, and one
//! resident base model serves them all, every row of a batch through its own tenant's adapter
//! (Punica, S-LoRA and LoRAX do this on CUDA servers; here it is the same idea at tiny scale).
//!
//! `adapter_stacks.rs` turns adapter files into the per-projection stacks our BGMV operation
//! reads (`ops::lora_bgmv`); `batch.rs` serves many requests together in one batch from them,
//! keeping each row's keys and values between characters (`kv_cache.rs`);
//! `three_ways.rs` serves the same requests together, one at a time and as merged copies, and
//! measures each; `limits.rs` holds the rows and characters a batch may have.

mod adapter_stacks;
mod batch;
mod kv_cache;
pub mod limits;
mod three_ways;

pub use adapter_stacks::TenantStacks;
pub use batch::{Request, ServingBatch};
pub use three_ways::{ServeReport, Swap, Way, serve_three_ways};
