//! `generate`: sample from the base, or from the base with an adapter or a full checkpoint.

use burn::tensor::Device;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::finetune::{apply_checkpoint, load_base};
use finetune_lab::readback::block_on;

use crate::CliError;
use crate::args::Args;
use crate::finetune_cmd;

pub fn generate(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(raw, &["prompt", "chars", "temperature", "seed", "base", "adapter"], &[])?;
    let prompt = args.text("prompt").unwrap_or("The ");
    let chars = args.number("chars", 200, 1..=10_000)?;
    let temperature = args.number("temperature", 0.8, 0.0..=5.0)?;
    let seed = args.number("seed", 1, 0..=u64::MAX)?;
    let base = finetune_cmd::load_base(&args)?;
    let device = Device::flex();
    let mut model = load_base(&base, &device).map_err(CliError::Failed)?;
    if let Some(path) = args.text("adapter") {
        let bytes = std::fs::read(path).map_err(|e| CliError::Failed(format!("cannot read {path}: {e}")))?;
        let file = Checkpoint::parse(&bytes).map_err(CliError::Failed)?;
        if file.header.adapter.is_some() {
            file.adapter_for(&base).map_err(|e| CliError::Failed(format!("{path}: {e}")))?;
        }
        model = apply_checkpoint(model, &file, &device).map_err(CliError::Failed)?;
    }
    let text = block_on(finetune_lab::generate::generate(&model, prompt, chars, temperature, seed))
        .map_err(CliError::Failed)?;
    crate::emit(&format!("{prompt}{text}"));
    Ok(())
}
