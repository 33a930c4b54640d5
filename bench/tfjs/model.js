// Our GPT and training step in TensorFlow.js (tfjs-core ops only, no Layers API), loaded from
// our checkpoint; `tf` is passed in so Node and the page share this file.
//
// Same model as crate/src/model.rs: pre-LN blocks, separate q/k/v/o with bias, causal softmax
// attention scaled 1/sqrt(head_size), exact-erf GELU MLP, final LN, LM head without bias, LN
// eps 1e-5; LoRA y = xW + b + (alpha/r)(xA)B with the base frozen (only A and B are in the
// variable list, so only they get gradients and optimizer state). Weights keep burn's layout:
// a Linear weight is [d_in, d_out], so a projection is x·W.
//
// Two deliberate differences from the obvious TF.js code, both to match our step:
// - the token embedding is oneHot(ids)·E, not tf.gather: gather's gradient needs
//   UnsortedSegmentSum, which the wasm backend (4.22) does not implement;
// - tf.train.adam has no decoupled weight decay and no clipping, so AdamW and burn's
//   per-tensor gradient-norm clipping are written out below.

import { VOCAB, SplitMix64, adapterA } from './data.js';

let instances = 0; // TF.js variable names are global: each model gets its own prefix

export function buildModel(tf, checkpoint, { mode = 'full', rank = 4, alpha = 2 * rank, targets = ['q', 'v'], seed = 1 } = {}) {
  const shape = checkpoint.header.shape;
  const prefix = `m${instances++}/`;
  const full = mode === 'full';
  const vars = new Map();
  for (const [name, { shape: dims, values }] of checkpoint.tensors) {
    vars.set(name, tf.variable(tf.tensor(values, dims), full, prefix + name));
  }
  const adapters = new Map(); // "blocks.0.attn.q" → {a, b}
  if (!full) {
    const rng = new SplitMix64(seed); // the crate's Init::new(config.seed): every A in order
    for (let l = 0; l < shape.layers; l++) {
      for (const t of targets) {
        const path = `blocks.${l}.${'qkvo'.includes(t) ? 'attn' : 'mlp'}.${t}`;
        const [dIn, dOut] = vars.get(`${path}.base.weight`).shape;
        adapters.set(path, {
          a: tf.variable(tf.tensor(adapterA(rng, dIn, rank), [dIn, rank]), true, `${prefix}${path}.adapter.a`),
          b: tf.variable(tf.zeros([rank, dOut]), true, `${prefix}${path}.adapter.b`), // B = 0: no change at first
        });
      }
    }
  }
  const trainable = full ? [...vars.values()] : [...adapters.values()].flatMap(({ a, b }) => [a, b]);
  const scale = alpha / rank;
  const v = (name) => vars.get(name);

  // x (N, d_in) → (N, d_out)
  function project(path, x) {
    const y = tf.add(tf.matMul(x, v(`${path}.base.weight`)), v(`${path}.base.bias`));
    const adapter = adapters.get(path);
    if (!adapter) return y;
    return tf.add(y, tf.mul(tf.matMul(tf.matMul(x, adapter.a), adapter.b), scale)); // never forms A·B
  }

  function layerNorm(path, x) {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const variance = tf.mean(tf.square(centred), -1, true); // biased, as burn and PyTorch
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, 1e-5))), v(`${path}.gamma`)), v(`${path}.beta`));
  }

  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)); // exact, as burn's

  // ids: int32 (B, T) → logits (B·T, vocab)
  function forward(ids, B, T) {
    const { d_model: C, heads } = shape;
    const hs = C / heads;
    const tokens = tf.matMul(tf.oneHot(tf.reshape(ids, [B * T]), VOCAB), v('tok_emb.weight')); // (BT, C)
    const positions = tf.slice(v('pos_emb.weight'), [0, 0], [T, C]);
    let x = tf.reshape(tf.add(tf.reshape(tokens, [B, T, C]), positions), [B * T, C]);
    const future = causalMask(tf, T);
    const heads4 = (y) => tf.transpose(tf.reshape(y, [B, T, heads, hs]), [0, 2, 1, 3]); // (B, nh, T, hs)
    for (let l = 0; l < shape.layers; l++) {
      const p = `blocks.${l}`;
      const h = layerNorm(`${p}.ln1`, x);
      const [q, k, val] = ['q', 'k', 'v'].map((t) => heads4(project(`${p}.attn.${t}`, h)));
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(hs)), future); // (B, nh, T, T)
      const y = tf.reshape(tf.transpose(tf.matMul(tf.softmax(scores), val), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, project(`${p}.attn.o`, y));
      x = tf.add(x, project(`${p}.mlp.proj`, gelu(project(`${p}.mlp.fc`, layerNorm(`${p}.ln2`, x)))));
    }
    return tf.matMul(layerNorm('ln_f', x), v('head.weight'));
  }

  // Mean cross-entropy of the next character.
  function loss(inputs, targets, B, T) {
    const ids = tf.tensor(inputs, [B, T], 'int32');
    const logProbs = tf.logSoftmax(forward(ids, B, T));
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(tf.tensor(targets, [B * T], 'int32'), VOCAB)), -1);
    return tf.neg(tf.mean(picked));
  }

  const dispose = () => {
    for (const t of [...vars.values(), ...[...adapters.values()].flatMap(({ a, b }) => [a, b])]) t.dispose();
  };
  const params = { total: count([...vars.values()]) + (full ? 0 : count(trainable)), trainable: count(trainable) };
  return { shape, trainable, loss, dispose, params };
}

// 0 on and below the diagonal, a large negative number above it (the future): added to scores.
function causalMask(tf, T) {
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) mask.fill(-1e9, i * T + i + 1, (i + 1) * T);
  return tf.tensor(mask, [T, T]);
}

const count = (tensors) => tensors.reduce((n, t) => n + t.size, 0);

/** AdamW (Loshchilov & Hutter 2019) as burn-optim 0.22 computes it, with burn's clipping: each
 * variable's gradient scaled to norm ≤ clip on its own. */
export class AdamW {
  constructor(tf, vars, { lr, weightDecay, beta1, beta2, eps, clip }) {
    Object.assign(this, { tf, vars, lr, weightDecay, beta1, beta2, eps, clip, t: 0 });
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** One step on `lossFn`; returns the loss tensor (the caller reads it). */
  step(lossFn) {
    const { tf } = this;
    const { value, grads } = tf.variableGrads(lossFn, this.vars);
    this.t += 1;
    const [c1, c2] = [1 - this.beta1 ** this.t, 1 - this.beta2 ** this.t];
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        let g = grads[x.name];
        g = tf.mul(g, tf.minimum(1, tf.div(this.clip, tf.add(tf.norm(g), 1.1754944e-38))));
        this.m[i].assign(tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1)));
        this.v[i].assign(tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.div(this.m[i], c1), tf.add(tf.sqrt(tf.div(this.v[i], c2)), this.eps));
        x.assign(tf.sub(tf.mul(x, 1 - this.lr * this.weightDecay), tf.mul(update, this.lr)));
      });
    });
    tf.dispose(grads);
    return value;
  }

  dispose() {
    this.tf.dispose([...this.m, ...this.v]);
  }
}
