#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: our step on burn's wgpu backend (Vulkan), with each of our two
# matrix-product kernels, our WebAssembly module through Dawn (Chromium's WebGPU, bench/dawn.mjs),
# and PyTorch eager on CUDA, same model, text, batches and base, at the widget's 4 × 64 and at
# batches 16 and 256 × CONTEXT; ms/step and model-FLOPs utilisation (MFU).
# Skips cleanly (exit 0) where nvidia-smi is absent.
#
#   bench/gpu.sh [STEPS]       # default 200 timed steps after 20 warm-up
#
# Env: FINETUNE_LAB_BIN (a `--features wgpu` build of our CLI, for a GPU machine with no Rust
# toolchain; else it is built here), PYTHON (one whose torch sees CUDA; else a venv is made),
# NODE (a node binary for the Dawn runs, which need www/pkg and node_modules/webgpu brought
# along; they are skipped without them), CONTEXT (default 128, all sides), OUT (results folder).
#
# MFU = 6·N·tokens per step / time / peak (PaLM, Chowdhery et al. 2022, App. B; attention's
# extra FLOPs left out). Peak: the GPU's dense FP32 (non-tensor-core) rate, because both sides
# train in plain fp32 (PyTorch keeps TF32 off for matmuls by default); set PEAK_TFLOPS to
# override. For a 0.8M-parameter model the GPU is launch-bound: expect a tiny MFU at batch 16,
# so a larger batch is timed too.
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/../scripts/usage.mjs" "$0" ;; esac
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STEPS="${1:-200}"
WARMUP=20
BASE="${BASE:-$ROOT/www/base/tiny.ftlab}"
TEXT="$ROOT/bench/data/records.txt"
CONTEXT="${CONTEXT:-128}"
VENV="${VENV:-$HOME/.cache/finetune-lab/bench-venv}"
PYTHON="${PYTHON:-$VENV/bin/python}"
OUT="${OUT:-$ROOT/bench/results/gpu}"
TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/finetune-lab/target}"

if ! command -v nvidia-smi > /dev/null 2>&1; then
  echo "bench/gpu.sh: skipped: no nvidia-smi, so no NVIDIA GPU on this machine"
  exit 0
fi
mkdir -p "$OUT"
GPU="$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"

# Dense FP32 TFLOPS from the vendors' datasheets (SXM parts for H100/H200).
case "$GPU" in
  *H200* | *H100*SXM* | *"H100 80GB HBM3"*) PEAK_DEFAULT=67 ;;
  *H100*) PEAK_DEFAULT=51 ;;
  *A100*) PEAK_DEFAULT=19.5 ;;
  *L40S*) PEAK_DEFAULT=91.6 ;;
  *L4*) PEAK_DEFAULT=30.3 ;;
  *4090*) PEAK_DEFAULT=82.6 ;;
  *) PEAK_DEFAULT="" ;;
esac
PEAK="${PEAK_TFLOPS:-$PEAK_DEFAULT}"
[ -n "$PEAK" ] || echo "unknown GPU '$GPU': set PEAK_TFLOPS for MFU" >&2

if ! "$PYTHON" -c "import torch; assert torch.cuda.is_available()" 2> /dev/null; then
  python3 -m venv "$VENV" && "$VENV/bin/pip" install --quiet torch numpy
  PYTHON="$VENV/bin/python"
fi

BIN="${FINETUNE_LAB_BIN:-$TARGET_DIR/release/finetune-lab}"
if [ -z "${FINETUNE_LAB_BIN:-}" ] && ! cargo build --release -p finetune-lab --features wgpu --manifest-path "$ROOT/Cargo.toml"; then
  echo "not measured: our wgpu build failed (needs Vulkan headers/loader; ~50 min cold on 2 cores)"
  BIN="" # the Dawn runs still go ahead
fi
# PyTorch takes our runs' optimizer settings (one CPU step of ours reports them), so both take the same steps.
optimizer() {
  "$BIN" finetune --mode "$1" --text-file "$TEXT" --base "$BASE" --steps 1 --batch 1 --context 8 --json 2> /dev/null \
    | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["optimizer"]))'
}

# Batch × context: the widget's run, and two larger batches at CONTEXT.
SHAPES="4x64 16x$CONTEXT 256x$CONTEXT"

echo "== ours in Dawn (npm webgpu): the page's module, with its batched readback"
NODE="${NODE:-node}"
if ! "$NODE" --version > /dev/null 2>&1 || [ ! -f "$ROOT/www/pkg/finetune_lab_bg.wasm" ] || [ ! -d "$ROOT/node_modules/webgpu" ]; then
  echo "not measured: needs node (NODE), www/pkg (scripts/build-wasm.sh) and node_modules/webgpu (npm ci)"
  SHAPES_DAWN=""
else
  SHAPES_DAWN="$SHAPES"
fi
for shape in $SHAPES_DAWN; do
  batch=${shape%x*} context=${shape#*x}
  name="dawn-b$batch-t$context"
  # Three steps against the module's CPU path catch a wrong kernel, in minutes at 256 x CONTEXT.
  "$NODE" "$ROOT/bench/dawn.mjs" --batch "$batch" --context "$context" --steps "$STEPS" --warmup $WARMUP --compare 3 --json \
    > "$OUT/$name.json" 2> "$OUT/$name.log" || { echo "$name: failed, see $OUT/$name.log"; continue; }
  python3 - "$OUT/$name.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for x in r["results"]:
    ms = x["ms_per_step"]
    print(f"dawn {x['mode']:8} {x['batch']:3} x {x['context']:3}: {ms['median']:.2f} ms/step (min {ms['min']:.2f}, max {ms['max']:.2f}), "
          f"{x['dispatches']} dispatches, {x['submits']} submits, {x['readbacks']} readbacks per step, "
          f"loss within {x['max_diff_from_cpu']:.1e} of the CPU path over {x['compared_steps']} steps ({r['adapter']['description']})")
EOF
done

[ -n "$BIN" ] || exit 0
echo "== PyTorch eager on CUDA ($GPU)"
for shape in $SHAPES; do
  batch=${shape%x*} context=${shape#*x}
  for mode in full adapter; do
    for attn in "" --sdpa; do
      name="pytorch-$mode-b$batch-t$context${attn:+-sdpa}"
      "$PYTHON" "$ROOT/bench/pytorch/bench.py" --device cuda --mode $mode --optimizer "$(optimizer $mode)" --base "$BASE" --text "$TEXT" \
        --batch $batch --context "$context" --steps "$STEPS" --warmup $WARMUP $attn --json > "$OUT/$name.json" \
        || { echo "$name: failed"; continue; }
      python3 - "$OUT/$name.json" "$PEAK" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); peak = float(sys.argv[2] or "nan")
ms = r["ms_per_step"]
print(f"{r['mode']:8} batch {r['batch']:4} {r['attention']:6}: {ms['median']:7.2f} ms/step (min {ms['min']:.2f}, max {ms['max']:.2f}), "
      f"{r['model_tflops_per_s']:.3f} model TFLOP/s, MFU {100 * r['model_tflops_per_s'] / peak:.2f}% of {peak} TFLOPS fp32, "
      f"peak {r['peak_device_bytes'] / 1e6:.0f} MB, loss {r['loss_first']:.3f} -> {r['loss_last']:.3f}")
EOF
    done
  done
done

echo "== ours on burn's wgpu backend, each form of the kernels (by-adapter takes the hardware one on a GPU)"
for shape in $SHAPES; do
  batch=${shape%x*} context=${shape#*x}
  for mode in full adapter; do
    for kernel in hardware software; do
      name="ours-$mode-b$batch-t$context-$kernel"
      "$BIN" finetune --device wgpu --kernels $kernel --mode $mode --text-file "$TEXT" --base "$BASE" --batch $batch \
        --context "$context" --steps $((STEPS + WARMUP)) --json > "$OUT/$name.json" 2> "$OUT/$name.log" \
        || { echo "$name: failed, see $OUT/$name.log"; continue; }
      python3 - "$OUT/$name.json" "$PEAK" "$kernel" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1])); peak = float(sys.argv[2] or "nan")
# Same MFU as PyTorch's (6 · all parameters · tokens per step); ours' CLI reports the median
# of all steps, warm-up included.
tflops = 6 * r["params_total"] * r["batch"] * r["context"] / (r["ms_per_step_median"] / 1e3) / 1e12
print(f"ours {r['mode']:8} {r['batch']:3} x {r['context']:3} {sys.argv[3]:9}: {r['ms_per_step_median']:.2f} ms/step (median of all steps), "
      f"{tflops:.3f} model TFLOP/s, MFU {100 * tflops / peak:.2f}% of {peak} TFLOPS fp32, "
      f"loss {r['loss_first']:.3f} -> {r['loss_last']:.3f}")
EOF
    done
  done
done
