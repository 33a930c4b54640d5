// LoRA adapters folded into their frozen bases, so that a block's q, k and v run as one
// operation (matmul_three.wgsl) when some of them carry an adapter (Hu et al. 2021):
//   y = x W + b + s · (x A) B = x (W + s · A B) + b
// For each adapted layer l of a dispatch (one or two), in the buffer `out`:
//   FOLD        W'_l = W_l + s_l · A_l B_l       (d_in × d_out), or with WITH_A
//               W'_l = [W_l + s_l · A_l B_l | A_l]  (d_in × (d_out + r)): its product with x
//               also gives x A_l, in its last r columns, which B's gradient needs;
//   GRADIENT    u_l = s_l · dy_l B_lᵀ            (rows × r): the gradient of x A_l, which A's
//               gradient needs (lora_gradients.wgsl).
// The forward pass folds with A (one dispatch before the three products); the backward pass
// folds again (the input's gradient is Σ dy W'ᵀ) and takes u in the same dispatch, so nothing
// d_in × d_out in size is kept between the two. Each thread takes a 4 × 4 tile of W' or of u,
// its rows as four vec4s and its columns as their lanes: eight values read from memory for
// sixteen multiply-adds, where one value a thread read two for one (software WebGPU pays for
// every value it loads).
//
// Bindings: 0–1 w_0, w_1 (d_in × d_out), 2–3 a_0, a_1 (d_in × r), 4–5 b_0, b_1 (r × d_out): the
// layers' own tensors, a one-value stand-in where a dispatch folds one layer; 6 dy (the three
// dy_s of q, k and v, each rows × d_out, layer l's from dy_at_l; a stand-in without GRADIENT);
// 7 out (W'_l from l · w_seg, u_l from u_at + l · u_seg); 8 the uniform below. Eight storage
// buffers, WebGPU's default limit: hence two layers a dispatch.

struct Info {
    d_in: u32,
    d_out: u32,
    rank: u32,
    rows: u32,
    layers: u32, // 1 or LAYERS
    flags: u32,  // FOLD | WITH_A | GRADIENT
    w_seg: u32,
    u_at: u32,
    u_seg: u32,
    dy_at_0: u32,
    dy_at_1: u32,
    scale_0: f32,
    scale_1: f32,
}

@group(0) @binding(0) var<storage, read_write> w_0: array<f32>;
@group(0) @binding(1) var<storage, read_write> w_1: array<f32>;
@group(0) @binding(2) var<storage, read_write> a_0: array<f32>;
@group(0) @binding(3) var<storage, read_write> a_1: array<f32>;
@group(0) @binding(4) var<storage, read_write> b_0: array<f32>;
@group(0) @binding(5) var<storage, read_write> b_1: array<f32>;
@group(0) @binding(6) var<storage, read_write> dy: array<f32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const FOLD: u32 = 1u;
const WITH_A: u32 = 2u;
const GRADIENT: u32 = 4u;
// Adapted layers a dispatch can bind.
const LAYERS: u32 = 2u;
// The side of a thread's tile, the lanes of a vec4.
const TILE: u32 = 4u;
const_assert TILE == 4u; // the tiles are written out as four vec4s

const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let width = info.d_out + select(0u, info.rank, (info.flags & WITH_A) != 0u);
    let fold_n = (width + TILE - 1u) / TILE;
    let u_n = (info.rank + TILE - 1u) / TILE;
    let folds = select(0u, ((info.d_in + TILE - 1u) / TILE) * fold_n, (info.flags & FOLD) != 0u);
    let us = select(0u, ((info.rows + TILE - 1u) / TILE) * u_n, (info.flags & GRADIENT) != 0u);
    let per_layer = folds + us;
    for (var t = id.x; t < info.layers * per_layer; t += groups.x * WORKGROUP_SIZE) {
        let l = t / per_layer;
        let e = t % per_layer;
        if (e < folds) {
            fold(l, (e / fold_n) * TILE, (e % fold_n) * TILE, width);
        } else {
            u(l, ((e - folds) / u_n) * TILE, ((e - folds) % u_n) * TILE);
        }
    }
}

const LANES = vec4(0u, 1u, 2u, 3u);

// W'_l(i, j) for the tile from (i0, j0): the base plus the adapter's product, or A_l(i, j − d_out)
// past d_out. Rows and columns past an edge read the last one again and are not written.
fn fold(l: u32, i0: u32, j0: u32, width: u32) {
    let r = info.rank;
    let d = info.d_out;
    let ai = min(vec4(i0) + LANES, vec4(info.d_in - 1u)) * r;
    let bj = min(vec4(j0) + LANES, vec4(d - 1u));
    var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
    for (var p = 0u; p < r; p++) {
        let bv = b4(l, bj + p * d);
        let av = a4(l, ai + p);
        s0 += av.x * bv;
        s1 += av.y * bv;
        s2 += av.z * bv;
        s3 += av.w * bv;
    }
    let scale = select(info.scale_0, info.scale_1, l == 1u);
    let at = l * info.w_seg;
    for (var ii = 0u; ii < TILE; ii++) {
        let i = i0 + ii;
        if (i < info.d_in) {
            let s = pick(ii, s0, s1, s2, s3);
            for (var jj = 0u; jj < TILE; jj++) {
                let j = j0 + jj;
                if (j < d) {
                    out[at + i * width + j] = w(l, i * d + j) + scale * s[jj];
                } else if (j < width) {
                    out[at + i * width + j] = a(l, i * r + j - d);
                }
            }
        }
    }
}

// u_l(row, p) = s_l · Σ_j dy_l(row, j) B_l(p, j) for the tile from (row0, p0).
fn u(l: u32, row0: u32, p0: u32) {
    let r = info.rank;
    let d = info.d_out;
    let dy_at = select(info.dy_at_0, info.dy_at_1, l == 1u);
    let dr = dy_at + min(vec4(row0) + LANES, vec4(info.rows - 1u)) * d;
    let bp = min(vec4(p0) + LANES, vec4(r - 1u)) * d;
    var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
    for (var j = 0u; j < d; j++) {
        let bv = b4(l, bp + j);
        s0 += dy[dr.x + j] * bv;
        s1 += dy[dr.y + j] * bv;
        s2 += dy[dr.z + j] * bv;
        s3 += dy[dr.w + j] * bv;
    }
    let scale = select(info.scale_0, info.scale_1, l == 1u);
    let at = info.u_at + l * info.u_seg;
    for (var ii = 0u; ii < TILE; ii++) {
        let row = row0 + ii;
        if (row < info.rows) {
            let s = pick(ii, s0, s1, s2, s3);
            for (var pp = 0u; pp < TILE; pp++) {
                if (p0 + pp < r) {
                    out[at + row * r + p0 + pp] = scale * s[pp];
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

fn w(l: u32, at: u32) -> f32 {
    if (l == 0u) {
        return w_0[at];
    }
    return w_1[at];
}

fn a(l: u32, at: u32) -> f32 {
    if (l == 0u) {
        return a_0[at];
    }
    return a_1[at];
}

// Layer l's A or B at four places.
fn a4(l: u32, at: vec4<u32>) -> vec4<f32> {
    if (l == 0u) {
        return vec4(a_0[at.x], a_0[at.y], a_0[at.z], a_0[at.w]);
    }
    return vec4(a_1[at.x], a_1[at.y], a_1[at.z], a_1[at.w]);
}

fn b4(l: u32, at: vec4<u32>) -> vec4<f32> {
    if (l == 0u) {
        return vec4(b_0[at.x], b_0[at.y], b_0[at.z], b_0[at.w]);
    }
    return vec4(b_1[at.x], b_1[at.y], b_1[at.z], b_1[at.w]);
}
