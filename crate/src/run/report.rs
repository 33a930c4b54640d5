//! A whole fine-tuning run driven synchronously: what the CLI prints and the tests check.
//! Native only; the browser drives the same `Run` step by step with async readbacks.

use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use super::fine_tune::Run;
use super::settings::RunRequest;
use super::steps_per_read::steps_per_read;
use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, FormatVerdict};
use crate::generate::generate;
use crate::measure::MeasuredMemory;
use crate::median::median;
use crate::memory;
use crate::optimizer::OptimizerSettings;
use crate::readback::{block_on, read_f32, read_scalar};

#[derive(Serialize, Debug, Clone)]
pub struct FinetuneReport {
    pub mode: String,
    pub data: String,
    pub steps: usize,
    pub batch: usize,
    pub context: usize,
    /// The learning rate, weight decay, betas, ε and clip every step was taken with.
    pub optimizer: OptimizerSettings,
    pub seed: u64,
    pub params_total: usize,
    pub params_trainable: usize,
    pub loss_first: f32,
    pub loss_last: f32,
    pub losses: Vec<f32>,
    pub heldout_loss_before: f32,
    pub heldout_loss_after: f32,
    pub ms_per_step_median: f64,
    pub checkpoint_bytes: usize,
    pub sample_prompt: String,
    pub sample_before: String,
    pub sample_after: String,
    /// Whether `sample_after` follows the task's format (null for the reader's own text).
    pub format_after: Option<FormatVerdict>,
    /// The memory model's figures for this run (fp32, this batch and context).
    pub memory_predicted: memory::Report,
    /// What the device's allocator held around the last step; null on the CPU backend, which
    /// keeps no memory pool to ask.
    pub memory_measured: Option<MeasuredMemory>,
}

/// Fine-tune from `base` as `request` says, on `data` (`request.dataset()`); `progress(step,
/// loss)` after each step.
pub fn finetune(
    base: &Checkpoint,
    request: &RunRequest,
    data: &Dataset,
    device: &Device,
    mut progress: impl FnMut(usize, f32),
) -> Result<(FinetuneReport, Run), String> {
    let (config, steps, sample_chars) = (&request.config, request.length.planned(), request.sample);
    let prompt = data.prompt.as_str();
    let mut run = Run::start(base, request.mode.clone(), config.clone(), &data.train, &data.heldout, device)?;
    let heldout_loss_before = block_on(read_scalar(run.heldout_loss()))?;
    let sample_before = block_on(generate(run.model(), prompt, sample_chars, 0.0, config.seed))?;

    let mut losses = Vec::with_capacity(steps);
    let mut times = Vec::with_capacity(steps);
    let mut ms_per_step = None;
    while losses.len() < steps {
        // As the page trains: about a frame's worth of steps, their losses read back at once.
        // The read waits for the steps to finish, so a step's time is the batch's over its size.
        let count = steps_per_read(ms_per_step).min(steps - losses.len());
        let started = Instant::now();
        let batch = block_on(read_f32(run.steps(count)))?;
        let each = started.elapsed().as_secs_f64() * 1e3 / count as f64;
        ms_per_step = Some(each);
        for loss in batch {
            times.push(each);
            losses.push(loss);
            progress(losses.len(), loss);
        }
    }

    let heldout_loss_after = block_on(read_scalar(run.heldout_loss()))?;
    let sample_after = block_on(generate(run.model(), prompt, sample_chars, 0.0, config.seed))?;
    let (params_total, params_trainable) = run.params();
    let report = FinetuneReport {
        mode: run.mode().name().to_string(),
        data: data.name.clone(),
        steps,
        batch: config.batch,
        context: config.context,
        optimizer: config.optimizer(),
        seed: config.seed,
        params_total,
        params_trainable,
        loss_first: losses.first().copied().unwrap_or(f32::NAN),
        loss_last: losses.last().copied().unwrap_or(f32::NAN),
        losses,
        heldout_loss_before,
        heldout_loss_after,
        ms_per_step_median: median(&times).expect("a run takes at least one step"),
        checkpoint_bytes: block_on(run.checkpoint(data.task()))?.len(),
        sample_prompt: prompt.to_string(),
        sample_before,
        format_after: data.task().and_then(crate::data::task).map(|t| t.verdict(&sample_after)),
        sample_after,
        memory_predicted: run.memory_predicted(),
        memory_measured: run.trainer().memory.derive(),
    };
    Ok((report, run))
}
