//! Many fine-tuned models ("tenants") of one base: checkpoints, storage, serving, cold loads.
//!
//! Full fine-tuning gives every tenant its own whole model; LoRA gives each a small adapter over
//! one shared base (Hu et al. 2021, arXiv 2106.09685 §4.2: 100 adapted GPT-3s ≈ 354 GB vs
//! 35 TB). Serving many adapters on one base copy: S-LoRA (Sheng et al. 2023), Punica (Chen
//! et al. 2023). Bytes per param are the storage precision: `Precision::weight_bytes`.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// NVMe SSD, PCIe 4.0 x4: ~7 GB/s sequential read (16 GT/s × 4 lanes ≈ 7.9 GB/s raw; fast
/// drives' datasheets quote 7.0–7.4 GB/s).
pub const NVME_BYTES_PER_S: f64 = 7e9;
/// Host → GPU over PCIe 4.0 x16: 32 GB/s theoretical (16 GT/s × 16 lanes, 128b/130b), ~25 GB/s
/// effective for pinned-memory copies.
pub const PCIE_BYTES_PER_S: f64 = 25e9;
/// A 100 Gb/s datacenter link (100 GbE / HDR InfiniBand): 100e9 / 8 = 12.5 GB/s.
pub const NETWORK_BYTES_PER_S: f64 = 12.5e9;

/// Where a cold tenant's weights come from. JSON: "nvme", "pcie", "network", or a number of
/// bytes per second.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "BandwidthRepr", into = "BandwidthRepr")]
pub enum Bandwidth {
    #[default]
    Nvme,
    Pcie,
    Network,
    BytesPerSecond(f64),
}

impl Bandwidth {
    pub fn bytes_per_s(self) -> f64 {
        match self {
            Bandwidth::Nvme => NVME_BYTES_PER_S,
            Bandwidth::Pcie => PCIE_BYTES_PER_S,
            Bandwidth::Network => NETWORK_BYTES_PER_S,
            Bandwidth::BytesPerSecond(v) => v,
        }
    }

    pub fn name(self) -> String {
        match self {
            Bandwidth::Nvme => "nvme".into(),
            Bandwidth::Pcie => "pcie".into(),
            Bandwidth::Network => "network".into(),
            Bandwidth::BytesPerSecond(v) => format!("{v} B/s"),
        }
    }
}

impl FromStr for Bandwidth {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let bad =
            || format!("unknown bandwidth `{text}`: expected `nvme`, `pcie`, `network` or bytes per second (e.g. 7e9)");
        match text.trim() {
            "nvme" => Ok(Bandwidth::Nvme),
            "pcie" => Ok(Bandwidth::Pcie),
            "network" => Ok(Bandwidth::Network),
            number => number.parse().map_err(|_| bad()).and_then(Bandwidth::bytes_per_second),
        }
    }
}

impl Bandwidth {
    /// A measured or assumed rate; must be positive and finite.
    pub fn bytes_per_second(v: f64) -> Result<Self, String> {
        if v.is_finite() && v > 0.0 {
            Ok(Bandwidth::BytesPerSecond(v))
        } else {
            Err(format!("bandwidth must be a positive number of bytes per second, got {v}"))
        }
    }
}

/// The JSON form: a name or a number (serde tries them in order).
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum BandwidthRepr {
    Name(String),
    Number(f64),
}

impl TryFrom<BandwidthRepr> for Bandwidth {
    type Error = String;
    fn try_from(r: BandwidthRepr) -> Result<Self, String> {
        match r {
            BandwidthRepr::Name(n) => n.parse(),
            BandwidthRepr::Number(v) => Bandwidth::bytes_per_second(v),
        }
    }
}

impl From<Bandwidth> for BandwidthRepr {
    fn from(b: Bandwidth) -> Self {
        match b {
            Bandwidth::BytesPerSecond(v) => BandwidthRepr::Number(v),
            named => BandwidthRepr::Name(named.name()),
        }
    }
}

/// One tenant's checkpoint: its params × bytes per param (whole model for full fine-tuning,
/// adapter only for LoRA). Tensor bytes only: real files add a small header.
pub fn checkpoint_bytes(params: u64, bytes_per_param: u64) -> u64 {
    params * bytes_per_param
}

/// N tenants fully fine-tuned: N whole checkpoints. Saturates at u64::MAX (18 EB).
pub fn storage_full_bytes(model_bytes: u64, tenants: u64) -> u64 {
    tenants.saturating_mul(model_bytes)
}

/// N tenants as adapters: one base + N adapter checkpoints.
pub fn storage_adapter_bytes(base_bytes: u64, adapter_bytes: u64, tenants: u64) -> u64 {
    base_bytes.saturating_add(tenants.saturating_mul(adapter_bytes))
}

/// K hot tenants fully fine-tuned: K resident models (weights only; no KV cache or batch
/// activations).
pub fn serving_full_bytes(model_bytes: u64, hot: u64) -> u64 {
    hot.saturating_mul(model_bytes)
}

/// K hot tenants as adapters: one resident base + K adapters (as S-LoRA / Punica serve them).
pub fn serving_adapter_bytes(base_bytes: u64, adapter_bytes: u64, hot: u64) -> u64 {
    base_bytes.saturating_add(hot.saturating_mul(adapter_bytes))
}

/// Seconds to bring a cold tenant in: bytes ÷ bandwidth (latency and deserialisation ignored).
pub fn cold_load_seconds(bytes: u64, bytes_per_s: f64) -> f64 {
    bytes as f64 / bytes_per_s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::{DEFAULT_TARGETS, adapter_params};
    use crate::shape::ModelShape;

    const GB: u64 = 1_000_000_000;

    #[test]
    fn lesson_full_copies() {
        // GPT-3 175B nominal × 2 B (fp16) = 350 GB per copy.
        let one = checkpoint_bytes(175_000_000_000, 2);
        assert_eq!(one, 350 * GB);
        assert_eq!(storage_full_bytes(one, 10), 3_500 * GB);
        assert_eq!(storage_full_bytes(one, 1_000), 350_000 * GB);
        assert_eq!(storage_full_bytes(one, 100_000), 35_000_000 * GB);
    }

    #[test]
    fn lora_paper_100_adapters_on_one_base() {
        let g = ModelShape::gpt3_175b();
        let adapter = checkpoint_bytes(adapter_params(&g, 4, &DEFAULT_TARGETS), 2);
        // 18,874,368 params × 2 B = 37.7 MB (the paper rounds to "35MB").
        assert_eq!(adapter, 37_748_736);
        let base = checkpoint_bytes(g.param_count(), 2);
        let hundred = storage_adapter_bytes(base, adapter, 100);
        assert_eq!(hundred, 354_218_508_288);
        assert!((hundred as f64 / (354 * GB) as f64 - 1.0).abs() < 0.01);
        // vs 100 full copies: 35 TB nominal (100 × 350 GB).
        assert_eq!(storage_full_bytes(checkpoint_bytes(175_000_000_000, 2), 100), 35_000 * GB);
    }

    #[test]
    fn serving_hot_tenants() {
        assert_eq!(serving_full_bytes(350 * GB, 3), 1_050 * GB);
        // One GPT-3 base and three of the LoRA paper's adapters: 350 GB + 3 × 37.7 MB.
        assert_eq!(serving_adapter_bytes(350 * GB, 37_748_736, 3), 350_113_246_208);
        assert_eq!(storage_full_bytes(u64::MAX / 2, 3), u64::MAX);
    }

    #[test]
    fn cold_load_times() {
        // 350 GB from NVMe: 50 s; a 37.7 MB adapter: ~5.4 ms.
        assert_eq!(cold_load_seconds(350 * GB, NVME_BYTES_PER_S), 50.0);
        assert!((cold_load_seconds(37_748_736, NVME_BYTES_PER_S) - 0.005_392_676).abs() < 1e-9);
    }

    #[test]
    fn parse_bandwidth() {
        assert_eq!("pcie".parse::<Bandwidth>().unwrap().bytes_per_s(), 25e9);
        assert_eq!("1e9".parse::<Bandwidth>().unwrap(), Bandwidth::BytesPerSecond(1e9));
        assert!("fast".parse::<Bandwidth>().unwrap_err().contains("expected `nvme`"));
        assert!("0".parse::<Bandwidth>().is_err());
        assert_eq!(Bandwidth::default(), Bandwidth::Nvme);
    }
}
