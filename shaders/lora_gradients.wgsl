// The adapters' own gradients where a block's q, k and v run as one operation with some of
// them adapted (lora_fold.wgsl, matmul_three.wgsl), for each adapted layer l:
//   dA_l = xᵀ u_l               (d_in × r)     u_l = s_l · dy_l B_lᵀ, from lora_fold.wgsl
//   dB_l = s_l · (x A_l)ᵀ dy_l   (r × d_out)    x A_l, kept from the forward pass
// all of them in one dispatch, where each was a product of matmul.wgsl's. Each thread sums a
// 4 × 4 tile of one output over the rows of the batch, its rows as the four vec4s and its
// columns as their lanes: eight values read from memory for sixteen multiply-adds, where one
// output a thread read two for one (software WebGPU pays for every value it loads).
//
// Bindings: 0 x (rows × d_in), 1 u (layer l's from l · u_seg, rows × r each), 2 low (x A_l from
// l · low_seg), 3 dy (the three dy_s of q, k and v, layer l's from its dy_at), 4 out (dA_l from
// l · 2 · out_seg, dB_l out_seg after it), 5 the uniform below.

struct Info {
    rows: u32,
    d_in: u32,
    d_out: u32,
    rank: u32,
    layers: u32, // up to three
    u_seg: u32,
    low_seg: u32,
    out_seg: u32,
    dy_at_0: u32,
    dy_at_1: u32,
    dy_at_2: u32,
    scale_0: f32,
    scale_1: f32,
    scale_2: f32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<storage, read_write> low: array<f32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

// The side of a thread's tile, the lanes of a vec4.
const TILE: u32 = 4u;
const_assert TILE == 4u; // the tiles are written out as four vec4s

const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r_tiles = (info.rank + TILE - 1u) / TILE;
    let da_tiles = ((info.d_in + TILE - 1u) / TILE) * r_tiles;
    let db_tiles = r_tiles * ((info.d_out + TILE - 1u) / TILE);
    let per_layer = da_tiles + db_tiles;
    for (var t = id.x; t < info.layers * per_layer; t += groups.x * WORKGROUP_SIZE) {
        let l = t / per_layer;
        let e = t % per_layer;
        if (e < da_tiles) {
            d_a(l, (e / r_tiles) * TILE, (e % r_tiles) * TILE);
        } else {
            let f = e - da_tiles;
            let tiles_n = (info.d_out + TILE - 1u) / TILE;
            d_b(l, (f / tiles_n) * TILE, (f % tiles_n) * TILE);
        }
    }
}

// dA_l(i, p) = Σ_row x(row, i) u_l(row, p) for i from i0, p from p0: columns past an edge
// read the last one again and are not written.
fn d_a(l: u32, i0: u32, p0: u32) {
    let r = info.rank;
    let xi = min(vec4(i0) + vec4(0u, 1u, 2u, 3u), vec4(info.d_in - 1u));
    let up = l * info.u_seg + min(vec4(p0) + vec4(0u, 1u, 2u, 3u), vec4(r - 1u));
    var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
    for (var row = 0u; row < info.rows; row++) {
        let xs = row * info.d_in;
        let us = row * r;
        let v = vec4(u[us + up.x], u[us + up.y], u[us + up.z], u[us + up.w]);
        s0 += x[xs + xi.x] * v;
        s1 += x[xs + xi.y] * v;
        s2 += x[xs + xi.z] * v;
        s3 += x[xs + xi.w] * v;
    }
    let at = 2u * l * info.out_seg;
    store(at, i0, p0, info.d_in, r, s0, s1, s2, s3, 1.0);
}

// dB_l(p, j) = s_l · Σ_row (x A_l)(row, p) dy_l(row, j) for p from p0, j from j0.
fn d_b(l: u32, p0: u32, j0: u32) {
    var dy_at = info.dy_at_0;
    var scale = info.scale_0;
    if (l == 1u) {
        dy_at = info.dy_at_1;
        scale = info.scale_1;
    } else if (l == 2u) {
        dy_at = info.dy_at_2;
        scale = info.scale_2;
    }
    let r = info.rank;
    let d = info.d_out;
    let lp = l * info.low_seg + min(vec4(p0) + vec4(0u, 1u, 2u, 3u), vec4(r - 1u));
    let dj = dy_at + min(vec4(j0) + vec4(0u, 1u, 2u, 3u), vec4(d - 1u));
    var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
    for (var row = 0u; row < info.rows; row++) {
        let ls = row * r;
        let ds = row * d;
        let v = vec4(dy[ds + dj.x], dy[ds + dj.y], dy[ds + dj.z], dy[ds + dj.w]);
        s0 += low[ls + lp.x] * v;
        s1 += low[ls + lp.y] * v;
        s2 += low[ls + lp.z] * v;
        s3 += low[ls + lp.w] * v;
    }
    let at = (2u * l + 1u) * info.out_seg;
    store(at, p0, j0, r, d, s0, s1, s2, s3, scale);
}

// A 4 × 4 tile from (row0, col0) of an m × n output at out[at..], times `scale`, only what
// lies inside.
fn store(at: u32, row0: u32, col0: u32, m: u32, n: u32, s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>, scale: f32) {
    for (var i = 0u; i < TILE; i++) {
        let row = row0 + i;
        if (row < m) {
            let s = pick(i, s0, s1, s2, s3);
            for (var j = 0u; j < TILE; j++) {
                if (col0 + j < n) {
                    out[at + row * n + col0 + j] = scale * s[j];
                }
            }
        }
    }
}

// Row i of a tile.
fn pick(i: u32, s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>) -> vec4<f32> {
    switch i {
        case 0u: { return s0; }
        case 1u: { return s1; }
        case 2u: { return s2; }
        default: { return s3; }
    }
}
