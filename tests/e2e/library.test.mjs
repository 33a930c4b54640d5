// The reader's adapters kept in this browser and carried to Hugging Face's formats, on our CPU
// path: nothing is written before there is something to keep; a trained adapter survives a
// reload with what it is; renames and deletions reach every widget and tab without losing or
// doubling a record; a killed tab mid-save leaves every record whole; full storage, denied
// storage and a record damaged by hand each get a clear message and lose nothing; a PEFT
// adapter (its .zip or its two files) imports and serves, and the page's PEFT .zip imports in
// the CLI. Persistence is asked for only from the reader's click.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup, openPage, testPage, ready, runVia, launchBrowser } from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TARGET = process.env.CARGO_TARGET_DIR ?? `${process.env.HOME}/.cache/finetune-lab/target`;
const CLI = process.env.FINETUNE_LAB_BIN ?? `${TARGET}/debug/finetune-lab`;
// Pages in the background get no animation frames, which waitForFunction polls on by default.
const POLL = { polling: 100 };
const SMALL = 'task="qa" steps="3" batch="2" context="32" sample="0" panels="train,serve"';
const PAGE = testPage(`<finetune-lab ${SMALL}></finetune-lab>`);
const TWO = testPage(`<finetune-lab load="eager" ${SMALL}></finetune-lab><finetune-lab load="eager" ${SMALL}></finetune-lab>`);

let env;
before(async () => {
  assert.ok(existsSync(CLI), `the native CLI is missing at ${CLI}: cargo build -p finetune-lab --bin finetune-lab (or set FINETUNE_LAB_BIN)`);
  env = await setup({ webgpu: false });
});
after(() => env?.close());

const pages = { 't/library.html': PAGE, 't/two.html': TWO };
/** A page in `context`, so that tabs share its storage. */
const open = (context, path = 't/library.html') => openPage(env, path, { pages, context });

/** The tenants each widget on the page lists, kept ones only: [[name, ...], ...]. */
const kept = (page) => page.evaluate(() => [...document.querySelectorAll('finetune-lab')].map((el) => el.tenants.view.tenants.filter((t) => t.kept).map((t) => t.name)));

/** Wait until every widget on the page has finished syncing with the store. */
const settled = (page) => page.evaluate(() => Promise.all([...document.querySelectorAll('finetune-lab')].map((el) => el.tenants.syncing)));

/** Poll `fn` until it returns something truthy. */
async function until(fn, what) {
  for (let i = 0; i < 200; i++) {
    const value = await fn();
    if (value) return value;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`waited 10 s for ${what}`);
}

const records = (page) =>
  page.evaluate(
    () =>
      new Promise((ok, fail) => {
        const r = indexedDB.open('finetune-lab');
        r.onsuccess = () => {
          const get = r.result.transaction('adapters').objectStore('adapters').getAll();
          get.onsuccess = () => (ok(get.result.map(({ bytes, ...rest }) => ({ ...rest, size: bytes?.length ?? null }))), r.result.close());
          get.onerror = () => fail(get.error);
        };
        r.onerror = () => fail(r.error);
      }),
  );

test('a trained adapter is kept with what it is, survives reloads, renames and deletions, and nothing is written before', { timeout: 300_000 }, async () => {
  const context = await env.browser.newContext({ acceptDownloads: true });
  await context.addInitScript(() => {
    const real = navigator.storage?.persist?.bind(navigator.storage);
    if (real) navigator.storage.persist = () => ((globalThis.__persistCalls = (globalThis.__persistCalls ?? 0) + 1), real());
  });
  const page = await open(context);
  let widget = await ready(page);
  await widget.locator('section[data-panel="serve"]').scrollIntoViewIfNeeded();
  await widget.evaluate((el) => el.tenants.loadDemos());
  await settled(page);
  assert.deepEqual(await page.evaluate(() => indexedDB.databases()), [], 'nothing written before anything was trained');
  assert.match(await widget.locator('.storage').textContent(), /Nothing kept in this browser yet/);

  const run = await runVia(widget, 'adapter');
  assert.equal(run.mode, 'adapter');
  // The Train panel's checkpoint as a Hugging Face .zip: stored entries under one folder.
  const [zip] = await Promise.all([page.waitForEvent('download'), widget.locator('button.export-hf[data-mode="adapter"]').click()]);
  const bytes = readFileSync(await zip.path());
  assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
  for (const name of ['finetune-lab-lora/adapter_config.json', 'finetune-lab-lora/adapter_model.safetensors']) assert.ok(bytes.includes(name), name);
  await runVia(widget, 'full');
  const [model] = await Promise.all([page.waitForEvent('download'), widget.locator('button.export-hf[data-mode="full"]').click()]);
  const modelZip = readFileSync(await model.path());
  for (const name of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) assert.ok(modelZip.includes(`finetune-lab-gpt2/${name}`), name);
  console.log(`# the Train panel's .zip files: adapter ${bytes.length} B, full model ${modelZip.length} B`);
  await widget.locator('.tenant-list td.kept button.delete').first().waitFor();
  const [record] = await records(page);
  const sidecar = await (await page.request.get(`${env.url}base/tiny.json`)).json();
  assert.equal(record.name, 'my qa adapter');
  assert.equal(record.task, 'qa');
  const recipe = await widget.evaluate((el) => el.lab.pageAdapter);
  assert.equal(record.rank, recipe.rank);
  assert.ok(record.targets.length && record.targets.every((t) => ['q', 'k', 'v', 'o', 'fc', 'proj'].includes(t)), record.targets);
  assert.equal(record.steps, 3);
  assert.ok(record.heldout_before > record.heldout_after - 1 && record.heldout_after > 0, JSON.stringify(record));
  assert.equal(record.base_sha256, sidecar.sha256);
  assert.ok(Date.now() - Date.parse(record.saved_at) < 300_000);
  assert.equal(record.source, 'trained');
  console.log(`# one kept adapter: ${record.size} B of tensors in its record; ${await widget.locator('.storage').textContent()}`);

  const started = Date.now();
  await page.reload();
  widget = await ready(page);
  await settled(page);
  console.log(`# reload to the kept library listed: ${Date.now() - started} ms`);
  assert.deepEqual(await kept(page), [['my qa adapter']]);
  assert.equal(await page.evaluate(() => globalThis.__persistCalls ?? 0), 0, 'persistence is never asked for at load');

  await widget.evaluate((el) => el.tenants.loadDemos()); // no re-render between the typing and the change
  const name = widget.locator('.tenant-list input[aria-label="tenant name"][value="my qa adapter"]');
  await name.fill('qa, renamed');
  await name.dispatchEvent('change');
  await until(async () => (await records(page))[0]?.name === 'qa, renamed', 'the new name to be kept');
  await page.reload();
  await ready(page);
  await settled(page);
  assert.deepEqual(await kept(page), [['qa, renamed']]);

  await page.locator('finetune-lab').locator('button.persist').click();
  await page
    .locator('finetune-lab')
    .locator('.persisted')
    .filter({ hasText: /browser/ })
    .waitFor();
  assert.equal(await page.evaluate(() => globalThis.__persistCalls), 1);

  await page.locator('finetune-lab').locator('.tenant-list button.delete').click();
  await page.waitForFunction(() => !document.querySelector('finetune-lab').tenants.view.tenants.some((t) => t.kept), undefined, POLL);
  assert.deepEqual(await records(page), []);
  await context.close();
});

test('two widgets and two tabs share the library without losing or doubling a record; a killed tab mid-save leaves records whole', { timeout: 300_000 }, async () => {
  const context = await env.browser.newContext({ acceptDownloads: true });
  const one = await open(context, 't/two.html');
  await ready(one, 0);
  await ready(one, 1);
  const other = await open(context, 't/library.html');
  await ready(other);
  const size = await one.evaluate(async () => (await (await fetch('/base/adapters/qa.ftlab')).arrayBuffer()).byteLength);
  // Two imports at once, in different widgets.
  await one.evaluate(async () => {
    const [a, b] = document.querySelectorAll('finetune-lab');
    const data = new Uint8Array(await (await fetch('/base/adapters/qa.ftlab')).arrayBuffer());
    await Promise.all([a.tenants.add(data, 'first', 'imported'), b.tenants.add(data, 'second', 'imported')]);
  });
  await one.waitForFunction(() => [...document.querySelectorAll('finetune-lab')].every((el) => el.tenants.view.tenants.filter((t) => t.kept).length === 2), undefined, POLL);
  await other.waitForFunction(() => document.querySelector('finetune-lab').tenants.view.tenants.filter((t) => t.kept).length === 2, undefined, POLL);
  await settled(one);
  await settled(other);
  const sorted = (lists) => lists.map((l) => [...l].sort());
  assert.deepEqual(sorted(await kept(one)), [
    ['first', 'second'],
    ['first', 'second'],
  ]);
  assert.deepEqual(sorted(await kept(other)), [['first', 'second']]);

  await other.locator('.tenant-list button.delete').first().click();
  await one.waitForFunction(() => [...document.querySelectorAll('finetune-lab')].every((el) => el.tenants.view.tenants.filter((t) => t.kept).length === 1), undefined, POLL);
  assert.equal((await records(one)).length, 1);

  // The tab is killed while records are being saved: 16 MB ones, so the crash lands mid-write.
  // Afterwards every record is whole (or absent), and the earlier one is untouched.
  const BIG = 16 << 20;
  const cdp = await context.newCDPSession(other);
  await other.evaluate((BIG) => {
    const { store } = document.querySelector('finetune-lab').tenants;
    const saved_at = new Date().toISOString();
    for (let i = 0; i < 4; i++) store.put({ id: `mid-save-${i}`, name: `mid-save ${i}`, rank: 4, bytes: new Uint8Array(BIG).fill(i + 1), saved_at }).catch(() => {});
  }, BIG);
  const crashed = new Promise((ok) => other.once('crash', ok));
  cdp.send('Page.crash').catch(() => {}); // the renderer dies: the call never answers
  await crashed;
  const after = await open(context, 't/library.html');
  await ready(after);
  await settled(after);
  const stored = await records(after);
  const whole = (r) => (r.name.startsWith('mid-save') ? r.size === BIG : r.size === size);
  assert.ok(stored.every(whole), JSON.stringify(stored.map((r) => [r.name, r.size])));
  assert.deepEqual(
    stored.filter((r) => !r.name.startsWith('mid-save')).map((r) => r.name),
    (await kept(one))[0],
    'the earlier record survived',
  );
  assert.doesNotMatch(await after.evaluate(() => document.querySelector('finetune-lab').tenants.view.note.textContent), /could not be read/);
  console.log(`# killed mid-save: ${stored.length} whole records afterwards (${stored.map((r) => r.name).join(', ')})`);
  await context.close();
});

test('full storage, denied storage and a record damaged by hand: each said, nothing lost', { timeout: 300_000 }, async () => {
  // Full: every write is refused as a full quota would refuse it.
  const full = await env.browser.newContext({ acceptDownloads: true });
  await full.addInitScript(() => {
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    };
  });
  let page = await open(full);
  let widget = await ready(page);
  await runVia(widget, 'adapter');
  await widget.locator('.tenant-list td.kept', { hasText: 'no (not saved)' }).waitFor();
  assert.match(await widget.locator('.press-note').last().textContent(), /storage for this site is full.*stays in this library until the page closes/);
  const [download] = await Promise.all([page.waitForEvent('download'), widget.locator('.tenant-list a[download]').last().click()]);
  assert.match(download.suggestedFilename(), /\.ftlab$/, 'the adapter is still downloadable');
  await full.close();

  // Denied: IndexedDB refuses to open, as in a private window or an iframe with blocked storage.
  const denied = await env.browser.newContext();
  await denied.addInitScript(() => {
    indexedDB.open = () => {
      throw new DOMException('The user denied permission to access the database.', 'SecurityError');
    };
    indexedDB.databases = async () => [{ name: 'finetune-lab', version: 1 }];
  });
  page = await open(denied);
  widget = await ready(page);
  await widget.locator('section[data-panel="serve"]').scrollIntoViewIfNeeded();
  await widget.locator('.press-note', { hasText: 'could not be read: this browser does not let the page keep data here' }).waitFor();
  await runVia(widget, 'adapter');
  await widget.locator('.tenant-list td.kept', { hasText: 'no (not saved)' }).waitFor();
  await denied.close();

  // Damaged by hand: a record without bytes and one whose bytes are not an adapter; a good one beside them.
  const damaged = await env.browser.newContext();
  page = await open(damaged);
  widget = await ready(page);
  await widget.evaluate(async (el) => {
    const qa = new Uint8Array(await (await fetch('/base/adapters/qa.ftlab')).arrayBuffer());
    await el.tenants.add(qa, 'good', 'imported');
    const store = await el.tenants.store.open();
    const tx = store.transaction('adapters', 'readwrite');
    tx.objectStore('adapters').put({ id: 'no-bytes', name: 'edited', rank: 4 });
    tx.objectStore('adapters').put({ id: 'junk', name: 'junk', rank: 4, bytes: new Uint8Array([1, 2, 3]), saved_at: '9' });
    await new Promise((ok) => (tx.oncomplete = ok));
  });
  await page.reload();
  widget = await ready(page);
  await settled(page);
  assert.deepEqual(await kept(page), [['good']]);
  const note = await widget.locator('section[data-panel="serve"] .press-note').textContent();
  assert.match(note, /not shown, as they do not fit this base: junk/);
  assert.match(note, /1 kept record could not be read/);
  await widget.locator('button.forget').click();
  await page.waitForFunction(() => !document.querySelector('finetune-lab').tenants.view.tenants.some((t) => t.kept), undefined, POLL);
  assert.deepEqual(await records(page), []);
  await damaged.close();
});

test('a PEFT adapter imports from its two files or its .zip and serves; the page’s PEFT .zip imports in the CLI', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'finetune-lab-peft-page-'));
  execFileSync(CLI, ['export', '--format', 'hf', '--in', join(ROOT, 'www/base/adapters/verse.ftlab'), '--out', join(dir, 'verse')], { stdio: 'ignore' });
  const context = await env.browser.newContext({ acceptDownloads: true });
  const page = await open(context);
  const widget = await ready(page);
  const picker = widget.locator('section[data-panel="serve"] input[type=file]');
  await picker.setInputFiles(readdirSync(join(dir, 'verse')).map((f) => join(dir, 'verse', f)));
  await widget.locator('.press-note', { hasText: 'Imported 1 adapter' }).waitFor();
  const tenant = await widget.evaluate((el) => el.tenants.view.tenants.find((t) => t.name === 'imported PEFT adapter'));
  assert.equal(tenant.rank, 4);
  assert.deepEqual(tenant.targets, ['q', 'v']);

  const [download] = await Promise.all([page.waitForEvent('download'), widget.locator('.tenant-list button.export-hf').last().click()]);
  const zip = join(dir, download.suggestedFilename());
  await download.saveAs(zip);
  assert.match(zip, /-peft\.zip$/);
  execFileSync(CLI, ['import', '--peft', zip, '--out', join(dir, 'back.ftlab')], { stdio: 'pipe' });
  const verse = execFileSync(CLI, ['logits', '--text', 'The moon ', '--adapter', join(ROOT, 'www/base/adapters/verse.ftlab')]).toString();
  const back = execFileSync(CLI, ['logits', '--text', 'The moon ', '--adapter', join(dir, 'back.ftlab')]).toString();
  assert.equal(back, verse, 'the page’s export, imported by the CLI, is the same adapter');

  await picker.setInputFiles([zip, join(ROOT, 'www/base/tiny.ftlab')]);
  const note = widget.locator('.press-note', { hasText: 'Not imported' });
  await note.waitFor();
  assert.match(await note.textContent(), /^Imported 1 adapter\. Not imported — tiny\.ftlab: this is a full model, not an adapter file/);
  const outputs = await widget.evaluate((el) =>
    el.serve(
      [
        { tenant: 'imported PEFT adapter', prompt: 'The ' },
        { tenant: 'imported-PEFT-adapter-peft', prompt: 'The ' },
      ],
      { chars: 12 },
    ),
  );
  assert.equal(outputs[0].text, outputs[1].text, 'the same adapter, through PEFT and back twice, serves the same text');
  await context.close();
});

test('in a cross-origin iframe the library works the same, in the storage the browser keeps for that embedding site', { timeout: 300_000 }, async (t) => {
  const widgetOrigin = env.url.replace('127.0.0.1', 'localhost');
  const embed = `${widgetOrigin}embed.html?load=eager&${SMALL.replaceAll('"', '').replaceAll(' ', '&')}`;
  const course = testPage(`<iframe src="${embed}" width="1000" height="1800"></iframe>`, { head: '' });
  // Chromium asks before a page frames another loopback origin (Local Network Access); the
  // reader of a course page on the web is never asked, so the check is off for this test.
  const browser = await launchBrowser({ flags: ['--disable-features=LocalNetworkAccessChecks'] });
  t.after(() => browser.close());
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.route(
    (u) => u.pathname === '/t/iframe.html',
    (r) => r.fulfill({ contentType: 'text/html', body: course }),
  );
  await page.goto(env.url + 't/iframe.html');
  const frame = async () => {
    const found = await until(() => page.frames().find((f) => f.url().startsWith(widgetOrigin)), 'the iframe');
    await found.locator('finetune-lab .backend[data-backend]').waitFor({ timeout: 120_000 });
    return found;
  };
  let inner = await frame();
  await runVia(inner.locator('finetune-lab'), 'adapter');
  await inner.locator('.tenant-list td.kept button.delete').first().waitFor();
  await page.reload();
  inner = await frame();
  await inner.waitForFunction(() => document.querySelector('finetune-lab').tenants.view.tenants.some((t) => t.kept), undefined, POLL);
  assert.deepEqual(await kept(inner), [['my qa adapter']]);

  // The same origin at the top level sees its own library, not the one kept for the embedding site.
  const top = await context.newPage();
  await top.goto(embed);
  await top.locator('finetune-lab .backend[data-backend]').waitFor({ timeout: 120_000 });
  await settled(top);
  assert.deepEqual(await kept(top), [[]]);
});
