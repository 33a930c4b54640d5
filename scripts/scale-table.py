#!/usr/bin/env python3
"""The memory model's figures for tiny, BERT-large and GPT-3 175B, both modes, at 1 / 10 / 1,000 /
100,000 tenants (10 hot), as a Markdown table: one `finetune-lab scale --json` call per row.

Usage: scripts/scale-table.py [PATH_TO_finetune-lab]
"""
import sys

if __name__ == "__main__" and {"-h", "--help"} & set(sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)

import json, os, subprocess

target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/finetune-lab/target"))
cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(target, "debug", "finetune-lab")


def decimal(n):
    """Decimal units, as the lesson writes them."""
    for unit, size in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"


print("| model | mode | trainable params | weights | training | checkpoint | tenants "
      "| storage: full copies | storage: base + adapters | serving 10 hot: full | serving: adapters | cold load (NVMe) |")
print("|" + "---|" * 12)
for model in ("tiny", "bert-large", "gpt3-175b"):
    for mode in ("full", "adapter"):
        for tenants in (1, 10, 1000, 100000):
            hot = min(tenants, 10)
            args = [cli, "scale", "--model", model, "--mode", mode, "--tenants", str(tenants), "--hot", str(hot), "--json"]
            r = json.loads(subprocess.check_output(args))
            print(f"| {model} | {mode} | {r['params_trainable']:,} | {decimal(r['weights_bytes'])} "
                  f"| {decimal(r['training_bytes'])} | {decimal(r['checkpoint_bytes'])} | {tenants:,} "
                  f"| {decimal(r['storage_full_bytes'])} | {decimal(r['storage_adapter_bytes'])} "
                  f"| {decimal(r['serving_full_bytes'])} | {decimal(r['serving_adapter_bytes'])} "
                  f"| {r['cold_load_seconds']:.3g} s |")
