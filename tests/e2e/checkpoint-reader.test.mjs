// The benchmarks' own checkpoint reader (bench/tfjs/data.js, which TF.js trains from) must read
// the shipped base as the crate does, whatever the base's storage (i8 rows, f16 vectors): the
// crate rewrites the base as f32 (`finetune-lab convert`), and both files read alike, value by
// value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCheckpoint } from '../../bench/tfjs/data.js';

const TARGET = process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/finetune-lab/target`;
const CLI = process.env.FINETUNE_LAB_BIN ?? `${TARGET}/debug/finetune-lab`;
const BASE = new URL('../../www/base/tiny.ftlab', import.meta.url);

test('bench/tfjs reads the shipped base as the crate does, value by value', () => {
  assert.ok(existsSync(CLI), `the native CLI is missing at ${CLI}: cargo build -p finetune-lab --bin finetune-lab (or set FINETUNE_LAB_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'ftlab-reader-'));
  try {
    const f32 = join(dir, 'tiny-f32.ftlab');
    execFileSync(CLI, ['convert', '--in', BASE.pathname, '--out', f32, '--dtype', 'f32'], { stdio: 'pipe' });
    const shipped = parseCheckpoint(readFileSync(BASE));
    const crate = parseCheckpoint(readFileSync(f32));
    assert.equal(crate.header.dtype ?? 'f32', 'f32');
    assert.deepEqual([...shipped.tensors.keys()], [...crate.tensors.keys()]);
    let values = 0;
    for (const [name, { shape, values: ours }] of shipped.tensors) {
      const theirs = crate.tensors.get(name).values;
      assert.deepEqual(shape, crate.tensors.get(name).shape, name);
      const differs = ours.findIndex((v, i) => v !== theirs[i]);
      assert.equal(differs, -1, `${name}[${differs}]: ${ours[differs]} vs the crate's ${theirs[differs]}`);
      values += ours.length;
    }
    const sidecar = JSON.parse(readFileSync(new URL('../../www/base/tiny.json', import.meta.url)));
    assert.equal(values, sidecar.params, 'every parameter of the base');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
