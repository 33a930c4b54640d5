// Where the package's files can live and what a host can get wrong: imported in Node by a server
// renderer, loaded from another origin (a CDN) under a strict policy, the files moved behind an
// asset base, a wrong asset base, a host that answers every path with its index page, a policy
// that refuses the worker, and two copies of the package on one page. Each works or says what to
// change, in the widget. On the CPU path (no WebGPU flag): what is tested here is loading.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setup, openPage, ready, testPage } from './helpers.mjs';
import { startServer, CSP } from '../../scripts/serve.mjs';

const WWW = fileURLToPath(new URL('../../www/', import.meta.url));
const SMALL = 'steps="2" batch="2" context="16" sample="0" panels="train"';

let env;
let cdn; // the same files on a second origin, readable from any (as a CDN serves them)

before(async () => {
  env = await setup({ webgpu: false });
  cdn = await startServer({ port: 0, cors: true });
});

after(async () => {
  await new Promise((ok) => cdn?.server.close(ok));
  await env?.close();
});

/** A page at `path` on the first origin: `head` and `body` as given, served under `policy`. */
function hostPage(path, { head = '', body, policy = CSP }) {
  return [(u) => u.pathname === `/${path}`, (route) => route.fulfill({ contentType: 'text/html', headers: { 'Content-Security-Policy': policy }, body: testPage(body, { head }) })];
}

/**
 * A course site of its own, for the pages that load the package from the second origin: served
 * for real (a page fulfilled by the test would count as a public one, and Chromium keeps public
 * pages from reading a loopback server), with the package's files beside the page under `policy`.
 * → {env for openPage, close()}.
 */
async function site(page, policy) {
  const root = mkdtempSync(join(tmpdir(), 'finetune-lab-site-'));
  for (const entry of readdirSync(WWW)) symlinkSync(join(WWW, entry), join(root, entry));
  mkdirSync(join(root, 't'));
  writeFileSync(join(root, 't', 'page.html'), page);
  writeFileSync(join(root, 't', 'blank.html'), testPage('', { head: '' }));
  const { server, url } = await startServer({ root, port: 0, csp: policy });
  return {
    env: { ...env, url },
    async close() {
      await new Promise((ok) => server.close(ok));
      rmSync(root, { recursive: true });
    },
  };
}

/**
 * The policy a page needs with the package's files on the second origin (EMBED.md): `workers` is
 * its worker-src, which in Chromium also governs the modules a worker imports.
 */
const crossOriginPolicy = (workers) =>
  `default-src 'self'; script-src 'self' ${cdn.url.slice(0, -1)} 'wasm-unsafe-eval'; connect-src 'self' ${cdn.url.slice(0, -1)}; worker-src ${workers}; style-src 'self'`;
const CDN = () => cdn.url.slice(0, -1);

const alertText = (widget) => widget.locator('.error[role=alert] .error-text').textContent();

test('imported in Node, as a server renderer does: the class, no DOM touched, nothing defined', async () => {
  for (const name of ['window', 'document', 'customElements', 'HTMLElement']) assert.equal(globalThis[name], undefined, `${name} exists in this Node`);
  const mod = await import('../../www/finetune-lab.js');
  assert.equal(typeof mod.FinetuneLab, 'function');
  assert.equal(mod.FinetuneLab.assetBase, null);
  // The define entry is the browser's: in Node it fails at once, by name, rather than half-working.
  await assert.rejects(import('../../www/define.js'), /customElements is not defined/);
});

test('from another origin under a strict policy: the worker starts through a blob: module and trains', { timeout: 180_000 }, async () => {
  const hosted = await site(
    testPage(`<finetune-lab load="eager" ${SMALL}></finetune-lab>`, { head: `<script type="module" src="${cdn.url}define.js"></script>` }),
    crossOriginPolicy(`'self' blob: ${CDN()}`),
  );
  const page = await openPage(hosted.env, 't/blank.html');
  const workers = [];
  page.on('worker', (w) => workers.push(w.url()));
  await page.goto(hosted.env.url + 't/page.html');
  const widget = await ready(page);
  assert.ok(
    workers.some((u) => u.startsWith('blob:')),
    `workers: ${workers}`,
  );
  const done = await widget.evaluate((el) => el.run('adapter'));
  assert.equal(done.step, 2);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
  await hosted.close();
});

test('from another origin, a policy without blob: workers: the widget says what to allow', { timeout: 120_000 }, async () => {
  const hosted = await site(
    testPage(`<finetune-lab load="eager" ${SMALL}></finetune-lab>`, { head: `<script type="module" src="${cdn.url}define.js"></script>` }),
    crossOriginPolicy(`'self' ${CDN()}`),
  );
  const page = await openPage(hosted.env, 't/page.html', { allowErrors: [/Content Security Policy/] });
  const widget = page.locator('finetune-lab');
  await widget.locator('.error[role=alert]').waitFor({ timeout: 60_000 });
  const text = await alertText(widget);
  assert.match(text, /worker-src/);
  assert.match(text, /blob:/);
  assert.equal(await widget.getByRole('button', { name: 'Try again' }).count(), 1);
  await page.context().close();
  await hosted.close();
});

test('files moved: asset-base finds them; a wrong one names the URL and what came back', { timeout: 180_000 }, async () => {
  // The files under /moved/ only (as a host that keeps assets elsewhere): the usual paths 404.
  const page = await openPage(env, 't/blank.html', {
    pages: { 't/blank.html': '<!doctype html><title>blank</title>' },
    allowErrors: [/status of 404/],
    routes: [
      [(u) => /^\/(pkg|pkg-cpu|base)\/.*\.(wasm|ftlab|json)$/.test(u.pathname), (r) => r.fulfill({ status: 404, body: 'not found' })],
      [(u) => u.pathname.startsWith('/moved/'), (r) => r.fulfill({ path: WWW + new URL(r.request().url()).pathname.slice('/moved/'.length) })],
    ],
  });
  await page.route(...hostPage('t/moved.html', { head: '<script type="module" src="/define.js"></script>', body: `<finetune-lab load="eager" asset-base="/moved/" ${SMALL}></finetune-lab>` }));
  await page.goto(env.url + 't/moved.html');
  const widget = await ready(page);
  assert.equal(await widget.evaluate((el) => el.assetBase), '/moved/');
  assert.equal((await widget.evaluate((el) => el.run('full'))).step, 2);
  await page.context().close();

  const wrong = await openPage(env, 't/blank.html', { pages: { 't/blank.html': '<!doctype html><title>blank</title>' }, allowErrors: [/status of 404/] });
  await wrong.route(...hostPage('t/wrong.html', { head: '<script type="module" src="/define.js"></script>', body: `<finetune-lab load="eager" asset-base="/nowhere/" ${SMALL}></finetune-lab>` }));
  await wrong.goto(env.url + 't/wrong.html');
  const lost = wrong.locator('finetune-lab');
  await lost.locator('.error[role=alert]').waitFor({ timeout: 60_000 });
  assert.match(await alertText(lost), /could not load the module from http:\/\/127\.0\.0\.1:\d+\/nowhere\/pkg-cpu\/finetune_lab_bg\.wasm: HTTP 404/);
  assert.deepEqual(wrong.problems(), []);
  await wrong.context().close();
});

test('a host that answers every path with its index page: the widget names the URL and says it got HTML', { timeout: 120_000 }, async () => {
  const index = readFileSync(WWW + 'index.html', 'utf8');
  const page = await openPage(env, 't/blank.html', {
    pages: { 't/blank.html': '<!doctype html><title>blank</title>' },
    routes: [[(u) => u.pathname.endsWith('.wasm'), (r) => r.fulfill({ contentType: 'text/html', body: index })]],
  });
  await page.route(...hostPage('t/spa.html', { head: '<script type="module" src="/define.js"></script>', body: `<finetune-lab load="eager" ${SMALL}></finetune-lab>` }));
  await page.goto(env.url + 't/spa.html');
  const widget = page.locator('finetune-lab');
  await widget.locator('.error[role=alert]').waitFor({ timeout: 60_000 });
  const text = await alertText(widget);
  assert.match(text, /pkg-cpu\/finetune_lab_bg\.wasm is not a WebAssembly module; the server answered text\/html, \d+ bytes starting “<!doctype html>/);
  assert.match(text, /asset-base/);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('two copies of the package on one page: a warning, the first definition stays, the widget trains', { timeout: 180_000 }, async () => {
  const head = `<script type="module" src="/define.js"></script><script type="module" src="${cdn.url}define.js"></script>`;
  const hosted = await site(testPage(`<finetune-lab load="eager" ${SMALL}></finetune-lab>`, { head }), crossOriginPolicy(`'self' blob: ${CDN()}`));
  const page = await openPage(hosted.env, 't/blank.html');
  const warnings = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(hosted.env.url + 't/page.html');
  const widget = await ready(page);
  assert.equal(warnings.filter((w) => /already defined by another copy/.test(w)).length, 1, [...warnings, ...page.problems()].join('\n'));
  assert.equal((await widget.evaluate((el) => el.run('adapter'))).step, 2);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
  await hosted.close();
});
