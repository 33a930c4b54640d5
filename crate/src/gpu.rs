//! Opening burn's wgpu runtime as a training step wants it, for the page, the CLI and the tests.

use burn::tensor::wgpu::WgpuOptions;

/// Dispatches burn queues before it submits them to the GPU. Its default, 32, cut a step into
/// seven or more submissions; this is more than a step at the widget's sizes dispatches (about
/// 230 in full mode, 400 with adapters on every projection), so a step goes to the GPU whole,
/// sent by its loss's readback or by the next step's upload of its batch.
pub const DISPATCHES_PER_SUBMISSION: usize = 512;

/// Options for `Device::wgpu_options()`'s `init` (native) or `init_async` (the browser).
pub fn options() -> WgpuOptions {
    burn::tensor::Device::wgpu_options().tasks_max(DISPATCHES_PER_SUBMISSION)
}
