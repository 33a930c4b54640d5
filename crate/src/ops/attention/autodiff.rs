//! Attention's backward pass: q, k, v, the output and the rows' log-sum-exp are kept; the
//! softmax itself is recomputed.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;

use super::{AttentionKernels, AttentionOps};

#[derive(Debug)]
struct AttentionBackward;

#[derive(Debug, Clone)]
struct Saved<B: AttentionKernels> {
    q: FloatTensor<B>,
    k: FloatTensor<B>,
    v: FloatTensor<B>,
    y: FloatTensor<B>,
    lse: FloatTensor<B>,
    heads: usize,
}

impl<B: AttentionKernels> Backward<B, 3> for AttentionBackward {
    type State = Saved<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let Saved { q, k, v, y, lse, heads } = ops.state;
        let dy = grads.consume::<B>(&ops.node);
        let (dq, dk, dv) = B::attention_backward(q, k, v, y, lse, dy, heads);
        for (parent, grad) in ops.parents.into_iter().zip([dq, dk, dv]) {
            if let Some(node) = parent {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B: AttentionKernels + AttentionOps, C: CheckpointStrategy> AttentionOps for Autodiff<B, C> {
    fn causal_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self> {
        let prep = AttentionBackward.prepare::<C>([q.node(), k.node(), v.node()]).compute_bound().stateful();
        let (q, k, v) = (q.into_primitive(), k.into_primitive(), v.into_primitive());
        match prep {
            OpsKind::Tracked(prep) => {
                let (y, lse) = B::attention_forward(q.clone(), k.clone(), v.clone(), heads);
                prep.finish(Saved { q, k, v, y: y.clone(), lse, heads }, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::causal_attention(q, k, v, heads)),
        }
    }
}
