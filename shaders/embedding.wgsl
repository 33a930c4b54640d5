// Token and position embeddings, the model's first step:
//   x[n, c] = tok[ids[n], c] + pos[n mod T, c]      for the n-th of B · T tokens
// where burn gathers each table, adds them, and copies the position ids in kernels of their own.
//
// Bindings: 0 ids (B · T token ids, 32-bit), 1 tok (vocab × C), 2 pos (context × C), 3 x
// ((B · T) × C, row-major), 4 the uniform below.
// Workgroup: one thread per value of x; threads stride over x if the grid is capped.

struct Info {
    rows: u32, // B · T
    seq: u32,  // T: row n is position n mod T
    dim: u32,  // C
}

@group(0) @binding(0) var<storage, read_write> ids: array<i32>;
@group(0) @binding(1) var<storage, read_write> tok: array<f32>;
@group(0) @binding(2) var<storage, read_write> pos: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;
@group(0) @binding(4) var<uniform> info: Info;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    for (var i = id.x; i < info.rows * info.dim; i += groups.x * WORKGROUP_SIZE) {
        let n = i / info.dim;
        let c = i % info.dim;
        x[i] = tok[u32(ids[n]) * info.dim + c] + pos[(n % info.seq) * info.dim + c];
    }
}
