// Every script of ours answers --help with its usage and exits 0, doing nothing else: the shell,
// Node and Python scripts under scripts/, bench/ and tests/sites/ (a file that starts with a
// shebang, or Python with a __main__). Their usage is their header comment (scripts/usage.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { usage } from '../../scripts/usage.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tracked = execFileSync('git', ['ls-files', 'scripts', 'bench', 'tests/sites'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
const SCRIPTS = tracked.filter((path) => {
  if (!/\.(sh|mjs|py)$/.test(path)) return false;
  const text = readFileSync(ROOT + path, 'utf8');
  return text.startsWith('#!') || text.includes('if __name__ == "__main__"');
});
const RUNNER = { sh: 'bash', mjs: process.execPath, py: 'python3' };

test('the scripts are found', () => {
  for (const path of ['scripts/test.sh', 'scripts/serve.mjs', 'scripts/package.sh', 'bench/browser.mjs', 'bench/pytorch/bench.py', 'tests/sites/build.mjs']) assert.ok(SCRIPTS.includes(path), path);
});

for (const path of SCRIPTS) {
  test(`${path} --help`, { timeout: 30_000 }, () => {
    const run = spawnSync(RUNNER[path.split('.').pop()], [path, '--help'], { cwd: ROOT, encoding: 'utf8', timeout: 25_000 });
    assert.equal(run.status, 0, `${path} --help exited ${run.status}: ${run.stderr}`);
    const out = run.stdout.trim();
    assert.ok(out.split('\n').length >= 2, `${path} --help printed: ${out}`);
    // Its usage as written at its top (the site builder prints a text that also names its cache).
    if (path === 'tests/sites/build.mjs') assert.match(out, /node tests\/sites\/build\.mjs/);
    else assert.equal(out, usage(ROOT + path));
  });
}
