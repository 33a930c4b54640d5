// Causal self-attention's core, backward, per key row j (see attention.wgsl for the forward
// pass and the layout, attention_backward_query.wgsl for D). With p_ij recomputed from the
// forward pass's log-sum-exp:
//   dv_j = Σ_{i ≥ j} p_ij dy_i
//   dk_j = scale · Σ_{i ≥ j} p_ij (dy_i · v_j − D_i) q_i
//
// Bindings: 0 q, 1 k, 2 v, 3 dy (each B × T × C, as vec4s), 4 lse, 5 delta (D; each
// B × heads × T), 6 dk, 7 dv (B × T × C), 8 the uniform below. Eight storage buffers: WebGPU's
// default limit.
// Workgroup: WORKGROUP_SIZE threads, one key row (b, h, j) each, striding past the grid
// limit; k_j, v_j and both sums live in vec4 registers (hs ≤ 4 · MAX_H4).

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

fn sum4(s: vec4<f32>) -> f32 {
    return s.x + s.y + s.z + s.w;
}

// One key row a thread: B · heads · T rows is 1,024 at 4 × 64.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = info.tokens;
    let h4 = info.head_size / 4u;
    let c4 = info.channels / 4u;
    let rows = info.batch * info.heads * t;
    for (var row = id.x; row < rows; row += groups.x * WORKGROUP_SIZE) {
        let j = row % t;
        let h = (row / t) % info.heads;
        let b = row / (t * info.heads);
        let kj = (b * t + j) * c4 + h * h4;
        let queries = b * t * c4 + h * h4; // query i starts at queries + i · C/4
        let stats = row - j;               // lse and D of query i at stats + i

        var kv: array<vec4<f32>, MAX_H4>;
        var vv: array<vec4<f32>, MAX_H4>;
        for (var d = 0u; d < h4; d++) {
            kv[d] = k[kj + d];
            vv[d] = v[kj + d];
        }
        var dk_acc: array<vec4<f32>, MAX_H4>;
        var dv_acc: array<vec4<f32>, MAX_H4>;
        for (var i = j; i < t; i++) {
            let qi = queries + i * c4;
            var s = vec4<f32>(0.0);
            var dp = vec4<f32>(0.0);
            for (var d = 0u; d < h4; d++) {
                s += q[qi + d] * kv[d];
                dp += dy[qi + d] * vv[d];
            }
            let p = exp(sum4(s) * info.scale - lse[stats + i]);
            let ds = p * (sum4(dp) - delta[stats + i]);
            for (var d = 0u; d < h4; d++) {
                dv_acc[d] += p * dy[qi + d];
                dk_acc[d] += ds * q[qi + d];
            }
        }
        for (var d = 0u; d < h4; d++) {
            dk[kj + d] = dk_acc[d] * info.scale;
            dv[kj + d] = dv_acc[d];
        }
    }
}
