//! A fine-tuning run as a caller asks for it, checked in one place. `settings` lists every
//! number a run takes with its range and defaults; `RunSettings` is what a caller gave (the
//! CLI's flags, the element's attributes, `Lab.start`'s options), numbers as numbers or as the
//! text of a flag or an attribute; `resolve` turns it into a `RunRequest` or a message that names
//! the setting and its range. So the page and the CLI accept and refuse the same input.

use serde::{Deserialize, Serialize};

use super::budget::{Length, PAGE_BUDGET};
use super::training_loop::TrainConfig;
use crate::data::{self, Dataset};
use crate::lora::{AdapterSpec, DEFAULT_RANK, Mode, default_alpha, max_rank, parse_targets};
use crate::shape::ModelShape;

/// Who asks: the page runs small by default (a software GPU takes seconds a step), the CLI
/// runs what `finetune-lab compare` reports (docs/model.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Page,
    Cli,
}

/// One numeric setting: its range, whether it is a whole number, and each caller's default
/// (`None` where the default follows from other settings, as `help` says).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct Setting {
    pub name: &'static str,
    pub min: f64,
    pub max: f64,
    pub integer: bool,
    pub page: Option<f64>,
    pub cli: Option<f64>,
    pub help: String,
}

impl Setting {
    pub fn default_for(&self, caller: Caller) -> Option<f64> {
        match caller {
            Caller::Page => self.page,
            Caller::Cli => self.cli,
        }
    }

    /// "a whole number from 1 to 100000": what the refusal message says.
    pub fn range(&self) -> String {
        let kind = if self.integer { "a whole number" } else { "a number" };
        format!("{kind} from {} to {}", self.min, self.max)
    }
}

/// The most steps one run takes, and rows one batch holds: far past what a page or a laptop
/// finishes, well short of what overflows a counter.
pub const MAX_STEPS: usize = 100_000;
pub const MAX_BATCH: usize = 256;
/// Characters in a before/after sample.
pub const MAX_SAMPLE: usize = 1_000;
/// Seeds fit in 32 bits: a JavaScript number holds them exactly.
pub const MAX_SEED: u64 = u32::MAX as u64;

/// The adapter a page's run trains unless the reader picks another: rank 8 on every linear
/// layer, at a learning rate of 3e-3. In a run of 15 s (about 150 steps of 4 × 128 on a laptop's
/// CPU) the LoRA paper's r = 4 on Wq, Wv at 1e-2, which the CLI keeps, reached 88%, 83% and
/// 80% of full fine-tuning's held-out improvement and wrote garbled samples: a format the base
/// never saw needs the MLP adapted too, and 1e-2 was too high for it (docs/defaults.md; the
/// measurements: bench/results/).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct AdapterRecipe {
    pub rank: usize,
    /// As `lora::parse_targets` reads them.
    pub targets: &'static str,
    pub lr: f64,
}

pub const PAGE_ADAPTER: AdapterRecipe = AdapterRecipe { rank: 8, targets: "all", lr: 3e-3 };

/// Every numeric setting of a run on a model of `shape`: context and rank are bounded by it.
pub fn settings(shape: &ModelShape) -> Vec<Setting> {
    let full = TrainConfig::full(shape.context);
    let whole = |name, min: usize, max: usize, page: usize, cli: usize, help: &str| Setting {
        name,
        min: min as f64,
        max: max as f64,
        integer: true,
        page: Some(page as f64),
        cli: Some(cli as f64),
        help: help.to_string(),
    };
    vec![
        Setting {
            page: None,
            help: "training steps (Stop ends a run early; the page fits them to a time budget on its device when not given)"
                .to_string(),
            ..whole("steps", 1, MAX_STEPS, 0, 300, "")
        },
        whole("batch", 1, MAX_BATCH, 4, full.batch, "sequences per step"),
        // A records line is about 110 characters: a shorter context never shows a whole one.
        whole("context", 1, shape.context, shape.context, shape.context, "characters per sequence"),
        whole("sample", 0, MAX_SAMPLE, 60, 160, "characters sampled before and after training (0: none)"),
        whole(
            "seed",
            0,
            MAX_SEED as usize,
            full.seed as usize,
            full.seed as usize,
            "seeds the batches and a new adapter",
        ),
        whole(
            "rank",
            1,
            max_rank(shape),
            PAGE_ADAPTER.rank.min(max_rank(shape)),
            DEFAULT_RANK,
            "LoRA rank r (adapter runs)",
        ),
        Setting {
            name: "alpha",
            min: 0.01,
            max: 10_000.0,
            integer: false,
            page: None,
            cli: None,
            help: "LoRA scale α, ΔW·α/r (adapter runs; default 2·r)".to_string(),
        },
        Setting {
            name: "lr",
            min: 1e-6,
            max: 1.0,
            integer: false,
            page: None,
            cli: None,
            help: format!(
                "learning rate (default {} full, {} adapter; the page's adapter recipe takes {})",
                full.lr,
                TrainConfig::adapter(shape.context).lr,
                PAGE_ADAPTER.lr
            ),
        },
    ]
}

/// A number as given: a JSON number, or the text of a flag or an attribute ("20", "1e9").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Given {
    Number(f64),
    Text(String),
}

impl From<&str> for Given {
    fn from(text: &str) -> Self {
        Given::Text(text.to_string())
    }
}

/// LoRA targets as given: "q,v", "attn", "all", or a list `["q", "v"]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Targets {
    Text(String),
    List(Vec<String>),
}

/// What a caller gave; anything left out takes the caller's default. JSON field names are the
/// element's attribute names and the CLI's flags (`text` is the CLI's file, read).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSettings {
    pub mode: Option<String>,
    pub task: Option<String>,
    pub text: Option<String>,
    pub targets: Option<Targets>,
    pub steps: Option<Given>,
    pub batch: Option<Given>,
    pub context: Option<Given>,
    pub sample: Option<Given>,
    pub seed: Option<Given>,
    pub rank: Option<Given>,
    pub alpha: Option<Given>,
    pub lr: Option<Given>,
}

/// What to train on.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Task(&'static str),
    Text(String),
}

/// A run, checked: everything `Run::start` and a driver need.
#[derive(Debug, Clone)]
pub struct RunRequest {
    pub mode: Mode,
    pub data: Data,
    pub length: Length,
    /// Characters per before/after sample.
    pub sample: usize,
    pub config: TrainConfig,
}

impl RunRequest {
    /// The data, split into training and held-out text (an error says what is wrong with a
    /// text: empty, binary, too short for the context).
    pub fn dataset(&self) -> Result<Dataset, String> {
        match &self.data {
            Data::Task(name) => Dataset::for_task(name, self.config.seed, self.config.context)
                .ok_or_else(|| format!("unknown task `{name}`")),
            Data::Text(text) => Dataset::from_user_text(text, self.config.context).map_err(|e| e.to_string()),
        }
    }
}

/// The names of a struct's fields as its `Deserialize` asks for them: a reader that stops at the
/// request, so a list of names never has to be kept beside the struct.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Names(&'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("only the field names were wanted")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Names {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut names = Names(&[]);
    let _ = T::deserialize(&mut names);
    names.0
}

impl RunSettings {
    /// The names a caller may give: the struct's own fields, as serde reads them.
    pub fn names() -> &'static [&'static str] {
        field_names::<RunSettings>()
    }

    /// An error naming the first of `names` that is not a setting. For callers whose reader
    /// cannot refuse one itself: serde-wasm-bindgen reads only the fields a struct names, which
    /// leaves `deny_unknown_fields` nothing to see.
    pub fn refuse_unknown<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
        match names.into_iter().find(|n| !Self::names().contains(n)) {
            Some(name) => Err(format!("unknown setting `{name}`; a run takes {}", Self::names().join(", "))),
            None => Ok(()),
        }
    }

    /// Check every setting against its range on a model of `shape` and fill the gaps with
    /// `caller`'s defaults.
    pub fn resolve(&self, shape: &ModelShape, caller: Caller) -> Result<RunRequest, String> {
        let table = settings(shape);
        let number = |name: &str, given: &Option<Given>| -> Result<Option<f64>, String> {
            let setting = table.iter().find(|s| s.name == name).expect("every setting is in the table");
            let Some(given) = given else { return Ok(setting.default_for(caller)) };
            let value = match given {
                Given::Number(v) => *v,
                Given::Text(text) => text.trim().parse::<f64>().unwrap_or(f64::NAN),
            };
            let whole = !setting.integer || value.fract() == 0.0;
            if !(value.is_finite() && whole && (setting.min..=setting.max).contains(&value)) {
                let shown = match given {
                    Given::Number(v) => v.to_string(),
                    Given::Text(text) => format!("`{text}`"),
                };
                return Err(format!("{name} must be {}, got {shown}", setting.range()));
            }
            Ok(Some(value))
        };
        let optional_whole = |name: &str, given: &Option<Given>| -> Result<Option<usize>, String> {
            Ok(number(name, given)?.map(|n| n as usize))
        };
        let whole = |name: &str, given: &Option<Given>| -> Result<usize, String> {
            Ok(number(name, given)?.expect("whole-number settings have defaults") as usize)
        };

        let name = self.mode.as_deref().ok_or("choose a mode: full or adapter")?;
        // Ranges first (a rank of 0 is out of range, whatever the mode), then the mode.
        let rank = self.rank.as_ref().map(|_| whole("rank", &self.rank)).transpose()?;
        let alpha = number("alpha", &self.alpha)?.map(|a| a as f32);
        let targets = self.targets.as_ref().map(|t| match t {
            Targets::Text(text) => text.clone(),
            Targets::List(list) => list.join(","),
        });
        let mode = match Mode::from_parts(name, rank, alpha, targets.as_deref())? {
            Mode::Adapter(chosen) => {
                // What the caller left open takes its defaults: the rank from the table (the
                // page's recipe or the CLI's), the targets from the page's recipe on the page.
                let rank = whole("rank", &self.rank)?;
                let targets = match (caller, &targets) {
                    (Caller::Page, None) => parse_targets(PAGE_ADAPTER.targets)?,
                    _ => chosen.targets,
                };
                // α follows the rank chosen here unless given (the page shows it).
                Mode::Adapter(AdapterSpec { rank, alpha: alpha.unwrap_or(default_alpha(rank)), targets })
            }
            full => full,
        };
        let data = match (&self.task, &self.text) {
            (Some(_), Some(_)) => return Err("give a task or a text, not both".into()),
            (None, Some(text)) => Data::Text(text.clone()),
            (task, None) => {
                let name = task.as_deref().unwrap_or(data::default_task().name);
                let task = data::task(name).ok_or_else(|| {
                    let names: Vec<&str> = data::TASKS.iter().map(|t| t.name).collect();
                    format!("unknown task `{name}`; the built-in tasks are {}", names.join(", "))
                })?;
                Data::Task(task.name)
            }
        };
        let context = whole("context", &self.context)?;
        let mut defaults = TrainConfig::for_mode(&mode, context);
        if caller == Caller::Page && matches!(mode, Mode::Adapter(_)) {
            defaults.lr = PAGE_ADAPTER.lr;
        }
        let config = TrainConfig {
            batch: whole("batch", &self.batch)?,
            lr: number("lr", &self.lr)?.unwrap_or(defaults.lr),
            seed: whole("seed", &self.seed)? as u64,
            ..defaults
        };
        Ok(RunRequest {
            mode,
            data,
            // No steps given on the page: as many as fit its time budget on the reader's device.
            length: optional_whole("steps", &self.steps)?.map_or(Length::Budget(PAGE_BUDGET), Length::Steps),
            sample: whole("sample", &self.sample)?,
            config,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lora::{DEFAULT_TARGETS, Target};

    fn given(json: &str) -> RunSettings {
        serde_json::from_str(json).unwrap()
    }

    fn refusal(json: &str) -> String {
        given(json).resolve(&ModelShape::tiny(), Caller::Page).unwrap_err()
    }

    #[test]
    fn fills_each_callers_defaults() {
        let page = given(r#"{"mode":"adapter"}"#).resolve(&ModelShape::tiny(), Caller::Page).unwrap();
        assert_eq!(
            (page.length, page.config.batch, page.config.context, page.sample),
            (Length::Budget(PAGE_BUDGET), 4, 128, 60)
        );
        assert_eq!(page.mode, Mode::Adapter(AdapterSpec { rank: 8, alpha: 16.0, targets: Target::ALL.to_vec() }));
        assert_eq!(page.config.lr, 3e-3);
        let chosen =
            given(r#"{"mode":"adapter","rank":4,"targets":"q,v"}"#).resolve(&ModelShape::tiny(), Caller::Page).unwrap();
        assert_eq!(chosen.mode, Mode::Adapter(AdapterSpec { rank: 4, alpha: 8.0, targets: DEFAULT_TARGETS.to_vec() }));
        let page_full = given(r#"{"mode":"full"}"#).resolve(&ModelShape::tiny(), Caller::Page).unwrap();
        assert_eq!(page_full.config.lr, 1e-3);
        assert_eq!(page.data, Data::Task("records"));
        let cli = given(r#"{"mode":"full"}"#).resolve(&ModelShape::tiny(), Caller::Cli).unwrap();
        assert_eq!((cli.length, cli.config.batch, cli.config.context), (Length::Steps(300), 16, 128));
        assert_eq!(cli.config.lr, 1e-3);
        let cli = given(r#"{"mode":"adapter"}"#).resolve(&ModelShape::tiny(), Caller::Cli).unwrap();
        assert_eq!(cli.mode, Mode::Adapter(AdapterSpec { rank: 4, alpha: 8.0, targets: DEFAULT_TARGETS.to_vec() }));
        assert_eq!(cli.config.lr, 1e-2);
    }

    #[test]
    fn reads_numbers_given_as_text() {
        let r = given(r#"{"mode":"adapter","steps":"35","batch":8,"rank":" 16 ","targets":"all","lr":"3e-3"}"#)
            .resolve(&ModelShape::tiny(), Caller::Page)
            .unwrap();
        assert_eq!((r.length, r.config.batch, r.config.lr), (Length::Steps(35), 8, 3e-3));
        assert_eq!(r.mode, Mode::Adapter(AdapterSpec { rank: 16, alpha: 32.0, targets: Target::ALL.to_vec() }));
    }

    #[test]
    fn refuses_what_the_issue_found_naming_the_setting_and_its_range() {
        assert_eq!(
            refusal(r#"{"mode":"full","steps":"1e9"}"#),
            "steps must be a whole number from 1 to 100000, got `1e9`"
        );
        assert_eq!(
            refusal(r#"{"mode":"full","context":"999"}"#),
            "context must be a whole number from 1 to 128, got `999`"
        );
        assert_eq!(refusal(r#"{"mode":"full","steps":2.5}"#), "steps must be a whole number from 1 to 100000, got 2.5");
        assert!(refusal(r#"{"mode":"full","batch":"four"}"#).starts_with("batch must be a whole number from 1 to 256"));
        assert!(refusal(r#"{"mode":"adapter","rank":0}"#).starts_with("rank must be a whole number from 1 to 128"));
        assert!(refusal(r#"{"mode":"adapter","alpha":-1}"#).starts_with("alpha must be a number from 0.01"));
        assert!(refusal(r#"{"mode":"full","lr":"NaN"}"#).starts_with("lr must be a number"));
        assert!(
            refusal(r#"{"mode":"full","seed":-1}"#).starts_with("seed must be a whole number from 0 to 4294967295")
        );
        assert!(refusal(r#"{"mode":"adapter","targets":"q,z"}"#).contains("unknown LoRA target `z`"));
        assert!(refusal(r#"{"mode":"sideways"}"#).contains("mode must be full or adapter"));
        assert!(refusal(r#"{}"#).contains("choose a mode"));
        assert!(refusal(r#"{"mode":"full","rank":8}"#).contains("for adapter runs"));
        assert!(refusal(r#"{"mode":"full","task":"qa","text":"hello"}"#).contains("not both"));
        assert!(refusal(r#"{"mode":"full","task":"poems"}"#).contains("built-in tasks are records"));
        // An unknown setting is refused too, rather than quietly ignored, naming what a run takes.
        assert!(serde_json::from_str::<RunSettings>(r#"{"mode":"full","stepz":3}"#).is_err());
        let unknown = RunSettings::refuse_unknown(["mode", "stepz"]).unwrap_err();
        assert!(
            unknown.starts_with("unknown setting `stepz`; a run takes mode, task, text, targets, steps"),
            "{unknown}"
        );
        assert_eq!(RunSettings::refuse_unknown(["mode", "lr", "alpha"]), Ok(()));
    }

    #[test]
    fn infinity_from_javascript_is_refused() {
        let s =
            RunSettings { mode: Some("full".into()), steps: Some(Given::Number(f64::INFINITY)), ..Default::default() };
        assert_eq!(
            s.resolve(&ModelShape::tiny(), Caller::Page).unwrap_err(),
            "steps must be a whole number from 1 to 100000, got inf"
        );
    }

    #[test]
    fn context_and_rank_follow_the_model() {
        // (model, its context window, its narrowest projection): the widest the context and the
        // rank may be, and the context a page's run takes.
        for (shape, context, rank) in [(ModelShape::micro(), 32.0, 32.0), (ModelShape::tiny(), 128.0, 128.0)] {
            let table = settings(&shape);
            let get = |name| table.iter().find(|s| s.name == name).unwrap();
            assert_eq!((get("context").max, get("context").page), (context, Some(context)), "{}", shape.name);
            assert_eq!(get("rank").max, rank, "{}", shape.name);
            // The page's recipe, r = 8, fits both.
            assert_eq!(get("rank").page, Some(8.0), "{}", shape.name);
        }
    }
}
