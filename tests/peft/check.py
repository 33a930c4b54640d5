"""Hugging Face's own libraries hold our exports and imports to our numbers.

Every export of the CLI (`finetune-lab export --format hf`) is loaded by transformers and PEFT,
and their logits on held-out text must match ours (`finetune-lab logits`) within 1e-4, max
absolute, in f32: the shipped base, a fully fine-tuned model, and adapters on q,v / attention /
every linear layer at ranks 1, 4 and 8. PEFT's merge_and_unload() must give our merged model;
greedy decoding must give our CLI's text. Then adapters PEFT trains here on the exported base
come back through `finetune-lab import` (a directory, and a deflated .zip) with PEFT's logits,
and imports that cannot fit are refused with their reason.

Usage: python tests/peft/check.py --cli PATH [--work DIR]
Prints one line per check and ends with `peft check: N passed, N failed`; exits 1 on a failure.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2LMHeadModel

TOLERANCE = 1e-4
# Text none of our training data holds, with the characters the tokenizer folds or cannot spell.
HELD_OUT = [
    "Q: Which river runs through the old town?\nA: The Vltava, under eleven bridges.\n",
    "\u201cQuiet,\u201d she said \u2014 the lamp\u2019s last oil\u2026 then \U0001F642 and \u00e9t\u00e9.\r\n",
]
GREEDY_PROMPT = "Q: What is the capital of "
GREEDY_CHARS = 60

passed, failed = [], []


def check(name, ok, detail=""):
    (passed if ok else failed).append(name)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)


class Cli:
    def __init__(self, path, work):
        self.path, self.work = path, work

    def run(self, *args, ok=True):
        done = subprocess.run([self.path, *map(str, args)], capture_output=True, text=True)
        if ok and done.returncode != 0:
            raise RuntimeError(f"finetune-lab {' '.join(map(str, args))} failed:\n{done.stderr}")
        return done

    def logits(self, text, adapter=None):
        args = ["logits", "--text", text] + (["--adapter", adapter] if adapter else [])
        out = json.loads(self.run(*args).stdout)
        return out["ids"], torch.tensor(out["logits"])

    def export(self, name, *args):
        out = self.work / name
        self.run("export", "--format", "hf", "--out", out, *args)
        return out

    def train(self, name, *args):
        out = self.work / f"{name}.ftlab"
        self.run("finetune", "--task", "qa", "--steps", "4", "--batch", "2", "--context", "64", "--out", out, *args)
        return out

    def generate(self, adapter=None):
        args = ["generate", "--prompt", GREEDY_PROMPT, "--chars", GREEDY_CHARS, "--temperature", "0"]
        return self.run(*args, *(["--adapter", adapter] if adapter else [])).stdout.rstrip("\n")


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0]


def max_diff(a, b):
    return (a - b).abs().max().item()


def compare_logits(name, model, cli, adapter=None):
    worst = 0.0
    for text in HELD_OUT:
        ids, ours = cli.logits(text, adapter)
        worst = max(worst, max_diff(logits_of(model, ids), ours))
    check(f"{name}: logits within {TOLERANCE}", worst <= TOLERANCE, f"max |diff| {worst:.3g}")


def greedy(model, tokenizer):
    ids = tokenizer(GREEDY_PROMPT, return_tensors="pt").input_ids
    # Our sampler never picks id 0, the unknown character.
    out = model.generate(ids, max_new_tokens=GREEDY_CHARS, do_sample=False, suppress_tokens=[0], pad_token_id=1)
    return tokenizer.decode(out[0])


def load(path):
    return AutoModelForCausalLM.from_pretrained(path).eval()


def exports(cli):
    base_dir = cli.export("base")
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    for text in HELD_OUT:
        ids, _ = cli.logits(text)
        check(f"tokenizer ids of {text[:20]!r}", tokenizer(text).input_ids == ids)
    plain = HELD_OUT[0]
    check("tokenizer decodes our text back", tokenizer.decode(tokenizer(plain).input_ids) == plain)

    base = load(base_dir)
    compare_logits("base", base, cli)
    check("base: greedy text equals the CLI's", greedy(base, tokenizer) == cli.generate())

    full = cli.train("full", "--mode", "full")
    compare_logits("full fine-tune", load(cli.export("full", "--in", full)), cli, full)

    for targets in ["q,v", "attn", "all"]:
        for rank in [1, 4, 8]:
            name = f"adapter {targets} r{rank}"
            adapter = cli.train(f"r{rank}-{targets}", "--mode", "adapter", "--rank", rank, "--targets", targets)
            peft_dir = cli.export(f"peft-r{rank}-{targets}", "--in", adapter)
            model = PeftModel.from_pretrained(load(base_dir), peft_dir).eval()
            compare_logits(name, model, cli, adapter)
            if rank == 4:
                check(f"{name}: greedy text equals the CLI's", greedy(model, tokenizer) == cli.generate(adapter))
            merged = model.merge_and_unload().state_dict()
            ours = load(cli.export(f"merged-r{rank}-{targets}", "--in", adapter, "--merge")).state_dict()
            worst = max(max_diff(merged[k], v) for k, v in ours.items())
            check(f"{name}: merge_and_unload() equals our merge", worst <= 1e-6, f"max |diff| {worst:.3g}")
    return base_dir


def train_with_peft(base_dir, config, out):
    """A few AdamW steps of PEFT's own LoRA layers on the exported base, saved as PEFT saves."""
    torch.manual_seed(0)
    model = get_peft_model(load(base_dir), config)
    model.train()
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    ids = torch.tensor([tokenizer((HELD_OUT[0] * 2)[:96]).input_ids])
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(5):
        loss = model(ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(out)
    return PeftModel.from_pretrained(load(base_dir), out).eval()


def imports(cli, base_dir):
    trained = {
        "c_attn + mlp.c_fc, r4": LoraConfig(r=4, lora_alpha=8, target_modules=["attn.c_attn", "mlp.c_fc"], fan_in_fan_out=True),
        "every module, ranks and rsLoRA": LoraConfig(
            r=2, lora_alpha=4, target_modules=["c_attn", "c_proj", "c_fc"], fan_in_fan_out=True, use_rslora=True, rank_pattern={"mlp.c_fc": 6}, alpha_pattern={"attn.c_proj": 3}
        ),
    }
    for name, config in trained.items():
        out = cli.work / f"python-{name.split(',')[0].replace(' ', '_')}"
        model = train_with_peft(base_dir, config, out)
        archive = shutil.make_archive(str(out), "zip", out)  # deflated, as zipfile writes it
        for source in [out, archive]:
            kind = "zip" if str(source).endswith(".zip") else "directory"
            ours = cli.work / f"imported-{out.name}-{kind}.ftlab"
            done = cli.run("import", "--peft", source, "--out", ours, ok=False)
            check(f"PEFT-trained ({name}) imports from a {kind}", done.returncode == 0, done.stderr.strip().splitlines()[-1] if done.stderr else "")
            if done.returncode == 0:
                compare_logits(f"PEFT-trained ({name}) imported from a {kind}", model, cli, ours)
    refusals(cli, cli.work / "python-c_attn_+_mlp.c_fc")


def refused(cli, name, directory, reason):
    done = cli.run("import", "--peft", directory, "--out", cli.work / "refused.ftlab", ok=False)
    said = done.stderr.strip()
    check(f"refused: {name}", done.returncode != 0 and reason in said, said.splitlines()[-1] if said else "(nothing said)")


def variant(source, name, config=None, tensors=None, metadata=None):
    out = source.parent / f"variant-{name}"
    shutil.copytree(source, out, dirs_exist_ok=True)
    if config:
        settings = json.loads((out / "adapter_config.json").read_text())
        settings.update(config)
        (out / "adapter_config.json").write_text(json.dumps(settings))
    if tensors or metadata:
        weights = load_file(out / "adapter_model.safetensors")
        save_file(tensors(weights) if tensors else weights, out / "adapter_model.safetensors", metadata=metadata or {"format": "pt"})
    return out


def refusals(cli, good):
    def unknown(w):
        return {**w, "base_model.model.transformer.h.0.attn.c_attn.lora_magnitude_vector.weight": torch.zeros(384)}

    def wrong_shape(w):
        return {k: (v[:, :64].contiguous() if k.endswith("lora_A.weight") else v) for k, v in w.items()}

    def extra_block(w):
        return {**w, **{k.replace("h.0.", "h.9."): v.clone() for k, v in w.items() if ".h.0." in k}}

    refused(cli, "another base", variant(good, "base", metadata={"format": "pt", "finetune_lab_base_sha256": "0" * 64}), "another base")
    refused(cli, "a tensor we do not know", variant(good, "unknown", tensors=unknown), "unknown tensor")
    refused(cli, "A with the wrong width", variant(good, "shape", tensors=wrong_shape), "has shape")
    refused(cli, "a block the base lacks", variant(good, "blocks", tensors=extra_block), "names block 9")
    refused(cli, "not LoRA", variant(good, "ia3", config={"peft_type": "IA3"}), "not a LoRA adapter")
    refused(cli, "DoRA", variant(good, "dora", config={"use_dora": True}), "use_dora")
    refused(cli, "a rank the config does not say", variant(good, "rank", config={"r": 5}), "rank")

    small = GPT2LMHeadModel(GPT2Config(vocab_size=97, n_positions=64, n_embd=64, n_layer=2, n_head=2, activation_function="gelu", bos_token_id=None, eos_token_id=None))
    other = cli.work / "peft-on-another-shape"
    get_peft_model(small, LoraConfig(r=4, target_modules=["c_attn"], fan_in_fan_out=True)).save_pretrained(other)
    refused(cli, "an adapter for another model shape", other, "has shape")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cli", required=True, help="the finetune-lab binary")
    parser.add_argument("--work", help="where to write exports (default: a temporary directory)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with tempfile.TemporaryDirectory(prefix="finetune-lab-peft-") as scratch:
        work = Path(args.work or scratch)
        work.mkdir(parents=True, exist_ok=True)
        cli = Cli(str(Path(args.cli).resolve()), work)
        imports(cli, exports(cli))
    print(f"peft check: {len(passed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
