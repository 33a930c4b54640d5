//! `export`: a model or an adapter in Hugging Face's formats, as a directory that
//! `AutoModelForCausalLM.from_pretrained` or `PeftModel.from_pretrained` opens.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use clap::{Args, ValueEnum};
use finetune_lab::checkpoint::{Checkpoint, to_bytes};
use finetune_lab::hf::{ExportFile, adapter_directory, model_directory};
use finetune_lab::readback::block_on;
use finetune_lab::run::{apply_checkpoint, load_base};

use crate::CliError;
use crate::args::{BaseArg, read, write};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// a model as a transformers GPT-2 directory, an adapter as a PEFT LoRA directory
    Hf,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_enum, value_name = "hf")]
    format: Format,
    /// a full checkpoint or an adapter file [default: the base itself]
    #[arg(long = "in", value_name = "PATH")]
    input: Option<PathBuf>,
    /// export an adapter merged into its base, as a whole model, instead of as an adapter
    #[arg(long)]
    merge: bool,
    /// the directory to write (made if missing)
    #[arg(long = "out", value_name = "DIR")]
    output: PathBuf,
    #[command(flatten)]
    base: BaseArg,
}

pub fn export(args: &ExportArgs) -> Result<(), CliError> {
    let base = args.base.load()?;
    let given = match &args.input {
        Some(path) => {
            Some(Checkpoint::parse(&read(path)?).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?)
        }
        None => None,
    };
    let file = given.as_ref().unwrap_or(&base);
    let files = match (&file.header.adapter, args.merge) {
        (Some(_), false) => {
            file.adapter_for(&base).map_err(CliError::Failed)?;
            adapter_directory(file)
        }
        (Some(_), true) => {
            file.adapter_for(&base).map_err(CliError::Failed)?;
            let device = Device::flex();
            let model = apply_checkpoint(load_base(&base, &device).map_err(CliError::Failed)?, file, &device)
                .map_err(CliError::Failed)?;
            let bytes = block_on(to_bytes(&model.merged(), &base.header.shape, None)).map_err(CliError::Failed)?;
            // The merged model records the base it came from, as the base's own export does.
            let mut merged = Checkpoint::parse(&bytes).map_err(CliError::Failed)?;
            merged.sha256 = base.sha256.clone();
            model_directory(&merged)
        }
        (None, true) => return Err(CliError::Usage("--merge needs an adapter file as --in".into())),
        (None, false) => model_directory(file),
    }
    .map_err(CliError::Failed)?;
    write_directory(&args.output, &files)
}

fn write_directory(dir: &Path, files: &[ExportFile]) -> Result<(), CliError> {
    std::fs::create_dir_all(dir).map_err(|e| CliError::Failed(format!("cannot make {}: {e}", dir.display())))?;
    for file in files {
        write(&dir.join(file.name), &file.bytes)?;
        eprintln!("wrote {}: {} bytes", dir.join(file.name).display(), file.bytes.len());
    }
    Ok(())
}
