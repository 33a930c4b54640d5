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

use super::{Request, ServingBatch, TenantStacks, limits};
use crate::checkpoint::{self, Checkpoint};
use crate::lora::{self, adapter_params};
use crate::measure::bytes_in_use;
use crate::median::median;
use crate::memory::{self, tenants};
use crate::model::Gpt;
use crate::run::{apply_checkpoint, load_base};
use crate::shape::ModelShape;

/// One way's throughput and memory.
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
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
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct Swap {
    pub adapter_ms: f64,
    pub adapter_file_bytes: usize,
    pub merged_ms: f64,
    pub merged_file_bytes: usize,
}

#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct ServeReport {
    /// Each request's text from the mixed batch, in request order.
    pub texts: Vec<String>,
    pub chars: usize,
    pub mixed: Way,
    pub single_adapter: Way,
    pub one_at_a_time: Way,
    pub merged: Way,
    pub swap: Swap,
    /// The memory model's cold load of one GPT-3 175B tenant from NVMe (fp16): its adapter (r = 4
    /// on q,v) vs its whole fine-tuned model, the lesson's "loading 350 GB on demand is slow".
    pub gpt3_cold_load_adapter_seconds: f64,
    pub gpt3_cold_load_full_seconds: f64,
}

/// fp32 weights: what every way here keeps on the device.
const BYTES_PER_PARAM: u64 = 4;

fn adapter_bytes(shape: &ModelShape, file: &Checkpoint) -> u64 {
    let spec = file.header.adapter.as_ref().expect("checked by TenantStacks");
    tenants::checkpoint_bytes(adapter_params(shape, spec.rank, &spec.targets), BYTES_PER_PARAM)
}

/// Timed runs of the two batched ways, alternated; the median is reported.
const REPEATS: usize = 3;

/// `chars` characters for each of `requests` in one batch; (seconds, texts).
async fn run_batch(
    model: &Gpt,
    stacks: &TenantStacks,
    requests: &[Request],
    chars: usize,
    clock: &dyn Fn() -> f64,
) -> Result<(f64, Vec<String>), String> {
    let mut batch = ServingBatch::new(model, stacks, requests, limits::TEMPERATURE, limits::SEED)?;
    let t = clock();
    for _ in 0..chars {
        batch.step().await?;
    }
    Ok((clock() - t, batch.texts()))
}

/// Serve `requests` (slot 0 = the base alone, slot i = `adapters[i - 1]`) for `chars` characters
/// each, the three ways. `clock()` is seconds from any fixed start (the CLI's `Instant`, the
/// page's `performance.now`). Bytes measured are what loading each way's weights added to the
/// device (burn's pool, or the heap on the CPU path), read before and after.
pub async fn serve_three_ways(
    base: &Checkpoint,
    adapters: &[&Checkpoint],
    requests: &[Request],
    chars: usize,
    device: &Device,
    clock: &dyn Fn() -> f64,
) -> Result<ServeReport, String> {
    let shape = &base.header.shape;
    let model_bytes = tenants::checkpoint_bytes(shape.param_count(), BYTES_PER_PARAM);
    let adapter_bytes = |i: usize| adapter_bytes(shape, adapters[i]);
    let rows = requests.len();
    let way = |seconds: f64, bytes_measured, bytes_predicted| Way {
        chars_per_s: (rows * chars) as f64 / seconds.max(1e-9),
        seconds,
        bytes_measured,
        bytes_predicted,
    };
    // What building `f`'s result added to the device.
    let added = |before: Option<u64>| Some(bytes_in_use(device)?.saturating_sub(before?));

    let before = bytes_in_use(device);
    let model = load_base(base, device)?;
    let base_held = added(before);
    let before = bytes_in_use(device);
    let stacks = TenantStacks::new(adapters, base, device)?;
    let together_held = base_held.zip(added(before)).map(|(b, s)| b + s);

    // Untimed: a few characters batched and alone, so that no way pays for compiling the GPU's
    // kernels (or warming the allocator) on behalf of the others.
    for batch in [requests, &requests[..1]] {
        run_batch(&model, &stacks, batch, 3, clock).await?;
    }

    // The rows together, and the same rows all through the first adapter (the base where there is
    // none): how much mixing tenants costs. Alternated, so neither is always first.
    let one_slot = usize::from(!adapters.is_empty());
    let same: Vec<Request> = requests.iter().map(|r| Request { slot: one_slot, ..r.clone() }).collect();
    let (mut mixed_s, mut single_s, mut texts) = (vec![], vec![], vec![]);
    for _ in 0..REPEATS {
        let (seconds, written) = run_batch(&model, &stacks, requests, chars, clock).await?;
        mixed_s.push(seconds);
        texts = written;
        single_s.push(run_batch(&model, &stacks, &same, chars, clock).await?.0);
    }
    let all_adapters: u64 = (0..adapters.len()).map(adapter_bytes).sum();
    let mixed = way(median(&mixed_s).expect("REPEATS timed runs"), together_held, model_bytes + all_adapters);
    let first = if adapters.is_empty() { 0 } else { adapter_bytes(0) };
    let single_adapter = way(median(&single_s).expect("REPEATS timed runs"), together_held, model_bytes + first);
    drop(stacks);

    // One at a time: each request's adapter brought onto the device, then served alone.
    let (mut seconds, mut largest_held, mut largest) = (0.0, Some(0), 0);
    for request in requests {
        let t = clock();
        let own: Vec<&Checkpoint> = if request.slot == 0 { vec![] } else { vec![adapters[request.slot - 1]] };
        let before = bytes_in_use(device);
        let stack = TenantStacks::new(&own, base, device)?;
        largest_held = largest_held.zip(added(before)).map(|(a, b)| a.max(b));
        let alone = [Request { slot: own.len(), ..request.clone() }];
        run_batch(&model, &stack, &alone, chars, clock).await?;
        seconds += clock() - t;
        largest = largest.max(if request.slot == 0 { 0 } else { adapter_bytes(request.slot - 1) });
    }
    let one_held = base_held.zip(largest_held).map(|(b, s)| b + s);
    let one_at_a_time = way(seconds, one_held, model_bytes + largest);

    // Merged copies: each tenant's full model loaded from its own file, all resident at once
    // (the base itself serves slot 0), as a server of fully fine-tuned models holds them.
    let mut merged_files = Vec::with_capacity(adapters.len());
    for file in adapters {
        let merged = apply_checkpoint(model.clone(), file, device)?.merged();
        merged_files.push(checkpoint::to_bytes(&merged, shape, None).await?);
    }
    let before = bytes_in_use(device);
    let mut copies = vec![];
    for bytes in &merged_files {
        copies.push(load_base(&Checkpoint::parse(bytes)?, device)?);
    }
    let copies_held = base_held.zip(added(before)).map(|(b, c)| b + c);
    // Each copy serves its requests alone, with the same KV cache, through no adapter.
    let no_adapters = TenantStacks::new(&[], base, device)?;
    let t = clock();
    for request in requests {
        let copy = if request.slot == 0 { &model } else { &copies[request.slot - 1] };
        run_batch(copy, &no_adapters, &[Request { slot: 0, ..request.clone() }], chars, clock).await?;
    }
    let predicted = tenants::serving_full_bytes(model_bytes, 1 + adapters.len() as u64);
    let merged = way(clock() - t, copies_held, predicted);

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
    let gpt3 = memory::estimate(&memory::ScaleInput::new(
        ModelShape::gpt3_175b(),
        lora::Mode::adapter(lora::DEFAULT_RANK, &lora::DEFAULT_TARGETS),
        memory::Precision::Mixed16,
    ));
    Ok(ServeReport {
        texts,
        chars,
        mixed,
        single_adapter,
        one_at_a_time,
        merged,
        swap,
        gpt3_cold_load_adapter_seconds: gpt3.cold_load_adapter_seconds,
        gpt3_cold_load_full_seconds: gpt3.cold_load_full_seconds,
    })
}
