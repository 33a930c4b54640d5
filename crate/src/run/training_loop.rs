//! The training loop, shared by the CLI and the browser: AdamW with gradient clipping, batches
//! of random windows drawn from a seeded RNG, one `step()` that returns the loss as a tensor so
//! the caller decides when to read it (synchronously natively, asynchronously on WebGPU).

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::lora::Mode;
use crate::measure::{Source, StepSamples, heap, snapshot};
use crate::model::{Gpt, next_token_loss};
use crate::optimizer::AdamW;
use crate::rng::Rng;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TrainConfig {
    /// Sequences per step.
    pub batch: usize,
    /// Tokens per sequence; at most the model's context window.
    pub context: usize,
    pub lr: f64,
    /// AdamW's decoupled weight decay (Loshchilov & Hutter 2019).
    pub weight_decay: f32,
    /// Clip each parameter tensor's gradient to this norm (per tensor, not the global norm, as
    /// burn's `ModuleOptimizer` clips and our `AdamW` does too): keeps the first steps on a new
    /// task, whose losses start high, from blowing up the pretrained weights.
    pub grad_clip: f32,
    /// Seeds the batches and any fresh adapter, so two runs with one seed see the same data.
    pub seed: u64,
}

impl TrainConfig {
    /// Full fine-tuning moves every weight, so it takes the smaller step.
    pub fn full(context: usize) -> Self {
        Self { batch: 16, context, lr: 1e-3, weight_decay: 0.01, grad_clip: 1.0, seed: 1 }
    }

    /// LoRA trains a few freshly initialised matrices and tolerates (needs) a larger rate; the
    /// LoRA paper tunes it per task in the 1e-4..1e-2 range (Hu et al. 2021, Appendix D).
    pub fn adapter(context: usize) -> Self {
        Self { lr: 1e-2, weight_decay: 0.0, ..Self::full(context) }
    }

    /// What each AdamW step of this run is taken with.
    pub fn optimizer(&self) -> crate::optimizer::OptimizerSettings {
        crate::optimizer::OptimizerSettings::new(self.lr, self.weight_decay, Some(self.grad_clip))
    }

    /// The defaults for a mode: `full` or `adapter`.
    pub fn for_mode(mode: &Mode, context: usize) -> Self {
        match mode {
            Mode::Full => Self::full(context),
            Mode::Adapter(_) => Self::adapter(context),
        }
    }
}

/// Random windows of `context + 1` tokens: inputs are the first `context`, targets the last.
pub struct Batches {
    tokens: Vec<u32>,
    rng: Rng,
    batch: usize,
    context: usize,
}

impl Batches {
    /// `tokens` must hold more than `context` tokens (the data module checks it with a message).
    pub fn new(tokens: Vec<u32>, batch: usize, context: usize, seed: u64) -> Self {
        assert!(tokens.len() > context, "need more than {context} tokens, got {}", tokens.len());
        Self { tokens, rng: Rng::new(seed ^ 0xBA7C4), batch, context }
    }

    pub fn next(&mut self, device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
        let span = self.tokens.len() - self.context;
        let starts: Vec<usize> = (0..self.batch).map(|_| self.rng.below(span as u64) as usize).collect();
        windows(&self.tokens, &starts, self.context, device)
    }
}

/// Inputs and targets (B, T) for windows starting at `starts`.
fn windows(tokens: &[u32], starts: &[usize], context: usize, device: &Device) -> (Tensor<2, Int>, Tensor<2, Int>) {
    let take = |offset: usize| {
        let ids: Vec<i32> =
            starts.iter().flat_map(|&s| tokens[s + offset..s + offset + context].iter().map(|&t| t as i32)).collect();
        Tensor::<2, Int>::from_data(TensorData::new(ids, [starts.len(), context]), device)
    };
    (take(0), take(1))
}

pub struct Trainer {
    model: Option<Gpt>,
    optim: AdamW,
    batches: Batches,
    lr: f64,
    device: Device,
    pub steps_done: usize,
    /// Memory samples around the latest step: the GPU's pool, or the counted heap on the CPU
    /// (empty where neither is measured).
    pub memory: StepSamples,
}

impl Trainer {
    /// `model` must live on an autodiff device; frozen parameters stay frozen.
    pub fn new(model: Gpt, config: &TrainConfig, tokens: Vec<u32>, device: Device) -> Self {
        let optim = AdamW::new(config.weight_decay, Some(config.grad_clip));
        let batches = Batches::new(tokens, config.batch, config.context, config.seed);
        let memory = StepSamples { model_loaded: snapshot(&device), ..Default::default() };
        Self { model: Some(model), optim, batches, lr: config.lr, device, steps_done: 0, memory }
    }

    pub fn model(&self) -> &Gpt {
        self.model.as_ref().expect("model is only absent inside step()")
    }

    /// For schedules (pretraining warms up and decays); fine-tuning keeps one rate.
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    pub fn optimizer(&self) -> &AdamW {
        &self.optim
    }

    /// One forward, backward and AdamW update. Returns the batch loss, not yet read back.
    pub fn step(&mut self) -> Tensor<1> {
        self.memory.before_step = snapshot(&self.device);
        let on_heap = self.memory.before_step.is_some_and(|s| s.source == Source::Heap);
        if on_heap {
            heap::reset_peak();
        }
        let (loss, grads) = self.forward_backward();
        let model = self.model.take().expect("model present");
        self.model = Some(self.optim.step(self.lr, model, grads));
        self.memory.after_step = snapshot(&self.device);
        self.memory.step_peak = if on_heap { heap::peak_bytes() } else { None };
        self.steps_done += 1;
        loss
    }

    /// Forward and backward only: the loss and the gradients of the trainable parameters.
    pub fn forward_backward(&mut self) -> (Tensor<1>, GradientsParams) {
        let model = self.model.as_ref().expect("model present");
        let (inputs, targets) = self.batches.next(&self.device);
        let loss = next_token_loss(model.forward(inputs), targets);
        self.memory.after_forward = snapshot(&self.device);
        let grads = GradientsParams::from_grads(loss.backward(), model);
        self.memory.after_backward = snapshot(&self.device);
        (loss.detach(), grads)
    }
}

/// Mean next-token loss over up to `max_windows` non-overlapping windows of `tokens`, on the
/// model without autodiff. The same windows every time, so before/after figures compare.
pub fn eval_loss(model: &Gpt, tokens: &[u32], context: usize, max_windows: usize) -> Tensor<1> {
    let model = model.valid();
    let device = model.devices()[0].clone();
    let count = ((tokens.len() - 1) / context).clamp(1, max_windows);
    let starts: Vec<usize> = (0..count).map(|i| i * context).collect();
    let (inputs, targets) = windows(tokens, &starts, context, &device);
    next_token_loss(model.forward(inputs), targets)
}

/// The loss on fresh text from our corpus grammar (seed 12345, 20,000 characters, 8 windows of
/// `context`): how well a base knows its pretraining language. One fixed text, so the shipped
/// base's test and `convert`'s f16-vs-f32 figure measure the same thing.
pub fn corpus_loss(model: &Gpt, context: usize) -> Tensor<1> {
    let text = crate::data::general_corpus(12345, 20_000);
    eval_loss(model, &crate::tokenizer::encode(&text), context, 8)
}
