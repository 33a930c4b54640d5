#!/usr/bin/env node
// The figures the site issue asks for, measured in headless Chromium against the built site:
// bytes a first visit downloads, time from navigation to the first trained step, in-browser
// ms/step (median over a run) for full and adapter on the WebGPU path (SwiftShader here) and
// on the CPU path, and the memory each mode measured. Prints Markdown.
//
// Usage: node scripts/site-figures.mjs [--steps N] [--gpu-steps N] [--wait MS] [--cpu-only]   (after scripts/build-wasm.sh)
//   --wait: how long the default widget's second press waits after it is ready (default 2000)

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { setup, openPage, testPage, ready } from '../tests/e2e/helpers.mjs';
import { exitOnHelp } from './usage.mjs';

exitOnHelp(import.meta.url);

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const steps = { cpu: arg('steps', 20), webgpu: arg('gpu-steps', 5) };
const paths = process.argv.includes('--cpu-only') ? ['cpu'] : ['cpu', 'webgpu'];
const wait = arg('wait', 2000);

async function measure(path) {
  const env = await setup({ webgpu: path === 'webgpu' });
  try {
    const html = testPage(`<finetune-lab task="records" steps="${steps[path]}" batch="4" context="64" sample="0"></finetune-lab>`);
    const page = await openPage(env, 't/figures.html', { pages: { 't/figures.html': html } });
    const widget = await ready(page, 0, 300_000);
    const runs = { firstStepMs: (await firstStep(widget)).at };
    for (const mode of ['adapter', 'full']) {
      const d = await widget.evaluate((el, m) => el.run(m), mode);
      runs[mode] = { ms: d.ms_per_step, loss: d.loss, before: d.heldout_before, after: d.heldout_after, memory: d.memory };
    }
    const label = await widget.locator('.backend').textContent();
    // Everything the visit fetched, sized from the files served (the test page itself is ours).
    const paths = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    const downloads = [...new Set(paths)]
      .filter((p) => !p.startsWith('/t/'))
      .map((p) => {
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

/**
 * Navigation → the first trained step, read on the page's clock (its origin is the navigation):
 * through download, compile, the base's held-out loss and sample, and the first step, with the
 * button pressed as soon as the widget is ready. The run is stopped after that step.
 */
function firstStep(widget) {
  return widget.evaluate(async (el) => {
    let at;
    el.addEventListener(
      'finetune-progress',
      () => {
        at = performance.now();
        el.stop();
      },
      { once: true },
    );
    const pressed = performance.now();
    await el.run('adapter');
    return { at, afterPress: at - pressed };
  });
}

/**
 * The same for a widget as an author pastes it (every setting at its default), on `path`:
 * pressed at once, and pressed `wait` ms after it is ready, as a reader who reads first would.
 */
async function firstStepByDefault(path) {
  const env = await setup({ webgpu: path === 'webgpu' });
  try {
    const open = async () => ready(await openPage(env, 't/default.html', { pages: { 't/default.html': testPage('<finetune-lab></finetune-lab>') } }), 0, 300_000);
    const atOnce = (await firstStep(await open())).at;
    const widget = await open();
    await new Promise((ok) => setTimeout(ok, wait));
    return { atOnce, later: (await firstStep(widget)).afterPress, wait };
  } finally {
    await env.close();
  }
}

const bytes = (n) => (n == null ? '—' : n.toLocaleString('en-US'));
for (const path of paths) {
  const r = await measure(path);
  const total = r.downloads.reduce((a, d) => a + d.bytes, 0);
  const gz = r.downloads.reduce((a, d) => a + d.gzipped, 0);
  console.log(`\n### ${path}: ${r.label} (batch 4 × 64, ${steps[path]} steps)\n`);
  const d = await firstStepByDefault(path);
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`first visit: ${r.downloads.length} responses, ${bytes(total)} B raw, ${bytes(gz)} B gzipped; navigation → first trained step ${s(r.firstStepMs)}`);
  console.log(
    `a widget with every setting at its default: navigation → first trained step ${s(d.atOnce)} pressed as soon as it is ready; pressed ${s(d.wait)} after that, ${s(d.later)} from the press\n`,
  );
  console.log('| mode | ms/step (median) | held-out before → after | weights | gradients | optimizer | activations | peak | allocator overhead |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const mode of ['full', 'adapter']) {
    const m = r[mode];
    const meas = m.memory?.measured;
    const pred = m.memory?.predicted;
    const both = (key) => `${bytes(pred?.[key])} / ${meas ? bytes(meas[key]) : 'n/a'}`;
    console.log(
      `| ${mode} | ${m.ms.toFixed(1)} | ${m.before?.toFixed(3)} → ${m.after?.toFixed(3)} | ${both('weights_bytes')} | ${both('grads_bytes')} | ${both('optimizer_bytes')} | ${both('activations_bytes')} | ${meas ? bytes(meas.peak_bytes) : 'n/a'} | ${meas ? bytes(meas.allocator_overhead_bytes) : 'n/a'} |`,
    );
  }
  console.log('\n(memory cells: predicted / measured bytes; the CPU backend keeps no allocator report)');
  for (const d of r.downloads.sort((a, b) => b.bytes - a.bytes).slice(0, 6)) console.log(`  ${d.url}: ${bytes(d.bytes)} B (${bytes(d.gzipped)} gz)`);
}
