//! `generate`: sample from the base, or from the base with an adapter or a full checkpoint.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use burn::tensor::Device;
use clap::Args;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::readback::block_on;
use finetune_lab::run::{MAX_SEED, apply_checkpoint, load_base};

use crate::CliError;
use crate::args::{BaseArg, between, ranged};

const CHARS: RangeInclusive<usize> = 1..=10_000;
/// Past 5 the softmax is nearly flat: characters at random.
const TEMPERATURE: RangeInclusive<f32> = 0.0..=5.0;
const SEED: RangeInclusive<u64> = 0..=MAX_SEED;

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// the text to continue
    #[arg(long, value_name = "TEXT", default_value = "The ")]
    prompt: String,
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = between(CHARS),
          help = ranged("characters to generate", &CHARS))]
    chars: usize,
    #[arg(long, value_name = "T", default_value_t = 0.8, value_parser = between(TEMPERATURE),
          help = ranged("softmax temperature; 0 is greedy", &TEMPERATURE))]
    temperature: f32,
    #[arg(long, value_name = "S", default_value_t = 1, value_parser = between(SEED),
          help = ranged("seeds the sampling", &SEED))]
    seed: u64,
    #[command(flatten)]
    base: BaseArg,
    /// an adapter (or a full checkpoint) to put on the base
    #[arg(long, value_name = "PATH")]
    adapter: Option<PathBuf>,
}

pub fn generate(args: &GenerateArgs) -> Result<(), CliError> {
    let base = args.base.load()?;
    let device = Device::flex();
    let mut model = load_base(&base, &device).map_err(CliError::Failed)?;
    if let Some(path) = &args.adapter {
        let file = Checkpoint::parse(&crate::args::read(path)?).map_err(CliError::Failed)?;
        if file.header.adapter.is_some() {
            file.adapter_for(&base).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
        }
        model = apply_checkpoint(model, &file, &device).map_err(CliError::Failed)?;
    }
    let text =
        block_on(finetune_lab::generate::generate(&model, &args.prompt, args.chars, args.temperature, args.seed))
            .map_err(CliError::Failed)?;
    crate::emit(&format!("{}{text}", args.prompt));
    Ok(())
}
