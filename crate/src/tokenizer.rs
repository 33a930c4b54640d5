//! Character-level tokenizer: any UTF-8 in, 97 token ids out, never a panic.
//!
//! A character vocabulary keeps the model tiny (97 rows in the embedding and the head instead of
//! 50,257 for GPT-2's BPE) and lets a reader see exactly what the model predicts: one character.
//!
//! Ids: 0 = unknown (anything outside the vocabulary, e.g. emoji), 1 = '\n', 2..=96 = ' '..='~'.
//! Common typographic characters (curly quotes, dashes, ellipsis, tabs, non-breaking spaces) are
//! folded to their ASCII look-alikes first, so pasted prose loses almost nothing.

/// Number of token ids: unknown + newline + the 95 printable ASCII characters.
pub const VOCAB_SIZE: usize = 97;
pub const UNKNOWN: u32 = 0;
/// Shown when decoding the unknown token (U+FFFD, the replacement character).
pub const UNKNOWN_CHAR: char = '\u{FFFD}';

/// What `encode` replaces before looking a character up: typographic characters become their
/// ASCII look-alikes (tabs and non-breaking spaces, curly quotes, dashes, bullets), '\r' goes so
/// Windows line endings encode like Unix ones, and '…' becomes three dots. The tokenizer exported
/// for Hugging Face (`hf::tokenizer`) is built from this same table.
pub const REPLACEMENTS: [(char, &str); 22] = [
    ('\t', " "),
    ('\u{00A0}', " "),
    ('\u{2007}', " "),
    ('\u{202F}', " "),
    ('\u{2009}', " "),
    ('\u{2018}', "'"),
    ('\u{2019}', "'"),
    ('\u{201B}', "'"),
    ('\u{2032}', "'"),
    ('\u{201C}', "\""),
    ('\u{201D}', "\""),
    ('\u{201F}', "\""),
    ('\u{2033}', "\""),
    ('\u{2010}', "-"),
    ('\u{2011}', "-"),
    ('\u{2012}', "-"),
    ('\u{2013}', "-"),
    ('\u{2014}', "-"),
    ('\u{2212}', "-"),
    ('\u{2022}', "*"),
    ('\u{00B7}', "*"),
    ('\r', ""),
];

/// The ellipsis, which `encode` spells as three dots (the one replacement longer than a
/// character, so `fold` leaves it to its callers).
pub const ELLIPSIS: (char, &str) = ('\u{2026}', "...");

fn replacement(c: char) -> Option<&'static str> {
    REPLACEMENTS.iter().chain([&ELLIPSIS]).find(|(from, _)| *from == c).map(|(_, to)| *to)
}

/// The ASCII look-alike of a typographic character, or the character itself.
pub fn fold(c: char) -> char {
    let mut single = replacement(c).unwrap_or_default().chars();
    match (single.next(), single.next()) {
        (Some(ascii), None) => ascii,
        _ => c,
    }
}

/// Token id of one character (after folding).
pub fn encode_char(c: char) -> u32 {
    match fold(c) {
        '\n' => 1,
        c @ ' '..='~' => c as u32 - ' ' as u32 + 2,
        _ => UNKNOWN,
    }
}

/// Whether a character survives encoding (is not mapped to the unknown token).
pub fn is_known(c: char) -> bool {
    encode_char(c) != UNKNOWN
}

/// Token ids of a text, after `REPLACEMENTS` and `ELLIPSIS`.
pub fn encode(text: &str) -> Vec<u32> {
    let mut ids = Vec::with_capacity(text.len());
    for c in text.chars() {
        match replacement(c) {
            Some(spelled) => ids.extend(spelled.chars().map(encode_char)),
            None => ids.push(encode_char(c)),
        }
    }
    ids
}

/// Encode raw bytes that may not be UTF-8 (a user's file): invalid sequences become the unknown
/// token instead of an error.
pub fn encode_bytes(bytes: &[u8]) -> Vec<u32> {
    encode(&String::from_utf8_lossy(bytes))
}

pub fn decode_id(id: u32) -> char {
    match id {
        1 => '\n',
        2..=96 => char::from(b' ' + (id - 2) as u8),
        _ => UNKNOWN_CHAR,
    }
}

pub fn decode(ids: &[u32]) -> String {
    ids.iter().map(|&id| decode_id(id)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_round_trips() {
        let text = "Hello, world!\n{\"a\": 1} ~ `x` \\ | 0123456789";
        assert_eq!(decode(&encode(text)), text);
    }

    #[test]
    fn every_id_decodes_and_reencodes() {
        for id in 1..VOCAB_SIZE as u32 {
            assert_eq!(encode_char(decode_id(id)), id);
        }
        assert_eq!(decode_id(UNKNOWN), UNKNOWN_CHAR);
        assert_eq!(decode_id(500), UNKNOWN_CHAR);
    }

    #[test]
    fn empty_text_is_no_tokens() {
        assert!(encode("").is_empty());
        assert_eq!(decode(&[]), "");
    }

    #[test]
    fn emoji_and_foreign_scripts_become_unknown() {
        assert_eq!(encode("a🙂b"), vec![encode_char('a'), UNKNOWN, encode_char('b')]);
        assert_eq!(encode("日本"), vec![UNKNOWN, UNKNOWN]);
        assert_eq!(decode(&encode("a🙂")), "a\u{FFFD}");
    }

    #[test]
    fn typography_folds_to_ascii() {
        assert_eq!(decode(&encode("\u{201C}it\u{2019}s\u{201D} \u{2014} ok\u{2026}\r\n\t")), "\"it's\" - ok...\n ");
    }

    #[test]
    fn invalid_utf8_bytes_become_unknown() {
        let bytes = [b'o', b'k', 0xFF, 0xFE, b'!', 0xC3];
        let ids = encode_bytes(&bytes);
        assert_eq!(decode(&ids), "ok\u{FFFD}\u{FFFD}!\u{FFFD}");
    }

    #[test]
    fn ids_stay_inside_the_vocabulary() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(encode(&all).iter().all(|&id| (id as usize) < VOCAB_SIZE));
    }
}
