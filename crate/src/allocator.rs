//! What the device's allocator actually holds, sampled at the phases of a training step, and
//! the per-category figures derived from those samples for comparison with the memory model.
//!
//! burn reports its memory pools on WebGPU (and other GPU backends); the CPU backend has no
//! pool to report, so every figure here is `None` there and the page says so.

use burn::tensor::Device;
use serde::Serialize;

#[derive(Serialize, Debug, Clone, Copy, Default, PartialEq)]
pub struct PoolSnapshot {
    /// Bytes of live allocations, padding excluded.
    pub bytes_in_use: u64,
    /// Padding inside those allocations (alignment).
    pub bytes_padding: u64,
    /// Everything the allocator holds from the device, including pages kept for reuse.
    pub bytes_reserved: u64,
    pub allocations: u64,
}

/// Bytes the device holds in live allocations: burn's pool on a GPU; on the CPU backend the
/// program's heap, where a counting allocator is installed (`heap`), tensors and all else.
pub fn bytes_in_use(device: &Device) -> Option<u64> {
    match snapshot(device) {
        Some(pool) => Some(pool.bytes_in_use),
        None => crate::heap::live_bytes(),
    }
}

pub fn snapshot(device: &Device) -> Option<PoolSnapshot> {
    device.memory_pool_usage().map(|u| PoolSnapshot {
        bytes_in_use: u.bytes_in_use,
        bytes_padding: u.bytes_padding,
        bytes_reserved: u.bytes_reserved,
        allocations: u.number_allocs,
    })
}

/// Samples around the most recent step, plus one taken when the model was loaded.
#[derive(Serialize, Debug, Clone, Default)]
pub struct StepSamples {
    pub model_loaded: Option<PoolSnapshot>,
    pub before_step: Option<PoolSnapshot>,
    pub after_forward: Option<PoolSnapshot>,
    pub after_backward: Option<PoolSnapshot>,
    pub after_step: Option<PoolSnapshot>,
}

/// Per-category bytes derived from the samples, named like the memory model's terms.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct MeasuredMemory {
    /// In use once the model is on the device, before any step.
    pub weights_bytes: u64,
    /// Growth from the loaded model to the steady state between steps: AdamW's moments.
    pub optimizer_bytes: u64,
    /// Growth during the forward pass: tensors kept for backward.
    pub activations_bytes: u64,
    /// In use after backward beyond the steady state: the gradients (backward frees the
    /// activations as it goes, so this is close to the gradients alone).
    pub grads_bytes: u64,
    /// Highest in-use figure sampled during the step.
    pub peak_bytes: u64,
    /// Alignment padding plus pages reserved but not in use at the peak: the allocator's cost.
    pub allocator_overhead_bytes: u64,
    pub reserved_bytes: u64,
}

impl StepSamples {
    pub fn derive(&self) -> Option<MeasuredMemory> {
        let loaded = self.model_loaded?;
        let before = self.before_step?;
        let forward = self.after_forward?;
        let backward = self.after_backward?;
        let after = self.after_step?;
        let peak = [before, forward, backward, after].into_iter().max_by_key(|s| s.bytes_in_use)?;
        Some(MeasuredMemory {
            weights_bytes: loaded.bytes_in_use,
            optimizer_bytes: after.bytes_in_use.saturating_sub(loaded.bytes_in_use),
            activations_bytes: forward.bytes_in_use.saturating_sub(before.bytes_in_use),
            grads_bytes: backward.bytes_in_use.saturating_sub(before.bytes_in_use),
            peak_bytes: peak.bytes_in_use,
            allocator_overhead_bytes: peak.bytes_padding + peak.bytes_reserved.saturating_sub(peak.bytes_in_use),
            reserved_bytes: peak.bytes_reserved,
        })
    }
}
