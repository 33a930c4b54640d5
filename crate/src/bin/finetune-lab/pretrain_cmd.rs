//! `pretrain`: train the tiny base from our general corpus on the CPU and write the file the
//! site ships, with a JSON sidecar holding its shape, checksum and the command that made it.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use clap::Args;
use finetune_lab::checkpoint::{self, sha256_hex};
use finetune_lab::data::Dataset;
use finetune_lab::init::Init;
use finetune_lab::model::Gpt;
use finetune_lab::readback::{block_on, read_scalar};
use finetune_lab::run::{MAX_SEED, TrainConfig, Trainer, eval_loss};
use finetune_lab::shape::ModelShape;
use finetune_lab::tokenizer;

use crate::args::{between, ranged, write};
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

const STEPS: RangeInclusive<usize> = 1..=1_000_000;
const BATCH: RangeInclusive<usize> = 1..=512;
const SEED: RangeInclusive<u64> = 0..=MAX_SEED;
const CHARS: RangeInclusive<usize> = 10_000..=50_000_000;

/// The defaults are what made the shipped base (www/base/tiny.json has the command).
#[derive(Args, Debug)]
pub struct PretrainArgs {
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = between(STEPS),
          help = ranged("training steps", &STEPS))]
    steps: usize,
    #[arg(long, value_name = "B", default_value_t = 16, value_parser = between(BATCH),
          help = ranged("sequences of the model's context per step", &BATCH))]
    batch: usize,
    #[arg(long, value_name = "S", default_value_t = 1, value_parser = between(SEED),
          help = ranged("seeds the corpus, the weights and the batches", &SEED))]
    seed: u64,
    #[arg(long, value_name = "N", default_value_t = 2_000_000, value_parser = between(CHARS),
          help = ranged("characters of corpus to generate", &CHARS))]
    chars: usize,
    /// where to write the model [default: www/base/tiny.ftlab]
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
}

pub fn pretrain(args: &PretrainArgs) -> Result<(), CliError> {
    let PretrainArgs { steps, batch, seed, chars, .. } = *args;
    let out = args.out.clone().unwrap_or_else(default_base_path);

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
    write(&out, &bytes)?;
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
    write(&sidecar_path, (serde_json::to_string_pretty(&sidecar).expect("json") + "\n").as_bytes())?;
    eprintln!("wrote {} ({} bytes) and {}", out.display(), bytes.len(), sidecar_path.display());
    Ok(())
}
