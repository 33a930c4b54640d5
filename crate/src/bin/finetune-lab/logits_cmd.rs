//! `logits`: the model's next-token logits at every position of a text, as JSON, so another
//! implementation (transformers and PEFT in tests/peft/check.py) can be held to ours.

use std::path::PathBuf;

use burn::tensor::{Device, Int, Tensor, TensorData};
use clap::Args;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::readback::{block_on, read_f32};
use finetune_lab::run::{apply_checkpoint, load_base};
use finetune_lab::tokenizer;

use crate::CliError;
use crate::args::{BaseArg, read};

#[derive(Args, Debug)]
pub struct LogitsArgs {
    /// the text, at most the model's context in characters
    #[arg(long, value_name = "TEXT")]
    text: String,
    /// an adapter (or a full checkpoint) to put on the base
    #[arg(long, value_name = "PATH")]
    adapter: Option<PathBuf>,
    #[command(flatten)]
    base: BaseArg,
}

pub fn logits(args: &LogitsArgs) -> Result<(), CliError> {
    let base = args.base.load()?;
    let device = Device::flex();
    let mut model = load_base(&base, &device).map_err(CliError::Failed)?;
    if let Some(path) = &args.adapter {
        let file = Checkpoint::parse(&read(path)?).map_err(CliError::Failed)?;
        if file.header.adapter.is_some() {
            file.adapter_for(&base).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
        }
        model = apply_checkpoint(model, &file, &device).map_err(CliError::Failed)?;
    }
    let ids = tokenizer::encode(&args.text);
    if ids.is_empty() || ids.len() > model.context() {
        return Err(CliError::Usage(format!("--text must be 1 to {} characters, got {}", model.context(), ids.len())));
    }
    let input = TensorData::new(ids.iter().map(|&id| id as i32).collect::<Vec<_>>(), [1, ids.len()]);
    let logits =
        block_on(read_f32(model.forward(Tensor::<2, Int>::from_data(input, &device)))).map_err(CliError::Failed)?;
    let rows: Vec<&[f32]> = logits.chunks(logits.len() / ids.len()).collect();
    crate::emit(&serde_json::json!({ "ids": ids, "logits": rows }).to_string());
    Ok(())
}
