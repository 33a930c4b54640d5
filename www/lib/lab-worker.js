// The widget's Labs, off the page's thread. On burn's CPU backend a training step or a sampled
// character is one synchronous call (a step at 16 × 128 takes about half a second), and on
// WebGPU the first steps compile shaders and encode hundreds of dispatches: on the page's thread
// either would freeze it. One worker per backend serves every widget on a page; remote-lab.js is
// its other end, and worker-full.js / worker-cpu.js start it on their build's glue.
//
// In: {id, op: "init" | "open" | "call" | "free" | "destroyDevice" | "heapBytes", ...}.
// Out: {id, value} or {id, handle, props} (a Lab, Session or Serving, kept here and named by its
// handle) or {id, error: {name, message}}; {trap: message} when the instance traps inside a
// future, whose call then never answers; {lost: {reason, message}} when the GPU device is lost;
// {ready: true} once, when the worker's scripts have loaded.

let mod = null; // the glue's exports
let exports = null; // the instance's exports, for its linear memory
let device = null; // the GPUDevice the WebGPU Lab runs on
const objects = new Map(); // handle → Lab | Session | Serving
let nextHandle = 1;

function keep(object, props) {
  const handle = nextHandle++;
  objects.set(handle, object);
  return { handle, props };
}

function get(handle) {
  const object = objects.get(handle);
  if (!object) throw new Error('this object was already freed');
  return object;
}

const ops = {
  /** The glue's instance of the module the page compiled (a WebAssembly.Module). */
  async init({ module }) {
    exports = await mod.default({ module_or_path: module });
    return { value: true };
  },
  /** The Lab on WebGPU (`gpu`) or the CPU; a WebGPU failure answers with the browser's reason. */
  async open({ base, gpu }) {
    const lab = gpu ? await openGpu(base) : await mod.Lab.open(base, false);
    return keep(lab, { backend: lab.backend, settings: lab.settings, shape: lab.shape, pageAdapter: lab.pageAdapter });
  },
  /** Destroy the GPU device (a restart frees it at once rather than when the worker is collected). */
  destroyDevice() {
    device?.destroy();
    return { value: Boolean(device) };
  },
  async call({ handle, method, args }) {
    const value = await get(handle)[method](...args);
    if (value instanceof mod.Session) return keep(value, { info: value.info });
    if (value instanceof mod.Serving) return keep(value, {});
    return { value };
  },
  free({ handle }) {
    get(handle).free();
    objects.delete(handle);
    return { value: true };
  },
  /** {live, peak} of the heap (the crate's counting allocator) and the linear memory's size. */
  heapBytes() {
    return { value: { ...mod.heapBytes(), memory: exports.memory.buffer.byteLength } };
  },
};

/**
 * Lab.open on WebGPU, keeping hold of the GPUDevice the backend requests (burn does not expose
 * it) to report its loss. requestDevice is wrapped only here, in the worker, and only while the
 * Lab opens: the host page's own WebGPU use never sees it.
 */
async function openGpu(base) {
  const proto = self.GPUAdapter?.prototype;
  const real = proto?.requestDevice;
  if (real) {
    proto.requestDevice = async function (...args) {
      const d = await real.apply(this, args);
      device ??= d;
      return d;
    };
  }
  try {
    const lab = await mod.Lab.open(base, true);
    device?.lost.then(({ reason, message }) => self.postMessage({ lost: { reason, message } }));
    return lab;
  } finally {
    if (real) proto.requestDevice = real;
  }
}

/** Answer the page's messages with `glue`, one build's wasm-bindgen module. */
export function serveLabs(glue) {
  mod = glue;
  self.onmessage = async ({ data }) => {
    try {
      self.postMessage({ id: data.id, ...(await ops[data.op](data)) });
    } catch (e) {
      self.postMessage({ id: data.id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e) } });
    }
  };
  // A panic aborts (a trap); inside one of wasm-bindgen's futures it escapes uncaught.
  const trapped = (error) => error instanceof WebAssembly.RuntimeError && self.postMessage({ trap: error.message });
  self.addEventListener('error', (e) => trapped(e.error));
  self.addEventListener('unhandledrejection', (e) => trapped(e.reason));
  // The page waits for this before its first message: a worker that failed to load (a refused
  // script, a policy) then says so instead of leaving the page waiting.
  self.postMessage({ ready: true });
}
