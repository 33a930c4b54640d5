// Many tenants' LoRA adapters in one batch, first half (Punica's "shrink", Chen et al. 2023,
// arXiv 2310.18547): each row of x through the A matrix of its own tenant,
//   v[i, j] = Σ_k x[i, k] · A[t_i, k, j]      t_i = tenants[i / seq]
// for x (rows × d_in), A the tenants' stack (tenants × d_in × r), v (rows × r). lora_expand.wgsl
// then adds scale[t_i] · v_i B[t_i] to the base projection's output. Two small kernels rather
// than one: a fused one would recompute x_i A for every output column.
//
// Bindings: 0 x, 1 a (the stack), 2 tenants (one per sequence of `seq` rows: a tenant's slot
// as a whole number in an f32, as every input of ours is f32), 3 v, 4 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one (row, j) each: the r threads of a row read the same x
// values and neighbouring A columns. Threads stride over the grid limit.

struct Info {
    rows: u32,
    d_in: u32,
    rank: u32, // the stack's rank: the largest tenant's; smaller ones are padded with zeros
    seq: u32,  // rows per entry of `tenants`
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> tenants: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> info: Info;

// One output value a thread; a few rows of rank 4–64 make a handful of workgroups.
const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = info.rank;
    for (var t = id.x; t < info.rows * r; t += groups.x * WORKGROUP_SIZE) {
        let row = t / r;
        let j = t % r;
        let tenant = u32(tenants[row / info.seq]);
        let x0 = row * info.d_in;
        let a0 = tenant * info.d_in * r + j;
        var total = 0.0;
        for (var k = 0u; k < info.d_in; k++) {
            total += x[x0 + k] * a[a0 + k * r];
        }
        v[t] = total;
    }
}
