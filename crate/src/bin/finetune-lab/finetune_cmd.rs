//! `finetune` and `compare`: fine-tune the shipped base on a task or a text file.

use burn::tensor::Device;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::data::{self, Dataset};
use finetune_lab::finetune::default_alpha;
use finetune_lab::memory::{Mode, parse_targets};
use finetune_lab::native::{self, FinetuneReport};
use finetune_lab::train::TrainConfig;

use crate::args::Args;
use crate::{CliError, default_base_path};

const FLAGS: &[&str] = &[
    "device",
    "mode",
    "task",
    "text-file",
    "steps",
    "rank",
    "alpha",
    "targets",
    "lr",
    "batch",
    "context",
    "seed",
    "base",
    "out",
];

pub fn load_base(args: &Args) -> Result<Checkpoint, CliError> {
    let path = args.text("base").map(Into::into).unwrap_or_else(default_base_path);
    let bytes = std::fs::read(&path).map_err(|e| {
        CliError::Failed(format!(
            "cannot read the base model {}: {e} (run `finetune-lab pretrain` to make it)",
            path.display()
        ))
    })?;
    Checkpoint::parse(&bytes).map_err(CliError::Failed)
}

/// The task or text file the flags name, split into train and held-out parts.
fn dataset(args: &Args, context: usize, seed: u64) -> Result<Dataset, CliError> {
    match (args.text("task"), args.text("text-file")) {
        (Some(_), Some(_)) => Err(CliError::Usage("give --task or --text-file, not both".into())),
        (None, Some(path)) => {
            let bytes = std::fs::read(path).map_err(|e| CliError::Failed(format!("cannot read {path}: {e}")))?;
            Dataset::from_user_bytes(&bytes, context).map_err(|e| CliError::Failed(e.to_string()))
        }
        (task, None) => {
            let name = task.unwrap_or(data::TASKS[0].name);
            let names: Vec<&str> = data::TASKS.iter().map(|t| t.name).collect();
            if data::task(name).is_none() {
                return Err(CliError::Usage(format!("unknown task `{name}`; built-in tasks: {}", names.join(", "))));
            }
            Ok(Dataset::for_task(name, seed, context).expect("built-in tasks are long enough"))
        }
    }
}

fn mode(args: &Args, mode: &str, shape_d_model: usize) -> Result<Mode, CliError> {
    match mode {
        "full" => Ok(Mode::Full),
        "adapter" => {
            let rank = args.number("rank", 4, 1..=shape_d_model)?;
            let alpha = args.number("alpha", default_alpha(rank), 0.0..=1e4)?;
            let targets = parse_targets(args.text("targets").unwrap_or("q,v"))?;
            Ok(Mode::Adapter { rank, alpha: Some(alpha), targets })
        }
        other => Err(CliError::Usage(format!("--mode must be full or adapter, got `{other}`"))),
    }
}

fn config(args: &Args, mode: &Mode, max_context: usize) -> Result<TrainConfig, CliError> {
    let context = args.number("context", max_context, 1..=max_context)?;
    let base = TrainConfig::for_mode(mode, context);
    Ok(TrainConfig {
        lr: args.number("lr", base.lr, 1e-6..=1.0)?,
        batch: args.number("batch", base.batch, 1..=512)?,
        seed: args.number("seed", base.seed, 0..=u64::MAX)?,
        ..base
    })
}

/// `--device cpu` (the default: burn's CPU backend) or `wgpu` (Vulkan, Metal or DX12 through
/// burn's GPU backend, in a build with `--features wgpu`; bench/gpu.sh uses it).
pub fn device(args: &Args) -> Result<Device, CliError> {
    match args.text("device").unwrap_or("cpu") {
        "cpu" => Ok(Device::flex()),
        "wgpu" => gpu_device(),
        other => Err(CliError::Usage(format!("--device must be cpu or wgpu, got `{other}`"))),
    }
}

#[cfg(feature = "wgpu")]
fn gpu_device() -> Result<Device, CliError> {
    Device::wgpu_options().init().map_err(|e| CliError::Failed(format!("no GPU through wgpu: {e}")))
}

#[cfg(not(feature = "wgpu"))]
fn gpu_device() -> Result<Device, CliError> {
    Err(CliError::Usage("--device wgpu needs the GPU backend: build with `--features wgpu`".into()))
}

fn run_one(args: &Args, mode: &str, base: &Checkpoint) -> Result<(FinetuneReport, Vec<u8>), CliError> {
    let shape = &base.header.shape;
    let method = self::mode(args, mode, shape.d_model)?;
    let config = config(args, &method, shape.context)?;
    let steps = args.number("steps", 300, 1..=100_000)?;
    let data = dataset(args, config.context, config.seed)?;
    let device = device(args)?;
    eprintln!(
        "fine-tuning ({mode}) on {} for {steps} steps, batch {} x {} chars",
        data.name, config.batch, config.context
    );
    let (report, run) = native::finetune(base, method, config, &data, steps, &device, |step, loss| {
        if step == 1 || step % 25 == 0 || step == steps {
            eprintln!("  step {step:>5}/{steps}  loss {loss:.4}");
        }
    })
    .map_err(CliError::Failed)?;
    let bytes = finetune_lab::readback::block_on(run.checkpoint(data.task())).map_err(CliError::Failed)?;
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
}

pub fn finetune(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(raw, FLAGS, &["json"])?;
    let mode = args.text("mode").ok_or_else(|| CliError::Usage("--mode full|adapter is required".into()))?;
    let base = load_base(&args)?;
    let (report, bytes) = run_one(&args, mode, &base)?;
    print_report(&report);
    if let Some(out) = args.text("out") {
        std::fs::write(out, &bytes).map_err(|e| CliError::Failed(format!("cannot write {out}: {e}")))?;
        eprintln!("  wrote {out} ({} bytes)", bytes.len());
    }
    if args.switch("json") {
        crate::emit(&serde_json::to_string_pretty(&report).expect("report serialises"));
    }
    Ok(())
}

/// Both modes on the same data and seed, and the comparison the lesson is about.
pub fn compare(raw: &[String]) -> Result<(), CliError> {
    let args = Args::parse(raw, &["task", "text-file", "steps", "seed", "base", "device"], &["json"])?;
    let base = load_base(&args)?;
    let (full, _) = run_one(&args, "full", &base)?;
    print_report(&full);
    let (adapter, _) = run_one(&args, "adapter", &base)?;
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
    if args.switch("json") {
        crate::emit(
            &serde_json::to_string_pretty(&serde_json::json!({ "full": full, "adapter": adapter }))
                .expect("serialises"),
        );
    }
    Ok(())
}
