//! The base model the site ships (www/base/tiny.ftlab) loads, matches its sidecar's checksum
//! and shape, and is a trained model rather than a random one.

mod common;

use common::*;
use finetune_lab::checkpoint::{Checkpoint, sha256_hex};
use finetune_lab::readback::{block_on, read_scalar};
use finetune_lab::run::{corpus_loss, load_base};
use finetune_lab::shape::ModelShape;

fn read(name: &str) -> Vec<u8> {
    let path = format!("{}/../www/base/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run `finetune-lab pretrain`)"))
}

#[test]
fn the_shipped_base_loads_and_its_checksum_matches() {
    let bytes = read("tiny.ftlab");
    let sidecar: serde_json::Value = serde_json::from_slice(&read("tiny.json")).unwrap();
    assert_eq!(sidecar["sha256"].as_str().unwrap(), sha256_hex(&bytes));
    assert_eq!(sidecar["bytes"].as_u64().unwrap(), bytes.len() as u64);

    let base = Checkpoint::parse(&bytes).unwrap();
    assert_eq!(base.header.shape, ModelShape::tiny());
    assert_eq!(base.header.kind, finetune_lab::checkpoint::Kind::Full);
    assert_eq!(serde_json::to_value(base.header.dtype).unwrap(), sidecar["dtype"], "stored as the sidecar says");
    let model = load_base(&base, &cpu()).unwrap();

    // Pretrained on our corpus: far below the uniform guess's ln(97) = 4.57 on fresh corpus text.
    let loss = block_on(read_scalar(corpus_loss(&model, 128))).unwrap();
    assert!(loss < 2.0, "held-out corpus loss {loss}");
}
