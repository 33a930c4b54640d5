//! The adapted projection on burn's wgpu backend: `shaders/matmul.wgsl`, whose second product
//! carries the adapter's path (summed into the base's) or the backward's second output.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{LoraKernels, LoraOps, ThreeAdapted};
use crate::ops::linear::gpu::{
    Added, Product, SIDE_BY_SIDE, Strided, UNSCALED, dims, products, products_apart, products_gelu, products_through,
    three, three_threads, tiled,
};
use crate::ops::linear::{InputGradient, LinearKernels};
use crate::ops::wgsl::{inputs, optional_inputs, pieces_for, side_by_side, spacing, span, view};

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

    /// One dispatch of `shaders/matmul_three.wgsl` on the register kernel; the tiled kernel's
    /// LayerNorm writes x A instead (`ops::layer_norm`).
    fn lows_side_by_side(x: FloatTensor<Self>, a: &[FloatTensor<Self>]) -> Option<Vec<FloatTensor<Self>>> {
        if tiled(&x) {
            return None;
        }
        let rank = one_rank(a)?;
        let [x] = inputs([x]);
        let a: Vec<CubeTensor> = a.iter().map(|a| contiguous(a.clone())).collect();
        let (rows, d_in) = dims(&x);
        let (low, seg) = side_by_side(&x, a.len(), &[rows, rank].into());
        let bs: Vec<&CubeTensor> = a.iter().collect();
        three((rows, rank, d_in), (plain(&x), 0), (&bs, (rank, 1)), None, (&low, seg), SIDE_BY_SIDE, UNSCALED);
        Some((0..a.len()).map(|s| view(&low, s * seg, [rows, rank])).collect())
    }

    /// Three dispatches for every adapter's d(x A), dB and dA, and two or three for dx: the
    /// three layers' `dy Wᵀ` summed in one (`linear_three_backward`), then the adapters' `d(x A)
    /// Aᵀ` two to a product onto it. Run so where the adapters' x A and dy each lie in one buffer
    /// at one spacing (as `lows_side_by_side` and attention's backward pass write them) and their
    /// sums over the rows need not be cut into pieces; on the register kernel only.
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
        let part = |i: usize| adapted.iter().map(|&s| adapters[s].as_ref().expect("adapted").0[i].clone()).collect();
        let mut scales = UNSCALED;
        for (i, &s) in adapted.iter().enumerate() {
            scales[i] = adapters[s].as_ref().expect("adapted").1;
        }
        let (lows, a, b): (Vec<CubeTensor>, Vec<CubeTensor>, Vec<CubeTensor>) = (part(0), part(1), part(2));
        let (a, b): (Vec<_>, Vec<_>) =
            (a.into_iter().map(contiguous).collect(), b.into_iter().map(contiguous).collect());
        let [x] = inputs([x]);
        let rank = one_rank(&a)?;
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&weights[0]));
        let adapted_dys: Vec<CubeTensor> = adapted.iter().map(|&s| dys[s].clone()).collect();
        let apart = |ts: &[CubeTensor]| if ts.len() == 1 { Some(0) } else { spacing(ts) };
        let (low_seg, dy_seg) = (apart(&lows)?, apart(&adapted_dys)?);
        let n = adapted.len();
        let whole = |shape| pieces_for(three_threads(shape, n, SIDE_BY_SIDE), rows) == 1;
        if !whole((rank, d_out)) || !whole((d_in, rank)) {
            return None;
        }
        let views = |buffer: &CubeTensor, seg: usize, shape: [usize; 2]| -> Vec<CubeTensor> {
            (0..n).map(|s| view(buffer, s * seg, shape)).collect()
        };
        // d(x A)_s = scale · dy_s B_sᵀ, B_sᵀ read as B_s with its strides swapped.
        let dy_span = span(&adapted_dys[0], (n - 1) * dy_seg + rows * d_out);
        let (d_low, seg) = side_by_side(&x, n, &[rows, rank].into());
        let dy = Strided { tensor: &dy_span, row: d_out, col: 1 };
        three((rows, rank, d_out), (dy, dy_seg), (&refs(&b), (1, d_out)), None, (&d_low, seg), SIDE_BY_SIDE, scales);
        let d_lows = views(&d_low, seg, [rows, rank]);
        // dB_s = scale · (x A_s)ᵀ dy_s.
        let low_span = span(&lows[0], (n - 1) * low_seg + rows * rank);
        let (db, seg) = side_by_side(&x, n, &[rank, d_out].into());
        let low = Strided { tensor: &low_span, row: 1, col: rank };
        let dys_read = (&refs(&adapted_dys)[..], (d_out, 1));
        three((rank, d_out, rows), (low, low_seg), dys_read, None, (&db, seg), SIDE_BY_SIDE, scales);
        let dbs = views(&db, seg, [rank, d_out]);
        // dA_s = xᵀ d(x A)_s.
        let (da, seg) = side_by_side(&x, n, &[d_in, rank].into());
        let xt = Strided { tensor: &x, row: 1, col: d_in };
        three((d_in, rank, rows), (xt, 0), (&refs(&d_lows), (rank, 1)), None, (&da, seg), SIDE_BY_SIDE, UNSCALED);
        let das = views(&da, seg, [d_in, rank]);
        let dx = input.then(|| {
            let (dx, _) = Self::linear_three_backward(x.clone(), weights, dys, true, false);
            let mut dx = dx.expect("asked for the input's gradient");
            for pair in (0..n).collect::<Vec<_>>().chunks(2) {
                let adapter = |s: usize| times(plain(&d_lows[s]), transposed(&a[s]), rank, 1.0);
                let second = pair.get(1).map(|&s| adapter(s));
                dx = products_through((rows, d_in), adapter(pair[0]), second, InputGradient::Plus(&dx));
            }
            dx
        });
        let mut gradients = [None, None, None];
        for ((s, da), db) in adapted.into_iter().zip(das).zip(dbs) {
            gradients[s] = Some((da, db));
        }
        Some((dx, gradients))
    }
}

/// A parameter as the shaders read it (`wgsl::inputs`).
fn contiguous(t: CubeTensor) -> CubeTensor {
    let [t] = inputs([t]);
    t
}

/// The tensors as a list of references, as `three` takes its B.
fn refs(ts: &[CubeTensor]) -> Vec<&CubeTensor> {
    ts.iter().collect()
}

/// The rank the adapters share; None when they differ (or there are none).
fn one_rank(a: &[CubeTensor]) -> Option<usize> {
    let rank = dims(a.first()?).1;
    a.iter().all(|a| dims(a).1 == rank).then_some(rank)
}
