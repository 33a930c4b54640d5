//! Which form of our GPU kernels runs. Three operations come in one form for software WebGPU
//! (SwiftShader, lavapipe, a browser's fallback adapter: a few CPU cores, each running a
//! workgroup's threads in turn, for which barriers are dear) and one for hardware GPUs (many
//! threads at once, for which device memory is dear):
//! - the matrix product: `shaders/matmul.wgsl` keeps each thread's tile in registers with no
//!   barrier; `shaders/matmul_tiled.wgsl` stages operands in workgroup memory;
//! - AdamW: `shaders/adamw.wgsl` at `SOFTWARE_WORKGROUP_SIZE` threads a workgroup, whose norm
//!   takes fewer barriers, or at `WORKGROUP_SIZE`, which walks each tensor in fewer strides.
//! - a LayerNorm read by LoRA adapters: on a hardware GPU `shaders/layer_norm.wgsl` also writes
//!   their x A, one dispatch fewer each; a software adapter, whose threads load A's values one
//!   SIMD lane at a time, runs x A as the adapter's own product.
//!
//! The adapter's own report chooses (wgpu's device type, which a browser gives as its fallback
//! flag); the checks and benchmarks choose either, to hold both forms to burn's ops on whatever
//! device they have.

use std::cell::Cell;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelForm {
    /// The hardware form on a hardware adapter, the software form on a software one.
    ByAdapter,
    Software,
    Hardware,
}

thread_local! {
    static KERNEL_FORM: Cell<KernelForm> = const { Cell::new(KernelForm::ByAdapter) };
}

/// Run this thread's GPU kernels in `form` from now on; returns the previous choice.
pub fn use_kernel_form(form: KernelForm) -> KernelForm {
    KERNEL_FORM.replace(form)
}

/// The choice in force on this thread.
pub fn kernel_form() -> KernelForm {
    KERNEL_FORM.get()
}
