//! Where each of our tensors lives in GPT-2's `transformers` layout.
//!
//! GPT-2 keeps q, k and v as one fused `Conv1D` (`attn.c_attn`, `[d, 3d]`, q then k then v along
//! its output), the attention output as `attn.c_proj` and the MLP as `mlp.c_fc` / `mlp.c_proj`.

use crate::lora::Target;

/// The GPT-2 module a projection belongs to, and its slot in the fused q/k/v output (`None` for
/// a module of its own).
pub fn module(target: Target) -> (&'static str, Option<usize>) {
    match target {
        Target::Q => ("attn.c_attn", Some(0)),
        Target::K => ("attn.c_attn", Some(1)),
        Target::V => ("attn.c_attn", Some(2)),
        Target::O => ("attn.c_proj", None),
        Target::Fc => ("mlp.c_fc", None),
        Target::Proj => ("mlp.c_proj", None),
    }
}

/// GPT-2's modules in the order a block runs them, with the projections each holds.
pub const MODULES: [(&str, &[Target]); 4] = [
    ("attn.c_attn", &[Target::Q, Target::K, Target::V]),
    ("attn.c_proj", &[Target::O]),
    ("mlp.c_fc", &[Target::Fc]),
    ("mlp.c_proj", &[Target::Proj]),
];

/// The projections GPT-2's module `name` (one of `MODULES`) holds.
pub fn members(name: &str) -> &'static [Target] {
    MODULES.iter().find(|(n, _)| *n == name).map_or(&[], |(_, members)| *members)
}

/// Our path of a projection in block `layer`: `blocks.0.attn.q`.
pub fn ours(layer: usize, target: Target) -> String {
    let group = if matches!(target, Target::Fc | Target::Proj) { "mlp" } else { "attn" };
    format!("blocks.{layer}.{group}.{}", target.name())
}

/// The prefix of block `layer` in a `GPT2LMHeadModel`'s state dict.
pub fn block(layer: usize) -> String {
    format!("transformer.h.{layer}")
}

/// The prefix PEFT puts before a model's own names when it saves an adapter.
pub const PEFT_PREFIX: &str = "base_model.model.";
