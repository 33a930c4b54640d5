// LayerNorm backward, the parameters' gradients: for each column j of the rows × d input,
//   dγ_j = Σ_rows dy · x̂,   dβ_j = Σ_rows dy,   with x̂ = (x − mean) · rstd
// using each row's mean and rstd from the forward kernel's stats. Launched only when γ and β
// train (full fine-tuning); an adapter run skips it.
//
// Bindings: 0 x (rows × d), 1 stats (rows × 2), 2 dy (rows × d), 3 dgamma (pieces × d),
// 4 dbeta (pieces × d), 5 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one column each, walking down the rows: neighbouring
// threads read neighbouring values of a row, and no barrier is needed (see layer_norm.wgsl).
// Threads stride over columns past the grid limit. With many rows (batch × context) d threads
// are too few for a real GPU, so the host may cut the rows into pieces of `rows_piece`: piece s
// writes its partial sums to dgamma[s · d ..] and dbeta[s · d ..], and the host adds them up
// (as matmul.wgsl's pieces).

struct Info {
    rows: u32,
    d: u32,
    rows_piece: u32, // rows per piece: the grid is `pieces` copies of the d columns
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(4) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

// One column a thread: d_model = 128 columns here.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let d = info.d;
    let pieces = max(1u, (info.rows + info.rows_piece - 1u) / info.rows_piece);
    for (var t = id.x; t < d * pieces; t += groups.x * WORKGROUP_SIZE) {
        let piece = t / d;
        let j = t % d;
        var g = 0.0;
        var b = 0.0;
        for (var row = piece * info.rows_piece; row < min(info.rows, (piece + 1u) * info.rows_piece); row++) {
            let i = row * d + j;
            g += dy[i] * (x[i] - stats[2u * row]) * stats[2u * row + 1u];
            b += dy[i];
        }
        dgamma[t] = g;
        dbeta[t] = b;
    }
}
