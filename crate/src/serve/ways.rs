//! The same requests served three ways on one device, each measured (time and the bytes the
//! device holds) beside what the memory model predicts:
//! - together: one resident base and every tenant's adapter stacked, one mixed batch (BGMV);
//! - one at a time: the base, and each request's adapter brought in before it is served (swap);
//! - merged copies: each tenant's adapter folded into a full model of its own, all resident.
//!
//! Plus the same batch size through a single adapter (how much the mixing costs) and the time
//! to bring one tenant in: its adapter file vs its merged full model.

use burn::tensor::Device;
use serde::Serialize;

use super::{Request, TenantStacks, Together};
use crate::checkpoint::{self, Checkpoint};
use crate::finetune::{apply_checkpoint, load_base};
use crate::generate::generate;
use crate::measure::bytes_in_use;
use crate::memory::{ModelShape, adapter_params, tenants};

/// One way's throughput and memory.
#[derive(Serialize, Debug, Clone)]
pub struct Way {
    pub chars_per_s: f64,
    pub seconds: f64,
    /// What the device held for this way's weights (burn's pool on a GPU, the heap on the CPU
    /// path); `None` where neither can be read.
    pub bytes_measured: Option<u64>,
    /// The memory model's figure: weights only, fp32.
    pub bytes_predicted: u64,
}

/// Bringing one tenant onto the device: its adapter vs its merged full model, here and, from
/// the memory model, for GPT-3 175B from NVMe.
#[derive(Serialize, Debug, Clone)]
pub struct Swap {
    pub adapter_ms: f64,
    pub adapter_file_bytes: usize,
    pub merged_ms: f64,
    pub merged_file_bytes: usize,
}

#[derive(Serialize, Debug, Clone)]
pub struct ServeReport {
    /// Each request's text from the mixed batch, in request order.
    pub texts: Vec<String>,
    pub chars: usize,
    pub mixed: Way,
    pub single_adapter: Way,
    pub one_at_a_time: Way,
    pub merged: Way,
    pub swap: Swap,
}

/// fp32 weights: what every way here keeps on the device.
const BYTES_PER_PARAM: u64 = 4;

fn adapter_bytes(shape: &ModelShape, file: &Checkpoint) -> u64 {
    let spec = file.header.adapter.as_ref().expect("checked by TenantStacks");
    tenants::checkpoint_bytes(adapter_params(shape, spec.rank, &spec.targets), BYTES_PER_PARAM)
}

/// Serve `requests` (slot 0 = the base alone, slot i = `adapters[i - 1]`) for `chars` characters
/// each, the three ways. `clock()` is seconds from any fixed start (the CLI's `Instant`, the
/// page's `performance.now`).
pub async fn serve_three_ways(
    base: &Checkpoint,
    adapters: &[&Checkpoint],
    requests: &[Request],
    chars: usize,
    device: &Device,
    clock: &dyn Fn() -> f64,
) -> Result<ServeReport, String> {
    const TEMPERATURE: f32 = 0.8;
    const SEED: u64 = 1;
    let shape = &base.header.shape;
    let model_bytes = tenants::checkpoint_bytes(shape.param_count(), BYTES_PER_PARAM);
    let used = |since: Option<u64>| Some(bytes_in_use(device)?.saturating_sub(since?));
    let start = bytes_in_use(device);
    let model = load_base(base, device)?;
    let with_base = bytes_in_use(device);

    // Together: every adapter stacked, one forward pass per character for all rows.
    let stacks = TenantStacks::new(adapters, base, device)?;
    let together_bytes = used(start);
    let rows = requests.len();
    let timed = |seconds: f64, generated: usize, bytes_measured, bytes_predicted| Way {
        chars_per_s: generated as f64 / seconds.max(1e-9),
        seconds,
        bytes_measured,
        bytes_predicted,
    };
    let mut together = Together::new(&model, &stacks, requests, TEMPERATURE, SEED)?;
    let t = clock();
    for _ in 0..chars {
        together.step().await?;
    }
    let all_adapters: u64 = adapters.iter().map(|f| adapter_bytes(shape, f)).sum();
    let mixed = timed(clock() - t, rows * chars, together_bytes, model_bytes + all_adapters);
    let texts = together.texts();

    // The same batch, every row through the first adapter (the base where there is none).
    let one_slot = if adapters.is_empty() { 0 } else { 1 };
    let same: Vec<Request> = requests.iter().map(|r| Request { slot: one_slot, ..r.clone() }).collect();
    let mut single = Together::new(&model, &stacks, &same, TEMPERATURE, SEED)?;
    let t = clock();
    for _ in 0..chars {
        single.step().await?;
    }
    let first = adapters.first().map_or(0, |f| adapter_bytes(shape, f));
    let single_adapter = timed(clock() - t, rows * chars, together_bytes, model_bytes + first);
    drop(together);
    drop(single);
    drop(stacks);

    // One at a time: each request's adapter brought onto the device, then served alone.
    let (mut seconds, mut held, mut largest) = (0.0, None::<u64>, 0);
    for request in requests {
        let t = clock();
        let own: Vec<&Checkpoint> = if request.slot == 0 { vec![] } else { vec![adapters[request.slot - 1]] };
        let stack = TenantStacks::new(&own, base, device)?;
        held = held.max(used(start));
        let alone = [Request { slot: own.len(), ..request.clone() }];
        let mut row = Together::new(&model, &stack, &alone, TEMPERATURE, SEED)?;
        for _ in 0..chars {
            row.step().await?;
        }
        seconds += clock() - t;
        largest = largest.max(own.first().map_or(0, |f| adapter_bytes(shape, f)));
    }
    let one_at_a_time = timed(seconds, rows * chars, held, model_bytes + largest);

    // Merged copies: each tenant's full model loaded from its own file, all resident at once
    // (the base itself serves slot 0), as a server of fully fine-tuned models holds them.
    let mut merged_files = Vec::with_capacity(adapters.len());
    for file in adapters {
        let merged = apply_checkpoint(model.clone(), file, device)?.merged();
        merged_files.push(checkpoint::to_bytes(&merged, shape, None).await?);
    }
    // The base's bytes plus the copies' (the files themselves, on the heap, are left out).
    let before_copies = bytes_in_use(device);
    let mut copies = vec![];
    for bytes in &merged_files {
        copies.push(load_base(&Checkpoint::parse(bytes)?, device)?);
    }
    let copies_bytes = used(start)
        .and(with_base.zip(used(before_copies)))
        .map(|(base_held, copies)| base_held.saturating_sub(start.unwrap_or(0)) + copies);
    let t = clock();
    for request in requests {
        let copy = if request.slot == 0 { &model } else { &copies[request.slot - 1] };
        generate(copy, &request.prompt, chars, TEMPERATURE, SEED).await?;
    }
    let merged = timed(
        clock() - t,
        rows * chars,
        copies_bytes,
        tenants::serving_full_bytes(model_bytes, 1 + adapters.len() as u64),
    );

    // Bringing one tenant in: parse its file and put it on the device.
    let swap = match (adapters.first(), merged_files.first()) {
        (Some(adapter), Some(full)) => {
            let adapter_file = adapter.to_bytes(adapter.header.dtype)?;
            let t = clock();
            let parsed = Checkpoint::parse(&adapter_file)?;
            let _stack = TenantStacks::new(&[&parsed], base, device)?;
            let adapter_ms = (clock() - t) * 1e3;
            let t = clock();
            let _model = load_base(&Checkpoint::parse(full)?, device)?;
            let merged_ms = (clock() - t) * 1e3;
            Swap { adapter_ms, adapter_file_bytes: adapter_file.len(), merged_ms, merged_file_bytes: full.len() }
        }
        _ => Swap { adapter_ms: 0.0, adapter_file_bytes: 0, merged_ms: 0.0, merged_file_bytes: 0 },
    };
    Ok(ServeReport { texts, chars, mixed, single_adapter, one_at_a_time, merged, swap })
}
