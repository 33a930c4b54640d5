#!/usr/bin/env node
// The figures the site issue asks for, measured in headless Chromium against the built site:
// bytes a first visit downloads, time from navigation to the first trained step, in-browser
// ms/step (median over a run) for full and adapter on the WebGPU path (SwiftShader here) and
// on the CPU path, and the memory each mode measured. Prints Markdown.
//
// Usage: node scripts/site-figures.mjs [--steps N] [--gpu-steps N]   (after scripts/build-wasm.sh)

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { setup, openPage, testPage, ready } from '../tests/e2e/helpers.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const steps = { cpu: arg('steps', 20), webgpu: arg('gpu-steps', 5) };

async function measure(path) {
  const env = await setup({ webgpu: path === 'webgpu' });
  try {
    const html = testPage(`<finetune-lab task="records" steps="${steps[path]}" batch="4" context="64" sample="0"></finetune-lab>`);
    const started = Date.now();
    const page = await openPage(env, 't/figures.html', { pages: { 't/figures.html': html } });
    const widget = await ready(page, 0, 300_000);
    // Time to the first trained step: from navigation, through download, compile and first step.
    const firstStep = widget.evaluate((el) => new Promise((ok) => el.addEventListener('finetune-progress', ok, { once: true })));
    const runs = {};
    for (const mode of ['adapter', 'full']) {
      const done = widget.evaluate((el, m) => el.run(m), mode);
      if (mode === 'adapter') {
        await firstStep;
        runs.firstStepMs = Date.now() - started;
      }
      const d = await done;
      runs[mode] = { ms: d.ms_per_step, loss: d.loss, before: d.heldout_before, after: d.heldout_after, memory: d.memory };
    }
    const label = await widget.locator('.backend').textContent();
    // Everything the visit fetched, sized from the files served (the test page itself is ours).
    const paths = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    const downloads = [...new Set(paths)].filter((p) => !p.startsWith('/t/')).map((p) => {
      const body = readFileSync(fileURLToPath(new URL(`../www${p}`, import.meta.url)));
      return { url: p, bytes: body.length, gzipped: gzipSync(body, { level: 9 }).length };
    });
    await env.close();
    return { label: label.trim(), downloads, ...runs };
  } catch (e) {
    await env.close();
    throw e;
  }
}

const bytes = (n) => n == null ? '—' : n.toLocaleString('en-US');
for (const path of ['cpu', 'webgpu']) {
  const r = await measure(path);
  const total = r.downloads.reduce((a, d) => a + d.bytes, 0);
  const gz = r.downloads.reduce((a, d) => a + d.gzipped, 0);
  console.log(`\n### ${path}: ${r.label} (batch 4 × 64, ${steps[path]} steps)\n`);
  console.log(`first visit: ${r.downloads.length} responses, ${bytes(total)} B raw, ${bytes(gz)} B gzipped; navigation → first trained step ${(r.firstStepMs / 1000).toFixed(1)} s\n`);
  console.log('| mode | ms/step (median) | held-out before → after | weights | gradients | optimizer | activations | peak | allocator overhead |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const mode of ['full', 'adapter']) {
    const m = r[mode];
    const meas = m.memory?.measured;
    const pred = m.memory?.predicted;
    const both = (key) => `${bytes(pred?.[key])} / ${meas ? bytes(meas[key]) : 'n/a'}`;
    console.log(`| ${mode} | ${m.ms.toFixed(1)} | ${m.before?.toFixed(3)} → ${m.after?.toFixed(3)} | ${both('weights_bytes')} | ${both('grads_bytes')} | ${both('optimizer_bytes')} | ${both('activations_bytes')} | ${meas ? bytes(meas.peak_bytes) : 'n/a'} | ${meas ? bytes(meas.allocator_overhead_bytes) : 'n/a'} |`);
  }
  console.log('\n(memory cells: predicted / measured bytes; the CPU backend keeps no allocator report)');
  for (const d of r.downloads.sort((a, b) => b.bytes - a.bytes).slice(0, 6)) console.log(`  ${d.url}: ${bytes(d.bytes)} B (${bytes(d.gzipped)} gz)`);
}
