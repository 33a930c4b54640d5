//! Shared by the integration tests: a micro model on the CPU backend.
#![allow(dead_code)]

use burn::tensor::{Device, Int, Tensor, TensorData};
use finetune_lab::checkpoint::{self, Checkpoint, Keep};
use finetune_lab::init::Init;
use finetune_lab::memory::ModelShape;
use finetune_lab::model::Gpt;
use finetune_lab::readback::{block_on, read_f32};

pub fn cpu() -> Device {
    Device::flex()
}

pub fn micro(seed: u64, device: &Device) -> Gpt {
    Gpt::new(&ModelShape::micro(), &mut Init::new(seed, device))
}

/// A freshly initialised micro model as a base checkpoint.
pub fn micro_base(seed: u64) -> Checkpoint {
    let model = micro(seed, &cpu());
    let bytes = block_on(checkpoint::to_bytes(&model, &ModelShape::micro(), None, Keep::All)).unwrap();
    Checkpoint::parse(&bytes).unwrap()
}

pub fn ids(rows: &[&[u32]], device: &Device) -> Tensor<2, Int> {
    let flat: Vec<i32> = rows.iter().flat_map(|r| r.iter().map(|&t| t as i32)).collect();
    Tensor::from_data(TensorData::new(flat, [rows.len(), rows[0].len()]), device)
}

pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    block_on(read_f32(t)).unwrap()
}

/// Every float parameter of a module, by path, read back.
pub fn weights<M: burn::module::Module>(module: &M) -> Vec<(String, Vec<f32>)> {
    let shape = ModelShape::micro();
    let bytes = block_on(checkpoint::to_bytes(module, &shape, None, Keep::All)).unwrap();
    let file = Checkpoint::parse(&bytes).unwrap();
    file.header.tensors.into_iter().map(|e| e.name).zip(file.values).collect()
}

/// Some text in the character vocabulary, long enough for micro's 32-character context.
pub fn text(n: usize) -> String {
    "the cat sat on the mat. a dog ran to the park, and the cat slept.\n".chars().cycle().take(n).collect()
}
