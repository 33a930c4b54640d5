//! Our character tokenizer as a Hugging Face `tokenizers` file, so `AutoTokenizer` gives our ids:
//! the replacements `tokenizer::encode` makes as a normalizer, every character its own piece, a
//! word-level vocabulary of our 97 characters, and pieces joined back with nothing between.

use serde_json::{Map, Value, json};

use super::{ExportFile, json_file};
use crate::shape::ModelShape;
use crate::tokenizer::{self, ELLIPSIS, REPLACEMENTS, UNKNOWN_CHAR};

pub fn tokenizer_files(shape: &ModelShape) -> Vec<ExportFile> {
    vec![
        json_file("tokenizer.json", &tokenizer_json(shape.vocab)),
        json_file("tokenizer_config.json", &tokenizer_config(shape)),
    ]
}

fn tokenizer_json(vocab_size: usize) -> Value {
    // Id 0 stands for any character outside the vocabulary; it decodes as U+FFFD as ours does.
    let vocab: Map<String, Value> =
        (0..vocab_size as u32).map(|id| (tokenizer::decode_id(id).to_string(), id.into())).collect();
    let normalizers: Vec<Value> = REPLACEMENTS
        .iter()
        .chain([&ELLIPSIS])
        .map(|(from, to)| json!({"type": "Replace", "pattern": {"String": from.to_string()}, "content": to}))
        .collect();
    json!({
        "version": "1.0",
        "truncation": null,
        "padding": null,
        "added_tokens": [],
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated", "invert": false},
        "post_processor": null,
        "decoder": {"type": "Fuse"},
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": UNKNOWN_CHAR.to_string()},
    })
}

fn tokenizer_config(shape: &ModelShape) -> Value {
    json!({
        "tokenizer_class": "PreTrainedTokenizerFast",
        "unk_token": UNKNOWN_CHAR.to_string(),
        "model_max_length": shape.context,
        "clean_up_tokenization_spaces": false,
    })
}
