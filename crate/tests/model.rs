//! The GPT and its LoRA adapters, on the CPU backend.

mod common;

use burn::module::Module;
use common::*;
use finetune_lab::init::Init;
use finetune_lab::lora::Target;
use finetune_lab::shape::ModelShape;

#[test]
fn parameter_count_matches_the_memory_model() {
    for shape in [ModelShape::micro(), ModelShape::tiny()] {
        let model = finetune_lab::model::Gpt::new(&shape, &mut Init::new(1, &cpu()));
        assert_eq!(model.num_params() as u64, shape.param_count(), "{}", shape.name);
    }
}

#[test]
fn changing_a_later_token_never_changes_earlier_logits() {
    let device = cpu();
    let model = micro(3, &device);
    let a: Vec<u32> = (0..16).map(|i| 2 + (i * 7) % 90).collect();
    let mut b = a.clone();
    b[10] = 50;
    b[15] = 3;
    let la = values(model.forward(ids(&[&a], &device)));
    let lb = values(model.forward(ids(&[&b], &device)));
    let vocab = ModelShape::micro().vocab;
    assert_eq!(la[..10 * vocab], lb[..10 * vocab], "positions before the change must not move");
    assert_ne!(la[10 * vocab..11 * vocab], lb[10 * vocab..11 * vocab], "the changed position itself must move");
}

#[test]
fn a_fresh_adapter_reproduces_the_base_exactly() {
    let device = cpu();
    let base = micro(5, &device);
    let input = ids(&[&[5, 9, 12, 40, 41, 2, 77, 8]], &device);
    let before = values(base.forward(input.clone()));
    let adapted = base.with_adapters(&Target::ALL, 4, 8.0, &mut Init::new(9, &device));
    assert_eq!(values(adapted.forward(input)), before, "B = 0 must make the adapter a no-op");
}

#[test]
fn merging_equals_base_plus_adapter() {
    let device = cpu();
    let mut model =
        micro(5, &device).with_adapters(&[Target::Q, Target::V, Target::Fc], 2, 4.0, &mut Init::new(9, &device));
    // Give B non-zero values so the adapter really changes the output.
    let mut init = Init::new(11, &device);
    for block in &mut model.blocks {
        for target in [Target::Q, Target::V, Target::Fc] {
            let adapter = block.projection_mut(target).adapter.as_mut().unwrap();
            let [r, out] = adapter.b.dims();
            adapter.b = init.normal([r, out], 0.5);
        }
    }
    let input = ids(&[&[5, 9, 12, 40, 41, 2, 77, 8]], &device);
    let with_adapter = values(model.forward(input.clone()));
    let base_only = values(micro(5, &device).forward(input.clone()));
    let merged = values(model.merged().forward(input));
    assert!(
        with_adapter.iter().zip(&base_only).any(|(a, b)| (a - b).abs() > 1e-3),
        "the adapter must change the output"
    );
    for (m, a) in merged.iter().zip(&with_adapter) {
        assert!((m - a).abs() < 1e-4, "merged {m} vs adapter {a}");
    }
}

#[test]
fn q_and_v_alone_can_be_targeted() {
    // Trainability only exists on an autodiff device.
    let device = cpu().autodiff();
    let model = micro(1, &device).with_adapters(&[Target::Q, Target::V], 4, 8.0, &mut Init::new(1, &device));
    for block in &model.blocks {
        assert!(block.attn.q.adapter.is_some() && block.attn.v.adapter.is_some());
        assert!(block.attn.k.adapter.is_none() && block.attn.o.adapter.is_none());
        assert!(block.mlp.fc.adapter.is_none() && block.mlp.proj.adapter.is_none());
    }
    let shape = ModelShape::micro();
    let (total, trainable) = finetune_lab::run::count_params(&model);
    assert_eq!(trainable as u64, finetune_lab::lora::adapter_params(&shape, 4, &[Target::Q, Target::V]));
    assert_eq!(total as u64, shape.param_count() + trainable as u64);
}

#[test]
fn same_seed_same_weights() {
    let device = cpu();
    assert_eq!(weights(&micro(7, &device)), weights(&micro(7, &device)));
    assert_ne!(weights(&micro(7, &device)), weights(&micro(8, &device)));
}

#[test]
fn our_gelu_and_its_gradient_equal_burns() {
    use burn::tensor::{Tensor, TensorData};
    let device = cpu().autodiff();
    // Non-contiguous input (a transpose) and a weighted sum, so the incoming gradient is not all ones.
    let xs: Vec<f32> = (0..240).map(|i| (i as f32 - 120.0) / 16.0).collect();
    let weights: Vec<f32> = (0..240).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
    let run = |ours: bool| {
        let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [12, 20]), &device).require_grad();
        let input = x.clone().transpose();
        let y = if ours { finetune_lab::ops::gelu::gelu(input) } else { burn::tensor::activation::gelu(input) };
        let w = Tensor::<2>::from_data(TensorData::new(weights.clone(), [20, 12]), &device);
        let grads = (y.clone() * w).sum().backward();
        (values(y), values(x.grad(&grads).expect("x takes a gradient")))
    };
    let ((ours, our_grad), (burns, burn_grad)) = (run(true), run(false));
    for (name, a, b) in [("gelu", &ours, &burns), ("gradient", &our_grad, &burn_grad)] {
        let worst = a.iter().zip(b.iter()).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
        assert!(worst < 2e-6, "{name} differs from burn's by {worst}");
    }
    assert!(burn_grad.iter().any(|&g| g.abs() > 1.0), "the test must exercise real gradients");
    // And it was ours that ran, not burn's behind a fallback: our CPU kernel is `math::gelu`
    // element by element, bit for bit, where burn's goes through libm and differs in the last bits.
    // `ours` is the transpose, 20 × 12: row j holds column j of the 12 × 20 input.
    let ys: Vec<f32> = (0..20)
        .flat_map(|j| (0..12).map(move |i| (i, j)))
        .map(|(i, j)| finetune_lab::ops::gelu::math::gelu(xs[i * 20 + j]))
        .collect();
    assert_eq!(ours, ys, "our GELU is not what ran");
    assert_ne!(burns, ys, "burn's GELU should differ from ours in the last bits, or this check proves nothing");
}
