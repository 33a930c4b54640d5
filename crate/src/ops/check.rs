//! Known answers for every operation of ours: each runs on a given device and is compared with
//! burn's own ops on the CPU (where burn's GELU gradient is the exact one), values and
//! gradients, at sizes that are not multiples of any workgroup. `cargo test` runs these on the
//! CPU and on wgpu (lavapipe); the browser suite runs them on WebGPU through `Lab.checkKernels`.

use burn::grad_clipping::GradientClippingConfig;
use burn::module::{Param, ParamId};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{LayerNormConfig, Linear};
use burn::optim::{AdamWConfig, GradientsParams};
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use serde::Serialize;

use super::attention::causal_attention;
use super::attention_block::attention_block;
use super::branch::{AdaptedLayer, Layer};
use super::cross_entropy::cross_entropy;
use super::embedding::embed;
use super::gelu::gelu;
use super::kernel_form::{KernelForm, use_kernel_form};
use super::layer_norm::LayerNorm;
use super::linear::{linear, linear_onto};
use super::lora_bgmv::{AdapterStack, lora_bgmv};
use super::lora_linear::{lora_projection, lora_projection_onto};
use super::mlp::mlp_block;
use crate::optimizer::AdamW;
use crate::readback::read_f32;

/// How far ours landed from burn's on one case.
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct Check {
    /// The operation's module (`ops/NAME/`), then the case: every operation has at least one.
    pub name: String,
    /// Largest difference of the outputs (for AdamW: of the updated parameters), absolute up to
    /// magnitude 1 and relative above.
    pub values: f32,
    /// Largest difference of any input's gradient, measured the same way (0 where none).
    pub gradients: f32,
    pub tolerance: f32,
}

impl Check {
    pub fn passed(&self) -> bool {
        self.values <= self.tolerance && self.gradients <= self.tolerance
    }
}

/// Every case, ours on `device` against burn's ops on the CPU.
pub async fn all(device: &Device) -> Result<Vec<Check>, String> {
    let mut checks = vec![gelu_case(device).await?];
    for (rows, d) in [(37, 48), (1030, 130)] {
        checks.push(layer_norm_case(device, rows, d).await?);
    }
    for (b, t, c, heads) in [(3, 19, 24, 3), (2, 64, 128, 4)] {
        checks.push(attention_case(device, b, t, c, heads).await?);
    }
    // On a GPU both forms of the kernels that have two, whichever this adapter would be given.
    let forms: &[KernelForm] = if *device == Device::flex() {
        &[KernelForm::ByAdapter]
    } else {
        &[KernelForm::Software, KernelForm::Hardware]
    };
    for (salt, &form) in (0u32..).zip(forms) {
        let previous = use_kernel_form(form);
        // Each form's cases on values of their own: an output a kernel failed to write could
        // otherwise still hold the other form's identical result from the pool.
        let cases = two_form_cases(device, salt).await;
        use_kernel_form(previous);
        for mut case in cases? {
            if form != KernelForm::ByAdapter {
                case.name += if form == KernelForm::Hardware { ", hardware form" } else { ", software form" };
            }
            checks.push(case);
        }
    }
    checks.push(cross_entropy_case(device).await?);
    for (b, t) in [(3, 19), (4, 300)] {
        checks.push(embedding_case(device, b, t).await?);
    }
    checks.push(bgmv_case(device).await?);
    Ok(checks)
}

/// The cases of the operations whose GPU kernels come in two forms (`ops::kernel_form`): the
/// matrix product's and AdamW's. `salt` shifts the products' values (AdamW's outputs are its
/// inputs updated in place, so no earlier result can stand in for them).
async fn two_form_cases(device: &Device, salt: u32) -> Result<Vec<Check>, String> {
    let mut cases = product_cases(device, salt).await?;
    for weight_decay in [0.0, 0.01] {
        cases.push(adamw_case(device, weight_decay).await?);
    }
    Ok(cases)
}

/// The cases that run the matrix product: linear layers and the adapted projection, each also
/// with a residual summed in, a block's MLP, its weights trained, frozen, or one or both layers
/// adapted, and a
/// block's attention half, trained or adapted as the browser's and the page's recipes adapt it.
/// `salt` shifts every case's values.
async fn product_cases(device: &Device, salt: u32) -> Result<Vec<Check>, String> {
    let values = Values { salt };
    Ok(vec![
        linear_case(device, values, true).await?,
        linear_case(device, values, false).await?,
        linear_onto_case(device, values).await?,
        lora_linear_case(device, values, false).await?,
        lora_linear_case(device, values, true).await?,
        mlp_case(device, values, false).await?,
        mlp_case(device, values, true).await?,
        mlp_adapted_case(device, values, [true, true]).await?,
        mlp_adapted_case(device, values, [true, false]).await?,
        mlp_adapted_case(device, values, [false, true]).await?,
        attention_block_case(device, values, [false; 4]).await?,
        attention_block_case(device, values, [true, false, true, false]).await?,
        attention_block_case(device, values, [true; 4]).await?,
        // q, k and v plain and frozen: their one-dispatch backward pass with no weights' gradients.
        attention_block_case(device, values, [false, false, false, true]).await?,
    ])
}

/// `pattern`, its seeds shifted by a salt.
#[derive(Clone, Copy)]
struct Values {
    salt: u32,
}

impl Values {
    fn pattern(self, n: usize, seed: u32, scale: f32) -> Vec<f32> {
        pattern(n, seed.wrapping_add(self.salt.wrapping_mul(1_000)), scale)
    }
}

/// Deterministic values in about [-scale, scale], not all alike (a fixed LCG).
pub fn pattern(n: usize, seed: u32, scale: f32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((state >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0) * scale
        })
        .collect()
}

/// The largest |got − want| / max(1, |want|); a NaN or a length mismatch is infinitely far.
fn max_diff(got: &[f32], want: &[f32]) -> f32 {
    if got.len() != want.len() {
        return f32::INFINITY;
    }
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0, |m, d| if d.is_nan() { f32::INFINITY } else { m.max(d) })
}

/// `f`'s output and the gradients of Σ output · w with respect to each input, where w is a
/// fixed pattern (so the incoming gradient is not all ones), on `device` under autodiff.
async fn differentiate<const D: usize, const O: usize>(
    device: &Device,
    inputs: &[(&[f32], [usize; D])],
    f: &impl Fn(&[Tensor<D>]) -> Tensor<O>,
) -> Result<(Vec<f32>, Vec<Vec<f32>>), String> {
    let device = device.clone().autodiff();
    let tensors: Vec<Tensor<D>> = inputs
        .iter()
        .map(|(v, s)| Tensor::from_data(TensorData::new(v.to_vec(), *s), &device).require_grad())
        .collect();
    let y = f(&tensors);
    let w = Tensor::<O>::from_data(TensorData::new(pattern(y.shape().num_elements(), 99, 1.0), y.shape()), &device);
    let grads = (y.clone() * w).sum().backward();
    let mut gradients = Vec::new();
    for t in &tensors {
        gradients.push(read_f32(t.grad(&grads).ok_or("an input took no gradient")?).await?);
    }
    Ok((read_f32(y).await?, gradients))
}

async fn compare<const D: usize, const O: usize>(
    name: String,
    device: &Device,
    inputs: &[(&[f32], [usize; D])],
    ours: impl Fn(&[Tensor<D>]) -> Tensor<O>,
    reference: impl Fn(&[Tensor<D>]) -> Tensor<O>,
    tolerance: f32,
) -> Result<Check, String> {
    let (want, want_grads) = differentiate(&Device::flex(), inputs, &reference).await?;
    if !want_grads.iter().flatten().any(|g| g.abs() > 1e-2) {
        return Err(format!("{name}: the case must exercise real gradients"));
    }
    let (got, got_grads) = differentiate(device, inputs, &ours).await?;
    let gradients = got_grads.iter().zip(&want_grads).map(|(a, b)| max_diff(a, b)).fold(0.0, f32::max);
    Ok(Check { name, values: max_diff(&got, &want), gradients, tolerance })
}

async fn gelu_case(device: &Device) -> Result<Check, String> {
    // 1,000 values over [-6, 6]: not a multiple of the 256-thread workgroup.
    let x: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) / 83.0).collect();
    let reference = |t: &[Tensor<2>]| burn::tensor::activation::gelu(t[0].clone());
    compare("gelu 40x25".into(), device, &[(&x, [40, 25])], |t| gelu(t[0].clone()), reference, 2e-6).await
}

async fn layer_norm_case(device: &Device, rows: usize, d: usize) -> Result<Check, String> {
    // Widths below and above the 64-thread workgroup, neither a multiple of it; 1,030 rows are
    // enough for the GPU to sum γ's and β's gradients in two pieces (`wgsl::pieces_for`).
    let (x, gamma, beta) = (pattern(rows * d, 1, 3.0), pattern(d, 2, 1.5), pattern(d, 3, 0.5));
    let ours = |t: &[Tensor<2>]| {
        let param = |t: &Tensor<2>| Param::initialized(ParamId::new(), t.clone().reshape([d]));
        LayerNorm { gamma: param(&t[1]), beta: param(&t[2]) }.forward(t[0].clone())
    };
    // burn's LayerNorm module, ε = 1e-5 as ours.
    let burns = |t: &[Tensor<2>]| {
        let mut norm = LayerNormConfig::new(d).init(&t[0].device());
        norm.gamma = Param::initialized(ParamId::new(), t[1].clone().reshape([d]));
        norm.beta = Some(Param::initialized(ParamId::new(), t[2].clone().reshape([d])));
        norm.forward(t[0].clone())
    };
    let inputs = [(&x[..], [rows, d]), (&gamma[..], [1, d]), (&beta[..], [1, d])];
    compare(format!("layer_norm {rows}x{d}"), device, &inputs, ours, burns, sum_tolerance(rows)).await
}

/// Attention as the model ran it before our kernel: heads split out, a T × T score matrix, a
/// causal mask and a softmax.
pub fn burns_attention(q: Tensor<3>, k: Tensor<3>, v: Tensor<3>, heads: usize) -> Tensor<3> {
    let [b, t, c] = q.dims();
    let hs = c / heads;
    let split = |y: Tensor<3>| y.reshape([b, t, heads, hs]).swap_dims(1, 2); // (B, nh, T, hs)
    let scores = split(q).matmul(split(k).swap_dims(2, 3)).mul_scalar(1.0 / (hs as f32).sqrt());
    let mask = Tensor::<2, Bool>::tril_mask([t, t], 0, &scores.device());
    let scores = scores.mask_fill(mask.unsqueeze::<4>().expand([b, heads, t, t]), f32::NEG_INFINITY);
    softmax(scores, 3).matmul(split(v)).swap_dims(1, 2).reshape([b, t, c])
}

async fn attention_case(device: &Device, b: usize, t: usize, c: usize, heads: usize) -> Result<Check, String> {
    let n = b * t * c;
    let (q, k, v) = (pattern(n, 4, 1.5), pattern(n, 5, 1.5), pattern(n, 6, 1.0));
    let inputs = [(&q[..], [b, t, c]), (&k[..], [b, t, c]), (&v[..], [b, t, c])];
    let ours = |x: &[Tensor<3>]| causal_attention(x[0].clone(), x[1].clone(), x[2].clone(), heads);
    let reference = |x: &[Tensor<3>]| burns_attention(x[0].clone(), x[1].clone(), x[2].clone(), heads);
    compare(format!("attention {b}x{t}x{c}, {heads} heads"), device, &inputs, ours, reference, 1e-5).await
}

async fn linear_case(device: &Device, values: Values, biased: bool) -> Result<Check, String> {
    // Widths not multiples of the register tiles (16 × 8). Without bias the rows are (B, T, C) =
    // 2 × 515, enough for the GPU to sum the weight's gradient over them in two pieces.
    let (rows, d_in, d_out) = if biased { (37, 29, 43) } else { (1030, 24, 97) };
    let (x, w, b) =
        (values.pattern(rows * d_in, 8, 1.0), values.pattern(d_in * d_out, 9, 0.5), values.pattern(d_out, 10, 0.5));
    let inputs = [(&x[..], [1, rows, d_in]), (&w[..], [1, d_in, d_out]), (&b[..], [1, 1, d_out])];
    let split = |t: &[Tensor<3>]| {
        let x = if biased { t[0].clone() } else { t[0].clone().reshape([2, rows / 2, d_in]) };
        (x, t[1].clone().reshape([d_in, d_out]), biased.then(|| t[2].clone().reshape([d_out])))
    };
    let ours = |t: &[Tensor<3>]| {
        let (x, w, b) = split(t);
        linear(x, w, b).reshape([1, rows, d_out]) + t[2].clone().mul_scalar(0.0)
    };
    let burns = |t: &[Tensor<3>]| {
        let (x, w, b) = split(t);
        burn::tensor::module::linear(x, w, b).reshape([1, rows, d_out]) + t[2].clone().mul_scalar(0.0)
    };
    let name = format!("linear {rows}x{d_in} -> {d_out}{}", if biased { " + bias" } else { "" });
    compare(name, device, &inputs, ours, burns, sum_tolerance(rows)).await
}

async fn linear_onto_case(device: &Device, values: Values) -> Result<Check, String> {
    let (rows, d_in, d_out) = (37, 29, 43);
    let (x, w, b) =
        (values.pattern(rows * d_in, 8, 1.0), values.pattern(d_in * d_out, 9, 0.5), values.pattern(d_out, 10, 0.5));
    let r = values.pattern(rows * d_out, 11, 1.0);
    let inputs =
        [(&x[..], [1, rows, d_in]), (&w[..], [1, d_in, d_out]), (&b[..], [1, 1, d_out]), (&r[..], [1, rows, d_out])];
    let split = |t: &[Tensor<3>]| (t[0].clone(), t[1].clone().reshape([d_in, d_out]), t[2].clone().reshape([d_out]));
    let ours = |t: &[Tensor<3>]| {
        let (x, w, b) = split(t);
        linear_onto(x, w, b, t[3].clone())
    };
    let burns = |t: &[Tensor<3>]| {
        let (x, w, b) = split(t);
        t[3].clone() + burn::tensor::module::linear(x, w, Some(b))
    };
    let name = format!("linear {rows}x{d_in} -> {d_out} + bias + residual");
    compare(name, device, &inputs, ours, burns, sum_tolerance(rows)).await
}

async fn lora_linear_case(device: &Device, values: Values, residual: bool) -> Result<Check, String> {
    // Widths not multiples of the register tiles (16 × 8); W and b frozen (constants to autodiff),
    // x, A and B differentiated, B not zero so every gradient is exercised; the residual too when
    // given.
    let (rows, d_in, d_out, rank, scale) = (37, 29, 43, 4, 2.5);
    let (x, a, b) = (
        values.pattern(rows * d_in, 14, 1.0),
        values.pattern(d_in * rank, 15, 0.5),
        values.pattern(rank * d_out, 16, 0.5),
    );
    let (w, bias) = (values.pattern(d_in * d_out, 17, 0.5), values.pattern(d_out, 18, 0.5));
    let r = values.pattern(rows * d_out, 19, 1.0);
    let mut inputs = vec![(&x[..], [1, rows, d_in]), (&a[..], [1, d_in, rank]), (&b[..], [1, rank, d_out])];
    if residual {
        inputs.push((&r[..], [1, rows, d_out]));
    }
    let frozen = |t: &[Tensor<3>]| {
        let device = t[0].device();
        (
            Tensor::<2>::from_data(TensorData::new(w.clone(), [d_in, d_out]), &device),
            Tensor::<1>::from_data(TensorData::new(bias.clone(), [d_out]), &device),
        )
    };
    let ours = |t: &[Tensor<3>]| {
        let (w, bias) = frozen(t);
        let (a, b) = (t[1].clone().reshape([d_in, rank]), t[2].clone().reshape([rank, d_out]));
        match t.get(3) {
            Some(r) => lora_projection_onto(t[0].clone(), w, bias, a, b, scale, r.clone()),
            None => lora_projection(t[0].clone(), w, bias, a, b, scale),
        }
    };
    let burns = |t: &[Tensor<3>]| {
        let (w, bias) = frozen(t);
        let (a, b) = (t[1].clone().reshape([d_in, rank]), t[2].clone().reshape([rank, d_out]));
        let low = burn::tensor::module::linear(t[0].clone(), a, None);
        let y = burn::tensor::module::linear(t[0].clone(), w, Some(bias))
            + burn::tensor::module::linear(low, b, None).mul_scalar(scale);
        t.get(3).map_or(y.clone(), |r| r.clone() + y)
    };
    let with = if residual { " + residual" } else { "" };
    let name = format!("lora_linear {rows}x{d_in} -> {d_out}, rank {rank}, scale {scale}{with}");
    compare(name, device, &inputs, ours, burns, sum_tolerance(rows)).await
}

/// burn's LayerNorm module with these γ and β (ε as ours).
fn burns_layer_norm(x: Tensor<3>, [gamma, beta]: [Tensor<1>; 2]) -> Tensor<3> {
    let mut norm = LayerNormConfig::new(gamma.dims()[0]).init(&x.device());
    norm.gamma = Param::initialized(ParamId::new(), gamma);
    norm.beta = Some(Param::initialized(ParamId::new(), beta));
    norm.forward(x)
}

/// burn's own ops for a pre-LN block's second half: its LayerNorm module, linear layers and
/// exact GELU, `x + mlp(norm(x))`, each layer given as a function of its input.
fn burns_mlp_block(
    x: Tensor<3>,
    norm: [Tensor<1>; 2],
    fc: impl Fn(Tensor<3>) -> Tensor<3>,
    proj: impl Fn(Tensor<3>) -> Tensor<3>,
) -> Tensor<3> {
    x.clone() + proj(burn::tensor::activation::gelu(fc(burns_layer_norm(x, norm))))
}

/// A LayerNorm of ours with these γ and β.
fn layer_norm(gamma: Tensor<1>, beta: Tensor<1>) -> LayerNorm {
    LayerNorm { gamma: Param::initialized(ParamId::new(), gamma), beta: Param::initialized(ParamId::new(), beta) }
}

async fn mlp_case(device: &Device, values: Values, frozen: bool) -> Result<Check, String> {
    // Widths not multiples of the tiles; pre-activations over [-3, 3], where GELU bends.
    let (rows, d, d_ff) = (37, 29, 43);
    let (x, gamma, beta) = (values.pattern(rows * d, 20, 2.0), values.pattern(d, 21, 1.5), values.pattern(d, 26, 0.5));
    let (w1, b1) = (values.pattern(d * d_ff, 22, 0.6), values.pattern(d_ff, 23, 0.5));
    let (w2, b2) = (values.pattern(d_ff * d, 24, 0.5), values.pattern(d, 25, 0.5));
    let mut inputs = vec![(&x[..], [1, rows, d])];
    if !frozen {
        inputs.extend([
            (&gamma[..], [1, 1, d]),
            (&beta[..], [1, 1, d]),
            (&w1[..], [1, d, d_ff]),
            (&b1[..], [1, 1, d_ff]),
            (&w2[..], [1, d_ff, d]),
            (&b2[..], [1, 1, d]),
        ]);
    }
    // The parameters as inputs, or (frozen, as a LoRA run leaves them) constants to autodiff.
    let params = |t: &[Tensor<3>]| {
        let device = t[0].device();
        let given = |i: usize, values: &[f32], shape: [usize; 2]| match t.get(i) {
            Some(t) => t.clone().reshape(shape),
            None => Tensor::<2>::from_data(TensorData::new(values.to_vec(), shape), &device),
        };
        let vector = |i: usize, values: &[f32]| given(i, values, [1, values.len()]).reshape([values.len()]);
        let norm = [vector(1, &gamma), vector(2, &beta)];
        (norm, given(3, &w1, [d, d_ff]), vector(4, &b1), given(5, &w2, [d_ff, d]), vector(6, &b2))
    };
    let ours = |t: &[Tensor<3>]| {
        let ([gamma, beta], w1, b1, w2, b2) = params(t);
        let layers = [Layer::Plain { weight: w1, bias: b1 }, Layer::Plain { weight: w2, bias: b2 }];
        mlp_block(t[0].clone(), &layer_norm(gamma, beta), layers)
    };
    let burns = |t: &[Tensor<3>]| {
        let (norm, w1, b1, w2, b2) = params(t);
        let fc = |n: Tensor<3>| burn::tensor::module::linear(n, w1.clone(), Some(b1.clone()));
        let proj = |a: Tensor<3>| burn::tensor::module::linear(a, w2.clone(), Some(b2.clone()));
        burns_mlp_block(t[0].clone(), norm, fc, proj)
    };
    let name =
        format!("mlp {rows}x{d} -> {d_ff} -> {d}, LayerNorm first{}", if frozen { ", weights frozen" } else { "" });
    compare(name, device, &inputs, ours, burns, sum_tolerance(rows)).await
}

/// The MLP with the layers marked in `adapted` (fc, proj) carrying an adapter on a frozen base,
/// the other frozen too, as LoRA trains them: x and the adapters' A and B differentiated.
async fn mlp_adapted_case(device: &Device, values: Values, adapted: [bool; 2]) -> Result<Check, String> {
    // B not zero, so every gradient is exercised.
    let (rows, d, d_ff, rank, scales) = (37, 29, 43, 4, [1.5, 0.5]);
    let x = values.pattern(rows * d, 30, 2.0);
    let (gamma, beta) = (values.pattern(d, 31, 1.0), values.pattern(d, 40, 0.5));
    let shapes = [(d, d_ff), (d_ff, d)];
    let lows = [values.pattern(d * rank, 32, 0.5), values.pattern(d_ff * rank, 34, 0.5)];
    let highs = [values.pattern(rank * d_ff, 33, 0.5), values.pattern(rank * d, 35, 0.5)];
    let weights = [values.pattern(d * d_ff, 36, 0.6), values.pattern(d_ff * d, 38, 0.5)];
    let biases = [values.pattern(d_ff, 37, 0.5), values.pattern(d, 39, 0.5)];
    let mut inputs = vec![(&x[..], [1, rows, d])];
    for i in (0..2).filter(|&i| adapted[i]) {
        let (d_in, d_out) = shapes[i];
        inputs.extend([(&lows[i][..], [1, d_in, rank]), (&highs[i][..], [1, rank, d_out])]);
    }
    let layers = |t: &[Tensor<3>]| {
        let device = t[0].device();
        let matrix = |values: &[f32], shape: [usize; 2]| {
            Tensor::<2>::from_data(TensorData::new(values.to_vec(), shape), &device)
        };
        let vector = |values: &[f32]| Tensor::<1>::from_data(TensorData::new(values.to_vec(), [values.len()]), &device);
        let mut trained = t[1..].iter();
        let layers = [0, 1].map(|i| {
            let ((d_in, d_out), weight, bias) =
                (shapes[i], matrix(&weights[i], [shapes[i].0, shapes[i].1]), vector(&biases[i]));
            match adapted[i] {
                true => Layer::Adapted(AdaptedLayer {
                    weight,
                    bias,
                    a: trained.next().expect("A is an input").clone().reshape([d_in, rank]),
                    b: trained.next().expect("B is an input").clone().reshape([rank, d_out]),
                    scale: scales[i],
                }),
                false => Layer::Plain { weight, bias },
            }
        });
        ([vector(&gamma), vector(&beta)], layers)
    };
    let ours = |t: &[Tensor<3>]| {
        let ([gamma, beta], layers) = layers(t);
        mlp_block(t[0].clone(), &layer_norm(gamma, beta), layers)
    };
    let burns = |t: &[Tensor<3>]| {
        let (norm, [fc, proj]) = layers(t);
        burns_mlp_block(t[0].clone(), norm, |n| burns_projection(n, &fc), |a| burns_projection(a, &proj))
    };
    let which = match adapted {
        [true, true] => "both layers adapted",
        [true, false] => "fc adapted, proj frozen",
        _ => "proj adapted, fc frozen",
    };
    let name = format!("mlp {rows}x{d} -> {d_ff} -> {d}, LayerNorm first, {which} (rank {rank})");
    compare(name, device, &inputs, ours, burns, sum_tolerance(rows)).await
}

/// burn's own ops for a projection, plain or with its adapter's path added.
fn burns_projection(x: Tensor<3>, layer: &Layer) -> Tensor<3> {
    match layer {
        Layer::Plain { weight, bias } => burn::tensor::module::linear(x, weight.clone(), Some(bias.clone())),
        Layer::Adapted(l) => {
            let low = burn::tensor::module::linear(x.clone(), l.a.clone(), None);
            burn::tensor::module::linear(x, l.weight.clone(), Some(l.bias.clone()))
                + burn::tensor::module::linear(low, l.b.clone(), None).mul_scalar(l.scale)
        }
    }
}

/// A block's first half, `x + attention(norm(x))`, with the projections marked in `adapted`
/// (q, k, v, o) carrying an adapter. Without any, every parameter trains (full fine-tuning);
/// with some, as LoRA trains them, the LayerNorm and the other projections are frozen
/// (constants to autodiff) and x and the adapters' A and B are differentiated.
async fn attention_block_case(device: &Device, values: Values, adapted: [bool; 4]) -> Result<Check, String> {
    // C not a multiple of the tiles, its heads' widths a multiple of 4 as attention's kernel
    // reads them; B not zero, so every gradient is exercised.
    let (b, t, c, heads, rank) = (3, 19, 36, 3, 4);
    let full = !adapted.contains(&true);
    let x = values.pattern(b * t * c, 50, 2.0);
    let (gamma, beta) = (values.pattern(c, 51, 1.0), values.pattern(c, 52, 0.5));
    let seed = |i: usize, j: u32| 53 + 10 * i as u32 + j;
    let weights: Vec<_> = (0..4).map(|i| values.pattern(c * c, seed(i, 0), 0.3)).collect();
    let biases: Vec<_> = (0..4).map(|i| values.pattern(c, seed(i, 1), 0.5)).collect();
    let lows: Vec<_> = (0..4).map(|i| values.pattern(c * rank, seed(i, 2), 0.5)).collect();
    let highs: Vec<_> = (0..4).map(|i| values.pattern(rank * c, seed(i, 3), 0.5)).collect();
    let scales = [2.0, 1.5, 0.5, 1.0];
    let mut inputs = vec![(&x[..], [b, t, c])];
    if full {
        inputs.extend([(&gamma[..], [1, 1, c]), (&beta[..], [1, 1, c])]);
    }
    for i in 0..4 {
        if adapted[i] {
            inputs.extend([(&lows[i][..], [1, c, rank]), (&highs[i][..], [1, rank, c])]);
        } else if full {
            inputs.extend([(&weights[i][..], [1, c, c]), (&biases[i][..], [1, 1, c])]);
        }
    }
    // The inputs in the order above, or constants for what does not train.
    let params = |tensors: &[Tensor<3>]| {
        let device = tensors[0].device();
        let mut next = tensors[1..].iter();
        let mut given = |values: &[f32], shape: [usize; 2], trains: bool| match trains {
            true => next.next().expect("an input for each trained tensor").clone().reshape(shape),
            false => Tensor::<2>::from_data(TensorData::new(values.to_vec(), shape), &device),
        };
        let norm = [&gamma, &beta].map(|v| given(v, [1, c], full).reshape([c]));
        let layers = [0, 1, 2, 3].map(|i| match adapted[i] {
            true => Layer::Adapted(AdaptedLayer {
                weight: given(&weights[i], [c, c], false),
                bias: given(&biases[i], [1, c], false).reshape([c]),
                a: given(&lows[i], [c, rank], true),
                b: given(&highs[i], [rank, c], true),
                scale: scales[i],
            }),
            false => Layer::Plain {
                weight: given(&weights[i], [c, c], full),
                bias: given(&biases[i], [1, c], full).reshape([c]),
            },
        });
        (norm, layers)
    };
    let ours = |tensors: &[Tensor<3>]| {
        let ([gamma, beta], layers) = params(tensors);
        attention_block(tensors[0].clone(), &layer_norm(gamma, beta), layers, heads)
    };
    let burns = |tensors: &[Tensor<3>]| {
        let (norm, layers) = params(tensors);
        let x = tensors[0].clone();
        let n = burns_layer_norm(x.clone(), norm);
        let [q, k, v, o] = &layers;
        let y = burns_attention(
            burns_projection(n.clone(), q),
            burns_projection(n.clone(), k),
            burns_projection(n, v),
            heads,
        );
        x + burns_projection(y, o)
    };
    let marked: Vec<_> = ["q", "k", "v", "o"].iter().zip(adapted).filter(|(_, a)| *a).map(|(n, _)| *n).collect();
    let form =
        if full { "every parameter trained".into() } else { format!("{} adapted (rank {rank})", marked.join(", ")) };
    let name = format!("attention_block {b}x{t}x{c}, {heads} heads, LayerNorm first, {form}");
    compare(name, device, &inputs, ours, burns, sum_tolerance(b * t)).await
}

/// For gradients summed over `rows` rows, which ours and burn's add in different orders: f32
/// rounding grows with the count, so 1e-5 per 256 rows (a thousand rows of the cases' values
/// reach 1.6e-5 on the CPU, while a missing or doubled piece would be off by ~0.5).
fn sum_tolerance(rows: usize) -> f32 {
    1e-5 * rows.div_ceil(256) as f32
}

async fn cross_entropy_case(device: &Device) -> Result<Check, String> {
    // 300 rows (more than the 256-thread workgroup, not a multiple), 97 classes like our vocabulary.
    let (rows, vocab) = (300, 97);
    let logits = pattern(rows * vocab, 7, 4.0);
    let targets: Vec<i32> = (0..rows).map(|r| ((r * 37 + 11) % vocab) as i32).collect();
    let ids = |device: &Device| Tensor::<1, Int>::from_data(TensorData::new(targets.clone(), [rows]), device);
    // Scaled by the row count, so the logits' gradients are about 1 and not 1/300.
    let ours = |t: &[Tensor<2>]| cross_entropy(t[0].clone(), ids(&t[0].device())).mul_scalar(rows as f32);
    let reference = |t: &[Tensor<2>]| {
        CrossEntropyLossConfig::new()
            .init(&t[0].device())
            .forward(t[0].clone(), ids(&t[0].device()))
            .mul_scalar(rows as f32)
    };
    compare(format!("cross_entropy {rows}x{vocab}"), device, &[(&logits, [rows, vocab])], ours, reference, 1e-6).await
}

async fn embedding_case(device: &Device, b: usize, t: usize) -> Result<Check, String> {
    // A vocabulary of 37 and a table of t + 4 positions (more than a sequence holds, so some
    // position rows take no gradient); tokens repeat, so their rows' gradients are sums. 4 × 300
    // rows are enough for the GPU to sum the token table's gradient in two pieces.
    let (vocab, context, c) = (37, t + 4, 24);
    let tokens: Vec<i32> = (0..b * t).map(|n| ((n * 13 + 5) % 31) as i32).collect();
    let (tok, pos) = (pattern(vocab * c, 19, 1.0), pattern(context * c, 20, 0.5));
    let ids = |device: &Device| Tensor::<2, Int>::from_data(TensorData::new(tokens.clone(), [b, t]), device);
    let ours = |x: &[Tensor<2>]| embed(ids(&x[0].device()), x[0].clone(), x[1].clone());
    let burns = |x: &[Tensor<2>]| {
        let device = x[0].device();
        let positions = Tensor::<1, Int>::arange(0..t as i64, &device).unsqueeze::<2>().expand([b, t]);
        burn::tensor::module::embedding(x[0].clone(), ids(&device))
            + burn::tensor::module::embedding(x[1].clone(), positions)
    };
    let inputs = [(&tok[..], [vocab, c]), (&pos[..], [context, c])];
    let name = format!("embedding {b}x{t}, vocab {vocab}, {context} positions, {c} wide");
    compare(name, device, &inputs, ours, burns, sum_tolerance(b * t)).await
}

/// The widths of the layers AdamW's case trains: no size a multiple of either form's workgroup
/// (256 and 64 threads); 4 layers, so 8 tensors, more than one group of `adamw::GROUP`, every
/// slot used.
const WIDTHS: [usize; 5] = [37, 29, 23, 31, 19];

/// The layers at their starting values.
fn layers(device: &Device) -> Vec<Linear> {
    (0..WIDTHS.len() - 1)
        .map(|i| {
            let (d_in, d_out, seed) = (WIDTHS[i], WIDTHS[i + 1], 2 * i as u32 + 1);
            let weight = Tensor::from_data(TensorData::new(pattern(d_in * d_out, seed, 0.3), [d_in, d_out]), device);
            let bias = Tensor::from_data(TensorData::new(pattern(d_out, seed + 1, 0.1), [d_out]), device);
            Linear { weight: Param::from_tensor(weight), bias: Some(Param::from_tensor(bias)) }
        })
        .collect()
}

/// A loss linear in the parameters, so that every device takes exactly the same gradients (a
/// fixed pattern, new each step); the weights' gradients far above the clipping norm and the
/// biases' below it, so both branches of the clip run.
fn layers_grads(layers: &Vec<Linear>, step: usize, device: &Device) -> GradientsParams {
    let times = |t: Tensor<2>, seed: u32, scale: f32| {
        let dims = t.dims();
        let values = pattern(dims[0] * dims[1], seed + 100 * step as u32, scale);
        (t * Tensor::<2>::from_data(TensorData::new(values, dims), device)).sum()
    };
    let loss = layers.iter().enumerate().map(|(i, layer)| {
        let bias = layer.bias.as_ref().expect("a bias").val();
        let n = bias.dims()[0];
        times(layer.weight.val(), 20 + 2 * i as u32, 2.0) + times(bias.reshape([1, n]), 21 + 2 * i as u32, 0.01)
    });
    GradientsParams::from_grads(loss.reduce(|a, b| a + b).expect("layers").backward(), layers)
}

/// Four AdamW steps with norm clipping, ours or burn's, from the same start; the final weights
/// and bias, flattened.
async fn train_layers(device: &Device, ours: bool, weight_decay: f32) -> Result<Vec<f32>, String> {
    let device = device.clone().autodiff();
    let mut layers = layers(&device);
    let mut burns = AdamWConfig::new()
        .with_weight_decay(weight_decay)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(1.0)))
        .init();
    let mut our = AdamW::new(weight_decay, Some(1.0));
    for step in 0..4 {
        let grads = layers_grads(&layers, step, &device);
        layers = if ours { our.step(1e-2, layers, grads) } else { burns.step(1e-2, layers, grads) };
    }
    let mut values = Vec::new();
    for layer in layers {
        values.extend(read_f32(layer.weight.val()).await?);
        values.extend(read_f32(layer.bias.expect("a bias").val()).await?);
    }
    Ok(values)
}

async fn adamw_case(device: &Device, weight_decay: f32) -> Result<Check, String> {
    let want = train_layers(&Device::flex(), false, weight_decay).await?;
    let got = train_layers(device, true, weight_decay).await?;
    let mut start = Vec::new();
    for layer in layers(&Device::flex()) {
        start.extend(read_f32(layer.weight.val()).await?);
        start.extend(read_f32(layer.bias.expect("a bias").val()).await?);
    }
    if max_diff(&want, &start) < 1e-2 {
        return Err("the AdamW case moved no parameter".into());
    }
    let widths = WIDTHS.map(|w| w.to_string()).join(" -> ");
    let name = format!("adamw {widths}, 8 tensors, clipped, decay {weight_decay}, 4 steps");
    Ok(Check { name, values: max_diff(&got, &want), gradients: 0.0, tolerance: 1e-6 })
}

/// Five sequences of three rows (odd counts, neither a multiple of a workgroup), each through
/// its own tenant: slot 0 (no adapter), a rank-4 tenant, a rank-2 one padded to 4, and a
/// rank-4 one with another α; against each sequence alone through its merged weight
/// W + (α / r) A B, computed by burn on the CPU.
async fn bgmv_case(device: &Device) -> Result<Check, String> {
    let (seqs, seq, d_in, d_out, rank) = (5, 3, 29, 43, 4);
    let tenants = [2, 0, 1, 3, 2];
    // (own rank, α) of slots 1..=3; slot 0 is no adapter.
    let adapters = [(4, 8.0), (2, 4.0), (4, 2.0)];
    let rows = seqs * seq;
    let (x, w, bias) = (pattern(rows * d_in, 11, 1.0), pattern(d_in * d_out, 12, 0.3), pattern(d_out, 13, 0.2));
    // Each slot's A and B, zero past the slot's own rank.
    let (mut a, mut b, mut scales) = (vec![0.0; d_in * rank], vec![0.0; rank * d_out], vec![0.0]);
    for (i, &(own, alpha)) in adapters.iter().enumerate() {
        let (pa, pb) = (pattern(d_in * rank, 20 + i as u32, 0.5), pattern(rank * d_out, 30 + i as u32, 0.5));
        a.extend(pa.iter().enumerate().map(|(k, v)| if k % rank < own { *v } else { 0.0 }));
        b.extend(pb.iter().enumerate().map(|(k, v)| if k / d_out < own { *v } else { 0.0 }));
        scales.push(alpha / own as f32);
    }
    let slots = adapters.len() + 1;

    let on = |device: &Device| {
        (
            Tensor::<3>::from_data(TensorData::new(x.clone(), [seqs, seq, d_in]), device),
            Tensor::<2>::from_data(TensorData::new(w.clone(), [d_in, d_out]), device),
            Tensor::<1>::from_data(TensorData::new(bias.clone(), [d_out]), device),
        )
    };
    let (xs, ws, bs) = on(device);
    let stack = AdapterStack {
        a: Tensor::from_data(TensorData::new(a.clone(), [slots, d_in, rank]), device),
        b: Tensor::from_data(TensorData::new(b.clone(), [slots, rank, d_out]), device),
        scales: Tensor::from_data(TensorData::new(scales.clone(), [slots]), device),
    };
    let ids: Vec<f32> = tenants.iter().map(|&t| t as f32).collect();
    let ids = Tensor::<1>::from_data(TensorData::new(ids, [seqs]), device);
    let got = read_f32(lora_bgmv(linear(xs.clone(), ws, Some(bs)), xs, &stack, ids)).await?;

    let cpu = Device::flex();
    let (xs, ws, bs) = on(&cpu);
    let mut want = Vec::with_capacity(rows * d_out);
    let mut moved = 0.0f32;
    for (s, &slot) in tenants.iter().enumerate() {
        let x = xs.clone().slice([s..s + 1, 0..seq, 0..d_in]).reshape([seq, d_in]);
        let slot_a = Tensor::<2>::from_data(
            TensorData::new(a[slot * d_in * rank..][..d_in * rank].to_vec(), [d_in, rank]),
            &cpu,
        );
        let slot_b = Tensor::<2>::from_data(
            TensorData::new(b[slot * rank * d_out..][..rank * d_out].to_vec(), [rank, d_out]),
            &cpu,
        );
        let merged = ws.clone() + slot_a.matmul(slot_b).mul_scalar(scales[slot]);
        let base = read_f32(burn::tensor::module::linear(x.clone(), ws.clone(), Some(bs.clone()))).await?;
        let alone = read_f32(burn::tensor::module::linear(x, merged, Some(bs.clone()))).await?;
        moved = moved.max(max_diff(&alone, &base));
        want.extend(alone);
    }
    if moved < 1e-2 {
        return Err("the BGMV case's adapters change no output".into());
    }
    let name = format!("lora_bgmv {seqs}x{seq}x{d_in} -> {d_out}, tenants {tenants:?}, ranks 4/2/4 padded to {rank}");
    Ok(Check { name, values: max_diff(&got, &want), gradients: 0.0, tolerance: 1e-5 })
}
