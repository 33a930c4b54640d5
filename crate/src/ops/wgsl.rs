//! Launching one of our shaders on burn's wgpu backend.
//!
//! burn's `template` API runs a kernel whose source is already WGSL (`KernelSource` wrapped in a
//! `SourceKernel`); we chose it over cubecl's `#[cube]` kernels because the kernels are short,
//! hand-fused loops whose WGSL is the clearest statement of what runs, naga validates them as
//! they are, and they add no cubecl expansion to the WebAssembly module.
//!
//! Conventions every shader follows: entry point `main`; storage buffers at `@binding(0..k)` in
//! the order `buffers` gives them, all `read_write` (natively burn's pool places several tensors
//! in one device buffer, and WebGPU forbids a read-only and a writable binding of one buffer in
//! a dispatch); a uniform `Info` struct at binding k, filled from `Info` below. No two bindings
//! may overlap (WebGPU forbids overlapping writable bindings): inputs go through `inputs`, which
//! copies one whose bytes overlap another's, and outputs are fresh.

use burn::backend::ops::{FloatTensorOps, IntTensorOps};
use burn::backend::wgpu::{
    CubeBackend, CubeDim, CubeTensor, KernelSource, SourceKernel, SourceTemplate, into_contiguous,
};
use burn::cubecl::CubeCount;
use burn::cubecl::prelude::KernelId;
use burn::cubecl::server::{KernelArguments, MetadataBindingInfo};
use burn::tensor::{DType, IntDType, Shape};

use super::VIEW_ALIGN;
use super::kernel_form::{KernelForm, kernel_form};
use super::shader::Shader;

/// Most workgroups along one grid dimension (WebGPU's default limit); kernels that process
/// elements stride over them, so a larger tensor only means more work per thread.
pub const MAX_WORKGROUPS: u32 = 65_535;

struct Kernel {
    shader: &'static Shader,
    /// `WORKGROUP_SIZE` first, then any other constant the launch declares anew.
    constants: Vec<(&'static str, u32)>,
}

impl KernelSource for Kernel {
    fn source(&self) -> SourceTemplate {
        SourceTemplate::new(self.shader.source_with(&self.constants))
    }

    /// Keys burn's compiled-pipeline cache: one entry per shader and set of constants.
    fn id(&self) -> KernelId {
        KernelId::new::<Self>().info((self.shader.name, self.constants.clone()))
    }

    fn lang(&self) -> &'static str {
        "wgsl"
    }
}

/// The uniform's fields in declaration order, 32 bits each (WGSL `u32` or `f32`).
#[derive(Default)]
pub struct Info(Vec<u32>);

impl Info {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn u32(mut self, value: u32) -> Self {
        self.0.push(value);
        self
    }

    pub fn usize(self, value: usize) -> Self {
        self.u32(u32::try_from(value).expect("a size that fits the kernel's 32-bit indices"))
    }

    pub fn f32(self, value: f32) -> Self {
        self.u32(value.to_bits())
    }

    /// burn passes the uniform as 64-bit words; a WGSL uniform struct is sized in multiples of
    /// 16 bytes, so the words are padded to that.
    fn words(mut self) -> Vec<u64> {
        while self.0.is_empty() || !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
        self.0.chunks(2).map(|pair| pair[0] as u64 | (pair[1] as u64) << 32).collect()
    }
}

/// Whether this thread's kernels on `like`'s device take their hardware form
/// (`ops::kernel_form`): cubecl names the card behind a device, and none behind a CPU adapter
/// (SwiftShader, lavapipe, a browser's fallback adapter).
pub fn hardware_form(like: &CubeTensor) -> bool {
    match kernel_form() {
        KernelForm::ByAdapter => like.client.properties().identity.physical.is_some(),
        KernelForm::Software => false,
        KernelForm::Hardware => true,
    }
}

/// Run `shader` over `workgroups` workgroups (x, y) with `buffers` bound in order.
pub fn launch(shader: &'static Shader, workgroups: (u32, u32), buffers: &[&CubeTensor], info: Info) {
    launch_with(shader, &[], workgroups, buffers, info);
}

/// `launch`, the shader compiled with each named constant at the given value in place of its
/// own (`Shader::source_with`): a pipeline for each set of values.
pub fn launch_with(
    shader: &'static Shader,
    constants: &[(&'static str, u32)],
    workgroups: (u32, u32),
    buffers: &[&CubeTensor],
    info: Info,
) {
    for (i, a) in buffers.iter().enumerate() {
        assert!(
            buffers[..i].iter().all(|b| !overlaps(a, b)),
            "shaders/{}.wgsl: binding {i} overlaps an earlier one",
            shader.name
        );
    }
    let size = constants.iter().find(|(name, _)| *name == "WORKGROUP_SIZE");
    let workgroup_size = size.map_or(shader.workgroup_size, |&(_, size)| size);
    let others = constants.iter().filter(|(name, _)| *name != "WORKGROUP_SIZE");
    let constants = std::iter::once(("WORKGROUP_SIZE", workgroup_size)).chain(others.copied()).collect();
    let client = &buffers[0].client;
    let arguments = buffers
        .iter()
        .fold(KernelArguments::new(), |args, tensor| args.with_buffer(tensor.handle.clone().binding()))
        .with_info(MetadataBindingInfo::custom(info.words()));
    let kernel = SourceKernel::new(Kernel { shader, constants }, CubeDim::new_1d(workgroup_size));
    client.launch(Box::new(kernel), CubeCount::Static(workgroups.0, workgroups.1, 1), arguments);
}

/// Workgroups for one thread per item, capped at the grid limit (the kernel strides).
pub fn workgroups_for(shader: &Shader, items: usize) -> (u32, u32) {
    let groups = items.div_ceil(shader.workgroup_size as usize).max(1);
    (groups.min(MAX_WORKGROUPS as usize) as u32, 1)
}

/// Inputs as the shaders read them: contiguous f32, none overlapping another.
pub fn inputs<const N: usize>(tensors: [CubeTensor; N]) -> [CubeTensor; N] {
    optional_inputs(tensors.map(Some)).map(|t| t.expect("every input is given"))
}

/// `inputs`, some of which may be absent.
pub fn optional_inputs<const N: usize>(tensors: [Option<CubeTensor>; N]) -> [Option<CubeTensor>; N] {
    let mut done: Vec<CubeTensor> = Vec::with_capacity(N);
    tensors.map(|tensor| {
        let tensor = tensor?;
        assert_eq!(tensor.dtype, DType::F32, "our kernels are written for f32 tensors");
        let tensor = into_contiguous(tensor);
        let tensor = if done.iter().any(|t| overlaps(t, &tensor)) { tensor.copy() } else { tensor };
        done.push(tensor.clone());
        Some(tensor)
    })
}

/// Token ids as the shaders read them: contiguous 32-bit integers.
pub fn ids(ids: CubeTensor) -> CubeTensor {
    let ids = if ids.dtype == DType::I32 { ids } else { CubeBackend::int_cast(ids, IntDType::I32) };
    into_contiguous(ids)
}

/// Whether two tensors' bytes overlap. Views of one buffer that do not (the parameters of an
/// AdamW group, `ops::adamw`) may be bound side by side.
fn overlaps(a: &CubeTensor, b: &CubeTensor) -> bool {
    let (a_bytes, b_bytes) = (bytes(a), bytes(b));
    same_buffer(a, b) && a_bytes.start < b_bytes.end && b_bytes.start < a_bytes.end
}

/// Whether two tensors are views of one allocation.
pub fn same_buffer(a: &CubeTensor, b: &CubeTensor) -> bool {
    std::ptr::eq(a.handle.memory.descriptor(), b.handle.memory.descriptor())
}

/// The bytes of its allocation a tensor's handle covers.
pub fn bytes(t: &CubeTensor) -> std::ops::Range<u64> {
    t.handle.offset_start.unwrap_or(0)..t.handle.size() - t.handle.offset_end.unwrap_or(0)
}

/// `shape`'s values from value `start` of `buffer`, as a tensor of their own: no copy.
pub fn view(buffer: &CubeTensor, start: usize, shape: impl Into<Shape>) -> CubeTensor {
    let shape = shape.into();
    // A handle's offsets add to those it has: burn's pool may already have trimmed the end of a
    // buffer it rounded up, and a view measured from the whole allocation lost that much of its
    // own end.
    let used = bytes(buffer);
    let length = used.end - used.start;
    let (start, end) = ((start * F32) as u64, ((start + shape.num_elements()) * F32) as u64);
    assert!(end <= length, "a view reaches past its buffer");
    let handle = buffer.handle.clone().offset_start(start).offset_end(length - end);
    CubeTensor::new_contiguous(buffer.client.clone(), buffer.device.clone(), shape, handle, buffer.dtype)
}

/// A new buffer for `count` tensors of `shape` side by side, each start on `VIEW_ALIGN`: the
/// buffer and how many values apart they start (`views` gives them as tensors).
pub fn side_by_side(like: &CubeTensor, count: usize, shape: &Shape) -> (CubeTensor, usize) {
    let spacing = shape.num_elements().next_multiple_of(VIEW_ALIGN);
    (empty(like, [count * spacing]), spacing)
}

/// Views of one buffer `spacing` values apart, each of `shape`.
pub fn views<const N: usize>(buffer: &CubeTensor, spacing: usize, shape: &Shape) -> [CubeTensor; N] {
    std::array::from_fn(|i| view(buffer, i * spacing, shape.clone()))
}

/// How many values apart `tensors` start, when they are contiguous views of one allocation at
/// one spacing, each ending before the next begins; 0 for one contiguous tensor, which a kernel
/// reading `s · spacing` on from it reads as it stands.
pub fn spacing(tensors: &[CubeTensor]) -> Option<usize> {
    let first = &tensors[0];
    if tensors.len() == 1 {
        return first.is_contiguous().then_some(0);
    }
    let starts: Vec<u64> = tensors.iter().map(|t| bytes(t).start).collect();
    let step = starts.get(1).map_or(0, |s| s.saturating_sub(starts[0]));
    let even = tensors.iter().zip(&starts).enumerate().all(|(i, (t, &start))| {
        same_buffer(t, first)
            && t.is_contiguous()
            && start == starts[0] + i as u64 * step
            && bytes(t).end - start <= step
    });
    (even && step > 0 && step.is_multiple_of(F32 as u64)).then(|| (step / F32 as u64) as usize)
}

/// The values from `first`'s start to `values` on, in its allocation: a view that can span
/// several others.
pub fn span(first: &CubeTensor, values: usize) -> CubeTensor {
    let start = bytes(first).start;
    let end = start + (values * F32) as u64;
    let size = first.handle.size();
    assert!(end <= size, "a span reaches past its buffer");
    let mut handle = first.handle.clone();
    handle.offset_end = Some(size - end);
    CubeTensor::new_contiguous(first.client.clone(), first.device.clone(), [values].into(), handle, first.dtype)
}

const F32: usize = std::mem::size_of::<f32>();

/// A new, uninitialised f32 tensor on `like`'s device.
pub fn empty(like: &CubeTensor, shape: impl Into<Shape>) -> CubeTensor {
    let shape = shape.into();
    let handle = like.client.empty(shape.num_elements() * std::mem::size_of::<f32>());
    CubeTensor::new_contiguous(like.client.clone(), like.device.clone(), shape, handle, DType::F32)
}

/// Pieces to cut a sum of `k` terms into when only `outputs` threads would share it (a weight's
/// gradient sums over every token of the batch into a small matrix): enough for about
/// `GPU_THREADS` threads in all, none shorter than `MIN_PIECE` terms. On an H200 a batch of
/// 256 × 128 in one piece left 1,024 threads each walking 32,768 rows (1.8 s a step). Sums of
/// up to 2 × `MIN_PIECE` terms, as in the widget's default 4 × 64 runs, stay whole: software
/// WebGPU has few threads to fill, and the added dispatch would only cost it.
pub fn pieces_for(outputs: usize, k: usize) -> usize {
    const GPU_THREADS: usize = 16_384;
    const MIN_PIECE: usize = 512;
    GPU_THREADS.div_ceil(outputs.max(1)).min(k / MIN_PIECE).max(1)
}

/// The pieces' partial results (pieces, ...) added up into `shape`, by burn's own reduction
/// (one piece is only reshaped: no dispatch).
pub fn sum_pieces(partials: CubeTensor, shape: impl Into<Shape>) -> CubeTensor {
    let whole = match partials.meta.shape()[0] {
        1 => partials,
        _ => CubeBackend::float_sum_dim(partials, 0),
    };
    CubeBackend::float_reshape(whole, shape.into())
}
