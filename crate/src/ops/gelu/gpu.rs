//! GELU on burn's wgpu backend: `shaders/gelu.wgsl`, one dispatch each way, exact erf.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::CubeBackend;

use super::GeluOps;
use crate::ops::shader::GELU;
use crate::ops::wgsl::{Info, empty, inputs, launch, workgroups_for};

impl GeluOps for CubeBackend {
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let [x] = inputs([x]);
        // The forward pass reads no gradient: a one-value buffer stands in for it.
        let unused = empty(&x, [1]);
        run(x, unused, false)
    }

    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        let [x, grad] = inputs([x, grad]);
        run(x, grad, true)
    }
}

/// GELU of `x`, or, `backward`, `grad` · GELU'(`x`).
fn run(x: FloatTensor<CubeBackend>, grad: FloatTensor<CubeBackend>, backward: bool) -> FloatTensor<CubeBackend> {
    let shape = x.meta.shape().clone();
    let n = shape.num_elements();
    let out = empty(&x, shape);
    launch(&GELU, workgroups_for(&GELU, n), &[&x, &grad, &out], Info::new().usize(n).u32(backward as u32));
    out
}
