// LayerNorm backward, the input's gradient: for each row, with x̂ = (x − mean) · rstd and
// g = dy · γ,
//   dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))
// (the gradient through the mean and the variance folded into the two row means). The mean
// and rstd of each row come from the forward kernel's stats. γ and β's gradients are
// layer_norm_params_backward.wgsl's, launched only when they train.
//
// Bindings: 0 x (rows × d), 1 gamma (d), 2 stats (rows × 2), 3 dy (rows × d), 4 dx (rows × d),
// 5 the uniform below.
// Workgroup: one workgroup of {{ workgroup_size }} threads per row, as the forward kernel: the two
// row means are shared-memory reductions. Workgroups stride over rows past the grid limit.

struct Info {
    rows: u32,
    d: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

const WG: u32 = {{ workgroup_size }}u;
var<workgroup> partial: array<vec2<f32>, WG>;

// The sums of every thread's two values, returned to all threads.
fn workgroup_sum2(lid: u32, value: vec2<f32>) -> vec2<f32> {
    partial[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let d = info.d;
    for (var row = group.x; row < info.rows; row += groups.x) {
        let base = row * d;
        let mean = stats[2u * row];
        let rstd = stats[2u * row + 1u];
        var sums = vec2<f32>(0.0);
        for (var j = lid; j < d; j += WG) {
            let g = dy[base + j] * gamma[j];
            sums += vec2<f32>(g, g * (x[base + j] - mean) * rstd);
        }
        let means = workgroup_sum2(lid, sums) / f32(d);
        for (var j = lid; j < d; j += WG) {
            let g = dy[base + j] * gamma[j];
            let x_hat = (x[base + j] - mean) * rstd;
            dx[base + j] = rstd * (g - means.x - x_hat * means.y);
        }
    }
}
