//! A whole model (the base, a fully fine-tuned model, or a base with an adapter merged into it)
//! as a `transformers` GPT-2 directory: `config.json`, `model.safetensors` and a tokenizer that
//! `AutoTokenizer` loads and that gives our ids.

use std::collections::HashMap;

use serde_json::json;

use super::names::{MODULES, block, ours};
use super::tensors::{Named, serialize, transpose};
use super::tokenizer::tokenizer_files;
use super::{ExportFile, json_file};
use crate::checkpoint::{Checkpoint, Kind};
use crate::ops::layer_norm::EPSILON;
use crate::shape::ModelShape;

/// The metadata key under which an export records the SHA-256 of the `.ftlab` file it came from,
/// so an adapter trained on it can be matched to its base again.
pub const SOURCE_SHA256: &str = "finetune_lab_sha256";

/// The GPT-2 directory of a full checkpoint.
pub fn model_directory(model: &Checkpoint) -> Result<Vec<ExportFile>, String> {
    if model.header.kind != Kind::Full {
        return Err("only a whole model exports as a transformers model; an adapter exports for PEFT".into());
    }
    let shape = &model.header.shape;
    let tensors = gpt2_tensors(model)?;
    let weights = serialize(&tensors, &[("format", "pt"), (SOURCE_SHA256, &model.sha256)])?;
    let mut files =
        vec![json_file("config.json", &config(shape)), ExportFile { name: "model.safetensors", bytes: weights }];
    files.extend(tokenizer_files(shape));
    Ok(files)
}

/// GPT-2's configuration for our shape. Dropout is zero (we train without it); the attention
/// scale is 1/√head_dim as ours; no begin or end token, as our text has none.
fn config(shape: &ModelShape) -> serde_json::Value {
    json!({
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": shape.vocab,
        "n_positions": shape.context,
        "n_embd": shape.d_model,
        "n_layer": shape.layers,
        "n_head": shape.heads,
        "n_inner": shape.d_ff,
        "activation_function": "gelu",
        "layer_norm_epsilon": EPSILON,
        "resid_pdrop": 0.0,
        "embd_pdrop": 0.0,
        "attn_pdrop": 0.0,
        "initializer_range": 0.02,
        "scale_attn_weights": true,
        "scale_attn_by_inverse_layer_idx": false,
        "reorder_and_upcast_attn": false,
        "tie_word_embeddings": false,
        "bos_token_id": null,
        "eos_token_id": null,
        "use_cache": true,
        "torch_dtype": "float32",
    })
}

/// Our tensors under GPT-2's names: q, k and v side by side in `c_attn`, the head transposed
/// into `lm_head`'s `[vocab, d]`, everything else as it is.
fn gpt2_tensors(model: &Checkpoint) -> Result<Vec<Named>, String> {
    let by_name: HashMap<&str, (&[usize], &[f32])> = model
        .header
        .tensors
        .iter()
        .zip(&model.values)
        .map(|(entry, values)| (entry.name.as_str(), (entry.shape.as_slice(), values.as_slice())))
        .collect();
    let get = |name: &str| by_name.get(name).copied().ok_or_else(|| format!("the model has no tensor {name}"));
    let copy = |to: String, from: &str| -> Result<Named, String> {
        let (shape, values) = get(from)?;
        Ok(Named { name: to, shape: shape.to_vec(), values: values.to_vec() })
    };
    let s = &model.header.shape;
    let mut out = vec![
        copy("transformer.wte.weight".into(), "tok_emb.weight")?,
        copy("transformer.wpe.weight".into(), "pos_emb.weight")?,
    ];
    for layer in 0..s.layers {
        let (gpt2, ours_block) = (block(layer), format!("blocks.{layer}"));
        out.push(copy(format!("{gpt2}.ln_1.weight"), &format!("{ours_block}.ln1.gamma"))?);
        out.push(copy(format!("{gpt2}.ln_1.bias"), &format!("{ours_block}.ln1.beta"))?);
        for (module, targets) in MODULES {
            if module == "mlp.c_fc" {
                out.push(copy(format!("{gpt2}.ln_2.weight"), &format!("{ours_block}.ln2.gamma"))?);
                out.push(copy(format!("{gpt2}.ln_2.bias"), &format!("{ours_block}.ln2.beta"))?);
            }
            let weights = targets
                .iter()
                .map(|&t| get(&format!("{}.base.weight", ours(layer, t))))
                .collect::<Result<Vec<_>, _>>()?;
            let biases = targets
                .iter()
                .map(|&t| get(&format!("{}.base.bias", ours(layer, t))))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(side_by_side(format!("{gpt2}.{module}.weight"), &weights));
            out.push(Named {
                name: format!("{gpt2}.{module}.bias"),
                shape: vec![biases.iter().map(|(shape, _)| shape[0]).sum()],
                values: biases.iter().flat_map(|(_, v)| v.iter().copied()).collect(),
            });
        }
    }
    out.push(copy("transformer.ln_f.weight".into(), "ln_f.gamma")?);
    out.push(copy("transformer.ln_f.bias".into(), "ln_f.beta")?);
    let (head_shape, head) = get("head.weight")?;
    out.push(Named {
        name: "lm_head.weight".into(),
        shape: vec![head_shape[1], head_shape[0]],
        values: transpose(head, head_shape[0], head_shape[1]),
    });
    Ok(out)
}

/// `[in, out_i]` matrices joined along their outputs into one `[in, Σ out_i]`.
fn side_by_side(name: String, parts: &[(&[usize], &[f32])]) -> Named {
    let rows = parts[0].0[0];
    let cols: usize = parts.iter().map(|(shape, _)| shape[1]).sum();
    let mut values = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for (shape, part) in parts {
            values.extend_from_slice(&part[r * shape[1]..(r + 1) * shape[1]]);
        }
    }
    Named { name, shape: vec![rows, cols], values }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_joins_rows() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [5.0, 6.0];
        let joined = side_by_side("x".into(), &[(&[2, 2], &a), (&[2, 1], &b)]);
        assert_eq!(joined.shape, vec![2, 3]);
        assert_eq!(joined.values, vec![1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
    }
}
