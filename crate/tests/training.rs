//! The training loop in both modes, on the CPU backend with the micro model.

mod common;

use burn::module::Module;
use common::*;
use finetune_lab::checkpoint::{Checkpoint, Dtype};
use finetune_lab::lora::{Mode, Target};
use finetune_lab::readback::{block_on, read_scalar};
use finetune_lab::run::{Run, TrainConfig, apply_checkpoint, load_base};

fn config(full: bool) -> TrainConfig {
    let c = if full { TrainConfig::full(32) } else { TrainConfig::adapter(32) };
    TrainConfig { batch: 4, ..c }
}

fn adapter() -> Mode {
    Mode::adapter(2, &[Target::Q, Target::V])
}

fn start(mode: Mode, seed: u64) -> Run {
    let full = mode == Mode::Full;
    Run::start(&micro_base(1), mode, TrainConfig { seed, ..config(full) }, &text(3000), &text(400), &cpu()).unwrap()
}

fn losses(run: &mut Run, steps: usize) -> Vec<f32> {
    (0..steps).map(|_| block_on(read_scalar(run.step())).unwrap()).collect()
}

#[test]
fn adapter_steps_leave_every_base_weight_bit_identical() {
    let mut run = start(adapter(), 1);
    let before = weights(run.model());
    losses(&mut run, 5);
    let after = weights(run.model());
    assert_eq!(before.len(), after.len());
    let mut adapters_moved = 0;
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        if name.contains(".adapter.") {
            adapters_moved += usize::from(a != b);
        } else {
            assert_eq!(a, b, "{name} changed in adapter mode");
        }
    }
    assert_eq!(adapters_moved, 2 * 2 * 2, "every A and B of q and v in both layers must train");
}

#[test]
fn the_optimizer_keeps_state_for_the_adapters_only() {
    let mut run = start(adapter(), 1);
    losses(&mut run, 2);
    // AdamW keeps moments for each trained parameter tensor: 2 layers × (q, v) × (A, B).
    assert_eq!(run.trainer().optimizer().tensors_with_state(), 2 * 2 * 2);
}

#[test]
fn full_steps_change_every_weight_tensor() {
    let mut run = start(Mode::Full, 1);
    let before = weights(run.model());
    losses(&mut run, 3);
    for ((name, b), (_, a)) in before.iter().zip(&weights(run.model())) {
        assert_ne!(a, b, "{name} did not change in full mode");
    }
}

#[test]
fn loss_falls_over_a_short_run_in_both_modes() {
    // A random base has a frozen random head (std 0.02) that caps how far any adapter can move
    // the logits, so the adapter's bar is lower here; the shipped base's 300-step runs
    // (`finetune-lab compare`, docs/model.md) are where adapters are held to full fine-tuning.
    for (mode, factor) in [(Mode::Full, 0.9), (adapter(), 0.99)] {
        let mut run = start(mode.clone(), 2);
        let heldout_before = block_on(read_scalar(run.heldout_loss())).unwrap();
        let l = losses(&mut run, 40);
        let heldout_after = block_on(read_scalar(run.heldout_loss())).unwrap();
        let head: f32 = l[..5].iter().sum::<f32>() / 5.0;
        let tail: f32 = l[35..].iter().sum::<f32>() / 5.0;
        assert!(tail < head * factor, "{mode:?}: training loss {head} -> {tail}");
        assert!(heldout_after < heldout_before, "{mode:?}: held-out {heldout_before} -> {heldout_after}");
    }
}

#[test]
fn a_seed_makes_runs_repeatable() {
    for mode in [Mode::Full, adapter()] {
        let a = losses(&mut start(mode.clone(), 7), 4);
        let b = losses(&mut start(mode.clone(), 7), 4);
        assert_eq!(a, b, "{mode:?}");
    }
}

#[test]
fn both_modes_see_the_same_first_batch() {
    // B = 0 makes the adapter model compute exactly the base function, so the first losses agree.
    let full = losses(&mut start(Mode::Full, 3), 1);
    let lora = losses(&mut start(adapter(), 3), 1);
    assert_eq!(full, lora);
}

#[test]
fn checkpoints_round_trip_in_both_modes() {
    let device = cpu();
    let base = micro_base(1);
    for mode in [Mode::Full, adapter()] {
        let mut run = start(mode.clone(), 4);
        losses(&mut run, 3);
        let bytes = block_on(run.checkpoint(Some("records"))).unwrap();
        let file = Checkpoint::parse(&bytes).unwrap();
        if file.header.adapter.is_some() {
            // An adapter file names its base and its task, and is accepted on that base.
            assert_eq!(file.header.base_sha256.as_deref(), Some(base.sha256.as_str()));
            assert_eq!(file.header.task.as_deref(), Some("records"));
            assert!(file.adapter_for(&base).is_ok());
        }
        let input = ids(&[&[4, 8, 15, 16, 23, 42]], &device);
        let expected = values(run.model().valid().forward(input.clone()));
        let loaded = apply_checkpoint(load_base(&base, &device).unwrap(), &file, &device).unwrap();
        assert_eq!(values(loaded.forward(input)), expected, "{mode:?}");
    }
}

#[test]
fn f16_storage_halves_the_file_and_rounds_each_value_to_nearest() {
    let base = micro_base(1);
    let f32_bytes = base.to_bytes(Dtype::F32).unwrap();
    let f16_bytes = base.to_bytes(Dtype::F16).unwrap();
    let header = |bytes: &[u8]| 12 + u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    assert_eq!(f16_bytes.len() - header(&f16_bytes), (f32_bytes.len() - header(&f32_bytes)) / 2);
    assert!(!String::from_utf8_lossy(&f32_bytes).contains("dtype"), "f32 files keep their old header");

    let half = Checkpoint::parse(&f16_bytes).unwrap();
    assert_eq!(half.header.dtype, Dtype::F16);
    for (exact, rounded) in base.values.iter().flatten().zip(half.values.iter().flatten()) {
        // f16 keeps 11 significant bits: relative error ≤ 2^-11 for normal values, and weights
        // below f16's smallest normal (6.1e-5) lose at most half a subnormal step (3e-8).
        assert!((exact - rounded).abs() <= exact.abs() / 2048.0 + 3e-8, "{exact} stored as {rounded}");
    }
    // Read back and written again, the f16 file is byte for byte the same.
    assert_eq!(half.to_bytes(Dtype::F16).unwrap(), f16_bytes);

    let mut huge = micro_base(1);
    huge.values[0][0] = 1e6;
    assert!(huge.to_bytes(Dtype::F16).unwrap_err().contains("does not fit in f16"));
}

#[test]
fn the_adapter_file_is_a_small_fraction_of_the_full_one() {
    let full = block_on(start(Mode::Full, 1).checkpoint(None)).unwrap().len();
    let lora = block_on(start(adapter(), 1).checkpoint(None)).unwrap().len();
    assert!(lora * 5 < full, "adapter {lora} B vs full {full} B");
}

#[test]
fn bad_settings_get_clear_errors() {
    let base = micro_base(1);
    let err = |mode: Mode, config: TrainConfig, train: &str| {
        Run::start(&base, mode, config, train, &text(400), &cpu()).err().unwrap()
    };
    assert!(err(Mode::Full, config(true), "too short").contains("at least 33"));
    assert!(err(Mode::Full, TrainConfig { context: 999, ..config(true) }, &text(3000)).contains("context"));
    assert!(err(Mode::adapter(0, &[Target::Q]), config(false), &text(3000)).contains("rank must be from 1 to 32"));
    assert!(err(Mode::adapter(2, &[]), config(false), &text(3000)).contains("adapts no projection"));
}

#[test]
fn corrupt_checkpoints_are_rejected_with_a_reason() {
    assert!(Checkpoint::parse(b"hello").unwrap_err().contains("magic"));
    let mut bytes = block_on(start(Mode::Full, 1).checkpoint(None)).unwrap();
    bytes.truncate(bytes.len() - 3);
    assert!(Checkpoint::parse(&bytes).unwrap_err().contains("cut short"));
}
