// Free until used: a widget below the fold costs the page only our scripts until the reader
// scrolls near it (load="visible", the default), uses it ("interaction"), or at once ("eager").

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setup, openPage, ready, testPage } from './helpers.mjs';

const WWW = fileURLToPath(new URL('../../www', import.meta.url));

// About four screens of lesson before the widget.
const LESSON = Array.from({ length: 80 }, (_, i) => `<p>Paragraph ${i + 1} of the lesson: a full copy of a fine-tuned model per user adds up fast.</p>`).join('');
// Without WebGPU (this browser's setup) the module is the CPU-only build.
const HEAVY = ['/pkg-cpu/finetune_lab_bg.wasm', '/base/tiny.ftlab'];

let env;

before(async () => {
  env = await setup({ webgpu: false });
});

after(() => env?.close());

/** A page with `widget` below the lesson, in `browser` (this file's, without WebGPU, unless
 * given); every response's bytes on the wire, by path. */
async function open(widget, browser = env) {
  const path = `t/lazy-${Math.random().toString(36).slice(2)}.html`;
  const transferred = new Map();
  // Opened blank first, so that the counting starts before the lesson's first request.
  const page = await openPage(browser, 't/blank.html', { pages: { 't/blank.html': '<!doctype html><title>blank</title>', [path]: testPage(`${LESSON}${widget}`) } });
  page.on('requestfinished', async (request) => {
    const sizes = await request.sizes();
    const key = new URL(request.url()).pathname;
    transferred.set(key, (transferred.get(key) ?? 0) + sizes.responseBodySize + sizes.responseHeadersSize);
  });
  page.transferred = transferred;
  await page.goto(browser.url + path);
  return page;
}

const settle = (page) => page.waitForLoadState('networkidle');
const fetched = (page, path) => page.transferred.has(path);

test('below the fold: only our scripts until the reader scrolls near, then it loads', { timeout: 180_000 }, async () => {
  const page = await open('<finetune-lab task="qa" steps="2" batch="2" context="32" sample="0" panels="train"></finetune-lab>');
  await settle(page);
  const widget = page.locator('finetune-lab');
  assert.match(await widget.locator('.status').textContent(), /loads when you scroll to it/);
  for (const heavy of HEAVY) assert.ok(!fetched(page, heavy), `${heavy} fetched before scrolling`);
  const ours = [...page.transferred].filter(([path]) => !path.startsWith('/t/'));
  const total = ours.reduce((sum, [, bytes]) => sum + bytes, 0);
  console.log(`# before scrolling: ${total} B of ours in ${ours.length} responses, gzipped (${ours.map(([p, b]) => `${p} ${b}`).join(', ')})`);
  // Our scripts only: about 31 modules, some 57 kB gzipped, and their headers.
  assert.ok(total <= 70_000, `${total} B before scrolling`);
  await widget.scrollIntoViewIfNeeded();
  await ready(page);
  for (const heavy of HEAVY) assert.ok(fetched(page, heavy), `${heavy} not fetched after scrolling`);
  // The module and the base go as their precompressed copies where the build made them (the
  // shipped build does: scripts/build-wasm.sh), brotli where the browser accepts it.
  const wire = HEAVY.map((path) => page.transferred.get(path));
  const sum = [...page.transferred].filter(([path]) => !path.startsWith('/t/')).reduce((s, [, b]) => s + b, 0);
  console.log(`# the first visit with the weights, without WebGPU: ${sum} B of ours; the CPU-only module ${wire[0]} B and the base ${wire[1]} B on the wire`);
  assert.ok(!fetched(page, '/pkg/finetune_lab_bg.wasm'), 'the full module is not fetched without WebGPU');
  HEAVY.forEach((path, i) => {
    const gz = `${WWW}${path}.gz`;
    if (existsSync(gz)) assert.ok(wire[i] <= statSync(gz).size + 2_000, `${path}: ${wire[i]} B on the wire, ${statSync(gz).size} B gzipped`);
  });
  const done = await widget.evaluate((el) => el.run('adapter'));
  assert.equal(done.step, 2);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('load="interaction": in view it still waits; a press on Load now loads it', { timeout: 180_000 }, async () => {
  const page = await open('<finetune-lab load="interaction" panels="train"></finetune-lab>');
  const widget = page.locator('finetune-lab');
  await widget.scrollIntoViewIfNeeded();
  await settle(page);
  assert.match(await widget.locator('.status').textContent(), /loads when you use it/);
  for (const heavy of HEAVY) assert.ok(!fetched(page, heavy), `${heavy} fetched before any use`);
  await widget.getByRole('button', { name: 'Load now' }).click();
  await ready(page);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('load="eager" loads below the fold at once; a bad value says so and waits for view', { timeout: 180_000 }, async () => {
  const eager = await open('<finetune-lab load="eager" panels="train"></finetune-lab>');
  await ready(eager);
  await eager.context().close();
  const bad = await open('<finetune-lab load="later" panels="train"></finetune-lab>');
  const widget = bad.locator('finetune-lab');
  await widget.locator('.error[role=alert]', { hasText: 'load="later" is not one of visible, interaction, eager' }).waitFor();
  await settle(bad);
  assert.ok(!fetched(bad, HEAVY[0]));
  await bad.context().close();
});

test('with WebGPU: the full module, and the first visit with the weights on the wire', { timeout: 300_000 }, async () => {
  const gpu = await setup({ webgpu: true });
  try {
    const page = await open('<finetune-lab load="eager" panels="train"></finetune-lab>', gpu);
    await ready(page, 0, 240_000);
    await settle(page);
    const ours = [...page.transferred].filter(([path]) => !path.startsWith('/t/'));
    const sum = ours.reduce((s, [, b]) => s + b, 0);
    const wire = (path) => page.transferred.get(path);
    console.log(`# the first visit with the weights, on WebGPU: ${sum} B of ours; the module ${wire('/pkg/finetune_lab_bg.wasm')} B and the base ${wire('/base/tiny.ftlab')} B on the wire`);
    assert.ok(fetched(page, '/pkg/finetune_lab_bg.wasm') && !fetched(page, HEAVY[0]), 'the full module, not the CPU-only one');
    // The first visit's budget (3.0 MB), for a host that serves the precompressed copies the build makes.
    if (existsSync(`${WWW}/pkg/finetune_lab_bg.wasm.br`)) assert.ok(sum <= 3_000_000, `${sum} B on the wire`);
    assert.deepEqual(page.problems(), []);
  } finally {
    await gpu.close();
  }
});
