//! A scale question as a caller asks it: `finetune-lab scale`'s flags, the scale panel's inputs.
//! What is left out takes the defaults below, the ones `finetune-lab scale --help` lists and the
//! panel starts from, and `resolve` checks the rest into a `ScaleInput`. So the page and the CLI
//! answer the same question with the same figures.

use serde::{Deserialize, Serialize};

use super::input::ScaleInput;
use super::tenants::Bandwidth;
use super::training::Precision;
use crate::lora::{DEFAULT_RANK, DEFAULT_TARGETS, Mode};
use crate::shape::ModelShape;

/// JSON: `{"model":"gpt3-175b", "mode":"adapter", "rank":4, "targets":"q,v", "tenants":1000}`;
/// every key but `model` may be left out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleQuestion {
    /// A preset's name (`PRESET_NAMES`).
    pub model: String,
    /// "full" (the default) or "adapter".
    pub mode: Option<String>,
    /// For adapters: the rank and the targets as `parse_targets` reads them.
    pub rank: Option<usize>,
    pub targets: Option<String>,
    /// `Precision::default_for` the model when left out.
    pub precision: Option<Precision>,
    pub batch: Option<usize>,
    /// Tokens per sequence; the model's context when left out.
    pub context: Option<usize>,
    pub tenants: Option<u64>,
    /// Tenants resident at once; `ScaleDefaults::hot` when left out.
    pub hot: Option<u64>,
    pub bandwidth: Option<Bandwidth>,
}

/// The defaults of a question, for the CLI's help and the panel's first state.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct ScaleDefaults {
    pub mode: &'static str,
    pub rank: usize,
    /// As `parse_targets` reads them: "q,v", the LoRA paper's GPT-3 experiments.
    pub targets: String,
    /// One sequence a step: the question is what a model costs, not how fast it trains.
    pub batch: usize,
    pub tenants: u64,
    /// Resident tenants when not said: all of them, up to a working set of this many.
    pub hot_at_most: u64,
    pub bandwidth: String,
}

pub fn scale_defaults() -> ScaleDefaults {
    let targets: Vec<&str> = DEFAULT_TARGETS.iter().map(|t| t.name()).collect();
    ScaleDefaults {
        mode: "full",
        rank: DEFAULT_RANK,
        targets: targets.join(","),
        batch: 1,
        tenants: 1,
        hot_at_most: 10,
        bandwidth: Bandwidth::default().name(),
    }
}

impl ScaleQuestion {
    /// The question with its defaults filled in, or why it cannot be answered.
    pub fn resolve(&self) -> Result<ScaleInput, String> {
        let d = scale_defaults();
        let shape = ModelShape::preset(&self.model)?;
        let tenants = self.tenants.unwrap_or(d.tenants);
        let input = ScaleInput {
            mode: Mode::from_parts(self.mode.as_deref().unwrap_or(d.mode), self.rank, None, self.targets.as_deref())?,
            precision: self.precision.unwrap_or_else(|| Precision::default_for(&shape)),
            batch: self.batch.unwrap_or(d.batch),
            context: Some(self.context.unwrap_or(shape.context)),
            tenants,
            hot: self.hot.unwrap_or(tenants.min(d.hot_at_most)),
            bandwidth: self.bandwidth.unwrap_or_default(),
            shape,
        };
        input.validate()?;
        Ok(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::AdapterSpec;

    fn ask(json: &str) -> Result<ScaleInput, String> {
        serde_json::from_str::<ScaleQuestion>(json).map_err(|e| e.to_string())?.resolve()
    }

    #[test]
    fn left_out_keys_take_the_defaults() {
        let i = ask(r#"{"model":"gpt3-175b","mode":"adapter","tenants":1000}"#).unwrap();
        assert_eq!(i.mode, Mode::Adapter(AdapterSpec::new(4, &DEFAULT_TARGETS)));
        assert_eq!((i.precision, i.batch, i.context, i.hot), (Precision::Mixed16, 1, Some(2048), 10));
        assert_eq!(i.bandwidth, Bandwidth::Nvme);
        let tiny = ask(r#"{"model":"tiny","tenants":3}"#).unwrap();
        assert_eq!((tiny.mode, tiny.precision, tiny.hot), (Mode::Full, Precision::Fp32, 3));
    }

    #[test]
    fn bad_questions_say_what_is_wrong() {
        assert!(ask(r#"{"model":"gpt5"}"#).unwrap_err().contains("unknown model `gpt5`; presets: micro, tiny"));
        assert!(ask(r#"{"model":"tiny","tenants":10,"hot":11}"#).unwrap_err().contains("hot ≤ tenants"));
        assert!(ask(r#"{"model":"tiny","mode":"full","rank":8}"#).unwrap_err().contains("for adapter runs"));
        assert!(ask(r#"{"model":"tiny","precision":"fp8"}"#).unwrap_err().contains("fp8"));
        assert!(ask(r#"{"model":"tiny","colour":"red"}"#).unwrap_err().contains("unknown field `colour`"));
    }
}
