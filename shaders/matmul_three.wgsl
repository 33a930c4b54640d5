// Three matrix products that share an operand, in one dispatch. A block's q, k and v are three
// projections of one input n, so each way their products share one side:
//   forward           C_s = A · B_s + bias_s        (A = n, B_s = W_s)
//   weights' gradient  C_s = A · B_s, B_s's column sums    (A = nᵀ, B_s = dy_s; the sums are b_s's)
//   input's gradient   C = A_0 · B_0 + A_1 · B_1 + A_2 · B_2      (A_s = dy_s, B_s = W_sᵀ)
// for s = 0, 1, 2 (q, k, v). Each is one dispatch here where it was three of matmul.wgsl: the
// first two write the three C_s side by side (SIDE_BY_SIDE), the third sums into one C.
//
// The arithmetic is matmul.wgsl's register kernel: a thread keeps a 16 × 8 tile of C in
// thirty-two vec4s, with no workgroup memory and no barriers, as software WebGPU runs fastest.
// WGSL cannot index bindings, so the loop along k is written out once per binding of B, and a
// thread runs those of its products (one side by side, all three summed). On a hardware GPU the
// host runs matmul_tiled.wgsl three times instead: this kernel stages nothing in workgroup
// memory.
//
// Every operand is read through row and column strides (a transposed one needs no copy). The
// A_s lie in one buffer, a_seg values apart; the C_s are written to one buffer, c_seg values
// apart (the host keeps both multiples of 64, so each C_s can be bound alone as a view).
//
// Bindings: 0 a, 1–3 b_0, b_1, b_2, 4–6 e_0, e_1, e_2: each product's bias (added, ADD_BIAS), or
// where its B's column sums go (COLUMN_SUMS), or one-value stand-ins; 7 c; 8 the uniform below:
// eight storage buffers, WebGPU's default limit. Threads past a product's last tile each take
// eight of its B's column sums.

struct Info {
    m: u32,
    n: u32,
    k: u32,
    a_row: u32, // A_s(i, p) = a[s · a_seg + i · a_row + p · a_col]
    a_col: u32,
    a_seg: u32,
    b_row: u32, // B_s(p, j) = b_s[p · b_row + j · b_col]
    b_col: u32,
    c_seg: u32, // C_s(i, j) = c[s · c_seg + i · n + j]
    flags: u32, // SIDE_BY_SIDE | ADD_BIAS | COLUMN_SUMS
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b0: array<f32>;
@group(0) @binding(2) var<storage, read_write> b1: array<f32>;
@group(0) @binding(3) var<storage, read_write> b2: array<f32>;
@group(0) @binding(4) var<storage, read_write> e0: array<f32>;
@group(0) @binding(5) var<storage, read_write> e1: array<f32>;
@group(0) @binding(6) var<storage, read_write> e2: array<f32>;
@group(0) @binding(7) var<storage, read_write> c: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const SIDE_BY_SIDE: u32 = 1u;
const ADD_BIAS: u32 = 2u;
const COLUMN_SUMS: u32 = 4u;
const PRODUCTS: u32 = 3u;
const TILE: u32 = 8u;
// Rows of C a thread's tile spans (TILE columns), as in matmul.wgsl.
const TILE_ROWS: u32 = 16u;
const_assert TILE == 8u && TILE_ROWS == 16u; // tile() writes out 16 rows of two vec4s

const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let tiles_n = (info.n + TILE - 1u) / TILE;
    let tiles = ((info.m + TILE_ROWS - 1u) / TILE_ROWS) * tiles_n;
    let side_by_side = (info.flags & SIDE_BY_SIDE) != 0u;
    let sum_threads = select(0u, tiles_n, (info.flags & COLUMN_SUMS) != 0u);
    let per_product = tiles + sum_threads;
    let threads = select(tiles, PRODUCTS * per_product, side_by_side);
    for (var t = id.x; t < threads; t += groups.x * WORKGROUP_SIZE) {
        let s = t / per_product;
        let u = t % per_product;
        if (u >= tiles) {
            column_sums(s, (u - tiles) * TILE);
        } else if (side_by_side) {
            tile(s, s + 1u, (u / tiles_n) * TILE_ROWS, (u % tiles_n) * TILE, s * info.c_seg);
        } else {
            tile(0u, PRODUCTS, (u / tiles_n) * TILE_ROWS, (u % tiles_n) * TILE, 0u);
        }
    }
}

// The 16 × 8 tile of C from (row0, col0): Σ over products s0..s1 of A_s · B_s, written from
// c[out]. Rows and columns past the edge read the last one again (kept in bounds) and are never
// written.
fn tile(s0: u32, s1: u32, row0: u32, col0: u32, out: u32) {
    let last_row = info.m - 1u;
    let last_col = info.n - 1u;
    let a0 = min(row0, last_row) * info.a_row;
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
    let cols = vec4<u32>(col0, col0 + 1u, col0 + 2u, col0 + 3u);
    let lo = min(cols, vec4(last_col)) * info.b_col;
    let hi = min(cols + 4u, vec4(last_col)) * info.b_col;
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
    // The same loop three times, once per binding of B: a switch inside one loop, picking B's
    // binding at every step, slowed SwiftShader's whole training step by a tenth.
    if (s0 == 0u) {
        var ap = 0u;
        for (var bp = 0u; bp < info.k * info.b_row; bp += info.b_row) {
            let bl = vec4(b0[bp + lo.x], b0[bp + lo.y], b0[bp + lo.z], b0[bp + lo.w]);
            let bh = vec4(b0[bp + hi.x], b0[bp + hi.y], b0[bp + hi.z], b0[bp + hi.w]);
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
        }
    }
    if (s0 <= 1u && s1 >= 2u) {
        var ap = info.a_seg;
        for (var bp = 0u; bp < info.k * info.b_row; bp += info.b_row) {
            let bl = vec4(b1[bp + lo.x], b1[bp + lo.y], b1[bp + lo.z], b1[bp + lo.w]);
            let bh = vec4(b1[bp + hi.x], b1[bp + hi.y], b1[bp + hi.z], b1[bp + hi.w]);
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
        }
    }
    if (s1 == PRODUCTS) {
        var ap = 2u * info.a_seg;
        for (var bp = 0u; bp < info.k * info.b_row; bp += info.b_row) {
            let bl = vec4(b2[bp + lo.x], b2[bp + lo.y], b2[bp + lo.z], b2[bp + lo.w]);
            let bh = vec4(b2[bp + hi.x], b2[bp + hi.y], b2[bp + hi.z], b2[bp + hi.w]);
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
        }
    }
    // Stored in a loop: sixteen calls written out, each inlined with its own copy of the
    // store, took SwiftShader two to three times as long to compile.
    let rows = array<vec4<f32>, 32>(
        lo0, hi0, lo1, hi1, lo2, hi2, lo3, hi3, lo4, hi4, lo5, hi5, lo6, hi6, lo7, hi7,
        lo8, hi8, lo9, hi9, lo10, hi10, lo11, hi11, lo12, hi12, lo13, hi13, lo14, hi14, lo15, hi15,
    );
    for (var i = 0u; i < TILE_ROWS; i++) {
        store_row(s0, row0 + i, col0, rows[2u * i], rows[2u * i + 1u], out);
    }
}

// C[row, col0..col0+8] = (lo, hi) [+ product s's bias], the columns past n left alone.
fn store_row(s: u32, row: u32, col0: u32, lo: vec4<f32>, hi: vec4<f32>, out: u32) {
    if (row >= info.m) {
        return;
    }
    let at = out + row * info.n + col0;
    for (var j = 0u; j < TILE; j++) {
        if (col0 + j < info.n) {
            var value = select(hi[j % 4u], lo[j % 4u], j < 4u);
            if ((info.flags & ADD_BIAS) != 0u) {
                value += extra(s, col0 + j);
            }
            c[at + j] = value;
        }
    }
}

// e_s[j]: product s's bias.
fn extra(s: u32, j: u32) -> f32 {
    switch s {
        case 0u: { return e0[j]; }
        case 1u: { return e1[j]; }
        default: { return e2[j]; }
    }
}

// e_s[j] = Σ_p B_s(p, j) for the eight columns from col0.
fn column_sums(s: u32, col0: u32) {
    for (var j = col0; j < min(col0 + TILE, info.n); j++) {
        var total = 0.0;
        for (var p = 0u; p < info.k; p++) {
            total += b_at(s, p * info.b_row + j * info.b_col);
        }
        switch s {
            case 0u: { e0[j] = total; }
            case 1u: { e1[j] = total; }
            default: { e2[j] = total; }
        }
    }
}

fn b_at(s: u32, at: u32) -> f32 {
    switch s {
        case 0u: { return b0[at]; }
        case 1u: { return b1[at]; }
        default: { return b2[at]; }
    }
}
