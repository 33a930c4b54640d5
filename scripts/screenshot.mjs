#!/usr/bin/env node
// The README's picture: the widget on the lesson page (www/index.html) in the middle of an
// adapter run, on the CPU path, light colour scheme, 1100 px wide. Serves www/ under the strict
// policy (scripts/serve.mjs), opens the page in headless Chromium, sets a short run (`steps`),
// presses "Fine-tune adapter", and once a few steps have trained screenshots the element alone
// (only its top panels when the whole element would make a PNG over --max-kb).
//
//   node scripts/screenshot.mjs [--out docs/widget.png] [--steps 30] [--at 8] [--max-kb 300]
//
// --steps: the run's length; --at: the step after which the picture is taken. Needs the built
// modules (scripts/build-wasm.sh) and Chromium (scripts/test.sh installs it).
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startServer } from './serve.mjs';
import { launchBrowser } from '../tests/e2e/helpers.mjs';
import { exitOnHelp } from './usage.mjs';

exitOnHelp(import.meta.url);

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { values: a } = parseArgs({
  options: {
    out: { type: 'string', default: 'docs/widget.png' },
    steps: { type: 'string', default: '30' },
    at: { type: 'string', default: '8' },
    'max-kb': { type: 'string', default: '300' },
  },
});
const out = resolve(ROOT, a.out);
const [steps, at, maxBytes] = [Number(a.steps), Number(a.at), Number(a['max-kb']) * 1000];
if (!(at >= 1 && at < steps)) throw new Error(`--at ${at} must be a step before the run's last (--steps ${steps})`);
for (const pkg of ['pkg', 'pkg-cpu']) {
  if (!existsSync(`${ROOT}www/${pkg}/finetune_lab_bg.wasm`)) throw new Error(`www/${pkg}/finetune_lab_bg.wasm is missing: run scripts/build-wasm.sh first`);
}

const { server, url } = await startServer({ port: 0, csp: true });
const browser = await launchBrowser(); // no WebGPU: the CPU path, what most readers' first run looks like
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, colorScheme: 'light' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}index.html`);
  const widget = page.locator('finetune-lab').first();
  // The widget loads once it comes near the viewport (load="visible").
  await widget.scrollIntoViewIfNeeded();
  await widget.locator('.backend[data-backend]').waitFor({ timeout: 300_000 });
  const trained = widget.evaluate(
    (el, { steps, at }) => {
      el.setAttribute('steps', String(steps));
      return new Promise((ok) => {
        const seen = (e) => {
          if (e.detail.step < at) return;
          el.removeEventListener('finetune-progress', seen);
          ok(e.detail.step);
        };
        el.addEventListener('finetune-progress', seen);
      });
    },
    { steps, at },
  );
  await widget.getByRole('button', { name: 'Fine-tune adapter', exact: true }).click();
  const step = await trained;
  // The chart redraws at most once per animation frame: let it catch up with the last step.
  await page.evaluate(() => new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(ok))));
  mkdirSync(dirname(out), { recursive: true });
  await widget.screenshot({ path: out, animations: 'disabled' });
  let what = 'the whole widget';
  if (statSync(out).size > maxBytes) {
    // Too big for a README: the element's top, down to the end of its data and train panels.
    const box = await widget.boundingBox();
    const bottom = await widget.evaluate((el) => {
      const top = el.getBoundingClientRect().top;
      const panels = ['data', 'train'].map((name) => el.shadowRoot.querySelector(`section[data-panel="${name}"]`)).filter(Boolean);
      return Math.max(...panels.map((p) => p.getBoundingClientRect().bottom - top));
    });
    const height = Number.isFinite(bottom) && bottom > 0 ? Math.min(box.height, bottom + 16) : box.height / 2;
    // The box is in the viewport; a full-page clip is in the document.
    const scroll = await page.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
    await page.screenshot({ path: out, clip: { x: box.x + scroll.x, y: box.y + scroll.y, width: box.width, height }, fullPage: true, animations: 'disabled' });
    what = 'the widget’s top panels';
  }
  if (errors.length) throw new Error(`the page reported errors: ${errors.join('; ')}`);
  console.log(`${a.out}: ${what} after step ${step} of ${steps}, ${statSync(out).size} bytes`);
} finally {
  await browser.close();
  await new Promise((ok) => server.close(ok));
}
