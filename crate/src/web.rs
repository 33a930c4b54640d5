//! The WebAssembly boundary, and the only one: a `Lab` (the device and the shipped base, shared
//! by every widget on a page) that starts `Session`s (one fine-tuning run each), plus the pure
//! memory model for the scale panel. Every readback is async: sync reads panic on WebGPU.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::checkpoint::Checkpoint;
use crate::data;
use crate::measure::heap;
use crate::memory::{self, ScaleInput, ScaleQuestion};
use crate::readback::read_scalar;
use crate::run::{self, Caller, Length, MAX_SAMPLE, Run, RunRequest, RunSettings, TimeBudget, load_base};
use crate::serve::{Request, ServingBatch, TenantStacks, limits, serve_three_ways};
use crate::shape::ModelShape;

#[wasm_bindgen(start)]
pub fn start() {
    // SAFETY: the linker's constructor function, run once here, when the module starts.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
}

/// `{live, peak}` bytes of this instance's heap (`measure::heap::Counting`), where the CPU path
/// keeps its tensors: what the browser suite watches for leaks across runs.
#[wasm_bindgen(js_name = heapBytes)]
pub fn heap_bytes() -> Result<JsValue, JsError> {
    to_js(&serde_json::json!({ "live": heap::live_bytes(), "peak": heap::peak_bytes() }))
}

// Static constructors (cubecl registers its kernels' parts through `inventory`) live in the
// linker's `__wasm_call_ctors`. Unless the program calls it itself, wasm-ld wraps every export
// so that each call from JavaScript runs all of them again: measured in Chromium, a third of a
// training step went there. Calling it once from `start` turns that off (wasm-ld wraps exports
// only when nothing references the function).
unsafe extern "C" {
    fn __wasm_call_ctors();
}

/// Plain JS objects and numbers for everything we return, through JSON: byte counts past 2^53
/// (GPT-3 × 100,000 tenants is 3.5e16 B) round to the nearest double, as `finetune-lab scale
/// --json` read by any JSON parser does, where serde-wasm-bindgen would refuse them.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("could not hand a result to JavaScript"))
}

fn js_error(message: String) -> JsError {
    JsError::new(&message)
}

fn from_js<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("bad {what}: {e}")))
}

#[wasm_bindgen]
pub struct Lab {
    device: Device,
    base: Checkpoint,
    gpu: bool,
}

#[wasm_bindgen]
impl Lab {
    /// Parse the base model and open a backend: WebGPU when `gpu` (fails if the browser grants
    /// no adapter), else the CPU.
    pub async fn open(base: Vec<u8>, gpu: bool) -> Result<Lab, JsError> {
        let base = Checkpoint::parse(&base).map_err(js_error)?;
        let device = if gpu { open_gpu().await? } else { Device::flex() };
        Ok(Lab { device, base, gpu })
    }

    /// "webgpu" or "cpu".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        if self.gpu { "webgpu" } else { "cpu" }.to_string()
    }

    /// Our kernels against burn's ops on this device (`ops::check`): `[{name, values,
    /// gradients, tolerance}]`, the largest differences found. The browser suite runs it on
    /// WebGPU.
    #[wasm_bindgen(js_name = checkKernels)]
    pub async fn check_kernels(&self) -> Result<JsValue, JsError> {
        to_js(&crate::ops::check::all(&self.device).await.map_err(js_error)?)
    }

    /// The base model's shape (layers, d_model, heads, d_ff, vocab, context).
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Result<JsValue, JsError> {
        to_js(&self.base.header.shape)
    }

    /// Every numeric setting of a run on this base, for the page (`run::settings`):
    /// `[{name, min, max, integer, page, cli, help}]`; the element reads its defaults here.
    #[wasm_bindgen(getter)]
    pub fn settings(&self) -> Result<JsValue, JsError> {
        to_js(&run::settings(&self.base.header.shape))
    }

    /// The adapter a run trains when the reader has not picked one (`run::PAGE_ADAPTER`):
    /// `{rank, targets, lr}`; the LoRA knobs start from it.
    #[wasm_bindgen(getter, js_name = pageAdapter)]
    pub fn page_adapter(&self) -> Result<JsValue, JsError> {
        to_js(&run::PAGE_ADAPTER)
    }

    /// Start a run from the base. `options` (`run::RunSettings`): `{mode, rank?, alpha?,
    /// targets?, task? | text?, steps?, batch?, context?, sample?, lr?, seed?}`, numbers as
    /// numbers or as an attribute's text; what is missing takes the page's default. A setting
    /// out of range is refused with its name and range.
    pub fn start(&self, options: JsValue) -> Result<Session, JsError> {
        let request = page_request(&self.base.header.shape, options)?;
        let dataset = request.dataset().map_err(js_error)?;
        let config = request.config.clone();
        let run = Run::start(
            &self.base,
            request.mode.clone(),
            config.clone(),
            &dataset.train,
            &dataset.heldout,
            &self.device,
        )
        .map_err(js_error)?;
        let (params_total, params_trainable) = run.params();
        let info = SessionInfo {
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
            lr: config.lr,
            seed: config.seed,
        };
        Ok(Session { run, info, length: request.length, task: dataset.task().map(str::to_string) })
    }
}

#[cfg(feature = "wgpu")]
async fn open_gpu() -> Result<Device, JsError> {
    Device::wgpu_options().init_async().await.map_err(|e| JsError::new(&format!("WebGPU could not start: {e}")))
}

/// The CPU-only module (built without the `wgpu` feature, for browsers without WebGPU).
#[cfg(not(feature = "wgpu"))]
async fn open_gpu() -> Result<Device, JsError> {
    Err(JsError::new("this is the CPU-only module: it has no GPU backend"))
}

#[derive(Serialize, Clone)]
struct SessionInfo {
    mode: String,
    data: String,
    train_chars: usize,
    heldout_chars: usize,
    /// Things the reader should know about their text (cut to length, unknown characters).
    notes: Vec<String>,
    prompt: String,
    params_total: usize,
    params_trainable: usize,
    /// Steps to take (until `budget`, if any, decides: see `Session::decide_steps`) and characters
    /// per sample, as resolved from the options.
    steps: usize,
    budget: Option<TimeBudget>,
    sample: usize,
    batch: usize,
    context: usize,
    lr: f64,
    seed: u64,
}

#[wasm_bindgen]
pub struct Session {
    run: Run,
    info: SessionInfo,
    length: Length,
    /// The built-in task trained on, if any: an adapter file records it.
    task: Option<String>,
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

    /// One training step; resolves to its loss once the device has finished it.
    pub async fn step(&mut self) -> Result<f32, JsError> {
        let loss = self.run.step();
        read_scalar(loss).await.map_err(js_error)
    }

    #[wasm_bindgen(js_name = heldoutLoss)]
    pub async fn heldout_loss(&self) -> Result<f32, JsError> {
        read_scalar(self.run.heldout_loss()).await.map_err(js_error)
    }

    /// Greedy continuation of `prompt` by `chars` characters.
    pub async fn sample(&self, prompt: String, chars: usize) -> Result<String, JsError> {
        crate::generate::generate(self.run.model(), &prompt, chars.min(MAX_SAMPLE), 0.0, self.info.seed)
            .await
            .map_err(js_error)
    }

    /// The file a tenant would store: the whole model (full) or the adapter alone.
    pub async fn checkpoint(&self) -> Result<Vec<u8>, JsError> {
        self.run.checkpoint(self.task.as_deref()).await.map_err(js_error)
    }

    /// `{predicted, measured, samples}`: the memory model's figures for this run, and what the
    /// allocator held around the last step (`measured` is null on the CPU backend).
    pub fn memory(&self) -> Result<JsValue, JsError> {
        let samples = &self.run.trainer().memory;
        to_js(&serde_json::json!({
            "predicted": self.run.memory_predicted(),
            "measured": samples.derive(),
            "samples": samples,
        }))
    }
}

/// One row to serve, from JavaScript: `{tenant, prompt}` (tenant 0 is the base alone, tenant i
/// the i-th adapter given).
#[derive(Deserialize)]
struct ServeRow {
    tenant: usize,
    prompt: String,
}

/// Adapter files (an array of `Uint8Array`), each parsed and checked against the base; an
/// error names the file's place and the reason.
fn adapter_files(base: &Checkpoint, files: &js_sys::Array) -> Result<Vec<Checkpoint>, JsError> {
    limits::check_adapters(files.length() as usize).map_err(js_error)?;
    files
        .iter()
        .enumerate()
        .map(|(i, bytes)| {
            let bytes = js_sys::Uint8Array::new(&bytes).to_vec();
            let file = Checkpoint::parse(&bytes).map_err(|e| JsError::new(&format!("adapter {}: {e}", i + 1)))?;
            file.adapter_for(base).map_err(|e| JsError::new(&format!("adapter {}: {e}", i + 1)))?;
            Ok(file)
        })
        .collect()
}

fn serve_requests(rows: JsValue) -> Result<Vec<Request>, JsError> {
    let rows: Vec<ServeRow> = from_js(rows, "requests")?;
    limits::check_rows(rows.len()).map_err(js_error)?;
    Ok(rows.into_iter().map(|r| Request { slot: r.tenant, prompt: r.prompt }).collect())
}

#[wasm_bindgen]
impl Lab {
    /// What an adapter file holds, if it is one for this base: `{rank, alpha, targets, task,
    /// bytes}`; otherwise an error that says why (another base, shape, rank, corrupt bytes).
    #[wasm_bindgen(js_name = adapterInfo)]
    pub fn adapter_info(&self, file: Vec<u8>) -> Result<JsValue, JsError> {
        let parsed = Checkpoint::parse(&file).map_err(js_error)?;
        let spec = parsed.adapter_for(&self.base).map_err(js_error)?;
        to_js(&serde_json::json!({
            "rank": spec.rank, "alpha": spec.alpha, "targets": spec.targets,
            "task": parsed.header.task, "bytes": file.len(),
        }))
    }

    /// Serve `requests` (`[{tenant, prompt}]`) together through `adapters` (an array of adapter
    /// files) on the one base: step the returned `Serving` for one character per row.
    pub fn serve(&self, adapters: js_sys::Array, requests: JsValue) -> Result<Serving, JsError> {
        let files = adapter_files(&self.base, &adapters)?;
        let requests = serve_requests(requests)?;
        let model = load_base(&self.base, &self.device).map_err(js_error)?;
        let stacks =
            TenantStacks::new(&files.iter().collect::<Vec<_>>(), &self.base, &self.device).map_err(js_error)?;
        let together =
            ServingBatch::new(&model, &stacks, &requests, limits::TEMPERATURE, limits::SEED).map_err(js_error)?;
        Ok(Serving { together })
    }

    /// The same requests served together, one at a time and as merged copies, `chars`
    /// characters each, measured on this device: the report `finetune-lab serve --json` prints.
    #[wasm_bindgen(js_name = serveThreeWays)]
    pub async fn serve_three_ways(
        &self,
        adapters: js_sys::Array,
        requests: JsValue,
        chars: f64,
    ) -> Result<JsValue, JsError> {
        let files = adapter_files(&self.base, &adapters)?;
        let requests = serve_requests(requests)?;
        let chars = limits::check_chars(chars).map_err(js_error)?;
        let refs: Vec<&Checkpoint> = files.iter().collect();
        let clock = || js_sys::Date::now() / 1e3;
        let report =
            serve_three_ways(&self.base, &refs, &requests, chars, &self.device, &clock).await.map_err(js_error)?;
        to_js(&report)
    }
}

/// Requests being served together (`Lab.serve`).
#[wasm_bindgen]
pub struct Serving {
    together: ServingBatch,
}

#[wasm_bindgen]
impl Serving {
    /// One more character for every row, in one batched pass: a string of one character per
    /// row, in request order.
    pub async fn step(&mut self) -> Result<String, JsError> {
        Ok(self.together.step().await.map_err(js_error)?.into_iter().collect())
    }

    /// Each row's text so far.
    pub fn texts(&self) -> Result<JsValue, JsError> {
        to_js(&self.together.texts())
    }
}

/// Built-in tasks: `[{name, title, description, prompt}]`.
#[wasm_bindgen]
pub fn tasks() -> Result<JsValue, JsError> {
    let list: Vec<_> = data::TASKS
        .iter()
        .map(|t| serde_json::json!({ "name": t.name, "title": t.title, "description": t.description, "prompt": t.prompt }))
        .collect();
    to_js(&list)
}

/// Why `text` is not text (a binary file decoded as text), in the words a run would refuse it
/// with, or nothing: the page's file picker asks before it takes a file (`data::looks_binary`).
#[wasm_bindgen(js_name = notText)]
pub fn not_text(text: &str) -> Option<String> {
    data::looks_binary(text).then(|| data::DataError::Binary.to_string())
}

/// The built-in task a run takes when none is named (and the element's `task` default).
#[wasm_bindgen(js_name = defaultTask)]
pub fn default_task() -> String {
    data::default_task().name.to_string()
}

/// The memory model for the scale panel: a `ScaleQuestion` in (a preset's name; what is left
/// out takes `scaleDefaults()`), a `Report` out. What `finetune-lab scale` answers.
#[wasm_bindgen]
pub fn scale(question: JsValue) -> Result<JsValue, JsError> {
    // Through serde_json, so an unknown key is refused by name (serde-wasm-bindgen skips them).
    let value: serde_json::Value = from_js(question, "scale question")?;
    let question: ScaleQuestion =
        serde_json::from_value(value).map_err(|e| JsError::new(&format!("bad scale question: {e}")))?;
    to_js(&memory::estimate(&question.resolve().map_err(js_error)?))
}

/// What a scale question left out takes (`memory::ScaleDefaults`): the panel starts from them.
#[wasm_bindgen(js_name = scaleDefaults)]
pub fn scale_defaults() -> Result<JsValue, JsError> {
    to_js(&memory::scale_defaults())
}

/// A run's options as `Lab.start` takes them, checked and completed with the page's defaults.
fn page_request(shape: &ModelShape, options: JsValue) -> Result<RunRequest, JsError> {
    // serde-wasm-bindgen reads only the fields it knows (it keeps a number JSON cannot hold,
    // such as Infinity, for the setting to refuse): the names given are checked first.
    let names: Vec<String> =
        js_sys::Object::keys(&js_sys::Object::from(options.clone())).iter().filter_map(|n| n.as_string()).collect();
    RunSettings::refuse_unknown(names.iter().map(String::as_str)).map_err(js_error)?;
    let settings: RunSettings = from_js(options, "run options")?;
    settings.resolve(shape, Caller::Page).map_err(js_error)
}

/// What the run that `options` (as `Lab.start` takes them) would start on a model of `shape`
/// holds in memory, as the memory model predicts it, or why the options are refused: the train
/// panel's cost line for the adapter being chosen, before any run.
#[wasm_bindgen(js_name = predictRun)]
pub fn predict_run(shape: JsValue, options: JsValue) -> Result<JsValue, JsError> {
    let shape: ModelShape = from_js(shape, "model shape")?;
    let request = page_request(&shape, options)?;
    let (batch, context) = (request.config.batch, request.config.context);
    to_js(&memory::estimate(&ScaleInput::training_run(shape, request.mode, batch, context)))
}

/// How a list of models names a preset (`ModelShape::label`): "GPT-3 (175B)".
#[wasm_bindgen(js_name = presetLabel)]
pub fn preset_label(model: &str) -> Result<String, JsError> {
    Ok(ModelShape::preset(model).map_err(js_error)?.label())
}

/// The precision a preset model trains in unless told otherwise (`Precision::default_for`):
/// "mixed16" or "fp32".
#[wasm_bindgen(js_name = defaultPrecision)]
pub fn default_precision(model: &str) -> Result<String, JsError> {
    let shape = ModelShape::preset(model).map_err(js_error)?;
    Ok(memory::Precision::default_for(&shape).name().to_string())
}

/// The most characters of the reader's own text a run uses (`data::USER_TEXT_MAX_CHARS`): the
/// page's text box and file reader cut there too, and say so.
#[wasm_bindgen(js_name = userTextMaxChars)]
pub fn user_text_max_chars() -> usize {
    data::USER_TEXT_MAX_CHARS
}

/// Serving's limits and defaults (`serve::limits`): `{tenants, rows: [min, max], chars: [min, max],
/// chars_default, compare_chars}`.
#[wasm_bindgen(js_name = serveLimits)]
pub fn serve_limits() -> Result<JsValue, JsError> {
    to_js(&limits::limits())
}

/// Whether `rows` requests of `chars` characters each may be served: an error that says which
/// limit it passes, and the range.
#[wasm_bindgen(js_name = checkServe)]
pub fn check_serve(rows: usize, chars: f64) -> Result<(), JsError> {
    limits::check_rows(rows).and_then(|()| limits::check_chars(chars)).map(drop).map_err(js_error)
}

/// The median of step or request times (`crate::median`), as every report of ours gives them.
#[wasm_bindgen]
pub fn median(values: Vec<f64>) -> Option<f64> {
    crate::median::median(&values)
}

/// Decimal units as the lesson writes them ("350 GB").
#[wasm_bindgen(js_name = formatBytes)]
pub fn format_bytes(bytes: f64) -> String {
    memory::format_bytes(bytes as u64)
}

/// "5.4 ms", "50.0 s", "4.2 min", as `finetune-lab scale` prints cold loads.
#[wasm_bindgen(js_name = formatSeconds)]
pub fn format_seconds(seconds: f64) -> String {
    memory::format_seconds(seconds)
}
