// A second engine: the widget's CPU path in Firefox ESR, driven over WebDriver BiDi by
// puppeteer-core (playwright-core drives only its own patched Firefox). Debian's Firefox ESR 140
// has no WebGPU ("not yet available in Release or late Beta builds", even with
// dom.webgpu.enabled), so the CPU path is what a Firefox reader gets, and what this checks:
// training in the worker, settings refused with their range, a move mid-run, serving tenants.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import puppeteer from 'puppeteer-core';
import { startServer } from '../../scripts/serve.mjs';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
// Small runs: the embed page takes its attributes from the query string.
const PAGE = 'embed.html?task=qa&steps=6&batch=2&context=32&sample=16&panels=train,serve';

let server;
let browser;
let page;
const problems = [];

before(async () => {
  assert.ok(existsSync(FIREFOX), `no Firefox at ${FIREFOX}: apt-get install firefox-esr (scripts/test.sh does), or set FIREFOX`);
  let url;
  ({ server, url } = await startServer({ port: 0, csp: true }));
  browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(url + PAGE);
  // Polled with evaluate: waitForFunction compiles its predicate with Function(), which the
  // page's CSP refuses in Firefox.
  await until(() => Boolean(document.querySelector('finetune-lab')?.shadowRoot.querySelector('.backend[data-backend]')));
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (server ? server.close(ok) : ok()));
});

async function until(predicate, timeout = 120_000) {
  const end = Date.now() + timeout;
  while (!(await page.evaluate(predicate))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${predicate}`);
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

test('Firefox: the widget opens on the CPU path and says so', async () => {
  const label = await page.evaluate(() => document.querySelector('finetune-lab').shadowRoot.querySelector('.backend').textContent);
  assert.match(label, /CPU/);
});

test('Firefox: both modes train in the worker, each with its checkpoint to download', { timeout: 300_000 }, async () => {
  const runs = await page.evaluate(async () => {
    const el = document.querySelector('finetune-lab');
    const full = await el.run('full');
    const adapter = await el.run('adapter');
    const sizes = [...el.shadowRoot.querySelectorAll('section[data-panel="train"] a[download]')].map((a) => a.textContent);
    return { full, adapter, sizes };
  });
  for (const r of [runs.full, runs.adapter]) {
    assert.equal(r.step, 6);
    assert.ok(r.heldout_after < r.heldout_before, `held-out ${r.heldout_before} → ${r.heldout_after}`);
  }
  assert.equal(runs.sizes.length, 2, runs.sizes.join(', '));
});

test('Firefox: an out-of-range setting is refused with its name and range', async () => {
  const message = await page.evaluate(() =>
    document
      .querySelector('finetune-lab')
      .run('full', { steps: '1e9' })
      .then(
        () => 'ran',
        (e) => e.message,
      ),
  );
  assert.equal(message, 'steps must be a whole number from 1 to 100000, got `1e9`');
});

test('Firefox: moved in the page mid-run, the run goes on', { timeout: 300_000 }, async () => {
  const done = await page.evaluate(async () => {
    const el = document.querySelector('finetune-lab');
    const run = el.run('adapter');
    await new Promise((ok) => el.addEventListener('finetune-progress', ok, { once: true }));
    const box = document.createElement('div');
    document.body.append(box);
    box.append(el);
    return run;
  });
  assert.equal(done.stopped, false);
  assert.equal(done.step, 6);
});

test('Firefox: the base and the demo adapters served together on the CPU', { timeout: 300_000 }, async () => {
  await page.evaluate(() => document.querySelector('finetune-lab').shadowRoot.querySelector('section[data-panel="serve"]').scrollIntoView());
  await until(() => document.querySelector('finetune-lab').tenants.view.tenants.filter((t) => t.source === 'demo').length === 3);
  const outputs = await page.evaluate(() =>
    document.querySelector('finetune-lab').serve(
      [
        { tenant: 'base', prompt: 'Q: ' },
        { tenant: 'qa demo', prompt: 'Q: Mira went to Tolden at night. Where did Mira go?\nA:' },
        { tenant: 'records demo', prompt: '{"name": "' },
      ],
      { chars: 12 },
    ),
  );
  assert.equal(outputs.length, 3);
  for (const o of outputs) assert.equal(o.text.length, 12, JSON.stringify(o));
});

test('Firefox: no console errors', () => {
  assert.deepEqual(problems, []);
});
