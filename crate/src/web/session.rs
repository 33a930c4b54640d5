//! A `Session`: one fine-tuning run, stepped by the page, with its samples, scores, checkpoint
//! and memory.

use std::cell::RefCell;

use burn::module::Module;
use burn::tensor::Device;
use wasm_bindgen::prelude::*;

use super::results::{RunMemory, SessionInfo};
use super::{js_error, to_js};
use crate::data;
use crate::generate::generate;
use crate::model::Gpt;
use crate::readback::{copy_to_cpu, read_f32, read_scalar};
use crate::run::{Length, MAX_SAMPLE, Run, steps_per_read};

#[wasm_bindgen]
pub struct Session {
    run: Run,
    info: SessionInfo,
    length: Length,
    /// The built-in task trained on, if any: an adapter file records it.
    task: Option<String>,
    /// Milliseconds a step took in the last batch, which sizes the next (`steps_per_read`).
    ms_per_step: Option<f64>,
    /// The model on the CPU, where sampling runs, and the step it was copied after: the page
    /// samples in pieces, and the pieces of one sample share one copy.
    on_cpu: RefCell<Option<(usize, Gpt)>>,
}

impl Session {
    pub(super) fn new(run: Run, info: SessionInfo, length: Length, task: Option<String>) -> Self {
        Self { run, info, length, task, ms_per_step: None, on_cpu: RefCell::new(None) }
    }

    /// The model as it stands, on the CPU (`generate` says why sampling runs there), read back
    /// once per step.
    async fn model_on_cpu(&self) -> Result<Gpt, String> {
        let model = self.run.model().valid();
        if model.devices()[0] == Device::flex() {
            return Ok(model);
        }
        let steps = self.run.steps_done();
        if let Some((copied_after, copy)) = &*self.on_cpu.borrow()
            && *copied_after == steps
        {
            return Ok(copy.clone());
        }
        let copy = copy_to_cpu(&model).await?;
        *self.on_cpu.borrow_mut() = Some((steps, copy.clone()));
        Ok(copy)
    }
}

#[wasm_bindgen]
impl Session {
    #[wasm_bindgen(getter)]
    pub fn info(&self) -> Result<JsValue, JsError> {
        to_js(&self.info)
    }

    /// The run's length, when a time budget sets it and `times_ms` (every step's time so far,
    /// in order) has just reached the steps that decide it; otherwise undefined. Asked after
    /// every step: the crate, not the page, knows which steps are warm-up and which are timed.
    #[wasm_bindgen(js_name = decideSteps)]
    pub fn decide_steps(&self, times_ms: Vec<f64>) -> Option<usize> {
        self.length.decide(&times_ms)
    }

    /// Whether `sample`, written after the prompt, follows the built-in task's format:
    /// `{follows, format, why}` (`why` only when it does not); null for the reader's own text,
    /// which has no format to check.
    #[wasm_bindgen(js_name = checkFormat)]
    pub fn check_format(&self, sample: &str) -> Result<JsValue, JsError> {
        match self.task.as_deref().and_then(data::task) {
            Some(task) => to_js(&task.verdict(sample)),
            None => Ok(JsValue::NULL),
        }
    }

    /// Training steps, at least one and at most `most`: as many as this device takes about a
    /// frame for (`steps_per_read`), queued together and read back at once. Resolves to each
    /// step's loss, in order, once the device has finished them.
    pub async fn steps(&mut self, most: usize) -> Result<Vec<f32>, JsError> {
        let count = steps_per_read(self.ms_per_step).min(most).max(1);
        let started = js_sys::Date::now();
        let losses = read_f32(self.run.steps(count)).await.map_err(js_error)?;
        self.ms_per_step = Some((js_sys::Date::now() - started) / count as f64);
        Ok(losses)
    }

    #[wasm_bindgen(js_name = heldoutLoss)]
    pub async fn heldout_loss(&self) -> Result<f32, JsError> {
        read_scalar(self.run.heldout_loss()).await.map_err(js_error)
    }

    /// Greedy continuation of `prompt` by `chars` characters.
    pub async fn sample(&self, prompt: String, chars: usize) -> Result<String, JsError> {
        let model = self.model_on_cpu().await.map_err(js_error)?;
        generate(&model, &prompt, chars.min(MAX_SAMPLE), 0.0, self.info.seed).await.map_err(js_error)
    }

    /// The file a tenant would store: the whole model (full) or the adapter alone.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, JsError> {
        self.run.checkpoint(self.task.as_deref()).await.map_err(js_error)
    }

    /// `{predicted, measured, samples}`: the memory model's figures for this run, and what the
    /// allocator held around the last step (`measured` is null on the CPU backend).
    pub fn memory(&self) -> Result<JsValue, JsError> {
        to_js(&RunMemory::of(&self.run))
    }
}
