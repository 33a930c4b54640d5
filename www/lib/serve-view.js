// The Serve panel: a library of tenants (the shipped demo adapters, every adapter trained in
// this widget, imported .ftlab files) and up to 16 of them served together with the base, one
// batched pass per character, each row through its own adapter (the crate's BGMV); beside it
// the same requests one at a time and as merged full copies, measured on this device. It only
// displays and collects input; the element decides what runs.

import { h, fill } from './dom.js';
import { bytes, int, seconds } from './format.js';

const WAYS = [
  ['mixed', 'Together (one base, each row its own adapter)'],
  ['one_at_a_time', 'One at a time (adapter swapped per request)'],
  ['merged', 'Merged copies (a full model per tenant, all resident)'],
];

export class ServeView {
  /** onAction(what): "serve" | "compare"; onImport(files): a FileList picked by the reader. */
  constructor(onAction, onImport) {
    this.tenants = []; // {name, task, rank, targets, bytes, source, selected, key}
    this.nextKey = 0; // keys a row's prompt to its tenant across re-renders
    this.prompts = {}; // task → prompt
    this.maxAdapters = 0; // selectable beside the base, from the crate once it loads
    this.list = h('tbody');
    this.rows = h('div', { class: 'serve-rows' });
    this.note = h('p', { class: 'press-note', 'aria-live': 'polite' });
    this.compare = h('div', { class: 'table-scroll' });
    const picker = h('input', { type: 'file', accept: '.ftlab', multiple: true, onchange: (e) => onImport(e.target.files) });
    this.buttons = {
      serve: h('button', { type: 'button', class: 'serve', onclick: () => onAction('serve') }, 'Serve together'),
      compare: h('button', { type: 'button', class: 'compare', onclick: () => onAction('compare') }, 'Compare the three ways'),
    };
    this.el = h(
      'div',
      {},
      h('p', { class: 'hint' }, 'Each adapter is a tenant: a few tens of kilobytes on one shared base. Tick up to 15, give each row a prompt, and serve them all in one batch.'),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'tenant-list' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['serve', 'tenant', 'trained on', 'LoRA', 'file', 'export'].map((c) => h('th', {}, c)),
            ),
          ),
          this.list,
        ),
      ),
      h('label', { class: 'import' }, 'Import adapter files (.ftlab): ', picker),
      h('div', { class: 'buttons' }, Object.values(this.buttons)),
      this.note,
      this.rows,
      this.compare,
    );
    this.render();
  }

  setPrompts(tasks) {
    for (const t of tasks) this.prompts[t.name] = t.prompt;
    this.render();
  }

  /** The most adapters one batch serves beside the base (the crate's limit). */
  setMaxAdapters(n) {
    this.maxAdapters = n;
  }

  /** Add a checked adapter ({name, task, rank, targets, bytes, source}); selected while room remains. */
  add(tenant) {
    const selected = this.selected().length < this.maxAdapters;
    this.tenants.push({ ...tenant, selected, key: `t${this.nextKey++}` });
    this.render();
  }

  selected() {
    return this.tenants.filter((t) => t.selected);
  }

  /** The requests of the rows shown: the base first, then each selected tenant (index into `selected()` + 1). */
  requests() {
    return [...this.rows.querySelectorAll('textarea')].map((input, i) => ({ tenant: i, prompt: input.value }));
  }

  notice(text) {
    this.note.textContent = text;
  }

  setBusy(busy) {
    for (const b of Object.values(this.buttons)) b.setAttribute('aria-disabled', String(busy));
  }

  /** Show each row's text so far. */
  showTexts(texts) {
    this.rows.querySelectorAll('output').forEach((out, i) => (out.textContent = texts[i] ?? ''));
  }

  render() {
    fill(
      this.list,
      this.tenants.length
        ? this.tenants.map((t, i) =>
            h(
              'tr',
              {},
              h('td', {}, h('input', { type: 'checkbox', checked: t.selected, 'aria-label': `serve ${t.name}`, onchange: (e) => this.toggle(i, e.target) })),
              h('td', {}, h('input', { type: 'text', value: t.name, 'aria-label': 'tenant name', onchange: (e) => ((t.name = e.target.value.trim() || t.name), this.renderRows()) })),
              h('td', {}, t.task ?? 'your text'),
              h('td', {}, `r = ${t.rank} on ${t.targets.join(',')}`),
              h('td', { dataset: { figure: 'adapter_bytes', value: String(t.bytes.length) } }, `${bytes(t.bytes.length)} (${int(t.bytes.length)} B)`),
              h('td', {}, this.exportLink(t)),
            ),
          )
        : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Loading the demo adapters…')),
    );
    this.renderRows();
  }

  toggle(i, box) {
    if (box.checked && this.selected().length >= this.maxAdapters) {
      box.checked = false;
      return this.notice(`At most ${this.maxAdapters} adapters at once (${this.maxAdapters + 1} tenants with the base).`);
    }
    this.tenants[i].selected = box.checked;
    this.renderRows();
  }

  exportLink(t) {
    t.url ??= URL.createObjectURL(new Blob([t.bytes], { type: 'application/octet-stream' }));
    return h('a', { href: t.url, download: `${t.name.replace(/[^\w.-]+/g, '-')}.ftlab` }, 'Export');
  }

  /** One row per tenant served: its prompt (kept when re-rendered) and its output. */
  renderRows() {
    const kept = Object.fromEntries([...this.rows.querySelectorAll('textarea')].map((t) => [t.dataset.key, t.value]));
    const row = (key, label, prompt) =>
      h('div', { class: 'serve-row' }, h('span', { class: 'who' }, label), h('textarea', { rows: 2, dataset: { key }, 'aria-label': `prompt for ${label}` }, kept[key] ?? prompt), h('output', {}));
    fill(
      this.rows,
      row('base', 'base alone', 'The '),
      this.selected().map((t) => row(t.key, t.name, this.prompts[t.task] ?? 'The ')),
    );
  }

  /**
   * The measured comparison (`Lab.serveThreeWays`'s report).
   * @param {import('./api/ServeReport').ServeReport} r
   */
  showComparison(r) {
    const cell = (w, key) => h('td', { dataset: { figure: `${w}_${key}`, value: String(r[w][key] ?? '') } }, key === 'chars_per_s' ? r[w][key].toFixed(1) : bytes(r[w][key]));
    fill(
      this.compare,
      h(
        'table',
        { class: 'ways' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['way', 'characters/s', 'memory held (measured)', 'predicted'].map((c) => h('th', {}, c)),
          ),
        ),
        h(
          'tbody',
          {},
          WAYS.map(([w, name]) => h('tr', { dataset: { way: w } }, h('td', {}, name), cell(w, 'chars_per_s'), cell(w, 'bytes_measured'), cell(w, 'bytes_predicted'))),
        ),
      ),
      h(
        'p',
        { class: 'hint' },
        `Bringing one tenant in here: its adapter ${r.swap.adapter_ms.toFixed(1)} ms (${bytes(r.swap.adapter_file_bytes)}), its merged full model ${r.swap.merged_ms.toFixed(1)} ms (${bytes(r.swap.merged_file_bytes)}). ` +
          `For GPT-3 175B from NVMe the memory model gives ${seconds(r.gpt3_cold_load_adapter_seconds)} vs ${seconds(r.gpt3_cold_load_full_seconds)}.`,
      ),
    );
  }

  /** Let go of the export links' object URLs; a later render makes new ones. */
  dispose() {
    for (const t of this.tenants) {
      if (t.url) URL.revokeObjectURL(t.url);
      t.url = null;
    }
  }
}
