// LayerNorm backward, the parameters' gradients: for each column j of the rows × d input,
//   dγ_j = Σ_rows dy · x̂,   dβ_j = Σ_rows dy,   with x̂ = (x − mean) · rstd
// using each row's mean and rstd from the forward kernel's stats. Launched only when γ and β
// train (full fine-tuning); an adapter run skips it.
//
// Bindings: 0 x (rows × d), 1 stats (rows × 2), 2 dy (rows × d), 3 dgamma (d), 4 dbeta (d),
// 5 the uniform below.
// Workgroup: one workgroup of {{ workgroup_size }} threads per column: threads stride down the
// rows, then sum in shared memory, so a column of any length is one workgroup's work and d
// columns keep d workgroups busy.

struct Info {
    rows: u32,
    d: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

const WG: u32 = {{ workgroup_size }}u;
var<workgroup> partial: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let d = info.d;
    for (var j = group.x; j < d; j += groups.x) {
        var sums = vec2<f32>(0.0);
        for (var row = lid; row < info.rows; row += WG) {
            let i = row * d + j;
            let x_hat = (x[i] - stats[2u * row]) * stats[2u * row + 1u];
            sums += vec2<f32>(dy[i] * x_hat, dy[i]);
        }
        partial[lid] = sums;
        workgroupBarrier();
        for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
            if (lid < stride) {
                partial[lid] += partial[lid + stride];
            }
            workgroupBarrier();
        }
        if (lid == 0u) {
            dgamma[j] = partial[0].x;
            dbeta[j] = partial[0].y;
        }
        workgroupBarrier();
    }
}
