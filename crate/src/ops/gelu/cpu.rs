//! GELU on burn's CPU backend with our vectorised kernel (f32; other dtypes go to burn's).

use burn::backend::Flex;
use burn::backend::ops::ActivationOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::DType;

use super::{GeluOps, math};
use crate::ops::host::{f32s, tensor};

impl GeluOps for Flex {
    fn exact_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
        if x.dtype() != DType::F32 {
            return Flex::gelu(x);
        }
        let x = x.to_contiguous();
        let input = f32s(&x);
        let out: Vec<f32> = input.iter().map(|&v| math::gelu(v)).collect();
        tensor(out, x.layout().shape().clone())
    }

    fn exact_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        if x.dtype() != DType::F32 || grad.dtype() != DType::F32 || x.layout().shape() != grad.layout().shape() {
            return Flex::gelu_backward(x, grad);
        }
        let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
        let mut out = f32s(&grad).to_vec();
        math::through_gelu(&mut out, f32s(&x));
        tensor(out, x.layout().shape().clone())
    }
}
