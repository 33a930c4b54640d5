//! `finetune` and `compare`: fine-tune the shipped base on a task or a text file.

use std::path::PathBuf;

use clap::Args;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::data;
use finetune_lab::lora::{DEFAULT_TARGETS, TARGETS_SYNTAX};
use finetune_lab::run::report::{self as run_report, FinetuneReport};
use finetune_lab::run::{self, Caller, Data, Given, RunRequest, RunSettings, Targets};
use finetune_lab::shape::ModelShape;

use crate::CliError;
use crate::args::Runtime;

/// A run setting's help: what it is, its range and the CLI's default, from the crate's table
/// (the page's element is checked against the same table). The ranges follow the shipped
/// base's shape; a `--base` with another shape is checked again when the run is resolved.
fn setting(name: &str) -> String {
    let table = run::settings(&ModelShape::tiny());
    let s = table.iter().find(|s| s.name == name).expect("a run setting");
    let default = s.cli.map_or_else(String::new, |d| format!(" [default: {d}]"));
    format!("{}; {}{default}", s.help, s.range())
}

fn task_help() -> String {
    let names: Vec<&str> = data::TASKS.iter().map(|t| t.name).collect();
    format!("a built-in task: {} [default: {}]", names.join(", "), names[0])
}

fn targets_help() -> String {
    let default: Vec<&str> = DEFAULT_TARGETS.iter().map(|t| t.name()).collect();
    format!("the projections adapted: {TARGETS_SYNTAX} [default: {}]", default.join(","))
}

/// What a run trains on, its length and batch, where, and how it reports: `finetune` and
/// `compare` alike. The numbers stay text here: the crate's `RunSettings::resolve` checks them,
/// as it checks the page's attributes, so both refuse the same input with the same message.
#[derive(Args, Debug)]
pub struct RunArgs {
    #[arg(long, value_name = "NAME", help = task_help())]
    task: Option<String>,
    /// your own text instead of a task (UTF-8, or UTF-16 with a BOM)
    #[arg(long, value_name = "PATH")]
    text_file: Option<PathBuf>,
    #[arg(long, value_name = "N", help = setting("steps"))]
    steps: Option<String>,
    #[arg(long, value_name = "B", help = setting("batch"))]
    batch: Option<String>,
    #[arg(long, value_name = "T", help = setting("context"))]
    context: Option<String>,
    #[arg(long, value_name = "S", help = setting("seed"))]
    seed: Option<String>,
    #[arg(long, value_name = "CHARS", help = setting("sample"))]
    sample: Option<String>,
    #[command(flatten)]
    runtime: Runtime,
}

/// The LoRA adapter an adapter run trains.
#[derive(Args, Debug)]
pub struct LoraArgs {
    #[arg(long, value_name = "R", help = setting("rank"))]
    rank: Option<String>,
    #[arg(long, value_name = "A", help = setting("alpha"))]
    alpha: Option<String>,
    #[arg(long, value_name = "q,v", help = targets_help())]
    targets: Option<String>,
    #[arg(long, value_name = "LR", help = setting("lr"))]
    lr: Option<String>,
}

#[derive(Args, Debug)]
pub struct FinetuneArgs {
    /// train every weight, or LoRA adapters on a frozen base
    #[arg(long, value_name = "full|adapter")]
    mode: String,
    #[command(flatten)]
    lora: LoraArgs,
    #[command(flatten)]
    run: RunArgs,
    /// write the checkpoint here (the whole model, or the adapter alone)
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    #[command(flatten)]
    run: RunArgs,
}

/// The run the flags ask for, in `mode`: checked by the crate's `RunSettings::resolve`, as the
/// page's options are, with the CLI's defaults.
fn request(run: &RunArgs, lora: Option<&LoraArgs>, mode: &str, base: &Checkpoint) -> Result<RunRequest, CliError> {
    let given = |value: &Option<String>| value.as_deref().map(Given::from);
    let lora_given = |pick: fn(&LoraArgs) -> &Option<String>| lora.and_then(|l| given(pick(l)));
    let settings = RunSettings {
        mode: Some(mode.to_string()),
        task: run.task.clone(),
        // Read below, once every setting has passed: a bad one should not wait on a big file.
        text: run.text_file.as_ref().map(|_| String::new()),
        targets: lora.and_then(|l| l.targets.clone()).map(Targets::Text),
        steps: given(&run.steps),
        batch: given(&run.batch),
        context: given(&run.context),
        sample: given(&run.sample),
        seed: given(&run.seed),
        rank: lora_given(|l| &l.rank),
        alpha: lora_given(|l| &l.alpha),
        lr: lora_given(|l| &l.lr),
    };
    let mut request = settings.resolve(&base.header.shape, Caller::Cli)?;
    if let Some(path) = &run.text_file {
        request.data = Data::Text(data::decode_user_bytes(&crate::args::read(path)?));
    }
    Ok(request)
}

fn run_one(
    run: &RunArgs,
    lora: Option<&LoraArgs>,
    mode: &str,
    base: &Checkpoint,
) -> Result<(FinetuneReport, Vec<u8>), CliError> {
    let request = request(run, lora, mode, base)?;
    let data = request.dataset().map_err(CliError::Failed)?;
    let device = run.runtime.device()?;
    let (steps, config) = (request.length.planned(), &request.config);
    eprintln!(
        "fine-tuning ({mode}) on {} for {steps} steps, batch {} x {} chars",
        data.name, config.batch, config.context
    );
    let (report, trained) = run_report::finetune(base, &request, &data, &device, |step, loss| {
        if step == 1 || step % 25 == 0 || step == steps {
            eprintln!("  step {step:>5}/{steps}  loss {loss:.4}");
        }
    })
    .map_err(CliError::Failed)?;
    let bytes = finetune_lab::readback::block_on(trained.checkpoint(data.task())).map_err(CliError::Failed)?;
    Ok((report, bytes))
}

fn print_report(r: &FinetuneReport) {
    eprintln!(
        "mode {}: {} of {} parameters trainable ({:.2}%)",
        r.mode,
        r.params_trainable,
        r.params_total,
        100.0 * r.params_trainable as f64 / r.params_total as f64
    );
    eprintln!(
        "  held-out loss {:.4} -> {:.4} ({:+.1}%)",
        r.heldout_loss_before,
        r.heldout_loss_after,
        100.0 * (r.heldout_loss_after / r.heldout_loss_before - 1.0)
    );
    eprintln!("  {:.1} ms/step (median), checkpoint {} bytes", r.ms_per_step_median, r.checkpoint_bytes);
    eprintln!("  before: {:?}\n  after:  {:?}", r.sample_before, r.sample_after);
    if let Some(v) = &r.format_after {
        match &v.why {
            None => eprintln!("  ✓ in the task's format ({})", v.format),
            Some(why) => eprintln!("  ✗ not yet in the task's format: {why} ({})", v.format),
        }
    }
}

pub fn finetune(args: &FinetuneArgs) -> Result<(), CliError> {
    let base = args.run.runtime.base.load()?;
    let (report, bytes) = run_one(&args.run, Some(&args.lora), &args.mode, &base)?;
    print_report(&report);
    if let Some(out) = &args.out {
        crate::args::write(out, &bytes)?;
        eprintln!("  wrote {} ({} bytes)", out.display(), bytes.len());
    }
    if args.run.runtime.json {
        crate::emit(&serde_json::to_string_pretty(&report).expect("report serialises"));
    }
    Ok(())
}

/// Both modes on the same data and seed, and the comparison the lesson is about.
pub fn compare(args: &CompareArgs) -> Result<(), CliError> {
    let base = args.run.runtime.base.load()?;
    let (full, _) = run_one(&args.run, None, "full", &base)?;
    print_report(&full);
    let (adapter, _) = run_one(&args.run, None, "adapter", &base)?;
    print_report(&adapter);
    let gain = |r: &FinetuneReport| r.heldout_loss_before - r.heldout_loss_after;
    eprintln!(
        "\nadapter vs full: {:.2}% of the trainable parameters, {:.2}% of the checkpoint bytes,",
        100.0 * adapter.params_trainable as f64 / full.params_trainable as f64,
        100.0 * adapter.checkpoint_bytes as f64 / full.checkpoint_bytes as f64
    );
    eprintln!(
        "  {:.0}% of full fine-tuning's held-out improvement, {:.2}x the time per step",
        100.0 * gain(&adapter) / gain(&full),
        adapter.ms_per_step_median / full.ms_per_step_median
    );
    if args.run.runtime.json {
        crate::emit(
            &serde_json::to_string_pretty(&serde_json::json!({ "full": full, "adapter": adapter }))
                .expect("serialises"),
        );
    }
    Ok(())
}
