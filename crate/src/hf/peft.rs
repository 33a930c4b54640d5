//! An adapter as a PEFT LoRA directory (`adapter_config.json`, `adapter_model.safetensors`), and
//! a PEFT LoRA directory back into our adapter file.
//!
//! PEFT's LoRA layer computes `x Aᵀ Bᵀ · α/r` with `lora_A.weight` `[r, in]` and `lora_B.weight`
//! `[out, r]` (torch's `Linear` layout), whatever `fan_in_fan_out` says; ours keeps `a` `[in, r]`
//! and `b` `[r, out]`, so each is the other transposed. GPT-2 fuses q, k and v into one `c_attn`,
//! so our separate q/k/v adapters become one adapter there: their A matrices stacked and their
//! B matrices on a block diagonal, each in its own slot of the fused output. That adapter has
//! rank m·r for m adapted projections; `rank_pattern` and `alpha_pattern` give it α·m so its
//! scale stays α/r. Both directions are exact: the stacked product is the sum of the parts.

use std::collections::{BTreeMap, BTreeSet};

use safetensors::SafeTensors;
use serde_json::{Value, json};

use super::names::{MODULES, PEFT_PREFIX, block, members, module, ours};
use super::tensors::{Named, serialize, to_f32, transpose};
use super::{ExportFile, json_file};
use crate::checkpoint::{Checkpoint, Dtype, Header, Kind, TensorEntry};
use crate::lora::{AdapterSpec, Target};
use crate::shape::ModelShape;

/// The metadata key under which an exported adapter records its base's SHA-256; an import that
/// finds it checks it against the base it is put on.
pub const BASE_SHA256: &str = "finetune_lab_base_sha256";

/// The PEFT directory of one of our adapter files.
pub fn adapter_directory(adapter: &Checkpoint) -> Result<Vec<ExportFile>, String> {
    let Some(spec) = &adapter.header.adapter else {
        return Err("a whole model exports as a transformers model, not as a PEFT adapter".into());
    };
    let shape = &adapter.header.shape;
    let value = |name: String| -> Result<&[f32], String> {
        let i = adapter
            .header
            .tensors
            .iter()
            .position(|e| e.name == name)
            .ok_or_else(|| format!("the adapter has no tensor {name}"))?;
        Ok(&adapter.values[i])
    };
    let r = spec.rank;
    let mut tensors = Vec::new();
    let mut fused: BTreeMap<&str, usize> = BTreeMap::new();
    for layer in 0..shape.layers {
        for (name, members) in MODULES {
            let adapted: Vec<Target> = members.iter().copied().filter(|t| spec.targets.contains(t)).collect();
            if adapted.is_empty() {
                continue;
            }
            let (d_in, _) = adapted[0].dims(shape);
            let d_out: usize = members.iter().map(|t| t.dims(shape).1).sum();
            let m = adapted.len();
            let mut a_stacked = Vec::with_capacity(m * r * d_in);
            let mut b_blocks = vec![0.0; d_out * m * r];
            for (j, &target) in adapted.iter().enumerate() {
                let (_, out) = target.dims(shape);
                a_stacked.extend(transpose(value(format!("{}.adapter.a", ours(layer, target)))?, d_in, r));
                let b_t = transpose(value(format!("{}.adapter.b", ours(layer, target)))?, r, out);
                let first_row = module(target).1.unwrap_or(0) * out;
                for row in 0..out {
                    let at = (first_row + row) * m * r + j * r;
                    b_blocks[at..at + r].copy_from_slice(&b_t[row * r..(row + 1) * r]);
                }
            }
            let key = format!("{PEFT_PREFIX}{}.{name}", block(layer));
            tensors.push(Named { name: format!("{key}.lora_A.weight"), shape: vec![m * r, d_in], values: a_stacked });
            tensors.push(Named { name: format!("{key}.lora_B.weight"), shape: vec![d_out, m * r], values: b_blocks });
            if m > 1 {
                fused.insert(name, m);
            }
        }
    }
    let base_sha = adapter.header.base_sha256.clone().unwrap_or_default();
    let weights = serialize(&tensors, &[("format", "pt"), (BASE_SHA256, &base_sha)])?;
    let config = adapter_config(spec, &fused);
    Ok(vec![
        json_file("adapter_config.json", &config),
        ExportFile { name: "adapter_model.safetensors", bytes: weights },
    ])
}

fn adapter_config(spec: &AdapterSpec, fused: &BTreeMap<&str, usize>) -> Value {
    let modules: Vec<&str> = MODULES
        .iter()
        .filter(|(_, members)| members.iter().any(|t| spec.targets.contains(t)))
        .map(|(name, _)| *name)
        .collect();
    let ranks: BTreeMap<&str, usize> = fused.iter().map(|(name, m)| (*name, m * spec.rank)).collect();
    let alphas: BTreeMap<&str, f32> = fused.iter().map(|(name, m)| (*name, *m as f32 * spec.alpha)).collect();
    json!({
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "base_model_name_or_path": null,
        "r": spec.rank,
        "lora_alpha": spec.alpha,
        "rank_pattern": ranks,
        "alpha_pattern": alphas,
        "target_modules": modules,
        "fan_in_fan_out": true,
        "lora_dropout": 0.0,
        "bias": "none",
        "use_rslora": false,
        "use_dora": false,
        "modules_to_save": null,
        "layers_to_transform": null,
        "init_lora_weights": true,
        "inference_mode": true,
    })
}

/// The two files of a PEFT adapter from a `.zip` of its directory (found by name in whatever
/// folder the archive puts them), or what is missing.
pub fn peft_files(archive: &[u8]) -> Result<(Vec<u8>, Vec<u8>), String> {
    let mut files = crate::zip::read(archive)?;
    let mut take = |name: &str| {
        let i = files.iter().position(|(n, _)| n.rsplit('/').next() == Some(name));
        i.map(|i| files.swap_remove(i).1)
            .ok_or_else(|| format!("the .zip has no {name}: is it a PEFT adapter's directory?"))
    };
    Ok((take("adapter_config.json")?, take("adapter_model.safetensors")?))
}

/// One GPT-2 module's adapter as PEFT stores it: `a` `[rank, in]`, `b` `[out, rank]`, its scale.
struct ModuleLora {
    a: Vec<f32>,
    b: Vec<f32>,
    rank: usize,
    scale: f32,
}

/// A PEFT LoRA adapter (its `adapter_config.json` and `adapter_model.safetensors`) as our adapter
/// file for `base`, or why it cannot be one. Every tensor must name a module of this base with
/// the shapes the base gives it; an adapter that records another base is refused.
pub fn import_adapter(config_json: &[u8], weights: &[u8], base: &Checkpoint) -> Result<Vec<u8>, String> {
    let config: Value =
        serde_json::from_slice(config_json).map_err(|e| format!("adapter_config.json is not JSON: {e}"))?;
    let settings = PeftSettings::read(&config)?;
    let unusable = |e| format!("adapter_model.safetensors is not a usable safetensors file: {e}");
    let file = SafeTensors::deserialize(weights).map_err(unusable)?;
    let (_, metadata) = SafeTensors::read_metadata(weights).map_err(unusable)?;
    if let Some(sha) = metadata.metadata().as_ref().and_then(|m| m.get(BASE_SHA256)) {
        if *sha != base.sha256 {
            return Err(format!(
                "the adapter was trained on another base (SHA-256 {}…, this base is {}…)",
                &sha[..sha.len().min(12)],
                &base.sha256[..12]
            ));
        }
    }
    let shape = &base.header.shape;
    let mut pieces: BTreeMap<(usize, &str), (Option<Vec<f32>>, Option<Vec<f32>>, usize)> = BTreeMap::new();
    for (key, view) in file.iter() {
        let (layer, name, is_a) = parse_key(key, shape)?;
        let members = members(name);
        let d_in = members[0].dims(shape).0;
        let d_out: usize = members.iter().map(|t| t.dims(shape).1).sum();
        let dims = view.shape();
        let rank = if is_a { dims.first().copied() } else { dims.get(1).copied() };
        let fits =
            dims.len() == 2 && rank.is_some_and(|r| r >= 1) && if is_a { dims[1] == d_in } else { dims[0] == d_out };
        if !fits {
            let want = if is_a { format!("[rank, {d_in}]") } else { format!("[{d_out}, rank]") };
            return Err(format!("{key} has shape {dims:?} where this base needs {want}"));
        }
        let values = to_f32(&view).map_err(|e| format!("{key} {e}"))?;
        let entry = pieces.entry((layer, name)).or_insert((None, None, rank.unwrap()));
        if entry.2 != rank.unwrap() {
            return Err(format!("{key}: its rank {} differs from its partner's {}", rank.unwrap(), entry.2));
        }
        if is_a { entry.0 = Some(values) } else { entry.1 = Some(values) }
    }
    if pieces.is_empty() {
        return Err("adapter_model.safetensors holds no LoRA tensors".into());
    }
    let mut loras = BTreeMap::new();
    for ((layer, name), (a, b, rank)) in pieces {
        let (Some(a), Some(b)) = (a, b) else {
            return Err(format!("{}.{name} has only one of lora_A and lora_B", block(layer)));
        };
        let full_name = format!("{}.{name}", block(layer));
        let scale = settings.scale(&full_name, rank)?;
        loras.insert((layer, name), ModuleLora { a, b, rank, scale });
    }
    let parts = split_into_projections(&loras, shape);
    let bytes = our_adapter_file(&parts, base)?;
    Ok(bytes)
}

/// What a PEFT config says about scales, and the options we cannot express (refused).
struct PeftSettings {
    rank: f64,
    alpha: f64,
    rank_pattern: BTreeMap<String, f64>,
    alpha_pattern: BTreeMap<String, f64>,
    rslora: bool,
}

impl PeftSettings {
    fn read(config: &Value) -> Result<Self, String> {
        let peft_type = config["peft_type"].as_str().unwrap_or("(none)");
        if peft_type != "LORA" {
            return Err(format!("not a LoRA adapter: adapter_config.json says peft_type {peft_type}"));
        }
        let unsupported = [
            ("use_dora", config["use_dora"].as_bool() == Some(true)),
            ("bias", !matches!(config["bias"].as_str(), None | Some("none"))),
            ("modules_to_save", config["modules_to_save"].as_array().is_some_and(|m| !m.is_empty())),
            ("layers_to_transform", !config["layers_to_transform"].is_null()),
            ("lora_bias", config["lora_bias"].as_bool() == Some(true)),
        ];
        if let Some((name, _)) = unsupported.iter().find(|(_, set)| *set) {
            return Err(format!("adapter_config.json sets {name}, which a plain LoRA adapter here cannot hold"));
        }
        let number =
            |key: &str| config[key].as_f64().ok_or_else(|| format!("adapter_config.json has no number `{key}`"));
        let pattern = |key: &str| -> BTreeMap<String, f64> {
            config[key]
                .as_object()
                .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_f64()?))).collect())
                .unwrap_or_default()
        };
        Ok(Self {
            rank: number("r")?,
            alpha: number("lora_alpha")?,
            rank_pattern: pattern("rank_pattern"),
            alpha_pattern: pattern("alpha_pattern"),
            rslora: config["use_rslora"].as_bool() == Some(true),
        })
    }

    /// The scale PEFT gives the module `name` (`transformer.h.0.attn.c_attn`) of rank `rank`:
    /// α/r, or α/√r with rsLoRA, each from its pattern where one names the module.
    fn scale(&self, name: &str, rank: usize) -> Result<f32, String> {
        // PEFT matches a pattern key against the end of a module's name, at a dot.
        let find = |pattern: &BTreeMap<String, f64>| {
            pattern.iter().find(|(k, _)| name == k.as_str() || name.ends_with(&format!(".{k}"))).map(|(_, v)| *v)
        };
        let configured = find(&self.rank_pattern).unwrap_or(self.rank);
        if configured != rank as f64 {
            return Err(format!("{name}: its tensors have rank {rank} where adapter_config.json says {configured}"));
        }
        let alpha = find(&self.alpha_pattern).unwrap_or(self.alpha);
        let scale = if self.rslora { alpha / (rank as f64).sqrt() } else { alpha / rank as f64 };
        Ok(scale as f32)
    }
}

/// `base_model.model.transformer.h.3.attn.c_attn.lora_A.weight` → (3, "attn.c_attn", true).
fn parse_key<'k>(key: &'k str, shape: &ModelShape) -> Result<(usize, &'static str, bool), String> {
    let unknown = || {
        format!(
            "unknown tensor `{key}`: expected {PEFT_PREFIX}transformer.h.N.(attn.c_attn|attn.c_proj|mlp.c_fc|mlp.c_proj).lora_A.weight or lora_B.weight"
        )
    };
    let rest = key.strip_prefix(PEFT_PREFIX).and_then(|k| k.strip_prefix("transformer.h.")).ok_or_else(unknown)?;
    let (layer, rest) = rest.split_once('.').ok_or_else(unknown)?;
    let layer: usize = layer.parse().map_err(|_| unknown())?;
    let (name, is_a) = MODULES
        .iter()
        .find_map(|(name, _)| {
            let tail = rest.strip_prefix(name)?;
            match tail {
                ".lora_A.weight" => Some((*name, true)),
                ".lora_B.weight" => Some((*name, false)),
                _ => None,
            }
        })
        .ok_or_else(unknown)?;
    if layer >= shape.layers {
        return Err(format!("{key} names block {layer}, but this base has {} blocks", shape.layers));
    }
    Ok((layer, name, is_a))
}

/// One of our projections' adapter: `a` `[in, rank]`, `b` `[rank, out]`, its scale.
struct Part {
    a: Vec<f32>,
    b: Vec<f32>,
    rank: usize,
    scale: f32,
}

/// Each GPT-2 module's adapter as adapters on our projections. A fused `c_attn` adapter becomes
/// one per projection whose slot of B is not all zeros (all three when B is zero throughout);
/// when B is block-diagonal, as our own exports are, each takes only its own rows of A.
fn split_into_projections(
    loras: &BTreeMap<(usize, &str), ModuleLora>,
    shape: &ModelShape,
) -> BTreeMap<(usize, Target), Part> {
    let mut parts = BTreeMap::new();
    for (&(layer, name), lora) in loras {
        let members = members(name);
        let (d_in, r) = (members[0].dims(shape).0, lora.rank);
        // B's rows for each member: its slot of the fused output.
        let rows = |t: Target| {
            let out = t.dims(shape).1;
            let first = module(t).1.unwrap_or(0) * out;
            (first, out)
        };
        let nonzero = |t: Target, cols: std::ops::Range<usize>| {
            let (first, out) = rows(t);
            (first..first + out).any(|row| lora.b[row * r + cols.start..row * r + cols.end].iter().any(|&v| v != 0.0))
        };
        let mut adapted: Vec<Target> = members.iter().copied().filter(|&t| nonzero(t, 0..r)).collect();
        if adapted.is_empty() {
            adapted = members.to_vec();
        }
        let m = adapted.len();
        let diagonal = r % m == 0
            && adapted.iter().enumerate().all(|(j, &t)| {
                let chunk = r / m;
                !nonzero(t, 0..j * chunk) && !nonzero(t, (j + 1) * chunk..r)
            });
        for (j, &target) in adapted.iter().enumerate() {
            let cols = if diagonal { j * (r / m)..(j + 1) * (r / m) } else { 0..r };
            let rank = cols.len();
            let (first, out) = rows(target);
            let a_rows = &lora.a[cols.start * d_in..cols.end * d_in];
            let a = transpose(a_rows, rank, d_in);
            let mut b = vec![0.0; rank * out];
            for row in 0..out {
                for (c, col) in cols.clone().enumerate() {
                    b[c * out + row] = lora.b[(first + row) * r + col];
                }
            }
            parts.insert((layer, target), Part { a, b, rank, scale: lora.scale });
        }
    }
    parts
}

/// Our adapter file for `parts` on `base`: one rank and one α for every projection, so smaller
/// ranks are padded with zeros (which add nothing) and a projection whose scale differs has it
/// folded into its B. A block without a target the others have gets zeros there.
fn our_adapter_file(parts: &BTreeMap<(usize, Target), Part>, base: &Checkpoint) -> Result<Vec<u8>, String> {
    let shape = &base.header.shape;
    let rank = parts.values().map(|p| p.rank).max().expect("at least one part");
    let mut scales: BTreeMap<u32, usize> = BTreeMap::new();
    for p in parts.values() {
        *scales.entry(p.scale.to_bits()).or_default() += 1;
    }
    let scale = f32::from_bits(*scales.iter().max_by_key(|(_, n)| **n).expect("a scale").0);
    let targets: BTreeSet<Target> = parts.keys().map(|(_, t)| *t).collect();
    let spec = AdapterSpec { rank, alpha: scale * rank as f32, targets: targets.iter().copied().collect() };
    spec.validate(shape).map_err(|e| format!("as one adapter here it would have {e}"))?;
    let (mut tensors, mut values) = (Vec::new(), Vec::new());
    for layer in 0..shape.layers {
        for &target in &targets {
            let (d_in, d_out) = target.dims(shape);
            let (mut a, mut b) = (vec![0.0; d_in * rank], vec![0.0; rank * d_out]);
            if let Some(part) = parts.get(&(layer, target)) {
                for i in 0..d_in {
                    a[i * rank..i * rank + part.rank].copy_from_slice(&part.a[i * part.rank..(i + 1) * part.rank]);
                }
                let fold = part.scale / scale;
                for (to, from) in b.iter_mut().zip(&part.b) {
                    *to = from * fold;
                }
            }
            let path = ours(layer, target);
            tensors.push(TensorEntry { name: format!("{path}.adapter.a"), shape: vec![d_in, rank] });
            tensors.push(TensorEntry { name: format!("{path}.adapter.b"), shape: vec![rank, d_out] });
            values.extend([a, b]);
        }
    }
    let header = Header {
        kind: Kind::Adapter,
        shape: shape.clone(),
        adapter: Some(spec),
        base_sha256: Some(base.sha256.clone()),
        task: None,
        tensors,
        dtype: Dtype::F32,
    };
    let bytes = Checkpoint { header, values, sha256: String::new() }.to_bytes(Dtype::F32)?;
    Checkpoint::parse(&bytes)?.adapter_for(base)?;
    Ok(bytes)
}
