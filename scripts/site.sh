#!/usr/bin/env bash
# README command one: build the WebAssembly module, then serve www/ on http://127.0.0.1:8080/
# (port: first argument or PORT). SKIP_WASM_OPT=1 for a faster, bigger dev build.
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/usage.mjs" "$0" ;; esac
cd "$(dirname "$0")/.."
scripts/build-wasm.sh
exec node scripts/serve.mjs "$@"
