"""Time our model's training step in PyTorch eager on the bench text, full or adapter.

    python bench/pytorch/bench.py --mode full --steps 50 --threads 1 [--base www/base/tiny.ftlab] [--json]

Starts from our checkpoint (`--base`) when given, else from a seeded GPT-2 init of `--shape`.
Sees the very batches and (adapter mode) the very initial A matrices our crate uses with the
same seed, so its loss curve can be laid over `finetune-lab finetune --text-file`'s.
Prints ms/step median/min/max over the timed steps (after `--warmup` untimed ones), the losses,
and the process's peak memory.
"""
import sys

if __name__ == "__main__" and {"-h", "--help"} & set(sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
import data  # noqa: E402
from model import MICRO, TINY, Gpt, Trainer, load_base, load_checkpoint, save_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=["full", "adapter"], default="full")
    p.add_argument("--steps", type=int, default=50, help="timed steps")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first (allocator, caches)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--context", type=int, default=128)
    p.add_argument("--text", default=str(ROOT / "bench/data/records.txt"))
    p.add_argument("--base", help="our .ftlab checkpoint (default: a fresh init of --shape)")
    p.add_argument("--shape", choices=["tiny", "micro"], default="tiny")
    p.add_argument("--save-base", help="write the model we start from as an .ftlab file, then train")
    p.add_argument("--rank", type=int, default=4)
    p.add_argument("--alpha", type=float, help="default 2 x rank, as our CLI")
    p.add_argument("--targets", default="q,v")
    p.add_argument("--optimizer", required=True, type=json.loads,
                   help="our run's AdamW settings, the `optimizer` of `finetune-lab finetune --json`: "
                        '{"lr":..,"weight_decay":..,"beta1":..,"beta2":..,"eps":..,"grad_clip":..}')
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--sdpa", action="store_true", help="fused attention instead of our op-by-op one")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    return p.parse_args()


def main():
    args = parse()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)  # only the fresh-init path draws from torch's RNG
    device = torch.device(args.device)

    shape = load_checkpoint(args.base)[0]["shape"] if args.base else (TINY if args.shape == "tiny" else MICRO)
    model = Gpt(shape, sdpa=args.sdpa)
    if args.base:
        load_base(model, args.base)
    if args.save_base:
        save_checkpoint(model, args.save_base)
    context = min(args.context, model.shape["context"])

    full = args.mode == "full"
    if not full:
        rng = data.SplitMix64(args.seed)  # crate: Init::new(config.seed) draws every A in order
        model.with_adapters(args.targets.split(","), args.rank, args.alpha or 2.0 * args.rank,
                            lambda d_in, r: data.adapter_a_values(rng, d_in, r))
    model.to(device)
    trainer = Trainer(model, args.optimizer)

    train_text, _ = data.split_train(Path(args.text).read_text(), context)
    batches = data.Batches(data.encode(train_text), args.batch, context, args.seed)

    losses, times = [], []
    for i in range(args.warmup + args.steps):
        inputs, targets = (torch.tensor(x, device=device) for x in batches.next())
        start = time.perf_counter()
        loss = trainer.step(inputs, targets).item()  # reading the loss waits for the step
        elapsed = (time.perf_counter() - start) * 1e3
        losses.append(loss)
        if i >= args.warmup:
            times.append(elapsed)

    n_params = sum(p.numel() for p in model.parameters())
    tokens = args.batch * context
    ms = statistics.median(times)
    report = dict(
        impl="pytorch-eager", torch=torch.__version__, device=args.device, threads=args.threads,
        mode=args.mode, batch=args.batch, context=context, optimizer=args.optimizer, steps=args.steps, warmup=args.warmup,
        params_total=n_params, params_trainable=sum(p.numel() for p in trainer.params),
        ms_per_step=dict(median=ms, min=min(times), max=max(times)),
        loss_first=losses[0], loss_last=losses[-1], losses=losses,
        # 6·N·tokens per step: the usual model-FLOPs count for a full training step (PaLM,
        # Chowdhery et al. 2022, App. B); an overcount for adapter mode, which skips weight grads.
        model_tflops_per_s=6 * n_params * tokens / (ms / 1e3) / 1e12,
        peak_rss_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        peak_device_bytes=torch.cuda.max_memory_allocated() if device.type == "cuda" else None,
        attention="sdpa" if args.sdpa else "manual",
    )
    if args.json:
        print(json.dumps(report))
    else:
        print(f"pytorch {args.mode} ({args.device}, {args.threads} threads): {ms:.1f} ms/step median "
              f"(min {min(times):.1f}, max {max(times):.1f}) over {args.steps} steps; "
              f"loss {losses[0]:.4f} -> {losses[-1]:.4f}")


if __name__ == "__main__":
    main()
