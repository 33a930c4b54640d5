// LayerNorm over the last dimension (Ba et al. 2016), forward:
//   mean = Σ x / d,  var = Σ (x − mean)² / d  (biased, as burn and PyTorch),
//   rstd = 1 / sqrt(var + ε),  y = (x − mean) · rstd · γ + β
// for each of `rows` rows of d values. Writes y and, per row, (mean, rstd) for the backward
// kernels, which then need not recompute them. burn runs this as about eight kernels.
//
// Bindings: 0 x (rows × d), 1 gamma (d), 2 beta (d), 3 y (rows × d), 4 stats (rows × 2),
// 5 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one row each, in three passes over the row (the mean,
// the variance about it, which is steadier in f32 than E[x²] − mean², then y). No shared memory
// and no barriers: a barrier costs software WebGPU (SwiftShader, lavapipe) more than a row of
// 128 values costs one thread. Threads stride over rows past the grid limit.

struct Info {
    rows: u32,
    d: u32,
    epsilon: f32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

// One row a thread: batch × context rows, 256 at 4 × 64.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let d = info.d;
    for (var row = id.x; row < info.rows; row += groups.x * WORKGROUP_SIZE) {
        let base = row * d;
        var sum = 0.0;
        for (var j = 0u; j < d; j++) {
            sum += x[base + j];
        }
        let mean = sum / f32(d);
        var squares = 0.0;
        for (var j = 0u; j < d; j++) {
            let c = x[base + j] - mean;
            squares += c * c;
        }
        let rstd = 1.0 / sqrt(squares / f32(d) + info.epsilon);
        for (var j = 0u; j < d; j++) {
            y[base + j] = (x[base + j] - mean) * rstd * gamma[j] + beta[j];
        }
        stats[2u * row] = mean;
        stats[2u * row + 1u] = rstd;
    }
}
