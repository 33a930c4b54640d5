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

/// Keys and values so far of the rows that fit the context window. A row that outgrows it
/// leaves the cache for good and recomputes its last window every character (the positions are
/// absolute: each new character moves every kept one); the others keep decoding from the
/// cache. Before, one row past the window sent every row to recomputing, and a 16-row batch of
/// 100 characters after the tasks' prompts ran at a twentieth of its speed at 40.
enum Cache {
    /// Filled at the first step, with the prompts.
    Unfilled,
    /// `rows`: the cached rows' indices, in order; `slots` their tenants.
    Holding { cache: KvCache, rows: Vec<usize>, slots: Tensor<1> },
    /// Every row has outgrown the window.
    Spent,
}

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
pub struct ServingBatch {
    model: Gpt,
    stacks: TenantStacks,
    rows: Vec<Row>,
    slots: Tensor<1>,
    temperature: f32,
    cache: Cache,
    /// The logits the last step chose from, (rows × vocab).
    last_logits: Vec<f32>,
}

impl ServingBatch {
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
        Ok(Self { model, stacks, rows, slots, temperature, cache: Cache::Unfilled, last_logits: vec![] })
    }

    /// Logits (rows, vocab) for the next character of every row, recomputed from each row's
    /// whole window (its last `context` characters) in one forward pass.
    pub fn window_logits(&self) -> Tensor<2> {
        self.window_logits_of(&(0..self.rows.len()).collect::<Vec<_>>())
    }

    /// `window_logits` for the rows at `which` only, in that order. Rows of different lengths
    /// are padded at the end: attention is causal, so the padding never reaches the positions
    /// read.
    fn window_logits_of(&self, which: &[usize]) -> Tensor<2> {
        let context = self.model.context();
        let windows: Vec<&[u32]> =
            which.iter().map(|&r| &self.rows[r].ids[self.rows[r].ids.len().saturating_sub(context)..]).collect();
        let t = windows.iter().map(|w| w.len()).max().unwrap_or(1);
        let mut flat = vec![0i32; windows.len() * t];
        for (row, window) in windows.iter().enumerate() {
            for (i, &id) in window.iter().enumerate() {
                flat[row * t + i] = id as i32;
            }
        }
        let device = self.slots.device();
        let ids = Tensor::<2, Int>::from_data(TensorData::new(flat, [windows.len(), t]), &device);
        let slots = slots_of(&self.rows, &self.slots, which);
        let logits = self.model.forward_tenants(ids, |block| self.stacks.tenants(block, &slots));
        let vocab = logits.dims()[2];
        let last: Vec<i32> = windows.iter().enumerate().map(|(row, w)| (row * t + w.len() - 1) as i32).collect();
        let last = Tensor::<1, Int>::from_data(TensorData::new(last, [windows.len()]), &device);
        logits.reshape([windows.len() * t, vocab]).select(0, last)
    }

    /// Logits (rows, vocab) for the next character of every row: one new position each for the
    /// rows in the cache, whole windows for the rows past it.
    fn next_logits(&mut self) -> Tensor<2> {
        let context = self.model.context();
        let fits: Vec<bool> = self.rows.iter().map(|r| r.ids.len() <= context).collect();
        // Rows only grow, so a row leaves the cache once and the cache only shrinks.
        if let Cache::Holding { cache, rows, slots } = &mut self.cache
            && rows.iter().any(|&r| !fits[r])
        {
            let keep: Vec<usize> = (0..rows.len()).filter(|&i| fits[rows[i]]).collect();
            if keep.is_empty() {
                self.cache = Cache::Spent;
            } else {
                cache.keep_rows(&keep);
                *rows = keep.iter().map(|&i| rows[i]).collect();
                *slots = slots_of(&self.rows, &self.slots, rows);
            }
        }
        let cached = match &mut self.cache {
            Cache::Unfilled => {
                let which: Vec<usize> = (0..self.rows.len()).filter(|&r| fits[r]).collect();
                if which.is_empty() {
                    self.cache = Cache::Spent;
                    None
                } else {
                    let prompts: Vec<&[u32]> = which.iter().map(|&r| self.rows[r].ids.as_slice()).collect();
                    let slots: Vec<usize> = which.iter().map(|&r| self.rows[r].slot).collect();
                    let device = self.slots.device();
                    let (cache, logits) = KvCache::prefill(&self.model, &self.stacks, &slots, &prompts, &device);
                    let slots = slots_of(&self.rows, &self.slots, &which);
                    self.cache = Cache::Holding { cache, rows: which, slots };
                    Some(logits)
                }
            }
            Cache::Holding { cache, rows, slots } => {
                let next: Vec<u32> =
                    rows.iter().map(|&r| *self.rows[r].ids.last().expect("a row is never empty")).collect();
                Some(cache.decode(&self.model, &self.stacks, slots, &next))
            }
            Cache::Spent => None,
        };
        let past: Vec<usize> = (0..self.rows.len()).filter(|&r| !fits[r]).collect();
        match cached {
            None => self.window_logits_of(&past),
            Some(logits) if past.is_empty() => logits,
            Some(logits) => {
                // Cached rows first, then the rows past the window: put every row back in place.
                let (mut order, mut cached_at, mut past_at) = (vec![], 0, fits.iter().filter(|&&f| f).count());
                for &f in &fits {
                    let at = if f { &mut cached_at } else { &mut past_at };
                    order.push(*at as i32);
                    *at += 1;
                }
                let order = Tensor::<1, Int>::from_data(TensorData::new(order, [fits.len()]), &self.slots.device());
                Tensor::cat(vec![logits, self.window_logits_of(&past)], 0).select(0, order)
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

/// The tenants' slots of the rows at `which` (all of them: `every`), as the BGMV reads them.
fn slots_of(rows: &[Row], every: &Tensor<1>, which: &[usize]) -> Tensor<1> {
    if which.len() == rows.len() {
        return every.clone();
    }
    let slots: Vec<f32> = which.iter().map(|&r| rows[r].slot as f32).collect();
    Tensor::from_data(TensorData::new(slots, [which.len()]), &every.device())
}
