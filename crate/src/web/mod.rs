//! The WebAssembly boundary, and the only one, by what each part serves:
//! - `lab`: a `Lab`, the device and the shipped base shared by every widget on a page, which
//!   starts sessions;
//! - `session`: a `Session`, one fine-tuning run;
//! - `serving`: tenants' adapters served together on the base, or the three ways measured;
//! - `exchange`: Hugging Face's formats, a `.zip` out and a PEFT adapter in;
//! - `pure`: the functions without a device: tasks, the memory model, formats, limits;
//! - `results`: every value these hand the page, as Serialize structs. It alone compiles on
//!   every target: `cargo test` writes its TypeScript (ts-rs) into `www/lib/api/`, and the
//!   browser suite runs `tsc --checkJs` on the element against it, so a field renamed here fails
//!   a test instead of the page.
//!
//! Results cross as JSON (`to_js`): byte counts past 2^53 (GPT-3 × 100,000 tenants is 3.5e16 B)
//! round to the nearest double, as `finetune-lab scale --json` read by any JSON parser does,
//! where serde-wasm-bindgen would refuse them. Every readback is async: sync reads panic on
//! WebGPU.

pub mod results;

#[cfg(target_family = "wasm")]
mod exchange;
#[cfg(target_family = "wasm")]
mod lab;
#[cfg(target_family = "wasm")]
mod pure;
#[cfg(target_family = "wasm")]
mod serving;
#[cfg(target_family = "wasm")]
mod session;

#[cfg(target_family = "wasm")]
pub use {lab::Lab, serving::Serving, session::Session};

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

#[cfg(target_family = "wasm")]
#[wasm_bindgen(start)]
pub fn start() {
    // SAFETY: the linker's constructor function, run once here, when the module starts.
    unsafe { __wasm_call_ctors() };
    console_error_panic_hook::set_once();
}

// Static constructors (cubecl registers its kernels' parts through `inventory`) live in the
// linker's `__wasm_call_ctors`. Unless the program calls it itself, wasm-ld wraps every export
// so that each call from JavaScript runs all of them again: measured in Chromium, a third of a
// training step went there. Calling it once from `start` turns that off (wasm-ld wraps exports
// only when nothing references the function).
#[cfg(target_family = "wasm")]
unsafe extern "C" {
    fn __wasm_call_ctors();
}

/// A result for JavaScript, as a plain object through JSON (see the module's comment).
#[cfg(target_family = "wasm")]
fn to_js<T: serde::Serialize>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("could not hand a result to JavaScript"))
}

#[cfg(target_family = "wasm")]
fn js_error(message: String) -> JsError {
    JsError::new(&message)
}

#[cfg(target_family = "wasm")]
fn from_js<T: for<'de> serde::Deserialize<'de>>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| JsError::new(&format!("bad {what}: {e}")))
}
