//! The adapted projection on burn's wgpu backend: `shaders/matmul.wgsl`, whose second product
//! carries the adapter's path (summed into the base's) or the backward's second output.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{LoraKernels, LoraOps};
use crate::ops::linear::InputGradient;
use crate::ops::linear::gpu::{
    Added, Product, Strided, dims, products, products_apart, products_gelu, products_through,
};
use crate::ops::wgsl::optional_inputs;

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
}
