//! BGMV on burn's CPU backend: per row, v = x A of its tenant, then y + s · v B.

use burn::backend::Flex;
use burn::backend::tensor::FloatTensor;

use super::LoraBgmvOps;
use crate::ops::host::{f32s, tensor};

impl LoraBgmvOps for Flex {
    fn lora_bgmv(
        y: FloatTensor<Self>,
        x: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scales: FloatTensor<Self>,
        tenants: FloatTensor<Self>,
        seq: usize,
    ) -> FloatTensor<Self> {
        let shape = y.layout().shape().clone();
        let (d_out, d_in, rank) = (shape[1], x.layout().shape()[1], a.layout().shape()[2]);
        let [y, x, a, b, scales, tenants] = [y, x, a, b, scales, tenants].map(|t| t.to_contiguous());
        let (x, a, b, scales, tenants) = (f32s(&x), f32s(&a), f32s(&b), f32s(&scales), f32s(&tenants));
        let mut out = f32s(&y).to_vec();
        let mut v = vec![0.0f32; rank];
        for (row, out) in out.chunks_mut(d_out.max(1)).enumerate() {
            let tenant = tenants[row / seq] as usize;
            let scale = scales[tenant];
            if scale == 0.0 {
                continue; // slot 0: no adapter, as the kernel skips it
            }
            // Both products run along contiguous rows (A's row k, B's row j), so the inner
            // loops vectorise: a sum over strided columns took more time than the base's gemm.
            let (x, a) = (&x[row * d_in..][..d_in], &a[tenant * d_in * rank..][..d_in * rank]);
            v.fill(0.0);
            for (&x, a) in x.iter().zip(a.chunks_exact(rank)) {
                v.iter_mut().zip(a).for_each(|(v, &a)| *v += x * a);
            }
            let b = &b[tenant * rank * d_out..][..rank * d_out];
            for (&v, b) in v.iter().zip(b.chunks_exact(d_out)) {
                let v = scale * v;
                out.iter_mut().zip(b).for_each(|(out, &b)| *out += v * b);
            }
        }
        tensor(out, shape)
    }
}
