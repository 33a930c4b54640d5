//! Our checkpoint file: the model's float tensors by module path, with the model shape and the
//! adapter settings in a JSON header, so a file alone says what it holds.
//!
//! Layout (little endian): `FTLAB001` | u32 header length | header JSON | data, each tensor in
//! header order, stored as the header's `"dtype"` says (`Dtype`: f32 when absent, f16, or i8
//! rows with a scale each). Tensors are always f32 in memory.
//! A full checkpoint holds every tensor; an adapter checkpoint only the LoRA A/B tensors, which
//! is the whole point of adapters: kilobytes per tenant instead of the whole model.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod dtype;

pub use dtype::Dtype;

use crate::lora::AdapterSpec;
use crate::readback::read_all_f32;
use crate::shape::ModelShape;

const MAGIC: &[u8; 8] = b"FTLAB001";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TensorEntry {
    pub name: String,
    pub shape: Vec<usize>,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Adapter => "adapter",
        }
    }
}

/// What a file holds: a whole model, or an adapter's tensors alone.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Full,
    Adapter,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Header {
    pub kind: Kind,
    pub shape: ModelShape,
    pub adapter: Option<AdapterSpec>,
    /// An adapter file's base: the SHA-256 of the base file it was trained on. An adapter only
    /// means something on top of the exact weights it learned against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha256: Option<String>,
    /// An adapter file's data: the built-in task it was trained on (absent for a reader's own
    /// text), so a server can offer that task's prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    pub tensors: Vec<TensorEntry>,
    /// Written only for f16 and i8, so f32 files stay as they always were (absent means f32).
    #[serde(default, skip_serializing_if = "Dtype::is_f32")]
    pub dtype: Dtype,
}

/// A parsed checkpoint: header plus each tensor's values, in header order, and the SHA-256 of
/// the file it was parsed from (what an adapter trained on it records).
#[derive(Debug)]
pub struct Checkpoint {
    pub header: Header,
    pub values: Vec<Vec<f32>>,
    pub sha256: String,
}

/// What an adapter file records besides its tensors.
#[derive(Debug, Clone)]
pub struct AdapterMeta {
    pub spec: AdapterSpec,
    /// The SHA-256 of the base file it was trained on (`Checkpoint::sha256`).
    pub base_sha256: String,
    /// The built-in task it was trained on, if any.
    pub task: Option<String>,
}

/// Which tensors a checkpoint keeps.
#[derive(Clone, Copy, PartialEq)]
pub enum Keep {
    All,
    /// Only the LoRA A/B matrices.
    Adapters,
}

fn is_adapter_path(path: &str) -> bool {
    path.contains(".adapter.")
}

/// Collects `(path, flattened tensor, shape)` for every float parameter, path as `blocks.0.attn.q.base.weight`.
struct Collect {
    path: Vec<String>,
    keep: Keep,
    found: Vec<(String, Tensor<1>, Vec<usize>)>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let name = self.path.join(".");
        if self.keep == Keep::Adapters && !is_adapter_path(&name) {
            return;
        }
        let tensor = param.val();
        let shape = tensor.dims().to_vec();
        let n: usize = shape.iter().product();
        self.found.push((name, tensor.reshape([n]), shape));
    }
}

/// Serialise a model's tensors: every one, or with `adapter` an adapter file of the LoRA A/B
/// tensors alone. Async because reading tensors back from WebGPU is.
pub async fn to_bytes<M: Module>(
    module: &M,
    shape: &ModelShape,
    adapter: Option<&AdapterMeta>,
) -> Result<Vec<u8>, String> {
    let keep = if adapter.is_some() { Keep::Adapters } else { Keep::All };
    let mut collect = Collect { path: vec![], keep, found: vec![] };
    module.visit(&mut collect);
    let tensors =
        collect.found.iter().map(|(name, _, shape)| TensorEntry { name: name.clone(), shape: shape.clone() }).collect();
    let kind = if keep == Keep::All { Kind::Full } else { Kind::Adapter };
    let header = Header {
        kind,
        shape: shape.clone(),
        adapter: adapter.map(|a| a.spec.clone()),
        base_sha256: adapter.map(|a| a.base_sha256.clone()),
        task: adapter.and_then(|a| a.task.clone()),
        tensors,
        dtype: Dtype::F32,
    };
    let values = read_all_f32(collect.found.into_iter().map(|(_, tensor, _)| tensor).collect()).await?;
    Ok(encode(&header, &values, Dtype::F32).expect("f32 holds every f32"))
}

/// Every float parameter of a module by path (`blocks.0.attn.q.base.weight`), flattened and read
/// back: what a full file of it would hold, adapters included.
pub async fn named_values<M: Module>(module: &M) -> Result<Vec<(String, Vec<f32>)>, String> {
    let mut collect = Collect { path: vec![], keep: Keep::All, found: vec![] };
    module.visit(&mut collect);
    let (names, tensors): (Vec<String>, Vec<Tensor<1>>) =
        collect.found.into_iter().map(|(name, tensor, _)| (name, tensor)).unzip();
    Ok(names.into_iter().zip(read_all_f32(tensors).await?).collect())
}

/// The file for `values` under `header`, stored as `dtype` (see `Dtype`); a value the type
/// cannot hold is an error rather than a silent infinity.
fn encode(header: &Header, values: &[Vec<f32>], dtype: Dtype) -> Result<Vec<u8>, String> {
    let header = Header { dtype, ..header.clone() };
    let json = serde_json::to_vec(&header).expect("header serialises");
    let mut bytes = Vec::from(MAGIC.as_slice());
    bytes.extend((json.len() as u32).to_le_bytes());
    bytes.extend(json);
    for (entry, values) in header.tensors.iter().zip(values) {
        dtype.write(&entry.name, &entry.shape, values, &mut bytes)?;
    }
    Ok(bytes)
}

impl Checkpoint {
    /// The file for these values stored as `dtype` (see `encode`).
    pub fn to_bytes(&self, dtype: Dtype) -> Result<Vec<u8>, String> {
        encode(&self.header, &self.values, dtype)
    }

    /// Parse a file. Everything the header claims is checked before anything is allocated for
    /// it: the model shape and adapter spec are buildable, every tensor's size is computed with
    /// checked arithmetic and present in the file, and the tensors hold exactly the parameters
    /// the shape has (all of them, or the adapter's), so no later step allocates more than the
    /// file's own size implies.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let bad = |why: &str| format!("not a finetune-lab checkpoint: {why}");
        if bytes.len() < 12 || &bytes[..8] != MAGIC {
            return Err(bad("wrong magic bytes"));
        }
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
        let end = 12usize.checked_add(header_len);
        let json = end.and_then(|end| bytes.get(12..end)).ok_or_else(|| bad("header cut short"))?;
        let header: Header = serde_json::from_slice(json).map_err(|e| bad(&e.to_string()))?;
        header.shape.validate().map_err(|e| bad(&e))?;
        let expected = match (header.kind, &header.adapter) {
            (Kind::Full, None) => header.shape.param_count(),
            (Kind::Adapter, Some(spec)) => {
                spec.validate(&header.shape).map_err(|e| bad(&e))?;
                crate::lora::adapter_params(&header.shape, spec.rank, &spec.targets)
            }
            (kind, spec) => {
                let with = if spec.is_some() { "with" } else { "without" };
                return Err(bad(&format!("a `{}` file {with} an adapter spec", kind.name())));
            }
        };
        let mut sizes = Vec::with_capacity(header.tensors.len());
        let mut lengths = Vec::with_capacity(header.tensors.len());
        for entry in &header.tensors {
            let n = entry.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            let stored = header.dtype.stored_len(&entry.shape);
            let (n, stored) = n.zip(stored).ok_or_else(|| bad(&format!("{} is impossibly large", entry.name)))?;
            sizes.push(n);
            lengths.push(stored);
        }
        let total = sizes.iter().try_fold(0u64, |t, &n| t.checked_add(n as u64));
        if total != Some(expected) {
            let held = total.map_or("more".to_string(), |t| t.to_string());
            return Err(bad(&format!("its tensors hold {held} values where its shape needs {expected}")));
        }
        let mut data = &bytes[12 + header_len..];
        // A whole header with too little after it is a file that stopped early (an interrupted
        // download or copy), not something else: say so, with how much is missing.
        let need = lengths.iter().try_fold(0usize, |t, &n| t.checked_add(n));
        match need {
            Some(need) if data.len() >= need => {}
            need => {
                let need = need.map_or("more".to_string(), |n| n.to_string());
                return Err(format!(
                    "the file is cut short: its header describes {need} bytes of tensors and only {} follow \
                     (an interrupted download or copy?)",
                    data.len()
                ));
            }
        }
        let mut values = Vec::with_capacity(header.tensors.len());
        for (entry, &stored) in header.tensors.iter().zip(&lengths) {
            values.push(header.dtype.read(&entry.shape, &data[..stored]));
            data = &data[stored..];
        }
        if !data.is_empty() {
            return Err(bad("trailing bytes after the last tensor"));
        }
        Ok(Self { header, values, sha256: sha256_hex(bytes) })
    }

    /// This file as an adapter for `base`, or why it cannot be one: not an adapter, trained on
    /// another base, made for another shape, or a rank or α out of range.
    pub fn adapter_for(&self, base: &Checkpoint) -> Result<&AdapterSpec, String> {
        let Some(spec) = &self.header.adapter else {
            return Err("this is a full model, not an adapter file".into());
        };
        match &self.header.base_sha256 {
            None => return Err("the adapter does not say which base it was trained on (no base_sha256)".into()),
            Some(sha) if *sha != base.sha256 => {
                return Err(format!(
                    "the adapter was trained on another base (SHA-256 {}…, this base is {}…)",
                    &sha[..sha.len().min(12)],
                    &base.sha256[..12]
                ));
            }
            Some(_) => {}
        }
        if self.header.shape != base.header.shape {
            return Err(format!("the adapter was made for another model shape: {:?}", self.header.shape));
        }
        spec.validate(&base.header.shape)?;
        Ok(spec)
    }

    /// Replace the module's tensors with this checkpoint's, matched by path. Every tensor in the
    /// file must find its parameter with the same shape; with `Keep::All` every parameter must
    /// be in the file too.
    pub fn load_into<M: Module>(&self, module: M, keep: Keep) -> Result<M, String> {
        let mut load =
            Load { path: vec![], checkpoint: self, used: vec![false; self.values.len()], errors: vec![], keep };
        let module = module.map(&mut load);
        for (entry, used) in self.header.tensors.iter().zip(&load.used) {
            if !used {
                load.errors.push(format!("{} has no parameter in the model", entry.name));
            }
        }
        if load.errors.is_empty() { Ok(module) } else { Err(load.errors.join("; ")) }
    }
}

struct Load<'a> {
    path: Vec<String>,
    checkpoint: &'a Checkpoint,
    used: Vec<bool>,
    errors: Vec<String>,
    keep: Keep,
}

impl ModuleMapper for Load<'_> {
    fn enter_module(&mut self, name: &str, _container: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.join(".");
        let found = self.checkpoint.header.tensors.iter().position(|e| e.name == name);
        let Some(i) = found else {
            if self.keep == Keep::All || is_adapter_path(&name) {
                self.errors.push(format!("{name} is missing from the checkpoint"));
            }
            return param;
        };
        self.used[i] = true;
        let shape = &self.checkpoint.header.tensors[i].shape;
        if shape.as_slice() != param.dims().as_slice() {
            self.errors.push(format!("{name}: checkpoint shape {shape:?}, model {:?}", param.dims()));
            return param;
        }
        let device = param.lazy_device();
        let data = TensorData::new(self.checkpoint.values[i].clone(), shape.clone());
        let id = param.id;
        param.transform_for_load(Tensor::from_data(data, &device), id)
    }
}

/// Lower-case hex SHA-256, as `sha256sum` prints it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
