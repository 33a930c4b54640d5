#!/usr/bin/env bash
# A smoke run of every benchmark with a few steps of the micro model (~1-3 minutes), for CI.
# Checks that each reference computes OUR loss curve (same base, text and batches: the losses
# must agree to 1e-3 over the steps), then that the browser comparison and the bundle report run.
# Ours is the point, so a missing binary fails the run; parts whose other prerequisites are
# missing are skipped with a message: PyTorch (the ~5 GB venv from bench/native.sh), the GPU
# backend (a build without `--features wgpu`), www/pkg (scripts/build-wasm.sh), Chromium.
# Environment: FINETUNE_LAB_BIN (our CLI, as scripts/test.sh names it; default the shared
# debug build), VENV.
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/../scripts/usage.mjs" "$0" ;; esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="${FINETUNE_LAB_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/finetune-lab/target}/debug/finetune-lab}"
VENV="${VENV:-$HOME/.cache/finetune-lab/bench-venv}"
OUT="$ROOT/bench/results/smoke"
TEXT="$ROOT/bench/data/records.txt"
STEPS=4
mkdir -p "$OUT"
skipped=()
[ -x "$BIN" ] || { echo "bench smoke: no $BIN: build ours first (cargo build -p finetune-lab), or set FINETUNE_LAB_BIN" >&2; exit 1; }

if [ ! -d bench/tfjs/node_modules/@tensorflow/tfjs ]; then
  (cd bench/tfjs && npm ci --no-audit --no-fund --loglevel=error)
fi

# A fresh micro base in our format, so the smoke run needs neither the shipped base nor torch.
node --input-type=module -e "
  import { writeFileSync } from 'node:fs';
  import { freshCheckpoint, SHAPES } from './bench/tfjs/data.js';
  writeFileSync('$OUT/micro.ftlab', freshCheckpoint(SHAPES.micro));"
COMMON=(--batch 4 --context 32)

for mode in full adapter; do
  # Progress goes to a file, shown if the run fails.
  "$BIN" finetune --mode $mode --text-file "$TEXT" --base "$OUT/micro.ftlab" --steps $STEPS "${COMMON[@]}" --json \
    > "$OUT/ours-$mode.json" 2> "$OUT/ours-$mode.err" || { cat "$OUT/ours-$mode.err" >&2; exit 1; }
  # The references take our run's optimizer settings from its report, so all take the same steps.
  OPTIMIZER="$(node -p "JSON.stringify(require('$OUT/ours-$mode.json').optimizer)")"
  node bench/tfjs/node.mjs --base "$OUT/micro.ftlab" --mode $mode --optimizer "$OPTIMIZER" "${COMMON[@]}" \
    --steps $((STEPS - 1)) --warmup 1 --json > "$OUT/tfjs-$mode.json"
  # Ours on burn's wgpu backend with our WGSL kernels (lavapipe where there is no GPU), in a
  # `--features wgpu` build.
  if "$BIN" finetune --device wgpu --mode $mode --text-file "$TEXT" --base "$OUT/micro.ftlab" --steps $STEPS \
    "${COMMON[@]}" --json > "$OUT/ours-wgpu-$mode.json" 2> "$OUT/ours-wgpu-$mode.err"; then
    :
  elif grep -q 'features wgpu' "$OUT/ours-wgpu-$mode.err"; then
    rm -f "$OUT/ours-wgpu-$mode.json"
    skipped+=("ours on wgpu $mode: a CPU-only build (cargo build --features wgpu)")
  else
    cat "$OUT/ours-wgpu-$mode.err" >&2
    exit 1
  fi
  if "$VENV/bin/python" -c "import torch" 2> /dev/null; then
    "$VENV/bin/python" bench/pytorch/bench.py --base "$OUT/micro.ftlab" --mode $mode --optimizer "$OPTIMIZER" "${COMMON[@]}" \
      --steps $((STEPS - 1)) --warmup 1 --threads 1 --json > "$OUT/pytorch-$mode.json"
  else
    skipped+=("PyTorch $mode: no torch in $VENV (bench/native.sh sets it up, ~5 GB)")
  fi
done

# Every curve against TF.js's: same maths, same batches, so the losses agree to float rounding.
node --input-type=module -e "
  import { existsSync, readFileSync } from 'node:fs';
  let failed = 0;
  for (const mode of ['full', 'adapter']) {
    const ref = JSON.parse(readFileSync('$OUT/tfjs-' + mode + '.json')).losses;
    for (const other of ['ours', 'ours-wgpu', 'pytorch']) {
      const file = '$OUT/' + other + '-' + mode + '.json';
      if (!existsSync(file)) {
        if (other === 'ours') console.log('FAIL ' + mode + ' ours: no ' + file);
        failed += other === 'ours';
        continue;
      }
      const losses = JSON.parse(readFileSync(file)).losses;
      const diff = Math.max(...ref.map((v, i) => Math.abs(v - losses[i])));
      const ok = losses.length === ref.length && diff < 1e-3 && losses.at(-1) < losses[0];
      console.log((ok ? 'ok  ' : 'FAIL') + ' ' + mode + ' ' + other + ' vs tfjs: ' + losses.map((v) => v.toFixed(4)).join(' ') + ' (max diff ' + diff.toExponential(1) + ')');
      failed += !ok;
    }
  }
  process.exit(failed ? 1 : 0);"

if [ ! -f www/pkg/finetune_lab_bg.wasm ]; then
  skipped+=("browser: no www/pkg (scripts/build-wasm.sh); TF.js-only pages untested")
elif ! { [ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ]; }; then
  skipped+=("browser: no Chromium (apt-get install chromium)")
elif [ ! -d node_modules/playwright-core ]; then
  skipped+=("browser: no playwright-core (npm ci in the repository root)")
else
  node bench/browser.mjs --base bench/results/smoke/micro.ftlab --out "$OUT/browser.json" \
    --steps 2 --warmup 1 --batch 4 --context 32 --gpu-steps 1 --gpu-warmup 1 --gpu-batch 2 --gpu-context 16 --timeout-s 120
  node --input-type=module -e "
    import { readFileSync } from 'node:fs';
    const { results } = JSON.parse(readFileSync('$OUT/browser.json'));
    const bad = results.flatMap((r) => [r.ours, r.tfjs].filter((x) => x.error).map((x) => r.path + ' ' + r.mode + ' ' + x.impl + ': ' + x.error));
    if (bad.length) { console.error('browser runs failed:\n  ' + bad.join('\n  ')); process.exit(1); }"
fi

node bench/bundle.mjs > /dev/null
for s in "${skipped[@]}"; do echo "SKIPPED: $s"; done
echo "bench smoke: done"
