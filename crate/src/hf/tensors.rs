//! f32 matrices to and from safetensors' bytes, and the transposes between our `[in, out]` and
//! `torch.nn.Linear`'s `[out, in]`.

use safetensors::tensor::{Dtype, TensorView};

/// A named row-major f32 tensor on its way into or out of a safetensors file.
pub struct Named {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// The safetensors file for `tensors`, with `metadata` in its header (transformers wants
/// `"format": "pt"` there).
pub fn serialize(tensors: &[Named], metadata: &[(&str, &str)]) -> Result<Vec<u8>, String> {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| Ok((t.name.as_str(), TensorView::new(Dtype::F32, t.shape.clone(), b)?)))
        .collect::<Result<Vec<_>, safetensors::SafeTensorError>>()
        .map_err(|e| format!("safetensors: {e}"))?;
    let metadata = metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    safetensors::serialize(views, Some(metadata)).map_err(|e| format!("safetensors: {e}"))
}

/// A tensor's values as f32, from any of the float types a PyTorch save may use.
pub fn to_f32(view: &TensorView) -> Result<Vec<f32>, String> {
    let data = view.data();
    let values = match view.dtype() {
        Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect(),
        Dtype::F16 => data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        Dtype::BF16 => data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
        other => return Err(format!("holds {other:?} values where a float type was expected")),
    };
    Ok(values)
}

/// `[rows, cols]` → `[cols, rows]`.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_rows_and_columns() {
        assert_eq!(transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }

    #[test]
    fn a_file_round_trips_its_values_and_metadata() {
        let t = Named { name: "x".into(), shape: vec![2, 2], values: vec![1.5, -2.0, 0.25, 1e-8] };
        let bytes = serialize(&[t], &[("format", "pt")]).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(to_f32(&file.tensor("x").unwrap()).unwrap(), vec![1.5, -2.0, 0.25, 1e-8]);
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(meta.metadata().as_ref().unwrap()["format"], "pt");
    }
}
