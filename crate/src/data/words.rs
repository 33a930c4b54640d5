//! The vocabulary every generator draws from: names and places we made up, plus plain English
//! words. The corpus and the fine-tuning tasks share it on purpose: a task should teach the base
//! model a new *format*, not new words, so the features it learnt in pretraining carry over.
//!
//! Nouns are chosen to take a regular plural (`plural` below), and verbs carry their four forms
//! so the grammar never has to guess a spelling.

pub const NAMES: &[&str] = &[
    "Mira", "Tolan", "Besk", "Ilo", "Renna", "Jory", "Cass", "Dunmo", "Pell", "Orin", "Vessa", "Kit", "Amo", "Lune",
    "Tavi", "Bram", "Suri", "Nell", "Odo", "Fen", "Yara", "Hobb", "Isa", "Marek", "Teo", "Wren", "Ansel", "Dara",
    "Gil", "Rook",
];

/// Towns: capitalised in prose, lowercase in the `records` task.
pub const PLACES: &[&str] = &[
    "Tolden", "Vey", "Ashmere", "Corrin", "Dulby", "Fennick", "Halder", "Ostrel", "Pembry", "Quarn", "Sallow",
    "Umbrey", "Wexley", "Brindle", "Carrow", "Elsby", "Grummet", "Lornwick", "Maddow", "Tessary",
];

pub const ANIMALS: &[&str] = &[
    "owl", "fox", "cat", "dog", "goat", "hen", "crow", "horse", "rabbit", "frog", "duck", "lamb", "pig", "bee", "moth",
    "badger", "heron", "otter", "toad", "beetle",
];

pub const THINGS: &[&str] = &[
    "lamp", "boat", "cart", "bell", "apple", "pear", "kettle", "letter", "map", "key", "coat", "hat", "basket", "rope",
    "drum", "candle", "ladder", "wheel", "cup", "jar", "shell", "feather", "coin", "blanket", "kite", "book", "box",
    "brush", "spoon", "bucket", "lantern", "needle", "button", "ribbon", "whistle", "hammer", "clock", "ring", "stone",
    "plum", "egg", "jug", "sack", "scarf", "pencil",
];

/// Places inside a town, always used with "the".
pub const LOCATIONS: &[&str] = &[
    "river", "hill", "road", "bridge", "field", "garden", "market", "house", "barn", "tower", "well", "forest", "lake",
    "kitchen", "harbor", "orchard", "mill", "station", "library", "meadow", "shop", "square", "school", "yard",
];

pub const ADJECTIVES: &[&str] = &[
    "red", "small", "old", "quiet", "bright", "cold", "warm", "green", "heavy", "round", "tall", "slow", "quick",
    "soft", "loud", "dusty", "wooden", "silver", "golden", "empty", "strange", "little", "new", "blue", "yellow",
    "brown", "wet", "dry", "shiny", "broken", "long", "short", "clean", "lazy", "noisy", "sleepy", "gentle", "clever",
    "dark", "tiny",
];

pub const COLORS: &[&str] = &["red", "green", "blue", "yellow", "brown", "silver", "golden", "gray", "white", "black"];

/// How a person or an animal feels.
pub const MOODS: &[&str] = &[
    "happy", "tired", "hungry", "busy", "sleepy", "brave", "shy", "proud", "cheerful", "worried", "calm", "curious",
    "lonely", "glad", "quiet",
];

pub const ADVERBS: &[&str] = &[
    "slowly",
    "quickly",
    "quietly",
    "carefully",
    "gladly",
    "softly",
    "happily",
    "gently",
    "loudly",
    "boldly",
    "calmly",
    "patiently",
    "again",
    "twice",
];

pub const TIMES: &[&str] = &[
    "in the morning",
    "at noon",
    "in the evening",
    "at night",
    "after the rain",
    "before dinner",
    "on market day",
    "in the spring",
    "in the winter",
    "at dawn",
    "after lunch",
    "the next day",
    "on Monday",
    "on Friday",
];

pub const NUMBERS: &[&str] =
    &["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"];

pub struct Verb {
    pub base: &'static str,
    /// Third person singular present: "she carries".
    pub third: &'static str,
    pub past: &'static str,
    pub ing: &'static str,
}

const fn verb(base: &'static str, third: &'static str, past: &'static str, ing: &'static str) -> Verb {
    Verb { base, third, past, ing }
}

/// Verbs that take a thing as their object: "Mira mended the old kettle."
pub const ACTIONS: &[Verb] = &[
    verb("find", "finds", "found", "finding"),
    verb("carry", "carries", "carried", "carrying"),
    verb("lose", "loses", "lost", "losing"),
    verb("paint", "paints", "painted", "painting"),
    verb("mend", "mends", "mended", "mending"),
    verb("buy", "buys", "bought", "buying"),
    verb("sell", "sells", "sold", "selling"),
    verb("bring", "brings", "brought", "bringing"),
    verb("keep", "keeps", "kept", "keeping"),
    verb("hold", "holds", "held", "holding"),
    verb("open", "opens", "opened", "opening"),
    verb("clean", "cleans", "cleaned", "cleaning"),
    verb("build", "builds", "built", "building"),
    verb("want", "wants", "wanted", "wanting"),
    verb("fix", "fixes", "fixed", "fixing"),
    verb("draw", "draws", "drew", "drawing"),
    verb("wash", "washes", "washed", "washing"),
    verb("hide", "hides", "hid", "hiding"),
    verb("make", "makes", "made", "making"),
    verb("polish", "polishes", "polished", "polishing"),
    verb("drop", "drops", "dropped", "dropping"),
    verb("lift", "lifts", "lifted", "lifting"),
    verb("share", "shares", "shared", "sharing"),
    verb("borrow", "borrows", "borrowed", "borrowing"),
];

/// Verbs of going somewhere: "Tolan sailed to Vey."
pub const MOTIONS: &[Verb] = &[
    verb("go", "goes", "went", "going"),
    verb("walk", "walks", "walked", "walking"),
    verb("run", "runs", "ran", "running"),
    verb("sail", "sails", "sailed", "sailing"),
    verb("ride", "rides", "rode", "riding"),
    verb("travel", "travels", "travelled", "travelling"),
    verb("return", "returns", "returned", "returning"),
    verb("hurry", "hurries", "hurried", "hurrying"),
    verb("wander", "wanders", "wandered", "wandering"),
    verb("drive", "drives", "drove", "driving"),
    verb("cycle", "cycles", "cycled", "cycling"),
];

/// Dialogue tags as (present, past): one list for statements, one for questions.
pub const SAYS: &[(&str, &str)] = &[
    ("says", "said"),
    ("says", "said"),
    ("whispers", "whispered"),
    ("calls", "called"),
    ("replies", "replied"),
    ("answers", "answered"),
];
pub const ASKS: &[(&str, &str)] = &[("asks", "asked"), ("asks", "asked"), ("whispers", "whispered")];

/// Regular English plural; the word lists avoid irregular nouns so this is always right.
pub fn plural(noun: &str) -> String {
    let consonant_y = noun.ends_with('y') && !noun.ends_with("ay") && !noun.ends_with("ey");
    if consonant_y {
        format!("{}ies", &noun[..noun.len() - 1])
    } else if ["s", "x", "ch", "sh"].iter().any(|end| noun.ends_with(end)) {
        format!("{noun}es")
    } else {
        format!("{noun}s")
    }
}

/// "a" or "an" for the word that follows (by spelling: none of our words needs more).
pub fn article(next: &str) -> &'static str {
    if next.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_follow_spelling_rules() {
        assert_eq!(plural("fox"), "foxes");
        assert_eq!(plural("brush"), "brushes");
        assert_eq!(plural("key"), "keys");
        assert_eq!(plural("library"), "libraries");
        assert_eq!(plural("owl"), "owls");
    }

    #[test]
    fn articles_and_capitals() {
        assert_eq!(article("owl"), "an");
        assert_eq!(article("red"), "a");
        assert_eq!(capitalise("the owl"), "The owl");
    }

    #[test]
    fn words_are_plain_ascii_without_quotes() {
        let lists = [NAMES, PLACES, ANIMALS, THINGS, LOCATIONS, ADJECTIVES, COLORS, MOODS, ADVERBS, TIMES, NUMBERS];
        for word in lists.iter().flat_map(|l| l.iter()) {
            assert!(word.bytes().all(|b| b.is_ascii_alphabetic() || b == b' '), "{word}");
        }
    }
}
