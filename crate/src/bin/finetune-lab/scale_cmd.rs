//! `scale`: the memory model's figures for any preset, mode, precision and tenant count.

use std::ops::RangeInclusive;

use clap::Args;
use finetune_lab::memory::input::{MAX_BATCH, MAX_TENANTS};
use finetune_lab::memory::{
    Bandwidth, DEFAULT_RANK, Mode, Precision, ScaleInput, TARGETS_SYNTAX, estimate, format_report,
};
use finetune_lab::shape::{ModelShape, PRESET_NAMES};

use crate::CliError;
use crate::args::{between, ranged};

const BATCH: RangeInclusive<usize> = 1..=MAX_BATCH;
const TENANTS: RangeInclusive<u64> = 1..=MAX_TENANTS;
/// Tenants resident at once when `--hot` is not given: a small working set.
const DEFAULT_HOT: u64 = 10;

fn preset(name: &str) -> Result<ModelShape, String> {
    ModelShape::preset(name).ok_or_else(|| format!("unknown model `{name}`; presets: {}", PRESET_NAMES.join(", ")))
}

/// The checks that depend on the model (rank, context, hot ≤ tenants) are `ScaleInput::validate`'s.
#[derive(Args, Debug)]
pub struct ScaleArgs {
    #[arg(long, value_name = "NAME", value_parser = preset, help = format!("a preset: {}", PRESET_NAMES.join(", ")))]
    model: ModelShape,
    /// full fine-tuning or LoRA adapters
    #[arg(long, value_name = "full|adapter", default_value = "full")]
    mode: String,
    #[arg(long, value_name = "R", help = format!("LoRA rank, 1 to the model's narrowest projection [default: {DEFAULT_RANK}]"))]
    rank: Option<usize>,
    #[arg(long, value_name = "q,v", help = format!("the projections adapted: {TARGETS_SYNTAX} [default: q,v]"))]
    targets: Option<String>,
    /// fp32, or mixed precision with fp16 weights [default: mixed16 past 1B parameters, else fp32]
    #[arg(long, value_name = "fp32|mixed16", value_parser = str::parse::<Precision>)]
    precision: Option<Precision>,
    #[arg(long, value_name = "B", default_value_t = 1, value_parser = between(BATCH),
          help = ranged("sequences per step", &BATCH))]
    batch: usize,
    /// tokens per sequence, up to the model's context [default: the model's]
    #[arg(long, value_name = "T")]
    context: Option<usize>,
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = between(TENANTS),
          help = ranged("fine-tuned models kept", &TENANTS))]
    tenants: u64,
    #[arg(long, value_name = "K", help = format!("of those, resident at once [default: min(tenants, {DEFAULT_HOT})]"))]
    hot: Option<u64>,
    /// where a cold tenant loads from
    #[arg(long, value_name = "nvme|pcie|network|BYTES_PER_S", default_value = "nvme",
          value_parser = str::parse::<Bandwidth>)]
    bandwidth: Bandwidth,
    /// print the report as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn scale(args: &ScaleArgs) -> Result<(), CliError> {
    let shape = args.model.clone();
    let input = ScaleInput {
        mode: Mode::from_parts(&args.mode, args.rank, None, args.targets.as_deref())?,
        precision: args.precision.unwrap_or_else(|| Precision::default_for(&shape)),
        batch: args.batch,
        context: Some(args.context.unwrap_or(shape.context)),
        tenants: args.tenants,
        hot: args.hot.unwrap_or(args.tenants.min(DEFAULT_HOT)),
        bandwidth: args.bandwidth,
        shape,
    };
    input.validate()?;
    let report = estimate(&input);
    if args.json {
        crate::emit(&serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        crate::emit(&format_report(&report));
    }
    Ok(())
}
