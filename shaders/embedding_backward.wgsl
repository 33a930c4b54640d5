// The embeddings' backward pass, both tables in one dispatch:
//   dtok[v, c] = Σ over tokens n with ids[n] = v of dx[n, c]
//   dpos[t, c] = Σ over sequences b of dx[b · T + t, c]       (0 for positions t ≥ T)
// where burn fills each table's gradient with zeros and scatters into it, two kernels a table.
//
// The token table: a thread owns one column c of every token row, and walks the tokens in
// order adding dx[n, c] into its column of token ids[n]'s row. No two threads write one value,
// so no atomics are needed (WGSL has none for f32), and the work is (vocab + rows) a thread, not
// the vocab × rows of a thread per value scanning every id. With many rows the host may cut
// them into pieces of `rows_piece`: piece s writes its partial table to dtok[s · vocab · C ..]
// and the host adds the pieces up (as matmul.wgsl's pieces). The position table: a thread per
// value, summing down the batch.
//
// Bindings: 0 ids (B · T, 32-bit), 1 dx ((B · T) × C), 2 dtok (pieces × vocab × C), 3 dpos
// (context × C), 4 the uniform below.
// Workgroup: a thread per (piece, column) of the token table, then one per value of the
// position table; threads stride if the grid is capped.

struct Info {
    rows: u32,       // B · T
    seq: u32,        // T
    dim: u32,        // C
    vocab: u32,
    context: u32,    // rows of the position table: at least T
    rows_piece: u32, // tokens per piece of the token table's sums
}

@group(0) @binding(0) var<storage, read_write> ids: array<i32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<storage, read_write> dtok: array<f32>;
@group(0) @binding(3) var<storage, read_write> dpos: array<f32>;
@group(0) @binding(4) var<uniform> info: Info;

const WORKGROUP_SIZE: u32 = 64u;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let pieces = max(1u, (info.rows + info.rows_piece - 1u) / info.rows_piece);
    let tok_threads = pieces * info.dim;
    for (var i = id.x; i < tok_threads + info.context * info.dim; i += groups.x * WORKGROUP_SIZE) {
        if (i < tok_threads) {
            token_column(i / info.dim, i % info.dim);
        } else {
            position_value(i - tok_threads);
        }
    }
}

// Column c of piece `piece`'s partial token table.
fn token_column(piece: u32, c: u32) {
    let table = piece * info.vocab * info.dim;
    for (var v = 0u; v < info.vocab; v++) {
        dtok[table + v * info.dim + c] = 0.0;
    }
    for (var n = piece * info.rows_piece; n < min(info.rows, (piece + 1u) * info.rows_piece); n++) {
        let at = table + u32(ids[n]) * info.dim + c;
        dtok[at] += dx[n * info.dim + c];
    }
}

// Value j of the position table.
fn position_value(j: u32) {
    let t = j / info.dim;
    let c = j % info.dim;
    var sum = 0.0;
    if (t < info.seq) {
        for (var n = t; n < info.rows; n += info.seq) {
            sum += dx[n * info.dim + c];
        }
    }
    dpos[j] = sum;
}
