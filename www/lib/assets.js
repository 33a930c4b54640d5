// Where the widget's files are, and fetching them with a message that names what went wrong.
//
// Each file is named by a literal `new URL('…', import.meta.url)`: the one form Vite and webpack
// follow to copy and fingerprint a file a module uses, and that a plain page resolves beside
// this script. A host that keeps the files elsewhere sets one asset base instead (the element's
// `asset-base` attribute or `FinetuneLab.assetBase`), under which the package's own layout
// (pkg/, pkg-cpu/, base/) is expected. Every widget on a page shares the files, so the base is
// fixed by the first widget that starts loading.

const FILES = {
  'pkg/finetune_lab_bg.wasm': () => new URL('../pkg/finetune_lab_bg.wasm', import.meta.url),
  'pkg-cpu/finetune_lab_bg.wasm': () => new URL('../pkg-cpu/finetune_lab_bg.wasm', import.meta.url),
  'base/tiny.ftlab': () => new URL('../base/tiny.ftlab', import.meta.url),
  'base/tiny.json': () => new URL('../base/tiny.json', import.meta.url),
  'base/adapters/records.ftlab': () => new URL('../base/adapters/records.ftlab', import.meta.url),
  'base/adapters/qa.ftlab': () => new URL('../base/adapters/qa.ftlab', import.meta.url),
  'base/adapters/verse.ftlab': () => new URL('../base/adapters/verse.ftlab', import.meta.url),
};

let assetBase = null;
let started = false; // a file was asked for: the base can no longer change

/**
 * Set where the files are (a URL, relative to the document), before the first widget loads.
 * Returns null, or why the base was not changed.
 */
export function setAssetBase(value) {
  if (value == null || value === '') return null;
  let url;
  try {
    url = new URL(String(value), globalThis.document?.baseURI);
  } catch {
    return `asset-base="${value}" is not a URL.`;
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  if (assetBase?.href === url.href) return null;
  if (started)
    return `asset-base="${value}" came after the widget's files were already loading from ${assetBase ?? 'beside its script'}: every widget on a page shares them, so set it on the first one (or FinetuneLab.assetBase before any loads).`;
  assetBase = url;
  return null;
}

export function getAssetBase() {
  return assetBase?.href ?? null;
}

/** The URL of one of the package's files (a key of FILES). */
export function assetURL(path) {
  started = true;
  if (assetBase) return new URL(path, assetBase);
  if (!FILES[path]) throw new Error(`finetune-lab has no file ${path}`);
  return FILES[path]();
}

/** The shipped demo adapter for a built-in task, or null when the package has none for it. */
export function demoAdapterPath(task) {
  const path = `base/adapters/${task}.ftlab`;
  return FILES[path] ? path : null;
}

// What each kind of file starts with: a host that answers every path with its index page (a
// single-page app's fallback), or a bundler that did not copy a file, is caught here.
const MAGIC = {
  wasm: { bytes: [0x00, 0x61, 0x73, 0x6d], what: 'a WebAssembly module' },
  ftlab: { bytes: [...'FTLAB001'].map((c) => c.charCodeAt(0)), what: 'a finetune-lab checkpoint' },
};

/**
 * Fetch one of the package's files into a Uint8Array, reporting `{got, total}` as bytes arrive;
 * `kind` ("wasm" | "ftlab") checks what came back is that kind of file.
 */
export async function fetchAsset(path, what, kind, onProgress = () => {}) {
  const url = assetURL(path);
  const res = await fetchOk(url, what);
  const bytes = await readAll(res, onProgress);
  const magic = MAGIC[kind];
  if (magic && !magic.bytes.every((b, i) => bytes[i] === b)) {
    throw new Error(`could not load the ${what}: ${url.href} is not ${magic.what}; the server answered ${describe(res, bytes)}. ${HINT}`);
  }
  return bytes;
}

/** A small JSON file of the package's. */
export async function fetchAssetJSON(path, what) {
  const url = assetURL(path);
  // A bundler may inline a small file as a data: URL, which a strict connect-src refuses to fetch.
  if (url.protocol === 'data:') return JSON.parse(dataURLText(url.href));
  const res = await fetchOk(url, what);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`could not load the ${what}: ${url.href} is not JSON; the server answered ${describe(res, new TextEncoder().encode(text))}. ${HINT}`);
  }
}

const HINT = "Are the package's files served at that path? A host or bundler that moves them needs the asset-base attribute (EMBED.md).";

async function fetchOk(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not load the ${what} from ${url.href}: ${e.message}. ${HINT}`);
  }
  if (!res.ok) throw new Error(`could not load the ${what} from ${url.href}: HTTP ${res.status}. ${HINT}`);
  return res;
}

/** "text/html (starting “<!doctype html>…”)": what a response was, for a message. */
function describe(res, bytes) {
  const type = res.headers.get('Content-Type')?.split(';')[0] || 'no Content-Type';
  const head = new TextDecoder().decode(bytes.subarray(0, 40)).replace(/\s+/g, ' ').trim();
  const printable = head && !/[\u0000-\u0008\uFFFD]/.test(head);
  return `${type}, ${bytes.length} bytes${printable ? ` starting “${head}…”` : ''}`;
}

function dataURLText(href) {
  const comma = href.indexOf(',');
  const meta = href.slice(5, comma);
  const body = href.slice(comma + 1);
  return meta.endsWith(';base64') ? new TextDecoder().decode(Uint8Array.from(atob(body), (c) => c.charCodeAt(0))) : decodeURIComponent(body);
}

/** A response's body in one Uint8Array, reporting bytes as they arrive. */
async function readAll(res, onProgress) {
  // With Content-Encoding the header counts compressed bytes: then show bytes only.
  const length = Number(res.headers.get('Content-Length')) || 0;
  const total = res.headers.get('Content-Encoding') ? 0 : length;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  onProgress({ got, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    onProgress({ got, total });
  }
  const bytes = new Uint8Array(got);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  onProgress({ got, total: got, done: true });
  return bytes;
}
