//! BGMV on burn's wgpu backend: `shaders/lora_shrink.wgsl`, then `shaders/lora_expand.wgsl`.

use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::CubeBackend;

use super::LoraBgmvOps;
use crate::ops::shader::{LORA_EXPAND, LORA_SHRINK};
use crate::ops::wgsl::{Info, empty, inputs, launch, workgroups_for};

impl LoraBgmvOps for CubeBackend {
    fn lora_bgmv(
        y: FloatTensor<Self>,
        x: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scales: FloatTensor<Self>,
        tenants: FloatTensor<Self>,
        seq: usize,
    ) -> FloatTensor<Self> {
        let [y, x, a, b, scales, tenants] = inputs([y, x, a, b, scales, tenants]);
        let (rows, d_out) = (y.meta.shape()[0], y.meta.shape()[1]);
        let (d_in, rank) = (x.meta.shape()[1], a.meta.shape()[2]);
        let v = empty(&x, [rows, rank]);
        let info = Info::new().usize(rows).usize(d_in).usize(rank).usize(seq);
        launch(&LORA_SHRINK, workgroups_for(&LORA_SHRINK, rows * rank), &[&x, &a, &tenants, &v], info);
        let out = empty(&y, [rows, d_out]);
        let info = Info::new().usize(rows).usize(d_out).usize(rank).usize(seq);
        let buffers = [&y, &v, &b, &scales, &tenants, &out];
        launch(&LORA_EXPAND, workgroups_for(&LORA_EXPAND, rows * d_out), &buffers, info);
        out
    }
}
