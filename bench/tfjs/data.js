// The training data and base weights exactly as our crate sees them, for the TF.js reference:
// the same tokenizer, train/held-out split, random windows and fresh LoRA A matrices
// (mirrors crate/src/{tokenizer,rng,data/text,train,init}.rs), and our checkpoint format
// (crate/src/checkpoint.rs). No TF.js here: plain arrays, so Node and the page share it.

const MASK64 = (1n << 64n) - 1n;

/** SplitMix64 (Steele, Lea & Flood 2014) with Lemire's `below`, in BigInt as the crate's u64. */
export class SplitMix64 {
  constructor(seed) {
    this.state = BigInt(seed) & MASK64;
  }
  nextU64() {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & MASK64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
    return z ^ (z >> 31n);
  }
  below(n) {
    return Number((this.nextU64() * BigInt(n)) >> 64n);
  }
  f32() {
    return Number(this.nextU64() >> 40n) / (1 << 24); // top 24 bits: exact in an f32
  }
}

export const VOCAB = 97; // 0 unknown, 1 '\n', 2..=96 ' '..='~'

export function encode(text) {
  return Array.from(text, (c) => (c === '\n' ? 1 : c >= ' ' && c <= '~' ? c.charCodeAt(0) - 30 : 0));
}

/** crate/src/data/text.rs `split_point` on a text already in the crate's normal form (the bench
 * text is written that way): about the last 10% held out, moved to a nearby line start. */
export function splitTrain(text, context) {
  const lines = text.split('\n');
  if (/[^\n -~]/.test(text) || lines.some((l) => !l || l !== l.trimEnd())) {
    throw new Error('bench text must be printable ASCII lines, no blank lines, no trailing spaces or final newline');
  }
  const n = text.length;
  const heldout = Math.max(Math.floor(n / 10), context + 1);
  const [lo, hi] = [3 * context + 1, n - (context + 1)];
  const [ideal, slack] = [n - heldout, Math.floor(heldout / 2)];
  const ok = (i) => i >= lo && i <= hi && i > 0 && text[i - 1] === '\n';
  for (let d = 0; d <= slack; d++) {
    for (const i of [ideal - d, ideal + d]) if (ok(i)) return [text.slice(0, i), text.slice(i)];
  }
  return [text.slice(0, ideal), text.slice(ideal)];
}

/** crate/src/run/training_loop.rs `Batches`: inputs and targets as flat Int32Arrays of batch × context. */
export class Batches {
  constructor(tokens, batch, context, seed = 1) {
    this.tokens = tokens;
    this.batch = batch;
    this.context = context;
    this.rng = new SplitMix64(BigInt(seed) ^ 0xba7c4n);
  }
  next() {
    const { tokens, batch, context } = this;
    const inputs = new Int32Array(batch * context);
    const targets = new Int32Array(batch * context);
    for (let b = 0; b < batch; b++) {
      const s = this.rng.below(tokens.length - context);
      for (let t = 0; t < context; t++) {
        inputs[b * context + t] = tokens[s + t];
        targets[b * context + t] = tokens[s + t + 1];
      }
    }
    return { inputs, targets };
  }
}

/** crate/src/init.rs `normal` (Box-Muller) for one A [dIn, rank] ~ N(0, 1/rank), in draw order. */
export function adapterA(rng, dIn, rank) {
  const std = 1 / Math.sqrt(rank);
  const out = new Float32Array(dIn * rank);
  for (let i = 0; i < out.length; i++) {
    const u1 = Math.max(rng.f32(), 1.1754944e-38);
    const u2 = rng.f32();
    out[i] = std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

/** Our checkpoint: `FTLAB001` | u32 LE header length | JSON header | data in header order, stored
 * as the header's `"dtype"` says (crate/src/checkpoint/dtype.rs): f32 LE when absent; f16; or i8,
 * where a matrix is rows of one f32 scale then a byte per value (value = byte × scale) and a
 * vector is f16 (the shipped base). Returns {header, tensors: Map(name → {shape, values: Float32Array})}. */
export function parseCheckpoint(buffer) {
  const bytes = new Uint8Array(buffer);
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== 'FTLAB001') throw new Error('not a finetune-lab checkpoint');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length)));
  const stored = header.dtype ?? 'f32';
  if (!['f32', 'f16', 'i8'].includes(stored)) throw new Error(`unknown dtype ${stored}`);
  const tensors = new Map();
  let at = 12 + length;
  for (const { name, shape } of header.tensors) {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    if (stored === 'f32') {
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(at + 4 * i, true);
      at += 4 * n;
    } else if (stored === 'f16' || shape.length < 2) {
      for (let i = 0; i < n; i++) values[i] = f16ToF32(view.getUint16(at + 2 * i, true));
      at += 2 * n;
    } else {
      const width = shape.at(-1);
      for (let row = 0; row < n / width; row++) {
        const scale = view.getFloat32(at, true);
        for (let i = 0; i < width; i++) values[row * width + i] = view.getInt8(at + 4 + i) * scale;
        at += 4 + width;
      }
    }
    tensors.set(name, { shape, values });
  }
  return { header, tensors };
}

/** An IEEE half float's bits as a number (Node 20 has no Float16Array). */
function f16ToF32(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // subnormal
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** A freshly initialised full checkpoint of `shape` in our format, for smoke runs that have no
 * shipped base: GPT-2 init as crate/src/init.rs (N(0, 0.02); o and proj N(0, 0.02/sqrt(2·layers));
 * biases 0; LayerNorm 1/0), drawn from our RNG, though not in the crate's draw order. */
export function freshCheckpoint(shape, seed = 1) {
  const { layers: L, d_model: d, d_ff: f, vocab, context } = shape;
  const rng = new SplitMix64(seed);
  const entries = [];
  const add = (name, dims, fill) => entries.push({ name, shape: dims, fill });
  const normal = (std) => () => std * Math.sqrt(-2 * Math.log(Math.max(rng.f32(), 1e-38))) * Math.cos(2 * Math.PI * rng.f32());
  const residual = normal(0.02 / Math.sqrt(2 * L));
  add('tok_emb.weight', [vocab, d], normal(0.02));
  add('pos_emb.weight', [context, d], normal(0.02));
  for (let l = 0; l < L; l++) {
    const p = `blocks.${l}`;
    const linear = (path, dIn, dOut, init) => {
      add(`${path}.base.weight`, [dIn, dOut], init);
      add(`${path}.base.bias`, [dOut], () => 0);
    };
    const norm = (path) => (add(`${path}.gamma`, [d], () => 1), add(`${path}.beta`, [d], () => 0));
    norm(`${p}.ln1`);
    for (const t of 'qkv') linear(`${p}.attn.${t}`, d, d, normal(0.02));
    linear(`${p}.attn.o`, d, d, residual);
    norm(`${p}.ln2`);
    linear(`${p}.mlp.fc`, d, f, normal(0.02));
    linear(`${p}.mlp.proj`, f, d, residual);
  }
  add('ln_f.gamma', [d], () => 1);
  add('ln_f.beta', [d], () => 0);
  add('head.weight', [d, vocab], normal(0.02));

  const header = new TextEncoder().encode(
    JSON.stringify({
      kind: 'full',
      shape,
      adapter: null,
      tensors: entries.map(({ name, shape: dims }) => ({ name, shape: dims })),
    }),
  );
  const floats = entries.reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
  const bytes = new Uint8Array(12 + header.length + 4 * floats);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode('FTLAB001'));
  view.setUint32(8, header.length, true);
  bytes.set(header, 12);
  let at = 12 + header.length;
  for (const { shape: dims, fill } of entries) {
    for (let i = dims.reduce((a, b) => a * b, 1); i > 0; i--, at += 4) view.setFloat32(at, fill(), true);
  }
  return bytes;
}

export const SHAPES = {
  tiny: { name: 'tiny', layers: 4, d_model: 128, heads: 4, d_ff: 512, vocab: 97, context: 128 },
  micro: { name: 'micro', layers: 2, d_model: 32, heads: 2, d_ff: 128, vocab: 97, context: 32 },
};
