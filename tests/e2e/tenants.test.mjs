// The Serve panel, as a reader uses it on our CPU path: the demo adapters are in the library,
// two adapters trained in the page on different tasks join it, all are served together with the
// base through the element's serve() (each output in its own task's format), imported files
// that do not fit are refused with the reason and nothing in the library is lost, and the three
// ways are measured in the panel.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup, openPage, testPage, ready, runVia, shot } from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let env;
let page;
let widget;

before(async () => {
  env = await setup({ webgpu: false });
  // 40 adapter steps of 4 x 64 at the crate's rate: enough to pick up each task's format.
  const html = testPage('<finetune-lab task="qa" steps="40" batch="4" context="64" sample="0" panels="data,train,serve"></finetune-lab>');
  page = await openPage(env, 't/tenants.html', { pages: { 't/tenants.html': html } });
  widget = await ready(page);
});

after(() => env?.close());

const names = () => widget.evaluate((el) => el.tenants.view.tenants.map((t) => t.name));

test('the shipped demo adapters load when the Serve panel comes into view, one per task', { timeout: 60_000 }, async () => {
  assert.equal(await widget.evaluate((el) => el.tenants.demos), null, 'nothing fetched before the panel is seen');
  await widget.locator('section[data-panel="serve"]').scrollIntoViewIfNeeded();
  await page.waitForFunction(() => document.querySelector('finetune-lab').tenants.demos);
  await widget.evaluate((el) => el.tenants.demos);
  assert.deepEqual(await names(), ['records demo', 'qa demo', 'verse demo']);
  const sizes = await widget.locator('[data-figure="adapter_bytes"]').evaluateAll((cells) => cells.map((c) => Number(c.dataset.value)));
  for (const size of sizes) assert.ok(size > 30_000 && size < 40_000, `adapter file ${size} B`);
});

test('two adapters trained in the page on different tasks are served together with the base', { timeout: 600_000 }, async () => {
  await runVia(widget, 'adapter');
  await widget.evaluate((el) => el.setAttribute('task', 'records'));
  await runVia(widget, 'adapter');
  assert.deepEqual((await names()).slice(3), ['my qa adapter', 'my records adapter']);
  const done = widget.evaluate((el) => new Promise((ok) => el.addEventListener('finetune-serve-done', (e) => ok(e.detail), { once: true })));
  const outputs = await widget.evaluate((el) =>
    el.serve(
      [
        { tenant: 'my qa adapter', prompt: 'Q: Mira went to Tolden at night. Where did Mira go?\nA:' },
        { tenant: 'base', prompt: 'The ' },
        { tenant: 'my records adapter', prompt: '{"name": "mira", "city": "tolden", "pet": "owl", "color": "red", "age": 34, "email": "' },
      ],
      { chars: 30 },
    ),
  );
  console.log(`# served: ${JSON.stringify(outputs.map((o) => o.text))}`);
  assert.deepEqual((await done).outputs, outputs);
  assert.match(outputs[0].text, /^ [A-Z][a-z]+/, 'the qa tenant answers after "A:"');
  assert.match(outputs[2].text, /"/, 'the records tenant continues a JSON line');
  assert.match(outputs[1].text, /^[a-z]+ [a-z]+/, 'the base alone writes prose');
  const refused = await widget.evaluate((el) =>
    el.serve([{ tenant: 'nobody', prompt: 'x' }]).then(
      () => 'served',
      (e) => e.message,
    ),
  );
  assert.match(refused, /No tenant "nobody"/);
  // The limits are the crate's (serve::limits), the same as the CLI's.
  const limits = await widget.evaluate((el) =>
    Promise.all(
      [
        el.serve([{ tenant: 'base', prompt: 'x' }], { chars: 0 }),
        el.serve([{ tenant: 'base', prompt: 'x' }], { chars: 2.5 }),
        el.serve(Array.from({ length: 65 }, () => ({ tenant: 'base', prompt: 'x' }))),
        el.serve([]),
      ].map((p) =>
        p.then(
          () => 'served',
          (e) => e.message,
        ),
      ),
    ),
  );
  assert.match(limits[0], /chars must be a whole number from 1 to 1000, got 0/);
  assert.match(limits[1], /got 2\.5/);
  assert.match(limits[2], /serve 1 to 64 requests at once, got 65/);
  assert.match(limits[3], /got 0/);
});

test('imported files that do not fit are refused with the reason, and nothing is lost', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'finetune-lab-import-'));
  const qa = readFileSync(join(ROOT, 'www/base/adapters/qa.ftlab'));
  const files = { 'cut.ftlab': qa.subarray(0, qa.length - 9), 'base.ftlab': readFileSync(join(ROOT, 'www/base/tiny.ftlab')), 'copy.ftlab': qa };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  const before = await names();
  await widget.locator('section[data-panel="serve"] input[type=file]').setInputFiles(Object.keys(files).map((f) => join(dir, f)));
  const note = widget.locator('section[data-panel="serve"] .press-note');
  await note.filter({ hasText: 'Not imported' }).waitFor();
  const text = await note.textContent();
  assert.match(text, /cut\.ftlab: .*cut short/);
  assert.match(text, /base\.ftlab: this is a full model, not an adapter file/);
  assert.deepEqual(await names(), [...before, 'copy']);
});

test('the panel serves its rows and measures the three ways', { timeout: 600_000 }, async () => {
  await widget.getByRole('button', { name: 'Serve together', exact: true }).click();
  const outputs = widget.locator('.serve-row output');
  await page.waitForFunction(
    () =>
      document.querySelector('finetune-lab').busy === false && [...document.querySelector('finetune-lab').shadowRoot.querySelectorAll('.serve-row output')].every((o) => o.textContent.length >= 40),
  );
  assert.equal(await outputs.count(), 7, 'the base and six tenants');
  await widget.getByRole('button', { name: 'Compare the three ways', exact: true }).click();
  await widget.locator('table.ways').waitFor({ timeout: 300_000 });
  const held = (way) => widget.locator(`[data-figure="${way}_bytes_measured"]`).getAttribute('data-value').then(Number);
  const [together, merged] = [await held('mixed'), await held('merged')];
  console.log(`# panel: together holds ${together} B, merged copies ${merged} B`);
  assert.ok(merged > 4 * together, `merged ${merged} vs together ${together}`);
  await shot(page, 'serve-panel');
});
