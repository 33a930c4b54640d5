//! Attention's kernels on burn's wgpu backend: `shaders/attention.wgsl` and
//! `shaders/attention_backward.wgsl`, each thread taking `ROWS` query or key rows of one head.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{AttentionKernels, AttentionOps, dims};
use crate::ops::shader::{ATTENTION, ATTENTION_BACKWARD, Shader};
use crate::ops::wgsl::{Info, empty, inputs, launch_with, side_by_side, views, workgroups_for};

/// The widest head the kernels take. A launch declares the shaders' `MAX_H4`, the vec4s of one
/// head each thread keeps in arrays, as its own heads' width: SwiftShader compiles the arrays
/// element by element, and at the widest size for every model it took about 1.15 times as long
/// to compile both kernels for the shipped model's 32-wide heads.
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

/// Rows of one head each thread of the two shaders takes (their `ROWS`, read when the crate is
/// built, as every launch constant is).
const ROWS: usize = ATTENTION.constant("ROWS") as usize;
const _: () =
    assert!(ATTENTION_BACKWARD.constant("ROWS") as usize == ROWS, "the attention shaders take the same rows a thread");

/// What a launch declares anew in an attention shader.
type Constants = [(&'static str, u32); 1];

/// The uniform both attention shaders begin with, the workgroups for `ROWS` rows of one head a
/// thread, `halves` times over (the backward shader's threads take query rows, then key rows),
/// and the constants the shader is compiled with.
fn layout(shader: &Shader, q: &CubeTensor, heads: usize, halves: usize) -> (Info, (u32, u32), Constants) {
    let (b, t, c, hs) = dims(q.meta.shape(), heads);
    assert!(
        hs % 4 == 0 && hs <= MAX_HEAD,
        "heads of {hs} channels: the GPU kernels take multiples of 4 up to {MAX_HEAD}"
    );
    let info = Info::new().usize(b).usize(t).usize(c).usize(heads).usize(hs).f32(1.0 / (hs as f32).sqrt());
    (info, workgroups_for(shader, halves * b * heads * t.div_ceil(ROWS)), [("MAX_H4", (hs / 4) as u32)])
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
        let (info, groups, constants) = layout(&ATTENTION, &q, heads, 1);
        let y = empty(&q, shape.clone());
        let lse = empty(&q, [shape[0], heads, shape[1]]);
        launch_with(&ATTENTION, &constants, groups, &[&q, &k, &v, &y, &lse], info);
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
        // dq, dk and dv evenly spaced in one buffer, which the shader writes as one binding and
        // q's, k's and v's backward products read as one (`LinearKernels::linear_three_backward`).
        let (buffer, spacing) = side_by_side(&q, 3, &shape);
        let [dq, dk, dv] = views(&buffer, spacing, &shape);
        let (info, groups, constants) = layout(&ATTENTION_BACKWARD, &q, heads, 2);
        let info = info.usize(spacing / 4);
        launch_with(&ATTENTION_BACKWARD, &constants, groups, &[&q, &k, &v, &y, &dy, &lse, &buffer], info);
        (dq, dk, dv)
    }
}
