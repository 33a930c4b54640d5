#!/usr/bin/env bash
# Build the WebAssembly modules the page loads: www/pkg/finetune_lab.js + finetune_lab_bg.wasm
# (WebGPU and the CPU path), and the same in www/pkg-cpu (the CPU path alone, a smaller download).
#
# Idempotent: installs what it needs (the wasm32 target, wasm-bindgen-cli at the exact version
# of the wasm-bindgen crate in Cargo.lock, npm's binaryen for wasm-opt), lets cargo skip an
# unchanged crate, and skips wasm-bindgen + wasm-opt when cargo's output has not changed.
#
# Env:
#   CARGO_TARGET_DIR   default $HOME/.cache/finetune-lab/target (outside the clone, shared with CI)
#   SKIP_WASM_OPT=1    skip wasm-opt (~minutes on 2 cores) for a fast dev build: a bigger module
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/usage.mjs" "$0" ;; esac
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/finetune-lab/target}"
out=www/pkg
say() { printf '\n== %s\n' "$*" >&2; }

# 1. The Rust target.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli must equal the crate's version exactly, or its output will not load.
want=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
[ -n "$want" ] || { echo "no wasm-bindgen in Cargo.lock" >&2; exit 1; }
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (have: ${have:-none})"
  # No --locked: the registry mirror here lacks a crate version the CLI's own lock names.
  cargo install wasm-bindgen-cli --version "$want"
fi

# 3. wasm-opt from npm's binaryen: Debian's is too old for rustc's wasm features.
wasm_opt=node_modules/.bin/wasm-opt
if [ "${SKIP_WASM_OPT:-0}" != 1 ] && [ ! -x "$wasm_opt" ]; then
  say "installing npm dependencies (binaryen for wasm-opt)"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi

# 4-7, once per package: the full module (WebGPU and the CPU path) in www/pkg, and the CPU-only
# module (no GPU backend or kernel compiler: about a third of the download, built for speed) in www/pkg-cpu,
# which a browser without WebGPU fetches instead (www/lib/wasm.js).
opt_flags=(-Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd)
if [ "${SKIP_WASM_OPT:-0}" = 1 ]; then opt_desc=none; else opt_desc="${opt_flags[*]}"; fi
size() { stat -c %s "$1"; }
gz() { gzip -9 -c "$1" | wc -c; }

package() { # FEATURES OUT PROFILE
  local features=$1 out=$2 profile=$3
  local raw="$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/finetune_lab.wasm"
  # 4. The crate (cargo does nothing when nothing changed).
  say "cargo build (profile $profile${features:+, features $features}) into $CARGO_TARGET_DIR"
  cargo build -p finetune-lab --lib --target wasm32-unknown-unknown --profile "$profile" ${features:+--features "$features"}

  # 5. Bindings and size optimisation, skipped when cargo's output and the settings are unchanged.
  local stamp
  stamp=$( { sha256sum "$raw" | cut -d' ' -f1; echo "bindgen $want"; echo "opt $opt_desc"; } | sha256sum | cut -d' ' -f1)
  if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ] && [ -f "$out/finetune_lab_bg.wasm" ]; then
    say "$out is up to date"
  else
    say "wasm-bindgen --target web into $out"
    rm -rf "$out"
    wasm-bindgen --target web --out-dir "$out" --out-name finetune_lab "$raw"
    if [ "$opt_desc" != none ]; then
      # wasm-opt takes minutes: cache its output by the hash of its input and flags.
      local cache="$CARGO_TARGET_DIR/../wasm-opt-cache" key
      mkdir -p "$cache"
      key=$( { sha256sum "$out/finetune_lab_bg.wasm" | cut -d' ' -f1; echo "$opt_desc"; } | sha256sum | cut -d' ' -f1)
      if [ -f "$cache/$key.wasm" ]; then
        say "wasm-opt: cached"
      else
        say "wasm-opt ${opt_flags[*]} (slow: minutes)"
        "$wasm_opt" "${opt_flags[@]}" "$out/finetune_lab_bg.wasm" -o "$cache/$key.wasm.tmp"
        mv "$cache/$key.wasm.tmp" "$cache/$key.wasm"
      fi
      cp "$cache/$key.wasm" "$out/finetune_lab_bg.wasm"
      touch "$cache/$key.wasm"
      # Keep the six most recent (both packages, a few builds back; ~10 MB and ~2 MB each).
      ls -t "$cache"/*.wasm | tail -n +7 | xargs -r rm --
    fi
    echo "$stamp" > "$out/.stamp"
  fi

  # 6. What a reader downloads.
  printf '\n%-28s %12s %12s\n' file bytes gzipped
  printf '%-28s %12s %12s\n' "cargo output" "$(size "$raw")" "$(gz "$raw")"
  for f in "$out/finetune_lab_bg.wasm" "$out/finetune_lab.js"; do
    printf '%-28s %12s %12s\n' "${f#www/}" "$(size "$f")" "$(gz "$f")"
  done
  if [ "$opt_desc" = none ]; then
    echo "(wasm-opt skipped: SKIP_WASM_OPT=1; no precompressed copies)"
    rm -f "$out"/*.br "$out"/*.gz
  else
    # 7. Precompressed copies for hosts that serve them (the server here does too).
    say "precompressed copies (.gz, .br)"
    node scripts/precompress.mjs "$out/finetune_lab_bg.wasm"
  fi
}

# The full module is built for size (profile wasm); the CPU-only one for speed (wasm-cpu: it is
# what trains on a reader's CPU; Cargo.toml has the figures).
package wgpu www/pkg wasm
package "" www/pkg-cpu wasm-cpu
[ "$opt_desc" = none ] || node scripts/precompress.mjs www/base/tiny.ftlab
true
