// The page stays responsive while the widget trains and samples: the work runs in a worker, so
// no task on the page's thread outlasts 100 ms (PerformanceObserver "longtask"), on the CPU path
// at the default size and at 16 × 128 and on WebGPU (shader compilation included); and Stop
// cuts a long sample short.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, testPage } from './helpers.mjs';

let env;
let page;
let widget;
const HTML = testPage('<finetune-lab task="records" sample="0" panels="data,train,memory"></finetune-lab>');

before(async () => {
  env = await setup({ webgpu: true });
  page = await openPage(env, 't/responsive.html', { pages: { 't/responsive.html': HTML.replace('<finetune-lab ', '<finetune-lab backend="cpu" ') } });
  widget = await ready(page);
});

after(() => env?.close());

/** Run with `settings`, and the longest main-thread task (ms) the browser saw meanwhile. */
const longestTaskDuring = (widget, settings) =>
  widget.evaluate(async (el, settings) => {
    const tasks = [];
    const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
    observer.observe({ type: 'longtask' });
    const done = await el.run('full', settings);
    await new Promise((ok) => setTimeout(ok, 50)); // let the last entries arrive
    observer.disconnect();
    return { done, longest: Math.max(0, ...tasks), count: tasks.length };
  }, settings);

test('control: the observer does see a long task on the page', async () => {
  const longest = await page.evaluate(async () => {
    const tasks = [];
    const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
    observer.observe({ type: 'longtask' });
    await new Promise((ok) => setTimeout(ok, 0));
    const until = performance.now() + 150;
    while (performance.now() < until); // what one CPU step at 16 × 128 on this thread did
    await new Promise((ok) => setTimeout(ok, 50));
    observer.disconnect();
    return Math.max(0, ...tasks);
  });
  assert.ok(longest >= 150, `saw ${longest} ms`);
});

for (const [name, settings] of [
  ['the default size (4 × 128)', { steps: 10, sample: 40 }],
  ['16 × 128', { steps: 4, batch: 16, context: 128, sample: 40 }],
]) {
  test(`CPU path at ${name}: no main-thread task over 100 ms during a run`, { timeout: 180_000 }, async () => {
    const { done, longest, count } = await longestTaskDuring(widget, settings);
    console.log(`# ${name}: ${done.step} steps at ${done.ms_per_step.toFixed(0)} ms/step, ${count} long tasks, the longest ${longest.toFixed(0)} ms`);
    assert.equal(done.step, settings.steps);
    assert.ok(longest <= 100, `a ${longest.toFixed(0)} ms task on the page's thread`);
  });
}

test('WebGPU: no main-thread task over 100 ms during the first run, shaders compiled in it', { timeout: 300_000 }, async () => {
  const gpuPage = await openPage(env, 't/responsive-gpu.html', { pages: { 't/responsive-gpu.html': HTML } });
  const gpuWidget = await ready(gpuPage, 0, 180_000);
  assert.equal(await gpuWidget.locator('.backend').getAttribute('data-backend'), 'webgpu');
  const { done, longest, count } = await longestTaskDuring(gpuWidget, { steps: 3, sample: 8 });
  console.log(`# WebGPU (SwiftShader): ${done.step} steps at ${done.ms_per_step.toFixed(0)} ms/step, ${count} long tasks, the longest ${longest.toFixed(0)} ms`);
  assert.equal(done.step, 3);
  assert.ok(longest <= 100, `a ${longest.toFixed(0)} ms task on the page's thread`);
  assert.deepEqual(gpuPage.problems(), []);
  await gpuPage.context().close();
});

test('Stop cuts a long sample short', { timeout: 180_000 }, async () => {
  const done = await widget.evaluate(async (el) => {
    el.reset();
    const run = el.run('adapter', { steps: 3, sample: 1000 });
    await new Promise((ok) => setTimeout(ok, 1500)); // inside the base model's 1,000-character sample
    el.stop();
    return run;
  });
  assert.equal(done.stopped, true);
  assert.equal(done.step, 0);
  // The prompt and what was sampled of the 1,000 characters before Stop.
  const shown = await widget.locator('[data-sample="before"]').textContent();
  assert.ok(shown.length < 1000, `the sample ran to ${shown.length} characters`);
});

test('no console errors, no request off 127.0.0.1', () => {
  assert.deepEqual(page.problems(), []);
});
