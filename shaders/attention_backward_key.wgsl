// Causal self-attention's core, backward, per key row j (see attention.wgsl for the forward
// pass and the layout, attention_backward_query.wgsl for D). With p_ij recomputed from the
// forward pass's log-sum-exp:
//   dv_j = Σ_{i ≥ j} p_ij dy_i
//   dk_j = scale · Σ_{i ≥ j} p_ij (dy_i · v_j − D_i) q_i
//
// Bindings: 0 q, 1 k, 2 v, 3 dy (each B × T × C), 4 lse, 5 delta (D; each B × heads × T),
// 6 dk, 7 dv (B × T × C), 8 the uniform below. Eight storage buffers: WebGPU's default limit.
// Workgroup: {{ workgroup_size }} threads, one key row (b, h, j) each, striding past the grid
// limit; k_j, v_j and both sums (hs ≤ MAX_HEAD values each) live in registers.

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
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<f32>;
@group(0) @binding(7) var<storage, read_write> dv: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const MAX_HEAD: u32 = 64u;

@compute @workgroup_size({{ workgroup_size }})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = info.tokens;
    let hs = info.head_size;
    let rows = info.batch * info.heads * t;
    for (var row = id.x; row < rows; row += groups.x * {{ workgroup_size }}u) {
        let j = row % t;
        let h = (row / t) % info.heads;
        let b = row / (t * info.heads);
        let kj = (b * t + j) * info.channels + h * hs;
        let queries = b * t * info.channels + h * hs; // query i starts at queries + i · C
        let stats = row - j;                          // lse and D of query i at stats + i

        var kv: array<f32, MAX_HEAD>;
        var vv: array<f32, MAX_HEAD>;
        for (var d = 0u; d < hs; d++) {
            kv[d] = k[kj + d];
            vv[d] = v[kj + d];
        }
        var dk_acc: array<f32, MAX_HEAD>;
        var dv_acc: array<f32, MAX_HEAD>;
        for (var i = j; i < t; i++) {
            let qi = queries + i * info.channels;
            var s = 0.0;
            var dp = 0.0;
            for (var d = 0u; d < hs; d++) {
                s += q[qi + d] * kv[d];
                dp += dy[qi + d] * vv[d];
            }
            let p = exp(s * info.scale - lse[stats + i]);
            let ds = p * (dp - delta[stats + i]);
            for (var d = 0u; d < hs; d++) {
                dv_acc[d] += p * dy[qi + d];
                dk_acc[d] += ds * q[qi + d];
            }
        }
        for (var d = 0u; d < hs; d++) {
            dk[kj + d] = dk_acc[d] * info.scale;
            dv[kj + d] = dv_acc[d];
        }
    }
}
