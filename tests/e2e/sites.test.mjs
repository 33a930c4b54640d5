// The package as course authors' site generators ship it: a VitePress, a Docusaurus and a MkDocs
// Material site (tests/sites/<name>/, the files EMBED.md shows) built from the npm tarball by
// tests/sites/build.mjs, served under a policy as strict as the generators allow, and the widget
// trained in each through its real buttons: adapter and full on the CPU path, one run on
// WebGPU (SwiftShader). Plus `vitepress dev`, whose dependency pre-bundling is the usual way a
// package's WebAssembly goes missing, and a check that EMBED.md shows the fixtures as they are.
//
//   node --test --test-concurrency=1 tests/e2e/sites.test.mjs
//
// The tarball: FINETUNE_LAB_TARBALL, else scripts/package.sh's. The generators install once
// into ${FINETUNE_LAB_CACHE:-$HOME/.cache/finetune-lab}/sites/ (minutes; reused after).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { buildSite, packageTarball, SITES, startDev } from '../sites/build.mjs';
import { launchBrowser, openPage, ready, runVia } from './helpers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The first visit's budget: the page, the module and the base, up to the first trained step.
const FIRST_VISIT_BUDGET = 3_000_000;
// Small runs: the test is about loading, and each site should cost well under a minute.
const CPU_RUN = { steps: '3', sample: '8', batch: '2', context: '32' };
// SwiftShader takes seconds a step and compiles shaders first (webgpu.test.mjs).
const GPU_RUN = { steps: '2', sample: '0', batch: '2', context: '32' };
// "\0asm", the first four bytes of every WebAssembly module, in base64: a bundler that inlined a
// module into a script as a data: URL leaves this in it.
const WASM_IN_BASE64 = 'AGFzbQ';
// The course platform's strict policy (scripts/serve.mjs: CSP), loosened only where the
// generators' own pages break it: VitePress, Docusaurus and Material write inline scripts and
// style attributes, and VitePress's CSS draws icons from data: URLs. What the widget depends on
// stays as strict: its scripts, workers, fetches and WebAssembly from the site's origin only,
// and no eval. (The strict policy itself is held to the widget on www/ by the rest of the suite.)
const SITE_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:";

let cpu; // Chromium without WebGPU: the CPU path
let gpu; // with SwiftShader's WebGPU
let packed;
// Packed on first use, so that the EMBED.md check does not wait for (or fail with) the package.
const tarball = () => (packed ??= packageTarball());

before(async () => {
  cpu = await launchBrowser();
  gpu = await launchBrowser({ webgpu: true });
});

after(async () => {
  await cpu?.close();
  await gpu?.close();
});

/** Every file under `dir`, relative to it. */
function files(dir) {
  return readdirSync(dir, { recursive: true }).filter((f) => statSync(join(dir, f)).isFile());
}

test('EMBED.md shows every file of the site recipes, each as it is in tests/sites/', () => {
  const embed = readFileSync(join(ROOT, 'www/EMBED.md'), 'utf8');
  // <!-- recipe: tests/sites/PATH --> right before a fenced code block holding that file.
  const marked = [...embed.matchAll(/<!-- recipe: (\S+) -->/g)].map((m) => m[1]);
  const shown = new Map([...embed.matchAll(/<!-- recipe: (\S+) -->[ \t]*\n+(`{3,})[^\n]*\n([\s\S]*?)\n\2[ \t]*$/gm)].map((m) => [m[1], m[3]]));
  assert.deepEqual(
    marked.filter((p) => !shown.has(p)),
    [],
    'a recipe comment without a fenced block right after it',
  );
  for (const [path, block] of shown) {
    assert.match(path, /^tests\/sites\//, `${path}: recipes are files of tests/sites/`);
    assert.equal(block, readFileSync(join(ROOT, path), 'utf8').replace(/\n$/, ''), `EMBED.md's block for ${path} differs from the file`);
  }
  // What an author writes for the widget: every fixture file but the generator's own setup (the
  // manifests that pin its version here, and a Docusaurus config with nothing for the widget).
  const SETUP = ['package.json', 'package-lock.json', 'requirements.txt', 'docusaurus.config.js'];
  const authored = Object.keys(SITES).flatMap((name) =>
    files(join(ROOT, 'tests/sites', name))
      .filter((f) => !SETUP.includes(f))
      .map((f) => `tests/sites/${name}/${f}`),
  );
  assert.deepEqual(authored.filter((p) => !shown.has(p)).sort(), [], 'fixture files EMBED.md does not show');
});

/** The built site: its WebAssembly modules are files of their own, none inlined into a script. */
function checkNotInlined(dir) {
  const all = files(dir);
  const wasm = all.filter((f) => f.endsWith('.wasm'));
  for (const f of wasm) assert.deepEqual([...readFileSync(join(dir, f)).subarray(0, 4)], [0, 0x61, 0x73, 0x6d], `${f} is not WebAssembly`);
  // The full module and the CPU-only one.
  assert.ok(wasm.length >= 2, `${wasm.length} .wasm files in the build: ${wasm.join(', ')}`);
  const inlined = all.filter((f) => /\.m?js$/.test(f) && readFileSync(join(dir, f), 'latin1').includes(WASM_IN_BASE64));
  assert.deepEqual(inlined, [], 'scripts holding a base64 WebAssembly module');
  return wasm;
}

/**
 * Open `url` in `browser` with the guards of helpers.mjs, counting every response's bytes on
 * the wire from the first request of the visit. Returns the page with `wire(until)`: the bytes
 * of the responses to requests started before `until` (ms since the epoch), and `fetched()`:
 * the paths of every response so far.
 */
async function visit(browser, url) {
  const page = await openPage({ browser, url }, '__blank.html', { pages: { '__blank.html': '<!doctype html><title>blank</title>' } });
  const responses = [];
  page.on('requestfinished', (request) => responses.push(Promise.all([new URL(request.url()).pathname, request.sizes(), request.timing()])));
  await page.goto(url);
  page.wire = async (until) => {
    let bytes = 0;
    for (const [, sizes, timing] of await Promise.all(responses)) {
      if (timing.startTime <= until) bytes += sizes.responseBodySize + sizes.responseHeadersSize;
    }
    return bytes;
  };
  page.fetched = async () => (await Promise.all(responses)).map(([path]) => path);
  return page;
}

/**
 * helpers.mjs's ready(), but failing as soon as the widget shows an error, with what the page
 * said: the widget's status and error lines, and the page's console errors.
 */
async function opened(page, timeout = 120_000) {
  const widget = page.locator('finetune-lab').first();
  const failed = widget
    .locator('.error[role=alert]')
    .waitFor({ timeout })
    .then(() => 'the widget showed an error');
  try {
    return await Promise.race([ready(page, 0, timeout), failed.then((why) => Promise.reject(new Error(why)))]);
  } catch (e) {
    const said = await widget
      .evaluate((el) => [...(el.shadowRoot?.querySelectorAll('.status, .error, .backend') ?? [])].map((n) => n.textContent.trim()).filter(Boolean))
      .catch(() => ['(no <finetune-lab> on the page)']);
    throw new Error(`the widget did not open: ${e.message.split('\n')[0]}\nit says: ${JSON.stringify(said)}\nproblems: ${JSON.stringify(page.problems(), null, 1)}`);
  } finally {
    failed.catch(() => {}); // the loser's timeout, once the widget opened
  }
}

/** Set the run settings on the widget and remember when its first step trained (epoch ms). */
async function prepareRun(widget, settings) {
  await widget.evaluate((el, settings) => {
    for (const [name, value] of Object.entries(settings)) el.setAttribute(name, value);
    el.__firstStep = new Promise((ok) => {
      const seen = (e) => {
        if (!(e.detail?.step >= 1)) return;
        el.removeEventListener('finetune-progress', seen);
        ok(performance.timeOrigin + performance.now());
      };
      el.addEventListener('finetune-progress', seen);
    });
  }, settings);
}

/**
 * The widget at `url` trained through its buttons, on the CPU path (adapter, full) and on WebGPU
 * (one adapter run), each a first visit measured: bytes on the wire up to the first trained step
 * and, on the CPU path, the time from navigation to it. `wasm`: the site's module files, which
 * the widget must have fetched (null for our own page, whose modules are the package's).
 */
async function trainAndMeasure(name, url, wasm) {
  // CPU path: the first visit, pressing the real buttons.
  const page = await visit(cpu, url);
  const widget = await opened(page);
  assert.equal(await widget.locator('.backend').getAttribute('data-backend'), 'cpu');
  await prepareRun(widget, CPU_RUN);
  const adapter = await runVia(widget, 'adapter');
  assert.equal(adapter.mode, 'adapter');
  assert.equal(adapter.step, Number(CPU_RUN.steps));
  assert.ok(Number.isFinite(adapter.loss), `adapter loss ${adapter.loss}`);
  const firstStep = await widget.evaluate((el) => el.__firstStep);
  const navigationStart = await page.evaluate(() => performance.timeOrigin);
  const bytes = await page.wire(firstStep);
  console.log(`# ${name}: first visit ${bytes} B on the wire up to the first trained step; navigation → first trained step ${Math.round(firstStep - navigationStart)} ms (CPU path)`);
  assert.ok(bytes <= FIRST_VISIT_BUDGET, `${name}: ${bytes} B on the first visit`);
  const full = await runVia(widget, 'full');
  assert.equal(full.mode, 'full');
  assert.equal(full.step, Number(CPU_RUN.steps));
  assert.ok(Number.isFinite(full.loss), `full loss ${full.loss}`);
  // The module the widget trained with came as one of the built files.
  const fetched = (await page.fetched()).filter((path) => path.endsWith('.wasm'));
  assert.ok(fetched.length > 0 && fetched.every((path) => !wasm || wasm.some((f) => path.endsWith(`/${f}`))), `fetched ${fetched.join(', ')}`);
  assert.deepEqual(page.problems(), []);
  await page.context().close();

  // WebGPU (SwiftShader): one adapter run.
  const onGpu = await visit(gpu, url);
  const gpuWidget = await opened(onGpu, 240_000);
  assert.equal(await gpuWidget.locator('.backend').getAttribute('data-backend'), 'webgpu');
  await prepareRun(gpuWidget, GPU_RUN);
  const t0 = Date.now();
  const done = await runVia(gpuWidget, 'adapter');
  assert.equal(done.step, Number(GPU_RUN.steps));
  assert.ok(Number.isFinite(done.loss), `WebGPU loss ${done.loss}`);
  // Reported, not held to the budget: the bundlers leave the package's .br copies behind, so
  // the full module goes at the host's own compression (serve.mjs: brotli q5, 2.1 MB; 1.7 MB
  // from the .br copy that MkDocs keeps), EMBED.md's "Hosting the built site".
  const gpuBytes = await onGpu.wire(await gpuWidget.evaluate((el) => el.__firstStep));
  console.log(`# ${name}: WebGPU (SwiftShader) adapter run of ${done.step} steps in ${Date.now() - t0} ms; first visit ${gpuBytes} B on the wire up to its first step`);
  assert.deepEqual(onGpu.problems(), []);
  await onGpu.context().close();
}

// Our own page first, served as the suite serves it (the strict policy, the package's .br
// copies): the figures each site's are compared with, in the same run.
test('our page (www/index.html): the same runs and figures, for comparison', { timeout: 600_000 }, async () => {
  const { server, url } = await startServer({ root: join(ROOT, 'www'), port: 0, csp: true });
  try {
    await trainAndMeasure('our page', url, null);
  } finally {
    await new Promise((ok) => server.close(ok));
  }
});

for (const name of Object.keys(SITES)) {
  test(`${name}: built from the tarball, the widget trains on the CPU (adapter, full) and on WebGPU`, { timeout: 1_200_000 }, async () => {
    const site = buildSite(name, tarball(), { quiet: true });
    const install = site.install.reused ? 'install reused' : `install ${site.install.seconds.toFixed(1)} s`;
    console.log(`# ${name}: built in ${site.seconds.toFixed(1)} s (${install}, tarball ${site.tarballSeconds.toFixed(1)} s): ${site.dir}`);
    const wasm = checkNotInlined(site.dir);
    const { server, url } = await startServer({ root: site.dir, port: 0, csp: SITE_CSP });
    try {
      await trainAndMeasure(name, url, wasm);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
}

test('vitepress dev: the widget loads from the dev server and an adapter run trains', { timeout: 600_000 }, async () => {
  const dev = await startDev('vitepress', tarball(), { quiet: true });
  try {
    // The dev server sends no policy.
    const page = await visit(cpu, dev.url);
    const widget = await opened(page);
    await prepareRun(widget, CPU_RUN);
    const done = await runVia(widget, 'adapter');
    assert.equal(done.step, Number(CPU_RUN.steps));
    assert.ok(Number.isFinite(done.loss), `loss ${done.loss}`);
    assert.deepEqual(page.problems(), [], dev.output());
    await page.context().close();
  } finally {
    await dev.stop();
  }
});
