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
// Workgroup: WORKGROUP_SIZE threads, one query row (b, h, i) each, striding past the grid
// limit; q_i, dy_i and dq_i live in vec4 registers (hs ≤ 4 · MAX_H4).

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

fn sum4(s: vec4<f32>) -> f32 {
    return s.x + s.y + s.z + s.w;
}

// One query row a thread: B · heads · T rows is 1,024 at 4 × 64.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = info.tokens;
    let h4 = info.head_size / 4u;
    let c4 = info.channels / 4u;
    let rows = info.batch * info.heads * t;
    for (var row = id.x; row < rows; row += groups.x * WORKGROUP_SIZE) {
        let i = row % t;
        let h = (row / t) % info.heads;
        let b = row / (t * info.heads);
        let qi = (b * t + i) * c4 + h * h4;
        let keys = b * t * c4 + h * h4;

        var qv: array<vec4<f32>, MAX_H4>;
        var dyv: array<vec4<f32>, MAX_H4>;
        var d_i = vec4<f32>(0.0);
        for (var d = 0u; d < h4; d++) {
            qv[d] = q[qi + d];
            dyv[d] = dy[qi + d];
            d_i += dyv[d] * y[qi + d];
        }
        let row_delta = sum4(d_i);
        let row_lse = lse[row];
        var acc: array<vec4<f32>, MAX_H4>;
        for (var j = 0u; j <= i; j++) {
            let kj = keys + j * c4;
            var s = vec4<f32>(0.0);
            var dp = vec4<f32>(0.0);
            for (var d = 0u; d < h4; d++) {
                s += qv[d] * k[kj + d];
                dp += dyv[d] * v[kj + d];
            }
            let ds = exp(sum4(s) * info.scale - row_lse) * (sum4(dp) - row_delta);
            for (var d = 0u; d < h4; d++) {
                acc[d] += ds * k[kj + d];
            }
        }
        for (var d = 0u; d < h4; d++) {
            dq[qi + d] = acc[d] * info.scale;
        }
        delta[row] = row_delta;
    }
}
