// The LoRA knobs in the train panel: rank and targets change what an adapter run trains, what
// the panel says it costs (from the memory model), and what the scale panel scales.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, figure, testPage, shot } from './helpers.mjs';

let env;
let page;
let widget;

before(async () => {
  env = await setup({ webgpu: false });
  const html = testPage('<finetune-lab task="records" steps="2" batch="2" context="32" sample="0" panels="train,scale"></finetune-lab>');
  page = await openPage(env, 't/knobs.html', { pages: { 't/knobs.html': html } });
  widget = await ready(page);
});

after(() => env?.close());

const cost = () => widget.locator('.knob-cost').textContent();
const train = () => widget.locator('section[data-panel="train"]');

test('the default is the LoRA paper\'s r = 4 on Wq, Wv: 8,192 trainable parameters', async () => {
  await widget.locator('.knob-cost', { hasText: 'trainable' }).waitFor();
  assert.match(await cost(), /^8,192 trainable parameters \(1\.0% of the model\), a 32\.8 kB checkpoint/);
});

test('rank 16 on every linear layer: the cost, the run and the scale panel all follow', { timeout: 120_000 }, async () => {
  await train().getByLabel('Rank r', { exact: true }).fill('16');
  await train().getByLabel('on', { exact: true }).selectOption('all');
  // 4 blocks × r × (4 × (128 + 128) + (128 + 512) + (512 + 128)) = 9,216 r.
  assert.match(await cost(), /^147,456 trainable parameters/);
  const done = await widget.evaluate((el) => el.run('adapter'));
  assert.equal(done.step, 2);
  assert.equal(await figure(widget, 'params_trainable', 'adapter'), 147_456);
  const scale = widget.locator('section[data-panel="scale"]');
  assert.equal(await scale.getByLabel('Adapter rank r').inputValue(), '16');
  assert.match(await scale.locator('thead').textContent(), /r=16 on all/);
  await shot(page, 'knobs-r16-all');
});

test('a rank out of range: the panel says so and an adapter run is refused', async () => {
  await train().getByLabel('Rank r', { exact: true }).fill('0');
  assert.match(await cost(), /whole number from 1 to 64/);
  const message = await widget.evaluate((el) => el.run('adapter').then(() => 'ran', (e) => e.message));
  assert.match(message, /whole number from 1 to 64/);
  await train().getByLabel('Rank r', { exact: true }).fill('4');
});

test('the rank sweep: r = 1 to 16 on the chosen targets, a point each, none in the library', { timeout: 300_000 }, async () => {
  const library = await widget.evaluate((el) => el.serveView.tenants.length);
  await train().getByRole('button', { name: /^Rank sweep/ }).click();
  const points = await widget.evaluate((el) => new Promise((ok) => el.addEventListener('finetune-sweep-done', (e) => ok(e.detail.points), { once: true })));
  // Still on every linear layer from the test above: 9,216 parameters per unit of rank.
  assert.deepEqual(points.map((p) => [p.rank, p.params]), [1, 2, 4, 8, 16].map((r) => [r, 9_216 * r]));
  for (const p of points) assert.ok(Number.isFinite(p.heldout) && p.heldout > 0, JSON.stringify(p));
  assert.equal(await widget.locator('.sweep-list li').count(), 5);
  assert.match(await widget.locator('.sweep-view svg').getAttribute('aria-label'), /over 5 ranks/);
  assert.equal(await widget.evaluate((el) => el.serveView.tenants.length), library);
  await shot(page, 'knobs-sweep');
});

test('no console errors, no request off 127.0.0.1', () => {
  assert.deepEqual(page.problems(), []);
});
