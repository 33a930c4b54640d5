//! LoRA (Hu et al. 2021, arXiv 2106.09685): a frozen projection W plus a trained low-rank
//! ΔW = B·A, so a fine-tuning is a few kilobytes instead of a model.
//! - `spec`: what is trained (`Mode`: the whole model, or an `AdapterSpec`: rank, α and the
//!   `Target` projections) and how many parameters that is. Plain data, no burn: the memory
//!   model counts from the same types the model is built from.
//! - `projection`: `Projection`, the linear layer that may carry an adapter, on burn's tensors,
//!   trained, merged into W, or serving many tenants' adapters in one batch (`Tenants`).

pub mod projection;
pub mod spec;

pub use projection::{Projection, Tenants};
pub use spec::{
    AdapterSpec, DEFAULT_RANK, DEFAULT_TARGETS, Mode, TARGETS_SYNTAX, Target, adapter_params, default_alpha, max_rank,
    parse_targets,
};
