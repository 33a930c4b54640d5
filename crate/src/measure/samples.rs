//! What the device's memory holds, sampled at the phases of a training step, and the
//! per-category figures derived from those samples for comparison with the memory model.
//!
//! On a GPU burn reports its memory pool. The CPU backend has no pool: there the samples are the
//! program's heap, counted by the crate's allocator (`heap::Counting`, which the wasm module and
//! the CLI install), and each category is what a phase of the step added to it. Without either,
//! every figure is `None`.

use burn::tensor::Device;
use serde::Serialize;

use super::heap;

/// What the samples count: burn's memory pool on a GPU, or the whole heap on the CPU backend.
#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub enum Source {
    #[default]
    Pool,
    Heap,
}

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct PoolSnapshot {
    pub source: Source,
    /// Bytes of live allocations, padding excluded.
    pub bytes_in_use: u64,
    /// Padding inside those allocations (alignment); 0 on the heap, which does not report it.
    pub bytes_padding: u64,
    /// Everything the allocator holds from the device, including pages kept for reuse (on the
    /// heap: what is in use, as the heap keeps no pool of its own to report).
    pub bytes_reserved: u64,
    pub allocations: u64,
}

/// Bytes the device holds in live allocations: burn's pool on a GPU; on the CPU backend the
/// program's heap, where a counting allocator is installed (`heap`), tensors and all else.
pub fn bytes_in_use(device: &Device) -> Option<u64> {
    snapshot(device).map(|s| s.bytes_in_use)
}

/// The device's pool, else the heap where it is counted, else nothing.
pub fn snapshot(device: &Device) -> Option<PoolSnapshot> {
    match device.memory_pool_usage() {
        Some(u) => Some(PoolSnapshot {
            source: Source::Pool,
            bytes_in_use: u.bytes_in_use,
            bytes_padding: u.bytes_padding,
            bytes_reserved: u.bytes_reserved,
            allocations: u.number_allocs,
        }),
        None => heap::live_bytes().map(|live| PoolSnapshot {
            source: Source::Heap,
            bytes_in_use: live,
            bytes_padding: 0,
            bytes_reserved: live,
            allocations: 0,
        }),
    }
}

/// Samples around the most recent step, plus two taken as the run's model was made.
#[derive(Serialize, Debug, Clone, Default)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct StepSamples {
    /// Before the run's model existed: what the device held for everything else.
    pub before_model: Option<PoolSnapshot>,
    pub model_loaded: Option<PoolSnapshot>,
    pub before_step: Option<PoolSnapshot>,
    pub after_forward: Option<PoolSnapshot>,
    pub after_backward: Option<PoolSnapshot>,
    pub after_step: Option<PoolSnapshot>,
    /// The heap's own peak during the step (the heap counts every allocation, so it has one;
    /// a pool's peak is the highest sample).
    pub step_peak: Option<u64>,
}

/// Per-category bytes derived from the samples, named like the memory model's terms: each is
/// what one phase of the run added to the device, so what was there before the run (the page's
/// other data, on the heap) is not counted.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct MeasuredMemory {
    pub source: Source,
    /// Added by making the run's model, before any step (on the heap, burn's bookkeeping of
    /// each parameter too).
    pub weights_bytes: u64,
    /// Growth from the loaded model to the steady state between steps: AdamW's moments, on a
    /// pool. Not on the heap, where that growth also holds what the CPU backend keeps from its
    /// first step on (the matrix products' packing buffers, one per thread).
    pub optimizer_bytes: Option<u64>,
    /// Growth during the forward pass: tensors kept for backward.
    pub activations_bytes: u64,
    /// In use after backward beyond the steady state: the gradients (backward frees the
    /// activations as it goes, so this is close to the gradients alone).
    pub grads_bytes: u64,
    /// The most the run held at once during the step: the highest sample on a pool, the heap's
    /// own peak on the CPU.
    pub peak_bytes: u64,
    /// Alignment padding plus pages reserved but not in use at the peak: the allocator's cost
    /// (a pool's only: the heap does not report it).
    pub allocator_overhead_bytes: Option<u64>,
    pub reserved_bytes: Option<u64>,
}

impl StepSamples {
    pub fn derive(&self) -> Option<MeasuredMemory> {
        let loaded = self.model_loaded?;
        let start = self.before_model.map_or(0, |s| s.bytes_in_use);
        let before = self.before_step?;
        let forward = self.after_forward?;
        let backward = self.after_backward?;
        let after = self.after_step?;
        let peak = [before, forward, backward, after].into_iter().max_by_key(|s| s.bytes_in_use)?;
        let pool = loaded.source == Source::Pool;
        Some(MeasuredMemory {
            source: loaded.source,
            weights_bytes: loaded.bytes_in_use.saturating_sub(start),
            optimizer_bytes: pool.then(|| after.bytes_in_use.saturating_sub(loaded.bytes_in_use)),
            activations_bytes: forward.bytes_in_use.saturating_sub(before.bytes_in_use),
            grads_bytes: backward.bytes_in_use.saturating_sub(before.bytes_in_use),
            peak_bytes: self.step_peak.unwrap_or(peak.bytes_in_use).saturating_sub(start),
            allocator_overhead_bytes: pool
                .then(|| peak.bytes_padding + peak.bytes_reserved.saturating_sub(peak.bytes_in_use)),
            reserved_bytes: pool.then_some(peak.bytes_reserved),
        })
    }
}
