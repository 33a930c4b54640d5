// The products of LoRA adapters (Hu et al. 2021) on layers that read one input x (a block's q, k
// and v), one dispatch for all the adapters where each layer took one of its own:
//   forward   x A_s                              (A = x for every s, B_s = A_s)
//   backward  d(x A)_s = scale_s · dy_s B_sᵀ     (A_s = dy_s, B_s = B_sᵀ)
//             and in the same dispatch, as a second job, dB_s = scale_s · (x A_s)ᵀ dy_s
//             (A2_s = (x A_s)ᵀ, B2_s = dy_s); then
//             dA_s = xᵀ d(x A)_s                 (A = xᵀ, B_s = d(x A)_s)
// each C_s (m × n) = scale_s · A_s (m × k) · B_s (k × n), for s below `products` (up to three).
// The second job's products D_s (m2 × n2) = scale_s · A2_s (m2 × k2) · B2_s read their B2_s from
// the first job's A buffer (both read dy, and WebGPU binds a writable buffer once a dispatch);
// m2 = 0 runs none.
//
// One side of every such product is the rank r, a few rows or columns, so a thread computes a
// 4 × 4 tile: 16 multiply-adds for 8 loads at each step along k. matmul_three.wgsl runs
// products side by side too, with 16 × 8 tiles (half of each empty at r = 4) and a loop written
// out for each of three bindings of 16 rows, which SwiftShader takes 0.6 s to compile: a
// reader's first adapter step waited for that, where this kernel compiles in a fraction of it.
//
// Every operand is read through row and column strides (a transposed one needs no copy). The A_s
// lie in one buffer, a_seg values apart (0: one A for all), as do the A2_s and the B2_s; the C_s
// and D_s are written to one buffer each, c_seg and c2_seg values apart (the host keeps those
// multiples of 64, so each can be bound as a view).
//
// Bindings: 0 a, 1–3 b_0, b_1, b_2 (one-value stand-ins past `products`), 4 c, 5 a2, 6 c2
// (stand-ins without a second job), 7 the uniform below. WGSL cannot index bindings, so the loop
// along k is written out once per binding of B. Workgroup: WORKGROUP_SIZE threads, one tile
// each; threads stride past the grid limit.

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
    products: u32,
    scale0: f32,
    scale1: f32,
    scale2: f32,
    m2: u32,
    n2: u32,
    k2: u32,
    a2_row: u32, // A2_s(i, p) = a2[s · a2_seg + i · a2_row + p · a2_col]
    a2_col: u32,
    a2_seg: u32,
    b2_row: u32, // B2_s(p, j) = a[s · b2_seg + p · b2_row + j · b2_col]
    b2_col: u32,
    b2_seg: u32,
    c2_seg: u32, // D_s(i, j) = c2[s · c2_seg + i · n2 + j]
}

@group(0) @binding(0) var<storage, read_write> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> b0: array<f32>;
@group(0) @binding(2) var<storage, read_write> b1: array<f32>;
@group(0) @binding(3) var<storage, read_write> b2: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<storage, read_write> a2: array<f32>;
@group(0) @binding(6) var<storage, read_write> c2: array<f32>;
@group(0) @binding(7) var<uniform> info: Info;

const PRODUCTS: u32 = 3u;
const TILE: u32 = 4u;

// Products of a few thousand tiles at most: 256 rows by rank 4 is 64 tiles a product.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let tiles_n = (info.n + TILE - 1u) / TILE;
    let tiles = ((info.m + TILE - 1u) / TILE) * tiles_n;
    let tiles2_n = (info.n2 + TILE - 1u) / TILE;
    let tiles2 = ((info.m2 + TILE - 1u) / TILE) * tiles2_n;
    let first = info.products * tiles;
    for (var t = id.x; t < first + info.products * tiles2; t += groups.x * WORKGROUP_SIZE) {
        if (t < first) {
            let u = t % tiles;
            tile(t / tiles, (u / tiles_n) * TILE, (u % tiles_n) * TILE);
        } else {
            let u = (t - first) % tiles2;
            second_tile((t - first) / tiles2, (u / tiles2_n) * TILE, (u % tiles2_n) * TILE);
        }
    }
}

fn scale(s: u32) -> f32 {
    return array<f32, PRODUCTS>(info.scale0, info.scale1, info.scale2)[s];
}

// The 4 × 4 tile of C_s from (row0, col0). Rows and columns past the edge read the last one
// again (kept in bounds) and are never written.
fn tile(s: u32, row0: u32, col0: u32) {
    let last_row = info.m - 1u;
    let rows = min(vec4(row0) + vec4(0u, 1u, 2u, 3u), vec4(last_row)) * info.a_row + s * info.a_seg;
    let cols = min(vec4(col0) + vec4(0u, 1u, 2u, 3u), vec4(info.n - 1u)) * info.b_col;
    var c0 = vec4<f32>(0.0);
    var c1 = vec4<f32>(0.0);
    var c2 = vec4<f32>(0.0);
    var c3 = vec4<f32>(0.0);
    var ap = 0u;
    var bp = 0u;
    switch s {
        case 0u: {
            for (var p = 0u; p < info.k; p++) {
                let bv = vec4(b0[bp + cols.x], b0[bp + cols.y], b0[bp + cols.z], b0[bp + cols.w]);
                c0 += a[rows.x + ap] * bv;
                c1 += a[rows.y + ap] * bv;
                c2 += a[rows.z + ap] * bv;
                c3 += a[rows.w + ap] * bv;
                ap += info.a_col;
                bp += info.b_row;
            }
        }
        case 1u: {
            for (var p = 0u; p < info.k; p++) {
                let bv = vec4(b1[bp + cols.x], b1[bp + cols.y], b1[bp + cols.z], b1[bp + cols.w]);
                c0 += a[rows.x + ap] * bv;
                c1 += a[rows.y + ap] * bv;
                c2 += a[rows.z + ap] * bv;
                c3 += a[rows.w + ap] * bv;
                ap += info.a_col;
                bp += info.b_row;
            }
        }
        default: {
            for (var p = 0u; p < info.k; p++) {
                let bv = vec4(b2[bp + cols.x], b2[bp + cols.y], b2[bp + cols.z], b2[bp + cols.w]);
                c0 += a[rows.x + ap] * bv;
                c1 += a[rows.y + ap] * bv;
                c2 += a[rows.z + ap] * bv;
                c3 += a[rows.w + ap] * bv;
                ap += info.a_col;
                bp += info.b_row;
            }
        }
    }
    let values = array<vec4<f32>, TILE>(c0, c1, c2, c3);
    for (var i = 0u; i < min(TILE, info.m - row0); i++) {
        let at = s * info.c_seg + (row0 + i) * info.n + col0;
        for (var j = 0u; j < min(TILE, info.n - col0); j++) {
            c[at + j] = scale(s) * values[i][j];
        }
    }
}

// The 4 × 4 tile of D_s from (row0, col0), as `tile` does C_s's.
fn second_tile(s: u32, row0: u32, col0: u32) {
    let rows = min(vec4(row0) + vec4(0u, 1u, 2u, 3u), vec4(info.m2 - 1u)) * info.a2_row + s * info.a2_seg;
    let cols = min(vec4(col0) + vec4(0u, 1u, 2u, 3u), vec4(info.n2 - 1u)) * info.b2_col + s * info.b2_seg;
    var d0 = vec4<f32>(0.0);
    var d1 = vec4<f32>(0.0);
    var d2 = vec4<f32>(0.0);
    var d3 = vec4<f32>(0.0);
    var ap = 0u;
    var bp = 0u;
    for (var p = 0u; p < info.k2; p++) {
        let bv = vec4(a[bp + cols.x], a[bp + cols.y], a[bp + cols.z], a[bp + cols.w]);
        d0 += a2[rows.x + ap] * bv;
        d1 += a2[rows.y + ap] * bv;
        d2 += a2[rows.z + ap] * bv;
        d3 += a2[rows.w + ap] * bv;
        ap += info.a2_col;
        bp += info.b2_row;
    }
    let values = array<vec4<f32>, TILE>(d0, d1, d2, d3);
    for (var i = 0u; i < min(TILE, info.m2 - row0); i++) {
        let at = s * info.c2_seg + (row0 + i) * info.n2 + col0;
        for (var j = 0u; j < min(TILE, info.n2 - col0); j++) {
            c2[at + j] = scale(s) * values[i][j];
        }
    }
}
