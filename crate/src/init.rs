//! Seeded parameter initialisation from our own RNG, so a seed gives the same model on the CPU
//! backend, on WebGPU and in every test, independent of how a backend seeds its own generator.

use burn::module::Param;
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::Rng;

pub struct Init<'a> {
    /// `None` for a model a checkpoint is about to fill (`for_loading`).
    rng: Option<Rng>,
    device: &'a Device,
}

impl<'a> Init<'a> {
    pub fn new(seed: u64, device: &'a Device) -> Self {
        Self { rng: Some(Rng::new(seed)), device }
    }

    /// For a model whose every value a checkpoint then replaces (loading refuses a file that
    /// lacks one): zeros, not draws. Drawing a model's 834,560 normals only to overwrite them
    /// was 7% of a short `finetune-lab serve`, and counted in every load it times.
    pub fn for_loading(device: &'a Device) -> Self {
        Self { rng: None, device }
    }

    pub fn device(&self) -> &'a Device {
        self.device
    }

    /// Normal(0, std) by Box–Muller: GPT-2's initialisation uses std 0.02.
    pub fn normal<const D: usize>(&mut self, shape: [usize; D], std: f32) -> Param<Tensor<D>> {
        let Some(rng) = &mut self.rng else { return Param::from_tensor(Tensor::zeros(shape, self.device)) };
        let n: usize = shape.iter().product();
        let values = (0..n)
            .map(|_| {
                let u1 = rng.f32().max(f32::MIN_POSITIVE);
                let u2 = rng.f32();
                std * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
            })
            .collect();
        self.param(values, shape)
    }

    pub fn constant<const D: usize>(&mut self, shape: [usize; D], value: f32) -> Param<Tensor<D>> {
        self.param(vec![value; shape.iter().product()], shape)
    }

    fn param<const D: usize>(&self, values: Vec<f32>, shape: [usize; D]) -> Param<Tensor<D>> {
        Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), self.device))
    }
}
