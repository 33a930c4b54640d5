//! Memory while training: weights, gradients, optimizer state and saved activations.
//!
//! Model state follows ZeRO's accounting (Rajbhandari et al. 2019, arXiv 1910.02054 §3.1);
//! activations are counted for our own fp32 implementation, with Korthikanti et al. 2022 beside
//! it for comparison.

use std::borrow::Cow;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::shape::ModelShape;

/// How numbers are stored while training. JSON: "fp32", "mixed16".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// How our burn model trains (browser and native): everything fp32.
    Fp32,
    /// GPT-3-style mixed precision: fp16 weights, grads and activations, fp32 Adam state.
    Mixed16,
}

impl Precision {
    /// What a model of `shape` trains in unless told otherwise: mixed precision past a billion
    /// parameters (how GPT-3-sized models are trained), fp32 below (how ours trains). The CLI's
    /// `scale` and the page's scale panel both start from it.
    pub fn default_for(shape: &ModelShape) -> Self {
        if shape.param_count() > 1_000_000_000 { Precision::Mixed16 } else { Precision::Fp32 }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Mixed16 => "mixed16",
        }
    }

    /// Weights, per param (base and adapter): fp32 4 B; fp16 2 B (a frozen base keeps no fp32
    /// copy). Also the bytes per param of a checkpoint and of a serving copy.
    pub fn weight_bytes(self) -> u64 {
        match self {
            Precision::Fp32 => 4,
            Precision::Mixed16 => 2,
        }
    }

    /// Gradient, per trainable param: the same type as the weights.
    pub fn grad_bytes(self) -> u64 {
        self.weight_bytes()
    }

    /// AdamW state, per trainable param: m + v in fp32 = 8 B; mixed precision adds an fp32
    /// master copy of the weights, 4 + 4 + 4 = 12 B (ZeRO §3.1: "K = 12").
    pub fn optimizer_bytes(self) -> u64 {
        match self {
            Precision::Fp32 => 8,
            Precision::Mixed16 => 12,
        }
    }

    /// Activations, per element: the compute type.
    pub fn activation_bytes(self) -> u64 {
        self.weight_bytes()
    }
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "fp32" => Ok(Precision::Fp32),
            "mixed16" => Ok(Precision::Mixed16),
            other => Err(format!("unknown precision `{other}`: expected `fp32` or `mixed16`")),
        }
    }
}

/// Weights: total params (frozen base + adapter) × weight bytes.
pub fn weights_bytes(params_total: u64, p: Precision) -> u64 {
    params_total * p.weight_bytes()
}

/// Gradients: only trainable params get one (burn: frozen params have no grad).
pub fn grads_bytes(params_trainable: u64, p: Precision) -> u64 {
    params_trainable * p.grad_bytes()
}

/// Optimizer state: only trainable params get AdamW moments (and a master copy in mixed16).
pub fn optimizer_bytes(params_trainable: u64, p: Precision) -> u64 {
    params_trainable * p.optimizer_bytes()
}

/// Elements one block keeps for backward in our implementation (no dropout, no recomputation
/// but attention's softmax), batch b, sequence s, width d, MLP width f, heads a:
/// LN1 in + out 2bsd and its rows' (mean, rstd) 2bs; q, k, v and the attention output (o's
/// input) 4bsd and each query row's log-sum-exp abs (`ops::attention` recomputes the softmax
/// from it, as FlashAttention does, instead of keeping 2abs² of scores and probabilities);
/// LN2 in + out 2bsd and 2bs; fc out (GELU in) + GELU out (proj's input) 2bsf
/// = bs(8d + 2f) + abs + 4bs.
pub fn block_activation_elements(b: u64, s: u64, d: u64, f: u64, a: u64) -> u64 {
    b * s * (8 * d + 2 * f) + a * b * s + 4 * b * s
}

/// Elements kept after the blocks: final LN in + out 2bsd and its rows' stats 2bs, the logits
/// bsV and each row's log-sum-exp bs (`ops::cross_entropy`). The embedding sum is block 0's LN1
/// input, already counted; the lookup itself keeps only token ids.
pub fn head_activation_elements(b: u64, s: u64, d: u64, vocab: u64) -> u64 {
    b * s * (2 * d + vocab) + 3 * b * s
}

/// Extra elements per block for LoRA: x·A (b·s·r) per adapted projection, kept for B's
/// gradient. A's input is the frozen projection's input, already counted.
pub fn adapter_activation_elements(b: u64, s: u64, rank: u64, targets: u64) -> u64 {
    targets * b * s * rank
}

/// Activations kept for one training step: bytes per element ×
/// [layers · (block + adapter) + head]. `adapter` is (rank, number of adapted projections).
pub fn activations_bytes(
    s: &ModelShape,
    batch: usize,
    seq: usize,
    p: Precision,
    adapter: Option<(usize, usize)>,
) -> u64 {
    let (b, t) = (batch as u64, seq as u64);
    let block = block_activation_elements(b, t, s.d_model as u64, s.d_ff as u64, s.heads as u64);
    let extra = adapter.map_or(0, |(r, n)| adapter_activation_elements(b, t, r as u64, n as u64));
    let head = head_activation_elements(b, t, s.d_model as u64, s.vocab as u64);
    p.activation_bytes() * (s.layers as u64 * (block + extra) + head)
}

/// Korthikanti et al. 2022 (arXiv 2205.05198, §4.1, eq. 1): bytes one transformer layer keeps in
/// 16-bit with dropout masks and no recomputation: s·b·h·(34 + 5·a·s/h)
/// = 34·sbh + 5·a·s²·b (attention 11sbh + 5as²b, MLP 19sbh, two LayerNorms 4sbh).
/// Beside ours for comparison; `estimate` uses ours (fp32, no dropout, softmax recomputed).
pub fn activations_korthikanti(s: u64, b: u64, h: u64, a: u64) -> u64 {
    34 * s * b * h + 5 * a * s * s * b
}

/// A published figure we show beside ours but cannot reproduce: it has no breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct PublishedClaim {
    pub full_bytes: u64,
    pub adapter_bytes: u64,
    pub source: Cow<'static, str>,
}

/// Hu et al. 2021 (arXiv 2106.09685) §4.2: "On GPT-3 175B, we reduce the VRAM consumption
/// during training from 1.2TB to 350GB". Batch, sequence length and what is counted are not
/// stated, so no test claims our model yields it.
pub const LORA_PAPER_VRAM_CLAIM: PublishedClaim = PublishedClaim {
    full_bytes: 1_200_000_000_000,
    adapter_bytes: 350_000_000_000,
    source: Cow::Borrowed(
        "Hu et al. 2021, LoRA (arXiv 2106.09685) §4.2: GPT-3 175B training VRAM 1.2 TB → 350 GB; no breakdown published",
    ),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_mixed_precision_is_16_bytes_per_param() {
        let p = Precision::Mixed16;
        assert_eq!(p.weight_bytes() + p.grad_bytes() + p.optimizer_bytes(), 16);
        // GPT-3 full fine-tuning model state ≈ 2.8 TB (ZeRO §3.1: 16Ψ).
        let n = ModelShape::gpt3_175b().param_count();
        let state = weights_bytes(n, p) + grads_bytes(n, p) + optimizer_bytes(n, p);
        assert_eq!(state, 2_803_549_077_504);
        assert!((state as f64 / 2.8e12 - 1.0).abs() < 0.01);
    }

    #[test]
    fn fp32_model_state_of_the_tiny_model() {
        // As the page trains it: 834,560 parameters × (4 weights + 4 gradient + 8 moments) bytes.
        let n = ModelShape::tiny().param_count();
        let p = Precision::Fp32;
        assert_eq!(weights_bytes(n, p) + grads_bytes(n, p) + optimizer_bytes(n, p), 13_352_960);
    }

    #[test]
    fn korthikanti_formula() {
        // GPT-3, one sequence of 2,048 (Korthikanti et al. 2022, s·b·h·(34 + 5·a·s/h)):
        // 2,048 · 12,288 · (34 + 5 · 96 · 2,048 / 12,288) = 2,868,903,936 B ≈ 2.9 GB per layer.
        assert_eq!(activations_korthikanti(2048, 1, 12288, 96), 2_868_903_936);
        // And for a batch of 8 at 1,024 (a·s/h = 8): 1,024 · 8 · 12,288 · 74 B.
        assert_eq!(activations_korthikanti(1024, 8, 12288, 96), 7_449_083_904);
    }

    #[test]
    fn ours_is_korthikanti_without_dropout_plus_scores() {
        // Korthikanti's breakdown without dropout (16-bit bytes): attention drops the two
        // dropout masks (as²b + sbh) and the dropout output (2as²b) → 10sbh + 2as²b;
        // MLP drops its mask → 18sbh; LayerNorms 4sbh. Halve for elements.
        let (s, b, h, a) = (128u64, 8u64, 128u64, 4u64);
        let no_dropout_bytes = 10 * s * b * h + 2 * a * s * s * b + 18 * s * b * h + 4 * s * b * h;
        let ours = block_activation_elements(b, s, h, 4 * h, a);
        // We keep no softmax (a·s²·b elements) but each query row's log-sum-exp (a·s·b) and each
        // LayerNorm row's mean and rstd (2 · 2·s·b).
        assert_eq!(ours, no_dropout_bytes / 2 - a * s * s * b + a * s * b + 4 * s * b);
    }

    #[test]
    fn tiny_activations_batch_16() {
        // 4 · [2048·(8·128 + 2·512) + 4·2048 + 4·2048] + 2048·(2·128 + 97) + 3·2048
        // = 17,571,840 elements.
        let t = ModelShape::tiny();
        assert_eq!(activations_bytes(&t, 16, 128, Precision::Fp32, None), 4 * 17_571_840);
        // LoRA r=4 on q,v adds 4 layers · 2 · 16·128·4 = 65,536 elements.
        assert_eq!(activations_bytes(&t, 16, 128, Precision::Fp32, Some((4, 2))), 4 * (17_571_840 + 65_536));
    }

    #[test]
    fn parse_precision() {
        assert_eq!("mixed16".parse::<Precision>().unwrap(), Precision::Mixed16);
        assert!("fp16".parse::<Precision>().unwrap_err().contains("expected `fp32` or `mixed16`"));
    }
}
