//! `import`: a PEFT LoRA adapter (a directory, or a .zip of one) as our adapter file for the base,
//! refused with the reason when its base, shapes, targets or format do not fit.

use std::path::{Path, PathBuf};

use clap::Args;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::hf::{import_adapter, peft_files};

use crate::CliError;
use crate::args::{BaseArg, read, write};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// a PEFT adapter: its directory (adapter_config.json, adapter_model.safetensors) or a .zip of it
    #[arg(long, value_name = "PATH")]
    peft: PathBuf,
    /// the adapter file to write
    #[arg(long = "out", value_name = "PATH")]
    output: PathBuf,
    #[command(flatten)]
    base: BaseArg,
}

pub fn import(args: &ImportArgs) -> Result<(), CliError> {
    let base = args.base.load()?;
    let (config, weights) = peft_directory(&args.peft)?;
    let bytes = import_adapter(&config, &weights, &base)
        .map_err(|e| CliError::Failed(format!("{}: {e}", args.peft.display())))?;
    let spec = Checkpoint::parse(&bytes).map_err(CliError::Failed)?.header.adapter.expect("an adapter");
    write(&args.output, &bytes)?;
    let targets: Vec<&str> = spec.targets.iter().map(|t| t.name()).collect();
    eprintln!(
        "wrote {}: {} bytes, rank {} α {} on {}",
        args.output.display(),
        bytes.len(),
        spec.rank,
        spec.alpha,
        targets.join(",")
    );
    Ok(())
}

/// The two files of a PEFT adapter, from its directory or from a .zip holding them.
fn peft_directory(path: &Path) -> Result<(Vec<u8>, Vec<u8>), CliError> {
    if path.is_dir() {
        return Ok((read(&path.join("adapter_config.json"))?, read(&path.join("adapter_model.safetensors"))?));
    }
    peft_files(&read(path)?).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))
}
