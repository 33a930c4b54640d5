//! A user's own text: normalised to what the character tokenizer reads, checked, capped and split
//! into a training part (the first ~90%) and a held-out part (the rest).
//!
//! How short is too short: training draws windows of `context + 1` characters (inputs and
//! next-character targets), and the held-out loss needs at least one such window. We ask for
//! one window + 1 of held-out text and three windows + 1 of training text, so that training
//! windows can start in more than a handful of places:
//! `min_chars(context) = (context + 1) + (3 * context + 1) = 4 * context + 2`.

use std::fmt;

use crate::tokenizer::{fold, is_known};

pub enum DataError {
    /// Fewer characters than `min_chars(context)` after normalisation.
    TooShort { needed: usize, given: usize, context: usize },
    /// Nothing but whitespace.
    Empty,
    /// Mostly control characters or undecodable bytes: a binary file, not text.
    Binary,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::TooShort { needed, given, context } => write!(
                f,
                "This text is too short to fine-tune on: it has {given} characters, and at least {needed} are \
                 needed for a {context}-character context window (one window to measure held-out loss on, \
                 three to train on)."
            ),
            DataError::Empty => {
                write!(f, "This text is empty: there is nothing but spaces and line breaks to fine-tune on.")
            }
            DataError::Binary => write!(
                f,
                "This does not look like text: more than a tenth of it is control characters or undecodable \
                 bytes, as in a binary file. Save it as plain text (UTF-8) and try again."
            ),
        }
    }
}

impl fmt::Debug for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for DataError {}

/// A user's text, ready to train on.
#[derive(Debug, Clone)]
pub struct UserText {
    pub train: String,
    pub heldout: String,
    /// Characters kept, after normalisation and the length cap; one token each.
    pub chars: usize,
    /// The length before the cap, if the cap cut the text.
    pub truncated_from: Option<usize>,
    /// Characters the tokenizer reads as its unknown token (emoji, accents, other scripts).
    pub unknown_chars: usize,
}

impl UserText {
    pub fn unknown_fraction(&self) -> f32 {
        self.unknown_chars as f32 / self.chars.max(1) as f32
    }

    /// Sentences for the reader about what happened to their text; empty when nothing did.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(from) = self.truncated_from {
            notes.push(format!("Only the first {} characters of your text are used; it had {from}.", self.chars));
        }
        if self.unknown_chars > 0 {
            notes.push(format!(
                "{:.1}% of the characters ({}) are outside the model's alphabet (printable ASCII and line \
                 breaks), such as emoji or accented letters; the model sees each of them as one unknown token.",
                100.0 * self.unknown_fraction(),
                self.unknown_chars
            ));
        }
        notes
    }
}

/// Whether `text` is a binary file decoded as text rather than text: more than a tenth of its
/// characters are undecodable bytes (U+FFFD) or control characters other than a line break or a
/// tab (a NUL and a form feed count). The one rule for a run and for the page's file picker.
pub fn looks_binary(text: &str) -> bool {
    let total = text.chars().count();
    let odd = text.chars().filter(|&c| c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\n' | '\t' | '\r')));
    odd.count() * 10 > total
}

/// See the module comment for why: one held-out window + 1, three training windows + 1.
pub fn min_chars(context: usize) -> usize {
    4 * context + 2
}

/// Normalise, check, cap at `max_chars` (raised to `min_chars(context)` if below it) and split.
pub fn prepare_user_text(raw: &str, context: usize, max_chars: usize) -> Result<UserText, DataError> {
    if looks_binary(raw) {
        return Err(DataError::Binary);
    }
    let mut chars: Vec<char> = normalise(raw).chars().collect();
    if chars.iter().all(|c| c.is_whitespace()) {
        return Err(DataError::Empty);
    }
    let needed = min_chars(context);
    if chars.len() < needed {
        return Err(DataError::TooShort { needed, given: chars.len(), context });
    }
    let cap = max_chars.max(needed);
    let truncated_from = (chars.len() > cap).then_some(chars.len());
    chars.truncate(cap);
    let at = split_point(&chars, context);
    Ok(UserText {
        train: chars[..at].iter().collect(),
        heldout: chars[at..].iter().collect(),
        chars: chars.len(),
        truncated_from,
        unknown_chars: chars.iter().filter(|&&c| !is_known(c)).count(),
    })
}

/// Where the held-out part starts: about the last 10%, at least one window + 1, moved to the
/// start of a line when one lies near, so no line is cut in two.
fn split_point(chars: &[char], context: usize) -> usize {
    let n = chars.len();
    let heldout = (n / 10).max(context + 1);
    let (lo, hi) = (3 * context + 1, n - (context + 1)); // train and held-out minimums
    let ideal = n - heldout;
    let slack = heldout / 2;
    let starts_line = |i: usize| i > 0 && chars[i - 1] == '\n';
    (0..=slack)
        .flat_map(|d| [ideal.checked_sub(d), Some(ideal + d)])
        .flatten()
        .find(|&i| (lo..=hi).contains(&i) && starts_line(i))
        .unwrap_or(ideal)
}

/// What the tokenizer would read, as text: CRLF and lone CR become LF, typographic characters
/// become their ASCII look-alikes (`tokenizer::fold`, plus the ellipsis as
/// three dots and invisible marks dropped), and runs of three or more blank lines become one
/// (a page break teaches nothing but newlines). Leading blank lines and the spaces at the end of
/// each line go too.
pub fn normalise(raw: &str) -> String {
    let mut folded = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => folded.push('\n'),
            '\u{2026}' => folded.push_str("..."),
            '\u{FEFF}' | '\u{200B}' | '\u{00AD}' => {} // byte-order mark, zero-width space, soft hyphen
            c => folded.push(fold(c)),
        }
    }
    let mut lines: Vec<&str> = Vec::new();
    let mut blanks = 0;
    for line in folded.split('\n') {
        if line.trim().is_empty() {
            blanks += 1;
            continue;
        }
        let keep = if lines.is_empty() {
            0
        } else if blanks >= 3 {
            1
        } else {
            blanks
        };
        lines.extend(std::iter::repeat_n("", keep));
        lines.push(line.trim_end());
        blanks = 0;
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(n: usize) -> String {
        (0..n).map(|i| format!("line number {i} of a plain text\n")).collect()
    }

    #[test]
    fn too_short_says_how_many_are_needed_and_given() {
        let err = prepare_user_text(&"a".repeat(120), 128, 100_000).unwrap_err();
        assert!(matches!(err, DataError::TooShort { needed: 514, given: 120, context: 128 }));
        let message = err.to_string();
        assert!(
            message.contains("120 characters") && message.contains("at least 514") && message.contains("128-character")
        );
        assert!(prepare_user_text(&"a".repeat(514), 128, 100_000).is_ok());
        assert!(prepare_user_text(&"a".repeat(513), 128, 100_000).is_err());
    }

    #[test]
    fn binary_is_a_tenth_of_undecodable_or_control_characters() {
        let text = "plain words\n".repeat(10); // 120 characters
        assert!(!looks_binary(&text));
        // 12 odd characters of 132 is under a tenth; 14 of 134 is over.
        assert!(!looks_binary(&format!("{text}{}", "\0\u{c}\u{FFFD}\u{1}".repeat(3))));
        assert!(looks_binary(&format!("{text}{}", "\0\u{c}\u{FFFD}\u{1}\0\u{c}\u{FFFD}".repeat(2))));
        // Tabs and line breaks are text.
        assert!(!looks_binary(&"\t\r\n".repeat(50)));
    }

    #[test]
    fn empty_and_binary_are_refused() {
        assert!(matches!(prepare_user_text("", 16, 1000), Err(DataError::Empty)));
        assert!(matches!(prepare_user_text(" \n\t\r\n \u{00A0}", 16, 1000), Err(DataError::Empty)));
        let binary = format!("{}{}", "\0\u{1}\u{2}".repeat(100), "text".repeat(100));
        let err = prepare_user_text(&binary, 16, 1000).unwrap_err();
        assert!(matches!(err, DataError::Binary) && err.to_string().contains("binary"));
        // A few stray control characters in real text are fine.
        assert!(prepare_user_text(&format!("{}\u{7}", lines(20)), 16, 10_000).is_ok());
    }

    #[test]
    fn normalises_quotes_dashes_line_ends_and_blank_runs() {
        let raw = "\u{FEFF}\u{201C}Hi,\u{201D} she said\u{2014}it\u{2019}s late\u{2026}\r\n\tnext\r\n\r\n\r\n\r\n\r\nend\rlast  \n\n";
        assert_eq!(normalise(raw), "\"Hi,\" she said-it's late...\n next\n\nend\nlast");
        assert_eq!(normalise("a\n\nb\n\n\nc"), "a\n\nb\n\n\nc"); // one or two blank lines stay
    }

    #[test]
    fn counts_characters_outside_the_alphabet() {
        let raw = format!("{}caf\u{e9} \u{1F600}\u{1F600}\n", lines(10));
        let user = prepare_user_text(&raw, 16, 10_000).unwrap();
        assert_eq!(user.unknown_chars, 3);
        assert!(user.unknown_fraction() > 0.0 && user.notes()[0].contains("(3)"));
        // Curly quotes are folded, so they are not counted as unknown.
        assert_eq!(prepare_user_text(&format!("{}\u{201C}x\u{201D}", lines(10)), 16, 10_000).unwrap().unknown_chars, 0);
    }

    #[test]
    fn reports_truncation() {
        let raw = lines(200);
        let full = raw.trim_end().chars().count();
        let user = prepare_user_text(&raw, 16, 1000).unwrap();
        assert_eq!((user.chars, user.truncated_from), (1000, Some(full)));
        assert_eq!(user.train.len() + user.heldout.len(), 1000);
        assert!(user.notes()[0].contains(&format!("first 1000 characters of your text are used; it had {full}")));
        assert!(prepare_user_text(&raw, 16, 1_000_000).unwrap().truncated_from.is_none());
    }

    #[test]
    fn splits_about_ninety_ten_on_a_line_start() {
        let raw = lines(300);
        let user = prepare_user_text(&raw, 64, 1_000_000).unwrap();
        let share = user.heldout.len() as f32 / user.chars as f32;
        assert!((0.07..0.14).contains(&share), "{share}");
        assert!(user.train.ends_with('\n') && user.heldout.starts_with("line number"));
        assert_eq!(user.train.clone() + &user.heldout, normalise(&raw));
    }

    #[test]
    fn split_respects_minimums_in_the_shortest_text() {
        // One long line: no line start to move to, both parts exactly at their minimums or above.
        let user = prepare_user_text(&"b".repeat(min_chars(32)), 32, 1000).unwrap();
        assert!(user.heldout.len() > 32 && user.train.len() > 3 * 32);
    }
}
