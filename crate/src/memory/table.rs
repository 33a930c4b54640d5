//! Human-readable figures: decimal units (1 GB = 10⁹ B, as the papers and disk makers count)
//! and an aligned table of a `Report`.

use std::fmt::Write;

use super::estimate::Report;

const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];

/// "512 B", "8.2 kB", "37.7 MB", "350 GB": one decimal below 100, none from 100 up, so three
/// significant digits at most.
pub fn format_bytes(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64;
    for (i, unit) in UNITS.iter().enumerate() {
        v /= 1000.0;
        // Move up a unit when the rounded figure would read "1000" (999.96 kB → 1.0 MB).
        let text = if v < 99.95 { format!("{v:.1}") } else { format!("{v:.0}") };
        if v < 999.5 || i == UNITS.len() - 1 {
            return format!("{text} {unit}");
        }
    }
    unreachable!("the last unit always returns")
}

/// 175221817344 → "175,221,817,344".
pub fn format_int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "5.4 ms", "50.0 s", "4.2 min".
pub fn format_seconds(s: f64) -> String {
    match s {
        s if !s.is_finite() => "∞".into(),
        s if s < 1e-3 => format!("{:.1} µs", s * 1e6),
        s if s < 1.0 => format!("{:.1} ms", s * 1e3),
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{:.1} min", s / 60.0),
        s => format!("{:.1} h", s / 3600.0),
    }
}

/// The report as an aligned table: params, each term with its formula, then cold loads.
pub fn format_report(r: &Report) -> String {
    let mut out = String::new();
    let nominal = r.params_nominal.map_or(String::new(), |n| format!(" (published: {})", format_int(n)));
    let _ = writeln!(
        out,
        "params  {} total, {} trainable{nominal}",
        format_int(r.params_total),
        format_int(r.params_trainable)
    );
    let width = r.terms.iter().map(|t| t.name.len()).max().unwrap_or(0);
    for t in &r.terms {
        let _ = writeln!(out, "{:<width$}  {:>8}  {}", t.name, format_bytes(t.bytes), t.formula);
    }
    if let (Some(nominal), Some(copy), Some(all)) =
        (r.params_nominal, r.nominal_weights_bytes, r.nominal_storage_full_bytes)
    {
        // The lesson counts in whole GB from the published size; show that arithmetic as is.
        let _ = writeln!(
            out,
            "published  {} params × {} B = {} GB a copy; {} full copies = {} GB",
            format_int(nominal),
            copy / nominal.max(1),
            format_int(copy / 1_000_000_000),
            format_int(r.tenants),
            format_int(all / 1_000_000_000),
        );
    }
    if let Some(note) = &r.nominal_note {
        let _ = writeln!(out, "note  {note}");
    }
    if let Some(claim) = &r.published {
        let _ = writeln!(
            out,
            "published training memory  full {} → adapter {} ({})",
            format_bytes(claim.full_bytes),
            format_bytes(claim.adapter_bytes),
            claim.source
        );
    }
    let _ = writeln!(
        out,
        "cold load at {}/s: {} this mode (whole model {}, adapter {})",
        format_bytes(r.bandwidth_bytes_per_s as u64),
        format_seconds(r.cold_load_seconds),
        format_seconds(r.cold_load_full_seconds),
        format_seconds(r.cold_load_adapter_seconds),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::Mode;
    use crate::memory::{Precision, ScaleInput, estimate};
    use crate::shape::ModelShape;

    #[test]
    fn bytes_in_decimal_units() {
        assert_eq!(format_bytes(350_000_000_000), "350 GB");
        assert_eq!(format_bytes(37_748_736), "37.7 MB");
        assert_eq!(format_bytes(3_400_000), "3.4 MB");
        assert_eq!(format_bytes(8_192), "8.2 kB");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(999_960), "1.0 MB");
        assert_eq!(format_bytes(99_960), "100 kB");
        assert_eq!(format_bytes(35_000_000_000_000), "35.0 TB");
        assert_eq!(format_bytes(u64::MAX), "18.4 EB");
    }

    #[test]
    fn ints_and_seconds() {
        assert_eq!(format_int(175_221_817_344), "175,221,817,344");
        assert_eq!(format_int(999), "999");
        assert_eq!(format_int(1_000), "1,000");
        assert_eq!(format_seconds(50.0), "50.0 s");
        assert_eq!(format_seconds(0.005_392_676), "5.4 ms");
    }

    #[test]
    fn report_table_lists_every_term() {
        let input =
            ScaleInput { tenants: 100, ..ScaleInput::new(ModelShape::gpt3_175b(), Mode::Full, Precision::Mixed16) };
        let text = format_report(&estimate(&input));
        println!("{text}");
        assert!(
            text.starts_with("params  175,221,817,344 total, 175,221,817,344 trainable (published: 175,000,000,000)")
        );
        assert!(text.contains("weights            350 GB  175,221,817,344 params × 2 B fp16 — Rajbhandari"), "{text}");
        assert!(text.contains("storage_full      35.0 TB  100 tenants × "), "{text}");
        assert!(
            text.contains("published  175,000,000,000 params × 2 B = 350 GB a copy; 100 full copies = 35,000 GB"),
            "{text}"
        );
        assert!(text.contains("cold load at 7.0 GB/s: 50.1 s this mode"), "{text}");
    }
}
