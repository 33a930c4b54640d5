//! Each row's keys and values kept between generated characters, so a step runs one new
//! position per row through the model instead of every row's whole window again (what a
//! serving system does at decode time; Punica and S-LoRA batch exactly these one-token rows).
//!
//! Rows of different lengths are right-aligned: row r's L_r positions are the last L_r of the
//! cache, padding on the left, so every step appends one column for all rows at once. Each row
//! keeps its own positions (0..L_r) and a mask hides the padding from its queries. This path
//! uses burn's own operations for the masked attention (our `attention.wgsl` is causal over
//! equal lengths) and is for serving only, without gradients. It holds while every row fits the
//! context window; past that the caller recomputes windows.

use burn::tensor::activation::softmax;
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::TenantStacks;
use crate::memory::Target;
use crate::model::Gpt;
use crate::ops::gelu::gelu;
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

impl KvCache {
    /// Run every row's prompt (`rows`, token ids) through the model, each through its tenant's
    /// adapters (`slots`); returns the cache and the logits (K, vocab) after each prompt.
    pub fn prefill(model: &Gpt, stacks: &TenantStacks, slots: &Tensor<1>, rows: &[&[u32]]) -> (Self, Tensor<2>) {
        let device = slots.device();
        let width = rows.iter().map(|r| r.len()).max().unwrap_or(1);
        let (mut ids, mut positions) = (Vec::with_capacity(rows.len() * width), Vec::with_capacity(rows.len() * width));
        for row in rows {
            let pad = width - row.len();
            ids.extend((0..pad).map(|_| 0).chain(row.iter().map(|&t| t as i32)));
            positions.extend((0..width).map(|i| i.saturating_sub(pad) as i32));
        }
        // Query i of row r sees key j when j ≤ i and j is not padding; a padding query sees
        // itself only (its output is never read, but it must not be a softmax over nothing).
        let mut mask = Vec::with_capacity(rows.len() * width * width);
        for row in rows {
            let pad = width - row.len();
            for i in 0..width {
                mask.extend((0..width).map(|j| if (j <= i && j >= pad) || j == i { 0.0 } else { f32::NEG_INFINITY }));
            }
        }
        let mut cache =
            KvCache { keys: vec![], values: vec![], lengths: rows.iter().map(|r| r.len()).collect(), width };
        let shape = [rows.len(), 1, width, width];
        let logits =
            cache.run(model, stacks, slots, ids, positions, Tensor::from_data(TensorData::new(mask, shape), &device));
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
        let ids = next.iter().map(|&t| t as i32).collect();
        let mask = Tensor::from_data(TensorData::new(mask, [next.len(), 1, 1, self.width]), &device);
        self.run(model, stacks, slots, ids, positions, mask)
    }

    /// The blocks over the new positions (`ids`, `positions`: K rows of equal count), each
    /// attending to the cached keys and values plus its own under `mask` (K, 1, new, all);
    /// returns the logits at each row's last position.
    fn run(
        &mut self,
        model: &Gpt,
        stacks: &TenantStacks,
        slots: &Tensor<1>,
        ids: Vec<i32>,
        positions: Vec<i32>,
        mask: Tensor<4>,
    ) -> Tensor<2> {
        let device: Device = slots.device();
        let rows = slots.dims()[0];
        let new = ids.len() / rows;
        let ids = Tensor::<2, Int>::from_data(TensorData::new(ids, [rows, new]), &device);
        let positions = Tensor::<2, Int>::from_data(TensorData::new(positions, [rows, new]), &device);
        let mut x = model.tok_emb.forward(ids) + model.pos_emb.forward(positions); // (K, new, C)
        let (width, at) = (self.width, self.width - new);
        // Taken out so that each block's cache is held once while a slice is written into it.
        let (mut keys, mut values) = (std::mem::take(&mut self.keys).into_iter(), std::mem::take(&mut self.values).into_iter());
        for (i, block) in model.blocks.iter().enumerate() {
            let tenants = stacks.tenants(i, slots);
            let of = |target| tenants.and_then(|t| t.of(target));
            let attn = &block.attn;
            let h = block.ln1.forward(x.clone());
            let q = split_heads(attn.q.forward_for(h.clone(), of(Target::Q)), attn.heads);
            let k = split_heads(attn.k.forward_for(h.clone(), of(Target::K)), attn.heads);
            let v = split_heads(attn.v.forward_for(h, of(Target::V)), attn.heads);
            let [_, heads, _, hs] = q.dims();
            let empty = || Tensor::zeros([rows, heads, model.context(), hs], &device);
            let write = |cache: Option<Tensor<4>>, new_part| {
                cache.unwrap_or_else(empty).slice_assign([0..rows, 0..heads, at..width, 0..hs], new_part)
            };
            let (k_cache, v_cache) = (write(keys.next(), k), write(values.next(), v));
            let k = k_cache.clone().slice([0..rows, 0..heads, 0..width, 0..hs]);
            let v = v_cache.clone().slice([0..rows, 0..heads, 0..width, 0..hs]);
            let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(1.0 / (hs as f32).sqrt()) + mask.clone();
            let y = softmax(scores, 3).matmul(v).swap_dims(1, 2).reshape([rows, new, attn.heads * hs]);
            self.keys.push(k_cache);
            self.values.push(v_cache);
            x = x.clone() + attn.o.forward_for(y, of(Target::O));
            let h = block.ln2.forward(x.clone());
            let h = gelu(block.mlp.fc.forward_for(h, of(Target::Fc)));
            x = x.clone() + block.mlp.proj.forward_for(h, of(Target::Proj));
        }
        let last = x.slice([0..rows, new - 1..new]);
        let logits = linear(model.ln_f.forward(last), model.head.weight.val(), None);
        let vocab = logits.dims()[2];
        logits.reshape([rows, vocab])
    }
}
