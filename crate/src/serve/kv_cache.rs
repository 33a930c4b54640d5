//! Each row's keys and values kept between generated characters, so a step runs one new
//! position per row through the model instead of every row's whole window again (what a
//! serving system does at decode time; Punica and S-LoRA batch exactly these one-token rows).
//!
//! Rows of different lengths are right-aligned in the cache: row r's L_r positions are the last
//! L_r of it, padding on the left, so every step appends one column for all rows at once. Each
//! row keeps its own positions (0..L_r) and a mask hides the padding from its queries.
//!
//! The prompts go in packed: every row's tokens one after another, no padding, through the
//! projections and the MLP; the keys and values are gathered into the cache's padded layout.
//! Padded to the longest prompt, the tasks' prompts (4 to 88 characters) ran twice the tokens
//! through every projection, and a batch's prefill took longer than the same prompts' prefills
//! one by one. The prompts' attention runs row by row on the CPU (our causal kernel over each
//! row's own characters), and padded and masked on a GPU, where one launch per operation
//! matters more than the padding's arithmetic.
//!
//! Masked attention over the cache uses burn's own operations (our `attention.wgsl` is causal
//! over equal lengths). This path is for serving only, without gradients. It holds the rows that
//! fit the context window; a row past it leaves (`keep_rows`) and its caller recomputes its
//! windows.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::TenantStacks;
use crate::lora::Target;
use crate::model::Gpt;
use crate::ops::attention::causal_attention;
use crate::ops::linear::linear;

pub struct KvCache {
    /// Per block: (K, heads, context, hs), of which the first `width` positions are filled.
    /// Allocated once and written in place (burn writes a slice into a tensor nobody else
    /// holds without copying it): concatenating a column every step copied every row's keys
    /// and values each character, an eighth of a 16-row batch's time on the CPU.
    keys: Vec<Tensor<4>>,
    values: Vec<Tensor<4>>,
    /// Each row's real length; the cache is `width` wide, so row r's padding is width − L_r.
    lengths: Vec<usize>,
    width: usize,
}

/// (K, T, C) → (K, heads, T, hs).
fn split_heads(x: Tensor<3>, heads: usize) -> Tensor<4> {
    let [k, t, c] = x.dims();
    x.reshape([k, t, heads, c / heads]).swap_dims(1, 2)
}

/// One call's new tokens, N in all, packed row after row, and where attention finds them.
struct NewTokens {
    ids: Vec<i32>,
    positions: Vec<i32>,
    /// Each token's tenant (the BGMV reads one slot per token).
    slots: Tensor<1>,
    /// Tokens per row in the padded layout: the longest row's count.
    per_row: usize,
    /// Where rows differ in length: for each of the K × `per_row` padded places the packed
    /// token there (N for padding, a row of zeros). `None` where the packed and padded layouts
    /// are the same (every row adds as many tokens).
    to_padded: Option<Tensor<1, Int>>,
    /// Each row's last packed token, whose logits are returned; `None` where every row adds
    /// one token.
    last: Option<Tensor<1, Int>>,
    attend: Attend,
}

/// How the new tokens' queries attend.
enum Attend {
    /// Every row padded to `per_row` queries over the cache under `mask` (K, 1, per_row, all);
    /// where rows differ in length, `from_padded` gives each packed token's padded place.
    Padded { mask: Tensor<4>, from_padded: Option<Tensor<1, Int>> },
    /// Prompts of different lengths on the CPU: each row's (first packed token, count), its
    /// causal attention over its own characters (see `run`).
    RowByRow(Vec<(usize, usize)>),
}

impl KvCache {
    /// Run every row's prompt (`rows`, token ids) through the model, each through its tenant's
    /// adapters (`slots`, one per row); returns the cache and the logits (K, vocab) after each
    /// prompt.
    pub fn prefill(
        model: &Gpt,
        stacks: &TenantStacks,
        slots: &[usize],
        rows: &[&[u32]],
        device: &Device,
    ) -> (Self, Tensor<2>) {
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(1);
        let total: usize = rows.iter().map(|r| r.len()).sum();
        let (mut ids, mut positions, mut token_slots) = (vec![], vec![], vec![]);
        let (mut to_padded, mut from_padded, mut last, mut spans) = (vec![], vec![], vec![], vec![]);
        for (r, (row, &slot)) in rows.iter().zip(slots).enumerate() {
            let (start, pad) = (ids.len(), width - row.len());
            spans.push((start, row.len()));
            ids.extend(row.iter().map(|&t| t as i32));
            positions.extend(0..row.len() as i32);
            token_slots.extend(row.iter().map(|_| slot as f32));
            to_padded.extend((0..width).map(|i| if i < pad { total } else { start + i - pad } as i32));
            from_padded.extend((pad..width).map(|i| (r * width + i) as i32));
            last.push((ids.len() - 1) as i32);
        }
        let index = |v: Vec<i32>| {
            let n = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [n]), device)
        };
        let same_lengths = rows.iter().all(|r| r.len() == width);
        let attend = if !same_lengths && *device == Device::flex() {
            Attend::RowByRow(spans)
        } else {
            // Query i of row r sees key j when j ≤ i and j is not padding; a padding query sees
            // itself only (its output is never read, but it must not be a softmax over nothing).
            let mut mask = Vec::with_capacity(rows.len() * width * width);
            for row in rows {
                let pad = width - row.len();
                for i in 0..width {
                    mask.extend(
                        (0..width).map(|j| if (j <= i && j >= pad) || j == i { 0.0 } else { f32::NEG_INFINITY }),
                    );
                }
            }
            let mask = Tensor::from_data(TensorData::new(mask, [rows.len(), 1, width, width]), device);
            Attend::Padded { mask, from_padded: (!same_lengths).then(|| index(from_padded)) }
        };
        let new = NewTokens {
            ids,
            positions,
            slots: Tensor::from_data(TensorData::new(token_slots, [total]), device),
            per_row: width,
            to_padded: (!same_lengths).then(|| index(to_padded)),
            last: (total > rows.len()).then(|| index(last)),
            attend,
        };
        let mut cache =
            KvCache { keys: vec![], values: vec![], lengths: rows.iter().map(|r| r.len()).collect(), width };
        let logits = cache.run(model, stacks, new);
        (cache, logits)
    }

    /// One new token per row (`next`), appended; returns the logits (K, vocab) after it.
    pub fn decode(&mut self, model: &Gpt, stacks: &TenantStacks, slots: &Tensor<1>, next: &[u32]) -> Tensor<2> {
        let device = slots.device();
        let positions = self.lengths.iter().map(|&l| l as i32).collect();
        self.width += 1;
        for l in &mut self.lengths {
            *l += 1;
        }
        // The new query sees every real key of its row, itself included.
        let mut mask = Vec::with_capacity(next.len() * self.width);
        for &l in &self.lengths {
            let pad = self.width - l;
            mask.extend((0..self.width).map(|j| if j >= pad { 0.0 } else { f32::NEG_INFINITY }));
        }
        let mask = Tensor::from_data(TensorData::new(mask, [next.len(), 1, 1, self.width]), &device);
        let new = NewTokens {
            ids: next.iter().map(|&t| t as i32).collect(),
            positions,
            slots: slots.clone(),
            per_row: 1,
            to_padded: None,
            last: None,
            attend: Attend::Padded { mask, from_padded: None },
        };
        self.run(model, stacks, new)
    }

    /// Keeps the rows at `keep` (indices into the cache's rows, in order) and drops the others.
    /// The kept rows stay right-aligned, shifted left so that the longest ends the new width:
    /// the dropped rows were the longest, and without the shift a full cache would have no
    /// column left to append.
    pub fn keep_rows(&mut self, keep: &[usize]) {
        let width = keep.iter().map(|&r| self.lengths[r]).max().unwrap_or(0);
        let shift = self.width - width;
        let device = self.keys.first().expect("a filled cache holds every block's keys").device();
        let index: Vec<i32> = keep.iter().map(|&r| r as i32).collect();
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [keep.len()]), &device);
        let old_width = self.width;
        let narrow = |t: Tensor<4>| {
            let [_, heads, context, hs] = t.dims();
            let kept = t.select(0, index.clone()).slice([0..keep.len(), 0..heads, shift..old_width, 0..hs]);
            Tensor::zeros([keep.len(), heads, context, hs], &device)
                .slice_assign([0..keep.len(), 0..heads, 0..width, 0..hs], kept)
        };
        self.keys = std::mem::take(&mut self.keys).into_iter().map(narrow).collect();
        self.values = std::mem::take(&mut self.values).into_iter().map(narrow).collect();
        self.lengths = keep.iter().map(|&r| self.lengths[r]).collect();
        self.width = width;
    }

    /// The blocks over the `new` tokens, each row's attending to its cached keys and values plus
    /// its own; returns the logits at each row's last token.
    fn run(&mut self, model: &Gpt, stacks: &TenantStacks, new: NewTokens) -> Tensor<2> {
        let device: Device = new.slots.device();
        let (rows, tokens, per_row) = (self.lengths.len(), new.ids.len(), new.per_row);
        let ids = Tensor::<2, Int>::from_data(TensorData::new(new.ids, [tokens, 1]), &device);
        let positions = Tensor::<2, Int>::from_data(TensorData::new(new.positions, [tokens, 1]), &device);
        let mut x = model.tok_emb.forward(ids) + model.pos_emb.forward(positions); // (N, 1, C)
        let c = x.dims()[2];
        // (N, 1, C) packed → (K, per_row, C) padded.
        let padded = |t: Tensor<3>| match &new.to_padded {
            None => t.reshape([rows, per_row, c]),
            Some(to_padded) => Tensor::cat(vec![t.reshape([tokens, c]), Tensor::zeros([1, c], &device)], 0)
                .select(0, to_padded.clone())
                .reshape([rows, per_row, c]),
        };
        let (width, at) = (self.width, self.width - per_row);
        // Taken out so that each block's cache is held once while a slice is written into it.
        let (mut keys, mut values) =
            (std::mem::take(&mut self.keys).into_iter(), std::mem::take(&mut self.values).into_iter());
        for (i, block) in model.blocks.iter().enumerate() {
            let tenants = stacks.tenants(i, &new.slots);
            let of = |target| tenants.and_then(|t| t.of(target));
            let (attn, heads) = (&block.attn, block.attn.heads);
            let hs = c / heads;
            let h = block.ln1.forward(x.clone());
            let q = attn.q.forward_for(h.clone(), of(Target::Q));
            let k = attn.k.forward_for(h.clone(), of(Target::K));
            let v = attn.v.forward_for(h, of(Target::V));
            let empty = || Tensor::zeros([rows, heads, model.context(), hs], &device);
            let write = |cache: Option<Tensor<4>>, new_part: Tensor<3>| {
                let new_part = split_heads(padded(new_part), heads);
                cache.unwrap_or_else(empty).slice_assign([0..rows, 0..heads, at..width, 0..hs], new_part)
            };
            let (k_cache, v_cache) = (write(keys.next(), k.clone()), write(values.next(), v.clone()));
            let y = match &new.attend {
                // Prompts of different lengths on the CPU: each row's causal attention over its
                // own characters (our fused kernel), no padding in the scores. The padded form
                // below computes every row's scores at the longest row's width: a third of a
                // 16-row prefill's time with the tasks' prompts. A GPU keeps it, one launch per
                // operation rather than one per row.
                Attend::RowByRow(spans) => {
                    let row = |t: &Tensor<3>, (start, len): (usize, usize)| {
                        t.clone().slice([start..start + len]).reshape([1, len, c])
                    };
                    let ys = spans
                        .iter()
                        .map(|&span| {
                            causal_attention(row(&q, span), row(&k, span), row(&v, span), heads).reshape([span.1, c])
                        })
                        .collect();
                    Tensor::cat(ys, 0).reshape([tokens, 1, c])
                }
                Attend::Padded { mask, from_padded } => {
                    let q = split_heads(padded(q), heads);
                    let k = k_cache.clone().slice([0..rows, 0..heads, 0..width, 0..hs]);
                    let v = v_cache.clone().slice([0..rows, 0..heads, 0..width, 0..hs]);
                    let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(1.0 / (hs as f32).sqrt()) + mask.clone();
                    let y = softmax(scores, 3).matmul(v).swap_dims(1, 2).reshape([rows * per_row, c]);
                    // (K, per_row, C) padded → (N, 1, C) packed.
                    match from_padded {
                        None => y.reshape([tokens, 1, c]),
                        Some(from_padded) => y.select(0, from_padded.clone()).reshape([tokens, 1, c]),
                    }
                }
            };
            self.keys.push(k_cache);
            self.values.push(v_cache);
            x = attn.o.forward_onto_for(y, Some(x), of(Target::O));
            x = block.mlp.forward(&block.ln2, x, tenants);
        }
        let last = match new.last {
            None => x,
            Some(last) => x.reshape([tokens, c]).select(0, last).reshape([rows, 1, c]),
        };
        let logits = linear(model.ln_f.forward(last), model.head.weight.val(), None);
        let vocab = logits.dims()[2];
        logits.reshape([rows, vocab])
    }
}
