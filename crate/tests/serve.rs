//! Serving many tenants together: a mixed batch, every row through its own tenant's adapter on
//! the one base (BGMV), gives what each row gets alone through its tenant's merged model. On the
//! CPU and, in a `--features wgpu` build, on wgpu.

mod common;

use common::*;
use finetune_lab::checkpoint::{self, AdapterMeta, Checkpoint, Dtype};
use finetune_lab::generate::{generate, prompt_ids};
use finetune_lab::init::Init;
use finetune_lab::lora::{AdapterSpec, Target};
use finetune_lab::model::Gpt;
use finetune_lab::readback::block_on;
use finetune_lab::run::apply_checkpoint;
use finetune_lab::serve::{Request, ServingBatch, TenantStacks};
use finetune_lab::shape::ModelShape;

/// An adapter file for the micro base (`micro_base(1)`) with B drawn from a pattern: a fresh
/// adapter's B is 0 and would change nothing.
fn adapter(rank: usize, targets: &[Target], seed: u32) -> Checkpoint {
    let spec = AdapterSpec { rank, alpha: 2.0 * rank as f32, targets: targets.to_vec() };
    let meta = AdapterMeta { spec: spec.clone(), base_sha256: micro_base(1).sha256, task: None };
    let model = micro(1, &cpu()).with_adapters(targets, rank, spec.alpha, &mut Init::new(seed as u64, &cpu()));
    let bytes = block_on(checkpoint::to_bytes(&model, &ModelShape::micro(), Some(&meta))).unwrap();
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
        let stacks = TenantStacks::new(&files.iter().collect::<Vec<_>>(), &micro_base(1), &device).unwrap();
        let together = ServingBatch::new(&base, &stacks, &requests(), 0.0, 1).unwrap();
        let got = values(together.window_logits());
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
fn the_kv_cache_gives_the_logits_of_recomputing_every_window() {
    let files = tenants();
    // Micro's context is 32: the 40-character prompt starts past it, the 20-character one runs
    // out of it on the 13th step while the shorter ones keep their keys and values, and these
    // leave the cache one by one until, by the 36th step, every row recomputes its window.
    let long = text(40);
    let requests: Vec<Request> = [(1, "the cat sat on a mat"), (0, "a"), (2, long.as_str()), (3, "dog"), (2, "")]
        .iter()
        .map(|&(slot, prompt)| Request { slot, prompt: prompt.to_string() })
        .collect();
    for (name, device) in devices() {
        let base = micro(1, &device);
        let stacks = TenantStacks::new(&files.iter().collect::<Vec<_>>(), &micro_base(1), &device).unwrap();
        let mut together = ServingBatch::new(&base, &stacks, &requests, 0.8, 3).unwrap();
        let mut worst = 0.0f32;
        for _ in 0..36 {
            let recomputed = values(together.window_logits());
            block_on(together.step()).unwrap();
            worst = worst.max(max_diff(together.last_logits(), &recomputed));
        }
        eprintln!("{name}: max |cached − recomputed| over 36 steps {worst:.1e}");
        assert!(worst <= 1e-4, "{name}: {worst}");
    }
}

#[test]
fn served_together_each_tenant_writes_what_its_merged_model_writes_alone() {
    let files = tenants();
    for (name, device) in devices() {
        let base = micro(1, &device);
        let stacks = TenantStacks::new(&files.iter().collect::<Vec<_>>(), &micro_base(1), &device).unwrap();
        let mut together = ServingBatch::new(&base, &stacks, &requests(), 0.8, 7).unwrap();
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
    let stacks = TenantStacks::new(&files.iter().collect::<Vec<_>>(), &micro_base(1), &device).unwrap();
    let missing = [Request { slot: 4, prompt: "x".into() }];
    let err = ServingBatch::new(&base, &stacks, &missing, 0.0, 1).err().unwrap();
    assert!(err.contains("tenant 4 does not exist: there are 3"), "{err}");
    assert!(ServingBatch::new(&base, &stacks, &[], 0.0, 1).err().unwrap().contains("at least one request"));
}

#[test]
fn an_adapter_file_is_refused_with_the_reason_on_another_base_shape_rank_or_corrupt_bytes() {
    let base = micro_base(1);
    let file = &tenants()[0];
    assert!(file.adapter_for(&base).is_ok());
    let reason = |edit: &dyn Fn(&mut Checkpoint)| {
        let mut bad = Checkpoint::parse(&file.to_bytes(Dtype::F32).unwrap()).unwrap();
        edit(&mut bad);
        bad.adapter_for(&base).unwrap_err()
    };
    assert!(reason(&|f| f.header.base_sha256 = Some("0123456789abcdef".into())).contains("trained on another base"));
    assert!(reason(&|f| f.header.base_sha256 = None).contains("does not say which base"));
    assert!(reason(&|f| f.header.shape.d_model *= 2).contains("another model shape"));
    let rank = reason(&|f| f.header.adapter.as_mut().unwrap().rank = 1 << 40);
    assert!(rank.contains("rank must be from 1 to 32 (the narrowest projection's width), got 1099511627776"), "{rank}");
    assert!(reason(&|f| f.header.adapter.as_mut().unwrap().rank = 0).contains("got 0"));
    assert!(reason(&|f| f.header.adapter.as_mut().unwrap().alpha = f32::NAN).contains("alpha"));
    assert!(reason(&|f| f.header.adapter = None).contains("not an adapter file"));
    // Stacking refuses it too, naming the tenant.
    let mut foreign = Checkpoint::parse(&file.to_bytes(Dtype::F32).unwrap()).unwrap();
    foreign.header.base_sha256 = Some("f".repeat(64));
    let err = TenantStacks::new(&[file, &foreign], &base, &cpu()).err().unwrap();
    assert!(err.starts_with("tenant 2: the adapter was trained on another base"), "{err}");
    // Corrupt bytes: cut short, or flipped in the header.
    let bytes = file.to_bytes(Dtype::F32).unwrap();
    // Cut short: said as such, with the bytes missing, not as "not a checkpoint".
    let header_end = 12 + u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let need = bytes.len() - header_end;
    let cut = Checkpoint::parse(&bytes[..bytes.len() - 3]).unwrap_err();
    assert!(
        cut.starts_with(&format!(
            "the file is cut short: its header describes {need} bytes of tensors and only {} follow",
            need - 3
        )),
        "{cut}"
    );
    let mut flipped = bytes.clone();
    flipped[14] ^= 0xff;
    assert!(Checkpoint::parse(&flipped).unwrap_err().starts_with("not a finetune-lab checkpoint"));
}
