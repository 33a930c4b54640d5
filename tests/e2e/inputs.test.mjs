// The reader's own data and everything that can go wrong with it: each bad input shows its
// message in the widget and leaves the page working. On the CPU path (faster than SwiftShader).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, runVia, testPage, shot } from './helpers.mjs';

const LESSON = `<article><h1>Why adapters</h1>
<p>Fine-tuning every weight of a large model gives each user a whole new copy of it. A copy of a
175 billion parameter model in 16-bit floats takes 350 gigabytes, and a thousand users take a
thousand copies. Adapters keep one shared base and train a small low-rank correction instead.</p>
<p>The correction is two thin matrices per adapted projection; their product has the shape of the
weight it adjusts, but far fewer numbers. Storing and loading it is cheap.</p></article>`;
// Beside the widget, where the page's text is gathered element by element: not shown, so not read.
const HIDDEN = '<p hidden>HIDDEN-ANSWER-KEY</p><details><summary>More</summary><p>COLLAPSED-NOTE</p></details>';
const PROSE = 'The lamp was lit at dusk and the road ran on past the mill, the bridge and the old café. '.repeat(40);

let env;
let page;
let widget;

before(async () => {
  env = await setup({ webgpu: false });
  const body = `${LESSON}${HIDDEN}<finetune-lab task="text" steps="3" batch="2" context="32" sample="8" panels="data,train"></finetune-lab>`;
  page = await openPage(env, 't/inputs.html', { pages: { 't/inputs.html': testPage(body) } });
  widget = await ready(page);
});

after(() => env?.close());

const alert = () => widget.locator('.error[role=alert]');
const textBox = () => widget.getByLabel('Your text', { exact: true });
const press = (name, options) => widget.getByRole('button', { name, exact: true }).click(options);

test('empty text: a message, no run', async () => {
  await textBox().fill('   \n ');
  await press('Fine-tune adapter');
  await alert().waitFor();
  assert.match(await alert().textContent(), /empty/i);
  await shot(page, 'input-empty');
});

test('too short text: the crate explains how much is needed', async () => {
  await textBox().fill('too short');
  await press('Fine-tune adapter');
  await widget.locator('.error-text', { hasText: /too short/i }).waitFor();
  assert.match(await alert().textContent(), /at least \d+ are needed/);
});

test('binary file: rejected with a message', async () => {
  const buffer = Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 256));
  await widget.locator('section[data-panel="data"] input[type=file]').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer });
  await widget.getByText(/"photo.jpg": This does not look like text: more than a tenth of it is control characters or undecodable bytes/).waitFor();
  assert.equal(await textBox().inputValue(), 'too short'); // the earlier text is untouched
});

test('a text file loads into the box', async () => {
  await widget.locator('section[data-panel="data"] input[type=file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(PROSE) });
  await widget.getByText(/Loaded "notes.txt"/).waitFor();
  assert.equal(await textBox().inputValue(), PROSE);
});

test('huge paste: capped at 200,000 characters, and it says so', async () => {
  await textBox().fill('abcdefghij '.repeat(25_000)); // 275,000 characters
  await widget.getByText(/only the first 200,000 are kept/).waitFor();
  assert.equal((await textBox().inputValue()).length, 200_000);
});

test('own text trains, and its notes are shown', { timeout: 300_000 }, async () => {
  await textBox().fill(PROSE);
  const done = await runVia(widget, 'adapter');
  assert.equal(done.step, 3);
  assert.ok(Number.isFinite(done.loss));
  assert.ok(await alert().isHidden());
  // "café": one character outside the model's alphabet, which the crate notes.
  assert.ok((await widget.locator('.notes li').count()) > 0, 'a note about the text');
  await shot(page, 'input-own-text');
});

test('a second click while training does nothing harmful and says why; Stop ends the run', { timeout: 300_000 }, async () => {
  await widget.evaluate((el) => {
    el.__run = el.run('full', { steps: 500 });
    el.__stepped = new Promise((ok) => el.addEventListener('finetune-progress', ok, { once: true }));
  });
  await widget.evaluate((el) => el.__stepped);
  const note = widget.locator('section[data-panel="train"] .press-note');
  // aria-disabled keeps the buttons focusable and clickable: force past Playwright's check.
  await press('Fine-tune adapter', { force: true });
  assert.match(await note.textContent(), /already going/);
  const second = await widget.evaluate((el) =>
    el.run('adapter').then(
      () => 'resolved',
      (e) => e.message,
    ),
  );
  assert.match(second, /already going/);
  await press('Reset', { force: true });
  assert.match(await note.textContent(), /Stop first/);
  await press('Stop');
  const done = await widget.evaluate((el) => el.__run);
  assert.equal(done.mode, 'full');
  assert.ok(done.stopped && done.step >= 1 && done.step < 500, `stopped at ${done.step}`);
  assert.ok(Number.isFinite(done.loss));
  assert.ok(await alert().isHidden());
});

test('settings out of range: refused with the setting and its range, nothing runs', async () => {
  await textBox().fill(PROSE);
  const results = () => widget.locator('.runs').textContent();
  const earlier = await results();
  const refused = async (attributes, settings) =>
    widget.evaluate(
      async (el, [attributes, settings]) => {
        const saved = Object.keys(attributes).map((name) => [name, el.getAttribute(name)]);
        for (const [name, value] of Object.entries(attributes)) el.setAttribute(name, value);
        try {
          await el.run('full', settings);
          return 'ran';
        } catch (e) {
          return e.message;
        } finally {
          for (const [name, value] of saved) value == null ? el.removeAttribute(name) : el.setAttribute(name, value);
        }
      },
      [attributes, settings],
    );
  assert.equal(await refused({ steps: '1e9' }), 'steps must be a whole number from 1 to 100000, got `1e9`');
  assert.equal(await refused({ context: '999' }), 'context must be a whole number from 1 to 128, got `999`');
  assert.equal(await refused({ batch: 'four' }), 'batch must be a whole number from 1 to 256, got `four`');
  // The attributes are properties too, and the crate reads what they hold.
  const mirrored = await widget.evaluate(async (el) => {
    el.seed = 7;
    const attribute = el.getAttribute('seed');
    el.seed = null;
    el.sample = '2000';
    const message = await el.run('full').then(
      () => 'ran',
      (e) => e.message,
    );
    el.sample = 8;
    return { attribute, removed: el.hasAttribute('seed'), message };
  });
  assert.deepEqual(mirrored, { attribute: '7', removed: false, message: 'sample must be a whole number from 0 to 1000, got `2000`' });
  assert.equal(await refused({}, { steps: Infinity }), 'steps must be a whole number from 1 to 100000, got inf');
  assert.match(await refused({}, { steps: 3, rank: 8 }), /rank, alpha and targets are for adapter runs/);
  assert.match(await refused({}, { stepz: 3 }), /unknown setting `stepz`/);
  assert.match(await alert().textContent(), /unknown setting `stepz`/);
  // Nothing started: the earlier results stand, and the widget is free for the next run.
  assert.equal(await results(), earlier);
  assert.equal(await widget.evaluate((el) => el.busy), false);
});

test('Reset clears both runs', async () => {
  await press('Reset');
  assert.equal(await widget.locator('.runs td', { hasText: 'not run yet' }).count(), 2);
  assert.equal(await widget.locator('section[data-panel="train"] a[download]').count(), 0);
  assert.equal(await widget.locator('[data-sample]').count(), 0);
});

test("this page's text trains, without the widget's own text", { timeout: 300_000 }, async () => {
  await widget.getByRole('radio', { name: /This page's text/ }).check();
  const done = await runVia(widget, 'full');
  assert.equal(done.step, 3);
  const before = await widget.locator('[data-sample="before"] .prompt').textContent();
  assert.match(before, /^Why adapters/);
  await shot(page, 'input-page-text');
});

test("this page's text leaves out hidden elements", async () => {
  const text = await page.evaluate(async () => (await import('/lib/data-picker.js')).pageText(document.body));
  assert.match(text, /^Why adapters/);
  assert.match(text, /Storing and loading it is cheap\./);
  assert.doesNotMatch(text, /HIDDEN-ANSWER-KEY/);
  assert.doesNotMatch(text, /COLLAPSED-NOTE/);
});

test('no console errors, no request off 127.0.0.1', () => {
  assert.deepEqual(page.problems(), []);
});
