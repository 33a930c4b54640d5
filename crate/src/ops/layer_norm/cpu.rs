//! LayerNorm's kernels on burn's CPU backend, a row at a time.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;

use super::{LayerNormKernels, LayerNormOps};
use burn_flex::FlexTensor;

use crate::ops::host::{f32s, tensor};

impl LayerNormOps for Flex {
    fn layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        Self::layer_norm_forward(x, gamma, beta, epsilon, &[]).0
    }
}

impl LayerNormKernels for Flex {
    fn layer_norm_forward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
        _adapters: &[FloatTensor<Self>],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, Vec<FloatTensor<Self>>) {
        let shape = x.layout().shape().clone();
        let (x, gamma, beta) = (x.to_contiguous(), gamma.to_contiguous(), beta.to_contiguous());
        let (gamma, beta) = (f32s(&gamma), f32s(&beta));
        let d = gamma.len();
        let mut y = vec![0.0; shape.num_elements()];
        let mut stats = Vec::with_capacity(2 * y.len() / d);
        for (x, y) in f32s(&x).chunks_exact(d).zip(y.chunks_exact_mut(d)) {
            let mean = x.iter().sum::<f32>() / d as f32;
            let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / d as f32;
            let rstd = 1.0 / (var + epsilon).sqrt();
            for j in 0..d {
                y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
            }
            stats.extend([mean, rstd]);
        }
        let rows = stats.len() / 2;
        // The adapters' x A are their own products here, as cheap as they would be in this loop.
        (tensor(y, shape.to_vec()), tensor(stats, vec![rows, 2]), Vec::new())
    }

    fn layer_norm_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        params: bool,
        plus: Option<FloatTensor<Self>>,
    ) -> (FloatTensor<Self>, Option<(FloatTensor<Self>, FloatTensor<Self>)>) {
        let dparams = params.then(|| parameter_gradients(&x, &stats, &dy));
        (input_gradient(x, gamma, stats, dy, plus), dparams)
    }
}

/// dx, a row at a time, starting from `plus` when given.
fn input_gradient(
    x: FlexTensor,
    gamma: FlexTensor,
    stats: FlexTensor,
    dy: FlexTensor,
    plus: Option<FlexTensor>,
) -> FlexTensor {
    let shape = x.layout().shape().clone();
    let (x, gamma, stats, dy) = (x.to_contiguous(), gamma.to_contiguous(), stats.to_contiguous(), dy.to_contiguous());
    let gamma = f32s(&gamma);
    let d = gamma.len();
    let mut dx = match plus {
        Some(plus) => f32s(&plus.to_contiguous()).to_vec(),
        None => vec![0.0; shape.num_elements()],
    };
    let rows = f32s(&x).chunks_exact(d).zip(f32s(&dy).chunks_exact(d)).zip(f32s(&stats).chunks_exact(2));
    for (((x, dy), stat), dx) in rows.zip(dx.chunks_exact_mut(d)) {
        let (mean, rstd) = (stat[0], stat[1]);
        let (mut g_sum, mut gx_sum) = (0.0, 0.0);
        for j in 0..d {
            let g = dy[j] * gamma[j];
            g_sum += g;
            gx_sum += g * (x[j] - mean) * rstd;
        }
        let (g_mean, gx_mean) = (g_sum / d as f32, gx_sum / d as f32);
        for j in 0..d {
            dx[j] += rstd * (dy[j] * gamma[j] - g_mean - (x[j] - mean) * rstd * gx_mean);
        }
    }
    tensor(dx, shape.to_vec())
}

/// (dγ, dβ), summed over the rows in order.
fn parameter_gradients(x: &FlexTensor, stats: &FlexTensor, dy: &FlexTensor) -> (FlexTensor, FlexTensor) {
    let d = *x.layout().shape().last().expect("at least one dimension");
    let (x, stats, dy) = (x.to_contiguous(), stats.to_contiguous(), dy.to_contiguous());
    let (mut dgamma, mut dbeta) = (vec![0.0; d], vec![0.0; d]);
    let rows = f32s(&x).chunks_exact(d).zip(f32s(&dy).chunks_exact(d)).zip(f32s(&stats).chunks_exact(2));
    for ((x, dy), stat) in rows {
        for j in 0..d {
            dgamma[j] += dy[j] * (x[j] - stat[0]) * stat[1];
            dbeta[j] += dy[j];
        }
    }
    (tensor(dgamma, vec![d]), tensor(dbeta, vec![d]))
}
