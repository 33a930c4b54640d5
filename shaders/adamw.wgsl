// One AdamW step for one parameter tensor, its gradient clipped to a maximum L2 norm first:
// burn's AdamW with per-tensor norm clipping (burn 0.22's ModuleOptimizer clips each tensor on
// its own), in one dispatch where burn issues about twenty.
//
// For every element of the n-element tensor:
//   c   = min(1, clip / (‖grad‖₂ + 1.17549435e-38))     (1 when not clipping)
//   g   = grad · c
//   m'  = β1·m + (1 − β1)·g                              (m = v = 0 on the first step)
//   v'  = β2·v + (1 − β2)·g²
//   p'  = p·decay − lr · (m' / bc1) / (sqrt(v' / bc2) + ε)
// with decay = 1 − lr·weight_decay and bc = 1 − β^t, computed on the host as burn does.
//
// Bindings: 0 param, 1 grad, 2 m, 3 v (not read on the first step, which binds one-value
// stand-ins), 4 the step's scalars, 5 param_out, 6 m_out, 7 v_out, 8 the uniform below.
// The scalars that change every step (lr, decay, bc1, bc2) come in a storage buffer, not as
// uniform fields: burn's wgpu backend caches each launch's uniform by its content (512 entries),
// so a uniform new every step would hold a new buffer every step until that cache filled.
// Every storage buffer is declared read_write: natively burn's memory pool places several
// tensors in one device buffer, and WebGPU forbids a read-only and a writable binding of one
// buffer in one dispatch.
//
// Workgroup: a single workgroup of WORKGROUP_SIZE threads does the whole tensor. The norm
// needs every element before any element can be updated; one workgroup reduces it in shared
// memory and then updates, with no second dispatch and no grid-wide barrier. Each thread strides
// over the tensor, so any size works; at the sizes trained here (at most 65,536 elements) a
// dispatch costs more than the arithmetic.

struct Info {
    n: u32,
    first_step: u32, // 1 on the first step: m and v hold no values yet
    clip: u32,       // 1 to clip the gradient's norm to clip_norm
    clip_norm: f32,
    beta1: f32,
    beta2: f32,
    one_minus_beta1: f32,
    one_minus_beta2: f32,
    epsilon: f32,
}

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> step: array<f32, 4>; // lr, decay, bc1, bc2
@group(0) @binding(5) var<storage, read_write> param_out: array<f32>;
@group(0) @binding(6) var<storage, read_write> m_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> v_out: array<f32>;
@group(0) @binding(8) var<uniform> info: Info;

const WORKGROUP_SIZE: u32 = 256u;
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
    // The gradient's squared norm: a strided sum per thread, then a tree in shared memory.
    var sum = 0.0;
    for (var i = lid; i < info.n; i += WORKGROUP_SIZE) {
        sum += grad[i] * grad[i];
    }
    partial[lid] = sum;
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

    let lr = step[0];
    let decay = step[1];
    let bc1 = step[2];
    let bc2 = step[3];
    for (var i = lid; i < info.n; i += WORKGROUP_SIZE) {
        let g = grad[i] * scale;
        var m_i = info.one_minus_beta1 * g;
        var v_i = g * g * info.one_minus_beta2;
        if (info.first_step == 0u) {
            m_i = m[i] * info.beta1 + m_i;
            v_i = v[i] * info.beta2 + v_i;
        }
        let delta = (m_i / bc1) / (sqrt(v_i / bc2) + info.epsilon);
        param_out[i] = param[i] * decay - delta * lr;
        m_out[i] = m_i;
        v_out[i] = v_i;
    }
}
