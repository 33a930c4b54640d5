// One fine-tuning run, start to finish, against the wasm API. Strictly one call at a time on a
// session (wasm-bindgen throws "recursive use of an object" otherwise), and a yield to the page
// between steps so clicks, painting and Playwright keep working during training.

import { median } from './format.js';
import { trackRun, activeRuns, whenLost, whenTrapped } from './wasm.js';

const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * @param lab      the shared Lab
 * @param options  lab.start options ({mode, rank?, targets?, task|text, batch, context, seed})
 * @param plan     {steps, sampleChars, before}: steps to take (fewer if `shouldStop()` turns
 *                 true), characters per sample, and the cached {heldout, sample} of the base on
 *                 this data or null to compute it (both modes start from the same base)
 * @param hooks    {onPhase(name, info), onBefore(before), onStep({step, steps, loss, ms_per_step, memory}),
 *                 shouldStop(), abandoned()}
 * @returns {info, losses, times, ms_per_step, before, after, memory, checkpoint, stopped, shared}
 *
 * The session is freed at the end: its weights and optimizer state would otherwise sit on the
 * device and inflate the next run's measured memory. Everything the panels need is copied out.
 */
export async function fineTune(lab, options, { steps, sampleChars, before }, { onPhase, onBefore, onStep, shouldStop, abandoned }) {
  const session = lab.start(options); // throws a readable Error on bad input, before any await
  const release = trackRun();
  let shared = false; // another run on the page while this one measured
  // A lost GPU device, or a trap in the module, leaves the pending call unsettled forever:
  // race every await against both.
  const lostError = (info) => new Error(`the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`);
  const broken = Promise.race([
    whenLost(lab).then((info) => {
      throw lostError(info);
    }),
    whenTrapped().then(async (error) => {
      // A lost device often makes the crate panic first: name the cause if it follows at once.
      const info = await Promise.race([whenLost(lab), new Promise((ok) => setTimeout(ok, 1000))]);
      throw info ? lostError(info) : new Error(`the module crashed (${error.message}); the browser console has its message`);
    }),
  ]);
  broken.catch(() => {}); // handled by whichever race sees it
  const guard = (promise) => Promise.race([promise, broken]);
  try {
    const info = session.info;
    onPhase('start', info);
    if (!before) {
      onPhase('before', info);
      before = { prompt: info.prompt, heldout: await guard(session.heldoutLoss()), sample: await guard(sample(session, info, sampleChars)) };
    }
    onBefore(before);
    const losses = [];
    const times = [];
    for (let step = 1; step <= steps && !shouldStop(); step++) {
      onPhase(step === 1 ? 'first-step' : 'step', info);
      const t0 = performance.now();
      const loss = await guard(session.step());
      times.push(performance.now() - t0);
      losses.push(loss);
      shared ||= activeRuns() > 1;
      onStep({ step, steps, loss, ms_per_step: median(times), memory: session.memory() });
      await yieldToPage();
    }
    // Nothing trained, or nobody left to show it to (the element left the page): skip the rest.
    if (!losses.length || abandoned?.()) return { info, losses, times, ms_per_step: median(times), before, stopped: true };
    onPhase('after', info);
    const after = { heldout: await guard(session.heldoutLoss()), sample: await guard(sample(session, info, sampleChars)) };
    const memory = session.memory();
    const checkpoint = await guard(session.checkpoint());
    return { info, losses, times, ms_per_step: median(times), before, after, memory, checkpoint, stopped: losses.length < steps, shared };
  } finally {
    release();
    try {
      session.free();
    } catch {
      // After a trap the instance may refuse even this; it is being replaced anyway.
    }
  }
}

/** Greedy continuation of the data's prompt; skipped (empty) when `chars` is 0. */
function sample(session, info, chars) {
  return chars > 0 ? session.sample(info.prompt, chars) : Promise.resolve('');
}
