// GELU(x) = x·Φ(x) with the exact erf, and its backward pass, elementwise over n values:
//   forward  (backward = 0): out = x · Φ(x)
//   backward (backward = 1): out = grad · (Φ(x) + x·φ(x))
// Φ and φ are the standard normal CDF and density. One kernel for both directions: the branch
// is on a uniform, so it costs nothing, and the page compiles one pipeline instead of two.
//
// erf is the rational approximation of crate/src/ops/gelu/math.rs (the CPU path's), within
// 3.1e-7 of the exact value in f32; burn's GPU backward is the tanh approximation's derivative.
//
// Bindings: 0 x, 1 grad (not read by the forward pass, which binds a one-value stand-in: no
// two bindings may overlap), 2 out, 3 the uniform below.
// Workgroup: WORKGROUP_SIZE threads, one element each; the host dispatches
// ceil(n / WORKGROUP_SIZE) workgroups up to the grid limit and threads stride past it.

struct Info {
    n: u32,
    backward: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> info: Info;

const FRAC_1_SQRT_2: f32 = 0.70710678;
const NORMAL_PDF_0: f32 = 0.39894228; // 1 / sqrt(2π)

// erf(x) = x · P(x²) / Q(x²) for |x| < 4, and ±1 beyond (1 − erf(4) = 1.5e-8).
fn erf(x: f32) -> f32 {
    let c = clamp(x, -4.0, 4.0);
    let x2 = c * c;
    let p = 1.128379 + x2 * (0.1965647 + x2 * (0.05350358 + x2 * (0.004015303 + x2 * (0.0002879879 + x2 * 1.9685446e-6))));
    let q = 1.0 + x2 * (0.5075321 + x2 * (0.11660169 + x2 * (0.015468457 + x2 * (0.0012185685 + x2 * 3.7412226e-5))));
    return select(c * p / q, sign(x), abs(x) >= 4.0);
}

fn normal_cdf(x: f32) -> f32 {
    return 0.5 + 0.5 * erf(x * FRAC_1_SQRT_2);
}

// d/dx [x · Φ(x)] = Φ(x) + x · φ(x).
fn gelu_derivative(x: f32) -> f32 {
    return normal_cdf(x) + x * NORMAL_PDF_0 * exp(-0.5 * x * x);
}

const WORKGROUP_SIZE: u32 = 256u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let stride = groups.x * WORKGROUP_SIZE;
    for (var i = id.x; i < info.n; i += stride) {
        let v = x[i];
        if (info.backward == 0u) {
            out[i] = v * normal_cdf(v);
        } else {
            out[i] = grad[i] * gelu_derivative(v);
        }
    }
}
