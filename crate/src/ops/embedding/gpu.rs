//! The embeddings on burn's wgpu backend: `shaders/embedding*.wgsl`.

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::wgpu::CubeBackend;

use super::{EmbeddingKernels, EmbeddingOps};
use crate::ops::shader::{EMBEDDING, EMBEDDING_BACKWARD};
use crate::ops::wgsl::{Info, empty, ids, inputs, launch, pieces_for, sum_pieces, workgroups_for};

impl EmbeddingOps for CubeBackend {
    fn embed(tokens: IntTensor<Self>, tok: FloatTensor<Self>, pos: FloatTensor<Self>) -> FloatTensor<Self> {
        let (rows, seq) = (tokens.meta.shape().num_elements(), tokens.meta.shape()[1]);
        let ([tok, pos], ids) = (inputs([tok, pos]), ids(tokens));
        let dim = tok.meta.shape()[1];
        let x = empty(&tok, [rows, dim]);
        let info = Info::new().usize(rows).usize(seq).usize(dim);
        launch(&EMBEDDING, workgroups_for(&EMBEDDING, rows * dim), &[&ids, &tok, &pos, &x], info);
        x
    }
}

impl EmbeddingKernels for CubeBackend {
    fn embed_backward(
        tokens: IntTensor<Self>,
        dx: FloatTensor<Self>,
        vocab: usize,
        context: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (rows, seq) = (tokens.meta.shape().num_elements(), tokens.meta.shape()[1]);
        let ([dx], ids) = (inputs([dx]), ids(tokens));
        let dim = dx.meta.shape()[1];
        // The token table's sums: one thread per column in each piece of the rows (`pieces_for`).
        let pieces = pieces_for(dim, rows);
        let (dtok, dpos) = (empty(&dx, [pieces, vocab, dim]), empty(&dx, [context, dim]));
        let info = Info::new()
            .usize(rows)
            .usize(seq)
            .usize(dim)
            .usize(vocab)
            .usize(context)
            .usize(rows.div_ceil(pieces).max(1));
        let groups = workgroups_for(&EMBEDDING_BACKWARD, (pieces + context) * dim);
        launch(&EMBEDDING_BACKWARD, groups, &[&ids, &dx, &dtok, &dpos], info);
        (sum_pieces(dtok, [vocab, dim]), dpos)
    }
}
