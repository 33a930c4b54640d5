//! What is trained: the whole model, or LoRA adapters on some projections of every block.
//!
//! LoRA (Hu et al. 2021, arXiv 2106.09685 §4.1): a frozen W (in→out) gets ΔW = B·A with
//! A: in×r and B: r×out, so r·(in + out) trainable params per adapted projection.
//!
//! Plain data and arithmetic, no burn: the memory model (`crate::memory`) reads it too.

use serde::{Deserialize, Serialize};

use crate::shape::ModelShape;

/// A projection of a block that can carry an adapter. JSON: "q", "k", "v", "o", "fc", "proj".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
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

/// LoRA's scale α when the caller gives none: α = 2·r, so α/r = 2 whatever the rank (the LoRA
/// paper fixes α to the first rank it tries and does not tune it).
pub fn default_alpha(rank: usize) -> f32 {
    2.0 * rank as f32
}

/// One LoRA adapter: rank r, scale α (ΔW = B·A·α/r) and the projections it adapts in every
/// block. What a run trains, what an adapter file's header records and what the memory model
/// counts (memory does not depend on α). JSON: `{"rank":4,"alpha":8,"targets":["q","v"]}`;
/// α may be left out, for `default_alpha`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "SpecJson")]
pub struct AdapterSpec {
    pub rank: usize,
    pub alpha: f32,
    pub targets: Vec<Target>,
}

#[derive(Deserialize)]
struct SpecJson {
    rank: usize,
    #[serde(default)]
    alpha: Option<f32>,
    targets: Vec<Target>,
}

impl From<SpecJson> for AdapterSpec {
    fn from(json: SpecJson) -> Self {
        AdapterSpec { rank: json.rank, alpha: json.alpha.unwrap_or(default_alpha(json.rank)), targets: json.targets }
    }
}

impl AdapterSpec {
    /// Rank r on `targets`, at the default α.
    pub fn new(rank: usize, targets: &[Target]) -> Self {
        AdapterSpec { rank, alpha: default_alpha(rank), targets: targets.to_vec() }
    }

    /// Buildable on `shape`: a rank from 1 to the narrowest projection's width, a positive
    /// finite α, and targets, each once. The check for every caller: a run, a file, the
    /// memory model.
    pub fn validate(&self, shape: &ModelShape) -> Result<(), String> {
        let max = max_rank(shape);
        if self.rank == 0 || self.rank > max {
            return Err(format!(
                "the adapter's rank must be from 1 to {max} (the narrowest projection's width), got {}",
                self.rank
            ));
        }
        if !self.alpha.is_finite() || self.alpha <= 0.0 {
            return Err(format!("the adapter's alpha {} must be a positive number", self.alpha));
        }
        if self.targets.is_empty() {
            return Err(format!("the adapter adapts no projection: give {TARGETS_SYNTAX}"));
        }
        let mut once = self.targets.clone();
        once.sort();
        once.dedup();
        if once.len() != self.targets.len() {
            return Err("the adapter's targets must not repeat".into());
        }
        Ok(())
    }
}

/// What a run trains: every weight, or an adapter on a frozen base. JSON (internally tagged by
/// "mode"; `ScaleInput` flattens it into its own object): `{"mode":"full"}` or
/// `{"mode":"adapter","rank":4,"targets":["q","v"]}` (+ optional "alpha").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Mode {
    Full,
    Adapter(AdapterSpec),
}

impl Mode {
    /// An adapter of rank r on `targets`, at the default α.
    pub fn adapter(rank: usize, targets: &[Target]) -> Self {
        Mode::Adapter(AdapterSpec::new(rank, targets))
    }

    /// "full" or "adapter": the JSON tag, and what reports and the page call the modes.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Adapter(_) => "adapter",
        }
    }

    /// The adapter this mode trains, if any.
    pub fn spec(&self) -> Option<&AdapterSpec> {
        match self {
            Mode::Full => None,
            Mode::Adapter(spec) => Some(spec),
        }
    }

    /// The adapter this mode trains, or the default one (r=4 on q,v) a full run is compared with.
    pub fn adapter_or_default(&self) -> (usize, &[Target]) {
        match self {
            Mode::Adapter(spec) => (spec.rank, &spec.targets),
            Mode::Full => (DEFAULT_RANK, &DEFAULT_TARGETS),
        }
    }

    pub fn validate(&self, shape: &ModelShape) -> Result<(), String> {
        self.spec().map_or(Ok(()), |spec| spec.validate(shape))
    }

    /// A mode from its name and, for `adapter`, the rank, α and targets given (None: not given,
    /// so r = 4 on q,v at α = 2·r). The one place a mode is read, for the CLI's flags
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
            "adapter" => {
                let rank = rank.unwrap_or(DEFAULT_RANK);
                Ok(Mode::Adapter(AdapterSpec {
                    rank,
                    alpha: alpha.unwrap_or(default_alpha(rank)),
                    targets: targets.map_or(Ok(DEFAULT_TARGETS.to_vec()), parse_targets)?,
                }))
            }
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
            Mode::Adapter(AdapterSpec {
                rank: 8,
                alpha: 2.0,
                targets: vec![Target::Q, Target::K, Target::V, Target::O]
            })
        );
        assert!(Mode::from_parts("lora", None, None, None).unwrap_err().contains("must be full or adapter"));
        assert!(Mode::from_parts("full", Some(8), None, None).unwrap_err().contains("for adapter runs"));
        let tiny = ModelShape::tiny();
        assert!(Mode::adapter(4, &DEFAULT_TARGETS).validate(&tiny).is_ok());
        assert!(Mode::adapter(0, &DEFAULT_TARGETS).validate(&tiny).unwrap_err().contains("from 1 to 128"));
        assert!(Mode::adapter(129, &DEFAULT_TARGETS).validate(&tiny).unwrap_err().contains("got 129"));
        assert!(Mode::adapter(4, &[]).validate(&tiny).unwrap_err().contains("no projection"));
        assert!(Mode::adapter(4, &[Target::Q, Target::Q]).validate(&tiny).unwrap_err().contains("not repeat"));
        let no_alpha: Mode = serde_json::from_str(r#"{"mode":"adapter","rank":8,"targets":["q"]}"#).unwrap();
        assert_eq!(no_alpha.spec().unwrap().alpha, 16.0);
    }
}
