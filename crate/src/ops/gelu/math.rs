//! GELU and its derivative in f32, written so the compiler vectorises the loops over them: no
//! branches, no libm calls (SSE2 natively, simd128 in wasm).
//!
//! erf is a rational function fitted by `scripts/fit-erf.py` (least squares on [0, 4], Lawson
//! reweighting): 2.3e-8 from erf in exact arithmetic, 3.1e-7 once evaluated in f32 (about five
//! ulps near ±1; libm's `erff` is within one). exp is the usual 2^n · e^r reduction with a
//! degree-7 Taylor polynomial on |r| ≤ ln2 / 2 (truncation 5e-9). What that costs a training run:
//! the loss curves in bench/ (references use exact erf) still agree to the printed digits.

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1 / sqrt(2π), the standard normal density at 0.
const NORMAL_PDF_0: f32 = 0.398_942_3;

/// erf(x) = x · P(x²) / Q(x²) for |x| < 4; from there on erf is ±1 in f32 (1 − erf(4) = 1.5e-8).
/// The first is near 2/√π (erf's slope at 0) but fitted with the others: kept as
/// shaders/gelu.wgsl has it, so the CPU and GPU paths compute the same erf.
#[allow(clippy::approx_constant)]
const ERF_P: [f32; 6] = [1.128_379, 0.196_564_7, 0.053_503_58, 0.004_015_303, 0.000_287_987_9, 1.968_544_6e-6];
const ERF_Q: [f32; 6] = [1.0, 0.507_532_1, 0.116_601_69, 0.015_468_457, 0.001_218_568_5, 3.741_222_6e-5];

pub fn erf(x: f32) -> f32 {
    // Clamped first so the polynomials cannot overflow; selected after so GELU of a large
    // negative input is exactly 0 (a select, which vectorises, not a branch).
    let clamped = x.clamp(-4.0, 4.0);
    let x2 = clamped * clamped;
    let rational = clamped * horner(&ERF_P, x2) / horner(&ERF_Q, x2);
    if x.abs() >= 4.0 { 1f32.copysign(x) } else { rational }
}

/// e^x for x in f32's normal range; underflows to ~1e-38 rather than 0 below x = −87.
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75; // ln 2 split so n · LN2_HI is exact for |n| ≤ 127
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding 1.5 · 2^23 rounds to an integer, and that integer sits in the low mantissa bits.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let two_to_n = f32::from_bits((shifted.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127)) << 23);
    const TAYLOR: [f32; 8] = [1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0];
    horner(&TAYLOR, r) * two_to_n
}

/// x · Φ(x), Φ the standard normal CDF.
pub fn gelu(x: f32) -> f32 {
    x * normal_cdf(x)
}

/// d/dx [x · Φ(x)] = Φ(x) + x · φ(x).
pub fn gelu_derivative(x: f32) -> f32 {
    normal_cdf(x) + x * NORMAL_PDF_0 * exp(-0.5 * x * x)
}

/// `grad` · GELU'(`at`), in place: a gradient taken on through the GELU applied to `at` (GELU's
/// own backward pass, and the products' that end in it).
pub fn through_gelu(grad: &mut [f32], at: &[f32]) {
    grad.iter_mut().zip(at).for_each(|(g, &v)| *g *= gelu_derivative(v));
}

fn normal_cdf(x: f32) -> f32 {
    0.5 + 0.5 * erf(x * FRAC_1_SQRT_2)
}

fn horner<const N: usize>(coefficients: &[f32; N], x: f32) -> f32 {
    coefficients.iter().rev().fold(0.0, |acc, &c| acc * x + c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every f32 from −12 to 12 in steps of 1/1024, plus the far tails.
    fn samples() -> impl Iterator<Item = f32> {
        (-12 * 1024..=12 * 1024).map(|i| i as f32 / 1024.0).chain([-1e6, -100.0, -40.0, 40.0, 100.0, 1e6])
    }

    fn reference_gelu(x: f64) -> f64 {
        x * 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
    }

    fn reference_derivative(x: f64) -> f64 {
        0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
            + x * (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
    }

    #[test]
    fn erf_is_within_a_few_f32_ulps_of_the_exact_value() {
        for x in samples() {
            let err = (erf(x) as f64 - libm::erf(x as f64)).abs();
            assert!(err < 3.5e-7, "erf({x}) off by {err}");
        }
    }

    #[test]
    fn exp_has_f32_relative_accuracy_over_its_range() {
        for i in -87 * 64..=88 * 64 {
            let x = i as f32 / 64.0;
            let exact = (x as f64).exp();
            let rel = (exp(x) as f64 - exact).abs() / exact;
            assert!(rel < 3e-7, "exp({x}) off by {rel} relative");
        }
    }

    #[test]
    fn gelu_and_its_derivative_match_the_erf_definition() {
        for x in samples() {
            let scale = 1f64.max(x.abs() as f64);
            let err = (gelu(x) as f64 - reference_gelu(x as f64)).abs() / scale;
            assert!(x > -6.0 || gelu(x) == 0.0, "gelu({x}) = {} not 0", gelu(x));
            assert!(err < 3e-7, "gelu({x}) off by {err}");
            let err = (gelu_derivative(x) as f64 - reference_derivative(x as f64)).abs();
            assert!(err < 3e-7, "gelu'({x}) off by {err}");
        }
    }

    #[test]
    fn nan_stays_nan() {
        assert!(gelu(f32::NAN).is_nan() && gelu_derivative(f32::NAN).is_nan());
    }
}
