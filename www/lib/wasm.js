// Loads the WebAssembly module and the base weights once per page, and opens at most one Lab
// per backend, each in its own worker on the same compiled module (remote-lab.js): every
// <finetune-lab> on a page shares them, so one GPU device (a second would double the memory and
// the shader compilation). Training and sampling never run on the page's thread; the page's
// own instance runs only the pure functions (tasks, scale, formats).
//
// Two builds of the module (scripts/build-wasm.sh): the full one (pkg/, WebGPU and the CPU
// path) and a CPU-only one (pkg-cpu/, no GPU backend: about a third of the download). A browser
// without WebGPU fetches only the second; one with WebGPU only the first, whose CPU path then
// serves "Use the CPU instead" too.

import { useCrateFormats } from './format.js';
import { openRemoteLab } from './remote-lab.js';

const PACKAGES = { full: new URL('../pkg/', import.meta.url), cpu: new URL('../pkg-cpu/', import.meta.url) };
const BASE = new URL('../base/', import.meta.url);

// Bumped by restartModule(): importing the glue under a new query string gives a fresh wasm
// instance, the only clean way back after a trap (a panic aborts and can leave the old one
// half-borrowed).
let generation = 0;
const modules = new Map(); // "full" | "cpu" → Promise<exports>; failures stay cached until a restart
let basePromise = null;
const labs = new Map(); // "webgpu" | "cpu" → Promise<Lab>; failures stay cached until a restart
const listeners = new Set();
let lastProgress = null;
let runsActive = 0;
const parts = new WeakMap(); // exports → {compiled: WebAssembly.Module, glue: URL}, for the worker

/** Subscribe to shared download progress: {what: "module"|"base", got, total}. Returns unsubscribe. */
export function onProgress(fn) {
  listeners.add(fn);
  if (lastProgress) fn(lastProgress);
  return () => listeners.delete(fn);
}

function report(progress) {
  lastProgress = progress;
  for (const fn of listeners) fn(progress);
}

/**
 * The module's exports (Lab, tasks, scale, formatBytes) for a Lab on `backend` ("webgpu" or
 * "cpu"), once initialised: WebGPU needs the full module; the CPU path takes the full one if it
 * is already here, else the CPU-only one.
 */
export function loadModule(backend) {
  const build = backend === 'webgpu' || modules.has('full') ? 'full' : 'cpu';
  if (!modules.has(build)) modules.set(build, importModule(PACKAGES[build], generation));
  return modules.get(build);
}

async function importModule(pkg, gen) {
  const glue = new URL('finetune_lab.js', pkg);
  if (gen) glue.search = `?instance=${gen}`;
  // The module's bytes download while the glue loads.
  const downloading = download(new URL('finetune_lab_bg.wasm', pkg), 'module');
  downloading.catch(() => {}); // a failed import below is the error to show
  let mod;
  try {
    mod = await import(glue.href);
  } catch (e) {
    throw new Error(`could not load the module (${glue.pathname}): ${e.message}. Has the wasm been built (scripts/build-wasm.sh)?`);
  }
  const bytes = await downloading;
  let compiled;
  try {
    // Compiled once here; the CPU worker instantiates the same module. An object, not the bare
    // module: bare arguments are deprecated and warn.
    compiled = await WebAssembly.compile(bytes);
    await mod.default({ module_or_path: compiled });
  } catch (e) {
    throw new Error(`could not load the module: this browser could not compile it (${e.message})`);
  }
  useCrateFormats(mod);
  parts.set(mod, { compiled, glue });
  return mod;
}

/** The shipped base model, checked against its sidecar (size and SHA-256). */
export function loadBase() {
  basePromise ??= (async () => {
    const meta = await (await fetchOk(new URL('tiny.json', BASE), 'base model description')).json();
    const bytes = await download(new URL('tiny.ftlab', BASE), 'base');
    if (meta.bytes != null && bytes.length !== meta.bytes) {
      throw new Error(`the base model is ${bytes.length} bytes, its description says ${meta.bytes}: a stale or partial download`);
    }
    if (meta.sha256 && globalThis.crypto?.subtle) {
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
      if (hex !== meta.sha256) throw new Error('the base model does not match its SHA-256: a corrupt download');
    }
    return bytes;
  })();
  basePromise.catch(() => (basePromise = null)); // a network hiccup should not stick
  return basePromise;
}

const demoAdapters = new Map(); // task → Promise<Uint8Array>

/** The demo adapter shipped for a built-in task (base/adapters/TASK.ftlab), fetched once a page. */
export function loadDemoAdapter(task) {
  if (!demoAdapters.has(task)) {
    const bytes = fetchOk(new URL(`adapters/${task}.ftlab`, BASE), `${task} demo adapter`).then(async (r) => new Uint8Array(await r.arrayBuffer()));
    bytes.catch(() => demoAdapters.delete(task));
    demoAdapters.set(task, bytes);
  }
  return demoAdapters.get(task);
}

/** The shared Lab for "webgpu" or "cpu". A WebGPU failure rejects with the browser's reason. */
export function openLab(kind) {
  if (!labs.has(kind)) {
    labs.set(kind, (async () => {
      // The base downloads while the module loads and the worker starts on it.
      const base = loadBase();
      const { compiled, glue } = parts.get(await loadModule(kind));
      return openRemoteLab(compiled, glue, base, kind === 'webgpu');
    })());
  }
  return labs.get(kind);
}

/**
 * Drop the instance and its Labs; the next openLab starts a fresh one. The old Labs' workers end
 * and their GPU device is destroyed: after a trap an instance is unusable by every widget, and
 * would otherwise hold its memory until the page closes.
 */
export function restartModule() {
  generation += 1;
  for (const opening of labs.values()) opening.then((lab) => lab.free(), () => {});
  modules.clear();
  labs.clear();
  lastProgress = null;
}

/** Count runs in flight on this page: the allocator's figures are device-wide. */
export function trackRun() {
  runsActive += 1;
  let done = false;
  return () => {
    if (!done) runsActive -= 1;
    done = true;
  };
}

export function activeRuns() {
  return runsActive;
}

async function fetchOk(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not load the ${what} (${url.pathname}): ${e.message}`);
  }
  if (!res.ok) throw new Error(`could not load the ${what} (${url.pathname}: HTTP ${res.status})`);
  return res;
}

/** Fetch into one Uint8Array, reporting bytes as they arrive. */
async function download(url, what) {
  const res = await fetchOk(url, what);
  // With Content-Encoding the header counts compressed bytes: then show bytes only.
  const length = Number(res.headers.get('Content-Length')) || 0;
  const total = res.headers.get('Content-Encoding') ? 0 : length;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let got = 0;
  report({ what, got, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    got += value.length;
    report({ what, got, total });
  }
  const bytes = new Uint8Array(got);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  report({ what, got, total: got, done: true });
  return bytes;
}
