// Causal self-attention's core, backward, per query row i (see attention.wgsl for the forward
// pass and the layout). With p_ij = exp(q_i · k_j · scale − lse_i), the softmax the forward
// pass computed, recomputed from its log-sum-exp:
//   D_i  = dy_i · y_i                       (= Σ_j p_ij · dy_i · v_j)
//   dq_i = scale · Σ_{j ≤ i} p_ij (dy_i · v_j − D_i) k_j
// Writes dq (B × T × C) and D (B × heads × T), which attention_backward_key.wgsl reads to give
// dk and dv.
//
// Bindings: 0 q, 1 k, 2 v, 3 y, 4 dy (each B × T × C, as vec4s), 5 lse (B × heads × T), 6 dq,
// 7 delta (D), 8 the uniform below. Eight storage buffers: WebGPU's default limit per stage.
// Threads: one for ROWS consecutive query rows of one head, as in attention.wgsl, each key and
// value read serving ROWS rows; q_i, dy_i and dq_i live in vec4 arrays (hs ≤ 4 · MAX_H4).

struct Info {
    batch: u32,
    tokens: u32,
    channels: u32,
    heads: u32,
    head_size: u32,
    scale: f32,
}

@group(0) @binding(0) var<storage, read_write> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dy: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> delta: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const MAX_H4: u32 = 16u;
// Query rows a thread, the lanes of a vec4 (the launch reads it).
const ROWS: u32 = 4u;
const_assert ROWS == 4u; // the rows are written out as a vec4's four lanes

fn sum4(s: vec4<f32>) -> f32 {
    return s.x + s.y + s.z + s.w;
}

// B · heads · T / ROWS threads: 256 at 4 × 64.
const WORKGROUP_SIZE: u32 = 32u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = info.tokens;
    let h4 = info.head_size / 4u;
    let c4 = info.channels / 4u;
    let sequences = info.batch * info.heads; // (b, h) pairs
    let blocks = (t + ROWS - 1u) / ROWS;
    for (var task = id.x; task < sequences * blocks; task += groups.x * WORKGROUP_SIZE) {
        let bh = task % sequences;
        let first = (task / sequences) * ROWS; // rows first .. first + ROWS − 1
        let h = bh % info.heads;
        let b = bh / info.heads;
        let keys = b * t * c4 + h * h4; // key j starts at keys + j · C/4
        let last_key = min(first + ROWS, t) - 1u;

        // Row first + r is lane r of each vec4 below, and has its vectors in q<r>, dy<r>, dq<r>.
        let lane = first + vec4<u32>(0u, 1u, 2u, 3u);
        let at = keys + min(lane, vec4<u32>(t - 1u)) * c4; // a row past T reads the last, unused
        var q0: array<vec4<f32>, MAX_H4>;
        var q1: array<vec4<f32>, MAX_H4>;
        var q2: array<vec4<f32>, MAX_H4>;
        var q3: array<vec4<f32>, MAX_H4>;
        var dy0: array<vec4<f32>, MAX_H4>;
        var dy1: array<vec4<f32>, MAX_H4>;
        var dy2: array<vec4<f32>, MAX_H4>;
        var dy3: array<vec4<f32>, MAX_H4>;
        var d0 = vec4<f32>(0.0);
        var d1 = vec4<f32>(0.0);
        var d2 = vec4<f32>(0.0);
        var d3 = vec4<f32>(0.0);
        for (var d = 0u; d < h4; d++) {
            q0[d] = q[at.x + d];
            q1[d] = q[at.y + d];
            q2[d] = q[at.z + d];
            q3[d] = q[at.w + d];
            dy0[d] = dy[at.x + d];
            dy1[d] = dy[at.y + d];
            dy2[d] = dy[at.z + d];
            dy3[d] = dy[at.w + d];
            d0 += dy0[d] * y[at.x + d];
            d1 += dy1[d] * y[at.y + d];
            d2 += dy2[d] * y[at.z + d];
            d3 += dy3[d] * y[at.w + d];
        }
        let stats = bh * t + min(lane, vec4<u32>(t - 1u));
        let row_delta = vec4<f32>(sum4(d0), sum4(d1), sum4(d2), sum4(d3));
        let row_lse = vec4<f32>(lse[stats.x], lse[stats.y], lse[stats.z], lse[stats.w]);
        var dq0: array<vec4<f32>, MAX_H4>;
        var dq1: array<vec4<f32>, MAX_H4>;
        var dq2: array<vec4<f32>, MAX_H4>;
        var dq3: array<vec4<f32>, MAX_H4>;
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
                s0 += q0[d] * key;
                s1 += q1[d] * key;
                s2 += q2[d] * key;
                s3 += q3[d] * key;
                p0 += dy0[d] * value;
                p1 += dy1[d] * value;
                p2 += dy2[d] * value;
                p3 += dy3[d] * value;
            }
            let score = vec4<f32>(sum4(s0), sum4(s1), sum4(s2), sum4(s3)) * info.scale;
            let dp = vec4<f32>(sum4(p0), sum4(p1), sum4(p2), sum4(p3));
            let ds = select(vec4<f32>(0.0), exp(score - row_lse) * (dp - row_delta), vec4<u32>(j) <= lane);
            for (var d = 0u; d < h4; d++) {
                let key = k[kj + d];
                dq0[d] += ds.x * key;
                dq1[d] += ds.y * key;
                dq2[d] += ds.z * key;
                dq3[d] += ds.w * key;
            }
        }
        let rows = min(first + ROWS, t) - first;
        let written = keys + first * c4;
        for (var d = 0u; d < h4; d++) {
            dq[written + d] = dq0[d] * info.scale;
            if rows > 1u { dq[written + c4 + d] = dq1[d] * info.scale; }
            if rows > 2u { dq[written + 2u * c4 + d] = dq2[d] * info.scale; }
            if rows > 3u { dq[written + 3u * c4 + d] = dq3[d] * info.scale; }
        }
        delta[stats.x] = row_delta.x;
        if rows > 1u { delta[stats.y] = row_delta.y; }
        if rows > 2u { delta[stats.z] = row_delta.z; }
        if rows > 3u { delta[stats.w] = row_delta.w; }
    }
}
