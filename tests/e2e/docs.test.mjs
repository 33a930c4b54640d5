// What the documents state, held to the build, so a fact cannot go stale in prose: the base's
// size and dtype (www/base/tiny.json), the settings' ranges and defaults, the rank's range and the
// page's adapter recipe (read from the built CPU-only module, www/pkg-cpu), the costs and the
// memory model's figures the docs quote (computed by that module), serving's limits, which
// shaders use barriers, the README's figures table (scripts/figures.mjs), every relative link,
// and the README kept a front page: short, with no dates and no "this machine".
//
//   node --test tests/e2e/docs.test.mjs        (after scripts/build-wasm.sh; no browser)

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BEGIN, END, rewrite, table } from '../../scripts/figures.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path) => readFileSync(ROOT + path, 'utf8');
const DOCS = [
  'README.md',
  'www/EMBED.md',
  'bench/README.md',
  ...readdirSync(`${ROOT}docs`)
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const BASE = JSON.parse(read('www/base/tiny.json'));
const CURRENT = JSON.parse(read('bench/results/current.json'));

/** "1,494,173" → 1494173. */
const number = (text) => Number(text.replaceAll(',', ''));
/** A document's sentences and table cells, one line each (Markdown wraps lines mid-sentence). */
function sentences(doc) {
  return read(doc)
    .split(/\n\s*\n|\n(?=\s*[-|#])|\|/)
    .flatMap((block) => block.replace(/\s+/g, ' ').split(/(?<=[.;:])\s+(?=[A-Z`(])/))
    .map((s) => s.trim())
    .filter(Boolean);
}
/** The one match of `re` in `doc`, or a failure that names the document and what it lacks. */
function claim(doc, re) {
  const m = read(doc).replace(/\s+/g, ' ').match(re);
  assert.ok(m, `${doc} no longer states ${re}: update this test with the document`);
  return m;
}

let mod; // the built CPU-only module
let lab; // a Lab on the shipped base: its settings and the page's adapter
let settings; // name → {min, max, page, cli}
const TINY = BASE.shape;
const MICRO = { name: 'micro', layers: 2, d_model: 32, heads: 2, d_ff: 128, vocab: 97, context: 32 };

before(async () => {
  const wasm = `${ROOT}www/pkg-cpu/finetune_lab_bg.wasm`;
  if (!existsSync(wasm)) throw new Error('www/pkg-cpu/finetune_lab_bg.wasm is missing: run scripts/build-wasm.sh first');
  mod = await import('../../www/pkg-cpu/finetune_lab.js');
  mod.initSync({ module: readFileSync(wasm) });
  lab = await mod.Lab.open(readFileSync(`${ROOT}www/base/tiny.ftlab`), false);
  settings = Object.fromEntries(lab.settings.map((s) => [s.name, s]));
});

/** The largest rank the module accepts on `shape`: it accepts it, and refuses one more with the range. */
function maxRank(shape) {
  const refused = (rank) => {
    try {
      mod.predictRun(shape, { mode: 'adapter', rank });
      return null;
    } catch (e) {
      return e.message;
    }
  };
  const message = refused(10_000);
  const max = Number(message?.match(/from 1 to (\d+)/)?.[1]);
  assert.ok(max > 0, `the module's refusal of rank 10000: ${message}`);
  assert.equal(refused(max), null, `rank ${max} is accepted`);
  assert.match(refused(max + 1), new RegExp(`from 1 to ${max}`));
  return max;
}

test('the shipped base: its file is the size tiny.json says, and every document that sizes it agrees', () => {
  assert.equal(statSync(`${ROOT}www/base/tiny.ftlab`).size, BASE.bytes, 'www/base/tiny.ftlab against tiny.json');
  const bytes = BASE.bytes.toLocaleString('en-US');
  assert.equal(number(claim('docs/model.md', /tiny\.ftlab`?\]\([^)]*\): ([\d,]+) bytes, dtype (\w+)/)[1]), BASE.bytes);
  assert.equal(claim('docs/model.md', /tiny\.ftlab`?\]\([^)]*\): [\d,]+ bytes, dtype (\w+)/)[1], BASE.dtype);
  assert.equal(number(claim('www/EMBED.md', /the pretrained base weights \(([\d,]+) bytes/)[1]), BASE.bytes);
  assert.equal(number(claim('bench/README.md', /the base ([\d,]+) B/)[1]), BASE.bytes);
  assert.equal(Number(claim('www/EMBED.md', /With the base model \(([\d.]+) MB\)/)[1]), Math.round(BASE.bytes / 1e4) / 100);
  assert.equal(CURRENT.figures.find((f) => f.id === 'base').value, BASE.bytes, 'bench/results/current.json');
  // Its dtype, in words: "stored as 8-bit integers" for i8.
  const WORDS = { i8: /8-bit/, f16: /f16|16-bit/, f32: /f32|32-bit/ };
  assert.match(claim('www/EMBED.md', /the pretrained base weights \([\d,]+ bytes, stored as ([^)]*)\)/)[1], WORDS[BASE.dtype]);
  // Anywhere else: a sentence about the base that gives a byte count gives this one (other
  // dtypes' sizes are named as such), and one that says how it is stored says tiny.json's dtype.
  let sized = 0;
  for (const doc of DOCS) {
    for (const s of sentences(doc).filter((s) => /\bbase\b|tiny\.ftlab/.test(s))) {
      for (const m of s.matchAll(/(\d{1,3}(?:,\d{3}){1,2}) (?:bytes|B)\b(?! as f(?:16|32))/g)) {
        if (number(m[1]) < 500_000 || number(m[1]) >= 2_000_000) continue;
        sized++;
        assert.equal(m[1], bytes, `${doc}: "${s}"`);
      }
      const stored = s.match(/(?:base|tiny\.ftlab)[^.]*?stored as (f16|f32|i8|8-bit)/);
      if (stored) assert.match(stored[1], WORDS[BASE.dtype], `${doc}: "${s}"`);
    }
  }
  assert.ok(sized >= 3, `the sweep found the base sized ${sized} times`);
});

test('parameters: the model the documents describe is the one the build counts', () => {
  const tiny = mod.scale({ model: 'tiny' }).params_total;
  assert.equal(tiny, BASE.params, 'tiny.json against the memory model');
  const micro = mod.scale({ model: 'micro' }).params_total;
  assert.equal(number(claim('README.md', /an ([\d,]+)-parameter/)[1]), tiny);
  assert.equal(number(claim('www/EMBED.md', /a tiny GPT \(([\d,]+) parameters/)[1]), tiny);
  // docs/model.md's presets: layers, d_model, heads, d_ff, context, parameters.
  for (const [name, shape, params] of [
    ['micro', MICRO, micro],
    ['tiny', TINY, tiny],
  ]) {
    const cells = claim('docs/model.md', new RegExp(`\\| \`${name}\` \\([^)]*\\) \\| (\\d+) \\| (\\d+) \\| (\\d+) \\| (\\d+) \\| (\\d+) \\| ([\\d,]+) \\|`));
    assert.deepEqual(cells.slice(1, 6).map(Number), [shape.layers, shape.d_model, shape.heads, shape.d_ff, shape.context], name);
    assert.equal(number(cells[6]), params, name);
  }
});

test('the rank range is the narrowest projection, 1 to 128 on the shipped model, wherever it is stated', () => {
  const max = maxRank(TINY);
  assert.equal(max, Math.min(TINY.d_model, TINY.d_ff));
  assert.equal(settings.rank.max, max, 'Lab.settings');
  assert.equal(Number(claim('www/EMBED.md', /narrowest projection, (\d+) for the shipped model/)[1]), max);
  assert.equal(Number(claim('docs/defaults.md', /rank \(1 to (\d+) on the shipped model/)[1]), max);
  const sides = claim('docs/model.md', /(\d+) for `tiny`, (\d+) for `micro`/);
  assert.deepEqual([Number(sides[1]), Number(sides[2])], [max, maxRank(MICRO)]);
  // Any sentence about the rank that gives a range "1 to N" or "1–N" gives this one.
  let ranges = 0;
  for (const doc of DOCS) {
    for (const s of sentences(doc).filter((s) => /\brank\b/i.test(s))) {
      for (const m of s.matchAll(/\b1 ?(?:to|–) ?(\d+)\b/g)) {
        ranges++;
        assert.equal(Number(m[1]), max, `${doc}: "${s}"`);
      }
    }
  }
  assert.ok(ranges >= 1, 'the sweep found no rank range');
});

test('the page’s adapter recipe, wherever a document gives it, is the crate’s', () => {
  const { rank, targets, lr } = lab.pageAdapter;
  assert.equal(targets, 'all', 'the documents call `all` "every linear layer"');
  let seen = 0;
  for (const doc of DOCS) {
    for (const s of sentences(doc).filter((s) => /page's/.test(s))) {
      for (const m of s.matchAll(/r = (\d+) on every linear layer(?:,? at (?:lr |a learning rate of )([\d.e-]+))?/g)) {
        seen++;
        assert.equal(Number(m[1]), rank, `${doc}: "${s}"`);
        if (m[2]) assert.equal(Number(m[2]), lr, `${doc}: "${s}"`);
      }
    }
  }
  assert.ok(seen >= 3, `the recipe stated ${seen} times`);
});

test('www/EMBED.md’s attribute table: each numeric setting’s default and range are the crate’s', () => {
  const text = read('www/EMBED.md');
  const row = (name) => text.match(new RegExp(`^\\| \`${name}\` \\| ([^|]*) \\| ([^|]*) \\|`, 'm')) ?? assert.fail(`no ${name} row`);
  const RANGES = {
    steps: /\((\d+)–(\d+)\)/,
    batch: /\((\d+)–(\d+)\)/,
    context: /\((\d+) to the model's (\d+)/,
    sample: /\((\d+)–(\d+);/,
    seed: /\((\d+)–(\d+)\)/,
    rank: /\((\d+) to the model's narrowest projection, (\d+) for the shipped model/,
  };
  for (const [name, re] of Object.entries(RANGES)) {
    const [, given, meaning] = row(name);
    const s = settings[name];
    const range = meaning.match(re) ?? assert.fail(`${name}: no range in "${meaning}"`);
    assert.deepEqual([Number(range[1]), Number(range[2])], [s.min, s.max], `${name}: "${meaning}"`);
    if (s.page === null) assert.doesNotMatch(given, /\d/, `${name} has no page default: "${given}"`);
    else assert.equal(Number(given.match(/`(\d+)`/)?.[1]), s.page, `${name}'s default: "${given}"`);
  }
  assert.equal(row('targets')[1].trim(), `\`${lab.pageAdapter.targets}\``);
});

test('docs/defaults.md’s cost table is what the memory model predicts at the page’s batch', () => {
  const at = { batch: settings.batch.page, context: settings.context.page };
  assert.match(read('docs/defaults.md'), new RegExp(`page's ${at.batch} × ${at.context}`));
  const ROWS = [
    [/\| r = 4 on Wq, Wv \|/, { mode: 'adapter', rank: 4, targets: 'q,v' }],
    [/\| r = 8 on every linear layer \(the page's\) \|/, { mode: 'adapter' }],
    [/\| r = 16 on every linear layer \|/, { mode: 'adapter', rank: 16, targets: 'all' }],
    [/\| full fine-tuning \|/, { mode: 'full' }],
  ];
  const lines = read('docs/defaults.md').split('\n');
  for (const [re, options] of ROWS) {
    const line = lines.find((l) => re.test(l)) ?? assert.fail(`docs/defaults.md has no row ${re}`);
    const cells = line
      .split('|')
      .slice(2, 5)
      .map((c) => c.trim());
    const r = mod.predictRun(TINY, { ...options, ...at });
    assert.deepEqual(cells, [r.params_trainable.toLocaleString('en-US'), mod.formatBytes(r.checkpoint_bytes), mod.formatBytes(r.training_bytes)], line);
  }
});

test('README’s figures table is what scripts/figures.mjs writes, and the computed figures are the build’s', () => {
  const readme = read('README.md');
  assert.ok(readme.includes(BEGIN) && readme.includes(END), 'the markers');
  const written = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
  assert.equal(written, table(CURRENT), 'README.md: run node scripts/figures.mjs');
  assert.equal(rewrite(readme, table(CURRENT)), readme, 'one table between the markers');
  const value = (id) => CURRENT.figures.find((f) => f.id === id)?.value ?? assert.fail(`no figure ${id}`);
  const full = mod.predictRun(TINY, { mode: 'full' });
  const adapter = mod.predictRun(TINY, { mode: 'adapter' });
  assert.deepEqual(value('trainable'), [full.params_trainable, adapter.params_trainable]);
  assert.deepEqual(value('checkpoint'), [full.checkpoint_bytes, adapter.checkpoint_bytes]);
  assert.deepEqual(value('training-memory'), [full.training_bytes, adapter.training_bytes]);
  for (const f of CURRENT.figures) {
    assert.ok(f.measured === null || /^20\d\d-\d\d-\d\d$/.test(f.measured), `${f.id}: measured ${f.measured}`);
    assert.ok(f.command && f.figure && 'unit' in f, f.id);
  }
});

test('docs/serving.md gives serving’s limits as the crate has them', () => {
  const limits = mod.serveLimits();
  const m = claim(
    'docs/serving.md',
    /at most (\d+) tenants in a batch counting the base \((\d+) adapters\), (\d+) to (\d+) rows, (\d+) to ([\d,]+) characters a row \((\d+) by default, (\d+) when the three ways are compared\)/,
  );
  assert.deepEqual(m.slice(1).map(number), [limits.tenants, limits.tenants - 1, ...limits.rows, ...limits.chars, limits.chars_default, limits.compare_chars]);
});

test('docs/memory-model.md’s figures are the memory model’s', () => {
  const gpt3 = mod.scale({ model: 'gpt3-175b' });
  const qv = (rank, tenants = 1) => mod.scale({ model: 'gpt3-175b', mode: 'adapter', rank, targets: 'q,v', tenants });
  const bert = mod.scale({ model: 'bert-large' });
  assert.equal(number(claim('docs/memory-model.md', /shape counts ([\d,]+) parameters/)[1]), gpt3.params_total);
  assert.equal(number(claim('docs/memory-model.md', /r = 4 on Wq, Wv: ([\d,]+) trainable parameters = ([\d.]+ MB)/)[1]), qv(4).params_trainable);
  assert.equal(claim('docs/memory-model.md', /r = 4 on Wq, Wv: [\d,]+ trainable parameters = ([\d.]+ MB)/)[1], mod.formatBytes(qv(4).checkpoint_bytes));
  const [, r1, r8] = claim('docs/memory-model.md', /r = 1 gives ([\d.]+)M and r = 8 ([\d.]+)M parameters/);
  assert.deepEqual(
    [Number(r1), Number(r8)],
    [qv(1).params_trainable, qv(8).params_trainable].map((n) => Math.round(n / 1e5) / 10),
  );
  assert.equal(claim('docs/memory-model.md', /100 adapters on one base: ([\d.]+ GB)/)[1], mod.formatBytes(qv(4, 100).storage_adapter_bytes));
  assert.equal(number(claim('docs/memory-model.md', /BERT-large in our GPT layout counts ([\d,]+) parameters/)[1]), bert.params_total);
  const excerpt = claim('docs/memory-model.md', /\| adapter \| ([\d,]+) \| ([\d.]+ [GT]B) \| ([\d.]+ MB) \|/);
  assert.equal(number(excerpt[1]), qv(4).params_trainable);
  assert.equal(excerpt[3], mod.formatBytes(qv(4).checkpoint_bytes));
  assert.equal(number(claim('docs/memory-model.md', /\| full \| ([\d,]+) \|/)[1]), gpt3.params_total);
});

test('docs/kernels.md names every shader, and says which use workgroup barriers', () => {
  const shaders = readdirSync(`${ROOT}shaders`).filter((f) => f.endsWith('.wgsl'));
  const text = read('docs/kernels.md');
  const table = text.slice(text.indexOf('| file |'), text.indexOf('\n\n', text.indexOf('| file |')));
  assert.deepEqual([...new Set(table.match(/\b\w+\.wgsl\b/g))].sort(), shaders.sort());
  const withBarriers = shaders.filter((f) => read(`shaders/${f}`).includes('workgroupBarrier'));
  // The design bullet on barriers: the kernels it names after "with barriers".
  const bullet = text.slice(text.indexOf('**Few workgroup barriers.**'), text.indexOf('\n- **', text.indexOf('**Few workgroup barriers.**')));
  const said = bullet.slice(bullet.indexOf('with barriers'));
  assert.ok(bullet && said, 'docs/kernels.md: the "Few workgroup barriers" bullet');
  assert.deepEqual([...new Set(said.match(/\b\w+\.wgsl\b/g))].sort(), withBarriers.sort());
});

test('every relative link in the documents points at a file that exists', () => {
  const broken = [];
  for (const doc of DOCS) {
    for (const [, target] of read(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue;
      const path = join(dirname(ROOT + doc), decodeURI(target.split('#')[0]));
      if (!existsSync(path)) broken.push(`${doc}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('README.md is a front page: short, with no dates and nothing about one machine', () => {
  const readme = read('README.md');
  const lines = readme.split('\n').length;
  assert.ok(lines <= 170, `README.md has ${lines} lines`);
  assert.deepEqual(readme.match(/\b20\d\d-\d\d-\d\d\b/g) ?? [], [], 'dates belong in bench/results/');
  assert.doesNotMatch(readme, /this machine/i);
  assert.ok(existsSync(`${ROOT}docs/widget.png`), 'the screenshot (node scripts/screenshot.mjs)');
});
