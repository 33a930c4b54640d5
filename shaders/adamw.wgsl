// One AdamW step for a group of up to GROUP parameter tensors, each tensor's gradient clipped
// to a maximum L2 norm first: burn's AdamW with per-tensor norm clipping (burn 0.22's
// ModuleOptimizer clips each tensor on its own), for the group in one dispatch where burn
// issues about twenty per tensor.
//
// For every element of tensor t of the group:
//   c   = min(1, clip / (‖grad_t‖₂ + 1.17549435e-38))   (1 when not clipping)
//   g   = grad_t · c
//   m'  = β1·m + (1 − β1)·g                              (m = v = 0 on the first step)
//   v'  = β2·v + (1 − β2)·g²
//   p'  = p·decay − lr · (m' / bc1) / (sqrt(v' / bc2) + ε)
// with decay = 1 − lr·weight_decay and bc = 1 − β^t, computed on the host as burn does.
//
// The group's parameters lie back to back in one buffer (tensor t at offset t, each start a
// multiple of 64 values so every parameter can also be bound on its own as a view), updated in
// place, and its moments in another, all the m then all the v, in the same layout. So a group
// binds 3 storage buffers for its parameters, moments and scalars, plus one per gradient: five
// gradients fill WebGPU's default 8 storage buffers per shader stage. (The host hands over a
// group buffer that nothing else reads, copying it first where something does.) Gradients come
// from burn's autodiff, one buffer each; WGSL cannot index bindings, so each loop over a
// gradient is written once per binding, and a switch on the workgroup's tensor picks one.
//
// Bindings: 0 params (updated in place), 1–5 the gradients (a one-value stand-in for a slot
// the group leaves empty), 6 moments (updated in place; not read on the first step), 7 the
// step's scalars, 8 the uniform below. The scalars that change every step (lr, decay, bc1,
// bc2) come in a storage buffer, not as uniform fields: burn's wgpu backend caches each launch's
// uniform by its content (512 entries), so a uniform new every step would hold a new buffer every
// step until that cache filled. Every storage buffer is declared read_write: natively burn's
// memory pool places several tensors in one device buffer, and WebGPU forbids a read-only and a
// writable binding of one buffer in one dispatch.
//
// Workgroups: one per tensor of the group, WORKGROUP_SIZE threads each. The norm needs every
// element before any element can be updated; one workgroup reduces it in shared memory and then
// updates, with no second dispatch and no grid-wide barrier. Each thread strides over its
// tensor, so any size works; at the sizes trained here (at most 65,536 elements) a dispatch
// costs more than the arithmetic. On a software adapter the crate compiles this file with
// WORKGROUP_SIZE set to SOFTWARE_WORKGROUP_SIZE: there a core runs a workgroup's threads in turn,
// switching between all of them at every barrier, and a quarter of the threads takes the norm's
// tree in 7 barriers, not 9, each switching a quarter as many; a GPU runs the threads at once,
// and 256 of them walk a tensor in a quarter of the strides.

const GROUP: u32 = 5u;

struct Info {
    // Slot t at [t / 4][t % 4]: a uniform's arrays step by 16 bytes.
    count: array<vec4<u32>, 2>,  // elements of each tensor of the group (unused slots are not dispatched)
    offset: array<vec4<u32>, 2>, // where each starts in params and each half of moments
    total: u32,        // the length of params; moments hold m in [0, total), v in [total, 2·total)
    first_step: u32,   // 1 on the first step: moments hold no values yet
    clip: u32,         // 1 to clip each gradient's norm to clip_norm
    clip_norm: f32,
    beta1: f32,
    beta2: f32,
    one_minus_beta1: f32,
    one_minus_beta2: f32,
    epsilon: f32,
}

@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad0: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad1: array<f32>;
@group(0) @binding(3) var<storage, read_write> grad2: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad3: array<f32>;
@group(0) @binding(5) var<storage, read_write> grad4: array<f32>;
@group(0) @binding(6) var<storage, read_write> moments: array<f32>;
@group(0) @binding(7) var<storage, read_write> step: array<f32, 4>; // lr, decay, bc1, bc2
@group(0) @binding(8) var<uniform> info: Info;

const WORKGROUP_SIZE: u32 = 256u; // a power of two, for the norm's tree
const SOFTWARE_WORKGROUP_SIZE: u32 = 64u;
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) group: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let t = group.x;
    let n = info.count[t / 4u][t % 4u];

    // The gradient's squared norm: a strided sum per thread, then a tree in shared memory.
    partial[lid] = squared_norm(t, n, lid);
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    var scale = 1.0;
    if (info.clip == 1u) {
        scale = min(info.clip_norm / (sqrt(partial[0]) + 1.17549435e-38), 1.0);
    }

    let s = vec4(step[0], step[1], step[2], step[3]);
    let start = info.offset[t / 4u][t % 4u];
    // One loop per gradient's binding: a switch inside one loop, at every element, made
    // SwiftShader's updates slower by a quarter.
    switch t {
        case 0u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { update(start + i, grad0[i] * scale, s); } }
        case 1u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { update(start + i, grad1[i] * scale, s); } }
        case 2u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { update(start + i, grad2[i] * scale, s); } }
        case 3u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { update(start + i, grad3[i] * scale, s); } }
        default: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { update(start + i, grad4[i] * scale, s); } }
    }
}

// This thread's share of tensor t's squared gradient norm.
fn squared_norm(t: u32, n: u32, lid: u32) -> f32 {
    var sum = 0.0;
    switch t {
        case 0u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { sum += grad0[i] * grad0[i]; } }
        case 1u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { sum += grad1[i] * grad1[i]; } }
        case 2u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { sum += grad2[i] * grad2[i]; } }
        case 3u: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { sum += grad3[i] * grad3[i]; } }
        default: { for (var i = lid; i < n; i += WORKGROUP_SIZE) { sum += grad4[i] * grad4[i]; } }
    }
    return sum;
}

// Element `at` of the group's parameters and moments, its (clipped) gradient g; the step's
// scalars s = (lr, decay, bc1, bc2).
fn update(at: u32, g: f32, s: vec4<f32>) {
    var m_i = info.one_minus_beta1 * g;
    var v_i = g * g * info.one_minus_beta2;
    if (info.first_step == 0u) {
        m_i = moments[at] * info.beta1 + m_i;
        v_i = moments[info.total + at] * info.beta2 + v_i;
    }
    let delta = (m_i / s.z) / (sqrt(v_i / s.w) + info.epsilon);
    params[at] = params[at] * s.y - delta * s.x;
    moments[at] = m_i;
    moments[info.total + at] = v_i;
}
