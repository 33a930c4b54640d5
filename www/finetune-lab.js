// <finetune-lab>: fine-tune a tiny GPT in the page, fully or through a LoRA adapter, and see
// what each costs: live loss, memory predicted vs measured, checkpoint files, and the same
// arithmetic scaled to GPT-3 175B and N tenants. Usage, attributes and events: EMBED.md.
//
// This file wires the pieces in lib/ together; each of those holds one concept.

import { h } from './lib/dom.js';
import { STYLES } from './lib/styles.js';
import { loadDemoAdapter, loadModule, onProgress, openLab, restartModule } from './lib/wasm.js';
import { detectBackend, gpuFailed, isDeviceFailure } from './lib/backend.js';
import { fineTune, score } from './lib/run.js';
import { TrainPanel } from './lib/train-panel.js';
import { AdapterKnobs } from './lib/adapter-knobs.js';
import { SWEEP_RANKS, SweepView } from './lib/sweep-view.js';
import { modeOf } from './lib/modes.js';
import { MemoryView } from './lib/memory-view.js';
import { DataPicker } from './lib/data-picker.js';
import { ScaleView } from './lib/scale-view.js';
import { ServeView } from './lib/serve-view.js';
import { Status } from './lib/status.js';
import { bytes, loss, ms } from './lib/format.js';

const PANELS = ['data', 'train', 'memory', 'scale', 'serve'];
// One constructed stylesheet for every widget on the page: a <style> element would be refused
// by a course platform's Content-Security-Policy without 'unsafe-inline'.
const SHEET = new CSSStyleSheet();
SHEET.replaceSync(STYLES);
// The run settings an author sets as attributes, passed to the crate as written when a run
// starts: it fills the defaults and refuses a value out of range with the setting's name and
// range (request.rs).
const RUN_ATTRIBUTES = ['steps', 'batch', 'context', 'sample', 'seed'];
// Attributes that act as soon as they change.
const LIVE_ATTRIBUTES = ['task', 'panels', 'backend'];
// Where the LoRA knobs start (else the crate's recipe for the page): adapter runs only.
const KNOB_ATTRIBUTES = ['rank', 'targets'];
/** Every attribute the element reads (embed.html passes these on from its query string). */
export const ATTRIBUTES = [...LIVE_ATTRIBUTES, ...RUN_ATTRIBUTES, ...KNOB_ATTRIBUTES, 'load'];
// The widget alone, beside this script: what a settings link opens.
const EMBED_PAGE = new URL('embed.html', import.meta.url).href;
// When the module and the base (a few MB) download: the `load` attribute, EMBED.md.
const LOAD = ['visible', 'interaction', 'eager'];

class FinetuneLab extends HTMLElement {
  static observedAttributes = LIVE_ATTRIBUTES;

  constructor() {
    super();
    this.status = new Status();
    this.train = new TrainPanel((what) => this.press(what));
    this.knobs = new AdapterKnobs((choice) => this.adapterChosen(choice));
    // Brought up to date whenever it may be followed or copied.
    const refresh = () => (this.setupLink.href = this.settingsURL());
    this.setupLink = h('a', { href: EMBED_PAGE, target: '_blank', rel: 'noopener', onpointerenter: refresh, onfocus: refresh, onclick: refresh }, 'Link to this setup (embed.html)');
    this.sweepView = new SweepView(() => this.sweep().catch(() => {}));
    this.memory = new MemoryView();
    this.serveView = new ServeView((what) => this.serveAction(what), (files) => this.importAdapters(files));
    this.label = h('p', { class: 'backend' }, 'Not loaded yet');
    this.note = h('p', { class: 'backend-note', hidden: true });
    this.dataSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading the tasks…'));
    this.scaleSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading the memory model…'));
    const panel = (name, title, body) => h('section', { dataset: { panel: name }, 'aria-label': title }, h('h3', {}, title), body);
    this.attachShadow({ mode: 'open' }).adoptedStyleSheets = [SHEET];
    this.shadowRoot.append(
      h(
        'div',
        { class: 'lab' },
        h('header', { class: 'head' }, h('p', { class: 'title' }, 'Fine-tune a tiny GPT: full vs LoRA adapter'), this.label),
        this.note,
        this.status.line,
        this.status.box,
        panel('data', 'Data', this.dataSlot),
        panel('train', 'Train', h('div', {}, this.knobs.el, this.train.el, this.sweepView.el, h('p', { class: 'setup-link' }, this.setupLink))),
        panel('memory', 'Memory during training', this.memory.el),
        panel('scale', 'At scale: GPT-3 and many tenants', this.scaleSlot),
        panel('serve', 'Serve many tenants on one base', this.serveView.el),
      ),
    );
    // The demo adapters (~100 kB) load once the Serve panel first comes into view.
    this.serveSeen = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      this.serveSeen.disconnect();
      this.wantDemos = true;
      this.loadDemosWhenReady();
    });
    this.busy = false;
    this.stopping = false;
    this.scoring = null; // the base's score being computed early (scoreBaseEarly)
  }

  connectedCallback() {
    this.unsubscribe ??= onProgress((p) => this.lab || this.status.download(p));
    if (this.lab && !this.stopWatchingDevice) this.watchDevice(this.lab);
    if (!this.wantDemos) this.serveSeen.observe(this.shadowRoot.querySelector('section[data-panel="serve"]'));
    this.applyPanels();
    this.updateButtons();
    if (!this.booted) {
      this.booted = true;
      this.whenWanted().then(() => this.boot());
    }
  }

  /**
   * Resolves when the lab should load: at once for load="eager"; on the first press, key or
   * focus inside the widget for "interaction"; for "visible" (the default) once the widget comes
   * within a screen's height of the viewport. Until then the page has fetched only our scripts;
   * a "Load now" button is always there.
   */
  whenWanted() {
    let how = this.getAttribute('load') ?? 'visible';
    if (!LOAD.includes(how)) {
      this.status.error(new Error(`load="${how}" is not one of ${LOAD.join(', ')}: loading when visible.`));
      how = 'visible';
    }
    if (how === 'eager') return Promise.resolve();
    return new Promise((resolve) => {
      const events = ['pointerdown', 'keydown', 'focusin'];
      let seen = null;
      let removeOffer = () => {};
      const go = () => {
        seen?.disconnect();
        for (const type of events) this.removeEventListener(type, go);
        removeOffer();
        resolve();
      };
      removeOffer = this.status.offer(how === 'visible' ? 'The lab (a few MB: the module and the model) loads when you scroll to it.' : 'The lab (a few MB: the module and the model) loads when you use it.', 'Load now', go);
      if (how === 'interaction') {
        for (const type of events) this.addEventListener(type, go);
      } else {
        seen = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && go(), { rootMargin: '100% 0px' });
        seen.observe(this);
      }
    });
  }

  disconnectedCallback() {
    // Moving the element in the page disconnects and reconnects it in one go: that keeps its
    // run and chart. Only a removal still in place once this task's microtasks run lets go.
    queueMicrotask(() => this.isConnected || this.letGo());
  }

  /** Removed from the page: stop training (the step in flight finishes), release listeners, frames and object URLs. */
  letGo() {
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.stopWatchingDevice?.();
    this.stopWatchingDevice = null;
    this.train.dispose();
    this.sweepView.dispose();
    this.serveView.dispose();
    this.serveSeen.disconnect();
  }

  attributeChangedCallback(name, old, value) {
    if (name === 'panels') this.applyPanels();
    if (name === 'task' && this.picker && !this.busy) this.picker.select(value);
    if (name === 'backend' && this.lab && !this.busy && old !== value) this.open(value ?? 'auto');
  }

  /**
   * A link to embed.html (beside this script) that opens a widget set up as this one is now:
   * its attributes, the data picked if it is a built-in task, and the LoRA knobs' choice. The
   * reader's own text is never put in a URL.
   */
  settingsURL() {
    const url = new URL(EMBED_PAGE);
    for (const name of ATTRIBUTES) if (this.hasAttribute(name)) url.searchParams.set(name, this.getAttribute(name));
    const task = this.picker?.value;
    if (this.picker?.tasks.some((t) => t.name === task)) url.searchParams.set('task', task);
    const choice = this.lab && this.knobs.value();
    if (choice) for (const [name, value] of Object.entries(choice)) url.searchParams.set(name, String(value));
    return url.href;
  }

  /** The run settings given as attributes, as written (absent ones left out). */
  runAttributes() {
    return Object.fromEntries(RUN_ATTRIBUTES.filter((name) => this.hasAttribute(name)).map((name) => [name, this.getAttribute(name)]));
  }

  applyPanels() {
    const list = (this.getAttribute('panels') ?? PANELS.join(',')).split(',').map((p) => p.trim());
    for (const section of this.shadowRoot.querySelectorAll('section[data-panel]')) section.hidden = !list.includes(section.dataset.panel);
  }

  async boot() {
    this.label.textContent = 'Checking for WebGPU…';
    // Which module to fetch depends on it: without WebGPU, the smaller CPU-only one (wasm.js).
    const backend = await detectBackend(this.getAttribute('backend') ?? 'auto');
    this.say('Loading the module…', null);
    // The Lab (the base's download, its worker) starts now, beside the page's own instance;
    // `open` below takes it up and reports its failure.
    openLab(backend.kind).catch(() => {});
    try {
      this.mod = await loadModule(backend.kind);
    } catch (e) {
      return this.fail(e, ['reload']);
    }
    this.picker = new DataPicker(this.mod.tasks(), this.getAttribute('task') ?? 'records', this.mod.userTextMaxChars());
    this.serveView.setPrompts(this.mod.tasks());
    this.dataSlot.replaceChildren(this.picker.el);
    // Through this.mod: a restart swaps the instance under the panel.
    this.scale = new ScaleView(() => this.mod);
    this.scaleSlot.replaceChildren(this.scale.el);
    await this.open(this.getAttribute('backend') ?? 'auto', backend);
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
    this.mod = await loadModule(this.lab.backend);
    // Serving's limits and defaults (the crate's serve::limits): characters per row, tenants.
    this.serveLimits = this.mod.serveLimits();
    this.serveView.setMaxAdapters(this.serveLimits.tenants - 1);
    this.backendInfo = backend;
    this.watchDevice(this.lab);
    this.label.textContent = backend.label;
    this.label.dataset.backend = this.lab.backend;
    // A software adapter can be far slower than the CPU path: offer the switch.
    const toCpu = backend.fallback && h('button', { type: 'button', onclick: () => this.busy || this.open('cpu', { kind: 'cpu', label: 'CPU (chosen over the software WebGPU adapter)' }) }, 'Use the CPU instead');
    this.note.replaceChildren(backend.note ?? '', toCpu ? ' ' : '', toCpu || '');
    this.note.hidden = !backend.note;
    this.updateButtons();
    this.say(`Ready on ${this.lab.backend === 'webgpu' ? 'WebGPU' : 'the CPU'}: pick the data, then press Fine-tune full or Fine-tune adapter.`, 0);
    this.loadDemosWhenReady();
    // The train panel starts from the author's rank and targets, else the page's recipe; the
    // scale panel keeps the LoRA paper's r = 4 on Wq, Wv (the lesson's GPT-3 figures) until the
    // author or the reader picks an adapter.
    const recipe = this.lab.pageAdapter;
    const authored = KNOB_ATTRIBUTES.some((name) => this.hasAttribute(name));
    const rankRange = this.lab.settings.find((s) => s.name === 'rank');
    this.knobs.setDefaults({ rank: this.getAttribute('rank') ?? recipe.rank, targets: this.getAttribute('targets') ?? recipe.targets }, rankRange);
    this.adapterChosen(this.knobs.value(), { scale: this.knobs.touched || authored });
    this.scoreBaseEarly();
  }

  /**
   * Score the base on the data picked (its held-out loss and sample) in the background once the
   * Lab is open: every run starts with it, so a press that comes a second later goes straight
   * to its first step. Runs and serving wait for it, so the worker holds one session at a
   * time; a failure here is left for the run, which computes it again and says what failed.
   */
  scoreBaseEarly() {
    let data;
    try {
      data = this.picker.choice();
    } catch {
      return; // no text to train on yet
    }
    if (this.busy || this.scoring || this.before?.key === data.key) return;
    const lab = this.lab;
    this.scoring = (async () => {
      let session;
      try {
        session = await lab.start({ ...this.runAttributes(), ...data.options, mode: 'full' });
        const before = await score(session);
        if (this.lab === lab && this.before?.key !== data.key) this.before = { ...before, key: data.key };
      } catch {
        // the run computes it again
      } finally {
        session?.free();
        this.scoring = null;
      }
    })();
  }

  /**
   * The adapter picked in the train panel: what the run it would start costs on this model (the
   * crate completes and checks it as it would the run, then predicts its memory), and the scale
   * panel follows it.
   */
  adapterChosen(choice, { scale = true } = {}) {
    if (!choice || !this.lab) return;
    try {
      this.knobs.show(this.mod.predictRun(this.lab.shape, { ...this.runAttributes(), mode: 'adapter', ...choice }));
    } catch (e) {
      this.knobs.cost.textContent = e.message; // a rank out of range, or a batch attribute
      return;
    }
    if (scale) this.scale?.follow(choice);
  }

  /** Report a loss of the Lab's GPU device while idle (a run reports its own). */
  watchDevice(lab) {
    this.stopWatchingDevice?.();
    this.stopWatchingDevice = lab.onDeviceLost((info) => this.lab === lab && !this.busy && this.failRun(new Error(`the GPU device was lost (${info.reason})`)));
  }

  loadDemosWhenReady() {
    if (this.wantDemos && this.lab) this.demosLoaded ??= this.loadDemoAdapters();
  }

  /** The shipped demo adapters, one per built-in task, into the tenant library. */
  async loadDemoAdapters() {
    for (const task of this.mod.tasks()) {
      try {
        await this.addTenant(await loadDemoAdapter(task.name), `${task.name} demo`, 'demo');
      } catch (e) {
        this.serveView.notice(`The ${task.name} demo adapter could not be loaded: ${e.message}`);
      }
    }
  }

  /** An adapter file into the library, checked against the base first (throws the reason). */
  async addTenant(bytes, name, source) {
    const info = await this.lab.adapterInfo(bytes);
    this.serveView.add({ name, task: info.task, rank: info.rank, targets: info.targets, bytes, source });
  }

  /** Adapter files the reader picked: each checked; a refused one says why and changes nothing. */
  async importAdapters(files) {
    const refused = [];
    for (const file of files) {
      try {
        if (!this.lab) throw new Error('still loading: try again in a moment');
        await this.addTenant(new Uint8Array(await file.arrayBuffer()), file.name.replace(/\.ftlab$/i, ''), 'imported');
      } catch (e) {
        refused.push(`${file.name}: ${e.message}`);
      }
    }
    this.serveView.notice(refused.length ? `Not imported — ${refused.join('; ')}` : `Imported ${files.length} adapter file${files.length > 1 ? 's' : ''}.`);
  }

  /** The Serve panel's buttons: its rows served together, or the three ways measured. */
  serveAction(what) {
    const rows = this.serveView.requests();
    const selected = this.serveView.selected();
    const requests = rows.map((r) => ({ tenant: r.tenant === 0 ? 0 : this.serveView.tenants.indexOf(selected[r.tenant - 1]) + 1, prompt: r.prompt }));
    const job = what === 'compare' ? this.compareServing(requests) : this.serve(requests, {}, (texts) => this.serveView.showTexts(texts));
    job.catch(() => {}); // shown in the widget
  }

  /** Tenants named in `requests` → (adapter files in slot order, each request's slot). */
  slots(requests) {
    const library = this.serveView.tenants;
    const files = [];
    const slot = (tenant) => {
      if (tenant === 0 || tenant === 'base') return 0;
      const entry = typeof tenant === 'number' ? library[tenant - 1] : library.find((t) => t.name === tenant);
      if (!entry) throw new Error(`No tenant ${JSON.stringify(tenant)}: use 0 or "base", a tenant's name, or its place in the library (1 to ${library.length}).`);
      if (!files.includes(entry)) files.push(entry);
      return files.indexOf(entry) + 1;
    };
    const rows = requests.map((r) => ({ tenant: slot(r.tenant), prompt: String(r.prompt ?? '') }));
    return { files: files.map((t) => t.bytes), rows };
  }

  /** Refuse a serving request: the reason shown in the Serve panel, and thrown. */
  refuseServing(text) {
    this.serveView.notice(text);
    throw new Error(text);
  }

  /**
   * Run `work()` holding the Lab for serving (refused while a run is going or the Lab loads). A
   * trap or a device failure ends like a failed run; any other error is shown as bad input.
   */
  async whileServing(work) {
    if (this.busy) this.refuseServing('A run is going: wait for it to finish, or press Stop.');
    if (!this.lab) this.refuseServing('Still loading: try again in a moment.');
    this.busy = true;
    this.updateButtons();
    this.serveView.setBusy(true);
    this.status.hideError();
    try {
      await this.scoring;
      return await work();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || isDeviceFailure(e)) this.failRun(e);
      else this.showError(e);
      throw e;
    } finally {
      this.busy = false;
      this.updateButtons();
      this.serveView.setBusy(false);
    }
  }

  /**
   * Serve `requests` ([{tenant, prompt}]: tenant 0 or "base" for the base alone, a tenant's
   * name, or its place in the library from 1) together, `chars` characters each, in one batched
   * pass per character. Resolves to [{tenant, prompt, text}] and fires finetune-serve-done.
   */
  async serve(requests, { chars } = {}, onStep) {
    if (!this.lab) this.refuseServing('Still loading: try again in a moment.');
    if (!Array.isArray(requests)) this.refuseServing('Give the requests as an array of {tenant, prompt}.');
    chars ??= this.serveLimits.chars_default;
    let plan;
    try {
      this.mod.checkServe(requests.length, chars);
      plan = this.slots(requests);
    } catch (e) {
      this.refuseServing(e.message);
    }
    const texts = await this.whileServing(async () => {
      const serving = await this.lab.serve(plan.files, plan.rows);
      try {
        for (let i = 1; i <= chars && this.isConnected; i++) {
          await serving.step();
          onStep?.(await serving.texts());
          this.say(`Serving ${plan.rows.length} rows together: character ${i} of ${chars}`, i / chars);
        }
        return await serving.texts();
      } finally {
        serving.free();
      }
    });
    this.say(`Served ${plan.rows.length} rows (${plan.files.length} adapters and the base) together, ${chars} characters each.`, 1);
    const outputs = requests.map((r, i) => ({ tenant: r.tenant, prompt: plan.rows[i].prompt, text: texts[i] }));
    this.emit('finetune-serve-done', { outputs, chars });
    return outputs;
  }

  /** The Serve panel's rows served the three ways and measured: resolves to the crate's report. */
  async compareServing(requests) {
    if (!this.lab) this.refuseServing('Still loading: try again in a moment.');
    const chars = this.serveLimits.compare_chars;
    const plan = this.slots(requests);
    return this.whileServing(async () => {
      this.say(`Measuring: the rows together, one at a time and as merged copies, ${chars} characters each…`, null);
      const report = await this.lab.serveThreeWays(plan.files, plan.rows, chars);
      this.serveView.showComparison(report);
      this.say(`Measured: together ${report.mixed.chars_per_s.toFixed(0)} characters/s holding ${bytes(report.mixed.bytes_measured)}; merged copies hold ${bytes(report.merged.bytes_measured)}.`, 1);
      return report;
    });
  }

  /** The train panel's buttons; a press on a disabled button says why it does nothing. */
  press(what) {
    if (what === 'stop') return this.busy ? this.stop() : this.train.notice('Nothing is running.');
    if (what === 'reset') return this.busy ? this.train.notice('A run is going: press Stop first, then Reset.') : this.reset();
    this.run(what).catch(() => {}); // run() shows its own errors in the widget
  }

  /**
   * The same short adapter run at each of SWEEP_RANKS on the chosen targets, one after the
   * other, plotting each one's held-out loss against its trainable parameters. Stop ends it.
   * Resolves to [{rank, params, heldout}].
   */
  async sweep() {
    if (this.busy || this.sweeping) return this.train.notice('A run is already going: wait for it to finish, or press Stop.');
    const choice = this.knobs.value();
    if (!choice) return this.train.notice(this.knobs.cost.textContent);
    this.sweeping = true;
    this.sweepView.begin();
    const points = [];
    try {
      for (const rank of SWEEP_RANKS) {
        const done = await this.run('adapter', { rank, targets: choice.targets }, { sweep: true });
        if (done.stopped) break;
        const point = { rank, params: done.params_trainable, heldout: done.heldout_after };
        this.sweepView.add(point);
        points.push(point);
      }
    } finally {
      this.sweeping = false;
    }
    this.emit('finetune-sweep-done', { points });
    return points;
  }

  /**
   * Fine-tune in `mode` ("full" | "adapter"); resolves to the finetune-done detail. `settings`
   * (e.g. `{steps: 50}`) override the attributes; a value out of range is refused with a message.
   * A sweep's runs (`sweep`) do not join the tenant library.
   */
  async run(mode, settings = {}, { sweep = false } = {}) {
    const refuse = (text) => {
      this.train.notice(text);
      throw new Error(text);
    };
    if (this.busy || (this.sweeping && !sweep)) refuse('A run is already going: wait for it to finish, or press Stop.');
    if (!this.lab) refuse('Still loading: try again in a moment.');
    let data;
    let session;
    this.busy = true; // from here: lab.start answers asynchronously, from the Lab's worker
    this.updateButtons();
    try {
      await this.scoring;
      data = this.picker.choice();
      // The crate checks every setting before anything is allocated, and throws why.
      let adapter = {};
      if (mode === 'adapter') {
        adapter = this.knobs.value();
        if (!adapter) throw new Error(this.knobs.cost.textContent);
      }
      session = await this.lab.start({ ...this.runAttributes(), ...adapter, ...settings, ...data.options, mode });
    } catch (e) {
      this.busy = false;
      if (e instanceof WebAssembly.RuntimeError) this.failRun(e);
      else this.showError(e);
      this.updateButtons();
      throw e;
    }
    const info = session.info;
    let steps = info.steps; // until a time budget, if any, sets the length (run.js)
    if (this.dataKey && this.dataKey !== data.key) this.clear('The data changed, so the earlier results were cleared: both runs compare on the same data.');
    const before = this.before?.key === data.key ? this.before : null;
    this.stopping = false;
    this.status.hideError();
    this.updateButtons();
    this.train.begin(mode, steps);
    this.memory.reset(mode);
    const gpu = this.lab.backend === 'webgpu';
    const hooks = {
      shouldStop: () => this.stopping,
      abandoned: () => !this.isConnected,
      onPhase: (phase) => {
        if (phase === 'start') {
          this.dataKey = data.key;
          this.train.started(mode, steps, info);
          this.picker.showNotes(info.notes);
        }
        if (phase === 'before') this.say(`Sampling and scoring the base model${gpu ? ' (the first GPU use compiles shaders: this can take a while)' : ''}…`, null);
        if (phase === 'first-step') this.say(`Step 1 of ${steps}${gpu ? ': compiling shaders (first step)' : ''}…`, null);
        if (phase === 'after') this.say('Scoring held-out text and sampling the fine-tuned model…', null);
      },
      onBefore: (b) => {
        if (!b.partial) this.before = { ...b, key: data.key };
        this.train.before(mode, b);
      },
      onStep: (d) => {
        if (d.steps !== steps) this.train.plan(mode, (steps = d.steps));
        this.train.step(mode, d);
        const warn = Number.isFinite(d.loss) ? '' : ' (not a number: training diverged)';
        const timing = d.timing ? ` · timing this device to fit the run to about ${info.budget.seconds} s` : '';
        this.say(`Step ${d.step} of ${steps} · loss ${loss(d.loss)}${warn} · ${ms(d.ms_per_step)} per step${timing}`, d.step / steps);
        this.emit('finetune-progress', { mode, ...d });
      },
    };
    let r;
    try {
      r = await fineTune(this.lab, session, { before }, hooks);
    } catch (e) {
      this.failRun(e);
      throw e;
    } finally {
      this.busy = false;
      this.updateButtons();
    }
    return this.finish(mode, r.steps, r, !sweep);
  }

  finish(mode, steps, r, library) {
    this.train.finish(mode, r);
    if (library && mode === 'adapter' && r.checkpoint) {
      this.addTenant(r.checkpoint, `my ${(r.info?.data ?? 'text').replace(/^your /, '')} adapter`, 'trained').catch((e) => this.serveView.notice(`This run's adapter could not join the library: ${e.message}`));
    }
    if (r.memory) this.memory.set(mode, r.memory, r.shared);
    const n = r.losses.length;
    this.say(
      r.after
        ? `Done: ${modeOf(mode).name}, ${n} step${n > 1 ? 's' : ''}${r.stopped ? ' (stopped)' : ''}, loss ${loss(r.losses[0])} → ${loss(r.losses.at(-1))}, held-out ${loss(r.before.heldout)} → ${loss(r.after.heldout)}; checkpoint ${bytes(r.checkpoint.length)}.`
        : `Stopped ${n ? `after ${n} step${n > 1 ? 's' : ''}` : 'before the first step'}.`,
      n / steps,
    );
    const detail = { mode, step: n, steps, budget: r.info?.budget ?? null, params_trainable: r.info?.params_trainable, loss: r.losses.at(-1) ?? NaN, ms_per_step: r.ms_per_step ?? NaN, memory: r.memory ?? null, heldout_before: r.before?.heldout, heldout_after: r.after?.heldout, sample_after: r.after?.sample, format_after: r.after?.format ?? null, stopped: r.stopped };
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
    this.clear(message);
    return true;
  }

  clear(message) {
    this.train.reset();
    this.train.notice('');
    this.memory.reset();
    this.before = null;
    this.dataKey = null;
    this.picker?.showNotes([]);
    this.status.hideError();
    this.say(message, 0);
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
    this.fail(new Error(`${what}: ${text}`), this.backendInfo?.kind === 'webgpu' || gpu ? ['cpu', 'gpu'] : ['cpu']);
  }

  /** Start over on a fresh wasm instance (after a trap the old one may be unusable). */
  async recover(action) {
    this.status.hideError();
    restartModule();
    if (action === 'reload') return this.boot();
    await this.open(action, action === 'cpu' ? { kind: 'cpu', label: 'CPU (restarted after a failure)' } : undefined);
  }
}

// Each attribute is also a property (`el.steps = 50` sets steps="50"; null removes it), as built-in
// elements reflect theirs.
for (const name of ATTRIBUTES) {
  Object.defineProperty(FinetuneLab.prototype, name, {
    get() {
      return this.getAttribute(name);
    },
    set(value) {
      if (value == null) this.removeAttribute(name);
      else this.setAttribute(name, String(value));
    },
  });
}

if (!customElements.get('finetune-lab')) customElements.define('finetune-lab', FinetuneLab);
export { FinetuneLab };
