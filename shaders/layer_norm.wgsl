// LayerNorm over the last dimension (Ba et al. 2016), forward:
//   mean = Σ x / d,  var = Σ (x − mean)² / d  (biased, as burn and PyTorch),
//   rstd = 1 / sqrt(var + ε),  y = (x − mean) · rstd · γ + β
// for each of `rows` rows of d values. Writes y and, per row, (mean, rstd) for the backward
// kernels, which then need not recompute them. burn runs this as about eight kernels.
//
// A LayerNorm's y is the input of the projections after it, and a projection carrying a LoRA
// adapter first takes y A (Hu et al. 2021; A is d × r, r small): for up to two such adapters
// this kernel also writes y A, each thread summing its row's r values in one more pass over the
// row it wrote, so that each adapter's own dispatch for it is gone (`ops::attention_block`, `ops::mlp`). The
// crate asks it of a hardware GPU only: a software adapter loads A's values one SIMD lane at a
// time, and there the product kernel's tiles compute y A for less.
//
// Bindings: 0 x (rows × d), 1 gamma (d), 2 beta (d), 3 y (rows × d), 4 stats (rows × 2),
// 5 a0 (d × rank0), 6 a1 (d × rank1; each a one-value stand-in without), 7 low (y a0, rows ×
// rank0, then y a1 from low1; a stand-in without either), 8 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one row each, in three passes over the row (the mean,
// the variance about it, which is steadier in f32 than E[x²] − mean², then y). No shared memory
// and no barriers: a barrier costs software WebGPU (SwiftShader, lavapipe) more than a row of
// 128 values costs one thread. Threads stride over rows past the grid limit.

struct Info {
    rows: u32,
    d: u32,
    epsilon: f32,
    rank0: u32, // 0: no first adapter
    rank1: u32, // 0: no second adapter
    low1: u32,  // where y a1 starts in low
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> gamma: array<f32>;
@group(0) @binding(2) var<storage, read_write> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> a0: array<f32>;
@group(0) @binding(6) var<storage, read_write> a1: array<f32>;
@group(0) @binding(7) var<storage, read_write> low: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

// One row a thread: batch × context rows, 256 at 4 × 64.
const WORKGROUP_SIZE: u32 = 64u;
// Adapters the launch writes y A for, and each one's sums for a row (its larger rank): declared
// anew by a launch that has adapters, so that a LayerNorm without them compiles without their
// pass.
const ADAPTERS: u32 = 0u;
const MAX_RANK: u32 = 1u;

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
        if ADAPTERS == 0u {
            continue;
        }
        // y A of each adapter, one pass over the row just written.
        var low0: array<f32, MAX_RANK>;
        var low1: array<f32, MAX_RANK>;
        for (var j = 0u; j < d; j++) {
            let n = y[base + j];
            // A loop per adapter: WGSL cannot index bindings.
            for (var c = 0u; c < info.rank0; c++) {
                low0[c] += n * a0[j * info.rank0 + c];
            }
            for (var c = 0u; c < info.rank1; c++) {
                low1[c] += n * a1[j * info.rank1 + c];
            }
        }
        for (var c = 0u; c < info.rank0; c++) {
            low[row * info.rank0 + c] = low0[c];
        }
        for (var c = 0u; c < info.rank1; c++) {
            low[info.low1 + row * info.rank1 + c] = low1[c];
        }
    }
}
