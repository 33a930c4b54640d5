//! A linear layer as an operation of ours: `y = x W + b` for x (..., d_in), W (d_in, d_out),
//! b (d_out), and its backward pass `dx = dy Wᵀ`, `dW = xᵀ dy`, `db = Σ_rows dy`; or `y = r +
//! x W + b` for the projection that ends a residual branch, whose r takes dy as its gradient.
//!
//! On the GPU a layer is one dispatch of ours forward, where the bias and the residual join the
//! product (and for the MLP, `ops::mlp`, its GELU, each way), and two backward (the bias's
//! gradient joins the weight's); on a hardware GPU the input's gradient is a second output of
//! the weight's dispatch, one launch in all. Two kernels compute it, chosen by the adapter
//! (`ops::kernel_form`): `shaders/matmul.wgsl` keeps each thread's tile in registers with no
//! barriers, which software WebGPU runs fastest; `shaders/matmul_tiled.wgsl` stages operands in
//! workgroup memory, as a real GPU needs for large products. On the CPU the products are `gemm`
//! on strided views (`ops::gemm`), as burn's CPU backend computes them.

mod autodiff;
mod cpu;
#[cfg(feature = "wgpu")]
pub(crate) mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

/// The kernels on one backend, without autodiff; x and dy are 2-D: (rows, d_in), (rows, d_out).
pub trait LinearKernels: Backend {
    /// `x W (+ b) (+ r)`, r (rows, d_out).
    fn linear_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        residual: Option<FloatTensor<Self>>,
    ) -> FloatTensor<Self>;

    /// (GELU(x W + b), x W + b): the MLP's first layer, whose sum its backward pass keeps.
    fn linear_gelu_forward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// (`dy Wᵀ` when `input`, going on as `onward` says, and (`xᵀ dy`, `Σ_rows dy`) when
    /// `params`).
    fn linear_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        input: bool,
        params: bool,
        onward: InputGradient<FloatTensor<Self>>,
    ) -> LinearGradients<Self>;

    /// `[x W_s + b_s]` for three plain layers of one input: a block's q, k and v.
    fn linear_three_forward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        biases: [FloatTensor<Self>; 3],
    ) -> [FloatTensor<Self>; 3] {
        three_forward_apart::<Self>(x, weights, biases)
    }

    /// Their backward pass: (`Σ_s dy_s W_sᵀ` when `input`, each layer's (`xᵀ dy_s`, `Σ_rows
    /// dy_s`) when `params`).
    fn linear_three_backward(
        x: FloatTensor<Self>,
        weights: [FloatTensor<Self>; 3],
        dys: [FloatTensor<Self>; 3],
        input: bool,
        params: bool,
    ) -> ThreeGradients<Self> {
        three_backward_apart::<Self>(x, weights, dys, input, params)
    }
}

/// The input's gradient and each of three layers' (weight's, bias's), each when asked for.
pub type ThreeGradients<B> = (Option<FloatTensor<B>>, Option<[(FloatTensor<B>, FloatTensor<B>); 3]>);

/// Three layers of one input as three layers: what a backend without a kernel for them runs.
pub fn three_forward_apart<B: LinearKernels>(
    x: FloatTensor<B>,
    weights: [FloatTensor<B>; 3],
    biases: [FloatTensor<B>; 3],
) -> [FloatTensor<B>; 3] {
    let mut biases = biases.into_iter();
    weights.map(|weight| B::linear_forward(x.clone(), weight, biases.next(), None))
}

/// Their backward pass as three layers', each input gradient summed onto the one before in its
/// own product.
pub fn three_backward_apart<B: LinearKernels>(
    x: FloatTensor<B>,
    weights: [FloatTensor<B>; 3],
    dys: [FloatTensor<B>; 3],
    input: bool,
    params: bool,
) -> ThreeGradients<B> {
    let mut dx = None;
    let mut dys = dys.into_iter();
    let gradients = weights.map(|weight| {
        let dy = dys.next().expect("one dy a layer");
        let (d, gradients) = B::linear_backward(x.clone(), weight, dy, input, params, InputGradient::plus(dx.take()));
        dx = d;
        gradients
    });
    let [g0, g1, g2] = gradients;
    (dx, g0.zip(g1).zip(g2).map(|((g0, g1), g2)| [g0, g1, g2]))
}

/// What a layer's input gradient `dy Wᵀ` meets in the product that computes it, so that no
/// dispatch of its own follows.
#[derive(Clone, Copy, Debug)]
pub enum InputGradient<T> {
    /// Nothing: it is all of the input's gradient.
    Alone,
    /// The GELU whose output the input is, h its input: `dy Wᵀ ⊙ GELU'(h)`, the gradient of h.
    ThroughGelu(T),
    /// What the input's other consumers gave it: `dy Wᵀ + g` (q, k and v read one input).
    Plus(T),
}

impl<T> InputGradient<T> {
    /// A gradient so far from the input's other consumers, or none.
    pub fn plus(g: Option<T>) -> Self {
        g.map_or(Self::Alone, Self::Plus)
    }

    /// The tensor it carries, if any.
    pub fn tensor(&self) -> Option<&T> {
        match self {
            Self::Alone => None,
            Self::ThroughGelu(t) | Self::Plus(t) => Some(t),
        }
    }

    /// The same step with `t` in place of its tensor (the form a kernel binds).
    pub fn with<U>(&self, t: Option<U>) -> InputGradient<U> {
        match (self, t) {
            (Self::ThroughGelu(_), Some(t)) => InputGradient::ThroughGelu(t),
            (Self::Plus(_), Some(t)) => InputGradient::Plus(t),
            _ => InputGradient::Alone,
        }
    }
}

/// The input's gradient and the (weight's, bias's), each when asked for.
pub type LinearGradients<B> = (Option<FloatTensor<B>>, Option<(FloatTensor<B>, FloatTensor<B>)>);

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait LinearOps: Backend {
    /// x (rows, d_in) → (rows, d_out).
    fn linear_biased(x: FloatTensor<Self>, weight: FloatTensor<Self>, bias: FloatTensor<Self>) -> FloatTensor<Self>;

    /// x (rows, d_in) → (rows, d_out), no bias.
    fn linear_unbiased(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;

    /// r + x W + b: x (rows, d_in), r (rows, d_out) → (rows, d_out).
    fn linear_onto(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// `x W + b` over the last dimension of x: (..., d_in) → (..., d_out).
pub fn linear<const D: usize>(x: Tensor<D>, weight: Tensor<2>, bias: Option<Tensor<1>>) -> Tensor<D> {
    let mut dims = x.dims();
    let d_in = dims[D - 1];
    dims[D - 1] = weight.dims()[1];
    let rows = x.shape().num_elements() / d_in.max(1);
    let x = x.reshape([rows, d_in]).into_dispatch();
    let y = match bias {
        Some(bias) => <Dispatch as LinearOps>::linear_biased(x, weight.into_dispatch(), bias.into_dispatch()),
        None => <Dispatch as LinearOps>::linear_unbiased(x, weight.into_dispatch()),
    };
    Tensor::<2>::from_dispatch(y).reshape(dims)
}

/// `residual + x W + b` over the last dimension of x, the residual (..., d_out) summed in the
/// product: the projection that ends a block's residual branch.
pub fn linear_onto<const D: usize>(x: Tensor<D>, weight: Tensor<2>, bias: Tensor<1>, residual: Tensor<D>) -> Tensor<D> {
    let dims = residual.dims();
    let d_in = x.dims()[D - 1];
    let rows = x.shape().num_elements() / d_in.max(1);
    let d_out = weight.dims()[1];
    let y = <Dispatch as LinearOps>::linear_onto(
        x.reshape([rows, d_in]).into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        residual.reshape([rows, d_out]).into_dispatch(),
    );
    Tensor::<2>::from_dispatch(y).reshape(dims)
}
