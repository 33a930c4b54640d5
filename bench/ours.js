// Time OUR in-browser training step by driving the wasm API directly (www/pkg, built by
// scripts/build-wasm.sh): the same Lab/Session the <finetune-lab> element drives, without its UI.
// Reports the same figures as bench/tfjs/bench.js so bench/browser.mjs can lay them side by side.

import { stats } from './tfjs/bench.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

/**
 * options: {base: ArrayBuffer (our checkpoint), text, gpu: boolean, mode, steps (timed), warmup,
 * batch, context, rank, alpha, targets, seed, onStep(step, loss, ms, read)}: `read` is the number
 * of steps whose losses came back with this one's, on the last of them, else 0
 */
export async function runOurs(options) {
  const { base, text, gpu = false, mode = 'full', steps = 50, warmup = 3, batch = 16, context = 128, seed = 1, onStep } = options;
  let mod;
  try {
    mod = await import('/www/pkg/finetune_lab.js');
  } catch (e) {
    throw new Error(`our wasm is not built (www/pkg/finetune_lab.js: ${e.message}); run scripts/build-wasm.sh`);
  }
  await mod.default({ module_or_path: '/www/pkg/finetune_lab_bg.wasm' });
  const opened = performance.now();
  const lab = await mod.Lab.open(new Uint8Array(base), gpu);
  const openMs = performance.now() - opened;
  const run = { mode, text, batch, context, seed };
  if (mode === 'adapter') Object.assign(run, { rank: options.rank ?? 4, alpha: options.alpha ?? 8, targets: options.targets ?? ['q', 'v'] });
  const session = lab.start(run);
  const info = session.info;

  const losses = [];
  const times = [];
  while (losses.length < warmup + steps) {
    // As the page trains: the crate queues about a frame's worth of steps and reads their losses
    // at once, so a step's time is its batch's over the batch's size.
    const started = performance.now();
    const batch = await session.steps(warmup + steps - losses.length); // resolves once read back
    const each = (performance.now() - started) / batch.length;
    batch.forEach((value, i) => {
      if (losses.length >= warmup) times.push(each);
      losses.push(value);
      onStep?.(losses.length, value, each, i === batch.length - 1 ? batch.length : 0);
    });
    await tick();
  }
  const memory = session.memory(); // {predicted, measured (null on the CPU backend), samples}
  const report = {
    impl: 'ours',
    backend: lab.backend,
    mode,
    batch: info.batch,
    context: info.context,
    steps,
    warmup,
    params_total: info.params_total,
    params_trainable: info.params_trainable,
    // What each step was taken with: the TF.js reference takes the same (bench/browser.mjs).
    optimizer: info.optimizer,
    open_ms: openMs,
    ms_per_step: times.length ? stats(times) : null,
    loss_first: losses[0],
    loss_last: losses[losses.length - 1],
    losses,
    memory: {
      // The allocator's peak in use during the last step (WebGPU only), and our memory model's
      // prediction for this run (weights + grads + optimizer + activations, fp32).
      peak_bytes: memory.measured?.peak_bytes ?? null,
      reserved_bytes: memory.measured?.reserved_bytes ?? null,
      predicted_bytes: memory.predicted?.training_bytes ?? null,
    },
  };
  session.free?.();
  lab.free?.();
  return report;
}
