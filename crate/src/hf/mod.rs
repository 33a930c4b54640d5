//! Hugging Face's formats, both ways: a model as a `transformers` GPT-2 directory, an adapter as
//! a PEFT LoRA directory, and a PEFT LoRA adapter back into our adapter file.
//!
//! Our model is GPT-2's architecture with exact GELU (`activation_function: "gelu"`) and weights
//! stored `[in, out]` as GPT-2's `Conv1D` stores them, so nothing is approximated either way;
//! `tests/peft/check.py` has transformers and PEFT themselves check every export and import.
//! Plain data in and out (our `Checkpoint`, file bytes): no burn, no device.

mod gpt2;
mod names;
mod peft;
mod tensors;
mod tokenizer;

pub use gpt2::model_directory;
pub use peft::{adapter_directory, import_adapter, peft_files};

/// One file of an exported directory: its name in the directory and its bytes.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

/// The JSON files we write, pretty-printed as `save_pretrained` writes its own.
fn json_file(name: &'static str, value: &serde_json::Value) -> ExportFile {
    ExportFile { name, bytes: (serde_json::to_string_pretty(value).expect("json") + "\n").into_bytes() }
}
