//! Many tenants on one base: each tenant's fine-tuning is an adapter file of kilobytes, and one
//! resident base model serves them all, every row of a batch through its own tenant's adapter
//! (Punica, S-LoRA and LoRAX do this on CUDA servers; here it is the same idea at tiny scale).
//!
//! `stacks.rs` turns adapter files into the per-projection stacks our BGMV operation reads
//! (`ops::lora_bgmv`); `together.rs` generates text for many requests at once from them,
//! keeping each row's keys and values between characters (`kv_cache.rs`);
//! `ways.rs` measures serving together against one at a time and against merged copies;
//! `limits.rs` holds the rows and characters a batch may have.

mod kv_cache;
pub mod limits;
mod stacks;
mod together;
mod ways;

pub use stacks::TenantStacks;
pub use together::{Request, Together};
pub use ways::{ServeReport, Swap, Way, serve_three_ways};
