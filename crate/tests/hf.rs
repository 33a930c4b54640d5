//! Hugging Face's formats from our side: an adapter exported for PEFT and imported back is the
//! same adapter to the bit, the GPT-2 export holds every weight where transformers looks for it,
//! and hostile PEFT files and archives (lying safetensors offsets, a 2 GB header, unknown keys, a
//! zip bomb, thousands of seeded mutations) are refused with a message, never a panic or an
//! allocation far past the file's size. `tests/peft/check.py` has transformers and PEFT
//! themselves load the same exports.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::*;
use finetune_lab::checkpoint::{self, AdapterMeta, Checkpoint};
use finetune_lab::hf::{ExportFile, adapter_directory, import_adapter, model_directory, peft_files};
use finetune_lab::init::Init;
use finetune_lab::lora::{AdapterSpec, Target, parse_targets};
use finetune_lab::measure::heap::{self, Counting};
use finetune_lab::readback::block_on;
use finetune_lab::rng::Rng;
use finetune_lab::shape::ModelShape;
use finetune_lab::zip;
use safetensors::SafeTensors;

#[global_allocator]
static HEAP: Counting<std::alloc::System> = Counting(std::alloc::System);

/// An adapter file for the micro base with random (non-zero) A and B.
fn adapter(base: &Checkpoint, rank: usize, targets: &[Target], seed: u64) -> Checkpoint {
    let spec = AdapterSpec { rank, alpha: 3.0 * rank as f32, targets: targets.to_vec() };
    let meta = AdapterMeta { spec, base_sha256: base.sha256.clone(), task: None };
    let device = cpu();
    let mut model = micro(1, &device).with_adapters(targets, rank, 3.0 * rank as f32, &mut Init::new(seed, &device));
    let mut init = Init::new(seed + 1, &device);
    for block in &mut model.blocks {
        for &target in targets {
            let adapter = block.projection_mut(target).adapter.as_mut().unwrap();
            let [r, out] = adapter.b.dims();
            adapter.b = init.normal([r, out], 0.1);
        }
    }
    Checkpoint::parse(&block_on(checkpoint::to_bytes(&model, &ModelShape::micro(), Some(&meta))).unwrap()).unwrap()
}

fn file<'a>(files: &'a [ExportFile], name: &str) -> &'a [u8] {
    &files.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no {name}")).bytes
}

#[test]
fn an_adapter_exported_for_peft_imports_back_to_the_bit() {
    let base = micro_base(1);
    for targets in ["q,v", "attn", "all", "k", "q,proj"] {
        for rank in [1, 4, 8] {
            let ours = adapter(&base, rank, &parse_targets(targets).unwrap(), 7);
            let files = adapter_directory(&ours).unwrap();
            let back = Checkpoint::parse(
                &import_adapter(file(&files, "adapter_config.json"), file(&files, "adapter_model.safetensors"), &base)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(back.header.adapter, ours.header.adapter, "{targets} r{rank}");
            assert_eq!(back.header.tensors, ours.header.tensors, "{targets} r{rank}");
            assert_eq!(back.values, ours.values, "{targets} r{rank}");
        }
    }
}

#[test]
fn q_and_v_share_the_fused_c_attn_on_a_block_diagonal() {
    let base = micro_base(1);
    let ours = adapter(&base, 2, &[Target::Q, Target::V], 3);
    let files = adapter_directory(&ours).unwrap();
    let config: serde_json::Value = serde_json::from_slice(file(&files, "adapter_config.json")).unwrap();
    assert_eq!(config["target_modules"], serde_json::json!(["attn.c_attn"]));
    assert_eq!((config["r"].as_u64(), config["lora_alpha"].as_f64()), (Some(2), Some(6.0)));
    assert_eq!(config["rank_pattern"]["attn.c_attn"], 4);
    assert_eq!(config["alpha_pattern"]["attn.c_attn"], 12.0);
    let weights = SafeTensors::deserialize(file(&files, "adapter_model.safetensors")).unwrap();
    let b = weights.tensor("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight").unwrap();
    let d = ModelShape::micro().d_model;
    assert_eq!(b.shape(), &[3 * d, 4]);
    let b: Vec<f32> = b.data().chunks(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
    // k's rows are zero; q's rows use only the first two columns, v's only the last two.
    assert!(b[d * 4..2 * d * 4].iter().all(|&v| v == 0.0));
    assert!((0..d).all(|row| b[row * 4 + 2] == 0.0 && b[row * 4 + 3] == 0.0));
    assert!((2 * d..3 * d).all(|row| b[row * 4] == 0.0 && b[row * 4 + 1] == 0.0));
}

#[test]
fn the_gpt2_export_holds_every_weight_under_gpt2s_names() {
    let base = micro_base(1);
    let files = model_directory(&base).unwrap();
    let s = ModelShape::micro();
    let config: serde_json::Value = serde_json::from_slice(file(&files, "config.json")).unwrap();
    assert_eq!(config["model_type"], "gpt2");
    assert_eq!(config["activation_function"], "gelu");
    assert_eq!(config["tie_word_embeddings"], false);
    assert_eq!(
        (config["n_layer"].as_u64(), config["n_embd"].as_u64(), config["n_inner"].as_u64()),
        (Some(2), Some(32), Some(128))
    );
    let weights = SafeTensors::deserialize(file(&files, "model.safetensors")).unwrap();
    let count: usize = weights.tensors().iter().map(|(_, t)| t.shape().iter().product::<usize>()).sum();
    assert_eq!(count as u64, s.param_count());
    assert_eq!(weights.tensor("transformer.h.1.attn.c_attn.weight").unwrap().shape(), &[32, 96]);
    assert_eq!(weights.tensor("lm_head.weight").unwrap().shape(), &[97, 32]);
    let tokenizer: serde_json::Value = serde_json::from_slice(file(&files, "tokenizer.json")).unwrap();
    assert_eq!(tokenizer["model"]["vocab"].as_object().unwrap().len(), 97);
    assert_eq!(tokenizer["model"]["vocab"]["\n"], 1);
    assert!(model_directory(&adapter(&base, 2, &[Target::Q], 1)).unwrap_err().contains("exports for PEFT"));
}

#[test]
fn a_zip_of_a_peft_directory_gives_its_two_files_whatever_its_folder() {
    let both = zip::write(&[
        ("my-lora/adapter_config.json", b"{}".as_slice()),
        ("my-lora/adapter_model.safetensors", b"x".as_slice()),
    ]);
    assert_eq!(peft_files(&both).unwrap(), (b"{}".to_vec(), b"x".to_vec()));
    let half = zip::write(&[("adapter_config.json", b"{}".as_slice())]);
    assert!(peft_files(&half).unwrap_err().contains("has no adapter_model.safetensors"));
}

/// Import `config` and `weights` onto `base`, returning the outcome and how far the heap grew.
fn try_import(config: &[u8], weights: &[u8], base: &Checkpoint) -> (Result<(), String>, usize) {
    let start = heap::live_bytes().expect("the counting allocator is installed");
    heap::reset_peak();
    let outcome = catch_unwind(AssertUnwindSafe(|| import_adapter(config, weights, base).map(drop)));
    let grew = heap::peak_bytes().unwrap_or(0).saturating_sub(start) as usize;
    (outcome.unwrap_or_else(|_| panic!("an import panicked: {:?}", &weights[..weights.len().min(120)])), grew)
}

fn try_archive(bytes: &[u8]) -> (Result<(), String>, usize) {
    let start = heap::live_bytes().expect("the counting allocator is installed");
    heap::reset_peak();
    let outcome = catch_unwind(AssertUnwindSafe(|| zip::read(bytes).map(drop)));
    let grew = heap::peak_bytes().unwrap_or(0).saturating_sub(start) as usize;
    (outcome.unwrap_or_else(|_| panic!("an archive panicked: {:?}", &bytes[..bytes.len().min(120)])), grew)
}

/// One test, so that no other test's allocations run beside the counted ones.
#[test]
fn hostile_peft_files_and_archives_are_refused_without_panics_or_large_allocations() {
    let base = micro_base(1);
    let files = adapter_directory(&adapter(&base, 4, &[Target::Q, Target::V, Target::Fc], 5)).unwrap();
    let (config, weights) =
        (file(&files, "adapter_config.json").to_vec(), file(&files, "adapter_model.safetensors").to_vec());
    assert_eq!(try_import(&config, &weights, &base).0, Ok(()));
    let budget = |len: usize| 16 * len + (1 << 20);

    let mut rng = Rng::new(2026);
    let (mut refused, mut largest) = (0, 0);
    for _ in 0..1500 {
        let mut bytes = weights.clone();
        for _ in 0..1 + rng.below(8) {
            let at = rng.below(bytes.len() as u64) as usize;
            bytes[at] = rng.below(256) as u8;
        }
        let cut = bytes.len() - rng.below(bytes.len() as u64 / 4) as usize;
        let (outcome, grew) = try_import(&config, &bytes[..cut], &base);
        assert!(grew <= budget(bytes.len()), "{grew} B for a {}-byte file", bytes.len());
        refused += usize::from(outcome.is_err());
        largest = largest.max(grew);
    }
    for _ in 0..500 {
        let mut text = config.clone();
        let at = rng.below(text.len() as u64) as usize;
        text[at] = rng.below(128) as u8;
        let (outcome, grew) = try_import(&text, &weights, &base);
        assert!(grew <= budget(weights.len()));
        refused += usize::from(outcome.is_err());
    }
    eprintln!("2000 mutated PEFT files: {refused} refused, no panic; the heap grew by at most {largest} B");

    let header_len = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&weights[8..8 + header_len]).unwrap();
    let with_header = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut h = header.clone();
        edit(&mut h);
        let json = serde_json::to_vec(&h).unwrap();
        let mut out = (json.len() as u64).to_le_bytes().to_vec();
        out.extend(json);
        out.extend(&weights[8 + header_len..]);
        out
    };
    let first = "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight";
    let mut two_gb = weights.clone();
    two_gb[..8].copy_from_slice(&(2u64 << 30).to_le_bytes());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (two_gb, "header too large"),
        (with_header(&|h| h[first]["data_offsets"] = serde_json::json!([0, 1u64 << 40])), "adapter_model.safetensors"),
        (with_header(&|h| h[first]["data_offsets"] = serde_json::json!([16, 0])), "adapter_model.safetensors"),
        (with_header(&|h| h[first]["shape"] = serde_json::json!([1u64 << 62, 4])), "adapter_model.safetensors"),
        (with_header(&|h| h[first]["dtype"] = "I32".into()), "a float type"),
        (with_header(&|h| h["__metadata__"]["finetune_lab_base_sha256"] = "f".repeat(64).into()), "another base"),
        (weights[..weights.len() - 1].to_vec(), "adapter_model.safetensors"),
    ];
    for (bytes, says) in cases {
        let (outcome, grew) = try_import(&config, &bytes, &base);
        let err = outcome.expect_err(says);
        assert!(err.contains(says), "expected {says:?}, got {err:?}");
        assert!(grew <= budget(bytes.len()), "{says}: {grew} B");
    }

    let archive = zip::write(&[("adapter_config.json", &config), ("adapter_model.safetensors", &weights)]);
    assert_eq!(try_archive(&archive).0, Ok(()));
    let mut refused = 0;
    for _ in 0..1500 {
        let mut bytes = archive.clone();
        for _ in 0..1 + rng.below(6) {
            // Most mutations in the headers and the directory, where a lie can do harm.
            let at =
                if rng.below(2) == 0 { rng.below(bytes.len() as u64) } else { bytes.len() as u64 - 1 - rng.below(200) }
                    as usize;
            bytes[at] = rng.below(256) as u8;
        }
        let (outcome, grew) = try_archive(&bytes);
        assert!(grew <= budget(bytes.len()), "{grew} B for a {}-byte archive", bytes.len());
        refused += usize::from(outcome.is_err());
    }
    eprintln!("1500 mutated archives: {refused} refused, no panic");

    // A zip bomb: 1 MiB of zeros deflates to about a kilobyte. Declared honestly it is refused
    // past the limit; declaring a small size, inflating stops there.
    let zeros = vec![0u8; 1 << 20];
    let packed = miniz_oxide::deflate::compress_to_vec(&zeros, 9);
    let bomb = |declared: u32| {
        let mut bytes = zip::write(&[("bomb.bin", &packed)]);
        let central = bytes.len() - 22 - (46 + "bomb.bin".len());
        for (method, size) in [(8, 22), (central + 10, central + 24)] {
            bytes[method..method + 2].copy_from_slice(&8u16.to_le_bytes());
            bytes[size..size + 4].copy_from_slice(&declared.to_le_bytes());
        }
        bytes
    };
    let (outcome, grew) = try_archive(&bomb(u32::MAX));
    assert!(outcome.unwrap_err().contains("more than the"));
    assert!(grew < 1 << 16, "{grew} B");
    let (outcome, grew) = try_archive(&bomb(1000));
    assert!(outcome.unwrap_err().contains("does not inflate to the 1000 bytes"));
    assert!(grew < 1 << 16, "{grew} B");
}
