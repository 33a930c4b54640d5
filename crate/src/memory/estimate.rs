//! One question in, every memory figure out: `estimate(&ScaleInput) -> Report`.
//!
//! `Report` is what the CLI prints as JSON and the page receives: byte counts as integers (u64;
//! exact in JS below 2^53 ≈ 9 PB), each term with the formula and source it came from.

use serde::{Deserialize, Serialize};

use super::input::ScaleInput;
use super::table::format_int;
use super::tenants;
use super::training::{self, LORA_PAPER_VRAM_CLAIM, Precision, PublishedClaim};
use crate::lora::{Mode, adapter_params};

/// One line of the breakdown: a named figure and how it was computed, with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct Term {
    pub name: String,
    pub bytes: u64,
    pub formula: String,
}

/// Every figure for one `ScaleInput`. Adapter figures in full mode compare against the default
/// adapter (r=4 on q,v); `cold_load_seconds` is for this mode: full → a whole model, adapter →
/// the adapter alone (the base is already resident).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct Report {
    pub params_total: u64,
    pub params_trainable: u64,
    pub weights_bytes: u64,
    pub grads_bytes: u64,
    pub optimizer_bytes: u64,
    pub activations_bytes: u64,
    pub training_bytes: u64,
    pub checkpoint_bytes: u64,
    pub tenants: u64,
    pub hot: u64,
    pub storage_full_bytes: u64,
    pub storage_adapter_bytes: u64,
    pub serving_full_bytes: u64,
    pub serving_adapter_bytes: u64,
    pub cold_load_seconds: f64,
    pub cold_load_full_seconds: f64,
    pub cold_load_adapter_seconds: f64,
    pub bandwidth_bytes_per_s: f64,
    pub params_nominal: Option<u64>,
    /// The lesson's arithmetic on the published count: nominal params × bytes per param, per
    /// copy and for every tenant's copy (None where no count is published).
    pub nominal_weights_bytes: Option<u64>,
    pub nominal_storage_full_bytes: Option<u64>,
    /// Why our exact count differs from the published one.
    pub nominal_note: Option<String>,
    /// A published training-memory figure for this model, shown beside ours, not in place of it.
    pub published: Option<PublishedClaim>,
    pub terms: Vec<Term>,
}

/// Pure arithmetic; call `ScaleInput::validate` first for a clear error on bad input.
pub fn estimate(input: &ScaleInput) -> Report {
    let (s, p) = (&input.shape, input.precision);
    let w = p.weight_bytes();
    let adapted = matches!(input.mode, Mode::Adapter(_));
    let (rank, targets) = input.mode.adapter_or_default();
    let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
    let lora = format!("r={rank} on {}", names.join(","));

    let base = s.param_count();
    let adapter = adapter_params(s, rank, targets);
    let (total, trainable) = if adapted { (base + adapter, adapter) } else { (base, base) };
    let (pt, pa, pb) = (format_int(trainable), format_int(adapter), format_int(base));

    let weights = training::weights_bytes(total, p);
    let grads = training::grads_bytes(trainable, p);
    let optimizer = training::optimizer_bytes(trainable, p);
    let seq = input.context.unwrap_or(s.context);
    let per_block_adapter = adapted.then_some((rank, targets.len()));
    let activations = training::activations_bytes(s, input.batch, seq, p, per_block_adapter);
    let training_total = weights + grads + optimizer + activations;

    let model_bytes = tenants::checkpoint_bytes(base, w);
    let adapter_bytes = tenants::checkpoint_bytes(adapter, w);
    let checkpoint = if adapted { adapter_bytes } else { model_bytes };
    let (n, k) = (input.tenants, input.hot);
    let storage_full = tenants::storage_full_bytes(model_bytes, n);
    let storage_adapter = tenants::storage_adapter_bytes(model_bytes, adapter_bytes, n);
    let serving_full = tenants::serving_full_bytes(model_bytes, k);
    let serving_adapter = tenants::serving_adapter_bytes(model_bytes, adapter_bytes, k);

    let bw = input.bandwidth.bytes_per_s();
    let cold_full = tenants::cold_load_seconds(model_bytes, bw);
    let cold_adapter = tenants::cold_load_seconds(adapter_bytes, bw);

    let prec = p.name();
    let zero = "Rajbhandari et al. 2019 (ZeRO) §3.1";
    let weights_f = match (adapted, p) {
        (true, Precision::Mixed16) => {
            format!("({pb} base + {pa} adapter) × 2 B fp16; the frozen base keeps no fp32 copy — {zero}")
        }
        (true, _) => format!("({pb} base + {pa} adapter) × {w} B {prec}"),
        (false, Precision::Mixed16) => format!("{} params × 2 B fp16 — {zero}", format_int(total)),
        (false, _) => format!("{} params × {w} B {prec}", format_int(total)),
    };
    let optimizer_f = match p {
        Precision::Fp32 => format!("{pt} trainable × 8 B (AdamW m + v, fp32)"),
        Precision::Mixed16 => format!("{pt} trainable × 12 B (fp32 master + m + v) — {zero}"),
    };
    let adapter_act =
        if adapted { format!(" + {}·b·s·r (x·A per adapted projection)", targets.len()) } else { String::new() };
    let (b, h, a, f, v, l) = (input.batch, s.d_model, s.heads, s.d_ff, s.vocab, s.layers);
    let activations_f = format!(
        "{} B × [{l} · (bs(8d+2f) + abs + 4bs{adapter_act}) + bs(2d+V) + 3bs], b={b} s={seq} d={h} f={f} a={a} V={v}: \
         per block LN1 in/out, q k v, attention out, each query's log-sum-exp (the softmax is recomputed, \
         not kept), LN2 in/out, fc out + GELU out, LayerNorm row stats; then final LN in/out, logits and \
         their log-sum-exp. No dropout (cf. Korthikanti et al. 2022: sbh(34 + 5as/h) B in 16-bit with \
         dropout, softmax kept)",
        p.activation_bytes()
    );
    let whole = format!("{pb} params × {w} B");
    let one_adapter = format!("{pa} adapter params ({lora}) × {w} B");
    let term = |name: &str, bytes: u64, formula: String| Term { name: name.into(), bytes, formula };
    let terms = vec![
        term("weights", weights, weights_f),
        term("grads", grads, format!("{pt} trainable × {} B {prec} (frozen params get none)", p.grad_bytes())),
        term("optimizer", optimizer, optimizer_f),
        term("activations", activations, activations_f),
        term("training", training_total, "weights + grads + optimizer + activations".into()),
        term(
            "checkpoint",
            checkpoint,
            format!(
                "{}; tensor bytes only, real files add a small header",
                if adapted { &one_adapter } else { &whole }
            ),
        ),
        term("storage_full", storage_full, format!("{n} tenants × {whole}: a whole copy each")),
        term(
            "storage_adapter",
            storage_adapter,
            format!("one base ({whole}) + {n} × {one_adapter} — Hu et al. 2021 (LoRA) §4.2"),
        ),
        term("serving_full", serving_full, format!("{k} hot × {whole}: a resident model each (weights only)")),
        term(
            "serving_adapter",
            serving_adapter,
            format!("one resident base + {k} hot × {one_adapter} (as S-LoRA, Punica serve them; weights only)"),
        ),
    ];

    Report {
        params_total: total,
        params_trainable: trainable,
        weights_bytes: weights,
        grads_bytes: grads,
        optimizer_bytes: optimizer,
        activations_bytes: activations,
        training_bytes: training_total,
        checkpoint_bytes: checkpoint,
        tenants: n,
        hot: k,
        storage_full_bytes: storage_full,
        storage_adapter_bytes: storage_adapter,
        serving_full_bytes: serving_full,
        serving_adapter_bytes: serving_adapter,
        cold_load_seconds: if adapted { cold_adapter } else { cold_full },
        cold_load_full_seconds: cold_full,
        cold_load_adapter_seconds: cold_adapter,
        bandwidth_bytes_per_s: bw,
        params_nominal: s.nominal_params(),
        nominal_weights_bytes: s.nominal_params().map(|params| params * w),
        nominal_storage_full_bytes: s.nominal_params().map(|params| params * w * n),
        nominal_note: s.nominal_note().map(str::to_string),
        published: (s.name == "gpt3-175b").then_some(LORA_PAPER_VRAM_CLAIM),
        terms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::DEFAULT_TARGETS;
    use crate::shape::ModelShape;

    /// 100 tenants, 10 of them hot.
    fn input(shape: ModelShape, mode: Mode, precision: Precision) -> ScaleInput {
        ScaleInput { tenants: 100, hot: 10, ..ScaleInput::new(shape, mode, precision) }
    }

    #[test]
    fn gpt3_full_mixed16_model_state_is_2_8_tb() {
        let r = estimate(&input(ModelShape::gpt3_175b(), Mode::Full, Precision::Mixed16));
        assert_eq!(r.params_nominal, Some(175_000_000_000));
        assert_eq!(r.weights_bytes, 350_443_634_688);
        let state = r.weights_bytes + r.grads_bytes + r.optimizer_bytes;
        assert_eq!(state, 16 * r.params_total);
        assert!((state as f64 / 2.8e12 - 1.0).abs() < 0.01);
        // 100 full copies ≈ 35 TB (35.04 TB exact vs 100 × 350 GB nominal).
        assert!((r.storage_full_bytes as f64 / 35e12 - 1.0).abs() < 0.01);
        assert_eq!(r.cold_load_seconds, r.cold_load_full_seconds);
        assert_eq!(r.terms.len(), 10);
    }

    #[test]
    fn gpt3_lora_100_tenants() {
        let r = estimate(&input(ModelShape::gpt3_175b(), Mode::adapter(4, &DEFAULT_TARGETS), Precision::Mixed16));
        assert_eq!(r.params_trainable, 18_874_368);
        assert_eq!(r.checkpoint_bytes, 37_748_736);
        assert_eq!(r.storage_adapter_bytes, 354_218_508_288);
        assert_eq!(r.serving_adapter_bytes, 350_443_634_688 + 10 * 37_748_736);
        assert_eq!(r.cold_load_seconds, r.cold_load_adapter_seconds);
        // Base frozen in fp16; only the adapter carries grads and 12 B of Adam state.
        assert_eq!(r.grads_bytes + r.optimizer_bytes, 14 * 18_874_368);
        // The lesson's own arithmetic, on the published count: 175B × 2 B, ×100 tenants.
        assert_eq!(r.nominal_weights_bytes, Some(350_000_000_000));
        assert_eq!(r.nominal_storage_full_bytes, Some(35_000_000_000_000));
        assert!(r.nominal_note.as_deref().unwrap().contains("175.2B"));
        assert_eq!(r.published.as_ref().map(|c| c.adapter_bytes), Some(350_000_000_000));
    }

    #[test]
    fn tiny_adapter_fp32() {
        let mut i = input(ModelShape::tiny(), Mode::adapter(4, &DEFAULT_TARGETS), Precision::Fp32);
        i.batch = 16;
        let r = estimate(&i);
        assert_eq!((r.params_total, r.params_trainable), (842_752, 8_192));
        assert_eq!(r.weights_bytes, 4 * 842_752);
        assert_eq!(r.checkpoint_bytes, 32_768);
        assert_eq!(r.activations_bytes, 4 * (17_571_840 + 65_536));
        assert_eq!(r.training_bytes, r.terms.iter().take(4).map(|t| t.bytes).sum::<u64>());
        assert_eq!(r.params_nominal, None);
        assert_eq!((r.nominal_weights_bytes, r.nominal_note.as_ref(), r.published.as_ref()), (None, None, None));
    }

    #[test]
    fn report_json_has_integer_bytes() {
        let r = estimate(&input(ModelShape::gpt3_175b(), Mode::Full, Precision::Mixed16));
        let out = serde_json::to_string(&r).unwrap();
        assert!(out.contains(r#""weights_bytes":350443634688,"#), "{out}");
        assert!(out.contains(r#""params_nominal":175000000000,"#));
        assert!(out.contains(r#""terms":[{"name":"weights","bytes":350443634688,"formula":"#));
    }
}
