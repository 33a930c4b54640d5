// Many tenants on one base in the page, through the module: the shipped demo adapters (one per
// task) checked against the base and served together with it, one batched pass per character,
// on our CPU path and on WebGPU (SwiftShader here); each row's text follows its own task's
// format; foreign and corrupt files are refused with the reason; the three ways measured.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setup, openPage, testPage } from './helpers.mjs';

let env;
let page;

before(async () => {
  env = await setup({ webgpu: true });
  page = await openPage(env, 't/serve.html', { pages: { 't/serve.html': testPage('') } });
  await page.evaluate(async () => {
    const mod = await import('/pkg/finetune_lab.js');
    await mod.default({ module_or_path: '/pkg/finetune_lab_bg.wasm' });
    const bytes = async (path) => new Uint8Array(await (await fetch(path)).arrayBuffer());
    const base = await bytes('/base/tiny.ftlab');
    window.base = base;
    window.adapters = await Promise.all(['qa', 'records', 'verse'].map((t) => bytes(`/base/adapters/${t}.ftlab`)));
    window.labs = { webgpu: await mod.Lab.open(base, true), cpu: await mod.Lab.open(base, false) };
  });
});

after(() => env?.close());

// The tasks' prompts, as the crate's task list gives them (the CLI serves the same).
const PROMPTS = {
  qa: 'Q: Mira went to Tolden at night. Where did Mira go?\nA:',
  records: '{"name": "mira", "city": "tolden", "pet": "owl", "color": "red", "age": 34, "email": "',
  verse: '== sleepy fox ==\n',
};

for (const path of ['cpu', 'webgpu']) {
  test(`${path}: the base and three tenants served together, each in its own task's format`, { timeout: 300_000 }, async () => {
    const texts = await page.evaluate(
      async ({ path, prompts }) => {
        const lab = window.labs[path];
        const rows = [
          { tenant: 1, prompt: prompts.qa },
          { tenant: 0, prompt: 'The ' },
          { tenant: 2, prompt: prompts.records },
          { tenant: 3, prompt: prompts.verse },
          { tenant: 1, prompt: 'Q: Tes went to Fennick. Where did Tes go?\nA:' },
        ];
        const serving = lab.serve(window.adapters, rows);
        for (let i = 0; i < 24; i++) {
          const chars = await serving.step();
          if ([...chars].length !== rows.length) throw new Error(`a step gave ${chars.length} characters for ${rows.length} rows`);
        }
        const texts = serving.texts();
        serving.free();
        return texts;
      },
      { path, prompts: PROMPTS },
    );
    console.log(`# ${path}: ${JSON.stringify(texts)}`);
    assert.equal(texts.length, 5);
    for (const t of texts) assert.equal([...t].length, 24);
    // qa answers after "A:" with a name; records continue a JSON line; a verse writes a line of
    // lower-case words under its title; the base alone writes prose.
    assert.match(texts[0], /^ [A-Z][a-z]+/);
    assert.match(texts[4], /^ [A-Z][a-z]+/);
    assert.match(texts[2], /"/);
    assert.match(texts[3], /^[a-z]+ [a-z]+/);
    assert.match(texts[1], /^[a-z]+ [a-z]+/);
  });
}

test("a full model, a cut-short file and another base's adapter are refused with the reason", async () => {
  const reasons = await page.evaluate(() => {
    const lab = window.labs.cpu;
    const why = (f) => {
      try {
        f();
        return 'accepted';
      } catch (e) {
        return String(e.message ?? e);
      }
    };
    const qa = window.adapters[0];
    // The same adapter claiming another base: its header's base_sha256 with one hex digit changed.
    const text = new TextDecoder().decode(qa.subarray(12, 12 + new DataView(qa.buffer, qa.byteOffset).getUint32(8, true)));
    const at = text.indexOf('"base_sha256":"') + 15;
    const foreign = qa.slice();
    foreign[12 + at] = foreign[12 + at] === 0x30 ? 0x31 : 0x30;
    return {
      info: lab.adapterInfo(qa),
      full: why(() => lab.adapterInfo(window.base)),
      short: why(() => lab.adapterInfo(qa.slice(0, qa.length - 5))),
      foreign: why(() => lab.adapterInfo(foreign)),
      serveForeign: why(() => lab.serve([window.adapters[1], foreign], [{ tenant: 1, prompt: 'x' }])),
      noTenant: why(() => lab.serve(window.adapters, [{ tenant: 4, prompt: 'x' }])),
    };
  });
  const { sha256 } = JSON.parse(readFileSync(new URL('../../www/base/tiny.json', import.meta.url), 'utf8'));
  assert.deepEqual(reasons.info, { rank: 4, alpha: 8, targets: ['q', 'v'], task: 'qa', bytes: 33899, base_sha256: sha256 });
  assert.match(reasons.full, /this is a full model, not an adapter file/);
  assert.match(reasons.short, /cut short/);
  assert.match(reasons.foreign, /trained on another base/);
  assert.match(reasons.serveForeign, /^adapter 2: the adapter was trained on another base/);
  assert.match(reasons.noTenant, /tenant 4 does not exist: there are 3 besides the base/);
});

for (const [path, chars] of [
  ['cpu', 16],
  ['webgpu', 4],
]) {
  test(`${path}: served together, one at a time and as merged copies, measured`, { timeout: 600_000 }, async () => {
    const report = await page.evaluate(
      async ({ path, chars, prompts }) => {
        const rows = [0, 1, 2, 3].map((tenant) => ({ tenant, prompt: ['The ', prompts.qa, prompts.records, prompts.verse][tenant] }));
        return window.labs[path].serveThreeWays(window.adapters, rows, chars);
      },
      { path, chars, prompts: PROMPTS },
    );
    const line = (w) => `${report[w].chars_per_s.toFixed(1)} chars/s, ${report[w].bytes_measured} B (predicted ${report[w].bytes_predicted})`;
    for (const w of ['mixed', 'single_adapter', 'one_at_a_time', 'merged']) console.log(`# ${path} ${w}: ${line(w)}`);
    console.log(`# ${path} swap: adapter ${report.swap.adapter_ms.toFixed(1)} ms, merged model ${report.swap.merged_ms.toFixed(1)} ms`);
    for (const w of ['mixed', 'single_adapter', 'one_at_a_time', 'merged']) assert.ok(report[w].chars_per_s > 0, w);
    // Measured on both paths now (the heap on the CPU path, burn's pool on WebGPU): three
    // merged copies and the base hold several times what the base and three adapters do.
    assert.ok(report.merged.bytes_measured > 3 * report.mixed.bytes_measured, JSON.stringify(report));
    assert.ok(report.mixed.bytes_measured < 1.2 * report.mixed.bytes_predicted, JSON.stringify(report.mixed));
  });
}
