// Causal self-attention's core, backward, per query row i (see attention.wgsl for the forward
// pass and the layout). With p_ij = exp(q_i · k_j · scale − lse_i), the softmax the forward
// pass computed, recomputed from its log-sum-exp:
//   D_i  = dy_i · y_i                       (= Σ_j p_ij · dy_i · v_j)
//   dq_i = scale · Σ_{j ≤ i} p_ij (dy_i · v_j − D_i) k_j
// Writes dq (B × T × C) and D (B × heads × T), which attention_backward_key.wgsl reads to give
// dk and dv.
//
// Bindings: 0 q, 1 k, 2 v, 3 y, 4 dy (each B × T × C), 5 lse (B × heads × T), 6 dq, 7 delta
// (D), 8 the uniform below. Eight storage buffers: WebGPU's default limit per stage.
// Workgroup: {{ workgroup_size }} threads, one query row (b, h, i) each, striding past the grid
// limit; hs ≤ MAX_HEAD values of dy_i and of dq_i live in registers.

struct Info {
    batch: u32,
    tokens: u32,
    channels: u32,
    heads: u32,
    head_size: u32,
    scale: f32,
}

@group(0) @binding(0) var<storage, read_write> q: array<f32>;
@group(0) @binding(1) var<storage, read_write> k: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read_write> delta: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const MAX_HEAD: u32 = 64u;

@compute @workgroup_size({{ workgroup_size }})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = info.tokens;
    let hs = info.head_size;
    let rows = info.batch * info.heads * t;
    for (var row = id.x; row < rows; row += groups.x * {{ workgroup_size }}u) {
        let i = row % t;
        let h = (row / t) % info.heads;
        let b = row / (t * info.heads);
        let qi = (b * t + i) * info.channels + h * hs;
        let keys = b * t * info.channels + h * hs;

        var dyi: array<f32, MAX_HEAD>;
        var d_i = 0.0;
        for (var d = 0u; d < hs; d++) {
            dyi[d] = dy[qi + d];
            d_i += dyi[d] * y[qi + d];
        }
        var acc: array<f32, MAX_HEAD>;
        for (var j = 0u; j <= i; j++) {
            let kj = keys + j * info.channels;
            var s = 0.0;
            var dp = 0.0;
            for (var d = 0u; d < hs; d++) {
                s += q[qi + d] * k[kj + d];
                dp += dyi[d] * v[kj + d];
            }
            let ds = exp(s * info.scale - lse[row]) * (dp - d_i);
            for (var d = 0u; d < hs; d++) {
                acc[d] += ds * k[kj + d];
            }
        }
        for (var d = 0u; d < hs; d++) {
            dq[qi + d] = acc[d] * info.scale;
        }
        delta[row] = d_i;
    }
}
