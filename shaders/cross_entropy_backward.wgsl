// Mean cross-entropy's backward pass, elementwise over the rows × vocab logits:
//   dlogits_rj = g / rows · (exp(logits_rj − lse_r) − [j = target_r])
// the softmax minus the one-hot target, scaled by the incoming gradient g of the mean loss
// (a one-value tensor, read on the device so nothing waits for the host).
//
// Bindings: 0 logits, 1 targets (rows, i32), 2 lse (rows, from cross_entropy.wgsl), 3 g (1 value),
// 4 dlogits (rows × vocab), 5 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one logit each; the host dispatches
// ceil(rows · vocab / WORKGROUP_SIZE) workgroups up to the grid limit and threads stride
// past it.

struct Info {
    rows: u32,
    vocab: u32,
}

@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let n = info.rows * info.vocab;
    let scale = g[0] / f32(info.rows);
    for (var i = id.x; i < n; i += groups.x * WORKGROUP_SIZE) {
        let row = i / info.vocab;
        let hit = select(0.0, 1.0, u32(targets[row]) == i % info.vocab);
        dlogits[i] = scale * (exp(logits[i] - lse[row]) - hit);
    }
}
