// The page's end of lab-worker.js: a Lab, Session and Serving with the methods the widget
// uses, each call a message to the worker and a promise of its answer. The wasm objects stay in
// the worker; these hold their handles. A trap there fails every call in flight with a
// WebAssembly.RuntimeError, as a trap on the page's thread would; a lost GPU device is told to
// the Lab's `onDeviceLost` subscribers.

// Where the worker scripts are when the literal form below cannot start them; held in a
// variable so that bundlers, which rewrite the literal form, leave this one alone.
const HERE = import.meta.url;
const WORKER_FILES = { full: 'worker-full.js', cpu: 'worker-cpu.js' };

/**
 * A module Worker for `build` ("full" | "cpu"). The literal `new Worker(new URL(…))` is the form
 * Vite and webpack bundle as a worker. A browser refuses a worker script from another origin (the
 * package on a CDN): then a same-origin blob: module that imports the real one starts it, which a
 * page's Content-Security-Policy must allow (worker-src blob: and the files' origin).
 */
function startWorker(build) {
  try {
    const worker = build === 'full' ? new Worker(new URL('./worker-full.js', import.meta.url), { type: 'module' }) : new Worker(new URL('./worker-cpu.js', import.meta.url), { type: 'module' });
    return { worker, trampoline: null };
  } catch (e) {
    if (e?.name !== 'SecurityError') throw e;
  }
  const script = new URL(WORKER_FILES[build], HERE);
  const trampoline = URL.createObjectURL(new Blob([`import ${JSON.stringify(script.href)};\n`], { type: 'text/javascript' }));
  try {
    return { worker: new Worker(trampoline, { type: 'module' }), trampoline };
  } catch (e) {
    URL.revokeObjectURL(trampoline);
    throw new Error(`${POLICY} The widget's files are on another origin (${script.origin}), so its worker starts from a blob: URL, and this page refused it (${e.message}).`);
  }
}

const POLICY =
  "The widget could not start its worker. If this page sets a Content-Security-Policy, it must allow the widget's worker: worker-src 'self', and when the widget's files come from another origin, worker-src blob: and that origin (a worker's imports go by worker-src), and script-src and connect-src that origin too (EMBED.md).";

class Channel {
  /** worker: from startWorker, with the blob: URL it started from, if any (revoked once it has loaded). */
  constructor({ worker, trampoline }) {
    this.worker = worker;
    this.trampoline = trampoline;
    this.pending = new Map(); // id → {resolve, reject}
    this.nextId = 1;
    this.broken = null;
    this.lostInfo = null; // {reason, message}, once the worker's GPU device is lost
    this.lostListeners = new Set();
    // Resolves once the worker's scripts have loaded; until then an error event means they did not.
    this.loaded = new Promise((resolve) => (this.markLoaded = resolve));
    this.isLoaded = false;
    worker.onmessage = ({ data }) => {
      if (data.ready) this.started();
      else if (data.trap !== undefined) this.fail(data.trap);
      else if (data.lost) this.deviceLost(data.lost);
      else this.answer(data);
    };
    worker.onerror = (e) => {
      e.preventDefault?.(); // reported in the widget, not as an uncaught error in the console
      if (this.isLoaded) this.fail(e.message ?? 'the worker failed');
      else this.fail(`${POLICY} (${e.message || 'its script did not load'})`, Error);
    };
  }

  started() {
    this.isLoaded = true;
    if (this.trampoline) URL.revokeObjectURL(this.trampoline);
    this.markLoaded();
  }

  send(message) {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  answer({ id, error, ...result }) {
    const call = this.pending.get(id);
    this.pending.delete(id);
    if (!error) return call?.resolve(result);
    const Kind = error.name === 'RuntimeError' ? WebAssembly.RuntimeError : Error;
    call?.reject(new Kind(error.message));
  }

  deviceLost(info) {
    this.lostInfo = info;
    for (const fn of [...this.lostListeners]) fn(info);
    this.lostListeners.clear();
  }

  /** Fail every call in flight and to come: a trap by default, `Kind` for a worker that never started. */
  fail(message, Kind = WebAssembly.RuntimeError) {
    this.broken = new Kind(message);
    for (const call of this.pending.values()) call.reject(this.broken);
    this.pending.clear();
    this.onBroken?.(this.broken);
  }

  /** Rejects when the channel breaks (the worker failed to load, or trapped). */
  failed() {
    return new Promise((_, reject) => {
      if (this.broken) return reject(this.broken);
      this.onBroken = reject;
    });
  }

  close() {
    this.worker.terminate();
    this.fail('the worker was closed');
  }
}

/** A wasm object in the worker, named by its handle; its getters come read once, as `props`. */
class Remote {
  constructor(channel, handle) {
    this.channel = channel;
    this.handle = handle;
  }

  async call(method, ...args) {
    const result = await this.channel.send({ op: 'call', handle: this.handle, method, args });
    return 'value' in result ? result.value : result;
  }

  /** A call that returns another wasm object: a Remote of `Kind` for it. */
  async make(Kind, method, ...args) {
    const { handle, props } = await this.channel.send({ op: 'call', handle: this.handle, method, args });
    return new Kind(this.channel, handle, props);
  }

  free() {
    this.channel.send({ op: 'free', handle: this.handle }).catch(() => {});
  }
}

// What each call answers with: the crate's result types (crate/src/web/results.rs and the
// types they hold), whose TypeScript `cargo test` writes into ./api/.
/** @typedef {import('./api/SessionInfo').SessionInfo} SessionInfo */
/** @typedef {import('./api/RunMemory').RunMemory} RunMemory */
/** @typedef {import('./api/FormatVerdict').FormatVerdict} FormatVerdict */
/** @typedef {import('./api/AdapterInfo').AdapterInfo} AdapterInfo */
/** @typedef {import('./api/ServeReport').ServeReport} ServeReport */
/** @typedef {import('./api/HeapBytes').HeapBytes} HeapBytes */
/** @typedef {import('./api/Setting').Setting} Setting */
/** @typedef {import('./api/ModelShape').ModelShape} ModelShape */
/** @typedef {import('./api/AdapterRecipe').AdapterRecipe} AdapterRecipe */

/** One fine-tuning run (`web::Session`). */
export class RemoteSession extends Remote {
  constructor(channel, handle, props) {
    super(channel, handle);
    /** @type {SessionInfo} */
    this.info = props.info;
  }

  /**
   * Training steps, at least one and at most `most`, as many as the device runs in about a frame.
   * @returns {Promise<Float32Array>} each step's loss, in order
   */
  steps(most) {
    return this.call('steps', most);
  }
  /** @returns {Promise<number>} */
  heldoutLoss() {
    return this.call('heldoutLoss');
  }
  /** @returns {Promise<FormatVerdict | null>} null for the reader's own text */
  checkFormat(sample) {
    return this.call('checkFormat', sample);
  }
  /** @returns {Promise<number | undefined>} the run's length, once the timed steps decide it */
  decideSteps(timesMs) {
    return this.call('decideSteps', timesMs);
  }
  /** @returns {Promise<string>} */
  sample(prompt, chars) {
    return this.call('sample', prompt, chars);
  }
  /** @returns {Promise<RunMemory>} */
  memory() {
    return this.call('memory');
  }
  /** @returns {Promise<Uint8Array>} */
  checkpoint() {
    return this.call('checkpoint');
  }
}

/** Rows being served together (`web::Serving`). */
export class RemoteServing extends Remote {
  /** @returns {Promise<string>} one character per row */
  step() {
    return this.call('step');
  }
  /** @returns {Promise<string[]>} */
  texts() {
    return this.call('texts');
  }
}

/** The device and the base (`web::Lab`). */
export class RemoteLab extends Remote {
  constructor(channel, handle, props) {
    super(channel, handle);
    /** @type {'webgpu' | 'cpu'} */
    this.backend = props.backend;
    /** @type {Setting[]} */
    this.settings = props.settings;
    /** @type {ModelShape} */
    this.shape = props.shape;
    /** @type {AdapterRecipe} */
    this.pageAdapter = props.pageAdapter;
  }

  /** @returns {Promise<RemoteSession>} */
  start(options) {
    return this.make(RemoteSession, 'start', options);
  }
  /**
   * Compile a training step's GPU pipelines with a tiny step (once a Lab; nothing on the CPU).
   * @returns {Promise<void>}
   */
  warmUp() {
    return this.call('warmUp');
  }
  /** @returns {Promise<AdapterInfo>} */
  adapterInfo(bytes) {
    return this.call('adapterInfo', bytes);
  }
  /**
   * A model or adapter file as the .zip of its transformers or PEFT directory.
   * @returns {Promise<Uint8Array>}
   */
  huggingFaceZip(bytes) {
    return this.call('huggingFaceZip', bytes);
  }
  /**
   * A PEFT LoRA adapter (a .zip, or its adapter_config.json and adapter_model.safetensors) as an adapter file for this base.
   * @returns {Promise<Uint8Array>}
   */
  importPeft(first, weights = undefined) {
    return this.call('importPeft', first, weights);
  }
  /** @returns {Promise<RemoteServing>} */
  serve(adapters, requests) {
    return this.make(RemoteServing, 'serve', adapters, requests);
  }
  /** @returns {Promise<ServeReport>} */
  serveThreeWays(adapters, requests, chars) {
    return this.call('serveThreeWays', adapters, requests, chars);
  }
  /**
   * The worker's heap: {live, peak} bytes (the crate's counting allocator), and `memory`, the
   * size of its wasm linear memory.
   * @returns {Promise<HeapBytes & {memory: number}>}
   */
  async heapBytes() {
    return (await this.channel.send({ op: 'heapBytes' })).value;
  }
  /** Ends the worker: its wasm instance, its GPU device and every object in it go with it. */
  free() {
    this.channel
      .send({ op: 'destroyDevice' })
      .catch(() => {}) // a trapped worker answers nothing: it is closed all the same
      .then(() => this.channel.close());
  }

  /**
   * Call `fn(info)` ({reason, message}) if the Lab's GPU device is lost (never on the CPU): a
   * lost device leaves pending calls unanswered, so a run races against this. Returns the
   * unsubscribe function; the subscriber ends it (a run when it finishes, a widget when it
   * leaves the page), so nothing outlives them.
   */
  onDeviceLost(fn) {
    const channel = this.channel;
    if (channel.lostInfo) {
      const timer = setTimeout(() => fn(channel.lostInfo));
      return () => clearTimeout(timer);
    }
    channel.lostListeners.add(fn);
    return () => channel.lostListeners.delete(fn);
  }
}

/**
 * A Lab in a new worker, on WebGPU if `gpu` else the CPU, on `module` (the compiled
 * WebAssembly.Module) of `build` ("full" | "cpu"), with the base model's bytes (or a promise of
 * them: the worker starts while they download).
 */
export async function openRemoteLab(module, build, base, gpu) {
  const channel = new Channel(startWorker(build));
  try {
    await Promise.race([channel.loaded, channel.failed()]);
    await channel.send({ op: 'init', module });
    const { handle, props } = await channel.send({ op: 'open', base: await base, gpu });
    return new RemoteLab(channel, handle, props);
  } catch (e) {
    channel.close();
    throw e;
  }
}
