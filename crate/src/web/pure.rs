//! The functions without a device: the tasks, the memory model for the scale panel and the
//! knobs' costs, the limits and formats every panel shares with the CLI.

use wasm_bindgen::prelude::*;

use super::lab::page_request;
use super::{from_js, js_error, results, to_js};
use crate::data;
use crate::memory::{self, ScaleInput, ScaleQuestion};
use crate::serve::limits;
use crate::shape::ModelShape;

/// Built-in tasks: `[TaskInfo]`.
#[wasm_bindgen]
pub fn tasks() -> Result<JsValue, JsError> {
    to_js(&results::tasks())
}

/// `{live, peak}` bytes of this instance's heap (`measure::heap::Counting`), where the CPU path
/// keeps its tensors: what the browser suite watches for leaks across runs.
#[wasm_bindgen(js_name = heapBytes)]
pub fn heap_bytes() -> Result<JsValue, JsError> {
    to_js(&results::heap_bytes())
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
