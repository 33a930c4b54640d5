//! LayerNorm's kernels on burn's wgpu backend: `shaders/layer_norm*.wgsl`.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{LayerNormKernels, LayerNormOps};
use crate::ops::shader::{LAYER_NORM, LAYER_NORM_BACKWARD};
use crate::ops::wgsl::{Info, empty, inputs, launch, optional_inputs, pieces_for, sum_pieces, workgroups_for};

/// The backward kernel's flag for a second path's gradient added to dx.
const ADD: u32 = LAYER_NORM_BACKWARD.constant("ADD");

impl LayerNormOps for CubeBackend {
    fn layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        Self::layer_norm_forward(x, gamma, beta, epsilon).0
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
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [x, gamma, beta] = inputs([x, gamma, beta]);
        let (rows, d) = rows_and_width(&x);
        let y = empty(&x, x.meta.shape().clone());
        let stats = empty(&x, [rows, 2]);
        let info = Info::new().usize(rows).usize(d).f32(epsilon);
        launch(&LAYER_NORM, workgroups_for(&LAYER_NORM, rows), &[&x, &gamma, &beta, &y, &stats], info);
        (y, stats)
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
