//! The adapted projection on burn's wgpu backend: `shaders/matmul.wgsl`, whose second product
//! carries the adapter's path (summed into the base's) or the backward's second output.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{LoraKernels, LoraOps, ThreeAdapted};
use crate::ops::linear::InputGradient;
use crate::ops::linear::gpu::{
    Added, Product, Strided, dims, products, products_apart, products_gelu, products_through, tiled,
};
use crate::ops::shader::LORA_SIDE_BY_SIDE;
use crate::ops::wgsl::{
    Info, empty, inputs, launch, optional_inputs, pieces_for, side_by_side, spacing, span, view, workgroups_for,
};

impl LoraOps for CubeBackend {
    fn lora_projection(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
    ) -> FloatTensor<Self> {
        Self::lora_forward(x, weight, bias, a, b, scale, None, None).1
    }

    fn lora_projection_onto(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::lora_forward(x, weight, bias, a, b, scale, Some(residual), None).1
    }
}

/// A row-major matrix read as it is stored.
fn plain(t: &CubeTensor) -> Strided<'_> {
    Strided { tensor: t, row: dims(t).1, col: 1 }
}

/// A row-major matrix read transposed.
fn transposed(t: &CubeTensor) -> Strided<'_> {
    Strided { tensor: t, row: 1, col: dims(t).1 }
}

/// `scale · lhs rhs`, inner length k.
fn times<'a>(lhs: Strided<'a>, rhs: Strided<'a>, k: usize, scale: f32) -> Product<'a> {
    Product { a: lhs, b: rhs, k, scale }
}

/// x A (unless given), then `x W + b + scale · (x A) B (+ r)`, or with `gelu` its GELU and
/// itself: the forward pass, in two dispatches or one.
#[allow(clippy::too_many_arguments)]
fn forward(
    x: FloatTensor<CubeBackend>,
    weight: FloatTensor<CubeBackend>,
    bias: FloatTensor<CubeBackend>,
    a: FloatTensor<CubeBackend>,
    b: FloatTensor<CubeBackend>,
    scale: f32,
    residual: Option<FloatTensor<CubeBackend>>,
    low: Option<FloatTensor<CubeBackend>>,
    gelu: bool,
) -> (CubeTensor, CubeTensor, Option<CubeTensor>) {
    let [x, weight, bias, a, b, residual, low] =
        optional_inputs([Some(x), Some(weight), Some(bias), Some(a), Some(b), residual, low]);
    let [x, weight, bias, a, b] = [x, weight, bias, a, b].map(|t| t.expect("given"));
    let ((rows, d_in), (_, d_out), (_, rank)) = (dims(&x), dims(&weight), dims(&a));
    let low = low.unwrap_or_else(|| {
        products((rows, rank), times(plain(&x), plain(&a), d_in, 1.0), None, Added::default(), false).0
    });
    let adapter = Some(times(plain(&low), plain(&b), rank, scale));
    let added = Added { bias: Some(&bias), residual: residual.as_ref() };
    let base = times(plain(&x), plain(&weight), d_in, 1.0);
    if gelu {
        let (activation, h) = products_gelu((rows, d_out), base, adapter, added);
        return (low, activation, Some(h));
    }
    let y = products((rows, d_out), base, adapter, added, false).0;
    (low, y, None)
}

impl LoraKernels for CubeBackend {
    fn lora_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        residual: Option<FloatTensor<Self>>,
        low: Option<FloatTensor<Self>>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (low, y, _) = forward(x, weight, bias, a, b, scale, residual, low, false);
        (low, y)
    }

    fn lora_gelu_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        low: Option<FloatTensor<Self>>,
    ) -> [FloatTensor<Self>; 3] {
        let (low, activation, h) = forward(x, weight, bias, a, b, scale, None, low, true);
        [low, activation, h.expect("GELU's input comes back")]
    }

    fn lora_backward(
        x: FloatTensor<Self>,
        low: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scale: f32,
        dy: FloatTensor<Self>,
        input_gradient: bool,
        onward: InputGradient<FloatTensor<Self>>,
    ) -> (Option<FloatTensor<Self>>, FloatTensor<Self>, FloatTensor<Self>) {
        let [x, low, weight, a, b, dy, g] =
            optional_inputs([Some(x), Some(low), Some(weight), Some(a), Some(b), Some(dy), onward.tensor().cloned()]);
        let [x, low, weight, a, b, dy] = [x, low, weight, a, b, dy].map(|t| t.expect("given"));
        let ((rows, d_in), (_, d_out), (_, rank)) = (dims(&x), dims(&weight), dims(&a));
        // dB and d(x A) both read dy: one dispatch with two outputs on a hardware GPU.
        let db = times(transposed(&low), plain(&dy), rows, scale);
        let d_low = times(plain(&dy), transposed(&b), d_out, scale);
        let (db, _, d_low) = products_apart((rank, d_out), db, false, (rows, rank), d_low, InputGradient::Alone);
        let da =
            products((d_in, rank), times(transposed(&x), plain(&d_low), rows, 1.0), None, Added::default(), false).0;
        let dx = input_gradient.then(|| {
            let adapter = times(plain(&d_low), transposed(&a), rank, 1.0);
            let input = times(plain(&dy), transposed(&weight), d_out, 1.0);
            products_through((rows, d_in), input, Some(adapter), onward.with(g.as_ref()))
        });
        (dx, da, db)
    }

    /// One dispatch of `shaders/lora_side_by_side.wgsl` on a software adapter; a hardware GPU's
    /// LayerNorm writes x A instead (`ops::layer_norm`).
    fn lows_side_by_side(x: FloatTensor<Self>, a: &[FloatTensor<Self>]) -> Option<Vec<FloatTensor<Self>>> {
        if tiled(&x) {
            return None;
        }
        let rank = one_rank(a)?;
        let [x] = inputs([x]);
        let a: Vec<CubeTensor> = a.iter().cloned().map(contiguous).collect();
        let (rows, d_in) = dims(&x);
        Some(side_by_side_products((rows, rank, d_in), (plain(&x), 0), (&a, (rank, 1)), None, [1.0; 3]).0)
    }

    /// Two dispatches of `shaders/lora_side_by_side.wgsl` for every adapter's d(x A) and dB, then
    /// dA, then x's gradient as the layers' products summed one onto the other, as each layer's
    /// own backward pass sums it. Run so on a software adapter, where the adapters' x A and dy
    /// each lie in one buffer at one spacing (as `lows_side_by_side` and attention's backward pass
    /// write them) and the sums over the rows need not be cut into pieces.
    fn lora_three_backward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        adapters: [Option<([FloatTensor<Self>; 3], f32)>; 3],
        dys: [FloatTensor<Self>; 3],
        input: bool,
    ) -> Option<ThreeAdapted<Self>> {
        if tiled(&x) {
            return None;
        }
        let adapted: Vec<usize> = (0..3).filter(|&s| adapters[s].is_some()).collect();
        let adapter = |s: usize| adapters[s].as_ref().expect("adapted");
        let part = |i: usize| -> Vec<CubeTensor> { adapted.iter().map(|&s| adapter(s).0[i].clone()).collect() };
        let (lows, a, b) = (part(0), part(1), part(2));
        let (a, b): (Vec<_>, Vec<_>) =
            (a.into_iter().map(contiguous).collect(), b.into_iter().map(contiguous).collect());
        let mut scales = [1.0; 3];
        for (i, &s) in adapted.iter().enumerate() {
            scales[i] = adapter(s).1;
        }
        let rank = one_rank(&a)?;
        let [x] = inputs([x]);
        let weights = weights.map(contiguous);
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&weights[0]));
        let adapted_dys: Vec<CubeTensor> = adapted.iter().map(|&s| dys[s].clone()).collect();
        let (low_seg, dy_seg) = (spacing(&lows)?, spacing(&adapted_dys)?);
        let n = adapted.len();
        let whole = |shape| pieces_for(side_by_side_threads(shape, n), rows) == 1;
        if !whole((rank, d_out)) || !whole((d_in, rank)) {
            return None;
        }
        // d(x A)_s = scale_s · dy_s B_sᵀ (B_sᵀ read as B_s with its strides swapped), and from
        // the same dispatch dB_s = scale_s · (x A_s)ᵀ dy_s.
        let dy_span = span(&adapted_dys[0], (n - 1) * dy_seg + rows * d_out);
        let dy = Strided { tensor: &dy_span, row: d_out, col: 1 };
        let low_span = span(&lows[0], (n - 1) * low_seg + rows * rank);
        let low = Strided { tensor: &low_span, row: 1, col: rank };
        let db = Second { shape: (rank, d_out, rows), a: low, a_seg: low_seg, b: (d_out, 1), b_seg: dy_seg };
        let (d_lows, dbs) =
            side_by_side_products((rows, rank, d_out), (dy, dy_seg), (&b, (1, d_out)), Some(db), scales);
        // dA_s = xᵀ d(x A)_s.
        let xt = Strided { tensor: &x, row: 1, col: d_in };
        let das = side_by_side_products((d_in, rank, rows), (xt, 0), (&d_lows, (rank, 1)), None, [1.0; 3]).0;
        let dx = input.then(|| {
            let mut dx: Option<CubeTensor> = None;
            for s in 0..3 {
                let base = times(plain(&dys[s]), transposed(&weights[s]), d_out, 1.0);
                let i = adapted.iter().position(|&t| t == s);
                let adapter = i.map(|i| times(plain(&d_lows[i]), transposed(&a[i]), rank, 1.0));
                let then = dx.as_ref().map_or(InputGradient::Alone, InputGradient::Plus);
                dx = Some(products_through((rows, d_in), base, adapter, then));
            }
            dx.expect("three layers")
        });
        let mut gradients = [None, None, None];
        for ((s, da), db) in adapted.into_iter().zip(das).zip(dbs) {
            gradients[s] = Some((da, db));
        }
        Some((dx, gradients))
    }
}

/// `shaders/lora_side_by_side.wgsl`'s tile side.
const SIDE_BY_SIDE_TILE: usize = LORA_SIDE_BY_SIDE.constant("TILE") as usize;

/// Threads `side_by_side_products` runs for `products` products of (m × n): one per tile.
fn side_by_side_threads((m, n): (usize, usize), products: usize) -> usize {
    products * m.div_ceil(SIDE_BY_SIDE_TILE) * n.div_ceil(SIDE_BY_SIDE_TILE)
}

/// A second kind of product in the same dispatch: D_s (m × n) = scale_s · A_s B_s (inner length
/// k), the A_s `a_seg` values apart from `a`'s start, each B_s read from the first kind's A
/// buffer, `b_seg` values apart with `b`'s (row, col) strides (both kinds read dy there).
struct Second<'a> {
    shape: (usize, usize, usize),
    a: Strided<'a>,
    a_seg: usize,
    b: (usize, usize),
    b_seg: usize,
}

/// One product for each of `bs` (up to three) in one dispatch of
/// `shaders/lora_side_by_side.wgsl`: C_s (m × n) = scales[s] · A_s B_s (inner length k), A_s
/// `a_seg` values apart from `a`'s start (0: one A for all), every B_s read with one pair of
/// (row, col) strides; and with `second` its products too. The C_s and D_s come back as views of
/// a new buffer each.
fn side_by_side_products(
    (m, n, k): (usize, usize, usize),
    (a, a_seg): (Strided, usize),
    (bs, (b_row, b_col)): (&[CubeTensor], (usize, usize)),
    second: Option<Second>,
    scales: [f32; 3],
) -> (Vec<CubeTensor>, Vec<CubeTensor>) {
    let count = bs.len();
    let (c, c_seg) = side_by_side(a.tensor, count, &[m, n].into());
    let stand_in = || empty(&c, [1]);
    let (m2, n2, k2) = second.as_ref().map_or((0, 0, 0), |second| second.shape);
    let (c2, c2_seg) = if second.is_some() { side_by_side(a.tensor, count, &[m2, n2].into()) } else { (stand_in(), 0) };
    let info = Info::new().usize(m).usize(n).usize(k).usize(a.row).usize(a.col).usize(a_seg);
    let info = info.usize(b_row).usize(b_col).usize(c_seg).usize(count);
    let info = info.f32(scales[0]).f32(scales[1]).f32(scales[2]).usize(m2).usize(n2).usize(k2);
    let stand_in_a2 = stand_in();
    let info = match &second {
        Some(d) => info.usize(d.a.row).usize(d.a.col).usize(d.a_seg).usize(d.b.0).usize(d.b.1).usize(d.b_seg),
        None => info.u32(0).u32(0).u32(0).u32(0).u32(0).u32(0),
    };
    let info = info.usize(c2_seg);
    let a2 = second.as_ref().map_or(&stand_in_a2, |d| d.a.tensor);
    let stand_ins = [(); 3].map(|_| stand_in());
    let b = |s: usize| bs.get(s).unwrap_or(&stand_ins[s]);
    let threads = side_by_side_threads((m, n), count) + side_by_side_threads((m2, n2), count);
    let groups = workgroups_for(&LORA_SIDE_BY_SIDE, threads);
    launch(&LORA_SIDE_BY_SIDE, groups, &[a.tensor, b(0), b(1), b(2), &c, a2, &c2], info);
    let views = |buffer: &CubeTensor, seg: usize, shape: [usize; 2]| -> Vec<CubeTensor> {
        (0..count).map(|s| view(buffer, s * seg, shape)).collect()
    };
    (views(&c, c_seg, [m, n]), if second.is_some() { views(&c2, c2_seg, [m2, n2]) } else { Vec::new() })
}

/// A parameter as the shaders read it (`wgsl::inputs`).
fn contiguous(t: CubeTensor) -> CubeTensor {
    let [t] = inputs([t]);
    t
}

/// The rank the adapters share; None when they differ (or there are none).
fn one_rank(a: &[CubeTensor]) -> Option<usize> {
    let rank = dims(a.first()?).1;
    a.iter().all(|a| dims(a).1 == rank).then_some(rank)
}
