// The page as a whole: the lesson page loads cleanly in light and dark, several widgets on one
// page share one module, one base and one GPU device, and two of them train at the same time.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, runVia, testPage, shot, inWorkers } from './helpers.mjs';

const widgetHtml = (task, steps) => `<finetune-lab task="${task}" steps="${steps}" batch="2" context="32" sample="8" panels="train"></finetune-lab>`;
const TWO = testPage(`<h1>Two widgets</h1>${widgetHtml('records', 3)}<p>Between them.</p>${widgetHtml('qa', 3)}`);

/** How many times each path was fetched, from the page's own resource timing. */
const fetchCounts = (page) =>
  page.evaluate(() => {
    const n = {};
    for (const e of performance.getEntriesByType('resource')) n[new URL(e.name).pathname] = (n[new URL(e.name).pathname] ?? 0) + 1;
    return n;
  });

/**
 * The lesson's figures are typed into index.html; each must be what the crate's memory model
 * (through the page's own module) computes for GPT-3 175B at its default precision (fp16
 * weights): the copies table, the cold
 * load, and LoRA's r = 4 on Wq, Wv. A change to either side that breaks the lesson fails here.
 */
async function lessonFiguresAreTheCrates(page, widget) {
  const article = await page.locator('article').textContent();
  const words = article.replace(/\s+/g, ' ');
  // The crate's question with its defaults (mixed16 for GPT-3, batch 1, NVMe), one copy resident.
  const scale = (input) => widget.evaluate((el, i) => el.mod.scale({ model: 'gpt3-175b', hot: 1, ...i }), input);
  const gb = (text) => Number(text.replace(/,/g, '')) * 1e9;
  // The lesson's own table (a locator would pierce into the widget's shadow root and find its tables too).
  const rows = await page.evaluate(() => [...document.querySelector('article table').tBodies[0].rows].map((tr) => [...tr.cells].map((c) => c.textContent)));
  assert.equal(rows.length, 4);
  for (const [users, copies] of rows) {
    const report = await scale({ mode: 'full', tenants: Number(users.replace(/,/g, '')) });
    assert.equal(gb(copies.replace(' GB', '')), report.nominal_storage_full_bytes, `${users} users: ${copies}`);
  }
  const one = await scale({ mode: 'full', tenants: 1 });
  assert.ok(words.includes(`= ${one.nominal_weights_bytes / 1e9} GB.`), 'the sum line');
  assert.ok(words.includes(`takes some ${Math.round(one.cold_load_full_seconds)} seconds`), `cold load ${one.cold_load_full_seconds} s`);
  const lora = await scale({ mode: 'adapter', tenants: 1, rank: 4, targets: 'q,v' });
  assert.ok(words.includes(`about ${(lora.params_trainable / 1e6).toFixed(1)} million trainable parameters`), `${lora.params_trainable} trainable`);
  assert.ok(words.includes(`a file of about ${Math.round(lora.checkpoint_bytes / 1e6)} MB per user`), `${lora.checkpoint_bytes} B checkpoint`);
}

let gpu;
let cpu;

before(async () => {
  gpu = await setup({ webgpu: true });
  cpu = await setup({ webgpu: false });
});

after(async () => {
  await gpu?.close();
  await cpu?.close();
});

test('the lesson page: lesson and widget, light and dark, no errors, nothing off 127.0.0.1', { timeout: 180_000 }, async () => {
  for (const colorScheme of ['light', 'dark']) {
    const page = await openPage(gpu, '', { colorScheme });
    const widget = await ready(page, 0, 180_000);
    assert.match(await page.locator('h1').textContent(), /Issues with traditional fine-tuning/);
    if (colorScheme === 'light') await lessonFiguresAreTheCrates(page, widget);
    await widget.getByRole('button', { name: 'Fine-tune full', exact: true }).focus();
    await page.keyboard.press('Tab'); // keyboard order: the next button
    assert.equal(await page.evaluate(() => document.activeElement.shadowRoot.activeElement.textContent), 'Fine-tune adapter');
    await shot(page, `lesson-page-${colorScheme}`);
    assert.deepEqual(page.problems(), []);
    await page.context().close();
  }
});

test('widgets on one page share one module, one base and one GPU device', { timeout: 180_000 }, async () => {
  // Devices are requested in the Lab's worker: count them there, tell the page.
  const countDevices = () => {
    const real = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = function (...args) {
      new BroadcastChannel('finetune-lab-test').postMessage('device');
      return real.apply(this, args);
    };
  };
  const init = () => {
    window.__devices = 0;
    new BroadcastChannel('finetune-lab-test').onmessage = () => (window.__devices += 1);
  };
  const page = await openPage(gpu, 't/two.html', { pages: { 't/two.html': TWO }, init, routes: [inWorkers(countDevices)] });
  const [a, b] = [await ready(page, 0, 180_000), await ready(page, 1, 180_000)];
  assert.match(await a.locator('.backend').textContent(), /^WebGPU: /);
  assert.equal(await a.locator('.backend').textContent(), await b.locator('.backend').textContent());
  assert.equal(await page.evaluate(() => window.__devices), 1);
  const counts = await fetchCounts(page);
  assert.equal(counts['/pkg/finetune_lab_bg.wasm'], 1, JSON.stringify(counts));
  assert.equal(counts['/base/tiny.ftlab'], 1, JSON.stringify(counts));
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('two widgets train at the same time on the shared backend', { timeout: 240_000 }, async () => {
  // On the CPU path: the same sharing, without SwiftShader's seconds per step.
  const page = await openPage(cpu, 't/two.html', { pages: { 't/two.html': TWO } });
  const [a, b] = [await ready(page, 0), await ready(page, 1)];
  const [da, db] = await Promise.all([runVia(a, 'adapter'), runVia(b, 'full')]);
  assert.deepEqual([da.mode, da.step, db.mode, db.step], ['adapter', 3, 'full', 3]);
  assert.ok(Number.isFinite(da.loss) && Number.isFinite(db.loss));
  // Each widget shows its own run only.
  assert.equal(await a.locator('[data-figure="steps"][data-mode="full"]').count(), 0);
  assert.equal(await b.locator('[data-figure="steps"][data-mode="adapter"]').count(), 0);
  await shot(page, 'two-widgets');
  assert.deepEqual(page.problems(), []);
});

test('a widget removed mid-run stops, and the page carries on', { timeout: 120_000 }, async () => {
  const page = await openPage(cpu, 't/two.html', { pages: { 't/two.html': TWO } });
  const widget = await ready(page, 0);
  const result = await widget.evaluate(async (el) => {
    const run = el.run('full', { steps: 500 });
    await new Promise((ok) => el.addEventListener('finetune-progress', ok, { once: true }));
    el.remove();
    const done = await run;
    return { stopped: done.stopped, step: done.step, left: document.querySelectorAll('finetune-lab').length };
  });
  assert.ok(result.stopped && result.step < 500, JSON.stringify(result));
  assert.equal(result.left, 1);
  const other = await ready(page, 0); // the second widget, now the only one, still trains
  assert.equal((await runVia(other, 'adapter')).step, 3);
  assert.deepEqual(page.problems(), []);
});
