//! Attention's kernels on burn's wgpu backend: `shaders/attention*.wgsl`, each thread taking
//! `ROWS` query or key rows of one head.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{AttentionKernels, AttentionOps, dims};
use crate::ops::shader::{ATTENTION, ATTENTION_BACKWARD_KEY, ATTENTION_BACKWARD_QUERY, Shader};
use crate::ops::wgsl::{Info, empty, inputs, launch, side_by_side, views, workgroups_for};

/// Values of one head each thread keeps in registers (4 · `MAX_H4` in the shaders), read as
/// vec4s.
const MAX_HEAD: usize = 64;

impl AttentionOps for CubeBackend {
    fn causal_attention(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
    ) -> FloatTensor<Self> {
        Self::attention_forward(q, k, v, heads).0
    }
}

/// Rows of one head each thread of the three shaders takes (their `ROWS`, read when the crate
/// is built, as every launch constant is).
const ROWS: usize = ATTENTION.constant("ROWS") as usize;
const _: () = assert!(
    ATTENTION_BACKWARD_QUERY.constant("ROWS") as usize == ROWS
        && ATTENTION_BACKWARD_KEY.constant("ROWS") as usize == ROWS,
    "the attention shaders take the same rows a thread"
);

/// The uniform every attention shader takes, and the workgroups for `ROWS` rows of one head a
/// thread.
fn layout(shader: &Shader, q: &CubeTensor, heads: usize) -> (Info, (u32, u32)) {
    let (b, t, c, hs) = dims(q.meta.shape(), heads);
    assert!(
        hs % 4 == 0 && hs <= MAX_HEAD,
        "heads of {hs} channels: the GPU kernels take multiples of 4 up to {MAX_HEAD}"
    );
    let info = Info::new().usize(b).usize(t).usize(c).usize(heads).usize(hs).f32(1.0 / (hs as f32).sqrt());
    (info, workgroups_for(shader, b * heads * t.div_ceil(ROWS)))
}

impl AttentionKernels for CubeBackend {
    fn attention_forward(
        q: FloatTensor<Self>,
        k: FloatTensor<Self>,
        v: FloatTensor<Self>,
        heads: usize,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [q, k, v] = inputs([q, k, v]);
        let shape = q.meta.shape().clone();
        let (info, groups) = layout(&ATTENTION, &q, heads);
        let y = empty(&q, shape.clone());
        let lse = empty(&q, [shape[0], heads, shape[1]]);
        launch(&ATTENTION, groups, &[&q, &k, &v, &y, &lse], info);
        (y, lse)
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
        let [q, k, v, y, lse, dy] = inputs([q, k, v, y, lse, dy]);
        let shape = q.meta.shape().clone();
        // dq, dk and dv evenly spaced in one buffer, which q's, k's and v's backward products
        // then read as one binding (`LinearKernels::linear_three_backward`).
        let (buffer, spacing) = side_by_side(&q, 3, &shape);
        let [dq, dk, dv] = views(&buffer, spacing, &shape);
        let delta = empty(&q, lse.meta.shape().clone());
        let (info, groups) = layout(&ATTENTION_BACKWARD_QUERY, &q, heads);
        launch(&ATTENTION_BACKWARD_QUERY, groups, &[&q, &k, &v, &y, &dy, &lse, &dq, &delta], info);
        let (info, groups) = layout(&ATTENTION_BACKWARD_KEY, &q, heads);
        launch(&ATTENTION_BACKWARD_KEY, groups, &[&q, &k, &v, &dy, &lse, &delta, &dk, &dv], info);
        (dq, dk, dv)
    }
}
