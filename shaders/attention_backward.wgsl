// Causal self-attention's core, backward (see attention.wgsl for the forward pass and the
// layout). With p_ij = exp(q_i · k_j · scale − lse_i), the softmax the forward pass computed,
// recomputed from its log-sum-exp, and D_i = dy_i · y_i (= Σ_j p_ij · dy_i · v_j):
//   dq_i = scale · Σ_{j ≤ i} p_ij (dy_i · v_j − D_i) k_j     a query row's threads
//   dk_j = scale · Σ_{i ≥ j} p_ij (dy_i · v_j − D_i) q_i     a key row's threads
//   dv_j = Σ_{i ≥ j} p_ij dy_i
// One dispatch: the first half of the threads take query rows, the second half key rows. A key
// row's thread computes each D_i it meets from y_i and dy_i itself (a quarter more loads per
// query) instead of reading it from the query rows' threads, which would need a second dispatch
// after them.
//
// Bindings: 0 q, 1 k, 2 v, 3 y, 4 dy (each B × T × C, as vec4s), 5 lse (B × heads × T),
// 6 grads: dq, dk and dv (each B × T × C) `spacing` vec4s apart in one buffer, 7 the uniform.
// Threads: one for ROWS consecutive rows of one head, as in attention.wgsl, each row read from
// memory serving ROWS rows; a row's vectors live in vec4 arrays (hs ≤ 4 · MAX_H4).

struct Info {
    batch: u32,
    tokens: u32,
    channels: u32,
    heads: u32,
    head_size: u32,
    scale: f32,
    spacing: u32, // vec4s from dq's start to dk's, and from dk's to dv's
}

@group(0) @binding(0) var<storage, read_write> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dy: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> grads: array<vec4<f32>>;
@group(0) @binding(7) var<uniform> info: Info;

// The vec4s of one head a thread keeps in each array: the launch declares it as its heads' hs / 4.
const MAX_H4: u32 = 16u;
// Rows a thread, the lanes of a vec4 (the launch reads it).
const ROWS: u32 = 4u;
const_assert ROWS == 4u; // the rows are written out as a vec4's four lanes

fn sum4(s: vec4<f32>) -> f32 {
    return s.x + s.y + s.z + s.w;
}

// 2 · B · heads · T / ROWS threads: 512 at 4 × 64.
const WORKGROUP_SIZE: u32 = 32u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    // (b, h) pairs times blocks of ROWS rows: the tasks of each half.
    let tasks = info.batch * info.heads * ((info.tokens + ROWS - 1u) / ROWS);
    for (var task = id.x; task < 2u * tasks; task += groups.x * WORKGROUP_SIZE) {
        if task < tasks {
            query_rows(task);
        } else {
            key_rows(task - tasks);
        }
    }
}

// Each thread's rows, one head's vectors each, in arrays both halves share (which half names
// what is said above each): SwiftShader compiles every array of a kernel element by element, and
// the halves' own arrays, 28 in all, took it about a fifth longer to compile than these 16.
var<private> a0: array<vec4<f32>, MAX_H4>;
var<private> a1: array<vec4<f32>, MAX_H4>;
var<private> a2: array<vec4<f32>, MAX_H4>;
var<private> a3: array<vec4<f32>, MAX_H4>;
var<private> b0: array<vec4<f32>, MAX_H4>;
var<private> b1: array<vec4<f32>, MAX_H4>;
var<private> b2: array<vec4<f32>, MAX_H4>;
var<private> b3: array<vec4<f32>, MAX_H4>;
var<private> c0: array<vec4<f32>, MAX_H4>;
var<private> c1: array<vec4<f32>, MAX_H4>;
var<private> c2: array<vec4<f32>, MAX_H4>;
var<private> c3: array<vec4<f32>, MAX_H4>;
var<private> e0: array<vec4<f32>, MAX_H4>;
var<private> e1: array<vec4<f32>, MAX_H4>;
var<private> e2: array<vec4<f32>, MAX_H4>;
var<private> e3: array<vec4<f32>, MAX_H4>;

// dq for rows first .. first + ROWS − 1 of one head: row first + r is lane r of each vec4, with
// q in a<r>, dy in b<r> and dq in c<r>.
fn query_rows(task: u32) {
    let t = info.tokens;
    let h4 = info.head_size / 4u;
    let c4 = info.channels / 4u;
    let sequences = info.batch * info.heads;
    let bh = task % sequences;
    let first = (task / sequences) * ROWS;
    let h = bh % info.heads;
    let b = bh / info.heads;
    let keys = b * t * c4 + h * h4; // key j starts at keys + j · C/4
    let last_key = min(first + ROWS, t) - 1u;
    let lane = first + vec4<u32>(0u, 1u, 2u, 3u);
    let at = keys + min(lane, vec4<u32>(t - 1u)) * c4; // a row past T reads the last, unused
    var d0 = vec4<f32>(0.0);
    var d1 = vec4<f32>(0.0);
    var d2 = vec4<f32>(0.0);
    var d3 = vec4<f32>(0.0);
    for (var d = 0u; d < h4; d++) {
        a0[d] = q[at.x + d];
        a1[d] = q[at.y + d];
        a2[d] = q[at.z + d];
        a3[d] = q[at.w + d];
        b0[d] = dy[at.x + d];
        b1[d] = dy[at.y + d];
        b2[d] = dy[at.z + d];
        b3[d] = dy[at.w + d];
        c0[d] = vec4<f32>(0.0);
        c1[d] = vec4<f32>(0.0);
        c2[d] = vec4<f32>(0.0);
        c3[d] = vec4<f32>(0.0);
        d0 += b0[d] * y[at.x + d];
        d1 += b1[d] * y[at.y + d];
        d2 += b2[d] * y[at.z + d];
        d3 += b3[d] * y[at.w + d];
    }
    let stats = bh * t + min(lane, vec4<u32>(t - 1u));
    let row_delta = vec4<f32>(sum4(d0), sum4(d1), sum4(d2), sum4(d3));
    let row_lse = vec4<f32>(lse[stats.x], lse[stats.y], lse[stats.z], lse[stats.w]);
    for (var j = 0u; j <= last_key; j++) {
        let kj = keys + j * c4;
        var s0 = vec4<f32>(0.0);
        var s1 = vec4<f32>(0.0);
        var s2 = vec4<f32>(0.0);
        var s3 = vec4<f32>(0.0);
        var p0 = vec4<f32>(0.0);
        var p1 = vec4<f32>(0.0);
        var p2 = vec4<f32>(0.0);
        var p3 = vec4<f32>(0.0);
        for (var d = 0u; d < h4; d++) {
            let key = k[kj + d];
            let value = v[kj + d];
            s0 += a0[d] * key;
            s1 += a1[d] * key;
            s2 += a2[d] * key;
            s3 += a3[d] * key;
            p0 += b0[d] * value;
            p1 += b1[d] * value;
            p2 += b2[d] * value;
            p3 += b3[d] * value;
        }
        let score = vec4<f32>(sum4(s0), sum4(s1), sum4(s2), sum4(s3)) * info.scale;
        let dp = vec4<f32>(sum4(p0), sum4(p1), sum4(p2), sum4(p3));
        let ds = select(vec4<f32>(0.0), exp(score - row_lse) * (dp - row_delta), vec4<u32>(j) <= lane);
        for (var d = 0u; d < h4; d++) {
            let key = k[kj + d];
            c0[d] += ds.x * key;
            c1[d] += ds.y * key;
            c2[d] += ds.z * key;
            c3[d] += ds.w * key;
        }
    }
    let rows = min(first + ROWS, t) - first;
    let written = keys + first * c4; // dq's rows, at the start of grads
    for (var d = 0u; d < h4; d++) {
        grads[written + d] = c0[d] * info.scale;
        if rows > 1u { grads[written + c4 + d] = c1[d] * info.scale; }
        if rows > 2u { grads[written + 2u * c4 + d] = c2[d] * info.scale; }
        if rows > 3u { grads[written + 3u * c4 + d] = c3[d] * info.scale; }
    }
}

// dk and dv for key rows first .. first + ROWS − 1 of one head: key row first + r is lane r of
// each vec4, with k in a<r>, v in b<r>, dk in c<r> and dv in e<r>. Neighbouring threads take
// the same rows of different heads and sequences, so they loop over the same number of queries.
fn key_rows(task: u32) {
    let t = info.tokens;
    let h4 = info.head_size / 4u;
    let c4 = info.channels / 4u;
    let sequences = info.batch * info.heads;
    let bh = task % sequences;
    let first = (task / sequences) * ROWS;
    let h = bh % info.heads;
    let b = bh / info.heads;
    let queries = b * t * c4 + h * h4; // query i starts at queries + i · C/4
    let stats = bh * t;                // lse of query i at stats + i
    let lane = first + vec4<u32>(0u, 1u, 2u, 3u);
    let at = queries + min(lane, vec4<u32>(t - 1u)) * c4; // a row past T reads the last, unused
    for (var d = 0u; d < h4; d++) {
        a0[d] = k[at.x + d];
        a1[d] = k[at.y + d];
        a2[d] = k[at.z + d];
        a3[d] = k[at.w + d];
        b0[d] = v[at.x + d];
        b1[d] = v[at.y + d];
        b2[d] = v[at.z + d];
        b3[d] = v[at.w + d];
        c0[d] = vec4<f32>(0.0);
        c1[d] = vec4<f32>(0.0);
        c2[d] = vec4<f32>(0.0);
        c3[d] = vec4<f32>(0.0);
        e0[d] = vec4<f32>(0.0);
        e1[d] = vec4<f32>(0.0);
        e2[d] = vec4<f32>(0.0);
        e3[d] = vec4<f32>(0.0);
    }
    for (var i = first; i < t; i++) {
        let qi = queries + i * c4;
        var s0 = vec4<f32>(0.0);
        var s1 = vec4<f32>(0.0);
        var s2 = vec4<f32>(0.0);
        var s3 = vec4<f32>(0.0);
        var p0 = vec4<f32>(0.0);
        var p1 = vec4<f32>(0.0);
        var p2 = vec4<f32>(0.0);
        var p3 = vec4<f32>(0.0);
        var delta = vec4<f32>(0.0);
        for (var d = 0u; d < h4; d++) {
            let query = q[qi + d];
            let grad = dy[qi + d];
            s0 += query * a0[d];
            s1 += query * a1[d];
            s2 += query * a2[d];
            s3 += query * a3[d];
            p0 += grad * b0[d];
            p1 += grad * b1[d];
            p2 += grad * b2[d];
            p3 += grad * b3[d];
            delta += grad * y[qi + d];
        }
        let score = vec4<f32>(sum4(s0), sum4(s1), sum4(s2), sum4(s3)) * info.scale;
        let dp = vec4<f32>(sum4(p0), sum4(p1), sum4(p2), sum4(p3));
        // Query i attends to key first + r when i ≥ first + r.
        let p = select(vec4<f32>(0.0), exp(score - lse[stats + i]), vec4<u32>(i) >= lane);
        let ds = p * (dp - sum4(delta));
        for (var d = 0u; d < h4; d++) {
            let query = q[qi + d];
            let grad = dy[qi + d];
            e0[d] += p.x * grad;
            e1[d] += p.y * grad;
            e2[d] += p.z * grad;
            e3[d] += p.w * grad;
            c0[d] += ds.x * query;
            c1[d] += ds.y * query;
            c2[d] += ds.z * query;
            c3[d] += ds.w * query;
        }
    }
    let rows = min(first + ROWS, t) - first;
    let dk = info.spacing + queries + first * c4;
    let dv = dk + info.spacing;
    for (var d = 0u; d < h4; d++) {
        grads[dk + d] = c0[d] * info.scale;
        grads[dv + d] = e0[d];
        if rows > 1u {
            grads[dk + c4 + d] = c1[d] * info.scale;
            grads[dv + c4 + d] = e1[d];
        }
        if rows > 2u {
            grads[dk + 2u * c4 + d] = c2[d] * info.scale;
            grads[dv + 2u * c4 + d] = e2[d];
        }
        if rows > 3u {
            grads[dk + 3u * c4 + d] = c3[d] * info.scale;
            grads[dv + 3u * c4 + d] = e3[d];
        }
    }
}
