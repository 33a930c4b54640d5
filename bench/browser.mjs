#!/usr/bin/env node
// Our in-browser training step vs TF.js's, side by side, in headless Chromium:
//   WebGPU (SwiftShader here): ours on WebGPU  vs TF.js webgpu backend
//   CPU:                       our CPU fallback vs TF.js wasm backend
// for full and adapter (LoRA r=4, alpha 8, q,v) fine-tuning, from the same base weights on the
// same text and the very same batches, and with our run's own optimizer settings (learning rate,
// decay, betas, ε, clip: TF.js keeps none of its own). Prints ms/step median (min-max) after
// warm-up, steps to a common loss, peak memory as each library reports it, the ratio ours/TF.js,
// and the bundle; exits 1 when the two loss curves part by more than CURVE_TOLERANCE.
//
//   node bench/browser.mjs [--steps 20] [--gpu-steps 5] [--paths webgpu,cpu] [--modes full,adapter]
//                          [--base www/base/tiny.ftlab] [--out bench/results/browser.json]
//   node bench/browser.mjs --gpu-calls  # also count WebGPU calls per step (bench/webgpu-calls.js)
//   node bench/browser.mjs --serve      # just serve the repository: open /bench/ours.html, /bench/tfjs/
//
// SwiftShader runs WebGPU on the CPU at seconds per step for this model, so the WebGPU path uses
// a smaller batch and context (--gpu-batch 4, --gpu-context 64) and fewer steps, the same for
// both libraries. Needs: www/pkg (scripts/build-wasm.sh), bench/tfjs/node_modules (npm ci there),
// Chromium (apt-get install chromium) and playwright-core (the root package.json).

import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { bundleSizes, formatBundle } from './bundle.mjs';
import { exitOnHelp } from '../scripts/usage.mjs';

exitOnHelp(import.meta.url);

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    batch: { type: 'string', default: '16' },
    context: { type: 'string', default: '128' },
    'gpu-steps': { type: 'string', default: '5' },
    'gpu-warmup': { type: 'string', default: '2' },
    'gpu-batch': { type: 'string', default: '4' },
    'gpu-context': { type: 'string', default: '64' },
    paths: { type: 'string', default: 'webgpu,cpu' },
    modes: { type: 'string', default: 'full,adapter' },
    base: { type: 'string', default: 'www/base/tiny.ftlab' },
    text: { type: 'string', default: 'bench/data/records.txt' },
    'timeout-s': { type: 'string', default: '600' },
    out: { type: 'string' },
    serve: { type: 'boolean', default: false },
    'gpu-calls': { type: 'boolean', default: false },
  },
});

// --- a tiny static server for the repository (loopback only) -----------------------------------
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.txt': 'text/plain' };

function serve() {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = resolve(join(ROOT, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(ROOT + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

const { server, url } = await serve();
if (a.serve) {
  console.log(`serving ${ROOT} at ${url}/ : open ${url}/bench/ours.html and ${url}/bench/tfjs/  (Ctrl-C stops)`);
  await new Promise(() => {});
}

// --- the runs -----------------------------------------------------------------------------------
const { chromium } = await import('playwright-core').catch(() => {
  console.error('playwright-core is missing: run `npm ci` in the repository root');
  process.exit(1);
});
const executablePath = process.env.CHROMIUM ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find(existsSync);
const launch = () =>
  chromium.launch({
    executablePath,
    args: ['--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-sandbox'],
  });
let browser = await launch();

const PAGES = { ours: '/bench/ours.html', tfjs: '/bench/tfjs/index.html' };
// The same maths on the same batches from the same weights: the curves agree to float rounding
// (full and adapter alike), so a larger gap means the two no longer train the same thing.
const CURVE_TOLERANCE = 1e-3;

async function runOne(impl, backend, config) {
  if (!browser.isConnected()) browser = await launch(); // a crashed run must not sink the rest
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
    if (m.text().startsWith('bench: ')) console.error(`  ${impl} ${backend} ${m.text().slice(7)}`);
  });
  const countCalls = a['gpu-calls'] && backend === 'webgpu';
  if (countCalls) await page.addInitScript({ path: join(ROOT, 'bench/webgpu-calls.js') });
  try {
    await page.goto(url + PAGES[impl]);
    const timeout = new Promise((_, bad) => setTimeout(() => bad(new Error(`timed out after ${a['timeout-s']} s`)), 1000 * Number(a['timeout-s'])));
    const report = await Promise.race([page.evaluate((o) => window.bench(o), { ...config, backend }), timeout]);
    if (countCalls) {
      report.webgpu_calls = medianCalls((await page.evaluate(() => window.webgpuCallsPerStep)).filter((r) => r.after >= config.warmup));
      const kernels = (await page.evaluate(() => window.webgpuKernelsPerStep)).at(-1); // the last step's
      report.webgpu_dispatches_by_kernel = Object.entries(kernels).sort((x, y) => y[1] - x[1]);
    }
    return report;
  } catch (e) {
    return { impl, backend, error: e.message.split('\n')[0], page_errors: errors.slice(0, 3) };
  } finally {
    await page.close().catch(() => {});
  }
}

/** Each WebGPU call count's median over the timed steps. */
function medianCalls(perStep) {
  if (!perStep.length) return null;
  const median = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
  return Object.fromEntries(
    Object.keys(perStep[0])
      .filter((k) => k !== 'after')
      .map((k) => [k, median(perStep.map((s) => s[k]))]),
  );
}

/** 5-step moving averages of a loss curve (single steps are noisy batches). */
const smoothed = (losses) =>
  losses.map((_, i) => {
    const w = losses.slice(Math.max(0, i - 4), i + 1);
    return w.reduce((s, v) => s + v, 0) / w.length;
  });

/** First step (1-based) at which the smoothed loss is at or below `target`. */
function stepsTo(losses, target) {
  const i = smoothed(losses).findIndex((v) => v <= target);
  return i < 0 ? null : i + 1;
}

const cfg = {
  webgpu: { steps: +a['gpu-steps'], warmup: +a['gpu-warmup'], batch: +a['gpu-batch'], context: +a['gpu-context'], tfjs: 'webgpu', ours: 'webgpu' },
  cpu: { steps: +a.steps, warmup: +a.warmup, batch: +a.batch, context: +a.context, tfjs: 'wasm', ours: 'cpu' },
};
const results = [];
for (const path of a.paths.split(',')) {
  for (const mode of a.modes.split(',')) {
    const c = cfg[path];
    const config = { mode, steps: c.steps, warmup: c.warmup, batch: c.batch, context: c.context, base: `/${a.base}`, text: `/${a.text}` };
    console.error(`${path} ${mode}: batch ${c.batch} x ${c.context}, ${c.warmup} + ${c.steps} steps ...`);
    const ours = await runOne('ours', c.ours, config);
    const tfjs = ours.optimizer ? await runOne('tfjs', c.tfjs, { ...config, optimizer: ours.optimizer }) : { impl: 'tfjs', backend: c.tfjs, error: 'not run: ours gave no optimizer settings to take' };
    const curves_max_diff = ours.losses && tfjs.losses ? Math.max(...ours.losses.map((v, i) => Math.abs(v - tfjs.losses[i]))) : null;
    // The common loss: 90% of the way from the first smoothed loss to the higher of the two
    // runs' best, so both reach it before their runs end.
    const best = ours.losses && tfjs.losses ? Math.max(Math.min(...smoothed(ours.losses)), Math.min(...smoothed(tfjs.losses))) : null;
    const target = best == null ? null : smoothed(ours.losses)[0] + 0.9 * (best - smoothed(ours.losses)[0]);
    results.push({
      path,
      mode,
      config: c,
      target_loss: target,
      curves_max_diff,
      ours: { ...ours, steps_to_target: target && stepsTo(ours.losses, target) },
      tfjs: { ...tfjs, steps_to_target: target && stepsTo(tfjs.losses, target) },
    });
  }
}
const chromiumVersion = browser.version();
await browser.close();
server.close();

// --- the table ----------------------------------------------------------------------------------
const f1 = (v) => (v == null ? '-' : v.toFixed(1));
const mb = (v) => (v == null ? '-' : `${(v / 1e6).toFixed(1)} MB`);
const cell = (r) => (r.error ? `not measured: ${r.error}` : `${f1(r.ms_per_step.median)} (${f1(r.ms_per_step.min)}-${f1(r.ms_per_step.max)})`);
console.log(`\nIn-browser training step, headless Chromium (${new Date().toISOString().slice(0, 10)}); ms/step median (min-max) after warm-up`);
console.log(['path', 'mode', 'config', 'ours', 'TF.js', 'ours/TF.js', 'steps to loss', 'peak mem ours | TF.js'].join(' | '));
for (const r of results) {
  const ratio = r.ours.ms_per_step && r.tfjs.ms_per_step ? (r.ours.ms_per_step.median / r.tfjs.ms_per_step.median).toFixed(2) : '-';
  const steps = r.target_loss ? `${r.target_loss.toFixed(3)}: ${r.ours.steps_to_target} vs ${r.tfjs.steps_to_target}` : '-';
  const oursMem = r.ours.memory ? (r.ours.memory.peak_bytes != null ? `${mb(r.ours.memory.peak_bytes)} pool peak` : `${mb(r.ours.memory.predicted_bytes)} predicted (CPU: no pool)`) : '-';
  const tfMem = r.tfjs.memory ? `${mb(r.tfjs.memory.peak_bytes)} tf.profile peak` : '-';
  const label = `${r.path} (ours ${r.config.ours}, TF.js ${r.config.tfjs})`;
  console.log([label, r.mode, `${r.config.batch}x${r.config.context}, ${r.config.warmup}+${r.config.steps}`, cell(r.ours), cell(r.tfjs), ratio, steps, `${oursMem} | ${tfMem}`].join(' | '));
}
// Ours are counted even where TF.js did not run (its packages not installed).
const counted = results.filter((r) => r.ours.webgpu_calls);
if (counted.length) {
  const keys = Object.keys(counted[0].ours.webgpu_calls);
  console.log('\nWebGPU calls per training step (median over the timed steps), ours | TF.js');
  console.log(['mode', ...keys].join(' | '));
  for (const r of counted) console.log([r.mode, ...keys.map((k) => `${r.ours.webgpu_calls[k]} | ${r.tfjs.webgpu_calls?.[k] ?? '-'}`)].join(' | '));
  for (const r of counted) {
    for (const impl of ['ours', 'tfjs'].filter((i) => r[i].webgpu_dispatches_by_kernel)) {
      const top = r[impl].webgpu_dispatches_by_kernel
        .slice(0, 12)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ');
      console.log(`${r.mode} ${impl}: dispatches by kernel (last step, top 12 of ${r[impl].webgpu_dispatches_by_kernel.length}): ${top}`);
    }
  }
}
console.log(`\nLoss curves, ours vs TF.js (the same optimizer settings: ours'), max |difference| over every step; tolerance ${CURVE_TOLERANCE}`);
const parted = [];
for (const r of results) {
  const d = r.curves_max_diff;
  console.log(`${r.path} ${r.mode}: ${d == null ? 'not compared' : d.toExponential(2)} (lr ${r.ours.optimizer?.lr ?? '-'})`);
  if (d != null && !(d <= CURVE_TOLERANCE)) parted.push(`${r.path} ${r.mode}`);
}
const bundle = bundleSizes();
console.log(`\n${formatBundle(bundle)}`);
const out = a.out ?? join(ROOT, 'bench/results/browser.json');
mkdirSync(join(out, '..'), { recursive: true });
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), chromium: chromiumVersion, results, bundle }, null, 1));
console.error(`wrote ${out}`);
if (parted.length) {
  console.error(`the loss curves parted (more than ${CURVE_TOLERANCE}): ${parted.join(', ')}: ours and TF.js no longer train the same thing`);
  process.exit(1);
}
