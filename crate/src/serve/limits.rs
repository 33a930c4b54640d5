//! Serving's limits and defaults (its sampling too), in one place for the CLI, the page and the
//! element.

use std::ops::RangeInclusive;

use serde::Serialize;

/// Tenants in one batch, the base alone counting as one (the Serve panel's 16).
pub const TENANTS: usize = 16;
/// Rows in one batch: 16 tenants, four rows each.
pub const ROWS: RangeInclusive<usize> = 1..=64;
/// Characters generated per row.
pub const CHARS: RangeInclusive<usize> = 1..=1_000;
/// Characters per row when the page serves, and the CLI's default.
pub const CHARS_DEFAULT: usize = 40;
/// Characters per row when the page measures the three ways, which serve the rows nine times
/// over (three timed runs together, three through one adapter, one at a time, merged copies and
/// warm-ups): short, so a software GPU measures in seconds, not minutes.
pub const COMPARE_CHARS: usize = 16;
/// How serving samples, wherever it serves (the page's panel, the three ways, the CLI): the same
/// temperature and seed, so the ways' texts agree and a page serves what the CLI does.
pub const TEMPERATURE: f32 = 0.8;
pub const SEED: u64 = 1;

/// `adapters` adapters served beside the base, or why not.
pub fn check_adapters(adapters: usize) -> Result<(), String> {
    if adapters < TENANTS {
        Ok(())
    } else {
        Err(format!("serve at most {} adapters at once ({TENANTS} tenants with the base), got {adapters}", TENANTS - 1))
    }
}

/// `rows` requests at once, or why not.
pub fn check_rows(rows: usize) -> Result<(), String> {
    if ROWS.contains(&rows) {
        Ok(())
    } else {
        Err(format!("serve {} to {} requests at once, got {rows}", ROWS.start(), ROWS.end()))
    }
}

/// `chars` characters per row (a number as the page gives it), or why not.
pub fn check_chars(chars: f64) -> Result<usize, String> {
    let whole = chars.fract() == 0.0 && chars >= *CHARS.start() as f64 && chars <= *CHARS.end() as f64;
    if whole {
        Ok(chars as usize)
    } else {
        Err(format!("chars must be a whole number from {} to {}, got {chars}", CHARS.start(), CHARS.end()))
    }
}

/// What the element reads (`serveLimits` in wasm).
#[derive(Serialize, Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct Limits {
    pub tenants: usize,
    pub rows: [usize; 2],
    pub chars: [usize; 2],
    pub chars_default: usize,
    pub compare_chars: usize,
}

pub fn limits() -> Limits {
    Limits {
        tenants: TENANTS,
        rows: [*ROWS.start(), *ROWS.end()],
        chars: [*CHARS.start(), *CHARS.end()],
        chars_default: CHARS_DEFAULT,
        compare_chars: COMPARE_CHARS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ends_pass_and_one_past_them_is_refused_with_the_range() {
        for n in [1, 64] {
            assert!(check_rows(n).is_ok());
        }
        assert_eq!(check_rows(65).unwrap_err(), "serve 1 to 64 requests at once, got 65");
        assert!(check_rows(0).is_err());
        assert_eq!(check_chars(1_000.0), Ok(1_000));
        assert_eq!(check_chars(0.0).unwrap_err(), "chars must be a whole number from 1 to 1000, got 0");
        assert!(check_chars(2.5).is_err() && check_chars(f64::NAN).is_err());
        assert!(check_adapters(15).is_ok());
        assert_eq!(
            check_adapters(16).unwrap_err(),
            "serve at most 15 adapters at once (16 tenants with the base), got 16"
        );
        assert!(CHARS.contains(&CHARS_DEFAULT) && CHARS.contains(&COMPARE_CHARS));
    }
}
