// Causal self-attention's core, forward, for every head at once:
//   y_i = Σ_{j ≤ i} softmax_j(q_i · k_j / sqrt(hs)) · v_j
// reading q, k and v in the projections' own (B, T, C) layout, head h at channels
// h·hs .. (h+1)·hs, and writing y in that layout too. So the model needs no split into heads,
// no transposes, no mask tensor and no T × T score tensor: burn runs this as about ten kernels
// and copies. Also writes each row's log-sum-exp, from which the backward kernels recompute
// the softmax instead of keeping it.
//
// Two passes over the keys per query row: the largest score, then the exponentials summed and
// the values weighted, as a softmax subtracting its maximum does. (One online pass measured
// 9% slower on SwiftShader, 22% faster on lavapipe; the browser decides.)
//
// Bindings: 0 q, 1 k, 2 v, 3 y (each B × T × C, read as vec4s: C and hs are multiples of 4),
// 4 lse (B × heads × T), 5 the uniform below.
// Threads: one for ROWS = 4 consecutive query rows of one head, so that each key and value read
// from memory serves four rows (on SwiftShader the three kernels took 0.8× the time of one row a
// thread). The four rows are written out, each with its own arrays, and their scalars are the
// lanes of a vec4: the same with a loop over the rows ran no faster than one row a thread. A
// thread keeps the rows' queries and outputs in vec4 arrays, hs ≤ 4 · MAX_H4. Neighbouring
// threads take the same rows of different heads and sequences, so they loop over the same number
// of keys; a key past a row is masked, and a row past T is computed from row T − 1 and dropped.

struct Info {
    batch: u32,
    tokens: u32,    // T
    channels: u32,  // C = heads · hs
    heads: u32,
    head_size: u32, // hs
    scale: f32,     // 1 / sqrt(hs)
}

@group(0) @binding(0) var<storage, read_write> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
@group(0) @binding(5) var<uniform> info: Info;

// The vec4s of one head a thread keeps in each array: the launch declares it as its heads' hs / 4.
const MAX_H4: u32 = 16u;
// Query rows a thread, the lanes of a vec4 (the launch reads it).
const ROWS: u32 = 4u;
const_assert ROWS == 4u; // the rows are written out as a vec4's four lanes

fn sum4(s: vec4<f32>) -> f32 {
    return s.x + s.y + s.z + s.w;
}

// B · heads · T / ROWS threads: 256 at 4 × 64.
const WORKGROUP_SIZE: u32 = 32u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let t = info.tokens;
    let h4 = info.head_size / 4u;
    let c4 = info.channels / 4u;
    let sequences = info.batch * info.heads; // (b, h) pairs
    let blocks = (t + ROWS - 1u) / ROWS;
    for (var task = id.x; task < sequences * blocks; task += groups.x * WORKGROUP_SIZE) {
        let bh = task % sequences;
        let first = (task / sequences) * ROWS; // rows first .. first + ROWS − 1
        let h = bh % info.heads;
        let b = bh / info.heads;
        let keys = b * t * c4 + h * h4; // key j starts at keys + j · C/4
        let last_key = min(first + ROWS, t) - 1u;

        // Row first + r is lane r of each vec4 below, and has its query and output in q<r>, o<r>.
        let lane = first + vec4<u32>(0u, 1u, 2u, 3u);
        var q0: array<vec4<f32>, MAX_H4>;
        var q1: array<vec4<f32>, MAX_H4>;
        var q2: array<vec4<f32>, MAX_H4>;
        var q3: array<vec4<f32>, MAX_H4>;
        let at = keys + min(lane, vec4<u32>(t - 1u)) * c4; // a row past T reads the last, unused
        for (var d = 0u; d < h4; d++) {
            q0[d] = q[at.x + d];
            q1[d] = q[at.y + d];
            q2[d] = q[at.z + d];
            q3[d] = q[at.w + d];
        }
        var best = vec4<f32>(-3.4e38);
        for (var j = 0u; j <= last_key; j++) {
            let kj = keys + j * c4;
            var s0 = vec4<f32>(0.0);
            var s1 = vec4<f32>(0.0);
            var s2 = vec4<f32>(0.0);
            var s3 = vec4<f32>(0.0);
            for (var d = 0u; d < h4; d++) {
                let key = k[kj + d];
                s0 += q0[d] * key;
                s1 += q1[d] * key;
                s2 += q2[d] * key;
                s3 += q3[d] * key;
            }
            let score = vec4<f32>(sum4(s0), sum4(s1), sum4(s2), sum4(s3)) * info.scale;
            best = select(best, max(best, score), vec4<u32>(j) <= lane);
        }
        var o0: array<vec4<f32>, MAX_H4>;
        var o1: array<vec4<f32>, MAX_H4>;
        var o2: array<vec4<f32>, MAX_H4>;
        var o3: array<vec4<f32>, MAX_H4>;
        var sum = vec4<f32>(0.0);
        for (var j = 0u; j <= last_key; j++) {
            let kj = keys + j * c4;
            var s0 = vec4<f32>(0.0);
            var s1 = vec4<f32>(0.0);
            var s2 = vec4<f32>(0.0);
            var s3 = vec4<f32>(0.0);
            for (var d = 0u; d < h4; d++) {
                let key = k[kj + d];
                s0 += q0[d] * key;
                s1 += q1[d] * key;
                s2 += q2[d] * key;
                s3 += q3[d] * key;
            }
            let score = vec4<f32>(sum4(s0), sum4(s1), sum4(s2), sum4(s3)) * info.scale;
            let p = select(vec4<f32>(0.0), exp(score - best), vec4<u32>(j) <= lane);
            sum += p;
            for (var d = 0u; d < h4; d++) {
                let value = v[kj + d];
                o0[d] += p.x * value;
                o1[d] += p.y * value;
                o2[d] += p.z * value;
                o3[d] += p.w * value;
            }
        }
        let rows = min(first + ROWS, t) - first;
        let written = keys + first * c4;
        for (var d = 0u; d < h4; d++) {
            y[written + d] = o0[d] / sum.x;
            if rows > 1u { y[written + c4 + d] = o1[d] / sum.y; }
            if rows > 2u { y[written + 2u * c4 + d] = o2[d] / sum.z; }
            if rows > 3u { y[written + 3u * c4 + d] = o3[d] / sum.w; }
        }
        let stats = bh * t + first;
        let row_lse = best + log(sum);
        lse[stats] = row_lse.x;
        if rows > 1u { lse[stats + 1u] = row_lse.y; }
        if rows > 2u { lse[stats + 2u] = row_lse.z; }
        if rows > 3u { lse[stats + 3u] = row_lse.w; }
    }
}
