//! Built-in fine-tuning tasks: formats the pretraining corpus never shows, written with the
//! corpus's own words so the base model's features carry over and only the format is new.
//!
//! Each task generates examples from a seeded RNG. Which split an example belongs to is decided
//! by a hash of its *key* (the record line, the answer line, the poem's title), not by the seed,
//! so no held-out example can ever appear in the training text, whatever seeds or sizes are
//! asked for. One key in eight is held out.

use super::words::{ACTIONS, ADJECTIVES, ANIMALS, COLORS, MOTIONS, NAMES, NUMBERS, PLACES, THINGS, TIMES, plural};
use serde::Serialize;

use crate::rng::Rng;

pub struct Task {
    /// Identifier used by the CLI (`--task records`) and the web API.
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// A good start to sample from after fine-tuning: the model should complete it in format.
    pub prompt: &'static str,
    /// One example: (key that decides its split, text).
    example: fn(&mut Rng) -> (String, String),
    /// What a continuation of the prompt must look like to follow the format, in words.
    pub format: &'static str,
    /// Whether `sample`, written after `prompt`, follows the format; why not if it does not.
    follows: fn(prompt: &str, sample: &str) -> Result<(), String>,
}

/// Whether a sample follows its task's format, with the rule and, when it does not, why: what
/// the page shows under each sample after a run and the CLI's report gives.
#[derive(Serialize, Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(ts_rs::TS), ts(export))]
pub struct FormatVerdict {
    pub follows: bool,
    pub format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Task {
    /// Whether `sample`, generated after this task's prompt, follows the task's format: what
    /// the page shows under each sample, and what the browser suite checks after a default run.
    pub fn check_format(&self, sample: &str) -> Result<(), String> {
        (self.follows)(self.prompt, sample)
    }

    /// `check_format` as a verdict with the rule.
    pub fn verdict(&self, sample: &str) -> FormatVerdict {
        let why = self.check_format(sample).err();
        FormatVerdict { follows: why.is_none(), format: self.format, why }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Heldout,
}

pub const TASKS: &[Task] = &[
    Task {
        name: "records",
        title: "Records",
        description: "One JSON object per line with fixed keys; the email is built from the name and the city.",
        prompt: "{\"name\": \"mira\", \"city\": \"tolden\", \"pet\": \"owl\", \"color\": \"red\", \"age\": 34, \"email\": \"",
        example: record,
        format: "the line is one JSON object with the keys name, city, pet, color, age and email",
        follows: record_follows,
    },
    Task {
        name: "qa",
        title: "Questions and answers",
        description: "A fact and a question about it after \"Q:\", and the answer after \"A:\" restating the fact.",
        prompt: "Q: Mira went to Tolden at night. Where did Mira go?\nA:",
        example: question,
        format: "an answer follows \"A:\": one sentence, from a capital letter to a full stop",
        follows: answer_follows,
    },
    Task {
        name: "verse",
        title: "Verse",
        description: "Three-line lowercase verses under a \"== title ==\" line: the title repeated, a place, and a rhyme.",
        prompt: "== sleepy fox ==\n",
        example: verse,
        format: "the verse opens as its title would, two words and a comma twice (\"sleepy fox, sleepy fox,\")",
        follows: verse_follows,
    },
];

/// The task a run, the page and the CLI take when none is named: the first of `TASKS`.
pub fn default_task() -> &'static Task {
    &TASKS[0]
}

pub fn task(name: &str) -> Option<&'static Task> {
    TASKS.iter().find(|t| t.name == name)
}

/// Whole examples of the named task until the text holds at least `n_chars` characters; `None`
/// for an unknown name. The two splits draw from different RNG streams as well as different keys.
pub fn task_text(name: &str, seed: u64, n_chars: usize, split: Split) -> Option<String> {
    let task = task(name)?;
    let stream = match split {
        Split::Train => 0x7A1A_0000_0000_0001,
        Split::Heldout => 0x4E1D_0000_0000_0002,
    };
    let mut rng = Rng::new(seed ^ stream);
    let mut text = String::with_capacity(n_chars + 256);
    while text.len() < n_chars {
        let (key, example) = (task.example)(&mut rng);
        if split_of(&key) == split {
            text.push_str(&example);
        }
    }
    Some(text)
}

/// FNV-1a (64-bit) of the key: a fixed, platform-independent hash, so the split never changes.
fn split_of(key: &str) -> Split {
    let hash = key.bytes().fold(0xCBF2_9CE4_8422_2325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01B3));
    if hash % 8 == 0 { Split::Heldout } else { Split::Train }
}

/// `{"name": "mira", "city": "tolden", "pet": "owl", "color": "red", "age": 34, "email": "mira@tolden.org"}`
fn record(rng: &mut Rng) -> (String, String) {
    let name = rng.pick(NAMES).to_lowercase();
    let city = rng.pick(PLACES).to_lowercase();
    let (pet, color, age) = (rng.pick(ANIMALS), rng.pick(COLORS), rng.range(18, 80));
    let line = format!(
        "{{\"name\": \"{name}\", \"city\": \"{city}\", \"pet\": \"{pet}\", \"color\": \"{color}\", \"age\": {age}, \"email\": \"{name}@{city}.org\"}}\n"
    );
    (line.clone(), line)
}

/// A fact, a question about it, and an answer that restates the fact in a fixed pattern. The
/// answer is the key: it follows from the question line, so both lines stay on one side.
fn question(rng: &mut Rng) -> (String, String) {
    let name = *rng.pick(NAMES);
    let time = *rng.pick(TIMES);
    let (fact, ask, answer) = match rng.below(5) {
        0 | 1 => {
            let (m, place) = (rng.pick(MOTIONS), *rng.pick(PLACES));
            let fact = format!("{name} {} to {place} {time}.", m.past);
            if rng.chance(0.5) {
                (fact, format!("Where did {name} {}?", m.base), format!("{name} {} to {place}.", m.past))
            } else {
                (
                    fact,
                    format!("When did {name} {} to {place}?", m.base),
                    format!("{name} {} to {place} {time}.", m.past),
                )
            }
        }
        2 | 3 => {
            let (v, adj, thing) = (rng.pick(ACTIONS), *rng.pick(ADJECTIVES), *rng.pick(THINGS));
            let fact = format!("{name} {} the {adj} {thing} {time}.", v.past);
            let answer = format!("{name} {} the {adj} {thing}.", v.past);
            match rng.below(3) {
                0 => (fact, format!("What did {name} {}?", v.base), answer),
                1 => (fact, format!("Who {} the {adj} {thing}?", v.past), answer),
                _ => (fact, format!("Did {name} {} the {thing}?", v.base), format!("Yes, {answer}")),
            }
        }
        _ => {
            let (count, thing) = (*rng.pick(NUMBERS), *rng.pick(THINGS));
            let things = plural(thing);
            let fact = format!("{name} had {count} {things}.");
            (fact, format!("How many {things} did {name} have?"), format!("{name} had {count} {things}."))
        }
    };
    let answer = format!("A: {answer}");
    let text = format!("Q: {fact} {ask}\n{answer}\n\n");
    (answer, text)
}

/// Rhyme groups: the nouns that may close line two, and the words that then close line three.
const RHYMES: &[(&[&str], &[&str])] = &[
    (&["hill", "mill"], &["still"]),
    (&["light", "kite"], &["bright", "white"]),
    (&["bay", "hay"], &["gray", "away"]),
    (&["stone", "bone"], &["alone"]),
    (&["tree", "sea"], &["free"]),
    (&["lake"], &["awake"]),
    (&["storm"], &["warm"]),
    (&["pier"], &["near"]),
    (&["moon"], &["in tune"]),
    (&["lane", "rain"], &["home again"]),
    (&["wood"], &["good"]),
    (&["sky"], &["dry", "shy"]),
    (&["town"], &["brown"]),
    (&["snow"], &["slow"]),
    (&["sand"], &["grand"]),
];
const PREPOSITIONS: &[&str] =
    &["down by the", "out on the", "up on the", "over the", "under the", "near the", "past the"];
const HOURS: &[&str] = &["night", "day", "wind", "air", "road", "morning", "evening"];
const WEATHER: &[&str] = &["long", "cold", "dark", "soft", "clear", "quiet", "short", "kind"];

/// ```text
/// == sleepy fox ==
/// sleepy fox, sleepy fox,
/// down by the hill,
/// the night is long, and the fox is still.
/// ```
/// Line one repeats the title and line three names its noun: copying that a small model (and a
/// LoRA adapter on attention) can learn. The title is the key.
fn verse(rng: &mut Rng) -> (String, String) {
    let adj = *rng.pick(ADJECTIVES);
    let noun = if rng.chance(0.5) { *rng.pick(ANIMALS) } else { *rng.pick(THINGS) };
    let (places, ends) = *rng.pick(RHYMES);
    let (prep, place, end) = (*rng.pick(PREPOSITIONS), *rng.pick(places), *rng.pick(ends));
    let (hour, weather) = (*rng.pick(HOURS), *rng.pick(WEATHER));
    let title = format!("== {adj} {noun} ==");
    let text = format!(
        "{title}\n{adj} {noun}, {adj} {noun},\n{prep} {place},\nthe {hour} is {weather}, and the {noun} is {end}.\n\n"
    );
    (title, text)
}

const RECORD_KEYS: [&str; 6] = ["name", "city", "pet", "color", "age", "email"];

/// The prompt opens a record; with the sample, its first line must be a whole JSON object with
/// every key (the values may be wrong: the format is what fine-tuning teaches first).
fn record_follows(prompt: &str, sample: &str) -> Result<(), String> {
    let text = format!("{prompt}{sample}");
    let line = text.lines().next().unwrap_or_default();
    let record: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).map_err(|_| "the line is not one JSON object".to_string())?;
    match RECORD_KEYS.iter().find(|k| !record.contains_key(**k)) {
        Some(key) => Err(format!("the record has no \"{key}\"")),
        None => Ok(()),
    }
}

/// The prompt ends with "A:"; the answer is the rest of that line.
fn answer_follows(_prompt: &str, sample: &str) -> Result<(), String> {
    let answer = sample.lines().next().unwrap_or_default();
    let sentence = answer.strip_prefix(' ').unwrap_or(answer);
    let capital = sentence.chars().next().is_some_and(char::is_uppercase);
    if capital && sentence.len() > 1 && sentence.ends_with('.') && !sentence.contains("Q:") {
        Ok(())
    } else {
        Err("no one-sentence answer after \"A:\"".to_string())
    }
}

/// The prompt is a title line "== a b =="; a verse's first line repeats its title, "a b, a b,".
/// Checked is that shape, two lowercase words and a comma twice, not the words: in a page's run
/// (150 steps) neither mode copies the prompt's title reliably, though both learn the shape.
fn verse_follows(_prompt: &str, sample: &str) -> Result<(), String> {
    let first = sample.lines().next().unwrap_or_default();
    let two_words = |part: &str| {
        let words: Vec<&str> = part.split(' ').collect();
        words.len() == 2 && words.iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase()))
    };
    let parts: Vec<&str> = first.split(", ").collect();
    let shaped =
        first.ends_with(',') && parts.len() == 2 && two_words(parts[0]) && two_words(parts[1].trim_end_matches(','));
    if shaped { Ok(()) } else { Err("the first line is not two words and a comma, twice".to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn both(name: &str, seed: u64) -> (String, String) {
        (task_text(name, seed, 50_000, Split::Train).unwrap(), task_text(name, seed, 6_000, Split::Heldout).unwrap())
    }

    #[test]
    fn every_example_follows_its_format_and_garble_does_not() {
        for t in TASKS {
            let text = task_text(t.name, 1, 3_000, Split::Train).unwrap();
            // Each example, cut where the prompt ends in it, continues in format.
            let cut = |example: &str| -> Option<String> {
                let at = match t.name {
                    "records" => example.find("\"email\": \"")? + "\"email\": \"".len(),
                    "qa" => example.find("\nA:")? + 3,
                    _ => example.find("==\n")? + 3,
                };
                Some(example[at..].to_string())
            };
            let examples: Vec<&str> = text.split_inclusive(if t.name == "records" { "}\n" } else { "\n\n" }).collect();
            let mut checked = 0;
            for example in examples.iter().filter(|e| e.starts_with(&t.prompt[..3])) {
                let rest = cut(example).unwrap();
                t.check_format(&rest).unwrap_or_else(|e| panic!("{}: {example:?}: {e}", t.name));
                checked += 1;
            }
            assert!(checked > 5, "{}: {checked} examples", t.name);
            for garble in ["", "\n", "brown.org\":\n{\"name", " the beetle Q: was", "stone, stone,\nup"] {
                assert!(t.check_format(garble).is_err(), "{}: {garble:?}", t.name);
            }
        }
        assert_eq!(task("records").unwrap().check_format("golden.org\"}\n{\"na"), Ok(()));
        assert_eq!(task("qa").unwrap().check_format(" Mira went to Tolden.\n\nQ:"), Ok(()));
        assert_eq!(task("verse").unwrap().check_format("sleepy fox, sleepy fox,\nin the"), Ok(()));
        assert_eq!(task("verse").unwrap().check_format("shiny cat, little letter,\nup on"), Ok(()));
        assert!(task("verse").unwrap().check_format("shiny cat, little,\nup on").is_err());
        assert_eq!(record_follows("{\"name\": \"", "mira\"}\n"), Err("the record has no \"city\"".into()));
    }

    /// A task's text for a seed is the same on every machine and in every build: the demo adapters
    /// were trained on seed 1's, and the page's runs draw from it. A change to a task's generator
    /// changes its digest here.
    #[test]
    fn a_seed_gives_one_text_everywhere_and_another_seed_another() {
        let digest = |name, seed| crate::checkpoint::sha256_hex(both(name, seed).0.as_bytes());
        let pinned = [
            ("records", "cb6ff007aa5bde2ac8e5f777b0afef5221b0c1e89aaa5ccab5c8d4e1431b1620"),
            ("qa", "279b5d0c98b7cd13f56fd28b1ad0efc1d35239fab3595a86dc4116166df0d48e"),
            ("verse", "c9e7d82441e27db4efda4120b28fb8fc344ebf18a32e3539c0634231cdb467d3"),
        ];
        for t in TASKS {
            let (_, want) = pinned.iter().find(|(name, _)| *name == t.name).expect("every task's digest is pinned");
            assert_eq!(digest(t.name, 1), *want, "{}", t.name);
            assert_ne!(digest(t.name, 2), *want, "{}", t.name);
        }
    }

    #[test]
    fn only_vocabulary_characters_and_sizes() {
        for t in TASKS {
            let (train, heldout) = both(t.name, 3);
            assert!((50_000..51_000).contains(&train.len()) && (6_000..7_000).contains(&heldout.len()));
            assert!(train.chars().chain(heldout.chars()).all(|c| c == '\n' || (' '..='~').contains(&c)));
            assert!(heldout.starts_with(&t.prompt[..3]), "{}: held-out text starts like its prompt", t.name);
        }
    }

    /// No held-out example, and for records and qa no held-out line, appears in the training text.
    #[test]
    fn heldout_is_disjoint_from_train() {
        for t in TASKS {
            let (train, heldout) = both(t.name, 4);
            let examples = |text: &str| -> HashSet<String> { text.split_inclusive("\n\n").map(String::from).collect() };
            let (train_examples, held_examples) = match t.name {
                "records" => (train.lines().map(String::from).collect(), heldout.lines().map(String::from).collect()),
                _ => (examples(&train), examples(&heldout)),
            };
            assert!(held_examples.len() > 20, "{}", t.name);
            assert!(held_examples.is_disjoint(&train_examples), "{}", t.name);
            let train_lines: HashSet<&str> = train.lines().collect();
            let shared_lines: Vec<&str> =
                heldout.lines().filter(|l| !l.is_empty() && train_lines.contains(l)).collect();
            match t.name {
                // Verse may share its generic lines two and three ("down by the hill,"); never a
                // title or the title's echo on line one.
                "verse" => assert!(
                    shared_lines.iter().all(|l| l.starts_with("the ") || PREPOSITIONS.iter().any(|p| l.starts_with(p)))
                ),
                _ => assert!(shared_lines.is_empty(), "{}: {shared_lines:?}", t.name),
            }
        }
    }

    #[test]
    fn unknown_task_is_none() {
        assert!(task("sonnets").is_none());
        assert!(task_text("sonnets", 1, 100, Split::Train).is_none());
        assert_eq!(task("qa").unwrap().title, "Questions and answers");
    }

    #[test]
    fn examples_look_as_documented() {
        let mut rng = Rng::new(9);
        let (_, line) = record(&mut rng);
        assert!(line.starts_with("{\"name\": \"") && line.ends_with(".org\"}\n"));
        let (answer, text) = question(&mut rng);
        assert!(text.starts_with("Q: ") && text.contains(&format!("\n{answer}\n\n")));
        let (title, text) = verse(&mut rng);
        assert_eq!(text.lines().filter(|l| !l.is_empty()).count(), 4);
        assert!(text.starts_with(&title));
    }
}
