//! `scale`: the memory model's figures for any preset, mode, precision and tenant count.

use finetune_lab::memory::input::{MAX_BATCH, MAX_TENANTS};
use finetune_lab::memory::{Bandwidth, DEFAULT_RANK, Mode, Precision, ScaleInput, estimate, format_report, max_rank};
use finetune_lab::shape::{ModelShape, PRESET_NAMES};

use crate::CliError;
use crate::args::{Command, Flag};

pub fn command() -> Command {
    Command {
        name: "scale",
        about: "The memory model: what fine-tuning and serving N tenants cost, for any preset model.",
        flags: vec![
            Flag::value("model", "NAME", format!("a preset: {} (required)", PRESET_NAMES.join(", "))),
            Flag::value("mode", "full|adapter", "full fine-tuning or LoRA adapters (default full)"),
            Flag::value("rank", "R", format!("LoRA rank, 1 to the model's width (default {DEFAULT_RANK})")),
            Flag::value(
                "targets",
                "q,v",
                "the projections adapted: a list of q, k, v, o, fc, proj, or attn, or all (default q,v)",
            ),
            Flag::value(
                "precision",
                "fp32|mixed16",
                "fp32, or mixed precision with fp16 weights (default: mixed16 past 1B parameters)",
            ),
            Flag::number("batch", "B", 1.0, 1.0..=MAX_BATCH as f64, "sequences per step"),
            Flag::value("context", "T", "tokens per sequence, up to the model's context (default the model's)"),
            Flag::number("tenants", "N", 1.0, 1.0..=MAX_TENANTS as f64, "fine-tuned models kept"),
            Flag::value("hot", "K", "of those, resident at once (default min(tenants, 10))"),
            Flag::value("bandwidth", "nvme|pcie|network|BYTES_PER_S", "where a cold tenant loads from (default nvme)"),
            Flag::switch("json", "print the report as JSON on stdout"),
        ],
    }
}

pub fn scale(command: &Command, raw: &[String]) -> Result<(), CliError> {
    let args = command.parse(raw)?;
    let name = args
        .text("model")
        .ok_or_else(|| CliError::Usage(format!("--model is required: one of {}", PRESET_NAMES.join(", "))))?;
    let shape = ModelShape::preset(name)
        .ok_or_else(|| CliError::Usage(format!("unknown model `{name}`; presets: {}", PRESET_NAMES.join(", "))))?;
    let rank = args.text("rank").map(|_| args.number_in("rank", DEFAULT_RANK, 1..=max_rank(&shape))).transpose()?;
    let mode = Mode::from_parts(args.text("mode").unwrap_or("full"), rank, None, args.text("targets"))?;
    let precision = match args.text("precision") {
        Some(name) => name.parse()?,
        None => Precision::default_for(&shape),
    };
    let bandwidth: Bandwidth = args.text("bandwidth").unwrap_or("nvme").parse()?;
    let tenants = u64::from(args.number::<u32>("tenants")?);
    let input = ScaleInput {
        batch: args.number::<u32>("batch")? as usize,
        context: Some(args.number_in("context", shape.context, 1..=shape.context)?),
        tenants,
        hot: args.number_in("hot", tenants.min(10), 0..=tenants)?,
        shape,
        mode,
        precision,
        bandwidth,
    };
    input.validate()?;
    let report = estimate(&input);
    if args.switch("json") {
        crate::emit(&serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        crate::emit(&format_report(&report));
    }
    Ok(())
}
