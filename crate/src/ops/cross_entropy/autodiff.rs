//! Cross-entropy's backward pass: the logits, the targets and the rows' log-sum-exp are kept.

use burn::backend::Autodiff;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::{FloatTensor, IntTensor};

use super::{CrossEntropyKernels, CrossEntropyOps};

#[derive(Debug)]
struct CrossEntropyBackward;

impl<B: CrossEntropyKernels> Backward<B, 1> for CrossEntropyBackward {
    /// logits, targets, log-sum-exp.
    type State = (FloatTensor<B>, IntTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (logits, targets, lse) = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| B::cross_entropy_backward(logits, targets, lse, grad));
    }
}

impl<B: CrossEntropyKernels + CrossEntropyOps, C: CheckpointStrategy> CrossEntropyOps for Autodiff<B, C> {
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        let prep = CrossEntropyBackward.prepare::<C>([logits.node()]).compute_bound().stateful();
        let logits = logits.into_primitive();
        match prep {
            OpsKind::Tracked(prep) => {
                let (loss, lse) = B::cross_entropy_forward(logits.clone(), targets.clone());
                prep.finish((logits, targets, lse), loss)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::cross_entropy(logits, targets)),
        }
    }
}
