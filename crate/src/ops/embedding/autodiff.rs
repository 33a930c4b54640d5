//! The embeddings' backward pass: only the ids are kept, and the kernel runs when either table
//! takes a gradient (neither does when the base is frozen for an adapter).

use burn::backend::Autodiff;
use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::{FloatTensor, IntTensor};

use super::{EmbeddingKernels, EmbeddingOps};

#[derive(Debug)]
struct EmbeddingBackward;

impl<B: EmbeddingKernels> Backward<B, 2> for EmbeddingBackward {
    /// The ids, the vocabulary and the position table's rows.
    type State = (IntTensor<B>, usize, usize);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (ids, vocab, context) = ops.state;
        let dx = grads.consume::<B>(&ops.node);
        let [tok_node, pos_node] = ops.parents;
        let (dtok, dpos) = B::embed_backward(ids, dx, vocab, context);
        if let Some(node) = tok_node {
            grads.register::<B>(node.id, dtok);
        }
        if let Some(node) = pos_node {
            grads.register::<B>(node.id, dpos);
        }
    }
}

impl<B: EmbeddingKernels + EmbeddingOps, C: CheckpointStrategy> EmbeddingOps for Autodiff<B, C> {
    fn embed(ids: IntTensor<Self>, tok: FloatTensor<Self>, pos: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = EmbeddingBackward.prepare::<C>([tok.node(), pos.node()]).compute_bound().stateful();
        let (tok, pos) = (tok.into_primitive(), pos.into_primitive());
        let (vocab, context) = (tok.shape()[0], pos.shape()[0]);
        match prep {
            OpsKind::Tracked(prep) => {
                let x = <B as EmbeddingOps>::embed(ids.clone(), tok, pos);
                prep.finish((ids, vocab, context), x)
            }
            OpsKind::UnTracked(prep) => prep.finish(<B as EmbeddingOps>::embed(ids, tok, pos)),
        }
    }
}
