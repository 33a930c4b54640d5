// LayerNorm backward, the input's gradient and, when γ and β train, theirs, in one dispatch.
// With x̂ = (x − mean) · rstd and g = dy · γ, for each row
//   dx = rstd · (g − mean(g) − x̂ · mean(g · x̂))
// (the gradient through the mean and the variance folded into the two row means), and for
// each column j
//   dγ_j = Σ_rows dy · x̂,   dβ_j = Σ_rows dy.
// The mean and rstd of each row come from the forward kernel's stats. The two jobs read the
// same inputs and write different outputs, so one grid holds both: a thread per row, then a
// thread per column (per piece of the rows, below); an adapter run, whose γ and β are frozen,
// dispatches only the rows.
//
// A pre-LN block's residual stream reaches x by a second path, x + f(LayerNorm(x)): with ADD,
// that path's gradient (`plus`) is added to dx here, where burn's autodiff summed the two
// with a dispatch of its own.
//
// With many rows (batch × context) d column threads are too few for a real GPU, so the host may
// cut the rows into pieces of `rows_piece`: piece s writes its partial sums to dgamma[s · d ..]
// and dbeta[s · d ..], and the host adds them up (as matmul.wgsl's pieces).
//
// Bindings: 0 x (rows × d), 1 gamma (d), 2 stats (rows × 2), 3 dy (rows × d), 4 dx (rows × d),
// 5 dgamma (pieces × d), 6 dbeta (pieces × d) (one-value stand-ins when γ and β are frozen),
// 7 plus (rows × d; a stand-in without ADD), 8 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, no barriers, as the forward kernel: a row's thread makes
// two passes (the two means, then dx); a column's walks down the rows, neighbouring threads
// reading neighbouring values of a row. Threads stride past the grid limit.

struct Info {
    rows: u32,
    d: u32,
    rows_piece: u32, // rows per piece of the column sums
    params: u32,     // 1 when γ and β take gradients: the grid then also holds pieces × d columns
    add: u32,        // ADD when `plus` is added to dx
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> stats: array<f32>;
@group(0) @binding(3) var<storage, read_write> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(7) var<storage, read_write> plus: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const ADD: u32 = 1u;

// One row or column a thread: batch × context rows (256 at 4 × 64), d_model = 128 columns.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let pieces = max(1u, (info.rows + info.rows_piece - 1u) / info.rows_piece);
    let columns = select(0u, info.d * pieces, info.params == 1u);
    for (var t = id.x; t < info.rows + columns; t += groups.x * WORKGROUP_SIZE) {
        if (t < info.rows) {
            input_gradient(t);
        } else {
            parameter_gradients(t - info.rows);
        }
    }
}

fn input_gradient(row: u32) {
    let d = info.d;
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
        var value = rstd * (dy[base + j] * gamma[j] - g_mean - x_hat * gx_mean);
        if (info.add == ADD) {
            value += plus[base + j];
        }
        dx[base + j] = value;
    }
}

// Column j of piece `t / d`: its sums over the piece's rows.
fn parameter_gradients(t: u32) {
    let d = info.d;
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
