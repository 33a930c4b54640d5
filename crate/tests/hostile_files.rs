//! Checkpoint and adapter files as an attacker or a broken download would give them: thousands
//! of truncated, mutated and random files, and valid files with hostile headers, through parse
//! and load. Each must be an `Err` with a message or a model, never a panic, and never an
//! allocation far beyond the file's own size (a counting allocator watches this test binary).

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::*;
use finetune_lab::checkpoint::{self, AdapterMeta, Checkpoint, Dtype};
use finetune_lab::init::Init;
use finetune_lab::lora::{AdapterSpec, Target};
use finetune_lab::measure::heap::{self, Counting};
use finetune_lab::readback::block_on;
use finetune_lab::rng::Rng;
use finetune_lab::run::{apply_checkpoint, load_base};
use finetune_lab::shape::ModelShape;

#[global_allocator]
static HEAP: Counting<std::alloc::System> = Counting(std::alloc::System);

/// Parse `bytes` and, if that succeeds, build what they describe: a model, or the base with the
/// adapter on it. Returns the outcome and the most the heap grew meanwhile.
fn try_file(bytes: &[u8], base: &Checkpoint) -> (Result<(), String>, usize) {
    let start = heap::live_bytes().expect("the counting allocator is installed");
    heap::reset_peak();
    let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), String> {
        let file = Checkpoint::parse(bytes)?;
        let device = cpu();
        match &file.header.adapter {
            None => load_base(&file, &device).map(drop),
            Some(_) => {
                file.adapter_for(base)?;
                apply_checkpoint(load_base(base, &device)?, &file, &device).map(drop)
            }
        }
    }));
    let grew = heap::peak_bytes().unwrap_or(0).saturating_sub(start) as usize;
    match outcome {
        Ok(result) => (result, grew),
        Err(panic) => {
            let why =
                panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("a file made the crate panic ({}): {:?}", why.unwrap_or_default(), &bytes[..bytes.len().min(200)])
        }
    }
}

/// The micro base, and an adapter file for it.
fn files() -> (Checkpoint, Vec<u8>, Vec<u8>) {
    let base = micro_base(1);
    let spec = AdapterSpec { rank: 4, alpha: 8.0, targets: vec![Target::Q, Target::V] };
    let meta = AdapterMeta { spec, base_sha256: base.sha256.clone(), task: None };
    let model = micro(1, &cpu()).with_adapters(&[Target::Q, Target::V], 4, 8.0, &mut Init::new(2, &cpu()));
    let adapter = block_on(checkpoint::to_bytes(&model, &ModelShape::micro(), Some(&meta))).unwrap();
    let full = base.to_bytes(Dtype::F16).unwrap();
    (base, full, adapter)
}

/// The file with its JSON header replaced.
fn with_header(bytes: &[u8], edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[12..12 + len]).unwrap();
    edit(&mut header);
    let json = serde_json::to_vec(&header).unwrap();
    let mut out = bytes[..8].to_vec();
    out.extend((json.len() as u32).to_le_bytes());
    out.extend(json);
    out.extend(&bytes[12 + len..]);
    out
}

/// Allowed heap growth for a file of `len` bytes: the values as f32 (up to 4× an i8 file), the
/// model they fill and its first initialisation, and the base for an adapter, with room.
fn budget(len: usize, base: &[u8]) -> usize {
    16 * (len + base.len()) + (1 << 20)
}

/// One test, so that no other test's allocations run beside the counted ones.
#[test]
fn hostile_files_are_refused_without_panics_or_large_allocations() {
    let (base, full, adapter) = files();
    // The shipped base's storage too: a matrix's rows of i8 with an f32 scale each.
    let full_i8 = base.to_bytes(Dtype::I8).unwrap();
    truncated_mutated_and_random(&base, &[&full, &full_i8, &adapter]);
    hostile_headers(&base, &full, &adapter);
    hostile_headers(&base, &full_i8, &adapter);
}

fn truncated_mutated_and_random(base: &Checkpoint, files: &[&[u8]]) {
    let mut rng = Rng::new(2026);
    let (mut mutated, mut refused, mut largest) = (0, 0, 0);
    let full = files[0];
    for &original in files {
        assert_eq!(try_file(original, base).0, Ok(()), "the untouched file loads");
        for _ in 0..300 {
            let cut = rng.below(original.len() as u64) as usize;
            let (outcome, grew) = try_file(&original[..cut], base);
            assert!(outcome.is_err(), "a file cut at {cut} of {} loaded", original.len());
            assert!(grew <= budget(cut, full), "{grew} B for a {cut}-byte file");
            largest = largest.max(grew);
        }
        for _ in 0..1500 {
            let mut bytes = original.to_vec();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.below(256) as u8;
            }
            let (outcome, grew) = try_file(&bytes, base);
            assert!(grew <= budget(bytes.len(), full), "{grew} B for a {}-byte file", bytes.len());
            refused += usize::from(outcome.is_err());
            mutated += 1;
            largest = largest.max(grew);
        }
    }
    for _ in 0..300 {
        let mut bytes = b"FTLAB001".to_vec();
        bytes.extend((0..rng.below(4096)).map(|_| rng.below(256) as u8));
        let (outcome, grew) = try_file(&bytes, base);
        assert!(outcome.is_err());
        assert!(grew <= budget(bytes.len(), full));
    }
    let sizes: Vec<String> = files.iter().map(|f| f.len().to_string()).collect();
    eprintln!(
        "{} cut, {mutated} mutated ({refused} refused; the rest changed only values), 300 random: no panic; \
         the heap grew by at most {largest} B (files of {} B)",
        300 * files.len(),
        sizes.join(", ")
    );
}

/// Valid files whose headers claim what the data does not hold, or what cannot be built.
fn hostile_headers(base: &Checkpoint, full: &[u8], adapter: &[u8]) {
    let layers = ModelShape::micro().layers;
    let shape =
        |key: &'static str, value: serde_json::Value| move |h: &mut serde_json::Value| h["shape"][key] = value.clone();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (with_header(full, shape("heads", 0.into())), "heads must be > 0"),
        (with_header(full, shape("heads", 3.into())), "heads (3) must divide d_model"),
        (with_header(full, shape("layers", 1_000_000_000.into())), "layers must be at most 65536"),
        (with_header(full, shape("d_model", (1u64 << 40).into())), "d_model must be at most"),
        (with_header(full, shape("layers", (layers + 1).into())), "its tensors hold"),
        (
            with_header(full, |h| h["tensors"][0]["shape"] = serde_json::json!([1u64 << 62, 1u64 << 62])),
            "impossibly large",
        ),
        (with_header(full, |h| h["tensors"] = serde_json::json!([])), "its tensors hold 0 values"),
        (with_header(full, |h| h["kind"] = "adapter".into()), "without an adapter spec"),
        (
            with_header(adapter, |h| h["adapter"]["rank"] = (1u64 << 40).into()),
            "rank must be from 1 to 32 (the narrowest projection's width), got 1099511627776",
        ),
        (
            with_header(adapter, |h| h["adapter"]["rank"] = 0.into()),
            "rank must be from 1 to 32 (the narrowest projection's width), got 0",
        ),
        (with_header(adapter, |h| h["adapter"]["alpha"] = 0.into()), "alpha 0 must be a positive number"),
        (with_header(adapter, |h| h["adapter"]["targets"] = serde_json::json!([])), "adapts no projection"),
        (with_header(adapter, |h| h["adapter"]["rank"] = 8.into()), "its tensors hold"),
    ];
    for (bytes, says) in cases {
        let (outcome, grew) = try_file(&bytes, base);
        let err = outcome.expect_err(says);
        assert!(err.contains(says), "expected {says:?}, got {err:?}");
        assert!(grew <= budget(bytes.len(), full), "{says}: {grew} B");
    }
    // A header length past the end of the file, and one that would overflow 32-bit sizes.
    for len in [u32::MAX, full.len() as u32] {
        let mut bytes = full.to_vec();
        bytes[8..12].copy_from_slice(&len.to_le_bytes());
        assert!(try_file(&bytes, base).0.unwrap_err().contains("header cut short"));
    }
}
