// Mean cross-entropy of logits against target ids, forward:
//   lse_r  = log Σ_j exp(logits_rj)                (subtracting the row's maximum first)
//   loss   = (1 / rows) · Σ_r (lse_r − logits_r,target_r)
// the log-softmax, the pick of the target and the mean in one kernel, where burn runs about
// eight. Also writes each row's lse for cross_entropy_backward.wgsl.
//
// Bindings: 0 logits (rows × vocab), 1 targets (rows, i32), 2 lse (rows), 3 loss (1 value),
// 4 the uniform below.
// Workgroup: a single workgroup of WORKGROUP_SIZE threads: each thread takes rows in turn
// and keeps its part of the sum, then the workgroup adds the parts in shared memory, so the
// mean needs no second dispatch. The loss rows of a step number a few thousand (batch ×
// context) and a row is one vocabulary wide (97 here): one workgroup's work.

struct Info {
    rows: u32,
    vocab: u32,
}

@group(0) @binding(0) var<storage, read_write> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<uniform> info: Info;

const WORKGROUP_SIZE: u32 = 256u;
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
    let vocab = info.vocab;
    var sum = 0.0;
    for (var row = lid; row < info.rows; row += WORKGROUP_SIZE) {
        let base = row * vocab;
        var best = -3.4e38;
        for (var j = 0u; j < vocab; j++) {
            best = max(best, logits[base + j]);
        }
        var total = 0.0;
        for (var j = 0u; j < vocab; j++) {
            total += exp(logits[base + j] - best);
        }
        let row_lse = best + log(total);
        lse[row] = row_lse;
        sum += row_lse - logits[base + u32(targets[row])];
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
        if (lid < stride) {
            partial[lid] += partial[lid + stride];
        }
        workgroupBarrier();
    }
    if (lid == 0u) {
        loss[0] = partial[0] / f32(info.rows);
    }
}
