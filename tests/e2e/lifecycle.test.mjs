// The element's life in a host page, on the CPU path: moved, it keeps its run and chart;
// removed, it stops and lets go; many runs and many connect/disconnect cycles leave the JS heap
// and the wasm heap flat; a trap in another module on the page is not taken for ours.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, testPage } from './helpers.mjs';

const WIDGET = '<finetune-lab task="records" steps="12" batch="2" context="16" sample="0" panels="train"></finetune-lab>';

let env;
let page;
let widget;

before(async () => {
  env = await setup({ webgpu: false });
  const body = `<div id="left">${WIDGET}</div><div id="right"></div>`;
  // The host page's own trap (below) reaches the console as an uncaught rejection: expected.
  page = await openPage(env, 't/lifecycle.html', { pages: { 't/lifecycle.html': testPage(body) }, allowErrors: [/host page's own trap/] });
  widget = await ready(page);
});

after(() => env?.close());

/** Points on the chart's line for `mode`. */
const points = (mode) => widget.evaluate((el, m) => (el.shadowRoot.querySelector(`.series.${m} path`)?.getAttribute('d') ?? '').split(/[ML]/).filter(Boolean).length, mode);

test('moved in the page mid-run: the run goes on and its chart keeps drawing', { timeout: 120_000 }, async () => {
  const done = await widget.evaluate(async (el) => {
    const run = el.run('full');
    await new Promise((ok) => el.addEventListener('finetune-progress', ok, { once: true }));
    document.getElementById('right').append(el); // disconnect + connect
    return run;
  });
  assert.equal(done.stopped, false);
  assert.equal(done.step, 12);
  assert.ok(await page.locator('#right finetune-lab').count());
  assert.equal(await points('full'), 12);
});

test('removed mid-run: the run stops and its session is freed', { timeout: 120_000 }, async () => {
  const outcome = await page.evaluate(async () => {
    const el = document.querySelector('finetune-lab');
    const heap = async () => (await el.lab.heapBytes()).live; // the CPU worker's heap
    const idle = await heap();
    const run = el.run('adapter', { steps: 5000 });
    await new Promise((ok) => el.addEventListener('finetune-progress', ok, { once: true }));
    el.remove();
    const done = await run;
    document.getElementById('left').append(el);
    return { done, idle, after: await heap() };
  });
  assert.equal(outcome.done.stopped, true);
  assert.ok(outcome.done.step < 5000, `stopped at ${outcome.done.step}`);
  // The session's weights and optimizer state went with it: within 5% of the idle heap.
  assert.ok(outcome.after <= outcome.idle * 1.05, `live heap ${outcome.idle} B idle, ${outcome.after} B after`);
});

test('a trap in another module on the page is not taken for ours', { timeout: 120_000 }, async () => {
  const done = await widget.evaluate(async (el) => {
    const run = el.run('full', { steps: 6 });
    await new Promise((ok) => el.addEventListener('finetune-progress', ok, { once: true }));
    // What another wasm module's crash looks like to the page: an uncaught RuntimeError.
    Promise.reject(new WebAssembly.RuntimeError("the host page's own trap"));
    return run.then(
      (d) => d,
      (e) => ({ error: e.message }),
    );
  });
  assert.equal(done.error, undefined);
  assert.equal(done.step, 6);
  assert.ok(await widget.locator('.error[role=alert]').isHidden());
});

test('30 runs and 20 connect/disconnect cycles: the JS heap and the wasm heap stay flat', { timeout: 300_000 }, async () => {
  const cdp = await page.context().newCDPSession(page);
  const jsHeap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const wasmHeap = () => widget.evaluate(async (el) => (await el.lab.heapBytes()).live);
  const runs = (n) =>
    widget.evaluate(async (el, n) => {
      for (let i = 0; i < n; i++) await el.run(i % 2 ? 'adapter' : 'full', { steps: 2 });
    }, n);
  const cycles = (n) =>
    page.evaluate(async (n) => {
      for (let i = 0; i < n; i++) {
        const el = document.querySelector('finetune-lab');
        const home = el.parentElement;
        el.remove();
        await new Promise((ok) => setTimeout(ok, 10)); // a real removal, not a move
        home.append(el);
        await new Promise((ok) => setTimeout(ok, 10));
      }
    }, n);
  await runs(6); // warm-up: first allocations, caches, the base's held-out score
  await cycles(4);
  const js0 = await jsHeap();
  const wasm0 = await wasmHeap();
  await runs(24);
  await cycles(16);
  const js1 = await jsHeap();
  const wasm1 = await wasmHeap();
  console.log(`# JS heap ${js0} → ${js1} B (${((js1 / js0 - 1) * 100).toFixed(1)}%), wasm heap ${wasm0} → ${wasm1} B (${((wasm1 / wasm0 - 1) * 100).toFixed(1)}%)`);
  assert.ok(js1 <= js0 * 1.1, `JS heap grew from ${js0} to ${js1} B`);
  assert.ok(wasm1 <= wasm0 * 1.1, `wasm heap grew from ${wasm0} to ${wasm1} B`);
  // Still working after all that.
  const done = await widget.evaluate((el) => el.run('adapter', { steps: 2 }));
  assert.equal(done.step, 2);
});

test('no console errors, no request off 127.0.0.1', () => {
  assert.deepEqual(page.problems(), []);
});
