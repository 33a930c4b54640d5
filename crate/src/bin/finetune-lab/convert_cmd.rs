//! `convert`: rewrite a checkpoint with its values stored as f32, f16 or i8 (`Dtype`). The site
//! ships its base as i8 (about a quarter of the f32 download); the command prints what the
//! rounding costs on held-out text and, when the output has a sidecar (`tiny.json` beside
//! `tiny.ftlab`), brings its size, checksum, dtype and command up to date.

use std::path::PathBuf;

use burn::tensor::Device;
use clap::Args;
use finetune_lab::checkpoint::{Checkpoint, Dtype, Kind, sha256_hex};
use finetune_lab::readback::{block_on, read_scalar};
use finetune_lab::run::{corpus_loss, load_base};

use crate::CliError;
use crate::args::{read, write};

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// the checkpoint to read
    #[arg(long = "in", value_name = "PATH")]
    input: PathBuf,
    /// where to write it (a sidecar beside it is brought up to date)
    #[arg(long = "out", value_name = "PATH")]
    output: PathBuf,
    /// the stored type: f32, f16, or i8 (a matrix's rows as bytes with a scale each, vectors f16)
    #[arg(long, value_name = "f32|f16|i8", value_parser = Dtype::parse)]
    dtype: Dtype,
}

pub fn convert(args: &ConvertArgs) -> Result<(), CliError> {
    let (input, output, dtype) = (&args.input, &args.output, args.dtype);
    let bytes = read(input)?;
    let before = Checkpoint::parse(&bytes).map_err(CliError::Failed)?;
    let converted = before.to_bytes(dtype).map_err(CliError::Failed)?;
    if before.header.kind == Kind::Full {
        let after = Checkpoint::parse(&converted).map_err(CliError::Failed)?;
        let loss = |file: &Checkpoint| -> Result<f32, CliError> {
            let model = load_base(file, &Device::flex()).map_err(CliError::Failed)?;
            block_on(read_scalar(corpus_loss(&model, file.header.shape.context))).map_err(CliError::Failed)
        };
        eprintln!(
            "held-out corpus loss: {:?} {:.6}, {dtype:?} {:.6}",
            before.header.dtype,
            loss(&before)?,
            loss(&after)?
        );
    }
    write(output, &converted)?;
    eprintln!("wrote {}: {} bytes ({} before)", output.display(), converted.len(), bytes.len());

    let sidecar_path = output.with_extension("json");
    if let Ok(text) = std::fs::read_to_string(&sidecar_path) {
        let mut sidecar: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| CliError::Failed(format!("{}: {e}", sidecar_path.display())))?;
        let command = sidecar["command"].as_str().unwrap_or_default().to_string();
        let step = format!("finetune-lab convert --dtype {}", dtype.name());
        sidecar["bytes"] = converted.len().into();
        sidecar["sha256"] = sha256_hex(&converted).into();
        sidecar["dtype"] = serde_json::to_value(dtype).expect("json");
        if !command.ends_with(&step) {
            sidecar["command"] = format!("{command}, then {step}").into();
        }
        write(&sidecar_path, (serde_json::to_string_pretty(&sidecar).expect("json") + "\n").as_bytes())?;
        eprintln!("updated {}", sidecar_path.display());
    }
    Ok(())
}
