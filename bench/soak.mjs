#!/usr/bin/env node
// A long session through the widget, watching memory for leaks: on the CPU path (the worker's
// wasm heap and linear memory) and on WebGPU (burn's memory pool, in use and reserved), sampled
// as the run goes, with the growth after warm-up. Prints a table; --json writes the samples.
//
//   node bench/soak.mjs [--cpu-steps 2000] [--gpu-steps 200] [--every 100] [--gpu-every 20]
//                       [--out bench/results/soak.json]
//
// Batch 4 × 64, adapter mode (LoRA r=4 on q,v), records. Needs www/pkg (scripts/build-wasm.sh)
// and Chromium; WebGPU is SwiftShader on a machine without a GPU (about a second a step).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { setup, openPage, ready, testPage } from '../tests/e2e/helpers.mjs';
import { exitOnHelp } from '../scripts/usage.mjs';

exitOnHelp(import.meta.url);

const { values: a } = parseArgs({
  options: {
    'cpu-steps': { type: 'string', default: '2000' },
    'gpu-steps': { type: 'string', default: '200' },
    every: { type: 'string', default: '100' },
    'gpu-every': { type: 'string', default: '20' },
    out: { type: 'string' },
  },
});

/**
 * Train `steps` steps in one run, every `every` steps reading the worker's heap (`measure`
 * "heap", the CPU path) or burn's pool after the step ("pool", WebGPU).
 */
async function soak(env, backend, steps, every, measure) {
  const html = testPage(`<finetune-lab task="records" backend="${backend}" batch="4" context="64" sample="0" panels="train"></finetune-lab>`);
  const page = await openPage(env, `t/soak-${backend}.html`, { pages: { [`t/soak-${backend}.html`]: html } });
  const widget = await ready(page, 0, 300_000);
  const kind = await widget.locator('.backend').getAttribute('data-backend');
  const started = Date.now();
  const samples = await widget.evaluate(
    async (el, [steps, every, measure]) => {
      const pool = (d) => ({ in_use: d.memory.samples.after_step?.bytes_in_use, reserved: d.memory.samples.after_step?.bytes_reserved });
      const read = async (el, detail) => (measure === 'heap' ? el.lab.heapBytes() : pool(detail));
      const readings = [];
      el.addEventListener('finetune-progress', ({ detail: d }) => {
        if (d.step % every === 0) readings.push(read(el, d).then((m) => ({ step: d.step, ms_per_step: d.ms_per_step, ...m })));
      });
      await el.run('adapter', { steps, rank: 4, targets: 'q,v' }); // the LoRA paper's adapter, as the soak's figures in bench/README.md
      return Promise.all(readings);
    },
    [steps, every, measure],
  );
  await page.context().close();
  return { backend: kind, steps, seconds: (Date.now() - started) / 1e3, samples };
}

const growth = (samples, key) => {
  const warm = samples[Math.min(1, samples.length - 1)][key]; // after the first sample: warm-up done
  const last = samples.at(-1)[key];
  return { warm, last, percent: (100 * (last - warm)) / warm };
};

const results = [];
const env = await setup({ webgpu: true });
try {
  const cpuSteps = Number(a['cpu-steps']);
  if (cpuSteps) results.push(await soak(env, 'cpu', cpuSteps, Number(a.every), 'heap'));
  const gpuSteps = Number(a['gpu-steps']);
  if (gpuSteps) {
    results.push(await soak(env, 'auto', gpuSteps, Number(a['gpu-every']), 'pool'));
  }
} finally {
  await env.close();
}

const int = (n) => (n == null ? '—' : Math.round(n).toLocaleString('en-US'));
for (const r of results) {
  const keys = r.backend === 'cpu' ? ['live', 'peak', 'memory'] : ['in_use', 'reserved'];
  console.log(`\n${r.backend}: ${r.steps} adapter steps of 4 × 64 in ${r.seconds.toFixed(0)} s`);
  console.log(['step', 'ms/step', ...keys].map((k) => k.padStart(14)).join(''));
  for (const s of r.samples) console.log([s.step, s.ms_per_step.toFixed(1), ...keys.map((k) => int(s[k]))].map((v) => String(v).padStart(14)).join(''));
  for (const k of keys) {
    const g = growth(r.samples, k);
    console.log(`  ${k}: ${int(g.warm)} B after warm-up → ${int(g.last)} B at the end (${g.percent >= 0 ? '+' : ''}${g.percent.toFixed(2)}%)`);
  }
}
if (a.out) {
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, JSON.stringify(results, null, 2));
}
