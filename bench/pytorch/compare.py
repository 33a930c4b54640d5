"""Print the native side-by-side table from the JSON files bench/native.sh wrote.

    python3 bench/pytorch/compare.py bench/results/native

Reads ours-{full,adapter}.json (our CLI's --json report), ours-{mode}.time (bash `time`:
wall, user, sys seconds) and pytorch-{mode}-t{threads}.json (bench.py --json). No torch needed.
"""
import sys

if __name__ == "__main__" and {"-h", "--help"} & set(sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)

import json
import os
import platform
from datetime import date
from pathlib import Path


def load(path):
    return json.loads(path.read_text()) if path.exists() else None


def smoothed(losses, w=5):
    return [sum(losses[max(0, i - w + 1):i + 1]) / len(losses[max(0, i - w + 1):i + 1]) for i in range(len(losses))]


def steps_to(losses, target):
    return next((i + 1 for i, v in enumerate(smoothed(losses)) if v <= target), None)


def common_target(a, b):
    """90% of the way from the first smoothed loss to the higher of the two runs' best: a loss
    both reach, well before the end of the run."""
    first, best = smoothed(a)[0], max(min(smoothed(a)), min(smoothed(b)))
    return first + 0.9 * (best - first)


def cpu_name():
    try:
        return next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def main(folder):
    folder = Path(folder)
    threads = sorted({int(p.stem.rsplit("-t", 1)[1]) for p in folder.glob("pytorch-*-t*.json")})
    rows, medians = [], {}
    torch_version = None
    for mode in ("full", "adapter"):
        ours = load(folder / f"ours-{mode}.json")
        refs = {t: load(folder / f"pytorch-{mode}-t{t}.json") for t in threads}
        if not ours:
            rows.append(f"{mode:8} ours not measured (no {folder}/ours-{mode}.json)")
            continue
        cores = ""
        timing = folder / f"ours-{mode}.time"
        if timing.exists():
            wall, user, sys_ = map(float, timing.read_text().split()[-3:])
            cores = f", ~{(user + sys_) / wall:.1f} cores busy"
        medians[("ours", mode)] = ours["ms_per_step_median"]
        line = [f"{mode:8} ours {ours['ms_per_step_median']:8.1f} ms (median of all {ours['steps']} steps{cores})"]
        for t, ref in refs.items():
            if not ref:
                continue
            torch_version = ref["torch"]
            ms = ref["ms_per_step"]
            medians[(f"pytorch-t{t}", mode)] = ms["median"]
            line.append(f"   PyTorch {t} thread{'s' if t > 1 else ' '} {ms['median']:8.1f} ms ({ms['min']:.1f}-{ms['max']:.1f})"
                        f"  ours/PyTorch {ours['ms_per_step_median'] / ms['median']:5.2f}x")
        ref = next((r for r in refs.values() if r), None)
        if ref:
            n = min(len(ours["losses"]), len(ref["losses"]))
            diff = max(abs(a - b) for a, b in zip(ours["losses"][:n], ref["losses"][:n]))
            target = common_target(ours["losses"][:n], ref["losses"][:n])
            so, sr = steps_to(ours["losses"], target), steps_to(ref["losses"], target)
            t1 = refs.get(1) or ref
            line.append(f"   loss {ours['losses'][0]:.4f} -> ours {ours['losses'][n - 1]:.4f} / PyTorch {ref['losses'][n - 1]:.4f}"
                        f" after {n} steps (largest per-step difference {diff:.2e})")
            line.append(f"   steps to smoothed loss {target:.3f}: ours {so}, PyTorch {sr}; time to it: ours "
                        f"{so * ours['ms_per_step_median'] / 1e3:.1f} s, PyTorch ({t1['threads']} thread) {sr * t1['ms_per_step']['median'] / 1e3:.1f} s")
        rows.append("\n".join(line))

    print(f"Native CPU training step: tiny GPT (834,560 params), batch x context from the runs; {date.today()}")
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; "
          f"torch {torch_version or 'not measured'}; ours = finetune-lab (burn 0.22.1 flex backend)")
    print("ms/step: median (min-max) over the timed steps\n")
    print("\n".join(rows))
    print()
    for impl in ["ours"] + [f"pytorch-t{t}" for t in threads]:
        full, adapter = medians.get((impl, "full")), medians.get((impl, "adapter"))
        if full and adapter:
            print(f"adapter/full time per step, {impl:12}: {adapter / full:.2f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "results/native")
