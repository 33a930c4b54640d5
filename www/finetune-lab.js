// <finetune-lab>: fine-tune a tiny GPT in the page, fully or through a LoRA adapter, and see
// what each costs: live loss, memory predicted vs measured, checkpoint files, and the same
// arithmetic scaled to GPT-3 175B and N tenants. Usage, attributes and events: EMBED.md.
//
// This file wires the pieces in lib/ together; each of those holds one concept.

import { h } from './lib/dom.js';
import { STYLES } from './lib/styles.js';
import { loadModule, openLab, onProgress, restartModule, whenLost } from './lib/wasm.js';
import { detectBackend, gpuFailed, isDeviceFailure } from './lib/backend.js';
import { fineTune } from './lib/run.js';
import { TrainPanel, NAMES } from './lib/train-panel.js';
import { MemoryView } from './lib/memory-view.js';
import { DataPicker } from './lib/data-picker.js';
import { ScaleView } from './lib/scale-view.js';
import { Status } from './lib/status.js';
import { bytes, loss, ms } from './lib/format.js';

const PANELS = ['data', 'train', 'memory', 'scale'];
// Numeric attributes: [default, min, max]. Small by default: a software GPU takes seconds a step.
const NUMBERS = { steps: [20, 1, 10000], batch: [4, 1, 256], context: [64, 2, 4096], sample: [60, 0, 1000], seed: [1, 0, 2 ** 32 - 1] };
// Both modes share data and seed; the adapter is LoRA r=4 on Wq, Wv (the LoRA paper's GPT-3 setup).
const MODES = { full: { mode: 'full' }, adapter: { mode: 'adapter', rank: 4, targets: ['q', 'v'] } };

class FinetuneLab extends HTMLElement {
  static observedAttributes = ['task', 'steps', 'batch', 'context', 'panels', 'backend', 'sample', 'seed'];

  constructor() {
    super();
    this.status = new Status();
    this.train = new TrainPanel((what) => this.click(what));
    this.memory = new MemoryView();
    this.label = h('p', { class: 'backend' }, 'Checking for WebGPU…');
    this.note = h('p', { class: 'backend-note', hidden: true });
    this.dataSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading the tasks…'));
    this.scaleSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading the memory model…'));
    const panel = (name, title, body) => h('section', { dataset: { panel: name }, 'aria-label': title }, h('h3', {}, title), body);
    this.attachShadow({ mode: 'open' }).append(
      h('style', {}, STYLES),
      h(
        'div',
        { class: 'lab' },
        h('header', { class: 'head' }, h('p', { class: 'title' }, 'Fine-tune a tiny GPT: full vs LoRA adapter'), this.label),
        this.note,
        this.status.line,
        this.status.box,
        panel('data', 'Data', this.dataSlot),
        panel('train', 'Train', this.train.el),
        panel('memory', 'Memory during training', this.memory.el),
        panel('scale', 'At scale: GPT-3 and many tenants', this.scaleSlot),
      ),
    );
    this.busy = false;
    this.stopping = false;
  }

  connectedCallback() {
    this.unsubscribe = onProgress((p) => this.lab || this.status.download(p));
    this.applyPanels();
    this.updateButtons();
    if (!this.booted) {
      this.booted = true;
      this.boot();
    }
  }

  disconnectedCallback() {
    // Stop training (the step in flight finishes), release listeners, frames and object URLs.
    this.stopping = true;
    this.unsubscribe?.();
    this.train.dispose();
  }

  attributeChangedCallback(name, old, value) {
    if (name === 'panels') this.applyPanels();
    if (name === 'task' && this.picker && !this.busy) this.picker.select(value);
    if (name === 'backend' && this.lab && !this.busy && old !== value) this.open(value ?? 'auto');
  }

  num(name) {
    const [fallback, lo, hi] = NUMBERS[name];
    const v = Number.parseInt(this.getAttribute(name) ?? '', 10);
    return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
  }

  applyPanels() {
    const list = (this.getAttribute('panels') ?? PANELS.join(',')).split(',').map((p) => p.trim());
    for (const section of this.shadowRoot.querySelectorAll('section[data-panel]')) section.hidden = !list.includes(section.dataset.panel);
  }

  async boot() {
    this.say('Loading the module…', null);
    try {
      this.mod = await loadModule();
    } catch (e) {
      return this.fail(e, ['reload']);
    }
    this.picker = new DataPicker(this.mod.tasks(), this.getAttribute('task') ?? 'records');
    this.dataSlot.replaceChildren(this.picker.el);
    // Through this.mod: a restart swaps the instance under the panel.
    this.scale = new ScaleView((input) => this.mod.scale(input));
    this.scaleSlot.replaceChildren(this.scale.el);
    await this.open(this.getAttribute('backend') ?? 'auto');
  }

  /** Open (or share) the Lab for a backend preference; WebGPU failing to start falls back to the CPU. */
  async open(preference, backend) {
    this.lab = null;
    this.updateButtons();
    backend ??= await detectBackend(preference);
    this.say(backend.kind === 'webgpu' ? 'Opening WebGPU…' : 'Opening the CPU backend…', null);
    try {
      this.lab = await openLab(backend.kind);
    } catch (e) {
      if (backend.kind !== 'webgpu') return this.fail(e, ['reload']);
      backend = gpuFailed(e);
      try {
        this.lab = await openLab('cpu');
      } catch (e2) {
        return this.fail(e2, ['reload']);
      }
    }
    this.mod = await loadModule();
    this.backend = backend;
    const lab = this.lab; // a loss while idle is reported too (a run reports its own)
    whenLost(lab).then((info) => this.lab === lab && !this.busy && this.failRun(new Error(`the GPU device was lost (${info.reason})`)));
    this.label.textContent = backend.label;
    this.label.dataset.backend = this.lab.backend;
    // A software adapter can be far slower than the CPU path: offer the switch.
    const toCpu = backend.fallback && h('button', { type: 'button', onclick: () => this.busy || this.open('cpu', { kind: 'cpu', label: 'CPU (chosen over the software WebGPU adapter)' }) }, 'Use the CPU instead');
    this.note.replaceChildren(backend.note ?? '', toCpu ? ' ' : '', toCpu || '');
    this.note.hidden = !backend.note;
    this.updateButtons();
    this.say(`Ready on ${this.lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}: pick the data, then press Fine-tune full or Fine-tune adapter.`, 0);
  }

  /** Button presses; a press on a disabled button says why it does nothing. */
  click(what) {
    if (what === 'stop') return this.busy ? this.stop() : this.train.notice('Nothing is running.');
    if (what === 'reset') return this.busy ? this.train.notice('A run is going: press Stop first, then Reset.') : this.reset();
    this.run(what).catch(() => {}); // run() shows its own errors in the widget
  }

  /** Fine-tune in `mode` ("full" | "adapter"); resolves to the finetune-done detail. */
  async run(mode, { steps = this.num('steps') } = {}) {
    const refuse = (text) => {
      this.train.notice(text);
      throw new Error(text);
    };
    if (!MODES[mode]) refuse(`Unknown mode "${mode}": use "full" or "adapter".`);
    if (this.busy) refuse('A run is already going: wait for it to finish, or press Stop.');
    if (!this.lab) refuse('Still loading: try again in a moment.');
    let data;
    try {
      data = this.picker.choice();
    } catch (e) {
      this.showError(e);
      throw e;
    }
    if (this.dataKey && this.dataKey !== data.key) this.reset('The data changed, so the earlier results were cleared: both runs compare on the same data.');
    const options = { ...MODES[mode], ...data.options, batch: this.num('batch'), context: this.num('context'), seed: this.num('seed') };
    const before = this.before?.key === data.key ? this.before : null;
    this.busy = true;
    this.stopping = false;
    this.status.hideError();
    this.updateButtons();
    this.train.begin(mode, steps);
    this.memory.reset(mode);
    let started = false;
    const gpu = this.lab.backend === 'webgpu';
    const hooks = {
      shouldStop: () => this.stopping,
      abandoned: () => !this.isConnected,
      onPhase: (phase, info) => {
        if (phase === 'start') {
          started = true;
          this.dataKey = data.key;
          this.train.started(mode, steps, info);
          this.picker.showNotes(info.notes);
        }
        if (phase === 'before') this.say(`Sampling and scoring the base model${gpu ? ' (the first GPU use compiles shaders: this can take a while)' : ''}…`, null);
        if (phase === 'first-step') this.say(`Step 1 of ${steps}${gpu ? ': compiling shaders (first step)' : ''}…`, null);
        if (phase === 'after') this.say('Scoring held-out text and sampling the fine-tuned model…', null);
      },
      onBefore: (b) => {
        this.before = { ...b, key: data.key };
        this.train.before(mode, b);
      },
      onStep: (d) => {
        this.train.step(mode, d);
        const warn = Number.isFinite(d.loss) ? '' : ' (not a number: training diverged)';
        this.say(`Step ${d.step} of ${steps} · loss ${loss(d.loss)}${warn} · ${ms(d.ms_per_step)} per step`, d.step / steps);
        this.emit('finetune-progress', { mode, ...d });
      },
    };
    let r;
    try {
      r = await fineTune(this.lab, options, { steps, sampleChars: this.num('sample'), before }, hooks);
    } catch (e) {
      // Before the session exists, an Error is lab.start refusing the input (its message says
      // why); a trap there, or anything later, is a failure of the device or the instance.
      if (!started && !(e instanceof WebAssembly.RuntimeError)) this.showError(e);
      else this.failRun(e);
      throw e;
    } finally {
      this.busy = false;
      this.updateButtons();
    }
    return this.finish(mode, steps, r);
  }

  finish(mode, steps, r) {
    this.train.finish(mode, r);
    if (r.memory) this.memory.set(mode, r.memory, r.shared);
    const n = r.losses.length;
    this.say(
      r.after
        ? `Done: ${NAMES[mode]}, ${n} step${n > 1 ? 's' : ''}${r.stopped ? ' (stopped)' : ''}, loss ${loss(r.losses[0])} → ${loss(r.losses.at(-1))}, held-out ${loss(r.before.heldout)} → ${loss(r.after.heldout)}; checkpoint ${bytes(r.checkpoint.length)}.`
        : `Stopped ${n ? `after ${n} step${n > 1 ? 's' : ''}` : 'before the first step'}.`,
      n / steps,
    );
    const detail = { mode, step: n, steps, loss: r.losses.at(-1) ?? NaN, ms_per_step: r.ms_per_step ?? NaN, memory: r.memory ?? null, heldout_before: r.before?.heldout, heldout_after: r.after?.heldout, stopped: r.stopped };
    this.emit('finetune-done', detail);
    return detail;
  }

  /** Stop after the step in flight (the run then scores and samples what it has). */
  stop() {
    if (!this.busy) return;
    this.stopping = true;
    this.say('Stopping after this step…', null);
  }

  /** Clear both runs' results. Refused (returns false) while a run is going. */
  reset(message = 'Reset: both runs cleared.') {
    if (this.busy) return false;
    this.train.reset();
    this.train.notice('');
    this.memory.reset();
    this.before = null;
    this.dataKey = null;
    this.picker?.showNotes([]);
    this.status.hideError();
    this.say(message, 0);
    return true;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  updateButtons() {
    this.train.setButtons({ busy: this.busy, ready: Boolean(this.lab) });
  }

  say(text, progress) {
    this.status.say(text, progress);
  }

  /** Bad input: the message says what to change. */
  showError(e) {
    this.status.error(e);
    this.say('');
  }

  /** A failure outside the input: the message and a way back. */
  fail(e, actions) {
    const labels = { cpu: 'Restart on CPU', gpu: 'Retry on GPU', reload: 'Try again' };
    this.status.error(e, actions.map((a) => h('button', { type: 'button', onclick: () => this.recover(a) }, labels[a])));
    this.say('Stopped by an error (see above).', 0);
  }

  /** A run broke mid-way: the GPU device lost, or the wasm instance trapped. */
  failRun(e) {
    const gpu = this.lab?.backend === 'webgpu';
    const text = e.message ?? String(e);
    const what = /device was lost/.test(text) ? 'Stopped' : gpu && isDeviceFailure(e) ? 'The GPU device failed' : 'The run failed';
    this.lab = null; // possibly broken: no new run until a restart
    this.updateButtons();
    this.fail(new Error(`${what}: ${text}`), this.backend?.kind === 'webgpu' || gpu ? ['cpu', 'gpu'] : ['cpu']);
  }

  /** Start over on a fresh wasm instance (after a trap the old one may be unusable). */
  async recover(action) {
    this.status.hideError();
    restartModule();
    if (action === 'reload') return this.boot();
    await this.open(action, action === 'cpu' ? { kind: 'cpu', label: 'CPU (restarted after a failure)' } : undefined);
  }
}

if (!customElements.get('finetune-lab')) customElements.define('finetune-lab', FinetuneLab);
export { FinetuneLab };
