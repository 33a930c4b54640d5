//! One fine-tuning run from the shipped base: the piece both the CLI and the browser drive.
//! Full mode trains every weight; adapter mode freezes the base and trains LoRA A/B only.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

use super::training_loop::{TrainConfig, Trainer, eval_loss};
use crate::checkpoint::{self, AdapterMeta, Checkpoint, Keep};
use crate::init::Init;
use crate::lora::Mode;
use crate::measure::snapshot;
use crate::memory::{self, ScaleInput};
use crate::model::Gpt;
use crate::shape::ModelShape;
use crate::tokenizer;

/// Held-out loss uses at most this many context windows: enough for a steady figure, few
/// enough to stay cheap on a software GPU.
const EVAL_WINDOWS: usize = 16;

pub struct Run {
    trainer: Trainer,
    shape: ModelShape,
    mode: Mode,
    heldout: Vec<u32>,
    config: TrainConfig,
    /// The SHA-256 of the base file, which an adapter file records.
    base_sha256: String,
}

/// Build the base model on `device` (an autodiff device is made from it) from its checkpoint.
pub fn load_base(base: &Checkpoint, device: &Device) -> Result<Gpt, String> {
    let model = Gpt::new(&base.header.shape, &mut Init::for_loading(device));
    base.load_into(model, Keep::All)
}

/// Put a saved fine-tuning result onto a base model: an adapter file gets fresh adapters of its
/// rank and targets and then its A/B values; a full file replaces every weight.
pub fn apply_checkpoint(base: Gpt, file: &Checkpoint, device: &Device) -> Result<Gpt, String> {
    match &file.header.adapter {
        Some(spec) => {
            let model = base.with_adapters(&spec.targets, spec.rank, spec.alpha, &mut Init::for_loading(device));
            file.load_into(model, Keep::Adapters)
        }
        None => file.load_into(base, Keep::All),
    }
}

impl Run {
    pub fn start(
        base: &Checkpoint,
        mode: Mode,
        config: TrainConfig,
        train: &str,
        heldout: &str,
        device: &Device,
    ) -> Result<Self, String> {
        let shape = base.header.shape.clone();
        if config.context == 0 || config.context > shape.context {
            return Err(format!(
                "context must be between 1 and the model's {} characters, got {}",
                shape.context, config.context
            ));
        }
        if config.batch == 0 {
            return Err("batch must be at least 1".into());
        }
        let device = device.clone().autodiff();
        mode.validate(&shape)?;
        let (train, heldout) = (tokenizer::encode(train), tokenizer::encode(heldout));
        for (part, tokens) in [("training", &train), ("held-out", &heldout)] {
            if tokens.len() <= config.context {
                return Err(format!(
                    "the {part} text has {} characters; at least {} are needed",
                    tokens.len(),
                    config.context + 1
                ));
            }
        }
        // The model last, between two samples, so that what it adds is the weights alone.
        let before_model = snapshot(&device);
        let mut model = load_base(base, &device)?;
        if let Some(spec) = mode.spec() {
            model = model.with_adapters(&spec.targets, spec.rank, spec.alpha, &mut Init::new(config.seed, &device));
        }
        let mut trainer = Trainer::new(model, &config, train, device);
        trainer.memory.before_model = before_model;
        Ok(Self { trainer, shape, mode, heldout, config, base_sha256: base.sha256.clone() })
    }

    /// One training step; the loss is returned unread.
    pub fn step(&mut self) -> Tensor<1> {
        self.trainer.step()
    }

    /// `count` training steps (at least one) queued back to back; their losses joined on the
    /// device (a dispatch per loss) and returned unread, so that one readback brings them all
    /// (`steps_per_read` says how many a device should take at once).
    pub fn steps(&mut self, count: usize) -> Tensor<1> {
        let mut losses: Vec<Tensor<1>> = (0..count.max(1)).map(|_| self.step()).collect();
        if losses.len() == 1 { losses.pop().expect("one step") } else { Tensor::cat(losses, 0) }
    }

    pub fn steps_done(&self) -> usize {
        self.trainer.steps_done
    }

    pub fn heldout_loss(&self) -> Tensor<1> {
        eval_loss(self.model(), &self.heldout, self.config.context, EVAL_WINDOWS)
    }

    pub fn model(&self) -> &Gpt {
        self.trainer.model()
    }

    pub fn trainer(&self) -> &Trainer {
        &self.trainer
    }

    pub fn trainer_mut(&mut self) -> &mut Trainer {
        &mut self.trainer
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    pub fn shape(&self) -> &ModelShape {
        &self.shape
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The memory model's figures for this run.
    pub fn memory_predicted(&self) -> memory::Report {
        let (batch, context) = (self.config.batch, self.config.context);
        memory::estimate(&ScaleInput::training_run(self.shape.clone(), self.mode.clone(), batch, context))
    }

    /// (total, trainable) parameter counts of the running model.
    pub fn params(&self) -> (usize, usize) {
        count_params(self.model())
    }

    /// What a tenant would store: the whole model (full) or the adapter file alone, which
    /// records its base and, when it learned a built-in task, that `task`.
    pub async fn checkpoint(&self, task: Option<&str>) -> Result<Vec<u8>, String> {
        let meta = self.mode.spec().map(|spec| AdapterMeta {
            spec: spec.clone(),
            base_sha256: self.base_sha256.clone(),
            task: task.map(str::to_string),
        });
        checkpoint::to_bytes(self.model(), &self.shape, meta.as_ref()).await
    }
}

/// (total, trainable) parameters: trainable are those that will receive a gradient, which
/// only exists on an autodiff device (elsewhere every parameter counts as frozen).
pub fn count_params<M: Module>(module: &M) -> (usize, usize) {
    struct Count(usize, usize);
    impl ModuleVisitor for Count {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let n = param.lazy_shape().num_elements();
            self.0 += n;
            if param.val().is_require_grad() {
                self.1 += n;
            }
        }
    }
    let mut count = Count(0, 0);
    module.visit(&mut count);
    (count.0, count.1)
}
