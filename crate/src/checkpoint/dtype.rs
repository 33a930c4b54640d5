//! How a checkpoint stores its values. Tensors are always f32 in memory; in a file they are f32
//! (what training writes), f16 (half the bytes) or i8 (about a quarter: each row of a matrix as
//! one f32 scale and a byte per value, the scale the row's largest magnitude over 127; a vector,
//! a bias or a LayerNorm's gain, as f16, since one scale over it would cost more than the bytes
//! it saves). The shipped base is stored as i8 for the download only: it is f32 again once read.

use half::f16;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    #[default]
    F32,
    F16,
    I8,
}

/// The largest magnitude an i8 row stores: symmetric, so 0.0 stays exactly 0.
const I8_MAX: f32 = 127.0;

impl Dtype {
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "f32" => Ok(Dtype::F32),
            "f16" => Ok(Dtype::F16),
            "i8" => Ok(Dtype::I8),
            other => Err(format!("unknown dtype `{other}` (f32, f16 or i8)")),
        }
    }

    /// As `parse` reads it.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::I8 => "i8",
        }
    }

    pub fn is_f32(&self) -> bool {
        *self == Dtype::F32
    }

    /// Bytes a tensor of `shape` takes in a file, or None if that overflows.
    pub fn stored_len(self, shape: &[usize]) -> Option<usize> {
        let n = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?;
        match (self, rows(shape)) {
            (Dtype::F32, _) => n.checked_mul(4),
            (Dtype::F16, _) | (Dtype::I8, None) => n.checked_mul(2),
            (Dtype::I8, Some(rows)) => rows?.checked_mul(4)?.checked_add(n),
        }
    }

    /// Append `values` (a tensor of `shape`, named `name` for errors) as this type.
    pub fn write(self, name: &str, shape: &[usize], values: &[f32], out: &mut Vec<u8>) -> Result<(), String> {
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(format!("{name}: {bad} cannot be stored"));
        }
        match (self, rows(shape)) {
            (Dtype::F32, _) => values.iter().for_each(|v| out.extend(v.to_le_bytes())),
            (Dtype::F16, _) | (Dtype::I8, None) => {
                for &v in values {
                    let half = f16::from_f32(v);
                    if half.is_infinite() {
                        return Err(format!("{name}: {v} does not fit in f16"));
                    }
                    out.extend(half.to_le_bytes());
                }
            }
            (Dtype::I8, Some(_)) => {
                let width = shape.last().copied().unwrap_or(0).max(1);
                for row in values.chunks(width) {
                    let scale = row.iter().fold(0f32, |m, v| m.max(v.abs())) / I8_MAX;
                    out.extend(scale.to_le_bytes());
                    let q = |v: f32| if scale > 0.0 { (v / scale).round().clamp(-I8_MAX, I8_MAX) as i8 } else { 0 };
                    out.extend(row.iter().map(|&v| q(v) as u8));
                }
            }
        }
        Ok(())
    }

    /// The values of a tensor of `shape` from `raw`, its `stored_len` bytes.
    pub fn read(self, shape: &[usize], raw: &[u8]) -> Vec<f32> {
        match (self, rows(shape)) {
            (Dtype::F32, _) => raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect(),
            (Dtype::F16, _) | (Dtype::I8, None) => {
                raw.chunks_exact(2).map(|c| f16::from_le_bytes(c.try_into().unwrap()).to_f32()).collect()
            }
            (Dtype::I8, Some(_)) => {
                let width = shape.last().copied().unwrap_or(0);
                let mut values = Vec::with_capacity(raw.len());
                for row in raw.chunks_exact(4 + width) {
                    let scale = f32::from_le_bytes(row[..4].try_into().unwrap());
                    values.extend(row[4..].iter().map(|&q| q as i8 as f32 * scale));
                }
                values
            }
        }
    }
}

/// A matrix's rows (every dimension but the last), Some(None) if they overflow; None for a vector.
fn rows(shape: &[usize]) -> Option<Option<usize>> {
    let (_, outer) = shape.split_last()?;
    (!outer.is_empty()).then(|| outer.iter().try_fold(1usize, |n, &d| n.checked_mul(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(dtype: Dtype, shape: &[usize], values: &[f32]) -> Vec<f32> {
        let mut bytes = vec![];
        dtype.write("t", shape, values, &mut bytes).unwrap();
        assert_eq!(Some(bytes.len()), dtype.stored_len(shape));
        dtype.read(shape, &bytes)
    }

    #[test]
    fn i8_rows_keep_each_value_within_half_a_step_of_its_rows_scale() {
        let values: Vec<f32> = (0..12).map(|i| (i as f32 - 5.5) * if i < 6 { 0.01 } else { 3.0 }).collect();
        let back = round_trip(Dtype::I8, &[2, 6], &values);
        for (row, (a, b)) in values.chunks(6).zip(back.chunks(6)).enumerate() {
            let step = a.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= step / 2.0 + 1e-7, "row {row}: {x} → {y}");
            }
        }
        // A vector is kept as f16; zeros stay zeros.
        assert_eq!(round_trip(Dtype::I8, &[3], &[1.0, 0.5, -2.0]), [1.0, 0.5, -2.0]);
        assert_eq!(round_trip(Dtype::I8, &[1, 3], &[0.0; 3]), [0.0; 3]);
    }

    #[test]
    fn what_cannot_be_stored_is_refused_and_sizes_do_not_overflow() {
        assert!(Dtype::F16.write("w", &[1], &[1e6], &mut vec![]).unwrap_err().contains("does not fit in f16"));
        assert!(Dtype::I8.write("w", &[1, 1], &[f32::NAN], &mut vec![]).unwrap_err().contains("cannot be stored"));
        assert_eq!(Dtype::I8.stored_len(&[usize::MAX, usize::MAX, 0]), None);
        assert_eq!(Dtype::I8.stored_len(&[4, 8]), Some(4 * 4 + 32));
    }
}
