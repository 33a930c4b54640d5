// A matrix product, the workhorse of every linear layer and its backward pass:
//   C (m × n) = scale · A (m × k) · B (k × n)  [+ scale2 · A2 (m × k2) · B2 (k2 × n)]  [+ bias (n)]
//               [+ R (m × n)]
// with every operand read through row and column strides, so transposed operands (xᵀ · dy for
// a weight's gradient, dy · Wᵀ for the input's) need no copy. Optionally also writes B's column
// sums (a bias's gradient is the column sums of dy, taken while dy is read anyway), so a linear
// layer is one dispatch forward and at most two backward.
//
// The second product is a LoRA adapter's path (Hu et al. 2021): a projection with an adapter is
// y = x W + b + s · (x A) B, so with A2 = x A (m × r, r small) and B2 = B its forward is one
// dispatch after x A, and its input's gradient dy Wᵀ + (s · dy Bᵀ) Aᵀ is one too; built from
// plain products, the scale and the sums were dispatches of their own. The second product is
// summed into the same registers after the first, so it costs k2 steps of the loop below.
//
// R is a residual connection's other side: a block's x + f(x) is summed in the product of f's
// last projection (attention's output, the MLP's second layer), not by a dispatch after it.
// Backward, R is the gradient an input already has from its other consumers: q, k and v read
// one input, and each projection's input gradient dy Wᵀ is summed onto the previous one's.
//
// The MLP's GELU (the exact, erf form of gelu.wgsl) joins its products both ways. Forward, with
// GELU, C = GELU(the sum above) and the sum itself, H, is written where the column sums go: the
// backward pass needs it. Backward, with GELU_GRADIENT, C (dy W₂ᵀ, the gradient of the GELU's
// output) is multiplied by GELU'(H), H bound where R goes: C is then the gradient of H, which the
// first layer's backward products read. The GELU's own two dispatches are gone.
//
// Split along k: a weight's gradient sums over every token (k = batch × context) into a small
// C (d_in × d_out), too few tiles to fill a real GPU: at batch 256 × 128 it was 1,024 threads
// each walking 32,768 rows, and an H200 spent 1.8 s on a step. So the host may cut k into
// `pieces` of `k_piece`: piece s writes its partial C to c[s · m · n ..] and its partial column
// sums to sums[s · n ..], and the host adds the pieces up. One piece (k_piece = k) is the plain
// product, and the only one that may add a bias, R or a second product.
//
// Bindings: 0 a, 1 b, 2 bias (n; a one-value stand-in without), 3 c (pieces × m × n,
// row-major), 4 sums (pieces × n; with GELU, H: m × n; a stand-in without), 5 A2, 6 B2
// (stand-ins without), 7 R (m × n, row-major; with GELU_GRADIENT, H; a stand-in without), 8 the
// uniform below: eight storage buffers, WebGPU's default limit. The uniform is matmul_tiled.wgsl's, whose APART mode this kernel has not: on
// software WebGPU a layer's two backward products ran slower as one dispatch than as two.
// Workgroup: WORKGROUP_SIZE threads, each computing a 16 × 8 tile of C in thirty-two vec4
// registers: per step along k it loads 16 values of A and 8 of B for 128 multiply-adds. No
// shared memory and no barriers: software WebGPU (SwiftShader in Chromium, lavapipe) pays more
// for a workgroup barrier than for these loads, and a GPU is bound by launches at this model's
// size. Measured for 256 × 128 · 128 × 512 on a 2-core CPU: 22 ms with 8 × 8 tiles against
// 36–38 ms with 4 × 4; and over a training step's products on SwiftShader, 16 × 8 tiles took
// about 0.85× the time of 8 × 8, and 32 × 8 about as long as 8 × 8: SwiftShader loads each
// value for each SIMD lane alone, so fewer loads per multiply-add pay until registers run out.
// Threads past the last tile each take eight of B's column sums. The host dispatches one thread
// per tile (and per eight sums) up to the grid limit; threads stride on.

struct Info {
    m: u32,
    n: u32,
    k: u32,
    a_row: u32, // A(i, p) = a[i · a_row + p · a_col]
    a_col: u32,
    b_row: u32, // B(p, j) = b[p · b_row + j · b_col]
    b_col: u32,
    flags: u32, // ADD_BIAS | COLUMN_SUMS | ADD_RESIDUAL | GELU | GELU_GRADIENT
    k_piece: u32, // k's length per piece: the grid is `pieces` copies of the tiles (and sums)
    scale: f32,   // of the first product
    k2: u32,      // the second product's inner length: 0 without one
    a2_row: u32,
    a2_col: u32,
    b2_row: u32,
    b2_col: u32,
    scale2: f32,
    m2: u32, // matmul_tiled.wgsl's APART only
    n2: u32,
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<storage, read_write> sums: array<f32>;
@group(0) @binding(5) var<storage, read_write> a_second: array<f32>;
@group(0) @binding(6) var<storage, read_write> b_second: array<f32>;
@group(0) @binding(7) var<storage, read_write> residual: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const ADD_BIAS: u32 = 1u;
const COLUMN_SUMS: u32 = 2u;
const ADD_RESIDUAL: u32 = 8u;
const GELU: u32 = 16u;
const GELU_GRADIENT: u32 = 32u;
const TILE: u32 = 8u;
// Rows of C a thread's tile spans (TILE columns).
const TILE_ROWS: u32 = 16u;
const_assert TILE == 8u && TILE_ROWS == 16u; // tile() writes out 16 rows of two vec4s

// 16 × 8 output tiles a thread: a 256 × 512 product is 1,024 tiles, 16 workgroups.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let tiles_n = (info.n + TILE - 1u) / TILE;
    let tiles = ((info.m + TILE_ROWS - 1u) / TILE_ROWS) * tiles_n;
    let sum_threads = select(0u, tiles_n, (info.flags & COLUMN_SUMS) != 0u);
    let per_piece = tiles + sum_threads;
    let pieces = max(1u, (info.k + info.k_piece - 1u) / info.k_piece);
    for (var t = id.x; t < per_piece * pieces; t += groups.x * WORKGROUP_SIZE) {
        let piece = t / per_piece;
        let u = t % per_piece;
        let k0 = piece * info.k_piece;
        let k1 = min(k0 + info.k_piece, info.k);
        if (u >= tiles) {
            column_sums((u - tiles) * TILE, k0, k1, piece * info.n);
        } else {
            tile((u / tiles_n) * TILE_ROWS, (u % tiles_n) * TILE, k0, k1, piece * info.m * info.n);
        }
    }
}

// The 16 × 8 tile of C from (row0, col0), summed over k0..k1 (and the second product, in the
// first piece), written from c[out]. Rows and columns past the edge read the last one again
// (kept in bounds) and are never written.
fn tile(row0: u32, col0: u32, k0: u32, k1: u32, out: u32) {
    let last_row = info.m - 1u;
    let last_col = info.n - 1u;
    let a0 = min(row0 + 0u, last_row) * info.a_row;
    let a1 = min(row0 + 1u, last_row) * info.a_row;
    let a2 = min(row0 + 2u, last_row) * info.a_row;
    let a3 = min(row0 + 3u, last_row) * info.a_row;
    let a4 = min(row0 + 4u, last_row) * info.a_row;
    let a5 = min(row0 + 5u, last_row) * info.a_row;
    let a6 = min(row0 + 6u, last_row) * info.a_row;
    let a7 = min(row0 + 7u, last_row) * info.a_row;
    let a8 = min(row0 + 8u, last_row) * info.a_row;
    let a9 = min(row0 + 9u, last_row) * info.a_row;
    let a10 = min(row0 + 10u, last_row) * info.a_row;
    let a11 = min(row0 + 11u, last_row) * info.a_row;
    let a12 = min(row0 + 12u, last_row) * info.a_row;
    let a13 = min(row0 + 13u, last_row) * info.a_row;
    let a14 = min(row0 + 14u, last_row) * info.a_row;
    let a15 = min(row0 + 15u, last_row) * info.a_row;
    let b0 = min(col0, last_col) * info.b_col;
    let b1 = min(col0 + 1u, last_col) * info.b_col;
    let b2 = min(col0 + 2u, last_col) * info.b_col;
    let b3 = min(col0 + 3u, last_col) * info.b_col;
    let b4 = min(col0 + 4u, last_col) * info.b_col;
    let b5 = min(col0 + 5u, last_col) * info.b_col;
    let b6 = min(col0 + 6u, last_col) * info.b_col;
    let b7 = min(col0 + 7u, last_col) * info.b_col;
    // Row i of the tile is (lo_i, hi_i): columns col0..col0+3 and col0+4..col0+7.
    var lo0 = vec4<f32>(0.0); var hi0 = vec4<f32>(0.0);
    var lo1 = vec4<f32>(0.0); var hi1 = vec4<f32>(0.0);
    var lo2 = vec4<f32>(0.0); var hi2 = vec4<f32>(0.0);
    var lo3 = vec4<f32>(0.0); var hi3 = vec4<f32>(0.0);
    var lo4 = vec4<f32>(0.0); var hi4 = vec4<f32>(0.0);
    var lo5 = vec4<f32>(0.0); var hi5 = vec4<f32>(0.0);
    var lo6 = vec4<f32>(0.0); var hi6 = vec4<f32>(0.0);
    var lo7 = vec4<f32>(0.0); var hi7 = vec4<f32>(0.0);
    var lo8 = vec4<f32>(0.0); var hi8 = vec4<f32>(0.0);
    var lo9 = vec4<f32>(0.0); var hi9 = vec4<f32>(0.0);
    var lo10 = vec4<f32>(0.0); var hi10 = vec4<f32>(0.0);
    var lo11 = vec4<f32>(0.0); var hi11 = vec4<f32>(0.0);
    var lo12 = vec4<f32>(0.0); var hi12 = vec4<f32>(0.0);
    var lo13 = vec4<f32>(0.0); var hi13 = vec4<f32>(0.0);
    var lo14 = vec4<f32>(0.0); var hi14 = vec4<f32>(0.0);
    var lo15 = vec4<f32>(0.0); var hi15 = vec4<f32>(0.0);
    var ap = k0 * info.a_col;
    var bp = k0 * info.b_row;
    for (var p = k0; p < k1; p++) {
        let bl = vec4<f32>(b[bp + b0], b[bp + b1], b[bp + b2], b[bp + b3]);
        let bh = vec4<f32>(b[bp + b4], b[bp + b5], b[bp + b6], b[bp + b7]);
        let x0 = a[a0 + ap]; lo0 += x0 * bl; hi0 += x0 * bh;
        let x1 = a[a1 + ap]; lo1 += x1 * bl; hi1 += x1 * bh;
        let x2 = a[a2 + ap]; lo2 += x2 * bl; hi2 += x2 * bh;
        let x3 = a[a3 + ap]; lo3 += x3 * bl; hi3 += x3 * bh;
        let x4 = a[a4 + ap]; lo4 += x4 * bl; hi4 += x4 * bh;
        let x5 = a[a5 + ap]; lo5 += x5 * bl; hi5 += x5 * bh;
        let x6 = a[a6 + ap]; lo6 += x6 * bl; hi6 += x6 * bh;
        let x7 = a[a7 + ap]; lo7 += x7 * bl; hi7 += x7 * bh;
        let x8 = a[a8 + ap]; lo8 += x8 * bl; hi8 += x8 * bh;
        let x9 = a[a9 + ap]; lo9 += x9 * bl; hi9 += x9 * bh;
        let x10 = a[a10 + ap]; lo10 += x10 * bl; hi10 += x10 * bh;
        let x11 = a[a11 + ap]; lo11 += x11 * bl; hi11 += x11 * bh;
        let x12 = a[a12 + ap]; lo12 += x12 * bl; hi12 += x12 * bh;
        let x13 = a[a13 + ap]; lo13 += x13 * bl; hi13 += x13 * bh;
        let x14 = a[a14 + ap]; lo14 += x14 * bl; hi14 += x14 * bh;
        let x15 = a[a15 + ap]; lo15 += x15 * bl; hi15 += x15 * bh;
        ap += info.a_col;
        bp += info.b_row;
    }
    let s = info.scale;
    lo0 *= s; hi0 *= s;
    lo1 *= s; hi1 *= s;
    lo2 *= s; hi2 *= s;
    lo3 *= s; hi3 *= s;
    lo4 *= s; hi4 *= s;
    lo5 *= s; hi5 *= s;
    lo6 *= s; hi6 *= s;
    lo7 *= s; hi7 *= s;
    lo8 *= s; hi8 *= s;
    lo9 *= s; hi9 *= s;
    lo10 *= s; hi10 *= s;
    lo11 *= s; hi11 *= s;
    lo12 *= s; hi12 *= s;
    lo13 *= s; hi13 *= s;
    lo14 *= s; hi14 *= s;
    lo15 *= s; hi15 *= s;
    // The second product, whole, in the first piece; its scale goes with each value of A2.
    if (out == 0u && info.k2 > 0u) {
        let c0 = min(row0 + 0u, last_row) * info.a2_row;
        let c1 = min(row0 + 1u, last_row) * info.a2_row;
        let c2 = min(row0 + 2u, last_row) * info.a2_row;
        let c3 = min(row0 + 3u, last_row) * info.a2_row;
        let c4 = min(row0 + 4u, last_row) * info.a2_row;
        let c5 = min(row0 + 5u, last_row) * info.a2_row;
        let c6 = min(row0 + 6u, last_row) * info.a2_row;
        let c7 = min(row0 + 7u, last_row) * info.a2_row;
        let c8 = min(row0 + 8u, last_row) * info.a2_row;
        let c9 = min(row0 + 9u, last_row) * info.a2_row;
        let c10 = min(row0 + 10u, last_row) * info.a2_row;
        let c11 = min(row0 + 11u, last_row) * info.a2_row;
        let c12 = min(row0 + 12u, last_row) * info.a2_row;
        let c13 = min(row0 + 13u, last_row) * info.a2_row;
        let c14 = min(row0 + 14u, last_row) * info.a2_row;
        let c15 = min(row0 + 15u, last_row) * info.a2_row;
        let d0 = min(col0, last_col) * info.b2_col;
        let d1 = min(col0 + 1u, last_col) * info.b2_col;
        let d2 = min(col0 + 2u, last_col) * info.b2_col;
        let d3 = min(col0 + 3u, last_col) * info.b2_col;
        let d4 = min(col0 + 4u, last_col) * info.b2_col;
        let d5 = min(col0 + 5u, last_col) * info.b2_col;
        let d6 = min(col0 + 6u, last_col) * info.b2_col;
        let d7 = min(col0 + 7u, last_col) * info.b2_col;
        let s2 = info.scale2;
        var cp = 0u;
        var dp = 0u;
        for (var p = 0u; p < info.k2; p++) {
            let bl = vec4<f32>(b_second[dp + d0], b_second[dp + d1], b_second[dp + d2], b_second[dp + d3]);
            let bh = vec4<f32>(b_second[dp + d4], b_second[dp + d5], b_second[dp + d6], b_second[dp + d7]);
            let x0 = a_second[c0 + cp] * s2; lo0 += x0 * bl; hi0 += x0 * bh;
            let x1 = a_second[c1 + cp] * s2; lo1 += x1 * bl; hi1 += x1 * bh;
            let x2 = a_second[c2 + cp] * s2; lo2 += x2 * bl; hi2 += x2 * bh;
            let x3 = a_second[c3 + cp] * s2; lo3 += x3 * bl; hi3 += x3 * bh;
            let x4 = a_second[c4 + cp] * s2; lo4 += x4 * bl; hi4 += x4 * bh;
            let x5 = a_second[c5 + cp] * s2; lo5 += x5 * bl; hi5 += x5 * bh;
            let x6 = a_second[c6 + cp] * s2; lo6 += x6 * bl; hi6 += x6 * bh;
            let x7 = a_second[c7 + cp] * s2; lo7 += x7 * bl; hi7 += x7 * bh;
            let x8 = a_second[c8 + cp] * s2; lo8 += x8 * bl; hi8 += x8 * bh;
            let x9 = a_second[c9 + cp] * s2; lo9 += x9 * bl; hi9 += x9 * bh;
            let x10 = a_second[c10 + cp] * s2; lo10 += x10 * bl; hi10 += x10 * bh;
            let x11 = a_second[c11 + cp] * s2; lo11 += x11 * bl; hi11 += x11 * bh;
            let x12 = a_second[c12 + cp] * s2; lo12 += x12 * bl; hi12 += x12 * bh;
            let x13 = a_second[c13 + cp] * s2; lo13 += x13 * bl; hi13 += x13 * bh;
            let x14 = a_second[c14 + cp] * s2; lo14 += x14 * bl; hi14 += x14 * bh;
            let x15 = a_second[c15 + cp] * s2; lo15 += x15 * bl; hi15 += x15 * bh;
            cp += info.a2_col;
            dp += info.b2_row;
        }
    }
    // Stored in a loop: sixteen calls written out, each inlined with its own copy of the
    // store, took SwiftShader two to three times as long to compile.
    let rows = array<vec4<f32>, 32>(
        lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3, lo4, hi4, lo5, hi5, lo6, hi6, lo7, hi7,
        lo8, hi8, lo9, hi9, lo10, hi10, lo11, hi11, lo12, hi12, lo13, hi13, lo14, hi14, lo15, hi15,
    );
    for (var i = 0u; i < TILE_ROWS; i++) {
        store_row(row0 + i, col0, rows[2u * i], rows[2u * i + 1u], out);
    }
    if ((info.flags & (GELU | GELU_GRADIENT)) != 0u) {
        activate(row0, col0);
    }
}

// GELU's step on the tile of C just stored (a whole product, so from c[0]). Kept out of
// store_row: when its calls were written out, each carried a copy of it, and every product,
// GELU or not, then ran 1.1× slower on SwiftShader.
fn activate(row0: u32, col0: u32) {
    let rows = min(TILE_ROWS, info.m - row0);
    let cols = min(TILE, info.n - col0);
    for (var i = 0u; i < rows; i++) {
        for (var j = 0u; j < cols; j++) {
            let at = (row0 + i) * info.n + col0 + j;
            let value = c[at];
            if ((info.flags & GELU) != 0u) {
                sums[at] = value;
                c[at] = value * normal_cdf(value);
            } else {
                c[at] = value * gelu_derivative(residual[at]);
            }
        }
    }
}

// C[row, col0..col0+8] = (lo, hi) [+ bias] [+ R], the columns past n left alone.
fn store_row(row: u32, col0: u32, lo: vec4<f32>, hi: vec4<f32>, out: u32) {
    if (row >= info.m) {
        return;
    }
    let at = out + row * info.n + col0;
    for (var j = 0u; j < TILE; j++) {
        if (col0 + j < info.n) {
            var value = select(hi[j % 4u], lo[j % 4u], j < 4u);
            if ((info.flags & ADD_BIAS) != 0u) {
                value += bias[col0 + j];
            }
            if ((info.flags & ADD_RESIDUAL) != 0u) {
                value += residual[row * info.n + col0 + j];
            }
            c[at + j] = value;
        }
    }
}

// sums[out + j] = Σ_{p in k0..k1} B(p, j) for the eight columns from col0.
fn column_sums(col0: u32, k0: u32, k1: u32, out: u32) {
    for (var j = col0; j < min(col0 + TILE, info.n); j++) {
        var total = 0.0;
        for (var p = k0; p < k1; p++) {
            total += b[p * info.b_row + j * info.b_col];
        }
        sums[out + j] = total;
    }
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
