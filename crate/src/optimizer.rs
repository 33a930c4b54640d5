//! AdamW over a whole model (Loshchilov & Hutter 2019), each parameter tensor's gradient clipped
//! to a maximum norm first: burn 0.22's `AdamWConfig` + `GradientClippingConfig::Norm` maths,
//! with the clip-and-update of each group of `ops::adamw::GROUP` tensors fused into one
//! operation of ours (`ops::adamw`).
//!
//! Like burn's `ModuleOptimizer`, it walks the module's parameters and steps those that received
//! a gradient (frozen ones receive none, so they get no state). It groups them in the order of
//! the walk, and keeps two moments per trained value, in one buffer per group, and a step count.
//! A group is known by its parameters: a step whose trained parameters group differently starts
//! those groups afresh, and a group that takes no step drops its state. (A run trains the same
//! parameters every step, so neither happens in one.)

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::Serialize;

use crate::ops::adamw::{AdamWStep, GROUP, adamw_step};

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
    /// The group's m and v, laid out by `ops::adamw::Layout`.
    moments: Tensor<1>,
    /// Trained values in the group (the layout's padding between tensors is not state).
    values: usize,
}

pub struct AdamW {
    weight_decay: f32,
    grad_clip: Option<f32>,
    /// By the group's parameters, in the walk's order.
    states: HashMap<Vec<ParamId>, State>,
}

impl AdamW {
    pub fn new(weight_decay: f32, grad_clip: Option<f32>) -> Self {
        Self { weight_decay, grad_clip, states: HashMap::new() }
    }

    /// One update of every parameter that has a gradient in `grads`.
    pub fn step<M: Module>(&mut self, lr: f64, module: M, mut grads: GradientsParams) -> M {
        let mut trained = Trained { grads: &mut grads, found: Vec::new() };
        let module = module.map(&mut trained);

        let mut found = trained.found.into_iter().peekable();
        let mut updated = HashMap::new();
        let mut states = HashMap::new();
        while found.peek().is_some() {
            let group: Vec<_> = found.by_ref().take(GROUP).collect();
            let ids: Vec<ParamId> = group.iter().map(|(id, _, _)| *id).collect();
            let previous = self.states.remove(&ids);
            let time = previous.as_ref().map_or(1, |s| s.time + 1);
            let step = AdamWStep::new(lr, time, BETA1, BETA2, EPSILON, self.weight_decay, self.grad_clip);
            let values = group.iter().map(|(_, p, _)| p.shape().num_elements()).sum();
            let (params, grads): (Vec<_>, Vec<_>) = group.into_iter().map(|(_, p, g)| (p, g)).unzip();
            let (params, moments) = adamw_step(params, grads, previous.map(|s| s.moments), step);
            updated.extend(ids.iter().copied().zip(params));
            states.insert(ids, State { time, moments, values });
        }
        self.states = states;
        module.map(&mut Replace { updated })
    }

    /// Parameter tensors the optimizer keeps moments for: those that have trained.
    pub fn tensors_with_state(&self) -> usize {
        self.states.keys().map(Vec::len).sum()
    }

    /// Bytes of optimizer state held: the f32 moments of every trained value, for the memory
    /// figures.
    pub fn state_bytes(&self) -> u64 {
        self.states.values().map(|s| 2 * 4 * s.values as u64).sum()
    }
}

/// Takes out, in the walk's order, each parameter that has a gradient, flattened (the update is
/// elementwise), without autodiff, with its gradient. Its gradient stands in its place until
/// `Replace` puts the update there: the module then holds no handle on a group's buffer, which
/// the GPU updates in place only when nothing else does.
struct Trained<'a> {
    grads: &'a mut GradientsParams,
    found: Vec<(ParamId, Tensor<1>, Tensor<1>)>,
}

impl ModuleMapper for Trained<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(grad) = self.grads.remove::<D>(param.id) else { return param };
        let (id, tensor, mapper) = param.consume();
        let n = grad.shape().num_elements();
        // Untracked: a tracked leaf stays registered with autodiff until the next backward pass.
        let stand_in = checkpointed_like(&tensor, Tensor::from_inner(grad.clone()));
        self.found.push((id, tensor.inner().reshape([n]), grad.reshape([n])));
        Param::from_mapped_value(id, stand_in, mapper)
    }
}

/// `value` with `like`'s gradient-checkpointing strategy, if it has one.
fn checkpointed_like<const D: usize>(like: &Tensor<D>, value: Tensor<D>) -> Tensor<D> {
    match like.gradient_checkpointing_strategy() {
        Some(strategy) => value.with_gradient_checkpointing_strategy(strategy),
        None => value,
    }
}

/// Puts each updated parameter in the place of the one it updates.
struct Replace {
    updated: HashMap<ParamId, Tensor<1>>,
}

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(updated) = self.updated.remove(&id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        // Back under autodiff, trained as before (as burn's ModuleOptimizer restores it): only a
        // parameter that requires a gradient has one to be updated from.
        let updated = checkpointed_like(&tensor, Tensor::from_inner(updated.reshape(tensor.dims()))).require_grad();
        Param::from_mapped_value(id, updated, mapper)
    }
}
