"""Our GPT and training step in PyTorch eager, read bottom-up like crate/src/model.rs, plus our
checkpoint format (crate/src/checkpoint.rs), so the reference starts from the very same weights.

Matches the crate: pre-LN blocks, separate q/k/v/o Linear d->d with bias, causal softmax
attention scaled 1/sqrt(head_size), GELU (exact erf) MLP d->4d->d, final LN, LM head without
bias, LayerNorm eps 1e-5; LoRA y = xW + b + (alpha/r)(xA)B on chosen projections, base frozen;
AdamW (betas 0.9/0.999, eps 1e-5 = burn's default) with burn's clipping, which scales each
parameter's gradient to norm <= 1 on its own (burn-optim 0.22 `ModuleOptimizer` clips per
tensor), not the global norm `torch.nn.utils.clip_grad_norm_` would use.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

MAGIC = b"FTLAB001"
TINY = dict(name="tiny", layers=4, d_model=128, heads=4, d_ff=512, vocab=97, context=128)
MICRO = dict(name="micro", layers=2, d_model=32, heads=2, d_ff=128, vocab=97, context=32)


class Projection(nn.Module):
    """A Linear (`base`) that may carry a LoRA adapter: A [d_in, r], B [r, d_out]."""

    def __init__(self, d_in, d_out):
        super().__init__()
        self.base = nn.Linear(d_in, d_out)
        self.adapter = None

    def attach(self, a, rank, alpha):
        self.adapter = nn.ParameterDict(dict(
            a=nn.Parameter(a.clone()),
            b=nn.Parameter(torch.zeros(rank, self.base.out_features)),  # B = 0: no change at first
        ))
        self.scale = alpha / rank

    def forward(self, x):
        y = self.base(x)
        if self.adapter is not None:
            y = y + (x @ self.adapter["a"]) @ self.adapter["b"] * self.scale  # never forms A·B
        return y


class Attention(nn.Module):
    def __init__(self, d, heads, sdpa=False):
        super().__init__()
        self.q, self.k, self.v, self.o = (Projection(d, d) for _ in range(4))
        self.heads, self.sdpa = heads, sdpa

    def forward(self, x, mask):
        B, T, C = x.shape
        hs = C // self.heads
        split = lambda y: y.view(B, T, self.heads, hs).transpose(1, 2)  # (B, nh, T, hs)
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        if self.sdpa:  # PyTorch's fused kernel: same maths, fewer ops (not what we run)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # op for op what crate/src/model.rs does
            scores = (q @ k.transpose(2, 3)) * (1.0 / math.sqrt(hs))  # (B, nh, T, T)
            scores = scores.masked_fill(mask[:T, :T], float("-inf"))
            y = scores.softmax(dim=-1) @ v  # (B, nh, T, hs)
        return self.o(y.transpose(1, 2).reshape(B, T, C))


class Mlp(nn.Module):
    def __init__(self, d, f):
        super().__init__()
        self.fc, self.proj = Projection(d, f), Projection(f, d)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))  # exact erf GELU, as burn's gelu


class Block(nn.Module):
    def __init__(self, s, sdpa):
        super().__init__()
        self.ln1 = nn.LayerNorm(s["d_model"], eps=1e-5)
        self.attn = Attention(s["d_model"], s["heads"], sdpa)
        self.ln2 = nn.LayerNorm(s["d_model"], eps=1e-5)
        self.mlp = Mlp(s["d_model"], s["d_ff"])

    def forward(self, x, mask):
        x = x + self.attn(self.ln1(x), mask)
        return x + self.mlp(self.ln2(x))


class Gpt(nn.Module):
    def __init__(self, shape, sdpa=False):
        super().__init__()
        s = self.shape = dict(shape)
        self.tok_emb = nn.Embedding(s["vocab"], s["d_model"])
        self.pos_emb = nn.Embedding(s["context"], s["d_model"])
        self.blocks = nn.ModuleList(Block(s, sdpa) for _ in range(s["layers"]))
        self.ln_f = nn.LayerNorm(s["d_model"], eps=1e-5)
        self.head = nn.Linear(s["d_model"], s["vocab"], bias=False)
        # True above the diagonal: the future positions a token may not attend to.
        self.register_buffer("mask", torch.ones(s["context"], s["context"], dtype=torch.bool).triu(1), persistent=False)
        self.init_gpt2()

    def init_gpt2(self):
        """crate/src/init.rs: N(0, 0.02); o and proj N(0, 0.02/sqrt(2 layers)); biases 0; LN 1/0."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln" in name:
                nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * self.shape["layers"]) if (".o." in name or ".proj." in name) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, ids):  # ids (B, T) -> logits (B, T, vocab)
        T = ids.shape[1]
        x = self.tok_emb(ids) + self.pos_emb.weight[:T]  # (B, T, C)
        for block in self.blocks:
            x = block(x, self.mask)
        return self.head(self.ln_f(x))

    def with_adapters(self, targets, rank, alpha, a_values):
        """Freeze the base, attach adapters block by block and target by target (the crate's
        order). `a_values(d_in, rank)` returns the next A as a flat list."""
        self.requires_grad_(False)
        for block in self.blocks:
            for t in targets:
                p = getattr(block.attn, t) if t in "qkvo" else getattr(block.mlp, t)
                a = torch.tensor(a_values(p.base.in_features, rank), dtype=torch.float32).view(-1, rank)
                p.attach(a, rank, alpha)
        return self


def loss_fn(logits, targets):
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


# --- our checkpoint file <-> PyTorch names ---------------------------------------------------
# burn keeps a Linear weight as [d_in, d_out] and names LayerNorm's parameters gamma/beta.

def _torch_name(ours):
    return ours.replace(".gamma", ".weight").replace(".beta", ".bias")


def _our_name(name):
    module, leaf = name.rsplit(".", 1)
    if module.split(".")[-1].startswith("ln"):  # ln1, ln2, ln_f
        return f"{module}.{'gamma' if leaf == 'weight' else 'beta'}"
    return name


def _transposed(ours, shape):
    return len(shape) == 2 and (ours.endswith("base.weight") or ours == "head.weight")


def _read_tensor(raw, at, shape, stored):
    """-> (float32 tensor, bytes read) for one tensor stored as `stored` (crate/src/checkpoint/
    dtype.rs): f32; f16; or i8, where a matrix is rows of one f32 scale then a byte per value
    (value = byte * scale) and a vector is f16."""
    count = math.prod(shape)
    if stored == "f32":
        return torch.frombuffer(bytearray(raw[at:at + 4 * count]), dtype=torch.float32).clone(), 4 * count
    if stored == "f16" or len(shape) < 2:
        return torch.frombuffer(bytearray(raw[at:at + 2 * count]), dtype=torch.float16).float(), 2 * count
    width = shape[-1]
    rows = count // width if width else 0
    out = torch.empty(rows, width)
    for r in range(rows):
        start = at + r * (4 + width)
        (scale,) = struct.unpack("<f", raw[start:start + 4])
        out[r] = torch.frombuffer(bytearray(raw[start + 4:start + 4 + width]), dtype=torch.int8).float() * scale
    return out.reshape(-1), rows * (4 + width)


def load_checkpoint(path):
    """-> (header, {our name: (shape, float32 tensor)}); values stored as the header's "dtype"
    says (f32 when absent; the shipped base is i8)."""
    raw = open(path, "rb").read()
    if raw[:8] != MAGIC:
        raise ValueError(f"{path}: not a finetune-lab checkpoint")
    (n,) = struct.unpack("<I", raw[8:12])
    header = json.loads(raw[12:12 + n])
    stored = header.get("dtype", "f32")
    if stored not in ("f32", "f16", "i8"):
        raise ValueError(f"{path}: unknown dtype {stored}")
    values, at = {}, 12 + n
    for entry in header["tensors"]:
        data, used = _read_tensor(raw, at, entry["shape"], stored)
        values[entry["name"]] = (entry["shape"], data)
        at += used
    return header, values


def load_base(model, path):
    header, values = load_checkpoint(path)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for ours, (shape, data) in values.items():
            t = data.view(*shape)
            if _transposed(ours, shape):
                t = t.t()
            params[_torch_name(ours)].copy_(t)
    return header


def save_checkpoint(model, path):
    """A full checkpoint in our format (bench smoke runs use it when no shipped base exists)."""
    tensors, blobs = [], []
    for name, p in model.named_parameters():
        ours = _our_name(name)
        t = p.detach().t() if _transposed(ours, p.shape) else p.detach()
        tensors.append(dict(name=ours, shape=list(t.shape)))
        blobs.append(t.contiguous().numpy().astype("<f4").tobytes())
    header = json.dumps(dict(kind="full", shape=model.shape, adapter=None, tensors=tensors)).encode()
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<I", len(header)) + header + b"".join(blobs))


# --- the training step -----------------------------------------------------------------------

class Trainer:
    """crate/src/run/training_loop.rs: AdamW + per-tensor norm clipping, with our run's own
    settings (`optimizer`: lr, weight_decay, beta1, beta2, eps, grad_clip, from its report)."""

    def __init__(self, model, optimizer):
        self.model = model
        self.params = [p for p in model.parameters() if p.requires_grad]
        o = optimizer
        self.opt = torch.optim.AdamW(self.params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"], weight_decay=o["weight_decay"])
        self.clip = o["grad_clip"] if o["grad_clip"] is not None else float("inf")

    def step(self, inputs, targets):
        loss = loss_fn(self.model(inputs), targets)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            for p in self.params:
                # min(1, clip / (norm + f32::MIN_POSITIVE)) as burn computes it; no host sync.
                p.grad.mul_((self.clip / (p.grad.norm() + 1.1754944e-38)).clamp(max=1.0))
        self.opt.step()
        return loss.detach()
