//! A whole fine-tuning run driven synchronously: what the CLI prints and the tests check.
//! Native only; the browser drives the same `Run` step by step with async readbacks.

use std::time::Instant;

use burn::tensor::Device;
use serde::Serialize;

use super::fine_tune::Run;
use super::settings::RunRequest;
use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, FormatVerdict};
use crate::generate::generate;
use crate::measure::MeasuredMemory;
use crate::median::median;
use crate::memory;
use crate::optimizer::OptimizerSettings;
use crate::readback::{block_on, read_scalar};

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
    for step in 1..=steps {
        let started = Instant::now();
        // Reading the loss waits for the step to finish, so the time is the whole step.
        let loss = block_on(read_scalar(run.step()))?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        losses.push(loss);
        progress(step, loss);
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
