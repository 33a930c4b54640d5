// Our WGSL kernels on the browser's WebGPU (SwiftShader here) through the module itself, no
// widget: every kernel against burn's ops on the CPU (Lab.checkKernels, the cases `cargo test`
// runs natively), then 20 training steps on WebGPU against the same 20 on our CPU path (which
// bench/smoke.sh holds to PyTorch's and TF.js's curves).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { setup, openPage, testPage } from './helpers.mjs';

let env;
let page;

before(async () => {
  env = await setup({ webgpu: true });
  page = await openPage(env, 't/module.html', { pages: { 't/module.html': testPage('') } });
  await page.evaluate(async () => {
    const mod = await import('/pkg/finetune_lab.js');
    await mod.default({ module_or_path: '/pkg/finetune_lab_bg.wasm' });
    const base = new Uint8Array(await (await fetch('/base/tiny.ftlab')).arrayBuffer());
    window.labs = { webgpu: await mod.Lab.open(base, true), cpu: await mod.Lab.open(base, false) };
  });
});

after(() => env?.close());

test('every kernel matches burn on WebGPU', { timeout: 300_000 }, async () => {
  const checks = await page.evaluate(() => window.labs.webgpu.checkKernels());
  for (const c of checks) console.log(`# ${c.name}: values ${c.values.toExponential(1)}, gradients ${c.gradients.toExponential(1)} (≤ ${c.tolerance})`);
  // Every operation of ours (a folder of crate/src/ops/) has a case, named after it.
  const ops = readdirSync(new URL('../../crate/src/ops/', import.meta.url), { withFileTypes: true }).filter((e) => e.isDirectory());
  assert.ok(ops.length >= 7, ops.map((e) => e.name).join());
  for (const { name } of ops)
    assert.ok(
      checks.some((c) => c.name.startsWith(`${name} `)),
      `no case for ops/${name}/`,
    );
  for (const c of checks) assert.ok(c.values <= c.tolerance && c.gradients <= c.tolerance, JSON.stringify(c));
});

test('20 steps on WebGPU follow the CPU path loss curve', { timeout: 600_000 }, async () => {
  for (const mode of ['full', 'adapter']) {
    const losses = await page.evaluate(async (mode) => {
      const run = async (lab) => {
        const session = lab.start({ mode, task: 'records', batch: 4, context: 64, ...(mode === 'adapter' ? { rank: 4, targets: ['q', 'v'] } : {}) });
        const out = [];
        while (out.length < 20) out.push(...(await session.steps(20 - out.length)));
        session.free();
        return out;
      };
      return { webgpu: await run(window.labs.webgpu), cpu: await run(window.labs.cpu) };
    }, mode);
    const diff = Math.max(...losses.cpu.map((v, i) => Math.abs(v - losses.webgpu[i])));
    console.log(`# ${mode}: max |webgpu − cpu| over 20 steps ${diff.toExponential(1)}; ${losses.cpu[0].toFixed(4)} → ${losses.cpu[19].toFixed(4)}`);
    assert.ok(diff <= 1e-4, `${mode}: ${JSON.stringify(losses)}`);
    assert.ok(losses.cpu[19] < losses.cpu[0] - 1, `${mode}: the run must learn`);
  }
});

test('no console errors, no request off 127.0.0.1', () => {
  assert.deepEqual(page.problems(), []);
});
