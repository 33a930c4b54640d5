//! The shape of our decoder-only GPT and its exact parameter count.
//!
//! The burn model is built from this struct, so the count here must match it to the parameter:
//! token + position embeddings, `layers` pre-LN blocks (LN → q,k,v,o → LN → fc → GELU → proj,
//! every Linear with bias), a final LayerNorm, and an untied LM head without bias.

use serde::{Deserialize, Serialize};

/// Sizes of one model. JSON keys are the field names (snake_case); `name` may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct ModelShape {
    #[serde(default = "custom_name")]
    pub name: String,
    pub layers: usize,
    pub d_model: usize,
    pub heads: usize,
    pub d_ff: usize,
    pub vocab: usize,
    /// Longest sequence: the position embedding has this many rows.
    pub context: usize,
}

fn custom_name() -> String {
    "custom".to_string()
}

pub const PRESET_NAMES: [&str; 4] = ["micro", "tiny", "bert-large", "gpt3-175b"];

/// Largest width, vocabulary or context a shape may have: 2^20, twenty times GPT-3's widest
/// (d_ff 49,152), small enough that layers · d_model · d_ff cannot overflow a u64.
pub const MAX_WIDTH: usize = 1 << 20;
/// Most layers a shape may have (GPT-3 has 96).
pub const MAX_LAYERS: usize = 1 << 16;

impl ModelShape {
    /// For fast tests: 32,704 params.
    pub fn micro() -> Self {
        Self::named("micro", 2, 32, 2, 128, 97, 32)
    }

    /// What the site trains: 834,560 params = 4 blocks × 198,272 + embeddings, final LN and
    /// head 41,472. Vocab 97 = our character set.
    pub fn tiny() -> Self {
        Self::named("tiny", 4, 128, 4, 512, 97, 128)
    }

    /// BERT-large's size (Devlin et al. 2018, arXiv 1810.04805: L=24, H=1024, A=16, 30,522
    /// WordPiece vocab, 512 positions) in our GPT layout: 365,344,768 params, not BERT's 340M;
    /// see `nominal_note`.
    pub fn bert_large() -> Self {
        Self::named("bert-large", 24, 1024, 16, 4096, 30522, 512)
    }

    /// GPT-3 175B (Brown et al. 2020, arXiv 2005.14165, Table 2.1: n_layers 96, d_model 12288,
    /// 96 heads × 128, n_ctx 2048, d_ff = 4·d_model; vocab 50,257 = GPT-2 BPE reused).
    /// 175,221,817,344 params in our layout (+0.13% vs 175.0B: untied head, biases).
    pub fn gpt3_175b() -> Self {
        Self::named("gpt3-175b", 96, 12288, 96, 49152, 50257, 2048)
    }

    fn named(
        name: &str,
        layers: usize,
        d_model: usize,
        heads: usize,
        d_ff: usize,
        vocab: usize,
        context: usize,
    ) -> Self {
        Self { name: name.to_string(), layers, d_model, heads, d_ff, vocab, context }
    }

    /// A preset by name (`PRESET_NAMES`), or a message that names them.
    pub fn preset(name: &str) -> Result<Self, String> {
        match name {
            "micro" => Ok(Self::micro()),
            "tiny" => Ok(Self::tiny()),
            "bert-large" => Ok(Self::bert_large()),
            "gpt3-175b" => Ok(Self::gpt3_175b()),
            _ => Err(format!("unknown model `{name}`; presets: {}", PRESET_NAMES.join(", "))),
        }
    }

    /// A custom shape must be buildable: every size positive and at most `MAX_WIDTH` (layers at
    /// most `MAX_LAYERS`), so that no count here overflows, and heads splitting d_model evenly.
    pub fn validate(&self) -> Result<(), String> {
        let sizes = [
            ("layers", self.layers, MAX_LAYERS),
            ("d_model", self.d_model, MAX_WIDTH),
            ("heads", self.heads, MAX_WIDTH),
            ("d_ff", self.d_ff, MAX_WIDTH),
            ("vocab", self.vocab, MAX_WIDTH),
            ("context", self.context, MAX_WIDTH),
        ];
        if let Some((field, _, _)) = sizes.iter().find(|(_, v, _)| *v == 0) {
            return Err(format!("model shape `{}`: {field} must be > 0", self.name));
        }
        if let Some((field, v, max)) = sizes.iter().find(|(_, v, max)| v > max) {
            return Err(format!("model shape `{}`: {field} must be at most {max}, got {v}", self.name));
        }
        if !self.d_model.is_multiple_of(self.heads) {
            return Err(format!(
                "model shape `{}`: heads ({}) must divide d_model ({}) so each head gets d_model/heads dims",
                self.name, self.heads, self.d_model
            ));
        }
        Ok(())
    }

    /// Exact parameter count of the base model:
    /// embeddings + layers · block + final LN + head.
    pub fn param_count(&self) -> u64 {
        embedding_params(self)
            + self.layers as u64 * block_params(self)
            + layer_norm_params(self.d_model)
            + head_params(self)
    }

    /// The figure the source paper publishes, only for an unchanged preset.
    pub fn nominal_params(&self) -> Option<u64> {
        match self.name.as_str() {
            _ if Self::preset(&self.name).ok().as_ref() != Some(self) => None,
            "bert-large" => Some(340_000_000),
            "gpt3-175b" => Some(175_000_000_000),
            _ => None,
        }
    }

    /// The preset as a list of models shows it: what it is and its size, the published count
    /// where there is one ("BERT-large (340M)"), else ours ("Our tiny GPT (0.835M)").
    pub fn label(&self) -> String {
        let what = match self.name.as_str() {
            "micro" => "Micro GPT, for tests",
            "tiny" => "Our tiny GPT",
            "bert-large" => "BERT-large",
            "gpt3-175b" => "GPT-3",
            other => other,
        };
        let count = self.nominal_params().unwrap_or_else(|| self.param_count()) as f64;
        let (value, unit) = match count {
            c if c >= 1e9 => (c / 1e9, "B"),
            c if c >= 1e5 => (c / 1e6, "M"),
            c => (c / 1e3, "K"),
        };
        // Three significant digits at most, no trailing zeros: 175B, 340M, 0.83M, 32.7K.
        let digits = (2 - value.log10().floor() as i32).max(0) as usize;
        let shown = format!("{value:.digits$}");
        let shown = if shown.contains('.') { shown.trim_end_matches('0').trim_end_matches('.') } else { &shown };
        format!("{what} ({shown}{unit})")
    }

    /// Why our count differs from the published one.
    pub fn nominal_note(&self) -> Option<&'static str> {
        self.nominal_params()?;
        match self.name.as_str() {
            "bert-large" => Some(
                "BERT-large is published as 340M (Devlin et al. 2018). Our GPT layout at its size counts \
                 365.3M: an untied LM head (+31.3M; BERT ties it to the token embedding), a final \
                 LayerNorm, and no token-type embedding, pooler or MLM-head transform.",
            ),
            "gpt3-175b" => Some(
                "GPT-3 is published as 175.0B (Brown et al. 2020). Our layout counts 175.2B (+0.13%): \
                 an untied LM head (+0.6B) and biases; the layers dominate either way.",
            ),
            _ => None,
        }
    }
}

/// Token table vocab×d plus learned positions context×d (GPT-2 style, no sinusoids).
pub fn embedding_params(s: &ModelShape) -> u64 {
    (s.vocab as u64 + s.context as u64) * s.d_model as u64
}

/// LayerNorm: gamma + beta, 2·d.
pub fn layer_norm_params(d: usize) -> u64 {
    2 * d as u64
}

/// Linear in→out: weight in·out, plus out when it has a bias.
pub fn linear_params(inp: usize, out: usize, bias: bool) -> u64 {
    inp as u64 * out as u64 + if bias { out as u64 } else { 0 }
}

/// One block: 2 LayerNorms + q,k,v,o (d→d, bias) + fc (d→f, bias) + proj (f→d, bias)
/// = 4d² + 2·d·f + 9d + f.
pub fn block_params(s: &ModelShape) -> u64 {
    let (d, f) = (s.d_model, s.d_ff);
    2 * layer_norm_params(d) + 4 * linear_params(d, d, true) + linear_params(d, f, true) + linear_params(f, d, true)
}

/// LM head d→vocab, untied from the token embedding, no bias.
pub fn head_params(s: &ModelShape) -> u64 {
    linear_params(s.d_model, s.vocab, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_give_the_published_count_else_ours() {
        let labels: Vec<String> = PRESET_NAMES.iter().map(|n| ModelShape::preset(n).unwrap().label()).collect();
        assert_eq!(
            labels,
            ["Micro GPT, for tests (32.7K)", "Our tiny GPT (0.835M)", "BERT-large (340M)", "GPT-3 (175B)"]
        );
    }

    #[test]
    fn block_matches_closed_form() {
        let s = ModelShape::tiny();
        let (d, f) = (128u64, 512u64);
        assert_eq!(block_params(&s), 4 * d * d + 2 * d * f + 9 * d + f);
        assert_eq!(block_params(&s), 198_272);
    }

    #[test]
    fn micro_and_tiny_exact() {
        // micro: 2 × 12,704 + (97+32)·32 + 64 + 32·97
        assert_eq!(ModelShape::micro().param_count(), 32_704);
        // tiny: 4 × 198,272 + (97+128)·128 + 256 + 128·97
        assert_eq!(ModelShape::tiny().param_count(), 834_560);
    }

    #[test]
    fn gpt3_within_half_percent_of_175b() {
        let s = ModelShape::gpt3_175b();
        let n = s.param_count();
        assert_eq!(n, 175_221_817_344);
        let nominal = s.nominal_params().unwrap();
        assert_eq!(nominal, 175_000_000_000);
        let rel = (n as f64 - nominal as f64).abs() / nominal as f64;
        assert!(rel < 0.005, "off by {rel}");
        println!("gpt3-175b: {n} params, fp16 weights {} B", n * 2);
    }

    #[test]
    fn bert_large_count_and_difference() {
        let s = ModelShape::bert_large();
        assert_eq!(s.param_count(), 365_344_768);
        assert_eq!(s.nominal_params(), Some(340_000_000));
        // Most of the +25.3M is the untied head BERT does not have: 1024 × 30,522.
        assert_eq!(head_params(&s), 31_254_528);
        assert!(s.nominal_note().unwrap().contains("365.3M"));
    }

    #[test]
    fn presets_round_trip_and_custom_has_no_nominal() {
        for name in PRESET_NAMES {
            let s = ModelShape::preset(name).unwrap();
            assert_eq!(s.name, name);
            s.validate().unwrap();
        }
        assert_eq!(
            ModelShape::preset("gpt4").unwrap_err(),
            "unknown model `gpt4`; presets: micro, tiny, bert-large, gpt3-175b"
        );
        let mut s = ModelShape::gpt3_175b();
        s.layers = 2;
        assert_eq!(s.nominal_params(), None);
        assert_eq!(ModelShape::tiny().nominal_params(), None);
    }

    #[test]
    fn validate_rejects_bad_shapes() {
        let mut s = ModelShape::tiny();
        s.heads = 3;
        assert!(s.validate().unwrap_err().contains("heads (3) must divide d_model (128)"));
        s.heads = 0;
        assert!(s.validate().unwrap_err().contains("heads must be > 0"));
    }
}
