//! `convert`: rewrite a checkpoint with its values stored as f16 or f32. The site ships its base
//! as f16 (half the download); the command prints what the rounding costs on held-out text and,
//! when the output has a sidecar (`tiny.json` beside `tiny.ftlab`), brings its size, checksum,
//! dtype and command up to date.

use burn::tensor::Device;
use finetune_lab::checkpoint::{Checkpoint, Dtype, Kind, sha256_hex};
use finetune_lab::finetune::load_base;
use finetune_lab::readback::{block_on, read_scalar};
use finetune_lab::train::corpus_loss;

use crate::CliError;
use crate::args::{Command, Flag};

pub fn command() -> Command {
    Command {
        name: "convert",
        about: "Store a checkpoint's values as f16 or f32, and say what it cost in held-out loss.",
        flags: vec![
            Flag::value("in", "PATH", "the checkpoint to read (required)"),
            Flag::value("out", "PATH", "where to write it (required)"),
            Flag::value("dtype", "f16|f32", "the stored type (required)"),
        ],
    }
}

pub fn convert(command: &Command, raw: &[String]) -> Result<(), CliError> {
    let args = command.parse(raw)?;
    let required =
        |name: &str, what: &str| args.text(name).ok_or_else(|| CliError::Usage(format!("--{name} {what} is required")));
    let input = required("in", "PATH")?;
    let output = required("out", "PATH")?;
    let dtype_name = required("dtype", "f16|f32")?;
    let dtype = Dtype::parse(dtype_name).map_err(|e| format!("--dtype: {e}"))?;

    let bytes = std::fs::read(input).map_err(|e| CliError::Failed(format!("cannot read {input}: {e}")))?;
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
    std::fs::write(output, &converted).map_err(|e| CliError::Failed(format!("cannot write {output}: {e}")))?;
    eprintln!("wrote {output}: {} bytes ({} before)", converted.len(), bytes.len());

    let sidecar_path = std::path::Path::new(output).with_extension("json");
    if let Ok(text) = std::fs::read_to_string(&sidecar_path) {
        let mut sidecar: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| CliError::Failed(format!("{}: {e}", sidecar_path.display())))?;
        let command = sidecar["command"].as_str().unwrap_or_default().to_string();
        let step = format!("finetune-lab convert --dtype {dtype_name}");
        sidecar["bytes"] = converted.len().into();
        sidecar["sha256"] = sha256_hex(&converted).into();
        sidecar["dtype"] = serde_json::to_value(dtype).expect("json");
        if !command.ends_with(&step) {
            sidecar["command"] = format!("{command}, then {step}").into();
        }
        std::fs::write(&sidecar_path, serde_json::to_string_pretty(&sidecar).expect("json") + "\n")
            .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", sidecar_path.display())))?;
        eprintln!("updated {}", sidecar_path.display());
    }
    Ok(())
}
