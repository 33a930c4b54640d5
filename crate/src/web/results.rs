//! What the wasm API hands the page, each value a struct the page reads by its field names. The
//! types they hold come from the crate's own modules (the memory model's `Report`, the run's
//! settings, serving's report); those made for the page alone are here, with the code that fills
//! them, so a native test fills them as the browser's module does.
//!
//! In a test build every one derives ts-rs's `TS`: `cargo test` writes its TypeScript into
//! `www/lib/api/` (`.cargo/config.toml` says where, and that byte counts are plain numbers, as
//! the JSON they cross in has them), the declarations `tsc --checkJs` holds the element to.

use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::data::{Dataset, TASKS};
use crate::lora::Target;
use crate::measure::{MeasuredMemory, StepSamples, heap};
use crate::memory::Report;
use crate::optimizer::OptimizerSettings;
use crate::run::{Run, RunRequest, TimeBudget};

/// A session's run as resolved from its options (`Session.info`).
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct SessionInfo {
    pub mode: String,
    /// The built-in task's name, or what the reader's text is called.
    pub data: String,
    pub train_chars: usize,
    pub heldout_chars: usize,
    /// Things the reader should know about their text (cut to length, unknown characters).
    pub notes: Vec<String>,
    /// Where the before and after samples start.
    pub prompt: String,
    pub params_total: usize,
    pub params_trainable: usize,
    /// Steps to take, until `budget`, if any, decides them (`Session.decideSteps`).
    pub steps: usize,
    pub budget: Option<TimeBudget>,
    /// Characters per sample.
    pub sample: usize,
    pub batch: usize,
    pub context: usize,
    /// The learning rate, weight decay, betas, ε and clip every step is taken with.
    pub optimizer: OptimizerSettings,
    pub seed: u64,
}

impl SessionInfo {
    pub fn new(request: &RunRequest, dataset: &Dataset, run: &Run) -> Self {
        let (params_total, params_trainable) = run.params();
        let config = &request.config;
        Self {
            mode: request.mode.name().to_string(),
            data: dataset.name.clone(),
            train_chars: dataset.train.chars().count(),
            heldout_chars: dataset.heldout.chars().count(),
            notes: dataset.notes.clone(),
            prompt: dataset.prompt.clone(),
            params_total,
            params_trainable,
            steps: request.length.planned(),
            budget: request.length.budget(),
            sample: request.sample,
            batch: config.batch,
            context: config.context,
            optimizer: config.optimizer(),
            seed: config.seed,
        }
    }
}

/// A run's memory (`Session.memory`): the memory model's figures, and what was measured around
/// the last step (`measured` where the device's pool or the heap could be read).
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct RunMemory {
    pub predicted: Report,
    pub measured: Option<MeasuredMemory>,
    pub samples: StepSamples,
}

impl RunMemory {
    pub fn of(run: &Run) -> Self {
        let samples = run.trainer().memory.clone();
        Self { predicted: run.memory_predicted(), measured: samples.derive(), samples }
    }
}

/// What an adapter file holds, once it is known to fit the base (`Lab.adapterInfo`).
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct AdapterInfo {
    pub rank: usize,
    pub alpha: f32,
    pub targets: Vec<Target>,
    /// The built-in task it learned, if any.
    pub task: Option<String>,
    /// The file's size.
    pub bytes: usize,
    /// The SHA-256 of the base it was trained on (this base's: it fits).
    pub base_sha256: String,
}

impl AdapterInfo {
    /// `file`'s adapter, or why it is not one for `base` (another base, shape, rank, bytes).
    pub fn of(file: &[u8], base: &Checkpoint) -> Result<Self, String> {
        let parsed = Checkpoint::parse(file)?;
        let spec = parsed.adapter_for(base)?;
        Ok(Self {
            rank: spec.rank,
            alpha: spec.alpha,
            targets: spec.targets.clone(),
            task: parsed.header.task.clone(),
            bytes: file.len(),
            base_sha256: base.sha256.clone(),
        })
    }
}

/// A built-in task as the data picker offers it (`tasks()`).
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct TaskInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    /// Where a sample of this task starts.
    pub prompt: String,
}

pub fn tasks() -> Vec<TaskInfo> {
    TASKS
        .iter()
        .map(|t| TaskInfo {
            name: t.name.to_string(),
            title: t.title.to_string(),
            description: t.description.to_string(),
            prompt: t.prompt.to_string(),
        })
        .collect()
}

/// This instance's heap (`heapBytes()`), where the CPU path keeps its tensors: live and peak
/// bytes, counted by `measure::heap` (none where nothing counts).
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct HeapBytes {
    pub live: Option<u64>,
    pub peak: Option<u64>,
}

pub fn heap_bytes() -> HeapBytes {
    HeapBytes { live: heap::live_bytes(), peak: heap::peak_bytes() }
}
