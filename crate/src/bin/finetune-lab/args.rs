//! A small flag parser: `--name value` and `--switch`, with errors that name the flag.
//! Every error ends the program with exit code 2 (see `main`).

use std::collections::BTreeMap;
use std::str::FromStr;

pub struct Args {
    values: BTreeMap<String, Vec<String>>,
    switches: Vec<String>,
}

impl Args {
    /// `switches` are flags without a value (e.g. `--json`); every other flag takes one.
    pub fn parse(raw: &[String], allowed: &[&str], switches: &[&str]) -> Result<Self, String> {
        Self::parse_repeating(raw, allowed, &[], switches)
    }

    /// `parse`, where the flags in `repeating` (among `allowed`) may be given more than once.
    pub fn parse_repeating(
        raw: &[String],
        allowed: &[&str],
        repeating: &[&str],
        switches: &[&str],
    ) -> Result<Self, String> {
        let mut args = Args { values: BTreeMap::new(), switches: vec![] };
        let mut it = raw.iter();
        while let Some(arg) = it.next() {
            let name =
                arg.strip_prefix("--").ok_or_else(|| format!("unexpected argument `{arg}` (flags start with --)"))?;
            if switches.contains(&name) {
                args.switches.push(name.to_string());
            } else if allowed.contains(&name) {
                let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                let values = args.values.entry(name.to_string()).or_default();
                if !values.is_empty() && !repeating.contains(&name) {
                    return Err(format!("--{name} given twice"));
                }
                values.push(value.clone());
            } else {
                let known: Vec<String> = allowed.iter().chain(switches).map(|f| format!("--{f}")).collect();
                return Err(format!("unknown flag --{name}; this command takes {}", known.join(", ")));
            }
        }
        Ok(args)
    }

    pub fn switch(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// Every value of a repeating flag, in the order given.
    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.values.get(name).map_or(vec![], |v| v.iter().map(String::as_str).collect())
    }

    /// A parsed value, `default` if absent, and an error naming the flag if it does not parse
    /// or falls outside `range`.
    pub fn number<T>(&self, name: &str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, String>
    where
        T: FromStr + PartialOrd + Copy + std::fmt::Display,
    {
        let Some(raw) = self.text(name) else { return Ok(default) };
        let value: T = raw.parse().map_err(|_| format!("--{name} must be a number, got `{raw}`"))?;
        if !range.contains(&value) {
            return Err(format!("--{name} must be between {} and {}, got {value}", range.start(), range.end()));
        }
        Ok(value)
    }
}
