//! `scale`: the memory model's figures for any preset, mode, precision and tenant count.

use clap::Args;
use finetune_lab::lora::TARGETS_SYNTAX;
use finetune_lab::memory::input::{MAX_BATCH, MAX_TENANTS};
use finetune_lab::memory::{Bandwidth, Precision, ScaleQuestion, estimate, format_report, scale_defaults};
use finetune_lab::shape::PRESET_NAMES;

use crate::CliError;

/// The flags are the crate's `ScaleQuestion`, which fills what is left out and checks the rest
/// (the page's scale panel asks it the same way); the help's defaults are the crate's.
#[derive(Args, Debug)]
pub struct ScaleArgs {
    #[arg(long, value_name = "NAME", help = format!("a preset: {}", PRESET_NAMES.join(", ")))]
    model: String,
    #[arg(long, value_name = "full|adapter", help = format!("full fine-tuning or LoRA adapters [default: {}]", scale_defaults().mode))]
    mode: Option<String>,
    #[arg(long, value_name = "R", help = format!("LoRA rank, 1 to the model's narrowest projection [default: {}]", scale_defaults().rank))]
    rank: Option<usize>,
    #[arg(long, value_name = "q,v", help = format!("the projections adapted: {TARGETS_SYNTAX} [default: {}]", scale_defaults().targets))]
    targets: Option<String>,
    /// fp32, or mixed precision with fp16 weights [default: mixed16 past 1B parameters, else fp32]
    #[arg(long, value_name = "fp32|mixed16", value_parser = str::parse::<Precision>)]
    precision: Option<Precision>,
    #[arg(long, value_name = "B", help = format!("sequences per step, 1 to {MAX_BATCH} [default: {}]", scale_defaults().batch))]
    batch: Option<usize>,
    /// tokens per sequence, up to the model's context [default: the model's]
    #[arg(long, value_name = "T")]
    context: Option<usize>,
    #[arg(long, value_name = "N", help = format!("fine-tuned models kept, 1 to {MAX_TENANTS} [default: {}]", scale_defaults().tenants))]
    tenants: Option<u64>,
    #[arg(long, value_name = "K", help = format!("of those, resident at once [default: min(tenants, {})]", scale_defaults().hot_at_most))]
    hot: Option<u64>,
    #[arg(long, value_name = "nvme|pcie|network|BYTES_PER_S", value_parser = str::parse::<Bandwidth>,
          help = format!("where a cold tenant loads from [default: {}]", scale_defaults().bandwidth))]
    bandwidth: Option<Bandwidth>,
    /// print the report as JSON on stdout
    #[arg(long)]
    json: bool,
}

pub fn scale(args: &ScaleArgs) -> Result<(), CliError> {
    let question = ScaleQuestion {
        model: args.model.clone(),
        mode: args.mode.clone(),
        rank: args.rank,
        targets: args.targets.clone(),
        precision: args.precision,
        batch: args.batch,
        context: args.context,
        tenants: args.tenants,
        hot: args.hot,
        bandwidth: args.bandwidth,
    };
    let report = estimate(&question.resolve()?);
    if args.json {
        crate::emit(&serde_json::to_string_pretty(&report).expect("report serialises"));
    } else {
        crate::emit(&format_report(&report));
    }
    Ok(())
}
