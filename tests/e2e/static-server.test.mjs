// scripts/serve.mjs, the README's static server, probed the way a broken file and a hostile
// URL would: it keeps serving after a file that cannot be read, and its redirects stay on the
// origin.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVE = fileURLToPath(new URL('../../scripts/serve.mjs', import.meta.url));
let root;
let server;
let url;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'finetune-lab-static-'));
  writeFileSync(join(root, 'ok.txt'), 'fine\n');
  mkdirSync(join(root, 'base'));
  writeFileSync(join(root, 'base', 'index.html'), '<p>base</p>');
  // A regular file by stat whose read fails (EIO): Linux's /proc/self/mem at offset 0.
  symlinkSync('/proc/self/mem', join(root, 'unreadable.bin'));
  // In a process of its own, as `node scripts/serve.mjs` runs: an unhandled error there ends it
  // (in this one the test runner would catch it).
  const script = `const { startServer } = await import(${JSON.stringify(SERVE)}); console.log((await startServer({ root: process.argv[1], port: 0 })).url);`;
  server = spawn(process.execPath, ['--input-type=module', '-e', script, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise((ok, bad) => {
    server.stdout.once('data', (d) => ok(String(d).trim()));
    server.once('exit', (code) => bad(new Error(`the server exited (${code})`)));
  });
});

after(() => {
  server?.kill();
  rmSync(root, { recursive: true, force: true });
});

/** GET `path` as sent (no normalisation): {status, headers, body}, or {error} if the connection broke. */
function get(path) {
  return new Promise((ok) => {
    const req = request(new URL(url), { path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', (error) => ok({ error }));
    });
    req.on('error', (error) => ok({ error }));
    req.setTimeout(5000, () => req.destroy(new Error('no answer in 5 s')));
    req.end();
  });
}

test('a file that cannot be read does not stop the server', { timeout: 30_000 }, async () => {
  const broken = await get('/unreadable.bin');
  assert.ok(broken.error || broken.body === '', `unreadable file answered ${JSON.stringify(broken).slice(0, 200)}`);
  for (let i = 0; i < 3; i++) {
    const again = await get('/ok.txt');
    assert.equal(again.status, 200);
    assert.equal(again.body, 'fine\n');
  }
  assert.equal((await get('/vanished.txt')).status, 404);
});

test('a directory redirect stays on the origin', { timeout: 30_000 }, async () => {
  assert.equal((await get('/base')).headers.location, '/base/');
  for (const path of ['/%2Fevil.example/..%2Fbase', '//evil.example/../base', '/%2F%2Fevil.example%2F..%2Fbase']) {
    const r = await get(path);
    if (r.status === 301) {
      const location = r.headers.location;
      assert.ok(location.startsWith('/') && !location.startsWith('//'), `${path} redirected to ${location}`);
      assert.equal(new URL(location, url).origin, new URL(url).origin, `${path} → ${location}`);
    } else {
      assert.ok([403, 404].includes(r.status), `${path}: ${r.status}`);
    }
  }
});
