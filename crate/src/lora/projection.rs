//! A linear projection that may carry a LoRA adapter (Hu et al. 2021, arXiv 2106.09685):
//! `y = x W + b + (alpha / r) · x A B`, with W frozen and only A (in × r) and B (r × out) trained.
//!
//! A starts random and B at zero, so a fresh adapter leaves the output exactly unchanged and the
//! first steps move away from the pretrained model smoothly.

use burn::module::{Module, Param};
use burn::nn::Linear;
use burn::tensor::Tensor;

use super::spec::Target;
use crate::init::Init;
use crate::ops::branch::{AdaptedLayer, Layer};
use crate::ops::linear::{linear, linear_onto};
use crate::ops::lora_bgmv::{AdapterStack, lora_bgmv};
use crate::ops::lora_linear::{lora_projection, lora_projection_onto};

/// Serving many tenants in one batch: every tenant's adapter for each target projection of one
/// block, stacked (slot 0 = none), and the slot of each sequence in the batch.
#[derive(Clone, Copy)]
pub struct Tenants<'a> {
    pub stacks: &'a [(Target, AdapterStack)],
    /// `[batch]`: each sequence's slot, whole numbers in f32 (see `ops::lora_bgmv`).
    pub slots: &'a Tensor<1>,
}

impl<'a> Tenants<'a> {
    /// The stack for `target` with the slots, if any tenant adapts it.
    pub fn of(self, target: Target) -> Option<(&'a AdapterStack, &'a Tensor<1>)> {
        self.stacks.iter().find(|(t, _)| *t == target).map(|(_, stack)| (stack, self.slots))
    }
}

#[derive(Module, Debug)]
pub struct Adapter {
    /// `[d_input, rank]`
    pub a: Param<Tensor<2>>,
    /// `[rank, d_output]`
    pub b: Param<Tensor<2>>,
    /// alpha / rank
    pub scale: f32,
}

#[derive(Module, Debug)]
pub struct Projection {
    pub base: Linear,
    pub adapter: Option<Adapter>,
}

impl Projection {
    pub fn new(init: &mut Init, d_input: usize, d_output: usize, std: f32) -> Self {
        let base = Linear { weight: init.normal([d_input, d_output], std), bias: Some(init.constant([d_output], 0.0)) };
        Self { base, adapter: None }
    }

    /// `[..., d_input]` → `[..., d_output]`
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.forward_onto(x, None)
    }

    /// `residual + forward(x)` when given, the residual (`[..., d_output]`) summed in the
    /// projection's own product: a block's residual branch ends in this projection.
    pub fn forward_onto<const D: usize>(&self, x: Tensor<D>, residual: Option<Tensor<D>>) -> Tensor<D> {
        // The base frozen, as LoRA trains it: one operation of ours, whose backward pass gives
        // x, A and B their gradients. x A is [..., rank]: the adapter never forms the full
        // d_input × d_output update.
        if let Some(AdaptedLayer { weight, bias, a, b, scale }) = self.adapted() {
            return match residual {
                Some(residual) => lora_projection_onto(x, weight, bias, a, b, scale, residual),
                None => lora_projection(x, weight, bias, a, b, scale),
            };
        }
        let (weight, bias) = (self.base.weight.val(), self.base.bias.as_ref().map(|b| b.val()));
        match (&self.adapter, bias, residual) {
            // A base that trains too (or has no bias): the same sum from plain products.
            (Some(adapter), bias, residual) => {
                let low = linear(x.clone(), adapter.a.val(), None);
                plus(residual, linear(x, weight, bias) + linear(low, adapter.b.val(), None).mul_scalar(adapter.scale))
            }
            (None, Some(bias), Some(residual)) => linear_onto(x, weight, bias, residual),
            (None, bias, residual) => plus(residual, linear(x, weight, bias)),
        }
    }

    /// The layer of a projection whose adapter trains on a frozen base with a bias, as LoRA
    /// trains it: what `ops::lora_linear` takes.
    pub fn adapted(&self) -> Option<AdaptedLayer> {
        let (adapter, bias) = (self.adapter.as_ref()?, self.base.bias.as_ref()?.val());
        let weight = self.base.weight.val();
        let frozen = !weight.is_require_grad() && !bias.is_require_grad();
        frozen.then(|| AdaptedLayer { weight, bias, a: adapter.a.val(), b: adapter.b.val(), scale: adapter.scale })
    }

    /// The projection as the operations that fuse it with its neighbours take it
    /// (`ops::attention_block`, `ops::mlp`): plain when it has a bias and no adapter, adapted
    /// when its adapter trains on a frozen base with a bias; none otherwise.
    pub fn layer(&self) -> Option<Layer> {
        match (&self.adapter, &self.base.bias) {
            (None, Some(bias)) => Some(Layer::Plain { weight: self.base.weight.val(), bias: bias.val() }),
            _ => self.adapted().map(Layer::Adapted),
        }
    }

    /// `forward`, plus each sequence's own tenant's adapter from `tenants` (stack, slots).
    pub fn forward_for<const D: usize>(&self, x: Tensor<D>, tenants: Option<(&AdapterStack, &Tensor<1>)>) -> Tensor<D> {
        self.forward_onto_for(x, None, tenants)
    }

    /// `forward_onto`, plus each sequence's own tenant's adapter from `tenants`.
    pub fn forward_onto_for<const D: usize>(
        &self,
        x: Tensor<D>,
        residual: Option<Tensor<D>>,
        tenants: Option<(&AdapterStack, &Tensor<1>)>,
    ) -> Tensor<D> {
        match tenants {
            None => self.forward_onto(x, residual),
            Some((stack, slots)) => lora_bgmv(self.forward_onto(x.clone(), residual), x, stack, slots.clone()),
        }
    }

    /// Attach a fresh adapter. A ~ N(0, 1/rank) (zero-mean, as the paper's random Gaussian),
    /// B = 0.
    pub fn attach(&mut self, init: &mut Init, rank: usize, alpha: f32) {
        let [d_input, d_output] = self.base.weight.dims();
        self.adapter = Some(Adapter {
            a: init.normal([d_input, rank], 1.0 / (rank as f32).sqrt()),
            b: init.constant([rank, d_output], 0.0),
            scale: alpha / rank as f32,
        });
    }

    /// Fold the adapter into the base weight: W' = W + (alpha / r) A B. Used for export.
    pub fn merge(self) -> Self {
        let Some(adapter) = self.adapter else { return self };
        let delta = adapter.a.val().matmul(adapter.b.val()).mul_scalar(adapter.scale);
        let weight = self.base.weight.map(|w| w + delta);
        Self { base: Linear { weight, bias: self.base.bias }, adapter: None }
    }
}

/// `residual + y`, or `y` alone.
fn plus<const D: usize>(residual: Option<Tensor<D>>, y: Tensor<D>) -> Tensor<D> {
    match residual {
        Some(residual) => residual + y,
        None => y,
    }
}
