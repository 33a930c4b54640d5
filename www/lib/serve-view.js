// The Serve panel: a library of tenants (the shipped demo adapters, every adapter trained or
// imported here and kept in this browser, .ftlab files and PEFT adapters) and up to 16 of them served together with the base, one
// batched pass per character, each row through its own adapter (the crate's BGMV); beside it
// the same requests one at a time and as merged full copies, measured on this device. It only
// displays and collects input; the element decides what runs.

import { h, fill } from './dom.js';
import { bytes, fileStem, int, seconds } from './format.js';

const WAYS = [
  ['mixed', 'Together (one base, each row its own adapter)'],
  ['one_at_a_time', 'One at a time (adapter swapped per request)'],
  ['merged', 'Merged copies (a full model per tenant, all resident)'],
];

/** What a tenant learned from, and how far it got when it was trained here. */
function trainedOn(t) {
  const data = t.task ?? (t.source === 'imported' && !t.record?.steps ? 'imported' : 'your text');
  const r = t.record;
  if (!r?.steps) return data;
  const heldout = r.heldout_before != null && r.heldout_after != null ? `, held-out ${r.heldout_before.toFixed(3)} → ${r.heldout_after.toFixed(3)}` : '';
  return `${data} (${r.steps} steps${heldout}, ${new Date(r.saved_at).toLocaleDateString()})`;
}

export class ServeView {
  /**
   * on: {action(what): "serve" | "compare", import(files): files picked or dropped, rename(tenant),
   * remove(tenant), exportHf(tenant), persist(), forgetAll()}.
   */
  constructor(on) {
    this.on = on;
    this.tenants = []; // {name, task, rank, targets, bytes, source, selected, key, id?, record?, kept?}
    this.nextKey = 0; // keys a row's prompt to its tenant across re-renders
    this.prompts = {}; // task → prompt
    this.maxAdapters = 0; // selectable beside the base, from the crate once it loads
    this.list = h('tbody');
    this.rows = h('div', { class: 'serve-rows' });
    this.note = h('p', { class: 'press-note', 'aria-live': 'polite' });
    this.compare = h('div', { class: 'table-scroll' });
    const picker = h('input', { type: 'file', accept: '.ftlab,.zip,.json,.safetensors', multiple: true, onchange: (e) => on.import([...e.target.files]) });
    this.buttons = {
      serve: h('button', { type: 'button', class: 'serve', onclick: () => on.action('serve') }, 'Serve together'),
      compare: h('button', { type: 'button', class: 'compare', onclick: () => on.action('compare') }, 'Compare the three ways'),
    };
    this.storage = h('p', { class: 'storage hint', 'aria-live': 'polite' });
    this.persisted = h('span', { class: 'persisted' });
    const dropped = (e) => {
      e.preventDefault();
      if (e.dataTransfer?.files?.length) on.import([...e.dataTransfer.files]);
    };
    this.el = h(
      'div',
      {},
      h('p', { class: 'hint' }, 'Each adapter is a tenant: a few tens of kilobytes on one shared base. Tick up to 15, give each row a prompt, and serve them all in one batch.'),
      h(
        'div',
        { class: 'table-scroll', ondragover: (e) => e.preventDefault(), ondrop: dropped },
        h(
          'table',
          { class: 'tenant-list' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['serve', 'tenant', 'trained on', 'LoRA', 'file', 'kept here', 'export'].map((c) => h('th', {}, c)),
            ),
          ),
          this.list,
        ),
      ),
      h('label', { class: 'import' }, 'Import adapters (.ftlab, or a PEFT LoRA: its .zip or its two files; or drop them on the list): ', picker),
      h(
        'div',
        { class: 'storage-row' },
        this.storage,
        h('button', { type: 'button', class: 'persist', onclick: () => on.persist() }, 'Keep them when space runs low'),
        ' ',
        this.persisted,
        h('button', { type: 'button', class: 'forget', onclick: () => on.forgetAll() }, 'Forget all'),
      ),
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

  /** Add a checked adapter ({name, task, rank, targets, bytes, source, id?, record?}); selected while room remains. */
  add(tenant) {
    const selected = this.selected().length < this.maxAdapters;
    const added = { ...tenant, selected, key: `t${this.nextKey++}` };
    this.tenants.push(added);
    this.render();
    return added;
  }

  /** Take out a tenant (deleted here, or in another widget or tab). */
  drop(tenant) {
    if (tenant.url) URL.revokeObjectURL(tenant.url);
    this.tenants = this.tenants.filter((t) => t !== tenant);
    this.render();
  }

  /** What is kept: our records' bytes and the browser's estimate for the whole site. */
  showStorage({ count, stored, estimate }) {
    const browser = estimate?.quota ? ` The browser counts ${bytes(estimate.usage ?? 0)} used by this site of ${bytes(estimate.quota)} it may use.` : '';
    this.storage.textContent = count
      ? `Kept in this browser: ${count} adapter${count > 1 ? 's' : ''}, ${bytes(stored)} (${int(stored)} B).${browser}`
      : `Nothing kept in this browser yet: adapters you train or import are.${browser}`;
    this.storage.dataset.value = String(stored);
  }

  /** The browser's answer to the request to keep the data (navigator.storage.persist). */
  showPersisted(text) {
    this.persisted.textContent = text;
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
              h('td', {}, h('input', { type: 'text', value: t.name, 'aria-label': 'tenant name', onchange: (e) => this.rename(t, e.target.value) })),
              h('td', {}, trainedOn(t)),
              h('td', {}, `r = ${t.rank} on ${t.targets.join(',')}`),
              h('td', { dataset: { figure: 'adapter_bytes', value: String(t.bytes.length) } }, `${bytes(t.bytes.length)} (${int(t.bytes.length)} B)`),
              h(
                'td',
                { class: 'kept' },
                t.source === 'demo'
                  ? 'shipped'
                  : t.kept
                    ? [h('span', {}, 'yes '), h('button', { type: 'button', class: 'delete', onclick: () => this.on.remove(t) }, 'Delete')]
                    : t.kept === false
                      ? 'no (not saved)'
                      : 'saving…',
              ),
              h('td', {}, this.exportLink(t), ' ', h('button', { type: 'button', class: 'export-hf', onclick: () => this.on.exportHf(t) }, 'PEFT .zip')),
            ),
          )
        : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'Loading the demo adapters…')),
    );
    this.renderRows();
  }

  rename(t, text) {
    const name = text.trim();
    if (!name || name === t.name) return this.render();
    t.name = name;
    this.renderRows();
    this.on.rename(t);
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
    return h('a', { href: t.url, download: `${fileStem(t.name)}.ftlab` }, 'Export');
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
