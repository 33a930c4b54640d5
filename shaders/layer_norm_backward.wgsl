// LayerNorm backward, the input's gradient: for each row, with x̂ = (x − mean) · rstd and
// g = dy · γ,
//   dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))
// (the gradient through the mean and the variance folded into the two row means). The mean
// and rstd of each row come from the forward kernel's stats. γ and β's gradients are
// layer_norm_params_backward.wgsl's, launched only when they train.
//
// Bindings: 0 x (rows × d), 1 gamma (d), 2 stats (rows × 2), 3 dy (rows × d), 4 dx (rows × d),
// 5 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one row each, in two passes (the two means, then dx);
// no barriers, as the forward kernel. Threads stride over rows past the grid limit.

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

// One row a thread: batch × context rows, 256 at 4 × 64.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let d = info.d;
    for (var row = id.x; row < info.rows; row += groups.x * WORKGROUP_SIZE) {
        let base = row * d;
        let mean = stats[2u * row];
        let rstd = stats[2u * row + 1u];
        var g_sum = 0.0;
        var gx_sum = 0.0;
        for (var j = 0u; j < d; j++) {
            let g = dy[base + j] * gamma[j];
            g_sum += g;
            gx_sum += g * (x[base + j] - mean) * rstd;
        }
        let g_mean = g_sum / f32(d);
        let gx_mean = gx_sum / f32(d);
        for (var j = 0u; j < d; j++) {
            let x_hat = (x[base + j] - mean) * rstd;
            dx[base + j] = rstd * (dy[base + j] * gamma[j] - g_mean - x_hat * gx_mean);
        }
    }
}
