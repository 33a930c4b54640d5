#!/usr/bin/env bash
# README command two: every test. `.ci/run` calls this.
#
# Env: CARGO_TARGET_DIR (default $HOME/.cache/finetune-lab/target, shared with the build),
#      FINETUNE_LAB_BIN (the native CLI the scale test compares with; default
#      $CARGO_TARGET_DIR/debug/finetune-lab).
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/usage.mjs" "$0" ;; esac
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/finetune-lab/target}"
say() { printf '\n== %s\n' "$*" >&2; }

# --- Rust: unit and integration tests (dev profile, optimised dependencies) ---
# With the GPU backend: our WGSL kernels run natively on burn's wgpu backend too, on Mesa's
# lavapipe (Vulkan on the CPU) where the machine has no GPU.
if ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json > /dev/null 2>&1; then
  say "installing Mesa's Vulkan drivers (lavapipe: Vulkan on the CPU, for the wgpu tests)"
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y mesa-vulkan-drivers
fi
say "cargo test (native: CPU backend, and wgpu on Vulkan)"
cargo test -p finetune-lab --features wgpu --no-fail-fast

# --- Browser: the <finetune-lab> element in headless Chromium, and Firefox ESR for a second engine ---
if [ ! -x /usr/bin/chromium ]; then
  say "installing chromium"
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi
if [ ! -x /usr/bin/firefox-esr ]; then
  say "installing firefox-esr (tests/e2e/firefox.test.mjs)"
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y firefox-esr
fi
# npm ci only when node_modules does not match the lock (it deletes node_modules first).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund
fi
# The npm package (building the wasm modules first): the browser suite serves www/, the very
# files the package holds, and installs the tarball into real site generators' builds.
FINETUNE_LAB_TARBALL=$(scripts/package.sh | tail -n 1)
export FINETUNE_LAB_TARBALL
# The scale panel is checked against the native CLI's `scale --json`.
if [ -z "${FINETUNE_LAB_BIN:-}" ]; then
  say "building the native CLI"
  cargo build -p finetune-lab --features wgpu --bin finetune-lab
fi
say "Hugging Face check (tests/peft/check.py: transformers and PEFT load our exports; our imports give PEFT's logits)"
python=$(scripts/peft-env.sh | tail -n 1)
"$python" tests/peft/check.py --cli "${FINETUNE_LAB_BIN:-$CARGO_TARGET_DIR/debug/finetune-lab}"
say "benchmark smoke run (bench/smoke.sh: a few micro-model steps of ours, PyTorch, TF.js)"
# PyTorch from the PEFT check's environment, which has it.
VENV="${python%/bin/python}" bench/smoke.sh
say "browser tests (node --test tests/e2e/)"
node --test --test-concurrency=1 tests/e2e/
echo "screenshots of each state: $PWD/tests/screenshots/"
