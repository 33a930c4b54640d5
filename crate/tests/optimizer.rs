//! Our AdamW keeps state for the parameters that train and no others. (Its updates against
//! burn's AdamW: `ops::check`, run by tests/ops.rs.)

mod common;

use burn::module::Param;
use burn::nn::Linear;
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use common::*;
use finetune_lab::optimizer::AdamW;

#[test]
fn frozen_parameters_get_no_state() {
    let device = cpu().autodiff();
    let weight = Tensor::from_data(TensorData::new(pattern(37 * 29, 1, 0.5), [37, 29]), &device);
    let bias = Tensor::from_data(TensorData::new(pattern(29, 3, 0.5), [29]), &device);
    let layer =
        Linear { weight: Param::from_tensor(weight).set_require_grad(false), bias: Some(Param::from_tensor(bias)) };
    let x = Tensor::<2>::from_data(TensorData::new(pattern(5 * 37, 2, 1.0), [5, 37]), &device);
    let grads = GradientsParams::from_grads(layer.forward(x).sum().backward(), &layer);
    let mut optim = AdamW::new(0.0, Some(1.0));
    let _ = optim.step(1e-2, layer, grads);
    assert_eq!((optim.tensors_with_state(), optim.state_bytes()), (1, 2 * 4 * 29));
}
