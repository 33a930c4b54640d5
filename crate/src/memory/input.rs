//! The question the memory model answers, checked and complete: what `ScaleQuestion::resolve`
//! makes of what the CLI and the page ask, and what a run's memory figures are made from.
//!
//! JSON, with `Mode` flattened into the object:
//! `{"shape":{..}, "mode":"adapter", "rank":4, "targets":["q","v"], "precision":"mixed16",
//!   "batch":1, "context":2048, "tenants":100, "hot":10, "bandwidth":"nvme"}`
//! or `"mode":"full"` without rank/targets. "context" and "bandwidth" may be left out (the
//! shape's context, NVMe). Unknown keys are ignored: serde cannot deny them beside `flatten`.

use serde::{Deserialize, Serialize};

use super::tenants::Bandwidth;
use super::training::Precision;
use crate::lora::Mode;
use crate::shape::ModelShape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleInput {
    pub shape: ModelShape,
    #[serde(flatten)]
    pub mode: Mode,
    pub precision: Precision,
    pub batch: usize,
    /// Sequence length trained on; None = `shape.context`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<usize>,
    /// Fine-tuned models kept (storage).
    pub tenants: u64,
    /// Of those, models resident at once (serving).
    pub hot: u64,
    #[serde(default)]
    pub bandwidth: Bandwidth,
}

/// The most tenants and rows a question may name: 10^7 full GPT-3 copies in fp32 (7e18 B)
/// still fit the u64 byte counts, with room to spare.
pub const MAX_TENANTS: u64 = 10_000_000;
pub const MAX_BATCH: usize = 1_000_000;

impl ScaleInput {
    /// One tenant, hot, batch 1 at the shape's full context, loaded from NVMe.
    pub fn new(shape: ModelShape, mode: Mode, precision: Precision) -> Self {
        ScaleInput { shape, mode, precision, batch: 1, context: None, tenants: 1, hot: 1, bandwidth: Bandwidth::Nvme }
    }

    /// One run training on this device: fp32, as burn trains here, at its batch and context.
    /// What a run's memory panel and the train panel's cost line predict.
    pub fn training_run(shape: ModelShape, mode: Mode, batch: usize, context: usize) -> Self {
        ScaleInput { batch, context: Some(context), ..ScaleInput::new(shape, mode, Precision::Fp32) }
    }

    pub fn validate(&self) -> Result<(), String> {
        self.shape.validate()?;
        self.mode.validate(&self.shape)?;
        if self.batch == 0 || self.batch > MAX_BATCH {
            return Err(format!("batch must be from 1 to {MAX_BATCH}, got {}", self.batch));
        }
        if let Some(c) = self.context
            && (c == 0 || c > self.shape.context)
        {
            return Err(format!("context must be in 1..={} (the position table's size), got {c}", self.shape.context));
        }
        if self.tenants == 0 || self.tenants > MAX_TENANTS || self.hot > self.tenants {
            return Err(format!(
                "need tenants from 1 to {} and hot ≤ tenants, got tenants {} and hot {}",
                super::format_int(MAX_TENANTS),
                self.tenants,
                self.hot
            ));
        }
        Bandwidth::bytes_per_second(self.bandwidth.bytes_per_s()).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::DEFAULT_TARGETS;

    #[test]
    fn json_round_trip() {
        let json = r#"{"shape":{"layers":2,"d_model":32,"heads":2,"d_ff":128,"vocab":97,"context":32},
            "mode":"adapter","rank":4,"targets":["q","v"],"precision":"fp32","batch":4,
            "tenants":3,"hot":1,"bandwidth":7e9}"#;
        let i: ScaleInput = serde_json::from_str(json).unwrap();
        assert_eq!(i.mode, Mode::adapter(4, &DEFAULT_TARGETS));
        assert_eq!(i.bandwidth, Bandwidth::BytesPerSecond(7e9));
        i.validate().unwrap();
        let back: ScaleInput = serde_json::from_str(&serde_json::to_string(&i).unwrap()).unwrap();
        assert_eq!(back, i);

        let full: ScaleInput = serde_json::from_str(&json.replace(r#""mode":"adapter""#, r#""mode":"full""#)).unwrap();
        assert_eq!(full.mode, Mode::Full);
    }

    #[test]
    fn validate_explains() {
        let mut i = ScaleInput::new(ModelShape::tiny(), Mode::Full, Precision::Fp32);
        i.context = Some(512);
        assert!(i.validate().unwrap_err().contains("context must be in 1..=128"));
        i.context = None;
        i.hot = 2;
        assert!(i.validate().unwrap_err().contains("hot ≤ tenants"));
        i.hot = 1;
        i.tenants = MAX_TENANTS + 1;
        assert!(i.validate().unwrap_err().contains("tenants from 1 to 10,000,000"));
        i.tenants = 1;
        i.mode = Mode::adapter(4096, &DEFAULT_TARGETS);
        assert!(i.validate().unwrap_err().contains("rank must be from 1 to 128"), "{:?}", i.validate());
        i.mode = Mode::Full;
        i.bandwidth = Bandwidth::BytesPerSecond(0.0);
        assert!(i.validate().is_err());
    }
}
