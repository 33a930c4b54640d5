// Many tenants' LoRA adapters in one batch, second half (Punica's "expand"): the base
// projection's output plus each row's own adapter term,
//   out[i, c] = y[i, c] + scale[t_i] · Σ_j v[i, j] · B[t_i, j, c]      t_i = tenants[i / seq]
// for y (rows × d_out), v = x A from lora_shrink.wgsl (rows × r), B the tenants' stack
// (tenants × r × d_out) and scale its α / r per tenant. Slot 0 is "no adapter": scale 0, and
// its rows copy y (the sum is skipped, so the rows cost nothing but the copy).
//
// Bindings: 0 y, 1 v, 2 b (the stack), 3 scales (tenants), 4 tenants (one per sequence of `seq`
// rows, whole numbers in f32), 5 out (rows × d_out), 6 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one output value each, neighbours along a row: they read
// the same v values and neighbouring B values. Threads stride over the grid limit.

struct Info {
    rows: u32,
    d_out: u32,
    rank: u32,
    seq: u32,
}

@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
@group(0) @binding(2) var<storage, read_write> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> scales: array<f32>;
@group(0) @binding(4) var<storage, read_write> tenants: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> info: Info;

// One output value a thread, as the elementwise kernels.
const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let d = info.d_out;
    let r = info.rank;
    for (var t = id.x; t < info.rows * d; t += groups.x * WORKGROUP_SIZE) {
        let row = t / d;
        let c = t % d;
        let tenant = u32(tenants[row / info.seq]);
        let scale = scales[tenant];
        var total = 0.0;
        if (scale != 0.0) {
            let bs = tenant * r * d + c;
            for (var j = 0u; j < r; j++) {
                total += v[row * r + j] * b[bs + j * d];
            }
        }
        out[t] = y[t] + scale * total;
    }
}
