//! A block's q, k and v where some of them carry a LoRA adapter on a frozen base, as one
//! operation of the backend's (`branch::project_three` calls it; all plain, they are
//! `LinearKernels::linear_three_*`). Each adapted layer is `y = x W + b + s · (x A) B
//! = x (W + s · A B) + b`, so on the GPU's register kernel the adapters are folded into their
//! bases and the three products run as one:
//!   forward   one dispatch folds `[W + s · A B | A]` for each adapted layer, one runs the three
//!             products with the biases, their wider columns giving each x A (two dispatches,
//!             where each adapted layer took two and each plain one one);
//!   backward  one dispatch folds W + s · A B again and takes u = s · dy Bᵀ, one sums the input's
//!             gradient Σ dy W'ᵀ, one writes every dA = xᵀ u and dB = s · (x A)ᵀ dy (three,
//!             where each adapted layer took four and each plain one one).
//! A dispatch folds two layers at most (WebGPU's eight storage buffers), so three adapted
//! layers take one more each way. Nothing d_in × d_out in size is kept between the passes: x A
//! is, as for one adapted layer (`ops::lora_linear`).
//!
//! Elsewhere (the CPU, a hardware GPU's tiled kernel, inputs not laid out as the one operation
//! reads them) the layers run one by one: `forward_apart`, `backward_apart`.

mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::FloatTensor;

use super::linear::{InputGradient, LinearKernels};
use super::lora_linear::LoraKernels;

/// A layer's adapter: A (d_in, r), B (r, d_out) and its scale α / r.
#[derive(Debug, Clone)]
pub struct Adapter<T> {
    pub a: T,
    pub b: T,
    pub scale: f32,
}

/// An adapted layer's adapter and the x A its forward pass kept, `None` for a plain, frozen
/// layer: what the backward pass reads beside W.
pub type KeptAdapter<T> = Option<(T, Adapter<T>)>;

/// x's gradient when asked for, and each adapted layer's (dA, dB).
pub type ThreeAdapterGradients<B> = (Option<FloatTensor<B>>, [Option<(FloatTensor<B>, FloatTensor<B>)>; 3]);

/// The kernels on one backend, without autodiff; x (rows, d_in), each dy (rows, d_out).
pub trait LoraThreeKernels: LinearKernels + LoraKernels {
    /// (x W_s + b_s [+ s · (x A_s) B_s], and x A_s for each adapted layer).
    #[allow(clippy::type_complexity)]
    fn lora_three_forward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        biases: [FloatTensor<Self>; 3],
        adapters: [Option<Adapter<FloatTensor<Self>>>; 3],
    ) -> ([FloatTensor<Self>; 3], [Option<FloatTensor<Self>>; 3]);

    /// x's gradient (the three layers' summed) when `input`, and the adapters' own; the plain
    /// layers are frozen.
    fn lora_three_backward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        adapters: [KeptAdapter<FloatTensor<Self>>; 3],
        dys: [FloatTensor<Self>; 3],
        input: bool,
    ) -> ThreeAdapterGradients<Self>;
}

/// The forward pass layer by layer: each adapted one `ops::lora_linear`'s, each plain one
/// `ops::linear`'s.
#[allow(clippy::type_complexity)]
pub fn forward_apart<B: LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    weights: [FloatTensor<B>; 3],
    biases: [FloatTensor<B>; 3],
    adapters: [Option<Adapter<FloatTensor<B>>>; 3],
) -> ([FloatTensor<B>; 3], [Option<FloatTensor<B>>; 3]) {
    let mut biases = biases.into_iter();
    let mut adapters = adapters.into_iter();
    let layers = weights.map(|weight| {
        let bias = biases.next().expect("one bias a layer");
        match adapters.next().expect("one entry a layer") {
            Some(Adapter { a, b, scale }) => {
                let (low, y) = B::lora_forward(x.clone(), weight, bias, a, b, scale, None);
                (y, Some(low))
            }
            None => (B::linear_forward(x.clone(), weight, Some(bias), None), None),
        }
    });
    let [(y0, l0), (y1, l1), (y2, l2)] = layers;
    ([y0, y1, y2], [l0, l1, l2])
}

/// The backward pass layer by layer, each input gradient summed onto the one before in its own
/// product.
pub fn backward_apart<B: LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    weights: [FloatTensor<B>; 3],
    adapters: [KeptAdapter<FloatTensor<B>>; 3],
    dys: [FloatTensor<B>; 3],
    input: bool,
) -> ThreeAdapterGradients<B> {
    let mut dx = None;
    let mut adapters = adapters.into_iter();
    let mut dys = dys.into_iter();
    let gradients = weights.map(|weight| {
        let dy = dys.next().expect("one dy a layer");
        let onward = InputGradient::plus(dx.take());
        match adapters.next().expect("one entry a layer") {
            Some((low, Adapter { a, b, scale })) => {
                let (d, da, db) = B::lora_backward(x.clone(), low, weight, a, b, scale, dy, input, onward);
                dx = d;
                Some((da, db))
            }
            None => {
                dx = B::linear_backward(x.clone(), weight, dy, input, false, onward).0;
                None
            }
        }
    });
    (dx, gradients)
}
