//! A training text and a held-out text with a name, from any of the three sources: the
//! pretraining corpus, a built-in task, or the user's own text.

use super::corpus::general_corpus;
use super::tasks::{Split, task, task_text};
use super::text::{DataError, prepare_user_text};

/// Task sizes: 50k characters is ~300 steps of batch 16 x 128 seeing each character about 12
/// times, enough to learn a format without memorising it; 6k held out is over 40 windows of 128.
pub const TASK_TRAIN_CHARS: usize = 50_000;
pub const TASK_HELDOUT_CHARS: usize = 6_000;
/// Longer user texts are cut, in the page (its text box and file reader ask the crate for this)
/// and in the CLI: a default run sees a few thousand characters and a long CLI run (300 steps of
/// 16 × 128) about 600,000 with repeats, so 200,000 is plenty for a model this size, and more only
/// slows the tokenizer and the text box down.
pub const USER_TEXT_MAX_CHARS: usize = 200_000;

#[derive(Debug, Clone)]
pub struct Dataset {
    /// The task's name, "corpus" or "your text".
    pub name: String,
    pub train: String,
    pub heldout: String,
    /// What the reader should know about how their text was prepared; empty for generated text.
    pub notes: Vec<String>,
    /// A start to sample from that shows whether the model learnt the data.
    pub prompt: String,
}

impl Dataset {
    /// The built-in task this is, if it is one (what an adapter file records).
    pub fn task(&self) -> Option<&str> {
        task(&self.name).map(|t| t.name)
    }

    /// A built-in task (`None` for an unknown name). Both parts grow with a large context window
    /// so that each holds several windows.
    pub fn for_task(name: &str, seed: u64, context: usize) -> Option<Dataset> {
        let task = task(name)?;
        let train_chars = TASK_TRAIN_CHARS.max(20 * (context + 1));
        let heldout_chars = TASK_HELDOUT_CHARS.max(4 * (context + 1));
        Some(Dataset {
            name: task.name.to_string(),
            train: task_text(name, seed, train_chars, Split::Train)?,
            heldout: task_text(name, seed, heldout_chars, Split::Heldout)?,
            notes: Vec::new(),
            prompt: task.prompt.to_string(),
        })
    }

    /// The user's text, normalised and split 90/10; see `text.rs` for the rules and errors.
    pub fn from_user_text(raw: &str, context: usize) -> Result<Dataset, DataError> {
        let user = prepare_user_text(raw, context, USER_TEXT_MAX_CHARS)?;
        let notes = user.notes();
        let prompt = opening(&user.train);
        Ok(Dataset { name: "your text".to_string(), train: user.train, heldout: user.heldout, notes, prompt })
    }

    /// A file's bytes as text (`decode_user_bytes`), then as `from_user_text`.
    pub fn from_user_bytes(bytes: &[u8], context: usize) -> Result<Dataset, DataError> {
        Self::from_user_text(&decode_user_bytes(bytes), context)
    }

    /// The pretraining corpus: `n_chars` of training text, and a held-out text of 5% of that
    /// (8k to 64k characters) from another seed, so it is fresh prose from the same grammar.
    pub fn pretraining(seed: u64, n_chars: usize) -> Dataset {
        let heldout_chars = (n_chars / 20).clamp(8_192, 65_536);
        Dataset {
            name: "corpus".to_string(),
            train: general_corpus(seed, n_chars),
            heldout: general_corpus(seed ^ 0x4E1D_C0A9_0000_0001, heldout_chars),
            notes: Vec::new(),
            prompt: "Mira".to_string(),
        }
    }
}

/// The first words of a text (up to 40 characters, ending at a space when there is one).
fn opening(text: &str) -> String {
    let head: String = text.chars().take(40).collect();
    if head.chars().count() < 40 {
        return head;
    }
    match head.rfind([' ', '\n']) {
        Some(end) if end > 0 => head[..=end].to_string(),
        _ => head,
    }
}

/// A file's bytes: UTF-8 (with or without a byte-order mark) or UTF-16 with a byte-order mark,
/// as editors on Windows save it. Anything else is decoded as UTF-8 with invalid sequences
/// replaced, which `prepare_user_text` counts toward `DataError::Binary`.
pub fn decode_user_bytes(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], unit: fn([u8; 2]) -> u16| {
        let units = rest.chunks_exact(2).map(|p| unit([p[0], p[1]]));
        char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')).collect::<String>()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_datasets_have_the_documented_sizes() {
        let data = Dataset::for_task("qa", 1, 128).unwrap();
        assert!((TASK_TRAIN_CHARS..TASK_TRAIN_CHARS + 500).contains(&data.train.len()));
        assert!((TASK_HELDOUT_CHARS..TASK_HELDOUT_CHARS + 500).contains(&data.heldout.len()));
        assert_eq!((data.name.as_str(), data.prompt.as_str()), ("qa", task("qa").unwrap().prompt));
        assert!(Dataset::for_task("qa", 1, 4096).unwrap().heldout.len() > 4 * 4096);
        assert!(Dataset::for_task("nope", 1, 128).is_none());
    }

    #[test]
    fn pretraining_sizes_and_seeds() {
        let data = Dataset::pretraining(1, 100_000);
        assert_eq!((data.train.len(), data.heldout.len()), (100_000, 8_192));
        assert_ne!(data.train[..8_192], data.heldout);
        assert_eq!(Dataset::pretraining(1, 100_000).train, data.train);
    }

    #[test]
    fn user_text_gets_notes_and_a_prompt() {
        let raw = "The lamp was lit \u{1F600} and the road was long.\n".repeat(40);
        let data = Dataset::from_user_text(&raw, 64).unwrap();
        assert_eq!(data.name, "your text");
        assert_eq!(data.prompt, "The lamp was lit \u{1F600} and the road was ");
        assert_eq!(data.notes.len(), 1);
        let err = Dataset::from_user_text("too short", 64).unwrap_err();
        assert!(err.to_string().contains("it has 9 characters, and at least 258 are needed"));
    }

    #[test]
    fn bytes_in_utf16_and_binary() {
        let text = "plain words on a line\n".repeat(30);
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(
            Dataset::from_user_bytes(&utf16, 32).unwrap().train,
            Dataset::from_user_text(&text, 32).unwrap().train
        );
        let mut bom8 = vec![0xEF, 0xBB, 0xBF];
        bom8.extend(text.bytes());
        assert!(Dataset::from_user_bytes(&bom8, 32).unwrap().train.starts_with("plain"));
        let binary: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 256) as u8).collect();
        assert!(matches!(Dataset::from_user_bytes(&binary, 32), Err(DataError::Binary)));
    }
}
