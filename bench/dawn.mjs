#!/usr/bin/env node
// Our WebAssembly module (www/pkg) training through Dawn, the WebGPU implementation inside
// Chromium, run in Node by npm's `webgpu` package: the same module, kernels and Lab the page
// uses, without a browser, so it runs where Chromium does not (a GPU server). Reports ms/step
// (median, min-max after warm-up), the WebGPU calls of each step (dispatches, submits,
// readbacks: bench/webgpu-calls.js) and how far the loss curve is from the CPU path's for the
// very same run (the same module's CPU backend), over its first --compare steps (default all:
// at 256 × 128 the CPU path takes seconds a step, so a GPU run compares a few).
//
//   node bench/dawn.mjs [--modes full,adapter] [--steps 5] [--warmup 2] [--batch 4] [--context 64]
//                       [--compare N] [--icd /usr/lib/chromium/vk_swiftshader_icd.json] [--json]
//
// Without a GPU, --icd names SwiftShader's Vulkan driver, which Debian's chromium-common ships
// (Dawn refuses Mesa 22.3's lavapipe for a missing feature). Needs www/pkg (scripts/build-wasm.sh)
// and the root's node_modules (npm ci).

import { parseArgs } from 'node:util';
import { exitOnHelp } from '../scripts/usage.mjs';
import { stats } from './tfjs/bench.js';
import { countCalls, dawnAsNavigator, loadModule } from './dawn-node.mjs';

exitOnHelp(import.meta.url);

const { values: a } = parseArgs({
  options: {
    modes: { type: 'string', default: 'full,adapter' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    batch: { type: 'string', default: '4' },
    context: { type: 'string', default: '64' },
    compare: { type: 'string' },
    icd: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const gpu = await dawnAsNavigator(a.icd);

const stepDone = await countCalls();

const { mod, base } = await loadModule();
const [steps, warmup] = [Number(a.steps), Number(a.warmup)];
const compared = Math.min(Number(a.compare ?? warmup + steps), warmup + steps);

/** The first `total` steps of `mode` on `lab`: their losses and times; on WebGPU their calls too. */
async function train(lab, mode, total, counted) {
  // The run is planned for all steps, so a shorter comparison takes the same first steps.
  const session = lab.start({ mode, task: 'qa', steps: warmup + steps, batch: Number(a.batch), context: Number(a.context), sample: 0 });
  const losses = [];
  const times = [];
  while (losses.length < total) {
    // As the page trains: about a frame's worth of steps queued, their losses read back at once.
    const started = performance.now();
    const batch = await session.steps(total - losses.length);
    const each = (performance.now() - started) / batch.length;
    for (const loss of batch) {
      if (losses.length >= warmup) times.push(each);
      losses.push(loss);
    }
    if (counted) stepDone(losses.length, batch.length);
  }
  session.free();
  return { losses, times };
}

const gpuLab = await mod.Lab.open(base, true);
const cpuLab = await mod.Lab.open(base, false);
const adapter = await gpu.requestAdapter();
const results = [];
for (const mode of a.modes.split(',')) {
  const before = globalThis.webgpuCallsPerStep.length;
  const dawn = await train(gpuLab, mode, warmup + steps, true);
  const calls = globalThis.webgpuCallsPerStep.slice(before).filter((r) => r.after >= warmup);
  const cpu = await train(cpuLab, mode, compared, false);
  const callMedian = (k) => stats(calls.map((c) => c[k])).median;
  results.push({
    mode,
    batch: Number(a.batch),
    context: Number(a.context),
    ms_per_step: stats(dawn.times),
    dispatches: callMedian('dispatches'),
    submits: callMedian('submits'),
    readbacks: callMedian('readbacks'),
    dispatches_by_kernel: Object.entries(globalThis.webgpuKernelsPerStep.at(-1)).sort((x, y) => y[1] - x[1]),
    losses: dawn.losses,
    cpu_losses: cpu.losses,
    compared_steps: cpu.losses.length,
    max_diff_from_cpu: Math.max(...cpu.losses.map((v, i) => Math.abs(v - dawn.losses[i]))),
  });
}
const report = { adapter: { vendor: adapter.info.vendor, architecture: adapter.info.architecture, description: adapter.info.description }, backend: gpuLab.backend, warmup, steps, results };
if (a.json) console.log(JSON.stringify(report));
else {
  console.log(`Dawn (npm webgpu) on ${report.adapter.description || report.adapter.vendor || 'an unnamed adapter'}; ${warmup} + ${steps} steps`);
  for (const r of results) {
    const ms = r.ms_per_step;
    console.log(
      `${r.mode} ${r.batch} x ${r.context}: ${ms.median.toFixed(1)} ms/step (${ms.min.toFixed(1)}-${ms.max.toFixed(1)}), ` +
        `${r.dispatches} dispatches, ${r.submits} submits, ${r.readbacks} readbacks per step; loss within ${r.max_diff_from_cpu.toExponential(2)} of the CPU path over ${r.compared_steps} steps`,
    );
  }
}
process.exit(0); // Dawn's instance keeps the event loop alive
