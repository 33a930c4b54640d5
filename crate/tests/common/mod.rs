//! Shared by the integration tests: a micro model on the CPU backend.
#![allow(dead_code)]

use burn::tensor::{Device, Int, Tensor, TensorData};
use finetune_lab::checkpoint::{self, Checkpoint};
use finetune_lab::init::Init;
use finetune_lab::model::Gpt;
use finetune_lab::readback::{block_on, read_f32};
use finetune_lab::shape::ModelShape;

pub fn cpu() -> Device {
    Device::flex()
}

/// The devices our operations run on in this build: the CPU backend, and burn's wgpu backend in
/// a `--features wgpu` build (on a machine without a GPU, Mesa's lavapipe: Vulkan on the CPU,
/// which scripts/test.sh installs). A wgpu build that cannot open a device fails the tests
/// rather than skipping them.
pub fn devices() -> Vec<(&'static str, Device)> {
    let mut devices = vec![("cpu", cpu())];
    #[cfg(feature = "wgpu")]
    devices.push(("wgpu", gpu()));
    devices
}

/// One wgpu device shared by every test in the binary: opening one costs about a second.
#[cfg(feature = "wgpu")]
pub fn gpu() -> Device {
    static GPU: std::sync::OnceLock<Device> = std::sync::OnceLock::new();
    GPU.get_or_init(|| {
        finetune_lab::gpu::options(false).init().unwrap_or_else(|e| {
            panic!("no wgpu device ({e}); without a GPU install Mesa's lavapipe: apt-get install mesa-vulkan-drivers")
        })
    })
    .clone()
}

/// Largest absolute difference between two equally long lists.
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[allow(unused_imports)]
pub use finetune_lab::ops::check::pattern;

pub fn micro(seed: u64, device: &Device) -> Gpt {
    Gpt::new(&ModelShape::micro(), &mut Init::new(seed, device))
}

/// A freshly initialised micro model as a base checkpoint.
pub fn micro_base(seed: u64) -> Checkpoint {
    let model = micro(seed, &cpu());
    let bytes = block_on(checkpoint::to_bytes(&model, &ModelShape::micro(), None)).unwrap();
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
    block_on(checkpoint::named_values(module)).unwrap()
}

/// Some text in the character vocabulary, long enough for micro's 32-character context.
pub fn text(n: usize) -> String {
    "the cat sat on the mat. a dog ran to the park, and the cat slept.\n".chars().cycle().take(n).collect()
}
