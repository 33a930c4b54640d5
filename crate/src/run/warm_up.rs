//! A run's GPU pipelines compiled before the reader asks for one.
//!
//! burn compiles a kernel's pipeline the first time it launches, so a Lab's first training step
//! compiled the backward pass's kernels and AdamW's on the reader's click (scoring the base, which
//! the page starts as soon as the Lab opens, has compiled the forward pass's by then): about half
//! a second on software WebGPU. Each of our kernels is one pipeline whatever the sizes (they
//! arrive in a uniform), so a step far smaller than any real one compiles them, while the GPU
//! computes the base's held-out loss and the reader is still reading.

use burn::tensor::Device;

use super::{Caller, Given, Run, RunSettings};
use crate::checkpoint::Checkpoint;
use crate::readback::read_f32;

/// The warm-up's sequences: one, of a few characters, so that its arithmetic is negligible
/// beside the compiling it triggers.
const BATCH: f64 = 1.0;
const CONTEXT: f64 = 8.0;

/// Train one step of the page's adapter run on `base`, on a batch of one short sequence, and
/// drop the run. On the CPU there is nothing to compile.
pub async fn warm_up(base: &Checkpoint, device: &Device) -> Result<(), String> {
    if *device == Device::flex() {
        return Ok(());
    }
    let settings = RunSettings {
        mode: Some("adapter".to_string()),
        batch: Some(Given::Number(BATCH)),
        context: Some(Given::Number(CONTEXT)),
        ..RunSettings::default()
    };
    let request = settings.resolve(&base.header.shape, Caller::Page)?;
    let dataset = request.dataset()?;
    let mut run = Run::start(base, request.mode, request.config, &dataset.train, &dataset.heldout, device)?;
    read_f32(run.steps(1)).await?;
    Ok(())
}
