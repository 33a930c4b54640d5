#!/usr/bin/env bash
# Ours (the native CLI: burn 0.22.1, flex CPU backend) vs PyTorch eager on the CPU, full and
# adapter fine-tuning, from the same base on the same text with the very same batches.
#
#   bench/native.sh [STEPS]          # default 50 timed steps (+ WARMUP untimed for PyTorch)
#
# Environment: BIN (our binary; default the shared debug build, whose dependencies are built at
# opt-level 3), BASE (default www/base/tiny.ftlab), THREADS (PyTorch thread counts, default
# "1 2"), BATCH (16), CONTEXT (128), WARMUP (5), VENV, OUT (bench/results/native).
#
# Threads: our build enables burn-flex's `rayon` feature, but at these sizes its kernels keep about
# one core busy (the table prints how many); PyTorch is timed with 1 thread (the equal footing)
# and 2 (this machine's cores).
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/../scripts/usage.mjs" "$0" ;; esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STEPS="${1:-50}"
WARMUP="${WARMUP:-5}"
BATCH="${BATCH:-16}"
CONTEXT="${CONTEXT:-128}"
THREADS="${THREADS:-1 2}"
TEXT="$ROOT/bench/data/records.txt"
BASE="${BASE:-$ROOT/www/base/tiny.ftlab}"
BIN="${BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/finetune-lab/target}/debug/finetune-lab}"
VENV="${VENV:-$HOME/.cache/finetune-lab/bench-venv}"
OUT="${OUT:-$ROOT/bench/results/native}"

# PyTorch from PyPI: the only wheel PyPI has for Linux x86_64 is the CUDA build (torch ~540 MB
# plus ~4.5 GB of nvidia-* and triton packages; 5.4 GB venv with torch 2.15.0). It runs on the
# CPU all the same. The CPU-only wheels live on PyTorch's own index, which is not reachable here.
if ! "$VENV/bin/python" -c "import torch, numpy" 2>/dev/null; then
  echo "setting up $VENV (PyTorch from PyPI, ~5 GB) ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet torch numpy
fi
[ -x "$BIN" ] || { echo "no $BIN: build ours first (cargo build -p finetune-lab)" >&2; exit 1; }
[ -f "$BASE" ] || { echo "no base model at $BASE (finetune-lab pretrain makes it)" >&2; exit 1; }
mkdir -p "$OUT"

for mode in full adapter; do
  echo "ours $mode: $((WARMUP + STEPS)) steps, batch $BATCH x $CONTEXT ..." >&2
  TIMEFORMAT="%R %U %S"  # wall, user, sys: how many cores ours kept busy
  { time "$BIN" finetune --mode "$mode" --text-file "$TEXT" --base "$BASE" --steps $((WARMUP + STEPS)) \
      --batch "$BATCH" --context "$CONTEXT" --json > "$OUT/ours-$mode.json" 2> "$OUT/ours-$mode.log"; } 2> "$OUT/ours-$mode.time"
  OPTIMIZER="$(node -p "JSON.stringify(require('$OUT/ours-$mode.json').optimizer)")" # the references take ours
  for t in $THREADS; do
    echo "pytorch $mode: $WARMUP + $STEPS steps, $t thread(s) ..." >&2
    "$VENV/bin/python" "$ROOT/bench/pytorch/bench.py" --mode "$mode" --optimizer "$OPTIMIZER" --base "$BASE" --text "$TEXT" \
      --steps "$STEPS" --warmup "$WARMUP" --batch "$BATCH" --context "$CONTEXT" --threads "$t" --json > "$OUT/pytorch-$mode-t$t.json"
  done
done
python3 "$ROOT/bench/pytorch/compare.py" "$OUT" | tee "$OUT/table.txt"
