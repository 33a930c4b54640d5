#!/usr/bin/env node
// Where a training step's time goes, kernel by kernel, through Dawn (npm's `webgpu`): trains a
// few steps of www/pkg's module as bench/dawn.mjs does, records every dispatch of the last step
// (its pipeline, bind groups and grid), then runs each one again alone, submitted and waited
// for on its own, and sums the times by kernel. A dispatch alone also pays a submission and a
// wait, so the sum exceeds a step's time; the shares are what it is for. Run after training, the
// replays overwrite the step's buffers, so nothing is trained after them.
//
//   node bench/kernel-times.mjs [--mode full|adapter] [--repeats 3] [--batch 4] [--context 64]
//                               [--rank R --targets q,v] [--order]
//                               [--icd /usr/lib/chromium/vk_swiftshader_icd.json] [--json]
//
// --rank and --targets take an adapter other than the page's (bench/browser.mjs times r 4 on
// q, v); --order also lists the step's kernels in the order they ran.
//
// Needs www/pkg (scripts/build-wasm.sh) and the root's node_modules (npm ci).

import { parseArgs } from 'node:util';
import { exitOnHelp } from '../scripts/usage.mjs';
import { countCalls, dawnAsNavigator, loadModule } from './dawn-node.mjs';

exitOnHelp(import.meta.url);

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'full' },
    repeats: { type: 'string', default: '3' },
    batch: { type: 'string', default: '4' },
    context: { type: 'string', default: '64' },
    icd: { type: 'string' },
    rank: { type: 'string' },
    targets: { type: 'string' },
    order: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
await dawnAsNavigator(a.icd);

await countCalls(); // for its kernel names
const after = (proto, name, then) => {
  const original = proto[name];
  proto[name] = function (...args) {
    const result = original.apply(this, args);
    then.call(this, result, ...args);
    return result;
  };
};
let device;
after(GPUDevice.prototype, 'createCommandEncoder', function () {
  device = this;
});
// Each dispatch of a recorded step, with what was bound when it was made.
let recording = false;
const recorded = [];
let state = { pipeline: null, groups: [] };
after(GPUCommandEncoder.prototype, 'beginComputePass', () => {
  state = { pipeline: null, groups: [] };
});
after(GPUComputePassEncoder.prototype, 'setPipeline', (_, pipeline) => {
  state.pipeline = pipeline;
});
after(GPUComputePassEncoder.prototype, 'setBindGroup', (_, index, group, offsets) => {
  state.groups[index] = [group, offsets ? [...offsets] : []];
});
after(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', (_, x, y = 1, z = 1) => {
  if (recording) recorded.push({ pipeline: state.pipeline, groups: [...state.groups], grid: [x, y, z] });
});

const { mod, base } = await loadModule();
const lab = await mod.Lab.open(base, true);
const run = { mode: a.mode, task: 'qa', steps: 4, batch: Number(a.batch), context: Number(a.context), sample: 0 };
if (a.rank) run.rank = Number(a.rank);
if (a.targets) run.targets = a.targets.split(',');
const session = lab.start(run);
await session.steps(3); // kernels compiled, the pool warm
recording = true;
const [loss] = await session.steps(1);
recording = false;

const byKernel = new Map();
if (a.order) console.log(recorded.map((d) => `${globalThis.webgpuKernelName(d.pipeline)} [${d.grid.join(' ')}]`).join('\n'));
for (const d of recorded) {
  const started = performance.now();
  for (let r = 0; r < Number(a.repeats); r++) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(d.pipeline);
    d.groups.forEach(([group, offsets], i) => pass.setBindGroup(i, group, offsets));
    pass.dispatchWorkgroups(...d.grid);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  }
  const ms = (performance.now() - started) / Number(a.repeats);
  const name = globalThis.webgpuKernelName(d.pipeline);
  const k = byKernel.get(name) ?? { dispatches: 0, ms: 0, largest: 0 };
  byKernel.set(name, { dispatches: k.dispatches + 1, ms: k.ms + ms, largest: Math.max(k.largest, ms) });
}
session.free();
const kernels = [...byKernel].sort((x, y) => y[1].ms - x[1].ms).map(([name, k]) => ({ name, ...k }));
const total = kernels.reduce((s, k) => s + k.ms, 0);
if (a.json) {
  console.log(JSON.stringify({ mode: a.mode, batch: Number(a.batch), context: Number(a.context), dispatches: recorded.length, loss, ms: total, kernels }));
} else {
  console.log(`${a.mode} ${a.batch} x ${a.context}: ${recorded.length} dispatches in the step (loss ${loss.toFixed(3)}), ${total.toFixed(1)} ms replayed one by one`);
  console.log('kernel | dispatches | ms | share | largest one (ms)');
  for (const k of kernels) {
    console.log(`${k.name} | ${k.dispatches} | ${k.ms.toFixed(1)} | ${((100 * k.ms) / total).toFixed(1)}% | ${k.largest.toFixed(1)}`);
  }
}
process.exit(0); // Dawn's instance keeps the event loop alive
