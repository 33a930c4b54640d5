//! Serving on the `Lab`'s base: tenants' adapter files checked (`Lab.adapterInfo`), rows served
//! together one character at a time (`Lab.serve`, a `Serving`), or the three ways measured
//! (`Lab.serveThreeWays`).

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use super::lab::Lab;
use super::results::AdapterInfo;
use super::{from_js, js_error, to_js};
use crate::checkpoint::Checkpoint;
use crate::run::load_base;
use crate::serve::{Request, ServingBatch, TenantStacks, limits, serve_three_ways};

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
        to_js(&AdapterInfo::of(&file, &self.base).map_err(js_error)?)
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
