// scripts/serve.mjs, the README's static server, probed the way a broken file and a hostile
// URL would: it keeps serving after a file that cannot be read, and its redirects stay on the
// origin. And its precompressed copies (scripts/precompress.mjs): sent only to browsers that
// accept their encoding, and only while not older than the file.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, utimesSync } from 'node:fs';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVE = fileURLToPath(new URL('../../scripts/serve.mjs', import.meta.url));
const PRECOMPRESS = fileURLToPath(new URL('../../scripts/precompress.mjs', import.meta.url));
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
  // Weights-like bytes with precompressed copies, and a file whose copies are stale.
  writeFileSync(join(root, 'model.ftlab'), Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) % 13)));
  writeFileSync(join(root, 'stale.ftlab'), 'old');
  // A module as a bundler copies it: fingerprinted, with no precompressed copy beside it.
  writeFileSync(join(root, 'module-3f2a.wasm'), Buffer.concat([Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]), Buffer.alloc(40_000, 7)]));
  execFileSync(process.execPath, [PRECOMPRESS, join(root, 'model.ftlab'), join(root, 'stale.ftlab')]);
  writeFileSync(join(root, 'stale.ftlab'), 'new bytes');
  const later = new Date(Date.now() + 60_000);
  utimesSync(join(root, 'stale.ftlab'), later, later);
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

/** GET `path` as sent (no normalisation): {status, headers, body, bytes}, or {error} if the connection broke. */
function get(path, headers = {}) {
  return new Promise((ok) => {
    const req = request(new URL(url), { path, method: 'GET', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        ok({ status: res.statusCode, headers: res.headers, body: bytes.toString(), bytes });
      });
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

test('precompressed copies go to browsers that accept them, whole and only while fresh', { timeout: 30_000 }, async () => {
  const plain = await get('/model.ftlab');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.equal(plain.bytes.length, 50_000);
  const br = await get('/model.ftlab', { 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(Number(br.headers['content-length']), br.bytes.length);
  assert.ok(br.bytes.length < 1_000, `${br.bytes.length} bytes of brotli`);
  assert.deepEqual(brotliDecompressSync(br.bytes), plain.bytes);
  const gz = await get('/model.ftlab', { 'Accept-Encoding': 'gzip, deflate' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.deepEqual(gunzipSync(gz.bytes), plain.bytes);
  for (const r of [plain, br, gz]) assert.equal(r.headers.vary, 'Accept-Encoding');
  // Copies older than the file would send its old bytes: the file goes as it is.
  const stale = await get('/stale.ftlab', { 'Accept-Encoding': 'gzip, br' });
  assert.equal(stale.headers['content-encoding'], undefined);
  assert.equal(stale.body, 'new bytes');
});

test('WebAssembly without a copy is compressed on the fly: brotli where accepted, else gzip', { timeout: 30_000 }, async () => {
  const plain = await get('/module-3f2a.wasm');
  assert.equal(plain.headers['content-type'], 'application/wasm');
  assert.equal(plain.bytes.length, 40_008);
  const br = await get('/module-3f2a.wasm', { 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.deepEqual(brotliDecompressSync(br.bytes), plain.bytes);
  const gz = await get('/module-3f2a.wasm', { 'Accept-Encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.deepEqual(gunzipSync(gz.bytes), plain.bytes);
  for (const r of [br, gz]) assert.ok(r.bytes.length < 1_000, `${r.headers['content-encoding']}: ${r.bytes.length} bytes`);
});
