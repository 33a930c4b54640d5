//! Attention's kernels on burn's CPU backend: per (batch, head), matrix products (`ops::gemm`) on
//! strided views of the (B, T, C) buffers, so a head's slice is read and written in place; the
//! softmax and its gradient between them in Rust, with our vectorised exp.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;

use super::{AttentionKernels, AttentionOps, dims};
use crate::ops::gelu::math::exp;
use crate::ops::gemm::{View, matmul};
use crate::ops::host::{f32s, tensor};

impl AttentionOps for Flex {
    fn causal_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self> {
        Self::attention_forward(q, k, v, heads).0
    }
}

/// One head of one sequence: where its rows start in the (B, T, C) buffers.
struct Head {
    t: usize,
    c: usize,
    hs: usize,
    /// Offset of (b, 0, h · hs).
    at: usize,
    scale: f32,
}

impl Head {
    fn each(b: usize, t: usize, c: usize, hs: usize) -> impl Iterator<Item = Self> {
        let scale = 1.0 / (hs as f32).sqrt();
        (0..b * (c / hs)).map(move |n| Self { t, c, hs, at: (n / (c / hs)) * t * c + (n % (c / hs)) * hs, scale })
    }

    /// The head's T × hs slice of a (B, T, C) buffer.
    fn view(&self) -> View {
        View::rows(self.at, self.c)
    }

    /// `scores` (T × T) = scale · q k^T.
    fn scores(&self, q: &[f32], k: &[f32], scores: &mut [f32]) {
        let t = self.t;
        matmul(
            (t, t, self.hs),
            scores,
            View::rows(0, t),
            q,
            self.view(),
            k,
            self.view().transposed(),
            self.scale,
            false,
        );
    }
}

impl AttentionKernels for Flex {
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let shape = q.layout().shape().to_vec();
        let (b, t, c, hs) = dims(&shape, heads);
        let (q, k, v) = (q.to_contiguous(), k.to_contiguous(), v.to_contiguous());
        let (q, k, v) = (f32s(&q), f32s(&k), f32s(&v));
        let mut y = vec![0.0; b * t * c];
        let mut lse = Vec::with_capacity(b * heads * t);
        let mut p = vec![0.0; t * t];
        for head in Head::each(b, t, c, hs) {
            head.scores(q, k, &mut p);
            for (i, row) in p.chunks_exact_mut(t).enumerate() {
                let best = row[..=i].iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for s in &mut row[..=i] {
                    *s = exp(*s - best);
                    sum += *s;
                }
                row[..=i].iter_mut().for_each(|s| *s /= sum);
                row[i + 1..].fill(0.0);
                lse.push(best + sum.ln());
            }
            matmul((t, hs, t), &mut y, head.view(), &p, View::rows(0, t), v, head.view(), 1.0, false);
        }
        (tensor(y, shape), tensor(lse, vec![b, heads, t]))
    }

    fn attention_backward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        y: FloatTensor<Self>,
        lse: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let shape = q.layout().shape().to_vec();
        let (b, t, c, hs) = dims(&shape, heads);
        let [q, k, v, y, lse, dy] = [q, k, v, y, lse, dy].map(|t| t.to_contiguous());
        let (q, k, v, y, lse, dy) = (f32s(&q), f32s(&k), f32s(&v), f32s(&y), f32s(&lse), f32s(&dy));
        let (mut dq, mut dk, mut dv) = (vec![0.0; b * t * c], vec![0.0; b * t * c], vec![0.0; b * t * c]);
        let (mut p, mut ds) = (vec![0.0; t * t], vec![0.0; t * t]);
        for (n, head) in Head::each(b, t, c, hs).enumerate() {
            // The softmax again, from the forward pass's log-sum-exp.
            head.scores(q, k, &mut p);
            for (i, row) in p.chunks_exact_mut(t).enumerate() {
                let lse = lse[n * t + i];
                row[..=i].iter_mut().for_each(|s| *s = exp(*s - lse));
                row[i + 1..].fill(0.0);
            }
            let (view, square) = (head.view(), View::rows(0, t));
            matmul((t, hs, t), &mut dv, view, &p, square.transposed(), dy, view, 1.0, false); // dv = pᵀ dy
            matmul((t, t, hs), &mut ds, square, dy, view, v, view.transposed(), 1.0, false); // dp = dy vᵀ
            for (i, (ds, p)) in ds.chunks_exact_mut(t).zip(p.chunks_exact(t)).enumerate() {
                let row = head.at + i * c;
                let delta: f32 = dy[row..row + hs].iter().zip(&y[row..row + hs]).map(|(a, b)| a * b).sum();
                ds.iter_mut().zip(p).for_each(|(ds, p)| *ds = p * (*ds - delta));
            }
            matmul((t, hs, t), &mut dq, view, &ds, square, k, view, head.scale, false); // dq = scale · ds k
            matmul((t, hs, t), &mut dk, view, &ds, square.transposed(), q, view, head.scale, false); // dk = scale · dsᵀ q
        }
        (tensor(dq, shape.clone()), tensor(dk, shape.clone()), tensor(dv, shape))
    }
}
