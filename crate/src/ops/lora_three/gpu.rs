//! The one operation on burn's wgpu backend: `shaders/lora_fold.wgsl`, `shaders/matmul_three.wgsl`
//! (the register kernel's three products) and `shaders/lora_gradients.wgsl`.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};
use burn::tensor::Shape;

use super::{Adapter, KeptAdapter, LoraThreeKernels, ThreeAdapterGradients, backward_apart, forward_apart};
use crate::ops::VIEW_ALIGN;
use crate::ops::linear::gpu::{Folded, SIDE_BY_SIDE, Strided, THREE_BIAS, dims, three, tiled};
use crate::ops::shader::{LORA_FOLD, LORA_GRADIENTS};
use crate::ops::wgsl::{Info, empty, launch, optional_inputs, spacing, span, view, views, workgroups_for};

// `shaders/lora_fold.wgsl`'s own: what a dispatch writes, and how many layers it binds.
const FOLD: u32 = LORA_FOLD.constant("FOLD");
const WITH_A: u32 = LORA_FOLD.constant("WITH_A");
const GRADIENT: u32 = LORA_FOLD.constant("GRADIENT");
const LAYERS: usize = LORA_FOLD.constant("LAYERS") as usize;
// The side of a thread's tile in both shaders.
const TILE: usize = LORA_FOLD.constant("TILE") as usize;
const _: () = assert!(LORA_GRADIENTS.constant("TILE") as usize == TILE, "the two shaders' tiles agree");

/// Tiles of `TILE` × `TILE` covering an m × n matrix: the threads a dispatch runs for it.
fn tiles(m: usize, n: usize) -> usize {
    m.div_ceil(TILE) * n.div_ceil(TILE)
}

/// How far apart tensors of `values` values start in a buffer they share, so that each can be
/// bound alone as a view.
fn seg(values: usize) -> usize {
    values.next_multiple_of(VIEW_ALIGN)
}

/// The sizes every dispatch here reads: rows of x, d_in, d_out and the adapters' rank.
#[derive(Clone, Copy)]
struct Sizes {
    rows: usize,
    d_in: usize,
    d_out: usize,
    rank: usize,
}

/// An adapted layer as a fold reads it: W, its adapter, and where its dy starts in the
/// backward pass's one binding of the three.
struct FoldLayer<'a> {
    weight: &'a CubeTensor,
    adapter: &'a Adapter<CubeTensor>,
    dy_at: usize,
}

/// A fold's buffer: W'_l from l · `w_seg`, u_l from `u_at` + l · `u_seg`.
struct Fold {
    out: CubeTensor,
    w_seg: usize,
    u_at: usize,
    u_seg: usize,
}

/// One dispatch of `shaders/lora_fold.wgsl` for up to `LAYERS` layers: W' (with A's columns
/// when `WITH_A`) where `FOLD`, u = s · dy Bᵀ where `GRADIENT`, dy read from `dy`.
fn fold(layers: &[FoldLayer], sizes: Sizes, flags: u32, dy: Option<&CubeTensor>) -> Fold {
    let Sizes { rows, d_in, d_out, rank } = sizes;
    assert!((1..=LAYERS).contains(&layers.len()), "a fold binds one to {LAYERS} layers");
    let width = d_out + if flags & WITH_A != 0 { rank } else { 0 };
    let w_seg = if flags & FOLD != 0 { seg(d_in * width) } else { 0 };
    let u_seg = if flags & GRADIENT != 0 { seg(rows * rank) } else { 0 };
    let u_at = layers.len() * w_seg;
    let like = layers[0].weight;
    let out = empty(like, [(u_at + layers.len() * u_seg).max(1)]);
    let stand_ins = [(); 4].map(|_| empty(like, [1]));
    let second = layers.get(1);
    let info = Info::new().usize(d_in).usize(d_out).usize(rank).usize(rows).usize(layers.len()).u32(flags);
    let info = info.usize(w_seg).usize(u_at).usize(u_seg);
    let info = info.usize(layers[0].dy_at).usize(second.map_or(0, |l| l.dy_at));
    let info = info.f32(layers[0].adapter.scale).f32(second.map_or(0.0, |l| l.adapter.scale));
    let buffers = [
        layers[0].weight,
        second.map_or(&stand_ins[0], |l| l.weight),
        &layers[0].adapter.a,
        second.map_or(&stand_ins[1], |l| &l.adapter.a),
        &layers[0].adapter.b,
        second.map_or(&stand_ins[2], |l| &l.adapter.b),
        dy.unwrap_or(&stand_ins[3]),
        &out,
    ];
    let folds = if flags & FOLD != 0 { tiles(d_in, width) } else { 0 };
    let per_layer = folds + if flags & GRADIENT != 0 { tiles(rows, rank) } else { 0 };
    launch(&LORA_FOLD, workgroups_for(&LORA_FOLD, layers.len() * per_layer), &buffers, info);
    Fold { out, w_seg, u_at, u_seg }
}

/// The adapters' rank, when every adapted layer has the same one and one at least is adapted.
fn common_rank<'a>(adapters: impl Iterator<Item = &'a Adapter<CubeTensor>>) -> Option<usize> {
    let ranks: Vec<usize> = adapters.map(|a| dims(&a.a).1).collect();
    ranks.first().copied().filter(|r| ranks.iter().all(|s| s == r))
}

/// How far apart `tensors` start in one buffer (0 for one tensor), as `spacing` says.
fn spaced(tensors: &[CubeTensor]) -> Option<usize> {
    if tensors.len() == 1 { Some(0) } else { spacing(tensors) }
}

/// The adapted layers' x, W and adapters as the kernels read them: contiguous, none overlapping.
#[allow(clippy::type_complexity)]
fn contiguous(
    x: CubeTensor,
    weights: [CubeTensor; 3],
    adapters: [Option<Adapter<CubeTensor>>; 3],
) -> (CubeTensor, [CubeTensor; 3], [Option<Adapter<CubeTensor>>; 3]) {
    let scales = adapters.each_ref().map(|a| a.as_ref().map(|a| a.scale));
    let [w0, w1, w2] = weights.map(Some);
    let [l0, l1, l2] = adapters.map(|a| a.map(|a| (a.a, a.b)).unzip());
    let [x, w0, w1, w2, a0, b0, a1, b1, a2, b2] =
        optional_inputs([Some(x), w0, w1, w2, l0.0, l0.1, l1.0, l1.1, l2.0, l2.1]);
    let given = |t: Option<CubeTensor>| t.expect("given");
    let mut pairs = [(a0, b0), (a1, b1), (a2, b2)].into_iter();
    let adapters = scales.map(|scale| {
        let (a, b) = pairs.next().expect("one pair a layer");
        scale.map(|scale| Adapter { a: given(a), b: given(b), scale })
    });
    (given(x), [given(w0), given(w1), given(w2)], adapters)
}

impl LoraThreeKernels for CubeBackend {
    /// Two dispatches on the register kernel (three with three adapted layers): the folds, then
    /// the three products with q, k and v side by side and each x A after them in one buffer.
    fn lora_three_forward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        biases: [FloatTensor<Self>; 3],
        adapters: [Option<Adapter<FloatTensor<Self>>>; 3],
    ) -> ([FloatTensor<Self>; 3], [Option<FloatTensor<Self>>; 3]) {
        let rank = common_rank(adapters.iter().flatten());
        let Some(rank) = rank.filter(|_| !tiled(&x)) else {
            return forward_apart::<Self>(x, weights, biases, adapters);
        };
        let (x, w, adapters) = contiguous(x, weights, adapters);
        let [b0, b1, b2] = optional_inputs(biases.map(Some)).map(|b| b.expect("given"));
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&w[0]));
        let sizes = Sizes { rows, d_in, d_out, rank };
        let adapted: Vec<usize> = (0..3).filter(|&s| adapters[s].is_some()).collect();
        let mut folded: [Option<CubeTensor>; 3] = Default::default();
        for chunk in adapted.chunks(LAYERS) {
            let layers: Vec<FoldLayer> = chunk
                .iter()
                .map(|&s| FoldLayer { weight: &w[s], adapter: adapters[s].as_ref().expect("adapted"), dy_at: 0 })
                .collect();
            let f = fold(&layers, sizes, FOLD | WITH_A, None);
            for (l, &s) in chunk.iter().enumerate() {
                folded[s] = Some(view(&f.out, l * f.w_seg, [d_in, d_out + rank]));
            }
        }
        let (c_seg, low_seg) = (seg(rows * d_out), seg(rows * rank));
        let low_at = 3 * c_seg;
        let c = empty(&x, [low_at + adapted.len() * low_seg]);
        let adapted_bits = adapted.iter().map(|&s| 1u32 << s).sum();
        let bs = [0, 1, 2].map(|s| folded[s].as_ref().unwrap_or(&w[s]));
        let a = Strided { tensor: &x, row: d_in, col: 1 };
        let folds = Folded { rank, adapted: adapted_bits, low_at, low_seg };
        let flags = SIDE_BY_SIDE | THREE_BIAS;
        three((rows, d_out, d_in), (a, 0), (bs, (d_out, 1)), Some([&b0, &b1, &b2]), (&c, c_seg), flags, folds);
        let mut slot = 0;
        let lows = [0, 1, 2].map(|s| {
            adapters[s].is_some().then(|| {
                slot += 1;
                view(&c, low_at + (slot - 1) * low_seg, [rows, rank])
            })
        });
        (views(&c, c_seg, &Shape::from([rows, d_out])), lows)
    }

    /// Three dispatches on the register kernel (two when x takes no gradient, one more each
    /// for three adapted layers): the folds with each u, x's gradient, the adapters'. Layer by
    /// layer where the dy or the x A do not lie in one buffer at one spacing.
    fn lora_three_backward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        adapters: [KeptAdapter<FloatTensor<Self>>; 3],
        dys: [FloatTensor<Self>; 3],
        input: bool,
    ) -> ThreeAdapterGradients<Self> {
        let rank = common_rank(adapters.iter().flatten().map(|(_, a)| a));
        let lows: Vec<CubeTensor> = adapters.iter().flatten().map(|(low, _)| low.clone()).collect();
        let (a_seg, low_seg) = (spacing(&dys), if lows.is_empty() { None } else { spaced(&lows) });
        let (Some(rank), Some(a_seg), Some(low_seg), false) = (rank, a_seg, low_seg, tiled(&x)) else {
            return backward_apart::<Self>(x, weights, adapters, dys, input);
        };
        let [(l0, a0), (l1, a1), (l2, a2)] = adapters.map(|a| a.unzip());
        let (x, w, adapters) = contiguous(x, weights, [a0, a1, a2]);
        let lows = [l0, l1, l2];
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&w[0]));
        let sizes = Sizes { rows, d_in, d_out, rank };
        let dys = span(&dys[0], 2 * a_seg + rows * d_out);
        let adapted: Vec<usize> = (0..3).filter(|&s| adapters[s].is_some()).collect();
        // The folds first (x's gradient reads every W'), then x's gradient, then the adapters'.
        let flags = GRADIENT | if input { FOLD } else { 0 };
        let mut folded: [Option<CubeTensor>; 3] = Default::default();
        let folds: Vec<(&[usize], Fold)> = adapted
            .chunks(LAYERS)
            .map(|chunk| {
                let layers: Vec<FoldLayer> = chunk
                    .iter()
                    .map(|&s| FoldLayer {
                        weight: &w[s],
                        adapter: adapters[s].as_ref().expect("adapted"),
                        dy_at: s * a_seg,
                    })
                    .collect();
                let f = fold(&layers, sizes, flags, Some(&dys));
                if input {
                    for (l, &s) in chunk.iter().enumerate() {
                        folded[s] = Some(view(&f.out, l * f.w_seg, [d_in, d_out]));
                    }
                }
                (chunk, f)
            })
            .collect();
        let dx = input.then(|| {
            // Σ_s dy_s W'_sᵀ, each W'ᵀ read as W' with its strides swapped.
            let dx = empty(&x, [rows, d_in]);
            let a = Strided { tensor: &dys, row: d_out, col: 1 };
            let bs = [0, 1, 2].map(|s| folded[s].as_ref().unwrap_or(&w[s]));
            three((rows, d_in, d_out), (a, a_seg), (bs, (1, d_out)), None, (&dx, 0), 0, Folded::default());
            dx
        });
        let mut gradients: [Option<(CubeTensor, CubeTensor)>; 3] = Default::default();
        for (chunk, f) in folds {
            let at = |s: usize| chunk.get(s).copied();
            let layer = |l: usize| at(l).map(|s| (s * a_seg, adapters[s].as_ref().expect("adapted").scale));
            let first_low = lows[chunk[0]].as_ref().expect("an adapted layer keeps x A");
            let reach = (chunk.len() - 1) * low_seg + rows * rank;
            let out_seg = seg(d_in.max(d_out) * rank);
            let out = empty(&x, [2 * chunk.len() * out_seg]);
            let u = view(&f.out, f.u_at, [(chunk.len() - 1) * f.u_seg + rows * rank]);
            let info = Info::new().usize(rows).usize(d_in).usize(d_out).usize(rank).usize(chunk.len());
            let info = info.usize(f.u_seg).usize(low_seg).usize(out_seg);
            let layers = [0, 1, 2].map(|l| layer(l).unwrap_or((0, 0.0)));
            let info = layers.iter().fold(info, |info, &(dy_at, _)| info.usize(dy_at));
            let info = layers.iter().fold(info, |info, &(_, scale)| info.f32(scale));
            let threads = chunk.len() * (tiles(d_in, rank) + tiles(rank, d_out));
            let buffers = [&x, &u, &span(first_low, reach), &dys, &out];
            launch(&LORA_GRADIENTS, workgroups_for(&LORA_GRADIENTS, threads), &buffers, info);
            for (l, &s) in chunk.iter().enumerate() {
                let da = view(&out, 2 * l * out_seg, [d_in, rank]);
                gradients[s] = Some((da, view(&out, (2 * l + 1) * out_seg, [rank, d_out])));
            }
        }
        (dx, gradients)
    }
}
