//! `finetune` and `compare`: fine-tune the shipped base on a task or a text file.

use burn::tensor::Device;
use finetune_lab::checkpoint::Checkpoint;
use finetune_lab::data;
use finetune_lab::request::{self, Caller, Data, Given, RunRequest, RunSettings, Targets};
use finetune_lab::run_report::{self, FinetuneReport};
use finetune_lab::shape::ModelShape;

use crate::args::{Args, Command, Flag};
use crate::{CliError, default_base_path};

/// A run setting as a flag: what it is, its range and the CLI's default, from the crate's table.
fn setting_flag(shape: &ModelShape, name: &'static str, placeholder: &'static str) -> Flag {
    let table = request::settings(shape);
    let s = table.iter().find(|s| s.name == name).expect("a run setting");
    let default = s.cli.map_or_else(String::new, |d| format!(", default {d}"));
    Flag::value(name, placeholder, format!("{}; {}{default}", s.help, s.range()))
}

fn data_flags() -> Vec<Flag> {
    let names: Vec<&str> = data::TASKS.iter().map(|t| t.name).collect();
    vec![
        Flag::value("task", "NAME", format!("a built-in task: {} (default {})", names.join(", "), names[0])),
        Flag::value("text-file", "PATH", "your own text instead of a task (UTF-8 or UTF-16 with a BOM)"),
    ]
}

fn common_flags(shape: &ModelShape) -> Vec<Flag> {
    vec![
        setting_flag(shape, "steps", "N"),
        setting_flag(shape, "batch", "B"),
        setting_flag(shape, "context", "T"),
        setting_flag(shape, "seed", "S"),
        setting_flag(shape, "sample", "CHARS"),
        Flag::value("base", "PATH", "the base model (default the shipped www/base/tiny.ftlab)"),
        Flag::value("device", "cpu|wgpu", "burn's CPU backend (default) or its GPU backend (a --features wgpu build)"),
        Flag::switch("json", "print the report as JSON on stdout"),
    ]
}

/// The flags' ranges follow the shipped base's shape; `--base` with another is checked again.
fn shipped_shape() -> ModelShape {
    ModelShape::tiny()
}

pub fn finetune_command() -> Command {
    let shape = shipped_shape();
    let mut flags =
        vec![Flag::value("mode", "full|adapter", "train every weight, or LoRA adapters on a frozen base (required)")];
    flags.extend(data_flags());
    flags.extend([
        setting_flag(&shape, "rank", "R"),
        setting_flag(&shape, "alpha", "A"),
        Flag::value(
            "targets",
            "q,v",
            "the projections adapted: a list of q, k, v, o, fc, proj, or attn, or all (default q,v)",
        ),
        setting_flag(&shape, "lr", "LR"),
    ]);
    flags.extend(common_flags(&shape));
    flags.push(Flag::value("out", "PATH", "write the checkpoint here (the whole model, or the adapter alone)"));
    Command {
        name: "finetune",
        about: "Fine-tune the shipped base on a task or a text file, fully or through LoRA adapters.",
        flags,
    }
}

pub fn compare_command() -> Command {
    let mut flags = data_flags();
    flags.extend(common_flags(&shipped_shape()));
    Command { name: "compare", about: "Both modes on the same data and seed, and what the adapter saves.", flags }
}

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

/// The run the flags ask for, in `mode`: checked by the crate's `RunSettings::resolve`, as the
/// page's options are, with the CLI's defaults.
fn request(args: &Args, mode: &str, base: &Checkpoint) -> Result<RunRequest, CliError> {
    let given = |name: &str| args.text(name).map(Given::from);
    let settings = RunSettings {
        mode: Some(mode.to_string()),
        task: args.text("task").map(str::to_string),
        // Read below, once every flag has passed: a bad flag should not wait on a big file.
        text: args.text("text-file").map(|_| String::new()),
        targets: args.text("targets").map(|t| Targets::Text(t.to_string())),
        steps: given("steps"),
        batch: given("batch"),
        context: given("context"),
        sample: given("sample"),
        seed: given("seed"),
        rank: given("rank"),
        alpha: given("alpha"),
        lr: given("lr"),
    };
    let mut request = settings.resolve(&base.header.shape, Caller::Cli)?;
    if let Some(path) = args.text("text-file") {
        let bytes = std::fs::read(path).map_err(|e| CliError::Failed(format!("cannot read {path}: {e}")))?;
        request.data = Data::Text(data::decode_user_bytes(&bytes));
    }
    Ok(request)
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
    let request = request(args, mode, base)?;
    let data = request.dataset().map_err(CliError::Failed)?;
    let device = device(args)?;
    let (steps, config) = (request.length.planned(), &request.config);
    eprintln!(
        "fine-tuning ({mode}) on {} for {steps} steps, batch {} x {} chars",
        data.name, config.batch, config.context
    );
    let (report, run) = run_report::finetune(base, &request, &data, &device, |step, loss| {
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

pub fn finetune(command: &Command, raw: &[String]) -> Result<(), CliError> {
    let args = command.parse(raw)?;
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
pub fn compare(command: &Command, raw: &[String]) -> Result<(), CliError> {
    let args = command.parse(raw)?;
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
