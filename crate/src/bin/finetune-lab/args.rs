//! Each command's flags, declared once: the parser reads them, `--help` prints them, a number's
//! range and default are checked and shown from the same place. `--name value` and `--switch`;
//! every error names the flag and ends the program with exit code 2 (see `main`).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use crate::CliError;

/// What a flag takes.
enum Takes {
    Switch,
    /// A value; `placeholder` names it in the help ("PATH", "N").
    Value {
        placeholder: &'static str,
        repeats: bool,
    },
    /// A number in `min..=max`, `default` when absent.
    Number {
        placeholder: &'static str,
        min: f64,
        max: f64,
        default: f64,
    },
}

pub struct Flag {
    name: &'static str,
    takes: Takes,
    help: String,
}

impl Flag {
    pub fn switch(name: &'static str, help: impl Into<String>) -> Self {
        Flag { name, takes: Takes::Switch, help: help.into() }
    }

    pub fn value(name: &'static str, placeholder: &'static str, help: impl Into<String>) -> Self {
        Flag { name, takes: Takes::Value { placeholder, repeats: false }, help: help.into() }
    }

    /// A value that may be given more than once.
    pub fn repeating(name: &'static str, placeholder: &'static str, help: impl Into<String>) -> Self {
        Flag { name, takes: Takes::Value { placeholder, repeats: true }, help: help.into() }
    }

    /// A number read with `Args::number`: its range and default live here, and the help says them.
    pub fn number(
        name: &'static str,
        placeholder: &'static str,
        default: f64,
        range: std::ops::RangeInclusive<f64>,
        help: impl Into<String>,
    ) -> Self {
        let (min, max) = range.into_inner();
        Flag { name, takes: Takes::Number { placeholder, min, max, default }, help: help.into() }
    }

    fn synopsis(&self) -> String {
        match self.takes {
            Takes::Switch => format!("--{}", self.name),
            Takes::Value { placeholder, .. } | Takes::Number { placeholder, .. } => {
                format!("--{} {placeholder}", self.name)
            }
        }
    }

    fn help(&self) -> String {
        match self.takes {
            Takes::Number { min, max, default, .. } => format!("{} ({min} to {max}; default {default})", self.help),
            Takes::Value { repeats: true, .. } => format!("{} (repeat for more)", self.help),
            _ => self.help.clone(),
        }
    }
}

/// A command: its name, what it does, and its flags.
pub struct Command {
    pub name: &'static str,
    pub about: &'static str,
    pub flags: Vec<Flag>,
}

impl Command {
    /// `finetune-lab NAME --help`.
    pub fn usage(&self) -> String {
        let width = self.flags.iter().map(|f| f.synopsis().len()).max().unwrap_or(0);
        let flags: Vec<String> =
            self.flags.iter().map(|f| format!("  {:width$}  {}", f.synopsis(), f.help(), width = width)).collect();
        format!("usage: finetune-lab {} [flags]\n\n{}\n\nflags:\n{}", self.name, self.about, flags.join("\n"))
    }

    fn flag(&self, name: &str) -> Option<&Flag> {
        self.flags.iter().find(|f| f.name == name)
    }

    /// The flags in `raw`; `--help` (or `-h`) anywhere answers with this command's usage.
    pub fn parse(&self, raw: &[String]) -> Result<Args<'_>, CliError> {
        if raw.iter().any(|a| a == "--help" || a == "-h") {
            return Err(CliError::Help(self.usage()));
        }
        let mut args = Args { command: self, values: BTreeMap::new(), switches: vec![] };
        let mut it = raw.iter();
        while let Some(arg) = it.next() {
            let name =
                arg.strip_prefix("--").ok_or_else(|| format!("unexpected argument `{arg}` (flags start with --)"))?;
            let flag = self.flag(name).ok_or_else(|| {
                let known: Vec<String> = self.flags.iter().map(|f| format!("--{}", f.name)).collect();
                format!("unknown flag --{name}; `{}` takes {}", self.name, known.join(", "))
            })?;
            if let Takes::Switch = flag.takes {
                args.switches.push(flag.name);
                continue;
            }
            let value = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
            let values = args.values.entry(flag.name).or_default();
            if !values.is_empty() && !matches!(flag.takes, Takes::Value { repeats: true, .. }) {
                return Err(format!("--{name} given twice").into());
            }
            values.push(value.clone());
        }
        Ok(args)
    }
}

pub struct Args<'a> {
    command: &'a Command,
    values: BTreeMap<&'static str, Vec<String>>,
    switches: Vec<&'static str>,
}

impl Args<'_> {
    pub fn switch(&self, name: &str) -> bool {
        self.switches.contains(&name)
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// Every value of a repeating flag, in the order given.
    pub fn texts(&self, name: &str) -> Vec<&str> {
        self.values.get(name).map_or(vec![], |v| v.iter().map(String::as_str).collect())
    }

    /// A `Flag::number`: parsed as `T`, within the flag's range, its default if absent.
    pub fn number<T>(&self, name: &str) -> Result<T, String>
    where
        T: FromStr + PartialOrd + Copy + Display + Into<f64> + FromF64,
    {
        let flag = self.command.flag(name).expect("the command declares every flag it reads");
        let Takes::Number { min, max, default, .. } = flag.takes else {
            panic!("--{name} is not declared with Flag::number")
        };
        let Some(raw) = self.text(name) else { return Ok(T::from_f64(default)) };
        let value: T = raw.parse().map_err(|_| format!("--{name} must be a number, got `{raw}`"))?;
        if !(min..=max).contains(&value.into()) {
            return Err(format!("--{name} must be between {min} and {max}, got {value}"));
        }
        Ok(value)
    }

    /// A number whose range depends on other flags (given here), `default` if absent.
    pub fn number_in<T>(&self, name: &str, default: T, range: std::ops::RangeInclusive<T>) -> Result<T, String>
    where
        T: FromStr + PartialOrd + Copy + Display,
    {
        let Some(raw) = self.text(name) else { return Ok(default) };
        let value: T = raw.parse().map_err(|_| format!("--{name} must be a number, got `{raw}`"))?;
        if !range.contains(&value) {
            return Err(format!("--{name} must be between {} and {}, got {value}", range.start(), range.end()));
        }
        Ok(value)
    }
}

/// The declared default (an f64) as the type read.
pub trait FromF64 {
    fn from_f64(value: f64) -> Self;
}

impl FromF64 for f64 {
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl FromF64 for f32 {
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl FromF64 for u32 {
    fn from_f64(value: f64) -> Self {
        value as u32
    }
}
