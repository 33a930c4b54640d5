//! Text to learn from: a generated corpus to pretrain the base model on, built-in fine-tuning
//! tasks in formats that corpus never shows, and the user's own text; each as a `Dataset` with a
//! training part and a held-out part.
//!
//! Everything here is our own words and grammar, generated from a seed, and deterministic on
//! every platform. Pure std (plus the tokenizer's character folding): no burn types.

mod corpus;
mod dataset;
mod tasks;
mod text;
mod words;

pub use corpus::general_corpus;
pub use dataset::{Dataset, TASK_HELDOUT_CHARS, TASK_TRAIN_CHARS, USER_TEXT_MAX_CHARS, decode_user_bytes};
pub use tasks::{FormatVerdict, Split, TASKS, Task, default_task, task, task_text};
pub use text::{DataError, UserText, looks_binary, min_chars, normalise, prepare_user_text};
