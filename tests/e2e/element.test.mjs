// The element as an author's script meets it, on the CPU path: properties read back as numbers,
// calls that come before the lab has loaded load it and then run, wrong choices named, an error
// gone once the next action succeeds, a stopped sweep told as such, and nothing left behind
// (observers, revoked links) when the element leaves the page and comes back.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { setup, openPage, ready, testPage } from './helpers.mjs';

const SMALL = 'steps="2" batch="2" context="16" sample="0"';
// Enough lesson above the widget that it starts out of view.
const LESSON = Array.from({ length: 60 }, (_, i) => `<p>Paragraph ${i + 1}: one copy of a fine-tuned model per user adds up.</p>`).join('');

let env;

before(async () => {
  env = await setup({ webgpu: false });
});

after(() => env?.close());

/** A page holding `body`, and the paths it fetched. */
async function open(body) {
  const path = `t/element-${Math.random().toString(36).slice(2)}.html`;
  const page = await openPage(env, 't/blank.html', { pages: { 't/blank.html': '<!doctype html><title>blank</title>', [path]: testPage(body) } });
  page.fetched = new Set();
  page.on('request', (r) => page.fetched.add(new URL(r.url()).pathname));
  await page.goto(env.url + path);
  return page;
}

test('numeric attributes read back as numbers; absent or not a number is null', async () => {
  const page = await open(`<finetune-lab load="interaction" steps="12" batch="four"></finetune-lab>`);
  const read = await page.locator('finetune-lab').evaluate((el) => {
    el.seed = 7;
    return { steps: el.steps, batch: el.batch, context: el.context, seed: el.seed, seedAttribute: el.getAttribute('seed'), task: el.task };
  });
  assert.deepEqual(read, { steps: 12, batch: null, context: null, seed: 7, seedAttribute: '7', task: null });
  await page.context().close();
});

test('run() before the lab has loaded loads it (load="interaction"), shows it loading, then runs', { timeout: 120_000 }, async () => {
  const page = await open(`<finetune-lab load="interaction" ${SMALL} panels="train"></finetune-lab>`);
  const widget = page.locator('finetune-lab');
  assert.match(await widget.locator('.status').textContent(), /loads when you use it/);
  const said = [];
  await page.exposeFunction('said', (text) => said.push(text));
  const done = await widget.evaluate((el) => {
    new MutationObserver(() => window.said(el.shadowRoot.querySelector('.status-text').textContent)).observe(el.shadowRoot.querySelector('.status'), {
      subtree: true,
      childList: true,
      characterData: true,
    });
    return el.run('adapter');
  });
  assert.equal(done.step, 2);
  assert.ok(
    said.some((t) => /Loading the module|Downloading/.test(t)),
    said.join(' | '),
  );
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('serve() before the Serve panel was ever seen: the demo tenants are there', { timeout: 180_000 }, async () => {
  const page = await open(`<finetune-lab load="eager" panels="train" ${SMALL}></finetune-lab>`);
  const widget = await ready(page);
  const outputs = await widget.evaluate((el) => el.serve([{ tenant: 'qa demo', prompt: 'Q: ' }], { chars: 4 }));
  assert.equal(outputs[0].tenant, 'qa demo');
  assert.equal(outputs[0].text.length, 4);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('choices that are not choices are named, and the widget goes on with the default', { timeout: 120_000 }, async () => {
  const page = await open(`<finetune-lab load="eager" panels="train,bogus" task="nope" ${SMALL}></finetune-lab>`);
  const widget = await ready(page);
  const alert = widget.locator('.error[role=alert] .error-text');
  // The task is checked once the module says which tasks there are: the last word on load.
  assert.match(await alert.textContent(), /task="nope" is not one of records, qa, verse, text, page: using records/);
  assert.equal(await widget.locator('section[data-panel]:not([hidden])').count(), 5, 'an unknown panel shows them all');
  await widget.evaluate((el) => el.setAttribute('panels', 'bogus'));
  assert.match(await alert.textContent(), /panels="bogus": "bogus" is not a panel \(data, train, memory, scale, serve\)/);
  await widget.evaluate((el) => el.setAttribute('backend', 'gpu'));
  assert.match(await alert.textContent(), /backend="gpu" is not one of auto, cpu/);
  // The next action that succeeds clears the message.
  assert.equal((await widget.evaluate((el) => el.run('full'))).step, 2);
  assert.ok(await widget.locator('.error[role=alert]').isHidden());
  await page.context().close();
});

test('a run setting out of range, then removed: the knobs say so, then no longer', { timeout: 120_000 }, async () => {
  const page = await open(`<finetune-lab load="eager" panels="train" ${SMALL}></finetune-lab>`);
  const widget = await ready(page);
  const cost = () => widget.locator('.knob-cost').textContent();
  await widget.evaluate((el) => el.setAttribute('context', '999'));
  assert.match(await cost(), /context/);
  const refused = await widget.evaluate((el) =>
    el.run('adapter').then(
      () => 'ran',
      (e) => e.message,
    ),
  );
  assert.match(refused, /context/);
  await widget.evaluate((el) => el.removeAttribute('context'));
  assert.match(await cost(), /trainable parameters/);
  assert.equal((await widget.evaluate((el) => el.run('adapter'))).step, 2);
  assert.ok(await widget.locator('.error[role=alert]').isHidden());
  await page.context().close();
});

test('a rank sweep stopped part way says so, in the widget and in its event', { timeout: 180_000 }, async () => {
  const page = await open(`<finetune-lab load="eager" panels="train" ${SMALL}></finetune-lab>`);
  const widget = await ready(page);
  const detail = await widget.evaluate(async (el) => {
    const done = new Promise((ok) => el.addEventListener('finetune-sweep-done', (e) => ok(e.detail), { once: true }));
    const ranks = [];
    el.addEventListener('finetune-done', (e) => {
      ranks.push(e.detail.sweep_rank);
      if (ranks.length === 2) el.stop();
    });
    el.sweep();
    return { ...(await done), ranks };
  });
  assert.equal(detail.stopped, true);
  assert.deepEqual(detail.ranks.slice(0, 2), [1, 2]);
  assert.ok(detail.points.length < 5);
  assert.match(await widget.locator('.status-text').textContent(), /Rank sweep stopped: \d of 5 ranks done/);
  await page.context().close();
});

test('removed before it loaded: it no longer waits to be seen', { timeout: 60_000 }, async () => {
  const page = await open(`${LESSON}<div id="home"><finetune-lab ${SMALL}></finetune-lab></div>${LESSON}`);
  await page.evaluate(() => document.querySelector('finetune-lab').remove());
  await page.evaluate(() => document.getElementById('home').scrollIntoView());
  await page.waitForLoadState('networkidle');
  assert.ok(![...page.fetched].some((p) => p.endsWith('.wasm')), [...page.fetched].join(' '));
  await page.context().close();
});

test('the tenant library after a removal and return: every header named, export links that still work', { timeout: 120_000 }, async () => {
  const page = await open(`<finetune-lab load="eager" panels="serve" ${SMALL}></finetune-lab>`);
  const widget = await ready(page);
  await widget.locator('section[data-panel="serve"]').scrollIntoViewIfNeeded();
  await widget.locator('.tenant-list a[download]').first().waitFor();
  const headers = await widget.locator('.tenant-list th').allTextContents();
  assert.ok(
    headers.every((t) => t.trim()),
    `headers: ${JSON.stringify(headers)}`,
  );
  const before = await widget.locator('.tenant-list a[download]').first().getAttribute('href');
  await page.evaluate(async () => {
    const el = document.querySelector('finetune-lab');
    const home = el.parentElement;
    el.remove();
    await new Promise((ok) => setTimeout(ok, 10));
    home.append(el);
  });
  const href = await widget.locator('.tenant-list a[download]').first().getAttribute('href');
  assert.notEqual(href, before, 'a revoked object URL was kept');
  const [download] = await Promise.all([page.waitForEvent('download'), widget.locator('.tenant-list a[download]').first().click()]);
  const size = statSync(await download.path()).size;
  assert.ok(size > 30_000, `${size} B`);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});
