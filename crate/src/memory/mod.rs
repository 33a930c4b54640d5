//! The memory model: how many bytes fine-tuning and serving take, fully or through LoRA, from
//! our tiny model up to GPT-3 175B. Pure arithmetic (std + serde, no burn, no GPU), shared by
//! the CLI, the browser (as JSON: `web/`) and the tests.
//!
//! Every term is a named function with its formula and its source:
//! - `crate::shape` (outside, as the model is built from it too): the exact parameter count of
//!   our GPT, and the presets (micro, tiny, bert-large, gpt3-175b).
//! - `crate::lora` (outside too, the same types the model is built from): full fine-tuning vs
//!   LoRA adapters on chosen projections, and an adapter's parameter count (`lora/spec.rs`).
//! - `training`: weights, gradients, optimizer state, activations.
//! - `tenants`: checkpoints, storage and serving for many fine-tuned models, cold loads.
//! - `question`: `ScaleQuestion`, the question as the CLI and the page ask it (a preset's
//!   name, what is left out takes the defaults both show), resolved into
//! - `input`: `ScaleInput`, the question checked (model, mode, precision, batch, tenants, bandwidth).
//! - `estimate`: one `ScaleInput` → one `Report` with every figure and its formula.
//! - `table`: decimal units and a readable table.
//!
//! Byte counts are u64 (GPT-3 figures overflow u32). JS receives them through JSON (`web/`) as
//! plain numbers: exact below 2^53 B ≈ 9 PB, the nearest double above (GPT-3 × 100,000 copies),
//! as any JSON reader of `finetune-lab scale --json` sees them.

pub mod estimate;
pub mod input;
pub mod question;
pub mod table;
pub mod tenants;
pub mod training;

pub use estimate::{Report, Term, estimate};
pub use input::ScaleInput;
pub use question::{ScaleDefaults, ScaleQuestion, scale_defaults};
pub use table::{format_bytes, format_int, format_report, format_seconds};
pub use tenants::{Bandwidth, NETWORK_BYTES_PER_S, NVME_BYTES_PER_S, PCIE_BYTES_PER_S};
pub use training::{LORA_PAPER_VRAM_CLAIM, Precision, PublishedClaim, activations_korthikanti};
