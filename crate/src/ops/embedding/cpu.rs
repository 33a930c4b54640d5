//! The embeddings on burn's CPU backend: a row copied and added per token; backward, each
//! token's and position's gradient summed in token order, as the GPU kernel sums them.

use burn::backend::Flex;
use burn::backend::tensor::{FloatTensor, IntTensor};

use super::{EmbeddingKernels, EmbeddingOps};
use crate::ops::host::{f32s, ids, tensor};

impl EmbeddingOps for Flex {
    fn embed(tokens: IntTensor<Self>, tok: FloatTensor<Self>, pos: FloatTensor<Self>) -> FloatTensor<Self> {
        let seq = tokens.layout().shape()[1];
        let dim = tok.layout().shape()[1];
        let (tok, pos, ids) = (tok.to_contiguous(), pos.to_contiguous(), ids(tokens));
        let (tok, pos) = (f32s(&tok), f32s(&pos));
        let mut x = Vec::with_capacity(ids.len() * dim);
        for (n, &id) in ids.iter().enumerate() {
            let (t, p) = (&tok[id * dim..][..dim], &pos[(n % seq) * dim..][..dim]);
            x.extend(t.iter().zip(p).map(|(t, p)| t + p));
        }
        tensor(x, [ids.len(), dim])
    }
}

impl EmbeddingKernels for Flex {
    fn embed_backward(
        tokens: IntTensor<Self>,
        dx: FloatTensor<Self>,
        vocab: usize,
        context: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let seq = tokens.layout().shape()[1];
        let dim = dx.layout().shape()[1];
        let (dx, ids) = (dx.to_contiguous(), ids(tokens));
        let (mut dtok, mut dpos) = (vec![0.0; vocab * dim], vec![0.0; context * dim]);
        for (n, (&id, row)) in ids.iter().zip(f32s(&dx).chunks_exact(dim)).enumerate() {
            let t = n % seq;
            dtok[id * dim..][..dim].iter_mut().zip(row).for_each(|(d, g)| *d += g);
            dpos[t * dim..][..dim].iter_mut().zip(row).for_each(|(d, g)| *d += g);
        }
        (tensor(dtok, [vocab, dim]), tensor(dpos, [context, dim]))
    }
}
