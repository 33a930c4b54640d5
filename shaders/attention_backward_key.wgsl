// Causal self-attention's core, backward, per key row j (see attention.wgsl for the forward
// pass and the layout, attention_backward_query.wgsl for D). With p_ij recomputed from the
// forward pass's log-sum-exp:
//   dv_j = Σ_{i ≥ j} p_ij dy_i
//   dk_j = scale · Σ_{i ≥ j} p_ij (dy_i · v_j − D_i) q_i
//
// Bindings: 0 q, 1 k, 2 v, 3 dy (each B × T × C, as vec4s), 4 lse, 5 delta (D; each
// B × heads × T), 6 dk, 7 dv (B × T × C), 8 the uniform below. Eight storage buffers: WebGPU's
// default limit.
// Threads: one for ROWS consecutive key rows of one head, each query and dy read serving ROWS
// key rows; neighbouring threads take the same rows of different heads and sequences, so they
// loop over the same number of queries. k_j, v_j and both sums live in vec4 arrays
// (hs ≤ 4 · MAX_H4).

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
@group(0) @binding(3) var<storage, read_write> dy: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dv: array<vec4<f32>>;
@group(0) @binding(8) var<uniform> info: Info;

const MAX_H4: u32 = 16u;
// Key rows a thread, the lanes of a vec4 (the launch reads it).
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
        let first = (task / sequences) * ROWS; // key rows first .. first + ROWS − 1
        let h = bh % info.heads;
        let b = bh / info.heads;
        let queries = b * t * c4 + h * h4; // query i starts at queries + i · C/4
        let stats = bh * t;                // lse and D of query i at stats + i

        // Key row first + r is lane r of each vec4 below, and has its vectors in k<r>, v<r>,
        // dk<r>, dv<r>.
        let lane = first + vec4<u32>(0u, 1u, 2u, 3u);
        let at = queries + min(lane, vec4<u32>(t - 1u)) * c4; // a row past T reads the last, unused
        var k0: array<vec4<f32>, MAX_H4>;
        var k1: array<vec4<f32>, MAX_H4>;
        var k2: array<vec4<f32>, MAX_H4>;
        var k3: array<vec4<f32>, MAX_H4>;
        var v0: array<vec4<f32>, MAX_H4>;
        var v1: array<vec4<f32>, MAX_H4>;
        var v2: array<vec4<f32>, MAX_H4>;
        var v3: array<vec4<f32>, MAX_H4>;
        for (var d = 0u; d < h4; d++) {
            k0[d] = k[at.x + d];
            k1[d] = k[at.y + d];
            k2[d] = k[at.z + d];
            k3[d] = k[at.w + d];
            v0[d] = v[at.x + d];
            v1[d] = v[at.y + d];
            v2[d] = v[at.z + d];
            v3[d] = v[at.w + d];
        }
        var dk0: array<vec4<f32>, MAX_H4>;
        var dk1: array<vec4<f32>, MAX_H4>;
        var dk2: array<vec4<f32>, MAX_H4>;
        var dk3: array<vec4<f32>, MAX_H4>;
        var dv0: array<vec4<f32>, MAX_H4>;
        var dv1: array<vec4<f32>, MAX_H4>;
        var dv2: array<vec4<f32>, MAX_H4>;
        var dv3: array<vec4<f32>, MAX_H4>;
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
            for (var d = 0u; d < h4; d++) {
                let query = q[qi + d];
                let grad = dy[qi + d];
                s0 += query * k0[d];
                s1 += query * k1[d];
                s2 += query * k2[d];
                s3 += query * k3[d];
                p0 += grad * v0[d];
                p1 += grad * v1[d];
                p2 += grad * v2[d];
                p3 += grad * v3[d];
            }
            let score = vec4<f32>(sum4(s0), sum4(s1), sum4(s2), sum4(s3)) * info.scale;
            let dp = vec4<f32>(sum4(p0), sum4(p1), sum4(p2), sum4(p3));
            // Query i attends to key first + r when i ≥ first + r.
            let p = select(vec4<f32>(0.0), exp(score - lse[stats + i]), vec4<u32>(i) >= lane);
            let ds = p * (dp - delta[stats + i]);
            for (var d = 0u; d < h4; d++) {
                let query = q[qi + d];
                let grad = dy[qi + d];
                dv0[d] += p.x * grad;
                dv1[d] += p.y * grad;
                dv2[d] += p.z * grad;
                dv3[d] += p.w * grad;
                dk0[d] += ds.x * query;
                dk1[d] += ds.y * query;
                dk2[d] += ds.z * query;
                dk3[d] += ds.w * query;
            }
        }
        let rows = min(first + ROWS, t) - first;
        let written = queries + first * c4;
        for (var d = 0u; d < h4; d++) {
            dk[written + d] = dk0[d] * info.scale;
            dv[written + d] = dv0[d];
            if rows > 1u {
                dk[written + c4 + d] = dk1[d] * info.scale;
                dv[written + c4 + d] = dv1[d];
            }
            if rows > 2u {
                dk[written + 2u * c4 + d] = dk2[d] * info.scale;
                dv[written + 2u * c4 + d] = dv2[d];
            }
            if rows > 3u {
                dk[written + 3u * c4 + d] = dk3[d] * info.scale;
                dv[written + 3u * c4 + d] = dv3[d];
            }
        }
    }
}
