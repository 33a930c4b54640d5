//! Cross-entropy's kernels on burn's CPU backend, a row at a time, with our vectorised exp.

use burn::backend::Flex;
use burn::backend::tensor::{FloatTensor, IntTensor};

use super::{CrossEntropyKernels, CrossEntropyOps};
use crate::ops::gelu::math::exp;
use crate::ops::host::{f32s, ids, tensor};

impl CrossEntropyOps for Flex {
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        Self::cross_entropy_forward(logits, targets).0
    }
}

impl CrossEntropyKernels for Flex {
    fn cross_entropy_forward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let vocab = logits.layout().shape()[1];
        let (logits, targets) = (logits.to_contiguous(), ids(targets));
        let mut lse = Vec::with_capacity(targets.len());
        let mut sum = 0.0;
        for (row, &target) in f32s(&logits).chunks_exact(vocab).zip(&targets) {
            let best = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let row_lse = best + row.iter().map(|&v| exp(v - best)).sum::<f32>().ln();
            lse.push(row_lse);
            sum += row_lse - row[target];
        }
        let loss = sum / targets.len() as f32;
        let rows = lse.len();
        (tensor(vec![loss], vec![1]), tensor(lse, vec![rows]))
    }

    fn cross_entropy_backward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let shape = logits.layout().shape().to_vec();
        let vocab = shape[1];
        let (logits, lse, grad, targets) =
            (logits.to_contiguous(), lse.to_contiguous(), grad.to_contiguous(), ids(targets));
        let scale = f32s(&grad)[0] / targets.len() as f32;
        let mut out = Vec::with_capacity(logits.layout().num_elements());
        for ((row, &target), &lse) in f32s(&logits).chunks_exact(vocab).zip(&targets).zip(f32s(&lse)) {
            out.extend(
                row.iter().enumerate().map(|(j, &v)| scale * (exp(v - lse) - if j == target { 1.0 } else { 0.0 })),
            );
        }
        tensor(out, shape)
    }
}
