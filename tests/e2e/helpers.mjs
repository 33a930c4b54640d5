// Shared by the browser tests: the static server (in-process, free port), headless Chromium
// (with the one flag that gives it WebGPU on SwiftShader), page guards (no console errors, no request off 127.0.0.1),
// screenshots, and driving a <finetune-lab> through its real buttons.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer, CSP } from '../../scripts/serve.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOTS = `${ROOT}tests/screenshots`;
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find(existsSync) ?? '/usr/bin/chromium';

/** Start the server and a browser; `webgpu` adds the one flag that gives SwiftShader WebGPU. */
export async function setup({ webgpu = false } = {}) {
  for (const pkg of ['pkg', 'pkg-cpu']) {
    if (!existsSync(`${ROOT}www/${pkg}/finetune_lab_bg.wasm`)) throw new Error(`www/${pkg}/finetune_lab_bg.wasm is missing: run scripts/build-wasm.sh first`);
  }
  // Under a course platform's strict policy, as the site must work (scripts/serve.mjs: CSP).
  const { server, url } = await startServer({ port: 0, csp: true });
  const browser = await launchBrowser({ webgpu });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** Headless Chromium with the flags the closed network needs; `webgpu` adds SwiftShader's WebGPU, `flags` any others. */
export function launchBrowser({ webgpu = false, flags = [] } = {}) {
  const args = ['--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', ...flags];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  if (process.getuid?.() === 0) args.push('--no-sandbox');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/**
 * A page with guards: `problems()` lists console errors, page errors and requests that left
 * 127.0.0.1. `pages` maps extra paths (e.g. "t/two.html") to HTML served for this test only;
 * `init` runs in the page before its scripts; `routes` are extra [match, handler] for page.route;
 * `context`, a browser context to open it in (tabs that share storage), else a new one.
 */
export async function openPage(env, path, { pages = {}, colorScheme = 'light', width = 1100, allowErrors = [], init, routes = [], context = undefined } = {}) {
  context ??= await env.browser.newContext({ viewport: { width, height: 900 }, colorScheme, acceptDownloads: true });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowErrors.some((re) => re.test(m.text()))) problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => allowErrors.some((re) => re.test(e.message)) || problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['data:', 'blob:'].includes(u.protocol) && u.hostname !== '127.0.0.1') problems.push(`request off 127.0.0.1: ${r.url()}`);
  });
  for (const [p, html] of Object.entries(pages)) {
    await page.route(
      (u) => u.pathname === `/${p}`,
      (route) => route.fulfill({ contentType: 'text/html', headers: { 'Content-Security-Policy': CSP }, body: html }),
    );
  }
  if (process.env.FINETUNE_LAB_BASE) await routeBase(page, process.env.FINETUNE_LAB_BASE);
  for (const [match, handler] of routes) await page.route(match, handler); // last added wins
  await page.goto(env.url + path);
  page.problems = () => problems;
  return page;
}

/** Dev only: FINETUNE_LAB_BASE=file.ftlab serves another base model in place of www/base/tiny.ftlab. */
async function routeBase(page, file) {
  const bytes = readFileSync(file);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  await page.route(
    (u) => u.pathname === '/base/tiny.json',
    (r) => r.fulfill({ contentType: 'application/json', body: JSON.stringify({ bytes: bytes.length, sha256 }) }),
  );
  await page.route(
    (u) => u.pathname === '/base/tiny.ftlab',
    (r) => r.fulfill({ contentType: 'application/octet-stream', body: bytes }),
  );
}

/**
 * A route for openPage's `routes` that runs `fn` in each of the widget's Lab workers
 * (lib/worker-full.js, lib/worker-cpu.js) before they answer the page, where the WebGPU device
 * is requested, out of an init script's reach. The page and the workers can talk over a
 * BroadcastChannel.
 */
export function inWorkers(fn) {
  return [
    (u) => /^\/lib\/worker-(full|cpu)\.js$/.test(u.pathname),
    async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, body: `(${fn})();\n${await response.text()}` });
    },
  ];
}

/** A test page: the widget(s) given as HTML, plus optional lesson text around them. */
export function testPage(body, { head = '<script type="module" src="/define.js"></script>' } = {}) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="/favicon.svg">
${head}</head><body>${body}</body></html>`;
}

/** The widget locator, waited until its backend is open (the label carries data-backend). */
export async function ready(page, nth = 0, timeout = 120_000) {
  const widget = page.locator('finetune-lab').nth(nth);
  await widget.locator('.backend[data-backend]').waitFor({ timeout });
  return widget;
}

/** Press a Fine-tune button and resolve to the finetune-done detail. */
export async function runVia(widget, mode) {
  await widget.evaluate((el) => {
    el.__done = new Promise((ok) => el.addEventListener('finetune-done', (e) => ok(e.detail), { once: true }));
  });
  await widget.getByRole('button', { name: mode === 'full' ? 'Fine-tune full' : 'Fine-tune adapter', exact: true }).click();
  return widget.evaluate((el) => el.__done);
}

/** Read data-value of the element with data-figure = figure (and data-mode = mode, if given). */
export async function figure(widget, name, mode) {
  const sel = `[data-figure="${name}"]${mode ? `[data-mode="${mode}"]` : ''}`;
  const v = await widget.locator(sel).first().getAttribute('data-value');
  return Number(v);
}

let announced = false;
export async function shot(page, name) {
  if (!announced) console.log(`# screenshots: ${SCREENSHOTS}/`);
  announced = true;
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
}
