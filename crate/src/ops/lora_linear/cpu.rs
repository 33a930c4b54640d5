//! The adapted projection on burn's CPU backend: `gemm` products accumulating into one output.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use burn_flex::FlexTensor;

use super::{LoraKernels, LoraOps};
use crate::ops::gelu::GeluOps;
use crate::ops::gemm::{View, matmul};
use crate::ops::host::{bias_and_residual, f32s, go_on, tensor};
use crate::ops::linear::InputGradient;

impl LoraOps for Flex {
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

/// (rows, columns) of a 2-D tensor.
fn dims(t: &FlexTensor) -> (usize, usize) {
    let shape = t.layout().shape();
    (shape[0], shape[1])
}

/// `dst (m × n) = scale · lhs (m × k) · rhs (k × n)`, added to what `dst` holds when
/// `accumulate`; each operand row-major, read transposed when asked.
#[allow(clippy::too_many_arguments)]
fn product(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    lhs: &[f32],
    lhs_transposed: bool,
    rhs: &[f32],
    rhs_transposed: bool,
    scale: f32,
    accumulate: bool,
) {
    let view = |rows: usize, cols: usize, transposed: bool| match transposed {
        false => View::rows(0, cols),
        true => View::rows(0, rows).transposed(),
    };
    let (l, r) = (view(m, k, lhs_transposed), view(k, n, rhs_transposed));
    matmul((m, n, k), dst, View::rows(0, n), lhs, l, rhs, r, scale, accumulate);
}

impl LoraKernels for Flex {
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
        let [x, weight, bias, a, b] = [x, weight, bias, a, b].map(|t| t.to_contiguous());
        let ((rows, d_in), (_, d_out), (_, rank)) = (dims(&x), dims(&weight), dims(&a));
        let xs = f32s(&x);
        let low = match low {
            Some(low) => f32s(&low.to_contiguous()).to_vec(),
            None => {
                let mut low = vec![0.0; rows * rank];
                product((rows, rank, d_in), &mut low, xs, false, f32s(&a), false, 1.0, false);
                low
            }
        };
        // The bias in every row (and the residual), then both products added to it.
        let residual = residual.map(|t| t.to_contiguous());
        let mut y = bias_and_residual(rows, d_out, Some(f32s(&bias)), residual.as_ref().map(f32s));
        product((rows, d_out, d_in), &mut y, xs, false, f32s(&weight), false, 1.0, true);
        product((rows, d_out, rank), &mut y, &low, false, f32s(&b), false, scale, true);
        (tensor(low, [rows, rank]), tensor(y, [rows, d_out]))
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
        let (low, h) = Self::lora_forward(x, weight, bias, a, b, scale, None, low);
        [low, Self::exact_gelu(h.clone()), h]
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
        let [x, low, weight, a, b, dy] = [x, low, weight, a, b, dy].map(|t| t.to_contiguous());
        let ((rows, d_in), (_, d_out), (_, rank)) = (dims(&x), dims(&weight), dims(&a));
        let (xs, lows, dys, a_s) = (f32s(&x), f32s(&low), f32s(&dy), f32s(&a));
        let mut db = vec![0.0; rank * d_out];
        product((rank, d_out, rows), &mut db, lows, true, dys, false, scale, false);
        let mut d_low = vec![0.0; rows * rank];
        product((rows, rank, d_out), &mut d_low, dys, false, f32s(&b), true, scale, false);
        let mut da = vec![0.0; d_in * rank];
        product((d_in, rank, rows), &mut da, xs, true, &d_low, false, 1.0, false);
        let dx = input_gradient.then(|| {
            let mut dx = vec![0.0; rows * d_in];
            product((rows, d_in, d_out), &mut dx, dys, false, f32s(&weight), true, 1.0, false);
            product((rows, d_in, rank), &mut dx, &d_low, false, a_s, true, 1.0, true);
            go_on(&mut dx, onward);
            tensor(dx, [rows, d_in])
        });
        (dx, tensor(da, [d_in, rank]), tensor(db, [rank, d_out]))
    }
}
