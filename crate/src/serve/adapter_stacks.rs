//! Adapter files stacked per projection, for serving them together.

use burn::tensor::{Device, Tensor, TensorData};

use crate::checkpoint::Checkpoint;
use crate::lora::Target;
use crate::lora::Tenants;
use crate::ops::lora_bgmv::AdapterStack;

/// Every tenant's adapters on one device: for each block, a stack per target projection that
/// any tenant adapts. Slot 0 is the base alone; tenant i (0-based, in the order given) is slot
/// i + 1. A tenant that does not adapt a projection has zeros and scale 0 in its stack.
#[derive(Clone)]
pub struct TenantStacks {
    blocks: Vec<Vec<(Target, AdapterStack)>>,
    slots: usize,
}

/// The path of a block's projection in a checkpoint, as the model's modules name it.
fn projection_path(block: usize, target: Target) -> String {
    let owner = match target {
        Target::Q | Target::K | Target::V | Target::O => "attn",
        Target::Fc | Target::Proj => "mlp",
    };
    format!("blocks.{block}.{owner}.{}", target.name())
}

impl TenantStacks {
    /// Stack `adapters`, each checked to be an adapter for `base`, on `device`. Ranks may
    /// differ: each stack is padded with zeros to the largest rank that adapts its projection.
    pub fn new(adapters: &[&Checkpoint], base: &Checkpoint, device: &Device) -> Result<Self, String> {
        let shape = &base.header.shape;
        let specs = adapters
            .iter()
            .enumerate()
            .map(|(i, file)| file.adapter_for(base).map_err(|e| format!("tenant {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        let slots = adapters.len() + 1;
        let mut blocks = Vec::with_capacity(shape.layers);
        for block in 0..shape.layers {
            let mut stacks = Vec::new();
            for target in Target::ALL {
                let users: Vec<usize> = (0..adapters.len()).filter(|&i| specs[i].targets.contains(&target)).collect();
                let Some(rank) = users.iter().map(|&i| specs[i].rank).max() else { continue };
                let (d_in, d_out) = target.dims(shape);
                let (mut a, mut b) = (vec![0.0; slots * d_in * rank], vec![0.0; slots * rank * d_out]);
                let mut scales = vec![0.0; slots];
                let path = projection_path(block, target);
                for &i in &users {
                    let (own, slot) = (specs[i].rank, i + 1);
                    let tensor = |name: &str, want: [usize; 2]| {
                        let name = format!("{path}.adapter.{name}");
                        let at = adapters[i].header.tensors.iter().position(|e| e.name == name);
                        let at = at.ok_or_else(|| format!("tenant {slot}: {name} is missing"))?;
                        if adapters[i].header.tensors[at].shape != want {
                            return Err(format!(
                                "tenant {slot}: {name} has shape {:?}, not {want:?}",
                                adapters[i].header.tensors[at].shape
                            ));
                        }
                        Ok(&adapters[i].values[at])
                    };
                    let (own_a, own_b) = (tensor("a", [d_in, own])?, tensor("b", [own, d_out])?);
                    // A's row k keeps its `own` values first, then zeros up to `rank`.
                    for k in 0..d_in {
                        let to = (slot * d_in + k) * rank;
                        a[to..to + own].copy_from_slice(&own_a[k * own..(k + 1) * own]);
                    }
                    // B's first `own` rows; rows past them stay zero.
                    let to = slot * rank * d_out;
                    b[to..to + own * d_out].copy_from_slice(own_b);
                    scales[slot] = specs[i].alpha / own as f32;
                }
                let stack = AdapterStack {
                    a: Tensor::from_data(TensorData::new(a, [slots, d_in, rank]), device),
                    b: Tensor::from_data(TensorData::new(b, [slots, rank, d_out]), device),
                    scales: Tensor::from_data(TensorData::new(scales, [slots]), device),
                };
                stacks.push((target, stack));
            }
            blocks.push(stacks);
        }
        Ok(Self { blocks, slots })
    }

    /// No tenants: slot 0 alone, every row through the model as it is (its own adapters, if it
    /// carries any). What `generate` serves one request with.
    pub fn none() -> Self {
        Self { blocks: vec![], slots: 1 }
    }

    /// Slots: the tenants plus slot 0 (the base alone).
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Block `block`'s stacks with each sequence's `slots`, for `Gpt::forward_tenants`.
    pub fn tenants<'a>(&'a self, block: usize, slots: &'a Tensor<1>) -> Option<Tenants<'a>> {
        let stacks = self.blocks.get(block)?;
        (!stacks.is_empty()).then_some(Tenants { stacks, slots })
    }
}
