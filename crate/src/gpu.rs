//! Opening burn's wgpu runtime as a training step wants it, for the page, the CLI and the tests.

use burn::tensor::wgpu::WgpuOptions;

/// Dispatches burn queues before it submits them to a hardware GPU. Its default, 32, cut a step
/// into several submissions; this is more than a step at the widget's sizes dispatches (under
/// 250 in either mode), so a step goes to the GPU whole, sent by its loss's readback or by the
/// next step's upload of its batch.
pub const DISPATCHES_PER_SUBMISSION: usize = 512;

/// The same on a software adapter (SwiftShader, lavapipe): burn's default, kept there because
/// what a whole-step submission saves is a hardware GPU's idle time between submissions; on
/// Chromium's SwiftShader, runs alternated in one sitting measured the two settings the same.
pub const SOFTWARE_DISPATCHES_PER_SUBMISSION: usize = 32;

/// Options for `init` (native) or `init_async` (the browser), on a software adapter or not.
pub fn options(software: bool) -> WgpuOptions {
    let tasks = if software { SOFTWARE_DISPATCHES_PER_SUBMISSION } else { DISPATCHES_PER_SUBMISSION };
    burn::tensor::Device::wgpu_options().tasks_max(tasks)
}
