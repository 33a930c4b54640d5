//! `generate`: sample from the base, or from the base with an adapter or a full checkpoint.

use burn::tensor::Device;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::finetune::{apply_checkpoint, load_base};
use finetune_lab::readback::block_on;
use finetune_lab::request;

use crate::CliError;
use crate::args::{Command, Flag};
use crate::finetune_cmd;

pub fn command() -> Command {
    Command {
        name: "generate",
        about: "Sample from the base, or from the base with an adapter or a full checkpoint on it.",
        flags: vec![
            Flag::value("prompt", "TEXT", "the text to continue (default \"The \")"),
            Flag::number("chars", "N", 200.0, 1.0..=10_000.0, "characters to generate"),
            Flag::number("temperature", "T", 0.8, 0.0..=5.0, "softmax temperature; 0 is greedy"),
            Flag::number("seed", "S", 1.0, 0.0..=request::MAX_SEED as f64, "seeds the sampling"),
            Flag::value("base", "PATH", "the base model (default the shipped www/base/tiny.ftlab)"),
            Flag::value("adapter", "PATH", "an adapter (or a full checkpoint) to put on the base"),
        ],
    }
}

pub fn generate(command: &Command, raw: &[String]) -> Result<(), CliError> {
    let args = command.parse(raw)?;
    let prompt = args.text("prompt").unwrap_or("The ");
    let chars = args.number::<u32>("chars")? as usize;
    let temperature = args.number::<f32>("temperature")?;
    let seed = u64::from(args.number::<u32>("seed")?);
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
