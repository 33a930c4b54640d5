// The matrix product of matmul.wgsl, for hardware GPUs: the same C (m × n) = scale · A · B
// [+ scale2 · A2 · B2] [+ bias] [+ R], the same strided operands, column sums, pieces of k,
// bindings and uniform, so the host switches kernels by name alone.
//
// One mode of its own, APART: the second product is an output of its own, C2 (m2 × n2) =
// scale2 · A2 · B2, computed by workgroups after the first's in the same grid, with A2 read from
// B's binding. A linear layer's backward pass is two products that read dy (the weight's
// gradient xᵀ dy with dy's column sums, and the input's dy Wᵀ), and a dispatch may bind dy only
// once; as one dispatch a layer costs a real GPU one launch backward instead of two. (On
// SwiftShader such a grid ran up to 1.1× slower than two dispatches, so matmul.wgsl, the
// software kernel, keeps them apart.)
//
// Why a second kernel: matmul.wgsl has each thread read its 8 rows of A and 8 columns of B
// from device memory at every step along k, with no sharing between threads. That suits
// software WebGPU (SwiftShader, lavapipe), where a workgroup barrier costs more than the loads
// it saves, but on a real GPU a large product (a batch of 256 × 128 tokens) is then bound by
// memory traffic. Here a workgroup computes a 64 × 64 block of C: at each stage its 256 threads
// copy a 64 × 16 slice of A and a 16 × 64 slice of B into workgroup memory once, wait at a
// barrier, and each thread then reads its 4 × 4 outputs' operands from there: every value of A
// and B leaves device memory once per block instead of once per thread.
//
// GELU and GELU_GRADIENT as matmul.wgsl's; with APART, GELU_GRADIENT and ADD_RESIDUAL apply to
// C2, the input's gradient (which may go on through a GELU, or join the gradient the same input
// has from other layers), C being the weight's.
//
// Bindings: 0 a, 1 b, 2 bias or, with APART, C2, 3 c, 4 sums (or H), 5 A2 (a stand-in with
// APART), 6 B2, 7 R (or H), 8 the uniform: as matmul.wgsl.
// Workgroup: WORKGROUP_SIZE threads as 16 × 16, each a 4 × 4 patch of the block. The host
// dispatches one workgroup per block of C in each piece of k, then one per 256 of B's column
// sums in each piece, then one per block of C2; workgroups stride on past the grid limit.

struct Info {
    m: u32,
    n: u32,
    k: u32,
    a_row: u32, // A(i, p) = a[i · a_row + p · a_col]
    a_col: u32,
    b_row: u32, // B(p, j) = b[p · b_row + j · b_col]
    b_col: u32,
    flags: u32, // ADD_BIAS | COLUMN_SUMS | APART | ADD_RESIDUAL | GELU | GELU_GRADIENT
    k_piece: u32,
    scale: f32,
    k2: u32,
    a2_row: u32,
    a2_col: u32,
    b2_row: u32,
    b2_col: u32,
    scale2: f32,
    m2: u32,
    n2: u32,
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> bias_or_c2: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;
@group(0) @binding(5) var<storage, read_write> a_second: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_second: array<f32>;
@group(0) @binding(7) var<storage, read_write> residual: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const ADD_BIAS: u32 = 1u;
const COLUMN_SUMS: u32 = 2u;
const APART: u32 = 4u;
const ADD_RESIDUAL: u32 = 8u;
const GELU: u32 = 16u;
const GELU_GRADIENT: u32 = 32u;

// The block of C a workgroup computes is BLOCK × BLOCK; k is staged DEPTH at a time.
const BLOCK: u32 = 64u;
const DEPTH: u32 = 16u;
const WORKGROUP_SIZE: u32 = 256u;

var<workgroup> slice_a: array<f32, 1024>; // BLOCK × DEPTH: slice_a[row · DEPTH + p]
var<workgroup> slice_b: array<f32, 1024>; // DEPTH × BLOCK: slice_b[p · BLOCK + col]

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(local_invocation_index) lid: u32,
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let blocks_n = (info.n + BLOCK - 1u) / BLOCK;
    let blocks = ((info.m + BLOCK - 1u) / BLOCK) * blocks_n;
    let sum_groups = select(0u, (info.n + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE, (info.flags & COLUMN_SUMS) != 0u);
    let per_piece = blocks + sum_groups;
    let pieces = max(1u, (info.k + info.k_piece - 1u) / info.k_piece);
    let first = per_piece * pieces;
    let blocks2_n = (info.n2 + BLOCK - 1u) / BLOCK;
    let blocks2 = select(0u, ((info.m2 + BLOCK - 1u) / BLOCK) * blocks2_n, (info.flags & APART) != 0u);
    // g is the same for every thread of the workgroup, so the barriers below are reached by all.
    for (var g = group.x; g < first + blocks2; g += groups.x) {
        if (g >= first) {
            let u = g - first;
            block((u / blocks2_n) * BLOCK, (u % blocks2_n) * BLOCK, 0u, 0u, 0u, lid, true);
            continue;
        }
        let piece = g / per_piece;
        let u = g % per_piece;
        let k0 = piece * info.k_piece;
        let k1 = min(k0 + info.k_piece, info.k);
        if (u >= blocks) {
            column_sum((u - blocks) * WORKGROUP_SIZE + lid, k0, k1, piece * info.n);
        } else {
            block((u / blocks_n) * BLOCK, (u % blocks_n) * BLOCK, k0, k1, piece * info.m * info.n, lid, false);
        }
    }
}

// The block of C from (row0, col0), summed over k0..k1 (and the summed second product, in the
// first piece), written from c[out]; or, when `second`, of C2, the second product alone (k0 =
// k1). Values past the edges of A and B are staged as zeros.
fn block(row0: u32, col0: u32, k0: u32, k1: u32, out: u32, lid: u32, second: bool) {
    let r = (lid / 16u) * 4u; // this thread's first row and column within the block
    let q = (lid % 16u) * 4u;
    var acc = array<vec4<f32>, 4>(); // rows r..r+4, columns q..q+4, zeros to start
    for (var p0 = k0; p0 < k1; p0 += DEPTH) {
        stage_first(row0, col0, p0, k1, lid);
        workgroupBarrier();
        multiply_slices(r, q, &acc);
        workgroupBarrier();
    }
    acc[0] *= info.scale;
    acc[1] *= info.scale;
    acc[2] *= info.scale;
    acc[3] *= info.scale;
    let summed = (info.flags & APART) == 0u && out == 0u && info.k2 > 0u;
    if (second || summed) {
        for (var p0 = 0u; p0 < info.k2; p0 += DEPTH) {
            stage_second(row0, col0, p0, lid, select(info.m, info.m2, second), select(info.n, info.n2, second));
            workgroupBarrier();
            multiply_slices(r, q, &acc);
            workgroupBarrier();
        }
    }
    if (second) {
        store_second(row0 + r, col0 + q, acc[0]);
        store_second(row0 + r + 1u, col0 + q, acc[1]);
        store_second(row0 + r + 2u, col0 + q, acc[2]);
        store_second(row0 + r + 3u, col0 + q, acc[3]);
        return;
    }
    store_row(row0 + r, col0 + q, acc[0], out);
    store_row(row0 + r + 1u, col0 + q, acc[1], out);
    store_row(row0 + r + 2u, col0 + q, acc[2], out);
    store_row(row0 + r + 3u, col0 + q, acc[3], out);
}

// Add the staged slices' product to this thread's 4 × 4 of C: rows r..r+4 of slice_a times
// columns q..q+4 of slice_b. Both products of a block share it, as they share the slices.
fn multiply_slices(r: u32, q: u32, acc: ptr<function, array<vec4<f32>, 4>>) {
    for (var p = 0u; p < DEPTH; p++) {
        let bv = vec4<f32>(slice_b[p * BLOCK + q], slice_b[p * BLOCK + q + 1u], slice_b[p * BLOCK + q + 2u], slice_b[p * BLOCK + q + 3u]);
        (*acc)[0] += slice_a[r * DEPTH + p] * bv;
        (*acc)[1] += slice_a[(r + 1u) * DEPTH + p] * bv;
        (*acc)[2] += slice_a[(r + 2u) * DEPTH + p] * bv;
        (*acc)[3] += slice_a[(r + 3u) * DEPTH + p] * bv;
    }
}

// Copy A[row0.., p0..p0+DEPTH] and B[p0..p0+DEPTH, col0..] into workgroup memory, four values of
// each a thread; zeros past m, n or k1.
fn stage_first(row0: u32, col0: u32, p0: u32, k1: u32, lid: u32) {
    for (var i = 0u; i < 4u; i++) {
        let e = lid + i * WORKGROUP_SIZE;
        let row = row0 + e / DEPTH;
        let pa = p0 + e % DEPTH;
        var va = 0.0;
        if (row < info.m && pa < k1) {
            va = a[row * info.a_row + pa * info.a_col];
        }
        slice_a[e] = va;
        let pb = p0 + e / BLOCK;
        let col = col0 + e % BLOCK;
        var vb = 0.0;
        if (col < info.n && pb < k1) {
            vb = b[pb * info.b_row + col * info.b_col];
        }
        slice_b[e] = vb;
    }
}

// The same for the second product, its scale taken with each value of A2; (m, n) is the shape
// of the output it goes to.
fn stage_second(row0: u32, col0: u32, p0: u32, lid: u32, m: u32, n: u32) {
    for (var i = 0u; i < 4u; i++) {
        let e = lid + i * WORKGROUP_SIZE;
        let row = row0 + e / DEPTH;
        let pa = p0 + e % DEPTH;
        var va = 0.0;
        if (row < m && pa < info.k2) {
            va = second_a(row * info.a2_row + pa * info.a2_col) * info.scale2;
        }
        slice_a[e] = va;
        let pb = p0 + e / BLOCK;
        let col = col0 + e % BLOCK;
        var vb = 0.0;
        if (col < n && pb < info.k2) {
            vb = b_second[pb * info.b2_row + col * info.b2_col];
        }
        slice_b[e] = vb;
    }
}

// C[row, col0..col0+4] = v [+ bias] [+ R], then GELU's forward or backward step, the columns
// past n left alone.
fn store_row(row: u32, col0: u32, v: vec4<f32>, out: u32) {
    if (row >= info.m) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let col = col0 + j;
        if (col < info.n) {
            var value = v[j];
            if ((info.flags & ADD_BIAS) != 0u) {
                value += bias_or_c2[col];
            }
            if ((info.flags & (ADD_RESIDUAL | APART)) == ADD_RESIDUAL) {
                value += residual[row * info.n + col];
            }
            if ((info.flags & GELU) != 0u) {
                sums[row * info.n + col] = value;
                value *= normal_cdf(value);
            }
            if ((info.flags & (GELU_GRADIENT | APART)) == GELU_GRADIENT) {
                value *= gelu_derivative(residual[row * info.n + col]);
            }
            c[out + row * info.n + col] = value;
        }
    }
}

// A value of A2: from its own binding, or with APART from b's (dy, which both products read).
fn second_a(i: u32) -> f32 {
    if ((info.flags & APART) != 0u) {
        return b[i];
    }
    return a_second[i];
}

// C2[row, col0..col0+4] = v [+ R] [· GELU'(H)], the columns past n2 left alone.
fn store_second(row: u32, col0: u32, v: vec4<f32>) {
    if (row >= info.m2) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let at = row * info.n2 + col0 + j;
        if (col0 + j < info.n2) {
            var value = v[j];
            if ((info.flags & ADD_RESIDUAL) != 0u) {
                value += residual[at];
            }
            if ((info.flags & GELU_GRADIENT) != 0u) {
                value *= gelu_derivative(residual[at]);
            }
            bias_or_c2[at] = value;
        }
    }
}

// sums[out + j] = Σ_{p in k0..k1} B(p, j).
fn column_sum(j: u32, k0: u32, k1: u32, out: u32) {
    if (j >= info.n) {
        return;
    }
    var total = 0.0;
    for (var p = k0; p < k1; p++) {
        total += b[p * info.b_row + j * info.b_col];
    }
    sums[out + j] = total;
}

// GELU's pieces, as gelu.wgsl has them (a test holds the copies alike).
const FRAC_1_SQRT_2: f32 = 0.70710678;
const NORMAL_PDF_0: f32 = 0.39894228; // 1 / sqrt(2π)

// erf(x) = x · P(x²) / Q(x²) for |x| < 4, and ±1 beyond (1 − erf(4) = 1.5e-8).
fn erf(x: f32) -> f32 {
    let c = clamp(x, -4.0, 4.0);
    let x2 = c * c;
    let p = 1.128379 + x2 * (0.1965647 + x2 * (0.05350358 + x2 * (0.004015303 + x2 * (0.0002879879 + x2 * 1.9685446e-6))));
    let q = 1.0 + x2 * (0.5075321 + x2 * (0.11660169 + x2 * (0.015468457 + x2 * (0.0012185685 + x2 * 3.7412226e-5))));
    return select(c * p / q, sign(x), abs(x) >= 4.0);
}

fn normal_cdf(x: f32) -> f32 {
    return 0.5 + 0.5 * erf(x * FRAC_1_SQRT_2);
}

// d/dx [x · Φ(x)] = Φ(x) + x · φ(x).
fn gelu_derivative(x: f32) -> f32 {
    return normal_cdf(x) + x * NORMAL_PDF_0 * exp(-0.5 * x * x);
}
