//! LayerNorm's kernels on burn's wgpu backend: `shaders/layer_norm*.wgsl`.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{ADAPTERS_READING, LayerNormKernels, LayerNormOps};
use crate::ops::VIEW_ALIGN;
use crate::ops::shader::{LAYER_NORM, LAYER_NORM_BACKWARD};
use crate::ops::wgsl::{
    Info, empty, hardware_form, launch, launch_with, optional_inputs, pieces_for, sum_pieces, view, workgroups_for,
};

/// The backward kernel's flag for a second path's gradient added to dx.
const ADD: u32 = LAYER_NORM_BACKWARD.constant("ADD");

impl LayerNormOps for CubeBackend {
    fn layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        Self::layer_norm_forward(x, gamma, beta, epsilon, &[]).0
    }
}

/// (rows, d) of an input (..., d).
fn rows_and_width(x: &CubeTensor) -> (usize, usize) {
    let shape = x.meta.shape();
    let d = shape[shape.num_dims() - 1];
    (shape.num_elements() / d, d)
}

impl LayerNormKernels for CubeBackend {
    fn layer_norm_forward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
        adapters: &[FloatTensor<Self>],
    ) -> (FloatTensor<Self>, FloatTensor<Self>, Vec<FloatTensor<Self>>) {
        assert!(adapters.len() <= ADAPTERS_READING, "the kernel writes x A for {ADAPTERS_READING} adapters at most");
        // On a software adapter each thread loads A's values one SIMD lane at a time, and its
        // row's x A cost more than the product dispatch it saves (the page's adapter step 1.04×),
        // where a launch costs little. A hardware GPU pays for launches and not for the loads.
        if !adapters.is_empty() && !hardware_form(&x) {
            return Self::layer_norm_forward(x, gamma, beta, epsilon, &[]);
        }
        let [x, gamma, beta, a0, a1] =
            optional_inputs([Some(x), Some(gamma), Some(beta), adapters.first().cloned(), adapters.get(1).cloned()]);
        let [x, gamma, beta] = [x, gamma, beta].map(|t| t.expect("given"));
        let (rows, d) = rows_and_width(&x);
        let y = empty(&x, x.meta.shape().clone());
        let stats = empty(&x, [rows, 2]);
        // Both adapters' x A in one buffer, the second on a view's alignment.
        let [rank0, rank1] = [&a0, &a1].map(|a| a.as_ref().map_or(0, |a| a.meta.shape()[1]));
        let low1 = (rows * rank0).next_multiple_of(VIEW_ALIGN);
        let low = empty(&x, [(low1 + rows * rank1).max(1)]);
        let stand_in = || empty(&x, [1]);
        let (a0, a1) = (a0.unwrap_or_else(stand_in), a1.unwrap_or_else(stand_in));
        let info = Info::new().usize(rows).usize(d).f32(epsilon).usize(rank0).usize(rank1).usize(low1);
        let buffers = [&x, &gamma, &beta, &y, &stats, &a0, &a1, &low];
        let sums = [("ADAPTERS", adapters.len() as u32), ("MAX_RANK", rank0.max(rank1).max(1) as u32)];
        launch_with(&LAYER_NORM, &sums, workgroups_for(&LAYER_NORM, rows), &buffers, info);
        let lows = [(0, rank0), (low1, rank1)].into_iter().filter(|&(_, rank)| rank > 0);
        (y, stats, lows.map(|(start, rank)| view(&low, start, [rows, rank])).collect())
    }

    fn layer_norm_backward(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        dy: FloatTensor<Self>,
        params: bool,
        plus: Option<FloatTensor<Self>>,
    ) -> (FloatTensor<Self>, Option<(FloatTensor<Self>, FloatTensor<Self>)>) {
        let [x, gamma, stats, dy, plus] = optional_inputs([Some(x), Some(gamma), Some(stats), Some(dy), plus]);
        let [x, gamma, stats, dy] = [x, gamma, stats, dy].map(|t| t.expect("given"));
        let (rows, d) = rows_and_width(&x);
        let dx = empty(&x, x.meta.shape().clone());
        // γ and β's sums: one thread per column in each piece of the rows (see `pieces_for`).
        // Frozen, they bind one-value stand-ins and the grid holds only the rows.
        let pieces = pieces_for(d, rows);
        let (sums, columns) = if params { ([pieces, d], d * pieces) } else { ([1, 1], 0) };
        let (dgamma, dbeta) = (empty(&x, sums), empty(&x, sums));
        let stand_in = empty(&x, [1]);
        let add = if plus.is_some() { ADD } else { 0 };
        let info = Info::new().usize(rows).usize(d).usize(rows.div_ceil(pieces).max(1)).u32(params as u32).u32(add);
        launch(
            &LAYER_NORM_BACKWARD,
            workgroups_for(&LAYER_NORM_BACKWARD, rows + columns),
            &[&x, &gamma, &stats, &dy, &dx, &dgamma, &dbeta, plus.as_ref().unwrap_or(&stand_in)],
            info,
        );
        (dx, params.then(|| (sum_pieces(dgamma, [d]), sum_pieces(dbeta, [d]))))
    }
}
