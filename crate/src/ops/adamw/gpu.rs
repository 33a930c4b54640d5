//! AdamW on burn's wgpu backend: `shaders/adamw.wgsl`, one dispatch per group of tensors.
//!
//! The updated parameters are views into one buffer per group, at `Layout`'s offsets. When the
//! next step brings them back unchanged, that buffer is bound whole and updated in place, or
//! copied first where something else still holds it (a model kept from an earlier step would
//! otherwise see its parameters change); parameters that come from anywhere else (the first
//! step, a model loaded since) are first copied into a new one, one copy each.

use std::cell::RefCell;

use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::wgpu::{CubeBackend, CubeTensor};
use burn::tensor::{Shape, TensorData};

use super::{AdamWOps, AdamWStep, GROUP, Layout, Slots, UNIFORM_SLOTS, from_slots, into_slots};
use crate::ops::shader::ADAMW;
use crate::ops::wgsl::{Info, bytes, empty, hardware_form, inputs, launch_with, same_buffer, view};

const F32: u64 = std::mem::size_of::<f32>() as u64;
const _: () = assert!(
    ADAMW.workgroup_size.is_power_of_two() && ADAMW.software_workgroup_size.is_power_of_two(),
    "AdamW's norm halves its workgroup at each level of its tree"
);

impl AdamWOps for CubeBackend {
    fn adamw_step(
        moments: FloatTensor<Self>,
        p0: FloatTensor<Self>,
        p1: FloatTensor<Self>,
        p2: FloatTensor<Self>,
        p3: FloatTensor<Self>,
        p4: FloatTensor<Self>,
        g0: FloatTensor<Self>,
        g1: FloatTensor<Self>,
        g2: FloatTensor<Self>,
        g3: FloatTensor<Self>,
        g4: FloatTensor<Self>,
        count: usize,
        step: AdamWStep,
    ) -> Slots<FloatTensor<Self>> {
        let (params, grads, unused) = from_slots([p0, p1, p2, p3, p4], [g0, g1, g2, g3, g4], count);
        let layout = Layout::new(params.iter().map(|p| p.meta.shape().num_elements()));
        let like = grads[0].clone();
        let flat = match packed(&params, &layout) {
            Some(flat) => {
                drop(params);
                if flat.can_mut() { flat } else { flat.copy() }
            }
            None => pack(params, &layout),
        };
        // Written in place: the optimizer holds the only reference from one step to the next.
        let moments = if moments.can_mut() { moments } else { moments.copy() };
        let scalars = step_scalars(&step, &like);
        let mut grads = grads.into_iter();
        let grads = [(); GROUP].map(|_| grads.next().unwrap_or_else(|| empty(&like, [1])));
        let [g0, g1, g2, g3, g4] = inputs(grads);

        let slot = |values: &[usize], t: usize| values.get(t).copied().unwrap_or(0);
        let mut info = Info::new();
        for t in 0..UNIFORM_SLOTS {
            info = info.usize(slot(&layout.sizes, t));
        }
        for t in 0..UNIFORM_SLOTS {
            info = info.usize(slot(&layout.offsets, t));
        }
        let info = info
            .usize(layout.total)
            .u32(step.first as u32)
            .u32(step.clip_norm.is_some() as u32)
            .f32(step.clip_norm.unwrap_or(0.0))
            .f32(step.beta1)
            .f32(step.beta2)
            .f32(step.one_minus_beta1)
            .f32(step.one_minus_beta2)
            .f32(step.epsilon);
        // One workgroup per tensor, of the adapter's size (`shaders/adamw.wgsl` says why).
        let workgroups = (layout.sizes.len() as u32, 1);
        let size = if hardware_form(&like) { ADAMW.workgroup_size } else { ADAMW.software_workgroup_size };
        launch_with(
            &ADAMW,
            &[("WORKGROUP_SIZE", size)],
            workgroups,
            &[&flat, &g0, &g1, &g2, &g3, &g4, &moments, &scalars],
            info,
        );
        into_slots(views(&flat, &layout), unused, moments)
    }
}

/// Each parameter as a view of the group's buffer: no copy, and a binding of its own where a
/// kernel takes it alone. (burn's slice makes a view only when the end, too, lies on the
/// alignment, and copies a tensor whose size is not a multiple of it.)
fn views(flat: &CubeTensor, layout: &Layout) -> Vec<CubeTensor> {
    layout.sizes.iter().zip(&layout.offsets).map(|(&n, &start)| view(flat, start, [n])).collect()
}

/// The group's buffer, when `params` are still the views `views` made of it.
fn packed(params: &[CubeTensor], layout: &Layout) -> Option<CubeTensor> {
    let first = &params[0];
    let group_size = layout.total as u64 * F32;
    let same = params.iter().zip(&layout.offsets).all(|(p, &start)| {
        same_buffer(p, first)
            && bytes(p).start == start as u64 * F32
            && p.handle.size() == group_size
            && p.is_contiguous()
    });
    same.then(|| {
        let mut handle = first.handle.clone();
        (handle.offset_start, handle.offset_end) = (None, None);
        CubeTensor::new_contiguous(
            first.client.clone(),
            first.device.clone(),
            [layout.total].into(),
            handle,
            first.dtype,
        )
    })
}

/// A new group buffer holding `params` at the layout's offsets (the gaps are never read).
fn pack(params: Vec<CubeTensor>, layout: &Layout) -> CubeTensor {
    let flat = empty(&params[0], [layout.total]);
    params.into_iter().zip(layout.sizes.iter().zip(&layout.offsets)).fold(flat, |flat, (p, (&n, &start))| {
        let p = CubeBackend::float_reshape(p, Shape::from([n]));
        CubeBackend::float_slice_assign(flat, &[(start..start + n).into()], p)
    })
}

thread_local! {
    /// The last step's scalars on the device, with the values they hold.
    static SCALARS: RefCell<Option<([u32; 4], CubeTensor)>> = const { RefCell::new(None) };
}

/// What changes every step (lr, decay, bc1, bc2) goes in a buffer, so the launch info stays the
/// same from step to step and the backend's cache of infos (keyed by content) holds one per
/// group. Every group of one step shares these values, so they are uploaded once a step: burn
/// submits the queued work before every upload, and an upload per group would make one
/// submission per group.
fn step_scalars(step: &AdamWStep, like: &CubeTensor) -> CubeTensor {
    let values = [step.lr, step.decay, step.bc1, step.bc2];
    let key = values.map(f32::to_bits);
    SCALARS.with_borrow_mut(|last| {
        if let Some((held, tensor)) = last.as_ref()
            && *held == key
            && tensor.device == like.device
        {
            return tensor.clone();
        }
        let tensor = CubeBackend::float_from_data(TensorData::new(values.to_vec(), [4]), &like.device);
        *last = Some((key, tensor.clone()));
        tensor
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The point of the group buffer: a step's parameters come back as views of it, which the
    /// next step recognises, binds whole and updates in place instead of copying them in again.
    #[test]
    fn the_next_step_updates_the_group_buffer_in_place() {
        let device = Default::default();
        let ramp = |n: usize| {
            let values: Vec<f32> = (0..n).map(|i| i as f32 / n as f32 - 0.5).collect();
            CubeBackend::float_from_data(TensorData::new(values, [n]), &device)
        };
        let layout = Layout::new([29, 64]);
        let (p0, p1) = (ramp(29), ramp(64));
        assert!(packed(&[p0.clone(), p1.clone()], &layout).is_none(), "separate tensors are no group buffer");

        let step = |time| AdamWStep::new(1e-2, time, 0.9, 0.999, 1e-5, 0.0, Some(1.0));
        let moments = empty(&p0, [2 * layout.total]);
        let (g0, g1) = (ramp(29), ramp(64));
        // Two parameters; the unused slots hold the first gradient, as `adamw_step` fills them.
        let run = |moments, p0, p1, time| {
            let f = || g0.clone();
            let (q0, q1, .., moments) =
                CubeBackend::adamw_step(moments, p0, p1, f(), f(), f(), f(), g1.clone(), f(), f(), f(), 2, step(time));
            (q0, q1, moments)
        };
        let (q0, q1, moments) = run(moments, p0, p1, 1);
        let flat = packed(&[q0.clone(), q1.clone()], &layout).expect("the updated parameters are views of one buffer");
        assert_eq!(flat.meta.shape().num_elements(), layout.total);
        assert!(
            packed(&[q1.clone(), q0.clone()], &layout).is_none(),
            "the same views in another order are not the layout"
        );
        drop(flat);

        // The next step updates that buffer in place when only the step's own views hold it...
        let buffer = std::ptr::from_ref(q0.handle.memory.descriptor());
        let (r0, r1, moments) = run(moments, q0, q1, 2);
        assert!(std::ptr::eq(r0.handle.memory.descriptor(), buffer), "the group's buffer, updated in place");
        // ...and a copy of it when anything else holds it.
        let kept = r0.clone();
        let (s0, ..) = run(moments, r0, r1, 3);
        assert!(!same_buffer(&s0, &kept), "a buffer held elsewhere is copied, not written");
    }
}
