//! The same fine-tuning run on the CPU backend and on burn's wgpu backend (our WGSL kernels;
//! lavapipe where there is no GPU) follows the same loss curve, step by step, from the shipped
//! base: the GPU path computes what the CPU path, PyTorch and TF.js compute (bench/ checks the
//! CPU path against those).
#![cfg(feature = "wgpu")]

mod common;

use burn::module::Module;
use common::*;
use finetune_lab::checkpoint::{Checkpoint, named_values};
use finetune_lab::data::Dataset;
use finetune_lab::lora::{Mode, Target};
use finetune_lab::readback::{block_on, copy_to_cpu, read_f32};
use finetune_lab::run::{Run, TrainConfig};

/// The base model the site ships.
fn shipped_base() -> Checkpoint {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/base/tiny.ftlab");
    Checkpoint::parse(&std::fs::read(path).unwrap()).unwrap()
}

/// A run's losses, read back `batches[i]` steps at a time (`Run::steps`, as a fast GPU reads
/// them).
fn losses(mode: Mode, device: &burn::tensor::Device, batches: &[usize]) -> Vec<f32> {
    let base = shipped_base();
    let data = Dataset::for_task("records", 1, 64).unwrap();
    let config = TrainConfig { batch: 4, ..TrainConfig::for_mode(&mode, 64) };
    let mut run = Run::start(&base, mode, config, &data.train, &data.heldout, device).unwrap();
    batches.iter().flat_map(|&n| block_on(read_f32(run.steps(n))).unwrap()).collect()
}

#[test]
fn twenty_steps_on_wgpu_follow_the_cpu_loss_curve() {
    for mode in [Mode::Full, Mode::adapter(4, &[Target::Q, Target::V])] {
        // The CPU reads every step; the GPU reads in batches, whose losses come back in order.
        let (cpu_losses, gpu_losses) =
            (losses(mode.clone(), &cpu(), &[1; 20]), losses(mode.clone(), &gpu(), &[1, 3, 7, 9]));
        assert_eq!(gpu_losses.len(), 20);
        let diff = max_diff(&cpu_losses, &gpu_losses);
        eprintln!("{mode:?}: cpu {:?}\n  wgpu {:?}\n  max difference {diff:.1e}", cpu_losses, gpu_losses);
        assert!(diff <= 1e-4, "{mode:?}: wgpu and CPU losses differ by {diff}");
        assert!(cpu_losses[19] < cpu_losses[0] - 1.0, "{mode:?}: the run must learn");
    }
}

#[test]
fn a_warm_up_changes_nothing_a_run_then_computes() {
    let base = shipped_base();
    let adapter = || Mode::adapter(4, &[Target::Q, Target::V]);
    for device in [cpu(), gpu()] {
        let before = losses(adapter(), &device, &[1, 2]);
        block_on(finetune_lab::run::warm_up(&base, &device)).unwrap();
        let after = losses(adapter(), &device, &[1, 2]);
        assert_eq!(before, after, "{device:?}: the warm-up left something behind");
    }
}

#[test]
fn a_trained_model_on_wgpu_is_copied_to_the_cpu_value_for_value() {
    let base = shipped_base();
    let data = Dataset::for_task("records", 1, 64).unwrap();
    let mode = Mode::adapter(4, &[Target::Q, Target::V]);
    let config = TrainConfig { batch: 4, ..TrainConfig::for_mode(&mode, 64) };
    let mut run = Run::start(&base, mode, config, &data.train, &data.heldout, &gpu()).unwrap();
    block_on(read_f32(run.steps(3))).unwrap();
    let on_gpu = run.model().valid();
    let copy = block_on(copy_to_cpu(&on_gpu)).unwrap();
    assert_eq!(copy.devices(), vec![cpu()]);
    let (copied, read) = (block_on(named_values(&copy)).unwrap(), block_on(named_values(&on_gpu)).unwrap());
    assert!(copied.iter().any(|(name, _)| name.contains(".adapter.")), "the trained adapters are copied too");
    assert_eq!(copied, read);
}
