// <finetune-lab>: fine-tune a tiny GPT in the page, fully or through a LoRA adapter, and see
// what each costs: live loss, memory predicted vs measured, checkpoint files, and the same
// arithmetic scaled to GPT-3 175B and N tenants. Usage, attributes and events: EMBED.md.
//
// This module defines nothing and touches no DOM until an element is made, so a bundler can
// import it anywhere and a server renderer can import it in Node; define.js registers the tag.
// The element is its lifecycle, its attributes and loading; runs (lib/runs.js) and tenants
// (lib/tenants.js) hold the rest.

import { h } from './lib/dom.js';
import { STYLES } from './lib/styles.js';
import { getAssetBase, setAssetBase } from './lib/assets.js';
import { onProgress } from './lib/wasm.js';
import { Loading } from './lib/loading.js';
import { Runs } from './lib/runs.js';
import { Tenants } from './lib/tenants.js';
import { DataPicker } from './lib/data-picker.js';
import { ScaleView } from './lib/scale-view.js';
import { Status } from './lib/status.js';
import { ATTRIBUTES, LIVE_ATTRIBUTES, NUMBER_ATTRIBUTES, PANELS, RUN_ATTRIBUTES, SETUP_ATTRIBUTES, checkChoice, whenWanted } from './lib/attributes.js';

// Where the page's own <finetune-lab> lives, for the "Link to this setup" (the widget alone).
const EMBED_PAGE = () => new URL('./embed.html', import.meta.url).href;
// One constructed stylesheet for every widget on the page: a <style> element would be refused
// by a course platform's Content-Security-Policy without 'unsafe-inline'. Made with the first.
let sheet = null;

// In Node (a server renderer importing the package) there is no HTMLElement to extend; the
// class is then inert, and define.js is never imported there.
const Element = globalThis.HTMLElement ?? class {};

export class FinetuneLab extends Element {
  static observedAttributes = LIVE_ATTRIBUTES;

  /** Where the package's files are when a host moved them (EMBED.md); set before the first widget loads. */
  static get assetBase() {
    return getAssetBase();
  }
  static set assetBase(url) {
    const refused = setAssetBase(url);
    if (refused) throw new Error(refused);
  }

  constructor() {
    super();
    this.status = new Status();
    this.loading = new Loading(this);
    this.runs = new Runs(this);
    this.tenants = new Tenants(this);
    // Brought up to date whenever it may be followed or copied.
    const refresh = () => (this.setupLink.href = this.settingsURL());
    this.setupLink = h('a', { href: EMBED_PAGE(), target: '_blank', rel: 'noopener', onpointerenter: refresh, onfocus: refresh, onclick: refresh }, 'Link to this setup (embed.html)');
    this.dataSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading the tasks…'));
    this.scaleSlot = h('div', {}, h('p', { class: 'muted' }, 'Loading the memory model…'));
    const panel = (name, title, ...body) => h('section', { dataset: { panel: name }, 'aria-label': title }, h('h3', {}, title), ...body);
    const { runs } = this;
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
    }
    this.attachShadow({ mode: 'open' }).adoptedStyleSheets = [sheet];
    this.shadowRoot.append(
      h(
        'div',
        { class: 'lab' },
        h('header', { class: 'head' }, h('p', { class: 'title' }, 'Fine-tune a tiny GPT: full vs LoRA adapter'), this.loading.label),
        this.loading.note,
        this.status.line,
        this.status.box,
        panel('data', 'Data', this.dataSlot),
        panel('train', 'Train', runs.knobs.el, runs.train.el, runs.sweepView.el, h('p', { class: 'setup-link' }, this.setupLink)),
        panel('memory', 'Memory during training', runs.memory.el),
        panel('scale', 'At scale: GPT-3 and many tenants', this.scaleSlot),
        panel('serve', 'Serve many tenants on one base', this.tenants.view.el),
      ),
    );
    this.busy = false;
  }

  connectedCallback() {
    this.unsubscribe ??= onProgress((p) => this.lab || this.status.download(p));
    if (this.lab && !this.loading.stopWatching) this.loading.watch(this.lab);
    this.tenants.view.render(); // export links made anew if a removal revoked them
    // The demo adapters (~100 kB) load once the Serve panel first comes into view.
    this.serveSeen ??= new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      this.serveSeen.disconnect();
      this.tenants.loadDemos().catch(() => {}); // the panel shows why
    });
    if (!this.tenants.demos) this.serveSeen.observe(this.shadowRoot.querySelector('section[data-panel="serve"]'));
    this.applyPanels();
    this.updateButtons();
    if (!this.wanted) {
      this.wanted = whenWanted(this, this.status);
      this.wanted.promise.then(() => this.whenOpen()).catch(() => {});
    }
  }

  disconnectedCallback() {
    // Moving the element in the page disconnects and reconnects it in one go: that keeps its
    // run and chart. Only a removal still in place once this task's microtasks run lets go.
    queueMicrotask(() => this.isConnected || this.letGo());
  }

  /** Removed from the page: stop training (the step in flight finishes), release listeners, observers, frames and object URLs. */
  letGo() {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.loading.unwatch();
    this.runs.dispose();
    this.tenants.dispose();
    this.serveSeen?.disconnect();
    this.wanted?.cancel(); // a widget not yet loaded stops waiting to be seen
    if (!this.loading.opening) this.wanted = null;
  }

  attributeChangedCallback(name, old, value) {
    if (name === 'panels') this.applyPanels();
    if (name === 'task' && this.picker && !this.busy && this.check('task', value)) this.picker.select(value ?? this.mod.defaultTask());
    if (name === 'backend' && this.check('backend', value) && old !== value) this.loading.switchTo(value ?? 'auto');
    // A run setting changes what the chosen adapter would cost (or makes it refused).
    if (RUN_ATTRIBUTES.includes(name)) this.runs.knobsChanged();
  }

  /** A choice attribute's value checked; a wrong one is reported by name, and the widget goes on with the default. */
  check(name, value) {
    const refused = checkChoice(name, value, this.mod);
    if (refused) this.status.error(new Error(refused));
    return !refused;
  }

  /**
   * A link to embed.html (beside this script) that opens a widget set up as this one is now:
   * its attributes, the data picked if it is a built-in task, and the LoRA knobs' choice. The
   * reader's own text is never put in a URL.
   */
  settingsURL() {
    const url = new URL(EMBED_PAGE());
    for (const name of SETUP_ATTRIBUTES) if (this.hasAttribute(name)) url.searchParams.set(name, this.getAttribute(name));
    const task = this.picker?.value;
    if (this.picker?.tasks.some((t) => t.name === task)) url.searchParams.set('task', task);
    if (this.lab) {
      try {
        for (const [name, value] of Object.entries(this.runs.knobs.choice())) url.searchParams.set(name, String(value));
      } catch {
        // knobs the crate refuses are left out
      }
    }
    return url.href;
  }

  /** The run settings given as attributes, as written (absent ones left out): the crate checks them. */
  runAttributes() {
    return Object.fromEntries(RUN_ATTRIBUTES.filter((name) => this.hasAttribute(name)).map((name) => [name, this.getAttribute(name)]));
  }

  applyPanels() {
    const value = this.getAttribute('panels');
    const list = this.check('panels', value) && value != null ? value.split(',').map((p) => p.trim()) : PANELS;
    for (const section of this.shadowRoot.querySelectorAll('section[data-panel]')) section.hidden = !list.includes(section.dataset.panel);
  }

  /** The page's module has loaded: the data picker and the scale panel, which need its tasks and memory model. */
  moduleLoaded(mod) {
    const task = this.getAttribute('task') ?? mod.defaultTask();
    this.check('task', task);
    this.picker = new DataPicker(mod.tasks(), task, mod.userTextMaxChars(), (text) => mod.notText(text));
    this.dataSlot.replaceChildren(this.picker.el);
    // Through this.mod: a restart swaps the instance under the panel.
    this.scale = new ScaleView(() => this.mod);
    this.scaleSlot.replaceChildren(this.scale.el);
  }

  /** A Lab opened: serving's limits, the knobs' start and the base's score, for this Lab. */
  labOpened() {
    this.tenants.opened();
    this.runs.opened({ rank: this.getAttribute('rank'), targets: this.getAttribute('targets') });
  }

  get lab() {
    return this.loading.lab;
  }

  get mod() {
    return this.loading.mod;
  }

  /** Resolves once a Lab is open, starting to load if nothing has (whatever `load` says). */
  whenOpen() {
    this.wanted?.cancel();
    return this.loading.whenOpen();
  }

  failRun(e) {
    this.loading.failRun(e);
  }

  /**
   * Fine-tune in `mode` ("full" | "adapter"); resolves to the finetune-done detail (Runs.run).
   * Loads the lab first if it has not loaded.
   */
  async run(mode, settings = {}) {
    if (mode !== 'full' && mode !== 'adapter') this.runs.refuse(`run("${mode}"): the mode is "full" or "adapter".`);
    await this.whenOpen();
    return this.runs.run(mode, settings);
  }

  /** The rank sweep (Runs.sweep), loading the lab first if need be. */
  async sweep() {
    await this.whenOpen();
    return this.runs.sweep();
  }

  /** Serve `requests` together (Tenants.serve), loading the lab and the demos first if need be. */
  serve(requests, options = {}) {
    return this.tenants.serve(requests, options);
  }

  /** The train panel's buttons; a press on a disabled button says why it does nothing. */
  press(what) {
    if (what === 'stop') return this.busy || this.runs.sweeping ? this.stop() : this.runs.train.notice('Nothing is running.');
    if (what === 'reset') return this.busy ? this.runs.train.notice('A run is going: press Stop first, then Reset.') : this.reset();
    this.run(what).catch(() => {}); // run() shows its own errors in the widget
  }

  /** Stop after the step in flight (the run then scores and samples what it has). */
  stop() {
    if (this.busy || this.runs.sweeping) this.runs.stop();
  }

  /** Clear both runs' results. Refused (returns false) while a run is going. */
  reset(message = 'Reset: both runs cleared.') {
    if (this.busy) return false;
    this.runs.clear(message);
    return true;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  updateButtons() {
    this.runs.train.setButtons({ busy: this.busy });
  }

  say(text, progress) {
    this.status.say(text, progress);
  }

  /** Bad input: the message says what to change. */
  showError(e) {
    this.status.error(e);
    this.say('');
  }
}

// Each attribute is also a property (`el.steps = 50` sets steps="50"; null removes it), as built-in
// elements reflect theirs; the numeric ones read back as numbers (null when absent or not a number).
for (const name of ATTRIBUTES) {
  const property = name.replace(/-(\w)/g, (_, c) => c.toUpperCase());
  Object.defineProperty(FinetuneLab.prototype, property, {
    get() {
      const value = this.getAttribute(name);
      if (value === null || !NUMBER_ATTRIBUTES.includes(name)) return value;
      return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : null;
    },
    set(value) {
      if (value == null) this.removeAttribute(name);
      else this.setAttribute(name, String(value));
    },
  });
}
