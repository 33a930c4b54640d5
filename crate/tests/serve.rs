//! Serving many tenants together: a mixed batch, every row through its own tenant's adapter on
//! the one base (BGMV), gives what each row gets alone through its tenant's merged model. On the
//! CPU and, in a `--features wgpu` build, on wgpu.

mod common;

use common::*;
use finetune_lab::checkpoint::{self, AdapterSpec, Checkpoint, Keep};
use finetune_lab::finetune::apply_checkpoint;
use finetune_lab::generate::{generate, prompt_ids};
use finetune_lab::init::Init;
use finetune_lab::memory::{ModelShape, Target};
use finetune_lab::model::Gpt;
use finetune_lab::readback::block_on;
use finetune_lab::serve::{Request, TenantStacks, Together};

/// An adapter file for the micro model with B drawn from a pattern: a fresh adapter's B is 0
/// and would change nothing.
fn adapter(rank: usize, targets: &[Target], seed: u32) -> Checkpoint {
    let spec = AdapterSpec { rank, alpha: 2.0 * rank as f32, targets: targets.to_vec() };
    let model = micro(1, &cpu()).with_adapters(targets, rank, spec.alpha, &mut Init::new(seed as u64, &cpu()));
    let bytes = block_on(checkpoint::to_bytes(&model, &ModelShape::micro(), Some(spec), Keep::Adapters)).unwrap();
    let mut file = Checkpoint::parse(&bytes).unwrap();
    for (entry, values) in file.header.tensors.iter().zip(&mut file.values) {
        if entry.name.ends_with(".adapter.b") {
            *values = pattern(values.len(), seed, 0.3);
        }
    }
    file
}

/// Three tenants of different ranks and targets (q,v r=4; q,k,v,o r=2; every projection r=8).
fn tenants() -> Vec<Checkpoint> {
    vec![
        adapter(4, &[Target::Q, Target::V], 11),
        adapter(2, &[Target::Q, Target::K, Target::V, Target::O], 12),
        adapter(8, &Target::ALL, 13),
    ]
}

/// Five requests (an odd batch), base-only rows among them, prompts of different lengths, one
/// longer than micro's 32-character context.
fn requests() -> Vec<Request> {
    let long = text(45);
    [(2, "the cat"), (0, "a dog ran"), (1, "the"), (3, long.as_str()), (2, "")]
        .iter()
        .map(|&(slot, prompt)| Request { slot, prompt: prompt.to_string() })
        .collect()
}

/// Each tenant's merged model (slot 0: the base itself).
fn merged_models(base: &Gpt, files: &[Checkpoint], device: &burn::tensor::Device) -> Vec<Gpt> {
    let mut models = vec![base.clone()];
    models.extend(files.iter().map(|f| apply_checkpoint(base.clone(), f, device).unwrap().merged()));
    models
}

#[test]
fn a_mixed_batch_equals_each_row_alone_through_its_merged_model() {
    let files = tenants();
    for (name, device) in devices() {
        let base = micro(1, &device);
        let stacks = TenantStacks::new(&files.iter().collect::<Vec<_>>(), &ModelShape::micro(), &device).unwrap();
        let together = Together::new(&base, &stacks, &requests(), 0.0, 1).unwrap();
        let got = values(together.next_logits());
        let models = merged_models(&base, &files, &device);
        let vocab = got.len() / requests().len();
        let mut worst = 0.0f32;
        let mut moved = 0.0f32;
        for (row, request) in requests().iter().enumerate() {
            let all = prompt_ids(&request.prompt);
            let window = &all[all.len().saturating_sub(32)..];
            let last =
                |model: &Gpt| values(model.forward(ids(&[window], &device)))[(window.len() - 1) * vocab..].to_vec();
            let alone = last(&models[request.slot]);
            worst = worst.max(max_diff(&got[row * vocab..(row + 1) * vocab], &alone));
            moved = moved.max(max_diff(&alone, &last(&base)));
        }
        eprintln!("{name}: max |together − alone| {worst:.1e}; the adapters move logits by up to {moved:.2}");
        assert!(moved > 0.05, "{name}: the tenants' adapters change nothing, so the test proves nothing");
        assert!(worst <= 1e-4, "{name}: a mixed batch differs from each row alone by {worst}");
    }
}

#[test]
fn served_together_each_tenant_writes_what_its_merged_model_writes_alone() {
    let files = tenants();
    for (name, device) in devices() {
        let base = micro(1, &device);
        let stacks = TenantStacks::new(&files.iter().collect::<Vec<_>>(), &ModelShape::micro(), &device).unwrap();
        let mut together = Together::new(&base, &stacks, &requests(), 0.8, 7).unwrap();
        for _ in 0..12 {
            block_on(together.step()).unwrap();
        }
        let models = merged_models(&base, &files, &device);
        let alone: Vec<String> =
            requests().iter().map(|r| block_on(generate(&models[r.slot], &r.prompt, 12, 0.8, 7)).unwrap()).collect();
        assert_eq!(together.texts(), alone, "{name}");
    }
}

#[test]
fn a_request_for_a_missing_tenant_or_a_foreign_adapter_is_refused() {
    let device = cpu();
    let base = micro(1, &device);
    let files = tenants();
    let stacks = TenantStacks::new(&files.iter().collect::<Vec<_>>(), &ModelShape::micro(), &device).unwrap();
    let missing = [Request { slot: 4, prompt: "x".into() }];
    let err = Together::new(&base, &stacks, &missing, 0.0, 1).err().unwrap();
    assert!(err.contains("tenant 4 does not exist: there are 3"), "{err}");
    assert!(Together::new(&base, &stacks, &[], 0.0, 1).err().unwrap().contains("at least one request"));

    // An adapter made for a wider model: its A matrices have the wrong shape.
    let mut wide = ModelShape::micro();
    wide.d_model *= 2;
    let err = TenantStacks::new(&[&files[0]], &wide, &device).err().unwrap();
    assert!(err.contains("tenant 1: blocks.0.attn.q.adapter.a has shape"), "{err}");
}
