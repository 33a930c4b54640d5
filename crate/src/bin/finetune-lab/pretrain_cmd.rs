//! `pretrain`: train the tiny base from our general corpus on the CPU and write the file the
//! site ships, with a JSON sidecar holding its shape, checksum and the command that made it.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use finetune_lab::checkpoint::{self, sha256_hex};
use finetune_lab::data::Dataset;
use finetune_lab::init::Init;
use finetune_lab::model::Gpt;
use finetune_lab::readback::{block_on, read_scalar};
use finetune_lab::request;
use finetune_lab::shape::ModelShape;
use finetune_lab::tokenizer;
use finetune_lab::train::{TrainConfig, Trainer, eval_loss};

use crate::args::{Command, Flag};
use crate::{CliError, default_base_path};

/// Peak learning rate; linear warm-up then cosine decay to a tenth (nanoGPT's schedule).
const PEAK_LR: f64 = 3e-3;
const WARMUP_STEPS: usize = 100;

fn lr_at(step: usize, steps: usize) -> f64 {
    if step < WARMUP_STEPS {
        return PEAK_LR * (step + 1) as f64 / WARMUP_STEPS as f64;
    }
    let progress = (step - WARMUP_STEPS) as f64 / (steps - WARMUP_STEPS).max(1) as f64;
    let min = PEAK_LR / 10.0;
    min + 0.5 * (PEAK_LR - min) * (1.0 + (std::f64::consts::PI * progress).cos())
}

pub fn command() -> Command {
    Command {
        name: "pretrain",
        about: "Pretrain the tiny base on our generated corpus (what www/base/tiny.ftlab was made with).",
        flags: vec![
            Flag::number("steps", "N", 2000.0, 1.0..=1_000_000.0, "training steps"),
            Flag::number("batch", "B", 16.0, 1.0..=512.0, "sequences of the model's context per step"),
            Flag::number(
                "seed",
                "S",
                1.0,
                0.0..=request::MAX_SEED as f64,
                "seeds the corpus, the weights and the batches",
            ),
            Flag::number("chars", "N", 2_000_000.0, 10_000.0..=50_000_000.0, "characters of corpus to generate"),
            Flag::value("out", "PATH", "where to write the model (default www/base/tiny.ftlab)"),
        ],
    }
}

pub fn pretrain(command: &Command, raw: &[String]) -> Result<(), CliError> {
    let args = command.parse(raw)?;
    let steps = args.number::<u32>("steps")? as usize;
    let batch = args.number::<u32>("batch")? as usize;
    let seed = u64::from(args.number::<u32>("seed")?);
    let chars = args.number::<u32>("chars")? as usize;
    let out = args.text("out").map(Into::into).unwrap_or_else(default_base_path);

    let shape = ModelShape::tiny();
    let device = Device::flex().autodiff();
    let corpus = Dataset::pretraining(seed, chars);
    let heldout = tokenizer::encode(&corpus.heldout);
    // Full training's decay and clipping, at the schedule's peak rate.
    let config = TrainConfig { batch, lr: PEAK_LR, seed, ..TrainConfig::full(shape.context) };
    let model = Gpt::new(&shape, &mut Init::new(seed, &device));
    let mut trainer = Trainer::new(model, &config, tokenizer::encode(&corpus.train), device);
    eprintln!(
        "pretraining {} ({} params) on {} chars of our corpus: {steps} steps of {batch} x {}",
        shape.name,
        shape.param_count(),
        corpus.train.len(),
        shape.context
    );

    let started = Instant::now();
    let mut heldout_loss = f32::NAN;
    for step in 0..steps {
        trainer.set_lr(lr_at(step, steps));
        let loss = block_on(read_scalar(trainer.step())).map_err(CliError::Failed)?;
        if step % 100 == 0 || step + 1 == steps {
            heldout_loss = block_on(read_scalar(eval_loss(trainer.model(), &heldout, shape.context, 32)))
                .map_err(CliError::Failed)?;
            eprintln!(
                "  step {:>6}/{steps}  loss {loss:.4}  held-out {heldout_loss:.4}  {:.0}s",
                step + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }

    let model = trainer.model().valid();
    let bytes = block_on(checkpoint::to_bytes(&model, &shape, None)).map_err(CliError::Failed)?;
    std::fs::write(&out, &bytes).map_err(|e| CliError::Failed(format!("cannot write {}: {e}", out.display())))?;
    let sidecar = serde_json::json!({
        "file": out.file_name().map(|n| n.to_string_lossy().to_string()),
        "bytes": bytes.len(),
        "sha256": sha256_hex(&bytes),
        "shape": shape,
        "params": shape.param_count(),
        "corpus_chars": chars,
        "steps": steps,
        "batch": batch,
        "seed": seed,
        "heldout_loss": heldout_loss,
        "train_seconds": started.elapsed().as_secs_f64().round(),
        "command": format!("finetune-lab pretrain --steps {steps} --batch {batch} --seed {seed} --chars {chars}"),
    });
    let sidecar_path = out.with_extension("json");
    std::fs::write(&sidecar_path, serde_json::to_string_pretty(&sidecar).expect("json") + "\n")
        .map_err(|e| CliError::Failed(format!("cannot write {}: {e}", sidecar_path.display())))?;
    eprintln!("wrote {} ({} bytes) and {}", out.display(), bytes.len(), sidecar_path.display());
    Ok(())
}
