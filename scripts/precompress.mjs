#!/usr/bin/env node
// Precompressed copies of what a reader downloads, for hosts that serve them as they are
// (nginx's gzip_static and brotli_static, Netlify, Cloudflare Pages): FILE.gz (gzip -9) and
// FILE.br (brotli at its highest quality), each rewritten only when FILE is newer. Brotli at
// quality 11 takes seconds, which a host compressing on the fly would not spend per request:
// that is why it is done here, once. `scripts/serve.mjs` serves them too.
//
//   node scripts/precompress.mjs FILE...
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { exitOnHelp } from './usage.mjs';

exitOnHelp(import.meta.url);

const compressors = {
  gz: (data) => gzipSync(data, { level: 9 }),
  br: (data) =>
    brotliCompressSync(data, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
    }),
};

const mtime = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? -1;

for (const file of process.argv.slice(2)) {
  const data = readFileSync(file);
  const sizes = [];
  for (const [ext, compress] of Object.entries(compressors)) {
    const out = `${file}.${ext}`;
    if (mtime(out) < mtime(file)) writeFileSync(out, compress(data));
    sizes.push(`${ext} ${statSync(out).size.toLocaleString('en-US')}`);
  }
  console.log(`${file}: ${data.length.toLocaleString('en-US')} bytes, ${sizes.join(', ')}`);
}
