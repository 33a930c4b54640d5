//! What the two halves of a pre-LN block share as operations of ours (`ops::attention_block`,
//! `ops::mlp`). Each is a residual branch `x + f(LayerNorm(x))`, so x has two paths back, through
//! the LayerNorm and through the residual, and the two meet in the LayerNorm's backward kernel
//! rather than in a sum of their own. And each runs its projections plain or carrying a LoRA
//! adapter on a frozen base, through `ops::linear`'s or `ops::lora_linear`'s kernels.

use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::NodeGuard;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, ExtensionType};
use burn::tensor::Tensor;

use super::layer_norm::{ADAPTERS_READING, EPSILON, LayerNormKernels};
use super::linear::{InputGradient, LinearKernels};
use super::lora_linear::LoraKernels;

/// A projection with a LoRA adapter on a frozen base: `x W + b + scale · (x A) B`.
pub struct AdaptedLayer {
    pub weight: Tensor<2>,
    pub bias: Tensor<1>,
    pub a: Tensor<2>,
    pub b: Tensor<2>,
    pub scale: f32,
}

/// A projection as the block's operations take it.
#[allow(clippy::large_enum_variant)] // built and consumed within one call
pub enum Layer {
    /// x W + b, W and b trained or frozen.
    Plain { weight: Tensor<2>, bias: Tensor<1> },
    /// x W + b + scale · (x A) B, W and b frozen.
    Adapted(AdaptedLayer),
}

/// `Layer` as a backend's tensors.
#[derive(ExtensionType, Debug, Clone)]
pub enum LayerOf<B: Backend> {
    Plain { weight: FloatTensor<B>, bias: FloatTensor<B> },
    Adapted { weight: FloatTensor<B>, bias: FloatTensor<B>, a: FloatTensor<B>, b: FloatTensor<B>, scale: f32 },
}

impl Layer {
    pub fn into_dispatch(self) -> LayerOf<Dispatch> {
        match self {
            Layer::Plain { weight, bias } => {
                LayerOf::Plain { weight: weight.into_dispatch(), bias: bias.into_dispatch() }
            }
            Layer::Adapted(AdaptedLayer { weight, bias, a, b, scale }) => LayerOf::Adapted {
                weight: weight.into_dispatch(),
                bias: bias.into_dispatch(),
                a: a.into_dispatch(),
                b: b.into_dispatch(),
                scale,
            },
        }
    }
}

impl<B: Backend> LayerOf<B> {
    /// The projection's two tensors that may train: W and b, or A and B.
    fn trained(&self) -> [&FloatTensor<B>; 2] {
        match self {
            LayerOf::Plain { weight, bias } => [weight, bias],
            LayerOf::Adapted { a, b, .. } => [a, b],
        }
    }
}

impl<B: Backend, C: CheckpointStrategy> LayerOf<Autodiff<B, C>> {
    /// The nodes of the tensors that may train, for an operation's parents.
    pub fn nodes(&self) -> [NodeGuard; 2] {
        self.trained().map(|t| t.node())
    }

    /// The same projection on the inner backend.
    pub fn into_inner(self) -> LayerOf<B> {
        match self {
            LayerOf::Plain { weight, bias } => {
                LayerOf::Plain { weight: weight.into_primitive(), bias: bias.into_primitive() }
            }
            LayerOf::Adapted { weight, bias, a, b, scale } => LayerOf::Adapted {
                weight: weight.into_primitive(),
                bias: bias.into_primitive(),
                a: a.into_primitive(),
                b: b.into_primitive(),
                scale,
            },
        }
    }
}

/// What a projection keeps for its backward pass: W, and with an adapter x A, A, B and the scale.
#[derive(Debug, Clone)]
pub enum Kept<B: Backend> {
    Plain { weight: FloatTensor<B> },
    Adapted { low: FloatTensor<B>, weight: FloatTensor<B>, a: FloatTensor<B>, b: FloatTensor<B>, scale: f32 },
}

/// LayerNorm(x) for `layers` to read: (y, the statistics its backward pass reads, each layer's
/// x A where its kernel wrote it with y: a hardware GPU's, for the first `ADAPTERS_READING`
/// adapted layers).
pub fn norm_for<B: LayerNormKernels, const N: usize>(
    x: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
    layers: [&LayerOf<B>; N],
) -> (FloatTensor<B>, FloatTensor<B>, [Option<FloatTensor<B>>; N]) {
    let (places, adapters) = adapted(layers);
    let reading = &adapters[..adapters.len().min(ADAPTERS_READING)];
    let (y, stats, lows) = B::layer_norm_forward(x, gamma, beta, EPSILON, reading);
    (y, stats, by_layer(&places, lows))
}

/// Where the adapted layers among `layers` stand, and their A, in order.
fn adapted<B: Backend, const N: usize>(layers: [&LayerOf<B>; N]) -> (Vec<usize>, Vec<FloatTensor<B>>) {
    (layers.iter().enumerate())
        .filter_map(|(i, layer)| match layer {
            LayerOf::Adapted { a, .. } => Some((i, a.clone())),
            LayerOf::Plain { .. } => None,
        })
        .unzip()
}

/// The x A a kernel wrote for the first of the adapted layers at `places` (as many as it wrote),
/// each in its layer's place; none for the rest.
fn by_layer<T, const N: usize>(places: &[usize], lows: Vec<T>) -> [Option<T>; N] {
    let mut placed = std::array::from_fn(|_| None);
    for (&i, low) in places.iter().zip(lows) {
        placed[i] = Some(low);
    }
    placed
}

/// `layer` on x (rows, d_in) [+ r], and what its backward pass keeps; `low` is an adapted
/// layer's x A where the LayerNorm before wrote it (`norm_for`).
pub fn project<B: LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    layer: LayerOf<B>,
    residual: Option<FloatTensor<B>>,
    low: Option<FloatTensor<B>>,
) -> (FloatTensor<B>, Kept<B>) {
    match layer {
        LayerOf::Plain { weight, bias } => {
            (B::linear_forward(x, weight.clone(), Some(bias), residual), Kept::Plain { weight })
        }
        LayerOf::Adapted { weight, bias, a, b, scale } => {
            let (low, y) = B::lora_forward(x, weight.clone(), bias, a.clone(), b.clone(), scale, residual, low);
            (y, Kept::Adapted { low, weight, a, b, scale })
        }
    }
}

/// Three layers of one input x (a block's q, k and v) and what their backward pass keeps: one
/// operation of the backend's when `as_one` and all three are plain, each on its own otherwise.
pub fn project_three<B: LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    layers: [LayerOf<B>; 3],
    as_one: bool,
    lows: [Option<FloatTensor<B>>; 3],
) -> ([FloatTensor<B>; 3], [Kept<B>; 3]) {
    match layers {
        [
            LayerOf::Plain { weight: w0, bias: b0 },
            LayerOf::Plain { weight: w1, bias: b1 },
            LayerOf::Plain { weight: w2, bias: b2 },
        ] if as_one => {
            let ys = B::linear_three_forward(x, [w0.clone(), w1.clone(), w2.clone()], [b0, b1, b2]);
            (ys, [w0, w1, w2].map(|weight| Kept::Plain { weight }))
        }
        [l0, l1, l2] => {
            let lows =
                if as_one && lows.iter().all(Option::is_none) { lows_side_by_side(&x, [&l0, &l1, &l2]) } else { lows };
            let [low0, low1, low2] = lows;
            let (y0, k0) = project(x.clone(), l0, None, low0);
            let (y1, k1) = project(x.clone(), l1, None, low1);
            let (y2, k2) = project(x, l2, None, low2);
            ([y0, y1, y2], [k0, k1, k2])
        }
    }
}

/// The adapted layers' x A, from the backend's kernel that writes them side by side where it has
/// one (whose layout `lora_three_backward` then reads), else none.
fn lows_side_by_side<B: LoraKernels>(x: &FloatTensor<B>, layers: [&LayerOf<B>; 3]) -> [Option<FloatTensor<B>>; 3] {
    let (places, adapters) = adapted(layers);
    by_layer(&places, B::lows_side_by_side(x.clone(), &adapters).unwrap_or_default())
}

/// q, k and v with adapters on some of them and the rest frozen, through the backend's
/// `lora_three_backward` where it takes them: x's gradient (when `input`) once the adapters'
/// are registered. None where the layers' backward passes must run one by one.
fn adapted_three_backward<B: LoraKernels>(
    x: &FloatTensor<B>,
    kept: &[Kept<B>; 3],
    dys: &[FloatTensor<B>; 3],
    input: bool,
    nodes: [[Option<NodeId>; 2]; 3],
    grads: &mut Gradients,
) -> Option<Option<FloatTensor<B>>> {
    let plain_trains = kept
        .iter()
        .zip(&nodes)
        .any(|(kept, nodes)| matches!(kept, Kept::Plain { .. }) && nodes.iter().any(Option::is_some));
    if plain_trains {
        return None;
    }
    let weights = kept.each_ref().map(|kept| match kept {
        Kept::Plain { weight } | Kept::Adapted { weight, .. } => weight.clone(),
    });
    let adapters = kept.each_ref().map(|kept| match kept {
        Kept::Adapted { low, a, b, scale, .. } => Some(([low.clone(), a.clone(), b.clone()], *scale)),
        Kept::Plain { .. } => None,
    });
    let (dx, gradients) = B::lora_three_backward(x.clone(), weights, adapters, dys.clone(), input)?;
    for (gradient, nodes) in gradients.into_iter().zip(nodes) {
        if let Some((da, db)) = gradient {
            register::<B, 2>([da, db], nodes, grads);
        }
    }
    Some(dx)
}

/// `project_three`'s backward pass: registers each layer's gradients whose nodes are tracked,
/// and returns x's gradient (the three layers' summed) when `input`.
pub fn project_three_backward<B: LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    kept: [Kept<B>; 3],
    dys: [FloatTensor<B>; 3],
    input: bool,
    nodes: [[Option<NodeId>; 2]; 3],
    grads: &mut Gradients,
) -> Option<FloatTensor<B>> {
    match kept {
        [Kept::Plain { weight: w0 }, Kept::Plain { weight: w1 }, Kept::Plain { weight: w2 }] => {
            let params = nodes.iter().flatten().any(Option::is_some);
            let (dx, gradients) = B::linear_three_backward(x, [w0, w1, w2], dys, input, params);
            for ((dw, db), nodes) in gradients.into_iter().flatten().zip(nodes) {
                register::<B, 2>([dw, db], nodes, grads);
            }
            dx
        }
        kept => {
            if let Some(dx) = adapted_three_backward(&x, &kept, &dys, input, nodes, grads) {
                return dx;
            }
            // x's gradient from the first layer's product, each next one summed onto it in its own.
            let mut dx = None;
            for ((kept, dy), nodes) in kept.into_iter().zip(dys).zip(nodes) {
                dx = project_backward(x.clone(), kept, dy, input, InputGradient::plus(dx), nodes, grads);
            }
            dx
        }
    }
}

/// (GELU(h), h, what the backward pass keeps) for h = `layer` on x: the MLP's first layer, its
/// GELU inside the product.
pub fn project_gelu<B: LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    layer: LayerOf<B>,
    low: Option<FloatTensor<B>>,
) -> (FloatTensor<B>, FloatTensor<B>, Kept<B>) {
    match layer {
        LayerOf::Plain { weight, bias } => {
            let (activation, h) = B::linear_gelu_forward(x, weight.clone(), bias);
            (activation, h, Kept::Plain { weight })
        }
        LayerOf::Adapted { weight, bias, a, b, scale } => {
            let [low, activation, h] = B::lora_gelu_forward(x, weight.clone(), bias, a.clone(), b.clone(), scale, low);
            (activation, h, Kept::Adapted { low, weight, a, b, scale })
        }
    }
}

/// A projection's backward pass: registers the gradients of its two trained tensors (W and b,
/// or A and B) whose nodes are tracked, and returns its input's gradient when `input`, gone on
/// as `onward` says.
pub fn project_backward<B: LinearKernels + LoraKernels>(
    x: FloatTensor<B>,
    kept: Kept<B>,
    dy: FloatTensor<B>,
    input: bool,
    onward: InputGradient<FloatTensor<B>>,
    nodes: [Option<NodeId>; 2],
    grads: &mut Gradients,
) -> Option<FloatTensor<B>> {
    match kept {
        Kept::Plain { weight } => {
            let params = nodes.iter().any(Option::is_some);
            let (dx, dw_db) = B::linear_backward(x, weight, dy, input, params, onward);
            if let Some((dw, db)) = dw_db {
                register::<B, 2>([dw, db], nodes, grads);
            }
            dx
        }
        Kept::Adapted { low, weight, a, b, scale } => {
            let (dx, da, db) = B::lora_backward(x, low, weight, a, b, scale, dy, input, onward);
            register::<B, 2>([da, db], nodes, grads);
            dx
        }
    }
}

/// What the LayerNorm at a branch's start keeps for the backward pass: x, γ, the rows' (mean,
/// rstd).
pub type Norm<B> = [FloatTensor<B>; 3];

/// Register each gradient whose node is tracked.
pub fn register<B: Backend, const N: usize>(
    gradients: [FloatTensor<B>; N],
    nodes: [Option<NodeId>; N],
    grads: &mut Gradients,
) {
    for (gradient, node) in gradients.into_iter().zip(nodes) {
        if let Some(node) = node {
            grads.register::<B>(node, gradient);
        }
    }
}

/// The LayerNorm's backward pass, given dn (when anything before the branch's products takes a
/// gradient) and dy, which reaches x through the residual too.
pub fn norm_backward<B: LayerNormKernels>(
    [x, gamma, stats]: Norm<B>,
    dn: Option<FloatTensor<B>>,
    dy: FloatTensor<B>,
    [x_node, gamma_node, beta_node]: [Option<NodeId>; 3],
    grads: &mut Gradients,
) {
    let Some(dn) = dn else {
        // Nothing before the products trains: only the residual's path reaches x.
        return register::<B, 1>([dy], [x_node], grads);
    };
    let params = gamma_node.is_some() || beta_node.is_some();
    let (dx, dparams) = B::layer_norm_backward(x, gamma, stats, dn, params, Some(dy));
    register::<B, 1>([dx], [x_node], grads);
    if let Some((dgamma, dbeta)) = dparams {
        register::<B, 2>([dgamma, dbeta], [gamma_node, beta_node], grads);
    }
}

/// (rows, d) views of x, and a function giving the output x's shape back.
pub fn rows<const D: usize>(x: Tensor<D>) -> (FloatTensor<Dispatch>, impl Fn(FloatTensor<Dispatch>) -> Tensor<D>) {
    let dims = x.dims();
    let d = dims[D - 1];
    let rows = x.shape().num_elements() / d.max(1);
    (x.reshape([rows, d]).into_dispatch(), move |y| Tensor::<2>::from_dispatch(y).reshape(dims))
}
