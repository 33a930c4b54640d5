// LayerNorm over the last dimension (Ba et al. 2016), forward:
//   mean = Σ x / d,  var = Σ (x − mean)² / d  (biased, as burn and PyTorch),
//   rstd = 1 / sqrt(var + ε),  y = (x − mean) · rstd · γ + β
// for each of `rows` rows of d values. Writes y and, per row, (mean, rstd) for the backward
// kernels, which then need not recompute them. burn runs this as about eight kernels.
//
// Bindings: 0 x (rows × d), 1 gamma (d), 2 beta (d), 3 y (rows × d), 4 stats (rows × 2),
// 5 the uniform below.
// Workgroup: one workgroup of {{ workgroup_size }} threads per row; threads stride along the row
// and combine their sums in shared memory (two reductions: the mean, then the variance about
// it, which is steadier in f32 than E[x²] − mean²). Workgroups stride over rows past the grid
// limit.

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

const WG: u32 = {{ workgroup_size }}u;
var<workgroup> partial: array<f32, WG>;

// The sum of every thread's `value`, returned to all threads.
fn workgroup_sum(lid: u32, value: f32) -> f32 {
    partial[lid] = value;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier(); // everyone has read it before partial is reused
    return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let d = info.d;
    for (var row = group.x; row < info.rows; row += groups.x) {
        let base = row * d;
        var sum = 0.0;
        for (var j = lid; j < d; j += WG) {
            sum += x[base + j];
        }
        let mean = workgroup_sum(lid, sum) / f32(d);
        var squares = 0.0;
        for (var j = lid; j < d; j += WG) {
            let c = x[base + j] - mean;
            squares += c * c;
        }
        let rstd = 1.0 / sqrt(workgroup_sum(lid, squares) / f32(d) + info.epsilon);
        for (var j = lid; j < d; j += WG) {
            y[base + j] = (x[base + j] - mean) * rstd * gamma[j] + beta[j];
        }
        if (lid == 0u) {
            stats[2u * row] = mean;
            stats[2u * row + 1u] = rstd;
        }
    }
}
