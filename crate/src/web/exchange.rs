//! Hugging Face's formats on the `Lab`'s base, for the page: a model or an adapter file as the
//! `.zip` of its transformers or PEFT directory (`Lab.huggingFaceZip`), and a PEFT LoRA adapter
//! the reader drops (a `.zip`, or its two files) as an adapter file for this base
//! (`Lab.importPeft`). What `finetune-lab export --format hf` and `import` do.

use wasm_bindgen::prelude::*;

use super::js_error;
use super::lab::Lab;
use crate::checkpoint::Checkpoint;
use crate::hf::{adapter_directory, import_adapter, model_directory, peft_files};

/// The folder an export unpacks into, so unzipping it gives the directory `from_pretrained` takes.
const MODEL_FOLDER: &str = "finetune-lab-gpt2";
const ADAPTER_FOLDER: &str = "finetune-lab-lora";

#[wasm_bindgen]
impl Lab {
    /// `file` (a full model from a run, or an adapter for this base) as the `.zip` of its
    /// Hugging Face directory: a transformers GPT-2 model, or a PEFT LoRA adapter.
    #[wasm_bindgen(js_name = huggingFaceZip)]
    pub fn hugging_face_zip(&self, file: Vec<u8>) -> Result<Vec<u8>, JsError> {
        let parsed = Checkpoint::parse(&file).map_err(js_error)?;
        let (folder, files) = if parsed.header.adapter.is_some() {
            parsed.adapter_for(&self.base).map_err(js_error)?;
            (ADAPTER_FOLDER, adapter_directory(&parsed))
        } else {
            (MODEL_FOLDER, model_directory(&parsed))
        };
        let files = files.map_err(js_error)?;
        let named: Vec<(String, &[u8])> =
            files.iter().map(|f| (format!("{folder}/{}", f.name), f.bytes.as_slice())).collect();
        Ok(crate::zip::write(&named))
    }

    /// A PEFT LoRA adapter as an adapter file for this base, or why it cannot be one. `first` is
    /// a `.zip` of its directory when `weights` is absent, else its `adapter_config.json` with
    /// `weights` its `adapter_model.safetensors`.
    #[wasm_bindgen(js_name = importPeft)]
    pub fn import_peft(&self, first: Vec<u8>, weights: Option<Vec<u8>>) -> Result<Vec<u8>, JsError> {
        let (config, weights) = match weights {
            Some(weights) => (first, weights),
            None => peft_files(&first).map_err(js_error)?,
        };
        import_adapter(&config, &weights, &self.base).map_err(js_error)
    }
}
