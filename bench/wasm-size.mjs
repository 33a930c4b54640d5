#!/usr/bin/env node
// Where the bytes of our wasm module go: code size per Rust crate, read from the module's own
// function-name section. The shipped module has no names (wasm-opt drops them), so this is run
// on a copy optimised the same way but keeping names:
//
//   node bench/wasm-size.mjs [--top 25] [FILE]
//   FILE defaults to $CARGO_TARGET_DIR/wasm-size/named.wasm, made from the cargo output by
//   `wasm-opt -Oz -g` with the flags of scripts/build-wasm.sh (cached; ~2 min).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { exitOnHelp } from '../scripts/usage.mjs';

exitOnHelp(import.meta.url);

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values: a, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache/finetune-lab/target');

function namedModule() {
  const out = join(target, 'wasm-size/named.wasm');
  const input = join(target, 'wasm32-unknown-unknown/wasm/finetune_lab.wasm');
  if (!existsSync(input)) throw new Error(`no ${input}: run scripts/build-wasm.sh first`);
  if (!existsSync(out)) {
    mkdirSync(join(out, '..'), { recursive: true });
    const features = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue', 'simd'];
    console.error(`wasm-opt -Oz -g ${input} (a few minutes) ...`);
    execFileSync(join(ROOT, 'node_modules/.bin/wasm-opt'), ['-Oz', '-g', ...features.map((f) => `--enable-${f}`), input, '-o', out], { stdio: 'inherit' });
  }
  return out;
}

/** Sections of a wasm binary: [{id, start, end, name}] (name for custom sections). */
function sections(bytes) {
  let pos = 8;
  const uleb = () => {
    let value = 0,
      shift = 0,
      byte;
    do {
      byte = bytes[pos++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return value;
  };
  const list = [];
  while (pos < bytes.length) {
    const id = bytes[pos++];
    const size = uleb();
    const start = pos;
    let name = null;
    if (id === 0) {
      const n = uleb();
      name = new TextDecoder().decode(bytes.subarray(pos, pos + n));
      pos += n;
    }
    list.push({ id, start: pos, end: start + size, name });
    pos = start + size;
  }
  return {
    list,
    reader: (at) => {
      pos = at;
      return {
        uleb,
        get pos() {
          return pos;
        },
        skip: (n) => {
          pos += n;
        },
      };
    },
  };
}

/** The crate a legacy-mangled Rust symbol belongs to (for `<A as B>::f`, the crate of A). */
function crateOf(name) {
  const m = /^_ZN(\d+)(.*)$/.exec(name);
  if (!m) return name.startsWith('wasm_bindgen') || name.startsWith('__wbg') ? 'wasm_bindgen' : '(runtime: libc, allocator, intrinsics)';
  let first = m[2].slice(0, Number(m[1]));
  first = first
    .replace(/^_?\$LT\$/, '')
    .replace(/\$u20\$.*$/, '')
    .replace(/^&(mut\$u20\$)?/, '');
  return first.split('..')[0].replace(/\$.*$/, '') || '(other)';
}

const file = positionals[0] ?? namedModule();
const bytes = readFileSync(file);
const { list, reader } = sections(bytes);
const importCount = (() => {
  const s = list.find((x) => x.id === 2);
  if (!s) return 0;
  const r = reader(s.start);
  let functions = 0;
  for (let i = 0, n = r.uleb(); i < n; i++) {
    for (let j = 0; j < 2; j++) r.skip(r.uleb()); // module, field
    const kind = bytes[r.pos];
    r.skip(1);
    if (kind === 0) {
      r.uleb();
      functions++;
    } else if (kind === 1) {
      r.skip(1);
      const f = r.uleb();
      r.uleb();
      if (f & 1) r.uleb();
    } else if (kind === 2) {
      const f = r.uleb();
      r.uleb();
      if (f & 1) r.uleb();
    } else if (kind === 3) {
      r.skip(2);
    } else r.skip(2);
  }
  return functions;
})();
const names = new Map();
const nameSection = list.find((x) => x.name === 'name');
if (!nameSection) throw new Error(`${file} has no name section`);
for (const r = reader(nameSection.start); r.pos < nameSection.end;) {
  const sub = bytes[r.pos];
  r.skip(1);
  const size = r.uleb();
  const end = r.pos + size;
  if (sub === 1) {
    for (let i = 0, n = r.uleb(); i < n; i++) {
      const index = r.uleb();
      const len = r.uleb();
      names.set(index, new TextDecoder().decode(bytes.subarray(r.pos, r.pos + len)));
      r.skip(len);
    }
  }
  r.skip(end - r.pos);
}
const code = list.find((x) => x.id === 10);
const byCrate = new Map();
let total = 0;
const r = reader(code.start);
for (let i = 0, n = r.uleb(); i < n; i++) {
  const size = r.uleb();
  r.skip(size);
  const crate = crateOf(names.get(importCount + i) ?? '');
  const entry = byCrate.get(crate) ?? { bytes: 0, functions: 0 };
  entry.bytes += size;
  entry.functions++;
  total += size;
  byCrate.set(crate, entry);
}
const data = list.filter((x) => x.id === 11).reduce((s, x) => s + x.end - x.start, 0);
console.log(`${file}: ${bytes.length} bytes; code ${total}, data ${data}, names and other custom sections ${list.filter((x) => x.id === 0).reduce((s, x) => s + x.end - x.start, 0)}`);
console.log('crate | code bytes | share of code | functions');
for (const [crate, e] of [...byCrate].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, Number(a.top))) {
  console.log(`${crate} | ${e.bytes} | ${((100 * e.bytes) / total).toFixed(1)}% | ${e.functions}`);
}
