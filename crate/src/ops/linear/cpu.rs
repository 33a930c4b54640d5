//! Linear's kernels on burn's CPU backend: `gemm` products on strided views (`ops::gemm`).

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;
use burn_flex::FlexTensor;

use super::{InputGradient, LinearGradients, LinearKernels, LinearOps};
use crate::ops::gelu::GeluOps;
use crate::ops::gemm::{View, matmul};
use crate::ops::host::{bias_and_residual, f32s, go_on, tensor};

impl LinearOps for Flex {
    fn linear_biased(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, Some(bias), None)
    }

    fn linear_unbiased(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, None, None)
    }

    fn linear_onto(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::linear_forward(x, weight, Some(bias), Some(residual))
    }
}

/// (rows, columns) of a 2-D tensor.
fn dims(t: &FlexTensor) -> (usize, usize) {
    let shape = t.layout().shape();
    (shape[0], shape[1])
}

impl LinearKernels for Flex {
    fn linear_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        residual: Option<FloatTensor<Self>>,
    ) -> FloatTensor<Self> {
        let (x, weight) = (x.to_contiguous(), weight.to_contiguous());
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&weight));
        let (bias, residual) = (bias.map(|t| t.to_contiguous()), residual.map(|t| t.to_contiguous()));
        let mut y = bias_and_residual(rows, d_out, bias.as_ref().map(f32s), residual.as_ref().map(f32s));
        let (xs, ws) = (f32s(&x), f32s(&weight));
        matmul(
            (rows, d_out, d_in),
            &mut y,
            View::rows(0, d_out),
            xs,
            View::rows(0, d_in),
            ws,
            View::rows(0, d_out),
            1.0,
            true,
        );
        tensor(y, [rows, d_out])
    }

    fn linear_gelu_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let h = Self::linear_forward(x, weight, Some(bias), None);
        (Self::exact_gelu(h.clone()), h)
    }

    fn linear_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        input: bool,
        params: bool,
        onward: InputGradient<FloatTensor<Self>>,
    ) -> LinearGradients<Self> {
        let (x, weight, dy) = (x.to_contiguous(), weight.to_contiguous(), dy.to_contiguous());
        let ((rows, d_in), (_, d_out)) = (dims(&x), dims(&weight));
        let (xs, ws, dys) = (f32s(&x), f32s(&weight), f32s(&dy));
        let dx = input.then(|| {
            let mut dx = vec![0.0; rows * d_in];
            let w_t = View::rows(0, d_out).transposed();
            matmul((rows, d_in, d_out), &mut dx, View::rows(0, d_in), dys, View::rows(0, d_out), ws, w_t, 1.0, false);
            go_on(&mut dx, onward);
            tensor(dx, [rows, d_in])
        });
        let params = params.then(|| {
            let mut dw = vec![0.0; d_in * d_out];
            let x_t = View::rows(0, d_in).transposed();
            matmul((d_in, d_out, rows), &mut dw, View::rows(0, d_out), xs, x_t, dys, View::rows(0, d_out), 1.0, false);
            let mut db = vec![0.0; d_out];
            for row in dys.chunks_exact(d_out) {
                db.iter_mut().zip(row).for_each(|(s, v)| *s += v);
            }
            (tensor(dw, [d_in, d_out]), tensor(db, [d_out]))
        });
        (dx, params)
    }
}
