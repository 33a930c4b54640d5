#!/usr/bin/env node
// A tiny static server for www/: no dependencies, loopback only, no directory listing; text
// and WebAssembly compressed for browsers that accept it (as web hosts do); a file with an up-to-date
// precompressed copy beside it (FILE.br, FILE.gz: scripts/precompress.mjs) is sent as that copy
// to browsers that accept its encoding, as hosts with gzip_static/brotli_static do.
//
//   node scripts/serve.mjs [port]         (or PORT=8080; HOST defaults to 127.0.0.1)
//
// The tests import `startServer` and run it in-process on a free port (port 0).

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import { stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  // WebAssembly.instantiateStreaming refuses any other type.
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.ftlab': 'application/octet-stream',
};

// Text compresses about threefold, WebAssembly about fourfold: web hosts compress both on the
// fly, and a site generator's fingerprinted copy of the module has no precompressed copy beside
// it. Other files without one (the weights of a reader's import, the demo adapters) are sent as
// they are, as hosts send application/octet-stream.
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.md', '.txt', '.svg', '.ts', '.wasm']);
// On the fly, brotli at quality 5 where the browser takes it (what CDNs use for responses they
// compress per request: the highest qualities take seconds), else gzip.
const ON_THE_FLY = {
  br: () => createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 5 } }),
  gzip: () => createGzip(),
};

export const WWW = fileURLToPath(new URL('../www/', import.meta.url));

/** A course platform's strict policy: no inline script or style, WebAssembly allowed. The site
 * works under it, and the browser suite runs under it. */
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

/**
 * Start serving `root`; resolves to {server, url}. With `csp`, every response carries `CSP` (or
 * `csp` itself when it is a string); with `cors`, every response may be read from any origin, as
 * a CDN's are (module scripts and fetches from another origin need it).
 */
export function startServer({ root = WWW, port = 8080, host = '127.0.0.1', log = false, csp = false, cors = false } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    if (csp) res.setHeader('Content-Security-Policy', typeof csp === 'string' ? csp : CSP);
    if (cors) res.setHeader('Access-Control-Allow-Origin', '*');
    const status = await respond(base, req, res).catch(() => fail(res, 500, 'server error'));
    if (log) console.log(`${status} ${req.method} ${req.url}`);
  });
  return new Promise((ok, bad) => {
    server.once('error', bad);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      ok({ server, url: `http://${host}:${actual}/` });
    });
  });
}

async function respond(base, req, res) {
  if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'method not allowed');
  let raw;
  let path;
  try {
    raw = new URL(req.url, 'http://x').pathname;
    path = decodeURIComponent(raw);
  } catch {
    return fail(res, 400, 'bad path');
  }
  // resolve() collapses any "..": whatever is left must still be inside the root.
  let file = resolve(join(base, path));
  if (path.includes('\0') || (file !== base && !file.startsWith(base + sep))) return fail(res, 403, 'forbidden');
  let info = await stat(file).catch(() => null);
  if (info?.isDirectory()) {
    if (!path.endsWith('/')) {
      // From the path as sent, still percent-encoded, with one leading slash: a decoded
      // "/%2Fevil.example" would make "//evil.example/", another origin.
      res.writeHead(301, { Location: `/${raw.replace(/^\/+/, '')}/` });
      res.end();
      return 301;
    }
    file = join(file, 'index.html');
    info = await stat(file).catch(() => null);
  }
  if (!info?.isFile()) return fail(res, 404, 'not found');
  const type = extname(file).toLowerCase();
  const accepts = (encoding) => new RegExp(`\\b${encoding}\\b`).test(req.headers['accept-encoding'] ?? '');
  const copy = await precompressed(file, info, accepts);
  const compress = !copy?.path && COMPRESSIBLE.has(type) ? ['br', 'gzip'].find(accepts) : undefined;
  const encoding = copy?.encoding ?? compress ?? null;
  res.writeHead(200, {
    'Content-Type': TYPES[type] ?? 'application/octet-stream',
    ...(encoding && { 'Content-Encoding': encoding }),
    ...((encoding || copy?.absent) && { Vary: 'Accept-Encoding' }),
    ...(!compress && { 'Content-Length': copy?.size ?? info.size }),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (req.method === 'HEAD') return (res.end(), 200);
  // A file that vanished since stat, or that cannot be read, must not take the server down
  // (an unhandled stream error would): the response is cut short and the server goes on.
  const stream = createReadStream(copy?.path ?? file);
  stream.on('error', () => res.destroy());
  if (compress) {
    const zip = ON_THE_FLY[compress]();
    zip.on('error', () => res.destroy());
    stream.pipe(zip).pipe(res);
  } else {
    stream.pipe(res);
  }
  return 200;
}

/**
 * The copy of `file` to send instead, if the browser accepts its encoding: FILE.br before
 * FILE.gz, each only when at least as new as FILE (a stale copy would send old bytes). When
 * copies exist but none is accepted, `absent` still asks caches to vary on the encoding.
 */
async function precompressed(file, info, accepts) {
  let exists = false;
  for (const [ext, encoding] of [
    ['br', 'br'],
    ['gz', 'gzip'],
  ]) {
    const copy = await stat(`${file}.${ext}`).catch(() => null);
    if (!copy?.isFile() || copy.mtimeMs < info.mtimeMs) continue;
    exists = true;
    if (accepts(encoding)) return { path: `${file}.${ext}`, encoding, size: copy.size };
  }
  return exists ? { absent: true } : null;
}

function fail(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
  return status;
}

// Run directly: serve www/ and print the URL.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { exitOnHelp } = await import('./usage.mjs');
  exitOnHelp(import.meta.url);
  const port = Number(process.argv[2] ?? process.env.PORT ?? 8080);
  const host = process.env.HOST ?? '127.0.0.1';
  const { url } = await startServer({ port, host, log: !!process.env.LOG, csp: process.env.CSP !== '0' });
  console.log(`finetune-lab: serving ${WWW} at ${url}  (Ctrl-C to stop)`);
}
