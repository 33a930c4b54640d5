//! `scale`: the memory model's figures for any preset, mode, precision and tenant count.

use finetune_lab::memory::{
    Bandwidth, DEFAULT_RANK, Mode, ModelShape, PRESET_NAMES, Precision, ScaleInput, estimate, format_report,
    parse_targets,
};

use crate::CliError;
use crate::args::Args;

pub fn scale(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(
        raw,
        &["model", "mode", "rank", "targets", "precision", "batch", "context", "tenants", "hot", "bandwidth"],
        &["json"],
    )?;
    let name = args
        .text("model")
        .ok_or_else(|| CliError::Usage(format!("--model is required: one of {}", PRESET_NAMES.join(", "))))?;
    let shape = ModelShape::preset(name)
        .ok_or_else(|| CliError::Usage(format!("unknown model `{name}`; presets: {}", PRESET_NAMES.join(", "))))?;
    let mode = match args.text("mode").unwrap_or("full") {
        "full" => Mode::Full,
        "adapter" => Mode::adapter(
            args.number("rank", DEFAULT_RANK, 1..=shape.d_model)?,
            &parse_targets(args.text("targets").unwrap_or("q,v"))?,
        ),
        other => return Err(CliError::Usage(format!("--mode must be full or adapter, got `{other}`"))),
    };
    // The browser trains in fp32; GPT-3-sized models train in mixed precision.
    let default_precision = if shape.param_count() > 1_000_000_000 { "mixed16" } else { "fp32" };
    let precision: Precision = args.text("precision").unwrap_or(default_precision).parse()?;
    let bandwidth: Bandwidth = args.text("bandwidth").unwrap_or("nvme").parse()?;
    let tenants = args.number("tenants", 1u64, 1..=10_000_000)?;
    let input = ScaleInput {
        batch: args.number("batch", 1, 1..=65_536)?,
        context: Some(args.number("context", shape.context, 1..=shape.context)?),
        tenants,
        hot: args.number("hot", tenants.min(10), 0..=tenants)?,
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
