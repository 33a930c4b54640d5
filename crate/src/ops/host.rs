//! Reading and making burn CPU-backend tensors as plain `f32` slices, for the Rust twins of our
//! kernels (each op's `cpu.rs`).

use burn::tensor::{DType, Shape, TensorData};
use burn_flex::FlexTensor;

use super::gelu::math;
use super::linear::InputGradient;

/// The values of a contiguous f32 tensor (callers make it contiguous first).
pub fn f32s(tensor: &FlexTensor) -> &[f32] {
    tensor.as_slice().expect("a contiguous f32 tensor")
}

/// A tensor of `values` in `shape`.
pub fn tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// A projection's output (rows × d_out) before its products are added: the residual when given,
/// plus the bias in every row when given.
pub fn bias_and_residual(rows: usize, d_out: usize, bias: Option<&[f32]>, residual: Option<&[f32]>) -> Vec<f32> {
    let mut y = residual.map_or_else(|| vec![0.0; rows * d_out], <[f32]>::to_vec);
    if let Some(bias) = bias {
        for row in y.chunks_exact_mut(d_out) {
            row.iter_mut().zip(bias).for_each(|(y, b)| *y += b);
        }
    }
    y
}

/// A layer's input gradient `dx` (dy Wᵀ) taken on as `onward` says: through the GELU before the
/// layer, or onto the gradient its input has from elsewhere.
pub fn go_on(dx: &mut [f32], onward: InputGradient<FlexTensor>) {
    match onward {
        InputGradient::Alone => {}
        InputGradient::ThroughGelu(h) => math::through_gelu(dx, f32s(&h.to_contiguous())),
        InputGradient::Plus(g) => dx.iter_mut().zip(f32s(&g.to_contiguous())).for_each(|(d, g)| *d += g),
    }
}

/// Token ids as indices, whatever integer type the backend stores them in.
pub fn ids(ids: FlexTensor) -> Vec<usize> {
    let ids = ids.to_contiguous();
    match ids.dtype() {
        DType::I64 => ids.as_slice::<i64>().expect("contiguous").iter().map(|&t| t as usize).collect(),
        DType::I32 => ids.as_slice::<i32>().expect("contiguous").iter().map(|&t| t as usize).collect(),
        other => panic!("token ids stored as {other:?}"),
    }
}
