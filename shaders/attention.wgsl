// Causal self-attention's core, forward, for every head at once:
//   y_i = Σ_{j ≤ i} softmax_j(q_i · k_j / sqrt(hs)) · v_j
// reading q, k and v in the projections' own (B, T, C) layout, head h at channels
// h·hs .. (h+1)·hs, and writing y in that layout too. So the model needs no split into heads,
// no transposes, no mask tensor and no T × T score tensor: burn runs this as about ten kernels
// and copies. Also writes each row's log-sum-exp, from which the backward kernels recompute
// the softmax instead of keeping it.
//
// Two passes over the keys per query row: the largest score, then the exponentials summed and
// the values weighted, as a softmax subtracting its maximum does.
//
// Bindings: 0 q, 1 k, 2 v, 3 y (each B × T × C), 4 lse (B × heads × T), 5 the uniform below.
// Workgroup: {{ workgroup_size }} threads, one query row (b, h, i) each; B · heads · T threads
// in all, striding past the grid limit. A thread keeps its query and its output row in
// registers: hs ≤ MAX_HEAD.

struct Info {
    batch: u32,
    tokens: u32,  // T
    channels: u32, // C = heads · hs
    heads: u32,
    head_size: u32, // hs
    scale: f32,   // 1 / sqrt(hs)
}

@group(0) @binding(0) var<storage, read_write> q: array<f32>;
@group(0) @binding(1) var<storage, read_write> k: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

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
        let keys = b * t * info.channels + h * hs; // key j starts at keys + j · C

        var qv: array<f32, MAX_HEAD>;
        for (var d = 0u; d < hs; d++) {
            qv[d] = q[qi + d];
        }
        var best = -3.4e38;
        for (var j = 0u; j <= i; j++) {
            var s = 0.0;
            for (var d = 0u; d < hs; d++) {
                s += qv[d] * k[keys + j * info.channels + d];
            }
            best = max(best, s * info.scale);
        }
        var acc: array<f32, MAX_HEAD>;
        var sum = 0.0;
        for (var j = 0u; j <= i; j++) {
            let kj = keys + j * info.channels;
            var s = 0.0;
            for (var d = 0u; d < hs; d++) {
                s += qv[d] * k[kj + d];
            }
            let p = exp(s * info.scale - best);
            sum += p;
            for (var d = 0u; d < hs; d++) {
                acc[d] += p * v[kj + d];
            }
        }
        for (var d = 0u; d < hs; d++) {
            y[qi + d] = acc[d] / sum;
        }
        lse[row] = best + log(sum);
    }
}
