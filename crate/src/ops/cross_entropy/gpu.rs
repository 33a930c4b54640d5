//! Cross-entropy's kernels on burn's wgpu backend: `shaders/cross_entropy*.wgsl`.

use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::wgpu::CubeBackend;

use super::{CrossEntropyKernels, CrossEntropyOps};
use crate::ops::shader::{CROSS_ENTROPY, CROSS_ENTROPY_BACKWARD};
use crate::ops::wgsl::{Info, empty, ids, inputs, launch, workgroups_for};

impl CrossEntropyOps for CubeBackend {
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        Self::cross_entropy_forward(logits, targets).0
    }
}

impl CrossEntropyKernels for CubeBackend {
    fn cross_entropy_forward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let ([logits], targets) = (inputs([logits]), ids(targets));
        let (rows, vocab) = (logits.meta.shape()[0], logits.meta.shape()[1]);
        let (lse, loss) = (empty(&logits, [rows]), empty(&logits, [1]));
        launch(&CROSS_ENTROPY, (1, 1), &[&logits, &targets, &lse, &loss], Info::new().usize(rows).usize(vocab));
        (loss, lse)
    }

    fn cross_entropy_backward(
        logits: FloatTensor<Self>,
        targets: IntTensor<Self>,
        lse: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let ([logits, lse, grad], targets) = (inputs([logits, lse, grad]), ids(targets));
        let shape = logits.meta.shape().clone();
        let (rows, vocab) = (shape[0], shape[1]);
        let dlogits = empty(&logits, shape);
        let groups = workgroups_for(&CROSS_ENTROPY_BACKWARD, rows * vocab);
        let info = Info::new().usize(rows).usize(vocab);
        launch(&CROSS_ENTROPY_BACKWARD, groups, &[&logits, &targets, &lse, &grad, &dlogits], info);
        dlogits
    }
}
