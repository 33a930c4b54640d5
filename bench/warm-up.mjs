#!/usr/bin/env node
// What the page's warm-up (`Lab.warmUp`) saves a reader's first training step, through Dawn
// (bench/dawn.mjs's harness). As on the page once a Lab opens: the base is scored (held-out loss
// and a sample, from a full run's session, each timed) with the warm-up sent just after the
// held-out loss, so that its pipelines compile while the GPU computes that loss (--warm-up
// during, the page's order); after the scoring instead (after), or not at all (none). Then an
// adapter run at the widget's 4 × 64 takes its first steps. Reports each phase's time, the time
// from the Lab's opening to the first trained step, and the pipelines each step created (a step
// that compiles nothing creates none). One variant a process: burn keeps its compiled pipelines
// for as long as the device lives.
//
//   node bench/warm-up.mjs [--icd /usr/lib/chromium/vk_swiftshader_icd.json]
//                          [--warm-up during|after|none] [--steps 3] [--json]

import { parseArgs } from 'node:util';
import { exitOnHelp } from '../scripts/usage.mjs';
import { countCalls, dawnAsNavigator, loadModule } from './dawn-node.mjs';

exitOnHelp(import.meta.url);

const { values: a } = parseArgs({
  options: {
    icd: { type: 'string' },
    'warm-up': { type: 'string', default: 'during' },
    steps: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
await dawnAsNavigator(a.icd);
const stepDone = await countCalls();
const { mod, base } = await loadModule();
const lab = await mod.Lab.open(base, true);
const timed = async (work) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

const when = a['warm-up'];
if (!['during', 'after', 'none'].includes(when)) throw new Error(`--warm-up takes during, after or none, not ${when}`);

// The page's early score: the held-out loss on the device, then a sample of the page's length,
// which runs on a copy of the model on the CPU (the GPU calls it makes are the copy's readbacks).
const opened = performance.now();
const scoring = lab.start({ mode: 'full', task: 'records', batch: 4, context: 64 });
const heldout = timed(() => scoring.heldoutLoss());
const warming = when === 'during' ? timed(() => lab.warmUp()) : null;
const heldout_ms = await heldout;
stepDone(0, 1);
const sample_ms = await timed(() => scoring.sample(scoring.info.prompt, scoring.info.sample));
stepDone(0, 1);
const { dispatches, readbacks } = globalThis.webgpuCallsPerStep.at(-1);
const sampling = { chars: scoring.info.sample, ms: sample_ms, dispatches, readbacks };
scoring.free();
const warm_up_ms = when === 'after' ? await timed(() => lab.warmUp()) : await warming;
const ready_ms = performance.now() - opened;

stepDone(0, 1); // closes the counter's record of everything so far, which the steps leave out

const run = lab.start({ mode: 'adapter', task: 'records', steps: Number(a.steps), batch: 4, context: 64, sample: 0 });
const steps = [];
for (let step = 1; step <= Number(a.steps); step++) {
  const ms = await timed(() => run.steps(1));
  stepDone(step, 1);
  steps.push({ ms, pipelines_created: globalThis.webgpuCallsPerStep.at(-1).pipelines_created });
}
const report = { warm_up: when, heldout_ms, sampling, warm_up_ms, ready_ms, first_step_at_ms: ready_ms + steps[0].ms, steps };
if (a.json) console.log(JSON.stringify(report));
else {
  const ms = (v) => `${v.toFixed(0)} ms`;
  console.log(`scoring the base: held-out loss ${ms(heldout_ms)}, a ${sampling.chars}-character sample ${ms(sample_ms)} (${dispatches} dispatches, ${readbacks} readbacks)`);
  console.log(warm_up_ms == null ? 'no warm-up' : `warm-up ${when} the scoring: ${ms(warm_up_ms)}`);
  console.log(`scored and warmed ${ms(ready_ms)} after the Lab opened; first trained step ${ms(report.first_step_at_ms)}`);
  for (const [i, s] of steps.entries()) console.log(`step ${i + 1}: ${ms(s.ms)}, ${s.pipelines_created} pipelines created`);
}
process.exit(0); // Dawn's device would keep Node alive
