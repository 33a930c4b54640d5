#!/usr/bin/env node
// The TF.js reference in Node (wasm or plain-JS cpu backend): a quick check that it learns
// like ours and the PyTorch reference, without a browser. Timings here are Node's, not a page's.
//
//   node bench/tfjs/node.mjs --mode full --optimizer JSON --steps 5 [--backend wasm|cpu]
//       [--base F.ftlab | --shape micro] [--batch 16] [--context 128] [--text bench/data/records.txt] [--json]
// --optimizer is our run's (`finetune-lab finetune --json` reports it as `optimizer`), e.g.
// '{"lr":0.001,"weight_decay":0.01,"beta1":0.9,"beta2":0.999,"eps":1e-5,"grad_clip":1}'.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SHAPES, freshCheckpoint } from './data.js';
import { runTfjs } from './bench.js';
import { exitOnHelp } from '../../scripts/usage.mjs';

exitOnHelp(import.meta.url);
// After the help: TF.js is installed by `npm ci` in bench/tfjs, which --help does not need.
const tf = await import('@tensorflow/tfjs'); // the union package: core + gradients + cpu backend
await import('@tensorflow/tfjs-backend-wasm');

const { values: a } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    mode: { type: 'string', default: 'full' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '1' },
    batch: { type: 'string', default: '16' },
    context: { type: 'string', default: '128' },
    base: { type: 'string' },
    shape: { type: 'string', default: 'micro' },
    text: { type: 'string', default: new URL('../data/records.txt', import.meta.url).pathname },
    optimizer: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
if (!a.optimizer) {
  console.error("--optimizer is required: our run's settings, the `optimizer` of `finetune-lab finetune --json`");
  process.exit(2);
}

await tf.setBackend(a.backend);
await tf.ready();
const base = a.base ? readFileSync(a.base) : freshCheckpoint(SHAPES[a.shape]);
const report = await runTfjs(tf, {
  base: base.buffer.slice(base.byteOffset, base.byteOffset + base.byteLength),
  text: readFileSync(a.text, 'utf8'),
  mode: a.mode,
  steps: Number(a.steps),
  warmup: Number(a.warmup),
  batch: Number(a.batch),
  context: Number(a.context),
  optimizer: JSON.parse(a.optimizer),
});
if (a.json) console.log(JSON.stringify(report));
else {
  const ms = report.ms_per_step;
  console.log(
    `tfjs ${report.mode} (${report.backend}, node): ${ms.median.toFixed(1)} ms/step median (min ${ms.min.toFixed(1)}, max ${ms.max.toFixed(1)}); ` +
      `loss ${report.loss_first.toFixed(4)} -> ${report.loss_last.toFixed(4)}; peak ${report.memory.peak_bytes} bytes`,
  );
}
