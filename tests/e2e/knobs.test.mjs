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

test("the train panel starts from the page's recipe, r = 8 on every layer; the scale panel from the LoRA paper's", async () => {
  await widget.locator('.knob-cost', { hasText: 'trainable' }).waitFor();
  const recipe = await widget.evaluate((el) => el.lab.pageAdapter);
  assert.deepEqual([recipe.rank, recipe.targets], [8, 'all']);
  assert.equal(await train().getByLabel('Rank r', { exact: true }).inputValue(), '8');
  assert.equal(await train().getByLabel('on', { exact: true }).inputValue(), 'all');
  // 9,216 parameters per unit of rank (below); each a 4-byte float in the checkpoint.
  assert.match(await cost(), /^73,728 trainable parameters \(8\.1% of the model\), a 295 kB checkpoint/);
  // The lesson's GPT-3 figures stay those of r = 4 on Wq, Wv until the reader picks an adapter.
  assert.match(await widget.locator('section[data-panel="scale"] thead').textContent(), /r=4 on q,v/);
  assert.match(await widget.locator('#scale-rank-hint').textContent(), /the LoRA paper's/);
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
  assert.equal(await scale.locator('#scale-rank-hint').textContent(), 'as chosen in the Train panel');
  await shot(page, 'knobs-r16-all');
});

test('the setup round-trips through a URL: embed.html opens with the same attributes and knobs', { timeout: 120_000 }, async () => {
  const link = widget.getByRole('link', { name: /Link to this setup/ });
  await link.hover();
  const href = await link.getAttribute('href');
  const params = Object.fromEntries(new URL(href).searchParams);
  assert.deepEqual(params, { task: 'records', steps: '2', batch: '2', context: '32', sample: '0', panels: 'train,scale', rank: '16', targets: 'all' });
  const copy = await openPage(env, href.slice(env.url.length));
  const other = await ready(copy);
  for (const [name, value] of Object.entries(params)) assert.equal(await other.evaluate((el, n) => el.getAttribute(n), name), value, name);
  const knobs = other.locator('section[data-panel="train"]');
  assert.equal(await knobs.getByLabel('Rank r', { exact: true }).inputValue(), '16');
  assert.equal(await knobs.getByLabel('on', { exact: true }).inputValue(), 'all');
  // An author's adapter is the lesson's: the scale panel follows it from the start.
  assert.match(await other.locator('section[data-panel="scale"] thead').textContent(), /r=16 on all/);
  await copy.context().close();
});

test('targets an author mistyped are refused by name, and no adapter run starts', { timeout: 120_000 }, async () => {
  const bad = await openPage(env, 'embed.html?steps=2&panels=train&targets=qv');
  const other = await ready(bad);
  await other.locator('.knob-cost', { hasText: 'targets="qv" is not one of q,v, attn, all.' }).waitFor();
  const message = await other.evaluate((el) =>
    el.run('adapter').then(
      () => 'ran',
      (e) => e.message,
    ),
  );
  assert.match(message, /targets="qv" is not one of/);
  await bad.context().close();
});

test('a rank out of range: the panel says so and an adapter run is refused', async () => {
  await train().getByLabel('Rank r', { exact: true }).fill('0');
  assert.match(await cost(), /rank must be a whole number from 1 to 128, got `0`/);
  const message = await widget.evaluate((el) =>
    el.run('adapter').then(
      () => 'ran',
      (e) => e.message,
    ),
  );
  assert.match(message, /rank must be a whole number from 1 to 128, got `0`/);
  await train().getByLabel('Rank r', { exact: true }).fill('4');
});

test('the rank sweep: r = 1 to 16 on the chosen targets, a point each, none in the library', { timeout: 300_000 }, async () => {
  const library = await widget.evaluate((el) => el.tenants.view.tenants.length);
  await train()
    .getByRole('button', { name: /^Rank sweep/ })
    .click();
  const points = await widget.evaluate((el) => new Promise((ok) => el.addEventListener('finetune-sweep-done', (e) => ok(e.detail.points), { once: true })));
  // Still on every linear layer from the test above: 9,216 parameters per unit of rank.
  assert.deepEqual(
    points.map((p) => [p.rank, p.params]),
    [1, 2, 4, 8, 16].map((r) => [r, 9_216 * r]),
  );
  for (const p of points) assert.ok(Number.isFinite(p.heldout) && p.heldout > 0, JSON.stringify(p));
  assert.equal(await widget.locator('.sweep-list li').count(), 5);
  // The chart redraws on the next animation frame, which may come after the event.
  const label = () => widget.locator('.sweep-view svg').getAttribute('aria-label');
  for (let tries = 0; tries < 50 && !/over 5 ranks/.test(await label()); tries++) await new Promise((ok) => setTimeout(ok, 100));
  assert.match(await label(), /over 5 ranks/);
  assert.equal(await widget.evaluate((el) => el.tenants.view.tenants.length), library);
  await shot(page, 'knobs-sweep');
});

test('no console errors, no request off 127.0.0.1', () => {
  assert.deepEqual(page.problems(), []);
});
