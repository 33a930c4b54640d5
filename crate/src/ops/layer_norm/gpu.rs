//! LayerNorm's kernels on burn's wgpu backend: `shaders/layer_norm*.wgsl`.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};

use super::{LayerNormKernels, LayerNormOps};
use crate::ops::shader::{LAYER_NORM, LAYER_NORM_BACKWARD, LAYER_NORM_PARAMS_BACKWARD};
use crate::ops::wgsl::{Info, empty, inputs, launch, pieces_for, sum_pieces, workgroups_for};

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

    fn layer_norm_backward_input(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        dy: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let [x, gamma, stats, dy] = inputs([x, gamma, stats, dy]);
        let (rows, d) = rows_and_width(&x);
        let dx = empty(&x, x.meta.shape().clone());
        launch(
            &LAYER_NORM_BACKWARD,
            workgroups_for(&LAYER_NORM_BACKWARD, rows),
            &[&x, &gamma, &stats, &dy, &dx],
            Info::new().usize(rows).usize(d),
        );
        dx
    }

    fn layer_norm_backward_params(
        x: FloatTensor<Self>,
        stats: FloatTensor<Self>,
        dy: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [x, stats, dy] = inputs([x, stats, dy]);
        let (rows, d) = rows_and_width(&x);
        // One thread per column in each piece of the rows (see `pieces_for`).
        let pieces = pieces_for(d, rows);
        let (dgamma, dbeta) = (empty(&x, [pieces, d]), empty(&x, [pieces, d]));
        let info = Info::new().usize(rows).usize(d).usize(rows.div_ceil(pieces).max(1));
        launch(
            &LAYER_NORM_PARAMS_BACKWARD,
            workgroups_for(&LAYER_NORM_PARAMS_BACKWARD, d * pieces),
            &[&x, &stats, &dy, &dgamma, &dbeta],
            info,
        );
        (sum_pieces(dgamma, [d]), sum_pieces(dbeta, [d]))
    }
}
