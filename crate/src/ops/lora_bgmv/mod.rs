//! Many tenants' LoRA adapters in one batch (BGMV, "batched gather matrix-vector", from Punica:
//! Chen et al. 2023, arXiv 2310.18547): every row goes through the one shared base projection
//! and through its own tenant's adapter,
//!   y_i = x_i W + b + s_{t_i} · (x_i A_{t_i}) B_{t_i},
//! where t_i is row i's tenant, s = α / r, and tenant slot 0 means "no adapter" (s = 0). This
//! op adds the adapter term to the base output `x W + b`; it is for serving only (no backward).
//!
//! Adapters of different ranks share one stack padded to the largest rank with zeros (columns
//! of A and rows of B past a tenant's rank), so a padded term adds exactly 0. We pad rather
//! than keep S-LoRA's per-tenant ranks (Sheng et al. 2023, arXiv 2311.03285): at ranks of 64
//! and below the stack stays small, and one layout keeps the kernels two short loops.
//!
//! On the GPU it is two kernels, Punica's pair: `shaders/lora_shrink.wgsl` (v_i = x_i A_{t_i},
//! rows × r) and `shaders/lora_expand.wgsl` (y_i + s · v_i B_{t_i}); on the CPU `cpu.rs` does
//! the same sums in Rust.

mod cpu;
#[cfg(feature = "wgpu")]
mod gpu;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

#[backend_extension(Flex, Cube: cfg(feature = "wgpu"))]
pub trait LoraBgmvOps: Backend {
    /// `y` (rows, d_out) plus each row's adapter term, for x (rows, d_in), the stacks
    /// a (tenants, d_in, r) and b (tenants, r, d_out), scales (tenants), and `tenants`
    /// (rows / seq): the slot of each run of `seq` rows, as whole numbers in f32.
    fn lora_bgmv(
        y: FloatTensor<Self>,
        x: FloatTensor<Self>,
        a: FloatTensor<Self>,
        b: FloatTensor<Self>,
        scales: FloatTensor<Self>,
        tenants: FloatTensor<Self>,
        seq: usize,
    ) -> FloatTensor<Self>;
}

/// Every tenant's adapter for one projection, stacked: slot 0 is "no adapter" (zeros, scale 0).
#[derive(Debug, Clone)]
pub struct AdapterStack {
    /// `[tenants, d_input, rank]`
    pub a: Tensor<3>,
    /// `[tenants, rank, d_output]`
    pub b: Tensor<3>,
    /// `[tenants]`: α / r of each tenant's own rank, 0 for slot 0.
    pub scales: Tensor<1>,
}

/// `y` (..., d_out), the base projection's output for `x` (..., d_in), plus the adapter term of
/// each sequence's tenant: `tenants` holds one slot per sequence (x's first dimension).
pub fn lora_bgmv<const D: usize>(y: Tensor<D>, x: Tensor<D>, stack: &AdapterStack, tenants: Tensor<1>) -> Tensor<D> {
    let dims = y.dims();
    let d_in = x.dims()[D - 1];
    let rows = x.shape().num_elements() / d_in.max(1);
    let seq = rows / tenants.dims()[0].max(1);
    assert_eq!(seq * tenants.dims()[0], rows, "one tenant per sequence of x");
    let out = <Dispatch as LoraBgmvOps>::lora_bgmv(
        y.reshape([rows, dims[D - 1]]).into_dispatch(),
        x.reshape([rows, d_in]).into_dispatch(),
        stack.a.clone().into_dispatch(),
        stack.b.clone().into_dispatch(),
        stack.scales.clone().into_dispatch(),
        tenants.into_dispatch(),
        seq,
    );
    Tensor::<2>::from_dispatch(out).reshape(dims)
}
