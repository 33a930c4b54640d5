//! What is trained: the whole model, or LoRA adapters on some projections of every block.
//!
//! LoRA (Hu et al. 2021, arXiv 2106.09685 §4.1): a frozen W (in→out) gets ΔW = B·A with
//! A: in×r and B: r×out, so r·(in + out) trainable params per adapted projection.

use serde::{Deserialize, Serialize};

use crate::shape::ModelShape;

/// A projection of a block that can carry an adapter. JSON: "q", "k", "v", "o", "fc", "proj".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Q,
    K,
    V,
    O,
    Fc,
    Proj,
}

impl Target {
    pub const ALL: [Target; 6] = [Target::Q, Target::K, Target::V, Target::O, Target::Fc, Target::Proj];

    pub fn name(self) -> &'static str {
        match self {
            Target::Q => "q",
            Target::K => "k",
            Target::V => "v",
            Target::O => "o",
            Target::Fc => "fc",
            Target::Proj => "proj",
        }
    }

    /// (in, out) of the projection: attention is d→d, fc d→d_ff, proj d_ff→d.
    pub fn dims(self, s: &ModelShape) -> (usize, usize) {
        match self {
            Target::Q | Target::K | Target::V | Target::O => (s.d_model, s.d_model),
            Target::Fc => (s.d_model, s.d_ff),
            Target::Proj => (s.d_ff, s.d_model),
        }
    }
}

/// The LoRA paper's default and ours: r = 4 on Wq and Wv (Hu et al. 2021 §4.2, §7.1).
pub const DEFAULT_RANK: usize = 4;
pub const DEFAULT_TARGETS: [Target; 2] = [Target::Q, Target::V];

/// The largest useful rank on `shape`: the narrowest projection's width (past it, B·A has no
/// more rank to give, only more parameters).
pub fn max_rank(shape: &ModelShape) -> usize {
    Target::ALL.iter().map(|t| t.dims(shape).0.min(t.dims(shape).1)).min().unwrap_or(0)
}

/// What `parse_targets` reads, for its refusals and for a flag's help.
pub const TARGETS_SYNTAX: &str = "a comma list of q, k, v, o, fc, proj, or `attn` or `all`";

/// "q,v" (default), "attn" = q,k,v,o, "all" = every projection, or a comma list ("q,k,fc").
/// Returns the targets once each, in block order.
pub fn parse_targets(text: &str) -> Result<Vec<Target>, String> {
    let mut out = match text.trim() {
        "attn" => vec![Target::Q, Target::K, Target::V, Target::O],
        "all" => Target::ALL.to_vec(),
        list => list
            .split(',')
            .map(|t| match t.trim() {
                "q" => Ok(Target::Q),
                "k" => Ok(Target::K),
                "v" => Ok(Target::V),
                "o" => Ok(Target::O),
                "fc" => Ok(Target::Fc),
                "proj" => Ok(Target::Proj),
                other => Err(format!("unknown LoRA target `{other}`: expected {TARGETS_SYNTAX}")),
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// JSON (internally tagged by "mode"; `ScaleInput` flattens it into its own object):
/// `{"mode":"full"}` or `{"mode":"adapter","rank":4,"targets":["q","v"]}` (+ optional "alpha").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Mode {
    Full,
    Adapter {
        rank: usize,
        /// LoRA scale α (ΔW is multiplied by α/r). Memory does not depend on it; None = the
        /// trainer's default.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        alpha: Option<f32>,
        targets: Vec<Target>,
    },
}

impl Mode {
    pub fn adapter(rank: usize, targets: &[Target]) -> Self {
        Mode::Adapter { rank, alpha: None, targets: targets.to_vec() }
    }

    /// The adapter this mode trains, or the default one (r=4 on q,v) a full run is compared with.
    pub fn adapter_or_default(&self) -> (usize, &[Target]) {
        match self {
            Mode::Adapter { rank, targets, .. } => (*rank, targets),
            Mode::Full => (DEFAULT_RANK, &DEFAULT_TARGETS),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let Mode::Adapter { rank, targets, .. } = self else {
            return Ok(());
        };
        if *rank == 0 {
            return Err("adapter rank must be > 0".to_string());
        }
        if targets.is_empty() {
            return Err("adapter needs at least one target (q, k, v, o, fc, proj)".to_string());
        }
        let mut sorted = targets.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() != targets.len() {
            return Err("adapter targets must not repeat".to_string());
        }
        Ok(())
    }
}

impl Mode {
    /// A mode from its name and, for `adapter`, the rank, α and targets given (None: not given,
    /// so r = 4 on q,v and the trainer's α). The one place a mode is read, for the CLI's flags
    /// (`finetune`, `scale`) and the page's options alike.
    pub fn from_parts(
        name: &str,
        rank: Option<usize>,
        alpha: Option<f32>,
        targets: Option<&str>,
    ) -> Result<Mode, String> {
        match name.trim() {
            "full" if rank.is_some() || alpha.is_some() || targets.is_some() => {
                Err("rank, alpha and targets are for adapter runs: drop them, or choose mode adapter".into())
            }
            "full" => Ok(Mode::Full),
            "adapter" => Ok(Mode::Adapter {
                rank: rank.unwrap_or(DEFAULT_RANK),
                alpha,
                targets: targets.map_or(Ok(DEFAULT_TARGETS.to_vec()), parse_targets)?,
            }),
            other => Err(format!("mode must be full or adapter, got `{other}`")),
        }
    }
}

/// Trainable adapter params: layers · Σ_targets r·(in + out) (Hu et al. 2021 §4.1).
pub fn adapter_params(s: &ModelShape, rank: usize, targets: &[Target]) -> u64 {
    let per_layer: u64 = targets
        .iter()
        .map(|t| {
            let (i, o) = t.dims(s);
            rank as u64 * (i + o) as u64
        })
        .sum();
    s.layers as u64 * per_layer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lora_paper_gpt3_counts() {
        let g = ModelShape::gpt3_175b();
        let qv = parse_targets("q,v").unwrap();
        // §4.2: r=4 on Wq, Wv: 96 · 2 · 4 · (12288 + 12288).
        assert_eq!(adapter_params(&g, 4, &qv), 18_874_368);
        // Table 4: 4.7M (r=1) and 37.7M (r=8).
        assert_eq!(adapter_params(&g, 1, &qv), 4_718_592);
        assert_eq!(adapter_params(&g, 8, &qv), 37_748_736);
    }

    #[test]
    fn tiny_adapter_is_under_3_percent() {
        let t = ModelShape::tiny();
        let n = adapter_params(&t, 4, &DEFAULT_TARGETS);
        assert_eq!(n, 4 * 2 * 4 * (128 + 128));
        assert_eq!(n, 8192);
        assert!((n as f64) / ((t.param_count() + n) as f64) <= 0.03);
    }

    #[test]
    fn mlp_targets_use_d_ff() {
        let t = ModelShape::tiny();
        // fc 128→512 and proj 512→128: 2 · 4 · 640 per layer.
        assert_eq!(adapter_params(&t, 4, &[Target::Fc, Target::Proj]), 4 * 2 * 4 * 640);
    }

    #[test]
    fn parse_target_sets() {
        assert_eq!(parse_targets("q,v").unwrap(), DEFAULT_TARGETS);
        assert_eq!(parse_targets(" v , q ,v").unwrap(), DEFAULT_TARGETS);
        assert_eq!(parse_targets("attn").unwrap().len(), 4);
        assert_eq!(parse_targets("all").unwrap(), Target::ALL);
        let err = parse_targets("q,x").unwrap_err();
        assert!(err.contains("unknown LoRA target `x`"), "{err}");
        assert!(parse_targets("").is_err());
    }

    #[test]
    fn parse_mode_and_validate() {
        assert_eq!(Mode::from_parts("full", None, None, None).unwrap(), Mode::Full);
        assert_eq!(Mode::from_parts(" adapter", None, None, None).unwrap(), Mode::adapter(4, &DEFAULT_TARGETS));
        assert_eq!(
            Mode::from_parts("adapter", Some(8), Some(2.0), Some("attn")).unwrap(),
            Mode::Adapter { rank: 8, alpha: Some(2.0), targets: vec![Target::Q, Target::K, Target::V, Target::O] }
        );
        assert!(Mode::from_parts("lora", None, None, None).unwrap_err().contains("must be full or adapter"));
        assert!(Mode::from_parts("full", Some(8), None, None).unwrap_err().contains("for adapter runs"));
        assert!(Mode::adapter(0, &DEFAULT_TARGETS).validate().is_err());
        assert!(Mode::adapter(4, &[]).validate().is_err());
        assert!(Mode::adapter(4, &[Target::Q, Target::Q]).validate().is_err());
    }
}
