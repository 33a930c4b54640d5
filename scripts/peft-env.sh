#!/usr/bin/env bash
# The Python environment tests/peft/check.py runs in: transformers, PEFT, safetensors and torch
# at the versions tests/peft/requirements.txt pins, in a virtual environment made on first use
# and cached outside the clone (as the Rust build is), one per version of that file.
# Prints the environment's python on its last line.
#
# Env: FINETUNE_LAB_CACHE (default $HOME/.cache/finetune-lab).
set -euo pipefail
case "${1:-}" in -h | --help) exec node "$(dirname "$0")/usage.mjs" "$0" ;; esac
cd "$(dirname "$0")/.."
requirements=tests/peft/requirements.txt
venv="${FINETUNE_LAB_CACHE:-$HOME/.cache/finetune-lab}/peft-venv-$(sha256sum "$requirements" | cut -c1-12)"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  echo "making the Python environment for the PEFT check in $venv (about 5.6 GB, a few minutes)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  start=$SECONDS
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "installed in $((SECONDS - start)) s: $(du -sh "$venv" | cut -f1)" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
