//! The first half of a pre-LN transformer block as one operation of ours:
//!   y = x + attention(n W_q + b_q, n W_k + b_k, n W_v + b_v) W_o + b_o,   n = LayerNorm(x),
//! each projection plain or carrying a LoRA adapter on a frozen base (the browser's recipe
//! adapts q and v, the page's all four). Its forward pass is the kernels of the pieces: the
//! LayerNorm (on a hardware GPU writing n A for two of q's, k's and v's adapters too,
//! `branch::norm_for`), q, k and v, `ops::attention` and the output projection's product with
//! the residual summed in. n feeds three products and x two paths, and built from the pieces
//! burn's autodiff summed each input's gradients with dispatches of their own, three a block.
//! Here, when q, k and v are all plain, they are one operation of the backend's each way
//! (`branch::project_three`: on the GPU one dispatch forward and two backward, where three
//! products took three and six), which sums n's gradient in its own product. With adapters on
//! some of them and the rest frozen, a software adapter runs each kind of the adapters' own
//! products once for all of them (`branch::lows_side_by_side`, `LoraKernels::lora_three_backward`:
//! for q's and v's adapters one dispatch forward and two backward, where they took two and six).
//! n's gradient is q's input gradient summed onto by k's product and that onto by v's (each `dy Wᵀ
//! + g`, `linear::InputGradient::Plus`). x's two paths meet in the LayerNorm's backward kernel, as
//! in `ops::mlp`.
//!
//! Serving with tenants' adapters, or a projection whose base trains with an adapter, goes
//! through the pieces (`model::Attention`).

mod autodiff;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, TensorMetadata, backend_extension};
use burn::tensor::{Shape, Tensor};

use super::attention::AttentionKernels;
use super::branch::{Kept, Layer, LayerOf, Norm, norm_for, project, project_three, rows};
use super::layer_norm::{LayerNorm, LayerNormKernels};
use super::linear::LinearKernels;
use super::lora_linear::LoraKernels;

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait AttentionBlockOps: Backend {
    /// x (rows, C), its rows sequences of `time` positions; the LayerNorm's γ and β (C); four
    /// C → C projections → (rows, C).
    #[allow(clippy::too_many_arguments)]
    fn attention_block(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        #[extension_type] q: LayerOf<Self>,
        #[extension_type] k: LayerOf<Self>,
        #[extension_type] v: LayerOf<Self>,
        #[extension_type] o: LayerOf<Self>,
        time: usize,
        heads: usize,
    ) -> FloatTensor<Self>;
}

/// What the backward pass reads: the LayerNorm's; n; q, k, v and the attention's output, all
/// (rows, C), and its log-sum-exp; the four projections'; the (B, T, C) shape attention reads
/// and the head count.
#[derive(Debug, Clone)]
struct Saved<B: Backend> {
    norm: Norm<B>,
    normed: FloatTensor<B>,
    attention: [FloatTensor<B>; 5],
    layers: [Kept<B>; 4],
    sequences: Shape,
    heads: usize,
}

/// How q, k and v run where all three are plain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Qkv {
    /// As one operation (`branch::project_three`): where a backward pass follows, whose two
    /// dispatches replace six.
    Together,
    /// As three products: a forward pass alone (scoring the base before training) saves only
    /// two dispatches, and on software WebGPU compiling the one operation's pipeline before the
    /// first step delays it more than that saves.
    Apart,
}

/// The forward pass from a backend's kernels: y, and what the backward pass reads, which a
/// backend without autodiff drops at once.
#[allow(clippy::too_many_arguments)]
fn forward<B: LayerNormKernels + LinearKernels + LoraKernels + AttentionKernels>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    [q, k, v, o]: [LayerOf<B>; 4],
    time: usize,
    heads: usize,
    qkv: Qkv,
) -> (FloatTensor<B>, Saved<B>) {
    let [rows, c] = x.shape().dims::<2>();
    assert!(time > 0 && rows % time == 0, "{rows} rows do not split into sequences of {time}");
    let sequences = Shape::from([rows / time, time, c]);
    let (normed, stats, lows) = norm_for(x.clone(), gamma.clone(), beta, [&q, &k, &v]);
    let ([queries, keys, values], [q, k, v]) = project_three(normed.clone(), [q, k, v], qkv == Qkv::Together, lows);
    let as_sequences = |t: &FloatTensor<B>| B::float_reshape(t.clone(), sequences.clone());
    let (y, lse) = B::attention_forward(as_sequences(&queries), as_sequences(&keys), as_sequences(&values), heads);
    let y = B::float_reshape(y, Shape::from([rows, c]));
    let (out, o) = project(y.clone(), o, Some(x.clone()), None);
    let saved = Saved {
        norm: [x, gamma, stats],
        normed,
        attention: [queries, keys, values, y, lse],
        layers: [q, k, v, o],
        sequences,
        heads,
    };
    (out, saved)
}

/// Flex and Cube run the same forward pass, from their own kernels.
macro_rules! attention_block_from_kernels {
    ($backend:ty) => {
        impl AttentionBlockOps for $backend {
            fn attention_block(
                x: FloatTensor<Self>,
                gamma: FloatTensor<Self>,
                beta: FloatTensor<Self>,
                q: LayerOf<Self>,
                k: LayerOf<Self>,
                v: LayerOf<Self>,
                o: LayerOf<Self>,
                time: usize,
                heads: usize,
            ) -> FloatTensor<Self> {
                forward::<Self>(x, gamma, beta, [q, k, v, o], time, heads, Qkv::Apart).0
            }
        }
    };
}

attention_block_from_kernels!(Flex);
#[cfg(feature = "wgpu")]
attention_block_from_kernels!(burn::backend::wgpu::CubeBackend);

/// `x + attention(norm(x))` for x (B, T, C), the projections in the order q, k, v, o.
pub fn attention_block(x: Tensor<3>, norm: &LayerNorm, layers: [Layer; 4], heads: usize) -> Tensor<3> {
    let time = x.dims()[1];
    let (x, shaped) = rows(x);
    let (gamma, beta) = (norm.gamma.val().into_dispatch(), norm.beta.val().into_dispatch());
    let [q, k, v, o] = layers.map(Layer::into_dispatch);
    shaped(<Dispatch as AttentionBlockOps>::attention_block(x, gamma, beta, q, k, v, o, time, heads))
}
