//! Our operations (a WGSL kernel on the GPU, Rust on the CPU) against burn's own ops: every
//! case of `ops::check` on every device of the build (the CPU, and wgpu in a `--features wgpu`
//! build, on lavapipe where there is no GPU).

mod common;

use common::*;
use finetune_lab::ops::check;
use finetune_lab::readback::block_on;

#[test]
fn every_operation_matches_burns_on_every_device() {
    for (name, device) in devices() {
        let checks = block_on(check::all(&device)).unwrap_or_else(|e| panic!("{name}: {e}"));
        for c in &checks {
            eprintln!(
                "{name}: {} — values {:.1e}, gradients {:.1e} (≤ {:.0e})",
                c.name, c.values, c.gradients, c.tolerance
            );
        }
        let failed: Vec<_> = checks.iter().filter(|c| !c.passed()).collect();
        assert!(failed.is_empty(), "{name}: {failed:#?}");
        // Every operation of ours (a folder of src/ops/) has a case, named after it.
        for op in operations() {
            assert!(checks.iter().any(|c| c.name.starts_with(&format!("{op} "))), "{name}: no case for ops/{op}/");
        }
    }
}

/// The operations of ours: the folders of `crate/src/ops/`.
fn operations() -> Vec<String> {
    let ops = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ops");
    let folders: Vec<String> = std::fs::read_dir(ops)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(folders.len() >= 7, "{folders:?}");
    folders
}
