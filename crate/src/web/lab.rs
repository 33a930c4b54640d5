//! The `Lab`: the device and the shipped base, shared by every widget on a page (one per
//! backend), which starts a `Session` per run.

use std::cell::Cell;

use burn::tensor::Device;
use wasm_bindgen::prelude::*;

use super::results::SessionInfo;
use super::session::Session;
use super::{from_js, js_error, to_js};
use crate::checkpoint::Checkpoint;
use crate::run::{self, Caller, Run, RunRequest, RunSettings};
use crate::shape::ModelShape;

#[wasm_bindgen]
pub struct Lab {
    pub(super) device: Device,
    pub(super) base: Checkpoint,
    gpu: bool,
    /// Whether `warm_up` has been asked for: every widget on a page asks, the first one does it.
    warmed: Cell<bool>,
}

#[wasm_bindgen]
impl Lab {
    /// Parse the base model and open a backend: WebGPU when `gpu` (fails if the browser grants
    /// no adapter), else the CPU.
    pub async fn open(base: Vec<u8>, gpu: bool) -> Result<Lab, JsError> {
        let base = Checkpoint::parse(&base).map_err(js_error)?;
        let device = if gpu { open_gpu().await? } else { Device::flex() };
        Ok(Lab { device, base, gpu, warmed: Cell::new(false) })
    }

    /// "webgpu" or "cpu".
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        if self.gpu { "webgpu" } else { "cpu" }.to_string()
    }

    /// Compile this device's pipelines for a training step with one too small to take any time
    /// (`run::warm_up`), so that the reader's first run does not wait for them; the page asks
    /// as soon as the base's held-out loss is queued, so they compile while the GPU computes it.
    /// Once a Lab; nothing of the run is kept.
    #[wasm_bindgen(js_name = warmUp)]
    pub async fn warm_up(&self) -> Result<(), JsError> {
        if self.warmed.replace(true) {
            return Ok(());
        }
        run::warm_up(&self.base, &self.device).await.map_err(js_error)
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
        let info = SessionInfo::new(&request, &dataset, &run);
        Ok(Session::new(run, info, request.length, dataset.task().map(str::to_string)))
    }
}

#[cfg(feature = "wgpu")]
async fn open_gpu() -> Result<Device, JsError> {
    let software = software_adapter().await;
    crate::gpu::options(software).init_async().await.map_err(|e| JsError::new(&format!("WebGPU could not start: {e}")))
}

/// Whether the browser's WebGPU adapter is a software one (`GPUAdapterInfo.isFallbackAdapter`:
/// SwiftShader in Chromium), asked before burn opens its own, whose options depend on it. Where
/// the question cannot be asked, a hardware adapter is assumed.
#[cfg(feature = "wgpu")]
async fn software_adapter() -> bool {
    use js_sys::{Function, Promise, Reflect};
    let get =
        |object: &JsValue, key: &str| Reflect::get(object, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined());
    let Some(gpu) = get(&js_sys::global(), "navigator").and_then(|n| get(&n, "gpu")) else { return false };
    let Some(request) = get(&gpu, "requestAdapter").and_then(|f| f.dyn_into::<Function>().ok()) else { return false };
    let Some(promise) = request.call0(&gpu).ok().and_then(|p| p.dyn_into::<Promise>().ok()) else { return false };
    let Ok(adapter) = wasm_bindgen_futures::JsFuture::from(promise).await else { return false };
    get(&adapter, "info").and_then(|info| get(&info, "isFallbackAdapter")).and_then(|v| v.as_bool()).unwrap_or(false)
}

/// The CPU-only module (built without the `wgpu` feature, for browsers without WebGPU).
#[cfg(not(feature = "wgpu"))]
async fn open_gpu() -> Result<Device, JsError> {
    Err(JsError::new("this is the CPU-only module: it has no GPU backend"))
}

/// A run's options as `Lab.start` takes them, checked and completed with the page's defaults.
pub(super) fn page_request(shape: &ModelShape, options: JsValue) -> Result<RunRequest, JsError> {
    // serde-wasm-bindgen reads only the fields it knows (it keeps a number JSON cannot hold,
    // such as Infinity, for the setting to refuse): the names given are checked first.
    let names: Vec<String> =
        js_sys::Object::keys(&js_sys::Object::from(options.clone())).iter().filter_map(|n| n.as_string()).collect();
    RunSettings::refuse_unknown(names.iter().map(String::as_str)).map_err(js_error)?;
    let settings: RunSettings = from_js(options, "run options")?;
    settings.resolve(shape, Caller::Page).map_err(js_error)
}
