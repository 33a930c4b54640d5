//! Text for many tenants' requests at once: one batched forward pass per generated character,
//! each row through the shared base and its own tenant's adapter (`ops::lora_bgmv`).

use burn::tensor::{Int, Tensor, TensorData};

use super::TenantStacks;
use super::kv_cache::KvCache;
use crate::generate::{pick, prompt_ids};
use crate::model::Gpt;
use crate::readback::read_f32;
use crate::rng::Rng;
use crate::tokenizer;

/// One request: a tenant's slot (0 = the base alone, tenant i = slot i) and its prompt.
#[derive(Debug, Clone)]
pub struct Request {
    pub slot: usize,
    pub prompt: String,
}

struct Row {
    slot: usize,
    ids: Vec<u32>,
    start: usize,
    rng: Rng,
}

/// Requests being served together. Each row samples from its own RNG seeded as `generate`
/// seeds one, so a row's text is the one its tenant's merged model would write alone (up to
/// float rounding, which can tip a near tie). It holds its own handles to the model and the
/// stacks (tensors are shared, not copied), so the page can keep one between calls.
pub struct Together {
    model: Gpt,
    stacks: TenantStacks,
    rows: Vec<Row>,
    slots: Tensor<1>,
    temperature: f32,
    /// Keys and values so far, while every row fits the context window.
    cache: Option<KvCache>,
    /// The logits the last step chose from, (rows × vocab).
    last_logits: Vec<f32>,
}

impl Together {
    /// `model` is on a device without autodiff: the base, or a model whose own adapters or
    /// weights every row goes through before its tenant's.
    pub fn new(
        model: &Gpt,
        stacks: &TenantStacks,
        requests: &[Request],
        temperature: f32,
        seed: u64,
    ) -> Result<Self, String> {
        if requests.is_empty() {
            return Err("nothing to serve: give at least one request".into());
        }
        if let Some(r) = requests.iter().find(|r| r.slot >= stacks.slots()) {
            return Err(format!("tenant {} does not exist: there are {} besides the base", r.slot, stacks.slots() - 1));
        }
        let rows = requests
            .iter()
            .map(|r| {
                let ids = prompt_ids(&r.prompt);
                Row { slot: r.slot, start: ids.len(), ids, rng: Rng::new(seed) }
            })
            .collect();
        let slots: Vec<f32> = requests.iter().map(|r| r.slot as f32).collect();
        let device = model.tok_emb.weight.device();
        let slots = Tensor::from_data(TensorData::new(slots, [requests.len()]), &device);
        let (model, stacks) = (model.clone(), stacks.clone());
        Ok(Self { model, stacks, rows, slots, temperature, cache: None, last_logits: vec![] })
    }

    /// Logits (rows, vocab) for the next character of every row, recomputed from each row's
    /// whole window (its last `context` characters) in one forward pass. Rows of different
    /// lengths are padded at the end: attention is causal, so the padding never reaches the
    /// positions read.
    pub fn window_logits(&self) -> Tensor<2> {
        let context = self.model.context();
        let windows: Vec<&[u32]> = self.rows.iter().map(|r| &r.ids[r.ids.len().saturating_sub(context)..]).collect();
        let t = windows.iter().map(|w| w.len()).max().unwrap_or(1);
        let mut flat = vec![0i32; windows.len() * t];
        for (row, window) in windows.iter().enumerate() {
            for (i, &id) in window.iter().enumerate() {
                flat[row * t + i] = id as i32;
            }
        }
        let device = self.slots.device();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(flat, [windows.len(), t]), &device);
        let logits = self.model.forward_tenants(ids, |block| self.stacks.tenants(block, &self.slots));
        let vocab = logits.dims()[2];
        let last: Vec<i32> = windows.iter().enumerate().map(|(row, w)| (row * t + w.len() - 1) as i32).collect();
        let last = Tensor::<1, Int>::from_data(TensorData::new(last, [windows.len()]), &device);
        logits.reshape([windows.len() * t, vocab]).select(0, last)
    }

    /// Logits (rows, vocab) for the next character of every row: from the KV cache, one new
    /// position per row, while every row fits the context window; from whole windows after.
    fn next_logits(&mut self) -> Tensor<2> {
        let fits = self.rows.iter().all(|r| r.ids.len() <= self.model.context());
        if !fits {
            self.cache = None;
            return self.window_logits();
        }
        match &mut self.cache {
            Some(cache) => {
                let next: Vec<u32> = self.rows.iter().map(|r| *r.ids.last().expect("a row is never empty")).collect();
                cache.decode(&self.model, &self.stacks, &self.slots, &next)
            }
            None => {
                let prompts: Vec<&[u32]> = self.rows.iter().map(|r| r.ids.as_slice()).collect();
                let slots: Vec<usize> = self.rows.iter().map(|r| r.slot).collect();
                let device = self.slots.device();
                let (cache, logits) = KvCache::prefill(&self.model, &self.stacks, &slots, &prompts, &device);
                self.cache = Some(cache);
                logits
            }
        }
    }

    /// The logits the last `step` chose from, (rows × vocab).
    pub fn last_logits(&self) -> &[f32] {
        &self.last_logits
    }

    /// One more character for every row; returns them in request order.
    pub async fn step(&mut self) -> Result<Vec<char>, String> {
        let logits = self.next_logits();
        let logits = read_f32(logits).await?;
        let vocab = logits.len() / self.rows.len();
        let mut chars = Vec::with_capacity(self.rows.len());
        for (row, logits) in self.rows.iter_mut().zip(logits.chunks(vocab)) {
            let next = pick(logits, self.temperature, &mut row.rng);
            row.ids.push(next);
            chars.push(tokenizer::decode_id(next));
        }
        self.last_logits = logits;
        Ok(chars)
    }

    /// What each row has generated so far, prompts left out.
    pub fn texts(&self) -> Vec<String> {
        self.rows.iter().map(|r| tokenizer::decode(&r.ids[r.start..])).collect()
    }
}
