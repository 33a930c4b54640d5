// The npm package's own checks, without a browser: its version is the crate's, the tarball holds
// what a page fetches and nothing else (FINETUNE_LAB_TARBALL, else scripts/package.sh's), its type declarations say what the element has (and an
// author's TypeScript compiles against them), and its JavaScript passes tsc --checkJs and the
// formatter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { packageTarball } from '../sites/build.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path) => readFileSync(ROOT + path, 'utf8');
const bin = (name) => `${ROOT}node_modules/.bin/${name}`;

/** Run a tool from node_modules; its output is the assertion's message when it fails. */
function passes(name, args) {
  try {
    execFileSync(bin(name), args, { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    assert.fail(`${name} ${args.join(' ')}:\n${e.stdout}${e.stderr}`);
  }
}

test('one version: the package says the crate’s', () => {
  const crate = read('crate/Cargo.toml').match(/^version = "([^"]+)"/m)[1];
  assert.equal(JSON.parse(read('www/package.json')).version, crate);
});

test('the tarball: what a page fetches, the README and the licences, and nothing a page never fetches', () => {
  const tarball = packageTarball();
  assert.match(tarball, /\/dist\/finetune-lab-\d+\.\d+\.\d+\.tgz$/);
  const files = new Set(
    execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, '')),
  );
  // Every file the element names (lib/assets.js's literal URLs), both workers, both glues.
  const named = [...read('www/lib/assets.js').matchAll(/new URL\('\.\.\/([^']+)', import\.meta\.url\)/g)].map((m) => m[1]);
  assert.ok(named.length >= 7, `assets.js names ${named}`);
  const needed = [
    ...named,
    'finetune-lab.js',
    'define.js',
    'finetune-lab.d.ts',
    'define.d.ts',
    'embed.html',
    'embed.js',
    'embed.css',
    'favicon.svg',
    'package.json',
    'pkg/finetune_lab.js',
    'pkg-cpu/finetune_lab.js',
  ];
  needed.push(
    ...readdirSync(ROOT + 'www/lib')
      .filter((f) => f.endsWith('.js'))
      .map((f) => `lib/${f}`),
    'README.md',
    'LICENSE-MIT',
    'LICENSE-APACHE',
  );
  for (const path of needed) assert.ok(files.has(path), `${path} is not in the package`);
  // The precompressed copies a host serves as they are.
  for (const path of ['pkg/finetune_lab_bg.wasm', 'pkg-cpu/finetune_lab_bg.wasm', 'base/tiny.ftlab']) for (const ext of ['br', 'gz']) assert.ok(files.has(`${path}.${ext}`), `${path}.${ext}`);
  const extra = [...files].filter((path) => !needed.includes(path) && !/\.(br|gz)$/.test(path));
  assert.deepEqual(extra, [], 'files a page never fetches');
  // The package's README is EMBED.md.
  const readme = execFileSync('tar', ['-xzOf', tarball, 'package/README.md'], { encoding: 'utf8' });
  assert.equal(readme, read('www/EMBED.md'));
});

test('the type declarations: every member is the element’s, every attribute and event is declared', async () => {
  const { FinetuneLab } = await import('../../www/finetune-lab.js');
  const { ATTRIBUTES } = await import('../../www/lib/attributes.js');
  const dts = read('www/finetune-lab.d.ts');
  const body = dts.slice(dts.indexOf('export class FinetuneLab'), dts.indexOf('declare global'));
  const members = [...body.matchAll(/^ {2}(static )?(\w+)[(?:<]/gm)].map((m) => ({ isStatic: Boolean(m[1]), name: m[2] }));
  for (const { isStatic, name } of members) {
    if (['addEventListener', 'removeEventListener'].includes(name)) continue;
    const owner = isStatic ? FinetuneLab : FinetuneLab.prototype;
    assert.ok(name in owner, `the declarations have ${isStatic ? 'static ' : ''}${name}, the element does not`);
  }
  const declared = new Set(members.map((m) => m.name));
  for (const attribute of ATTRIBUTES) {
    const property = attribute.replace(/-(\w)/g, (_, c) => c.toUpperCase());
    assert.ok(declared.has(property), `attribute ${attribute} (property ${property}) is not declared`);
  }
  // Every event the element fires (its emit calls) is in the event map, and EMBED.md's tables.
  const sources = [
    'www/finetune-lab.js',
    ...readdirSync(ROOT + 'www/lib')
      .filter((f) => f.endsWith('.js'))
      .map((f) => `www/lib/${f}`),
  ]
    .map(read)
    .join('\n');
  const events = new Set([...sources.matchAll(/emit\('([\w-]+)'/g)].map((m) => m[1]));
  assert.ok(events.size >= 4, [...events].join());
  for (const event of events) {
    assert.match(dts, new RegExp(`'${event}': CustomEvent<`), `event ${event} is not declared`);
    assert.match(read('www/EMBED.md'), new RegExp(`\\| \`${event}\` \\|`), `event ${event} is not in EMBED.md`);
  }
  // Every method EMBED.md documents is declared.
  const methods = [...read('www/EMBED.md').matchAll(/^\| `(\w+)\(/gm)].map((m) => m[1]);
  assert.ok(methods.length >= 5, methods.join());
  for (const method of methods) assert.ok(declared.has(method), `EMBED.md documents ${method}(), the declarations do not`);
});

test('the wasm API’s TypeScript (www/lib/api/) is committed as `cargo test` writes it', () => {
  // scripts/test.sh runs cargo test first, which writes every file from the crate's result types
  // (crate/src/web/results.rs): a type changed there and not committed shows here.
  const tracked = execFileSync('git', ['ls-files', 'www/lib/api'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
  assert.ok(tracked.includes('www/lib/api/SessionInfo.ts') && tracked.length >= 20, tracked.join(' '));
  const changed = execFileSync('git', ['status', '--porcelain', '--', 'www/lib/api'], { cwd: ROOT, encoding: 'utf8' }).trim();
  assert.equal(changed, '', `the crate's result types changed: commit what cargo test wrote into www/lib/api/\n${changed}`);
});

test('tsc: the element’s JavaScript (--checkJs, page and worker) and an author’s TypeScript against the declarations', () => {
  for (const config of ['tsconfig.json', 'tsconfig.worker.json', 'tsconfig.types.json']) passes('tsc', ['-p', config]);
});

test('one formatter: prettier --check', () => {
  passes('prettier', ['--check', 'www/**/*.js', 'www/*.d.ts', 'scripts/**/*.mjs', 'tests/**/*.{mjs,ts}', 'bench/**/*.{js,mjs}']);
});
