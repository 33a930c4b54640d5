#!/usr/bin/env node
// What a first visit downloads to train in the page: our widget vs the TF.js files the same job
// needs, in bytes raw and gzipped (zlib level 6, what servers commonly use on the fly).
//
//   node bench/bundle.mjs [--json]
//
// Ours: the wasm module and its JS glue (www/pkg), the element and its modules (www/*.js,
// www/lib/*.js), the base model and its sidecar (www/base/tiny.{ftlab,json}).
// TF.js 4.22: the union bundle tf.min.js (tf-core.min.js alone registers no gradients, so it
// cannot train), the WebGPU backend, the wasm backend's JS and the ONE .wasm it fetches (the
// SIMD build: the threaded one needs a cross-origin-isolated page). The same base weights are
// counted for TF.js too, since it trains the same model.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TF = join(ROOT, 'bench/tfjs/node_modules/@tensorflow');

const files = (dir, test) =>
  existsSync(join(ROOT, dir))
    ? readdirSync(join(ROOT, dir))
        .filter(test)
        .map((f) => join(dir, f))
    : [];

function measure(paths) {
  const found = paths.filter((p) => existsSync(join(ROOT, p)));
  const sizes = found.map((p) => {
    const bytes = readFileSync(join(ROOT, p));
    return { path: p, raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length };
  });
  const sum = (k) => sizes.reduce((n, s) => n + s[k], 0);
  return { files: sizes, missing: paths.filter((p) => !found.includes(p)), raw: sum('raw'), gzip: sum('gzip') };
}

export function bundleSizes() {
  const base = ['www/base/tiny.ftlab', 'www/base/tiny.json'];
  const oursCode = [...files('www/pkg', (f) => f.endsWith('.wasm') || f.endsWith('.js')), ...files('www', (f) => f.endsWith('.js')), ...files('www/lib', (f) => f.endsWith('.js'))];
  const tf = 'bench/tfjs/node_modules/@tensorflow';
  const tfjsCode = [
    `${tf}/tfjs/dist/tf.min.js`,
    `${tf}/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js`,
    `${tf}/tfjs-backend-wasm/dist/tf-backend-wasm.min.js`,
    `${tf}/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm`,
  ];
  const tfjsVersion = existsSync(join(TF, 'tfjs/package.json')) ? JSON.parse(readFileSync(join(TF, 'tfjs/package.json'))).version : null;
  return {
    ours: { code: measure(oursCode), base: measure(base) },
    tfjs: { version: tfjsVersion, code: measure(tfjsCode), base: measure(base.slice(0, 1)) },
  };
}

const kb = (n) => `${(n / 1e3).toFixed(0).padStart(7)} kB`;

export function formatBundle(b) {
  const row = (name, m) => `  ${name.padEnd(34)} ${kb(m.raw)} raw ${kb(m.gzip)} gzip${m.missing.length ? `   (missing: ${m.missing.join(', ')})` : ''}`;
  const total = (x) => ({ raw: x.code.raw + x.base.raw, gzip: x.code.gzip + x.base.gzip, missing: [] });
  return [
    'First-visit download (bytes; gzip level 6):',
    row('ours: wasm + glue + element JS', b.ours.code),
    row('ours: base model + sidecar', b.ours.base),
    row('ours: total', total(b.ours)),
    row(`TF.js ${b.tfjs.version ?? '(not installed)'}: tf + webgpu + wasm`, b.tfjs.code),
    row('TF.js: same base weights', b.tfjs.base),
    row('TF.js: total', total(b.tfjs)),
    `  code ratio ours/TF.js: ${(b.ours.code.raw / b.tfjs.code.raw).toFixed(2)}x raw, ${(b.ours.code.gzip / b.tfjs.code.gzip).toFixed(2)}x gzip`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { exitOnHelp } = await import('../scripts/usage.mjs');
  exitOnHelp(import.meta.url);
  const b = bundleSizes();
  console.log(process.argv.includes('--json') ? JSON.stringify(b, null, 1) : formatBundle(b));
}
