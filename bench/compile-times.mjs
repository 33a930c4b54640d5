#!/usr/bin/env node
// How long each of our shaders takes to compile into a pipeline through Dawn (npm's `webgpu`),
// the WebGPU that Chromium runs: what a reader waits for the first time a kernel is used. On
// software WebGPU (SwiftShader) that is seconds a page, so a shader's size is worth a look.
// Each shader is compiled `--repeats` times, each on a fresh device (Dawn keeps a device's
// pipelines for it to reuse), and the median is printed.
//
//   node bench/compile-times.mjs [--icd /usr/lib/chromium/vk_swiftshader_icd.json]
//                                [--repeats 3] [--set CONST=N ...] [--json] [NAME ...]
//
// NAME is a file of shaders/ without `.wgsl` (all of them when none is given). --set declares a
// shader's `const CONST: u32 = N;` anew, as a launch may (the attention kernels' MAX_H4 is the
// model's head width / 4: 8 for the shipped model). Needs the root's node_modules (npm ci).

import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { exitOnHelp } from '../scripts/usage.mjs';
import { dawnAsNavigator } from './dawn-node.mjs';
import { stats } from './tfjs/bench.js';

exitOnHelp(import.meta.url);

const { values: a, positionals } = parseArgs({
  options: {
    icd: { type: 'string' },
    repeats: { type: 'string', default: '3' },
    set: { type: 'string', multiple: true, default: [] },
    json: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const gpu = await dawnAsNavigator(a.icd);
const adapter = await gpu.requestAdapter();
const folder = new URL('../shaders/', import.meta.url);
const names = positionals.length
  ? positionals
  : readdirSync(folder)
      .filter((f) => f.endsWith('.wgsl'))
      .map((f) => f.slice(0, -'.wgsl'.length))
      .sort();

const results = [];
for (const name of names) {
  let code = readFileSync(new URL(`${name}.wgsl`, folder), 'utf8');
  for (const [constant, value] of a.set.map((s) => s.split('='))) {
    code = code.replace(new RegExp(`const ${constant}: u32 = \\d+u;`), `const ${constant}: u32 = ${value}u;`);
  }
  const times = [];
  for (let i = 0; i < Number(a.repeats); i++) {
    const device = await (await gpu.requestAdapter()).requestDevice();
    const start = performance.now();
    const module = device.createShaderModule({ code });
    await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    times.push(performance.now() - start);
    device.destroy();
  }
  results.push({ shader: name, ms: stats(times).median, runs: times });
}

if (a.json) {
  console.log(JSON.stringify({ adapter: adapter.info?.description ?? '', results }));
} else {
  console.log(`compile time per shader (median of ${a.repeats}), ${adapter.info?.description || 'Dawn'}`);
  console.log('shader | ms');
  for (const r of results) console.log(`${r.shader} | ${r.ms.toFixed(0)}`);
}
process.exit(0);
