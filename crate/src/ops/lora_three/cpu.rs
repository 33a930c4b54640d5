//! On burn's CPU backend the layers run one by one: there a dispatch costs nothing, and folding
//! would only add the fold's arithmetic.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;

use super::{Adapter, KeptAdapter, LoraThreeKernels, ThreeAdapterGradients, backward_apart, forward_apart};

impl LoraThreeKernels for Flex {
    fn lora_three_forward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        biases: [FloatTensor<Self>; 3],
        adapters: [Option<Adapter<FloatTensor<Self>>>; 3],
    ) -> ([FloatTensor<Self>; 3], [Option<FloatTensor<Self>>; 3]) {
        forward_apart::<Self>(x, weights, biases, adapters)
    }

    fn lora_three_backward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        adapters: [KeptAdapter<FloatTensor<Self>>; 3],
        dys: [FloatTensor<Self>; 3],
        input: bool,
    ) -> ThreeAdapterGradients<Self> {
        backward_apart::<Self>(x, weights, adapters, dys, input)
    }
}
