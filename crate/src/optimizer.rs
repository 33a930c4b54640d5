//! AdamW over a whole model (Loshchilov & Hutter 2019), each parameter tensor's gradient clipped
//! to a maximum norm first: burn 0.22's `AdamWConfig` + `GradientClippingConfig::Norm` maths,
//! with each tensor's clip-and-update fused into one operation of ours (`ops::adamw`).
//!
//! Like burn's `ModuleOptimizer`, it walks the module's parameters, steps those that received a
//! gradient (frozen ones receive none, so they get no state), and keeps two moment tensors and a
//! step count per trained parameter.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::Serialize;

use crate::ops::adamw::{AdamWStep, Moments, adamw_step};

/// burn's `AdamWConfig` defaults.
const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-5;

/// Every number one AdamW step of a run is taken with: what a run reports, so that the PyTorch
/// and TF.js references in `bench/` take the very same steps instead of keeping defaults of
/// their own that drift from ours.
#[derive(Serialize, Debug, Clone, Copy, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct OptimizerSettings {
    pub lr: f64,
    pub weight_decay: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    /// Each parameter tensor's gradient is clipped to this norm first.
    pub grad_clip: Option<f32>,
}

impl OptimizerSettings {
    pub fn new(lr: f64, weight_decay: f32, grad_clip: Option<f32>) -> Self {
        Self { lr, weight_decay, beta1: BETA1, beta2: BETA2, eps: EPSILON, grad_clip }
    }
}

struct State {
    /// Steps taken, counting the coming one (bias correction uses it).
    time: i32,
    /// Flattened to one dimension: the update is elementwise.
    moments: Moments<1>,
}

pub struct AdamW {
    weight_decay: f32,
    grad_clip: Option<f32>,
    states: HashMap<ParamId, State>,
}

impl AdamW {
    pub fn new(weight_decay: f32, grad_clip: Option<f32>) -> Self {
        Self { weight_decay, grad_clip, states: HashMap::new() }
    }

    /// One update of every parameter that has a gradient in `grads`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        module.map(&mut Stepper { optim: self, grads: &mut grads, lr })
    }

    /// Parameter tensors the optimizer keeps moments for: those that have trained.
    pub fn tensors_with_state(&self) -> usize {
        self.states.len()
    }

    /// Bytes of optimizer state held (f32 moments), for the memory figures.
    pub fn state_bytes(&self) -> u64 {
        self.states.values().map(|s| 2 * 4 * s.moments.m.shape().num_elements() as u64).sum()
    }
}

struct Stepper<'a> {
    optim: &'a mut AdamW,
    grads: &'a mut GradientsParams,
    lr: f64,
}

impl ModuleMapper for Stepper<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let (dims, require_grad) = (tensor.dims(), tensor.is_require_grad());
        let strategy = tensor.gradient_checkpointing_strategy();
        let n = tensor.shape().num_elements();

        let previous = self.optim.states.remove(&id);
        let time = previous.as_ref().map_or(1, |s| s.time + 1);
        let step = AdamWStep::new(self.lr, time, BETA1, BETA2, EPSILON, self.optim.weight_decay, self.optim.grad_clip);
        let (updated, moments) =
            adamw_step(tensor.inner().reshape([n]), grad.reshape([n]), previous.map(|s| s.moments), step);
        self.optim.states.insert(id, State { time, moments });

        // Back under autodiff, tracked as before (as burn's ModuleOptimizer restores it).
        let mut updated = Tensor::from_inner(updated.reshape(dims));
        if let Some(strategy) = strategy {
            updated = updated.with_gradient_checkpointing_strategy(strategy);
        }
        if require_grad {
            updated = updated.require_grad();
        }
        Param::from_mapped_value(id, updated, mapper)
    }
}
