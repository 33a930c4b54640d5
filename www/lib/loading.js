// Getting a widget to a Lab it can train on: WebGPU detected, the module loaded, the Lab opened in
// its worker (the CPU path when WebGPU will not start), and, when that or a run breaks, the
// reason shown with a way back. The label in the widget's header says where it runs and why.

import { h } from './dom.js';
import { setAssetBase } from './assets.js';
import { loadModule, openLab, restartModule } from './wasm.js';
import { detectBackend, gpuFailed, isDeviceFailure } from './backend.js';

export class Loading {
  /**
   * host: the element ({status, busy, getAttribute(), say(), showError(), updateButtons(),
   * moduleLoaded(mod), labOpened(lab)}).
   */
  constructor(host) {
    this.host = host;
    this.label = h('p', { class: 'backend' }, 'Not loaded yet');
    this.note = h('p', { class: 'backend-note', hidden: true });
    this.lab = null; // the open Lab, null while none is (loading, or broken)
    this.mod = null; // the page's instance of the module, for the pure functions
    this.opening = null; // Promise of the open Lab, once loading started
    this.backend = null; // what the label says: {kind, label, note?, fallback?}
  }

  /** Resolves once a Lab is open, starting to load if nothing has. */
  whenOpen() {
    if (!this.opening) this.begin(this.boot());
    return this.opening;
  }

  /** `opening` is now how a Lab opens; a failure clears it, so that a later call tries again. */
  begin(opening) {
    this.opening = opening;
    opening.catch(() => (this.opening = null));
  }

  /** Load the module and open a Lab; resolves to it, or rejects after showing why with a way back. */
  async boot() {
    const { host } = this;
    const refused = setAssetBase(host.getAttribute('asset-base'));
    if (refused) host.showError(new Error(refused));
    this.label.textContent = 'Checking for WebGPU…';
    // Which module to fetch depends on it: without WebGPU, the smaller CPU-only one (wasm.js).
    const backend = await detectBackend(host.getAttribute('backend') ?? 'auto');
    host.say('Loading the module…', null);
    // The Lab (the base's download, its worker) starts now, beside the page's own instance;
    // `open` below takes it up and reports its failure.
    openLab(backend.kind).catch(() => {});
    try {
      this.mod = await loadModule(backend.kind);
    } catch (e) {
      throw this.fail(e, ['reload']);
    }
    host.moduleLoaded(this.mod);
    return this.open(host.getAttribute('backend') ?? 'auto', backend);
  }

  /** Open (or share) the Lab for a backend preference; WebGPU failing to start falls back to the CPU. */
  async open(preference, backend) {
    const { host } = this;
    this.lab = null;
    host.updateButtons();
    backend ??= await detectBackend(preference);
    host.say(backend.kind === 'webgpu' ? 'Opening WebGPU…' : 'Opening the CPU backend…', null);
    let lab;
    try {
      lab = await openLab(backend.kind);
    } catch (e) {
      if (backend.kind !== 'webgpu') throw this.fail(e, ['reload']);
      backend = gpuFailed(e);
      try {
        lab = await openLab('cpu');
      } catch (e2) {
        throw this.fail(e2, ['reload']);
      }
    }
    this.mod = await loadModule(lab.backend);
    this.lab = lab;
    this.backend = backend;
    this.watch(lab);
    this.label.textContent = backend.label;
    this.label.dataset.backend = lab.backend;
    // A software adapter can be far slower than the CPU path: offer the switch.
    const toCpu = backend.fallback && h('button', { type: 'button', onclick: () => this.toCpu() }, 'Use the CPU instead');
    this.note.replaceChildren(backend.note ?? '', toCpu ? ' ' : '', toCpu || '');
    this.note.hidden = !backend.note;
    host.updateButtons();
    host.say(`Ready on ${lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}: pick the data, then press Fine-tune full or Fine-tune adapter.`, 0);
    host.labOpened(lab);
    return lab;
  }

  /** The `backend` attribute changed: open that backend's Lab, unless busy or not yet loaded. */
  switchTo(preference) {
    if (!this.lab || this.host.busy) return;
    this.begin(this.open(preference));
  }

  toCpu() {
    if (this.host.busy) return;
    this.begin(this.open('cpu', { kind: 'cpu', label: 'CPU (chosen over the software WebGPU adapter)' }));
  }

  /** Report a loss of the Lab's GPU device while idle (a run reports its own). */
  watch(lab) {
    this.unwatch();
    this.stopWatching = lab.onDeviceLost((info) => this.lab === lab && !this.host.busy && this.failRun(new Error(`the GPU device was lost (${info.reason})`)));
  }

  unwatch() {
    this.stopWatching?.();
    this.stopWatching = null;
  }

  /** A failure outside the input: the message and a way back; returns the error to throw. */
  fail(e, actions) {
    const labels = { cpu: 'Restart on CPU', gpu: 'Retry on GPU', reload: 'Try again' };
    this.host.status.error(
      e,
      actions.map((a) => h('button', { type: 'button', onclick: () => this.recover(a) }, labels[a])),
    );
    this.host.say('Stopped by an error (see above).', 0);
    return e;
  }

  /** A run broke mid-way: the GPU device lost, or the wasm instance trapped. */
  failRun(e) {
    const gpu = this.lab?.backend === 'webgpu';
    const text = e.message ?? String(e);
    const what = /device was lost/.test(text) ? 'Stopped' : gpu && isDeviceFailure(e) ? 'The GPU device failed' : 'The run failed';
    this.lab = null; // possibly broken: no new run until a restart
    this.opening = null;
    this.host.updateButtons();
    this.fail(new Error(`${what}: ${text}`), this.backend?.kind === 'webgpu' || gpu ? ['cpu', 'gpu'] : ['cpu']);
  }

  /** Start over on a fresh worker (after a trap the old instance may be unusable). */
  recover(action) {
    this.host.status.hideError();
    restartModule();
    this.begin(action === 'reload' ? this.boot() : this.open(action, action === 'cpu' ? { kind: 'cpu', label: 'CPU (restarted after a failure)' } : undefined));
  }
}
