//! Linear's kernels on burn's wgpu backend: `shaders/matmul.wgsl`.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{LinearKernels, LinearOps, MatmulKernel, matmul_kernel};
use crate::ops::shader::{MATMUL, MATMUL_TILED};
use crate::ops::wgsl::{Info, MAX_WORKGROUPS, empty, inputs, launch, pieces_for, sum_pieces};

impl LinearOps for CubeBackend {
    fn linear_biased(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, Some(bias))
    }

    fn linear_unbiased(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, None)
    }
}

// The shader's own: its flags, the side of each thread's tile of C, and how many of B's column
// sums a thread takes.
const ADD_BIAS: u32 = MATMUL.constant("ADD_BIAS");
const COLUMN_SUMS: u32 = MATMUL.constant("COLUMN_SUMS");
const TILE: usize = MATMUL.constant("TILE") as usize;
// The tiled kernel's block of C and its workgroup, which also takes that many column sums.
const BLOCK: usize = MATMUL_TILED.constant("BLOCK") as usize;
const TILED_WORKGROUP: usize = MATMUL_TILED.workgroup_size as usize;
const _: () = assert!(
    MATMUL_TILED.constant("ADD_BIAS") == ADD_BIAS && MATMUL_TILED.constant("COLUMN_SUMS") == COLUMN_SUMS,
    "the two matrix-product kernels read one uniform: their flags must agree"
);

/// Whether `like`'s device is a hardware GPU: cubecl names the card behind a device, and none
/// behind a CPU adapter (SwiftShader, lavapipe, a browser's fallback adapter).
fn on_hardware(like: &CubeTensor) -> bool {
    like.client.properties().identity.physical.is_some()
}

/// (rows, columns) of a 2-D tensor.
pub fn dims(t: &CubeTensor) -> (usize, usize) {
    (t.meta.shape()[0], t.meta.shape()[1])
}

/// A matrix as a product reads it: element (i, p) is `tensor[i · row + p · col]`, so a
/// transposed operand is the same buffer read with its strides swapped.
pub struct Strided<'a> {
    pub tensor: &'a CubeTensor,
    pub row: usize,
    pub col: usize,
}

/// `scale · A B`, A (m × k) by B (k × n).
pub struct Product<'a> {
    pub a: Strided<'a>,
    pub b: Strided<'a>,
    pub k: usize,
    pub scale: f32,
}

/// C (m × n) = `first` [+ `second`] [+ `bias`], and the first product's B's column sums (n)
/// when `column_sums`: one dispatch of `shaders/matmul.wgsl`, plus burn's sum of the pieces
/// when a long k is split.
pub fn products(
    (m, n): (usize, usize),
    first: Product,
    second: Option<Product>,
    bias: Option<&CubeTensor>,
    column_sums: bool,
) -> (CubeTensor, Option<CubeTensor>) {
    let like = first.a.tensor;
    let tiled = match matmul_kernel() {
        MatmulKernel::ByAdapter => on_hardware(like),
        MatmulKernel::Registers => false,
        MatmulKernel::Tiled => true,
    };
    // The register kernel: one thread per tile of C, and per `TILE` column sums, in each piece
    // of k. The tiled kernel: a workgroup per block of C, and per workgroup's worth of sums.
    let (threads, groups) = if tiled {
        let sum_groups = if column_sums { n.div_ceil(TILED_WORKGROUP) } else { 0 };
        let groups = m.div_ceil(BLOCK) * n.div_ceil(BLOCK) + sum_groups;
        (groups * TILED_WORKGROUP, groups)
    } else {
        let threads = m.div_ceil(TILE) * n.div_ceil(TILE) + if column_sums { n.div_ceil(TILE) } else { 0 };
        (threads, threads.div_ceil(MATMUL.workgroup_size as usize))
    };
    // A bias and a second product are added to a whole product only.
    let k = first.k;
    let pieces = if bias.is_some() || second.is_some() { 1 } else { pieces_for(threads, k) };
    let k_piece = k.div_ceil(pieces).max(1);
    let c = empty(like, [pieces, m, n]);
    let sums = column_sums.then(|| empty(like, [pieces, n]));
    let flags = if bias.is_some() { ADD_BIAS } else { 0 } | if column_sums { COLUMN_SUMS } else { 0 };
    let stand_in = || empty(like, [1]);
    let (stand_in_bias, stand_in_sums, stand_in_a2, stand_in_b2) = (stand_in(), stand_in(), stand_in(), stand_in());
    let info = Info::new().usize(m).usize(n).usize(k);
    let info = info.usize(first.a.row).usize(first.a.col).usize(first.b.row).usize(first.b.col);
    let info = info.u32(flags).usize(k_piece).f32(first.scale);
    let info = match &second {
        Some(p) => info.usize(p.k).usize(p.a.row).usize(p.a.col).usize(p.b.row).usize(p.b.col).f32(p.scale),
        None => info.u32(0).u32(0).u32(0).u32(0).u32(0).f32(0.0),
    };
    let buffers = [
        first.a.tensor,
        first.b.tensor,
        bias.unwrap_or(&stand_in_bias),
        &c,
        sums.as_ref().unwrap_or(&stand_in_sums),
        second.as_ref().map_or(&stand_in_a2, |p| p.a.tensor),
        second.as_ref().map_or(&stand_in_b2, |p| p.b.tensor),
    ];
    let shader = if tiled { &MATMUL_TILED } else { &MATMUL };
    launch(shader, ((groups * pieces).clamp(1, MAX_WORKGROUPS as usize) as u32, 1), &buffers, info);
    (sum_pieces(c, [m, n]), sums.map(|s| sum_pieces(s, [n])))
}

/// A (m × k) read with strides (row, col), likewise B (k × n), plus `bias` when given. Returns
/// C (m × n), and B's column sums (n) when `column_sums`.
fn product(
    (m, n, k): (usize, usize, usize),
    a: &CubeTensor,
    (a_row, a_col): (usize, usize),
    b: &CubeTensor,
    (b_row, b_col): (usize, usize),
    bias: Option<&CubeTensor>,
    column_sums: bool,
) -> (CubeTensor, Option<CubeTensor>) {
    let first = Product {
        a: Strided { tensor: a, row: a_row, col: a_col },
        b: Strided { tensor: b, row: b_row, col: b_col },
        k,
        scale: 1.0,
    };
    products((m, n), first, None, bias, column_sums)
}

impl LinearKernels for CubeBackend {
    fn linear_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
    ) -> FloatTensor<Self> {
        let (x, weight, bias) = match bias {
            Some(bias) => {
                let [x, weight, bias] = inputs([x, weight, bias]);
                (x, weight, Some(bias))
            }
            None => {
                let [x, weight] = inputs([x, weight]);
                (x, weight, None)
            }
        };
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&weight));
        product((rows, d_out, d_in), &x, (d_in, 1), &weight, (d_out, 1), bias.as_ref(), false).0
    }

    fn linear_backward_input(dy: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        let [dy, weight] = inputs([dy, weight]);
        let ((rows, d_out), (d_in, _)) = (dims(&dy), dims(&weight));
        // Wᵀ (d_out × d_in): element (p, j) = W[j · d_out + p].
        product((rows, d_in, d_out), &dy, (d_out, 1), &weight, (1, d_out), None, false).0
    }

    fn linear_backward_weight(x: FloatTensor<Self>, dy: FloatTensor<Self>) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [x, dy] = inputs([x, dy]);
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&dy));
        // xᵀ (d_in × rows): element (i, p) = x[p · d_in + i].
        let (dw, db) = product((d_in, d_out, rows), &x, (1, d_in), &dy, (d_out, 1), None, true);
        (dw, db.expect("asked for the column sums"))
    }
}
