"""The training data, exactly as our crate sees it: the same tokenizer, the same train/held-out
split of a text file and the same random windows, so a reference run sees the very batches
`finetune-lab finetune --text-file F` sees (mirrors crate/src/{tokenizer,rng,data/text,train}.rs).
"""

MASK64 = (1 << 64) - 1


class SplitMix64:
    """crate/src/rng.rs: SplitMix64 (Steele, Lea & Flood 2014) with Lemire's `below`."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next_u64() * n) >> 64

    def f32(self):
        # The top 24 bits: exact in an f32 mantissa, as the crate does it.
        return (self.next_u64() >> 40) / float(1 << 24)


VOCAB = 97  # 0 unknown, 1 '\n', 2..=96 ' '..='~'


def encode(text):
    def one(c):
        if c == "\n":
            return 1
        if " " <= c <= "~":
            return ord(c) - 32 + 2
        return 0
    return [one(c) for c in text]


def check_normal_form(text):
    """Our crate normalises a user's text (trailing spaces, blank-line runs, CR, typography)
    before splitting it. The bench text is written already normal, so the split below matches."""
    lines = text.split("\n")
    ok = (
        all(" " <= c <= "~" or c == "\n" for c in text)
        and all(line and line == line.rstrip() for line in lines)
    )
    if not ok:
        raise ValueError("bench text must be printable ASCII lines with no blank lines, no trailing "
                         "spaces and no final newline (so our normalisation leaves it unchanged)")


def split_train(text, context):
    """crate/src/data/text.rs `split_point`: about the last 10% is held out, moved to a line start
    when one lies within half that distance. Returns (train, heldout)."""
    check_normal_form(text)
    n = len(text)
    heldout = max(n // 10, context + 1)
    lo, hi = 3 * context + 1, n - (context + 1)
    ideal, slack = n - heldout, heldout // 2
    at = ideal
    for d in range(slack + 1):
        hit = [i for i in (ideal - d, ideal + d) if lo <= i <= hi and i > 0 and text[i - 1] == "\n"]
        if hit:
            at = hit[0]
            break
    return text[:at], text[at:]


class Batches:
    """crate/src/run/training_loop.rs `Batches`: `batch` windows of `context + 1` tokens at random starts."""

    def __init__(self, tokens, batch, context, seed=1):
        assert len(tokens) > context
        self.tokens, self.batch, self.context = tokens, batch, context
        self.rng = SplitMix64(seed ^ 0xBA7C4)

    def next(self):
        span = len(self.tokens) - self.context
        starts = [self.rng.below(span) for _ in range(self.batch)]
        inputs = [self.tokens[s:s + self.context] for s in starts]
        targets = [self.tokens[s + 1:s + 1 + self.context] for s in starts]
        return inputs, targets  # lists of B lists of T ids


def adapter_a_values(rng, d_in, rank):
    """crate/src/init.rs `normal` (Box-Muller) for one A matrix [d_in, rank] ~ N(0, 1/rank),
    drawn in the same order as the crate, so the fresh adapters equal ours (to f32 rounding)."""
    import math
    std = 1.0 / math.sqrt(rank)
    out = []
    for _ in range(d_in * rank):
        u1 = max(rng.f32(), 1.1754944e-38)
        u2 = rng.f32()
        out.append(std * math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2))
    return out
