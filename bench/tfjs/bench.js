// Run N training steps of the TF.js reference and report what the bench compares: ms/step
// (median, min, max after warm-up), the loss curve, and memory as TF.js reports it. Shared by
// the page (index.html), Node (node.mjs) and bench/browser.mjs; `tf` is passed in.

import { Batches, encode, parseCheckpoint, splitTrain } from './data.js';
import { AdamW, buildModel } from './model.js';

export const stats = (times) => {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
};

const tick = () => new Promise((r) => setTimeout(r, 0)); // let the page breathe between steps

/**
 * options: {base: ArrayBuffer (our checkpoint), text: string, mode, steps (timed), warmup,
 * batch, context, rank, alpha, targets, seed, optimizer, onStep(step, loss)}. `optimizer` is our
 * run's own ({lr, weight_decay, beta1, beta2, eps, grad_clip}, from its report), so both take
 * the same steps: the reference keeps no learning rate of its own to drift from ours.
 */
export async function runTfjs(tf, options) {
  const { base, text, mode = 'full', steps = 50, warmup = 3, batch = 16, seed = 1, onStep } = options;
  const checkpoint = parseCheckpoint(base);
  const context = Math.min(options.context ?? 128, checkpoint.header.shape.context);
  const model = buildModel(tf, checkpoint, { ...options, mode, seed });
  const full = mode === 'full';
  const o = options.optimizer;
  if (!o) throw new Error("runTfjs needs options.optimizer: our run's {lr, weight_decay, beta1, beta2, eps, grad_clip}, from its report");
  const optim = new AdamW(tf, model.trainable, { lr: o.lr, weightDecay: o.weight_decay, beta1: o.beta1, beta2: o.beta2, eps: o.eps, clip: o.grad_clip ?? Infinity });
  const batches = new Batches(encode(splitTrain(text, context)[0]), batch, context, seed);
  const step = () => {
    const { inputs, targets } = batches.next();
    return optim.step(() => model.loss(inputs, targets, batch, context));
  };

  const losses = [];
  const times = [];
  for (let i = 0; i < warmup + steps; i++) {
    const started = performance.now();
    const loss = step();
    const value = (await loss.data())[0]; // waits for the step, as ours reads its loss
    const elapsed = performance.now() - started;
    loss.dispose();
    losses.push(value);
    if (i >= warmup) times.push(elapsed);
    onStep?.(i + 1, value, elapsed);
    await tick();
  }

  // One more, untimed step under tf.profile: the peak bytes of tensors alive during a step.
  const steady = tf.memory();
  const profile = await tf.profile(async () => {
    const loss = step();
    await loss.data();
    loss.dispose();
  });
  const report = {
    impl: 'tfjs',
    tfjs: tf.version_core,
    backend: tf.getBackend(),
    mode,
    batch,
    context,
    steps,
    warmup,
    params_total: model.params.total,
    params_trainable: model.params.trainable,
    ms_per_step: times.length ? stats(times) : null,
    loss_first: losses[0],
    loss_last: losses[losses.length - 1],
    losses,
    memory: { steady_bytes: steady.numBytes, steady_tensors: steady.numTensors, peak_bytes: profile.peakBytes },
  };
  optim.dispose();
  model.dispose();
  return report;
}
