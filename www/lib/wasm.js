// Loads the WebAssembly module and the base weights once per page, and opens at most one Lab
// per backend, each in its own worker on the same compiled module (remote-lab.js): every
// <finetune-lab> on a page shares them, so one GPU device (a second would double the memory and
// the shader compilation). Training and sampling never run on the page's thread; the page's
// own instance runs only the pure functions (tasks, scale, formats).
//
// Two builds of the module (scripts/build-wasm.sh): the full one (pkg/, WebGPU and the CPU
// path) and a CPU-only one (pkg-cpu/, no GPU backend: about a third of the download). A browser
// without WebGPU fetches only the second; one with WebGPU only the first, whose CPU path then
// serves "Use the CPU instead" too. Each build's glue is imported by a literal path, so a
// bundler sees both and splits them into chunks of their own.

import { demoAdapterPath, fetchAsset, fetchAssetJSON } from './assets.js';
import { useCrateFormats } from './format.js';
import { openRemoteLab } from './remote-lab.js';

const BUILDS = {
  full: { glue: () => import('../pkg/finetune_lab.js'), wasm: 'pkg/finetune_lab_bg.wasm' },
  cpu: { glue: () => import('../pkg-cpu/finetune_lab.js'), wasm: 'pkg-cpu/finetune_lab_bg.wasm' },
};

const modules = new Map(); // "full" | "cpu" → Promise<exports>; a failure is dropped so a retry fetches again
let basePromise = null;
const labs = new Map(); // "webgpu" | "cpu" → Promise<Lab>; failures stay cached until a restart
const listeners = new Set();
let lastProgress = null;
let runsActive = 0;
const parts = new WeakMap(); // exports → {compiled: WebAssembly.Module, build}, for the worker

/** Subscribe to shared download progress: {what: "module"|"base", got, total}. Returns unsubscribe. */
export function onProgress(fn) {
  listeners.add(fn);
  if (lastProgress) fn(lastProgress);
  return () => listeners.delete(fn);
}

function reporter(what) {
  return (progress) => {
    lastProgress = { what, ...progress };
    for (const fn of listeners) fn(lastProgress);
  };
}

/**
 * The module's exports (Lab, tasks, scale, formatBytes) for a Lab on `backend` ("webgpu" or
 * "cpu"), once initialised: WebGPU needs the full module; the CPU path takes the full one if it
 * is already here, else the CPU-only one.
 */
export function loadModule(backend) {
  const build = backend === 'webgpu' || modules.has('full') ? 'full' : 'cpu';
  if (!modules.has(build)) {
    const loading = importModule(build);
    loading.catch(() => modules.get(build) === loading && modules.delete(build));
    modules.set(build, loading);
  }
  return modules.get(build);
}

async function importModule(build) {
  const { glue, wasm } = BUILDS[build];
  // The module's bytes download while the glue loads.
  const downloading = fetchAsset(wasm, 'module', 'wasm', reporter('module'));
  downloading.catch(() => {}); // awaited below, after the glue
  let mod;
  try {
    mod = await glue();
  } catch (e) {
    throw new Error(`could not load the module's script (${build === 'full' ? 'pkg' : 'pkg-cpu'}/finetune_lab.js): ${e.message}`);
  }
  const bytes = await downloading;
  let compiled;
  try {
    // Compiled once here; the Lab's worker instantiates the same module. An object, not the
    // bare module: bare arguments are deprecated and warn.
    compiled = await WebAssembly.compile(bytes);
    await mod.default({ module_or_path: compiled });
  } catch (e) {
    throw new Error(`could not load the module: this browser could not compile it (${e.message})`);
  }
  useCrateFormats(mod);
  parts.set(mod, { compiled, build });
  return mod;
}

/** The shipped base model, checked against its sidecar (size and SHA-256). */
export function loadBase() {
  basePromise ??= (async () => {
    const meta = await fetchAssetJSON('base/tiny.json', 'base model description');
    const bytes = await fetchAsset('base/tiny.ftlab', 'base model', 'ftlab', reporter('base'));
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

/** The demo adapter shipped for a built-in task (base/adapters/TASK.ftlab), fetched once a page; null when none ships. */
export function loadDemoAdapter(task) {
  const path = demoAdapterPath(task);
  if (!path) return Promise.resolve(null);
  if (!demoAdapters.has(task)) {
    const bytes = fetchAsset(path, `${task} demo adapter`, 'ftlab');
    bytes.catch(() => demoAdapters.delete(task));
    demoAdapters.set(task, bytes);
  }
  return demoAdapters.get(task);
}

/** The shared Lab for "webgpu" or "cpu". A WebGPU failure rejects with the browser's reason. */
export function openLab(kind) {
  if (!labs.has(kind)) {
    labs.set(
      kind,
      (async () => {
        // The base downloads while the module loads and the worker starts on it.
        const base = loadBase();
        const { compiled, build } = parts.get(await loadModule(kind));
        return openRemoteLab(compiled, build, base, kind === 'webgpu');
      })(),
    );
  }
  return labs.get(kind);
}

/**
 * Drop the Labs; the next openLab starts a fresh worker, with a fresh instance. The old Labs'
 * workers end and their GPU device is destroyed: after a trap a worker's instance is unusable by
 * every widget, and would otherwise hold its memory until the page closes. The page's own
 * instance stays: it only runs pure functions, which do not trap on bad input (they return the
 * reason).
 */
export function restartModule() {
  for (const opening of labs.values())
    opening.then(
      (lab) => lab.free(),
      () => {},
    );
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
