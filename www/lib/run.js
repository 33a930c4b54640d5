// One fine-tuning run, start to finish, against the wasm API. Strictly one call at a time on a
// session (wasm-bindgen throws "recursive use of an object" otherwise), and a yield to the page
// between steps so clicks, painting and Playwright keep working during training.

import { median } from './format.js';
import { trackRun, activeRuns } from './wasm.js';

const yieldToPage = () => new Promise((resolve) => setTimeout(resolve, 0));

/** @typedef {import('./remote-lab.js').RemoteLab} RemoteLab */
/** @typedef {import('./remote-lab.js').RemoteSession} RemoteSession */

/**
 * @param {RemoteLab} lab  the shared Lab
 * @param {RemoteSession} session  the run, from lab.start (its info holds the steps planned,
 *                 fewer if `shouldStop()` turns true, the time budget that may replace them
 *                 once the first steps are timed, and the characters per sample)
 * @param plan     {before}: the cached {heldout, sample} of the base on this data, or null to
 *                 compute it (both modes start from the same base)
 * @param hooks    onPhase(name, info), onBefore(before), onStep({step, steps, timing, loss, ms_per_step, memory}),
 *                 shouldStop(), abandoned()
 * @returns        the run's record: info, steps, losses, times, ms_per_step, before, after, memory,
 *                 checkpoint, stopped, shared
 *
 * The session is freed at the end: its weights and optimizer state would otherwise sit on the
 * device and inflate the next run's measured memory. Everything the panels need is copied out.
 */
export async function fineTune(lab, session, { before }, { onPhase, onBefore, onStep, shouldStop, abandoned }) {
  const info = session.info;
  const { budget } = info;
  let steps = info.steps;
  const release = trackRun();
  let shared = false; // another run on the page while this one measured
  // A lost GPU device leaves the pending call unsettled forever: race every await against it.
  // The subscription ends with the run. A trap in the worker fails the call in flight.
  const lostError = (info) => new Error(`the GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`);
  let fail;
  const lost = new Promise((_, reject) => (fail = reject));
  lost.catch(() => {}); // handled by whichever race sees it
  const stopLost = lab.onDeviceLost((lostInfo) => fail(lostError(lostInfo)));
  const guard = (promise) =>
    Promise.race([promise, lost]).catch(async (error) => {
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      // A lost device often makes the crate panic first: name the cause if it follows at once.
      const lostInfo = await lostWithin(lab, 1000);
      throw lostInfo ? lostError(lostInfo) : new Error(`the module crashed (${error.message}); the browser console has its message`);
    });
  try {
    onPhase('start', info);
    if (!before) {
      onPhase('before', info);
      before = await score(session, guard, shouldStop);
    }
    onBefore(before);
    const losses = [];
    const times = [];
    let timing = Boolean(budget); // until the crate decides the length from the steps' times
    for (let step = 1; step <= steps && !shouldStop();) {
      onPhase(step === 1 ? 'first-step' : 'step', info);
      // The crate queues as many steps as the device runs in about a frame and reads their
      // losses back at once: one step at a time on a software GPU, several on a fast one.
      const t0 = performance.now();
      const batch = await guard(session.steps(steps - step + 1));
      const each = (performance.now() - t0) / batch.length;
      const memory = await guard(session.memory());
      shared ||= activeRuns() > 1;
      for (const loss of batch) {
        times.push(each);
        losses.push(loss);
        // The length, when a time budget sets it: the crate decides it once, from the steps
        // timed after a warm-up (kernels compiling, the engine optimising), so the bar does not wander.
        if (timing) {
          const decided = await guard(session.decideSteps(times));
          if (decided != null) [steps, timing] = [decided, false];
        }
        onStep({ step, steps, timing, loss, ms_per_step: median(times), memory });
        step++;
      }
      await yieldToPage();
    }
    // Nothing trained, or nobody left to show it to (the element left the page): skip the rest.
    if (!losses.length || abandoned?.()) return { info, steps, losses, times, ms_per_step: median(times), before, stopped: true };
    onPhase('after', info);
    const after = await score(session, guard, shouldStop);
    const memory = await guard(session.memory());
    const checkpoint = await guard(session.checkpoint());
    return { info, steps, losses, times, ms_per_step: median(times), before, after, memory, checkpoint, stopped: losses.length < steps, shared };
  } finally {
    stopLost();
    release();
    try {
      session.free();
    } catch {
      // After a trap the instance may refuse even this; it is being replaced anyway.
    }
  }
}

/**
 * The session's model on its data as it stands: {prompt, heldout, sample, format, partial},
 * its held-out loss and greedy sample. Before any step that is the base every run starts from
 * (`partial` when Stop cut the sample short: shown, but not kept for the next run to reuse);
 * after the last, the fine-tuned model.
 */
/** @param {RemoteSession} session */
export async function score(session, guard = (p) => p, shouldStop = () => false) {
  const { prompt, sample: chars } = session.info;
  const heldout = await guard(session.heldoutLoss());
  const text = await sample(session, prompt, chars, guard, shouldStop);
  const format = text ? await guard(session.checkFormat(text)) : null;
  return { prompt, heldout, sample: text, format, partial: shouldStop() };
}

/** Resolves with the Lab's lost-device info if the device is lost within `ms`, else with null. */
/** @param {RemoteLab} lab */
function lostWithin(lab, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stop();
      resolve(null);
    }, ms);
    const stop = lab.onDeviceLost((info) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}

// Characters per sampling call: at least SAMPLE_PIECE, and as many more as this device writes
// in about PIECE_MS, so Stop gets a turn between calls while the prompt's pass (each call runs
// the prompt through the model once, then one position per character) is paid rarely. Samples
// are written on the CPU on either path (a GPU's model read back once a step count), so a
// 60-character sample is about two calls.
const SAMPLE_PIECE = 8;
const PIECE_MS = 250;

/**
 * Greedy continuation of `prompt` by `chars` characters (none when 0), in pieces, stopping
 * early when `shouldStop()` turns true. Greedy decoding depends only on the text so far, so the
 * pieces join into the text one call would give.
 */
/** @param {RemoteSession} session */
async function sample(session, prompt, chars, guard, shouldStop) {
  let text = '';
  let piece = SAMPLE_PIECE;
  for (let done = 0; done < chars && !shouldStop();) {
    const n = Math.min(piece, chars - done);
    const started = performance.now();
    text += await guard(session.sample(prompt + text, n));
    piece = Math.max(SAMPLE_PIECE, Math.floor((PIECE_MS * n) / Math.max(performance.now() - started, 1)));
    done += n;
    await yieldToPage();
  }
  return text;
}
