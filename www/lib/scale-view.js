// The scale panel: the crate's memory model (`scale()`) for a preset model and N tenants, full
// fine-tuning and a LoRA adapter side by side. The panel asks the crate's question
// (`ScaleQuestion`) and leaves out what the reader has not set, so the crate fills it with the
// defaults `finetune-lab scale` uses (batch 1, the model's full context, hot = min(tenants, 10)):
// the page and the CLI print the same figures for the same question.

import { h, fill } from './dom.js';
import { bytes, bytesWithGb, int, percent, seconds } from './format.js';
import { LogBars } from './log-bars.js';
import { MODES, modeOf } from './modes.js';

// The crate's presets the lesson compares (labelled by the crate, with their sizes).
const MODELS = ['tiny', 'bert-large', 'gpt3-175b'];
const MAX_EXP = 5; // the tenants slider spans 10^0 .. 10^5

export class ScaleView {
  /** crate(): the module now loaded (a restart swaps it), for its memory model's exports:
   * scale(question), scaleDefaults(), defaultPrecision(model), presetLabel(model). */
  constructor(crate, model = 'gpt3-175b') {
    /** @type {(question: object) => import('./api/Report').Report} */
    this.scale = (question) => crate().scale(question);
    /** @type {import('./api/ScaleDefaults').ScaleDefaults} */
    const defaults = crate().scaleDefaults();
    this.targets = defaults.targets; // the LoRA paper's GPT-3 choice, until the train panel says otherwise
    // A separate <label for> (not a wrapping one): the control's accessible name is the label alone.
    const field = (label, control, hint) => {
      control.id = `scale-${control.name}`;
      if (hint) control.setAttribute('aria-describedby', `${control.id}-hint`);
      return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hint && h('small', { id: `${control.id}-hint` }, hint));
    };
    const select = (name, options) =>
      h(
        'select',
        { name },
        options.map(([v, t]) => h('option', { value: v }, t)),
      );
    this.inputs = {
      model: select(
        'model',
        MODELS.map((name) => [name, crate().presetLabel(name)]),
      ),
      precision: select('precision', [
        ['mixed16', 'mixed fp16 (2 B/param)'],
        ['fp32', 'fp32 (4 B/param)'],
      ]),
      rank: h('input', { name: 'rank', type: 'number', min: 1, value: defaults.rank, inputmode: 'numeric' }),
      tenantsLog: h('input', { name: 'tenants-log', type: 'range', min: 0, max: MAX_EXP, step: 0.01, value: 3, list: 'tenant-marks' }),
      tenants: h('input', { name: 'tenants', type: 'number', min: 1, max: 10 ** MAX_EXP, value: 1000, inputmode: 'numeric' }),
      hot: h('input', { name: 'hot', type: 'number', min: 0, inputmode: 'numeric' }),
      bandwidth: select('bandwidth', [
        ['nvme', 'NVMe SSD (7 GB/s)'],
        ['pcie', 'host RAM over PCIe 4 (25 GB/s)'],
        ['network', '100 Gb/s network (12.5 GB/s)'],
      ]),
      mode: select(
        'mode',
        MODES.map(({ mode, name }) => [mode, name]),
      ),
    };
    const i = this.inputs;
    i.model.value = model;
    i.precision.value = crate().defaultPrecision(model);
    const marks = h(
      'datalist',
      { id: 'tenant-marks' },
      [0, 1, 2, 3, 4, 5].map((k) => h('option', { value: k, label: int(10 ** k) })),
    );
    this.message = h('p', { class: 'error-text', role: 'alert', hidden: true });
    this.lesson = h('div', { class: 'lesson' });
    this.table = h('table', { class: 'scale-table' });
    this.bars = new LogBars('Storage, serving and training memory: full vs adapter');
    this.terms = h('ul', { class: 'terms' });
    this.el = h(
      'div',
      { class: 'scale' },
      h(
        'div',
        { class: 'controls' },
        field('Model', i.model),
        field('Precision', i.precision, 'the lesson counts 2 B per parameter (fp16)'),
        field('Adapter rank r', i.rank, "the LoRA paper's, on Wq and Wv, until a Train panel knob is turned"),
        h(
          'div',
          { class: 'field wide' },
          h('label', { for: 'tenants-log' }, 'Tenants (fine-tuned models kept)'),
          h(
            'div',
            { class: 'tenants' },
            h(
              'div',
              { class: 'slider' },
              Object.assign(i.tenantsLog, { id: 'tenants-log' }),
              marks,
              h(
                'div',
                { class: 'marks', 'aria-hidden': 'true' },
                ['1', '10', '100', '1k', '10k', '100k'].map((t) => h('span', {}, t)),
              ),
            ),
            h('label', { class: 'sr-only', for: 'tenants-n' }, 'Tenants, exact number'),
            Object.assign(i.tenants, { id: 'tenants-n' }),
          ),
        ),
        field('Hot tenants (resident at once)', i.hot),
        field('Cold loads come from', i.bandwidth),
      ),
      this.message,
      this.lesson,
      h('div', { class: 'table-scroll' }, this.table),
      h('figure', { class: 'bars-figure' }, this.bars.svg, h('figcaption', {}, 'Log scale: each grid line is 10× the last. Upper bar full, lower bar adapter.')),
      h('details', {}, h('summary', {}, 'How each figure is computed'), field('Formulas for', i.mode), this.terms),
    );

    i.model.addEventListener('change', () => {
      // The crate's rule, as `finetune-lab scale` applies it: mixed precision past 1B parameters.
      i.precision.value = crate().defaultPrecision(i.model.value);
      this.update();
    });
    i.tenantsLog.addEventListener('input', () => {
      i.tenants.value = niceRound(10 ** Number(i.tenantsLog.value));
      this.update();
    });
    i.tenants.addEventListener('input', () => {
      const n = Number(i.tenants.value);
      if (n >= 1) i.tenantsLog.value = Math.log10(n);
      this.update();
    });
    i.hot.addEventListener('input', () => (this.hotEdited = true));
    for (const name of ['precision', 'rank', 'hot', 'bandwidth', 'mode']) i[name].addEventListener('input', () => this.update());
    this.update();
  }

  /** The question as `scale()` takes it: hot only once the reader edits it (until then the
   * crate's default, which `update` shows). */
  question(mode) {
    const i = this.inputs;
    const whole = (input) => Math.round(Number(input.value));
    const question = { model: i.model.value, mode, precision: i.precision.value, tenants: whole(i.tenants), bandwidth: i.bandwidth.value };
    if (this.hotEdited) question.hot = whole(i.hot);
    return mode === 'adapter' ? { ...question, rank: whole(i.rank), targets: this.targets } : question;
  }

  /** The adapter chosen in the train panel ({rank, targets}): the panel scales that one. */
  follow({ rank, targets }) {
    this.inputs.rank.value = rank;
    this.targets = targets;
    this.el.querySelector(`#${this.inputs.rank.id}-hint`).textContent = 'as chosen in the Train panel';
    this.update();
  }

  update() {
    const i = this.inputs;
    // Dragging the tenants below an edited hot count takes hot down with it.
    if (this.hotEdited && Number(i.hot.value) > Number(i.tenants.value)) i.hot.value = i.tenants.value;
    let full;
    let adapter;
    try {
      full = this.scale(this.question('full'));
      adapter = this.scale(this.question('adapter'));
    } catch (e) {
      return this.fail(e.message ?? String(e));
    }
    i.hot.value = full.hot;
    this.message.hidden = true;
    this.el.classList.remove('stale');
    this.renderLesson(full, adapter);
    this.renderTable(full, adapter);
    this.bars.set([
      { label: `Storage ×${int(full.tenants)}`, full: full.storage_full_bytes, adapter: adapter.storage_adapter_bytes },
      { label: `Serving ×${int(full.hot)}`, full: full.serving_full_bytes, adapter: adapter.serving_adapter_bytes },
      { label: 'Training', full: full.training_bytes, adapter: adapter.training_bytes },
    ]);
    const shown = i.mode.value === 'adapter' ? adapter : full;
    fill(
      this.terms,
      shown.terms.map((t) => h('li', {}, h('b', {}, `${t.name}: ${bytes(t.bytes)}`), ' = ', t.formula)),
    );
  }

  /** Show why, and grey out the figures: they answer the previous question. */
  fail(text) {
    this.message.textContent = text;
    this.message.hidden = false;
    this.el.classList.add('stale');
  }

  renderLesson(full, adapter) {
    const n = full.tenants;
    const perParam = full.weights_bytes / full.params_total; // 2 (fp16) or 4 (fp32)
    const exact = [
      `Exact count for this shape: ${int(full.params_total)} parameters × ${perParam} B = `,
      figure(bytesWithGb(full.weights_bytes), 'weights_bytes', full.weights_bytes),
      ` per copy; ${int(n)} copies = `,
      figure(bytesWithGb(full.storage_full_bytes), 'storage_full_bytes', full.storage_full_bytes),
      `. With adapters: one base + ${int(n)} × ${bytes(adapter.checkpoint_bytes)} = `,
      figure(bytesWithGb(adapter.storage_adapter_bytes), 'storage_adapter_bytes', adapter.storage_adapter_bytes, 'adapter'),
      '.',
    ];
    if (full.params_nominal == null) return fill(this.lesson, h('p', {}, exact));
    const claim = full.published;
    fill(
      this.lesson,
      h(
        'p',
        { class: 'nominal' },
        `The lesson's arithmetic: ${int(full.params_nominal)} parameters × ${perParam} B = `,
        figure(bytesWithGb(full.nominal_weights_bytes), 'nominal_weights_bytes', full.nominal_weights_bytes),
        ` per fine-tuned copy; ${int(n)} users each fully fine-tuning = `,
        figure(bytesWithGb(full.nominal_storage_full_bytes), 'nominal_storage_full_bytes', full.nominal_storage_full_bytes),
        '.',
      ),
      h('p', { class: 'exact' }, exact),
      h('p', { class: 'note' }, full.nominal_note),
      claim &&
        h(
          'p',
          { class: 'note' },
          'Published beside ours, not reproduced (no breakdown given): training memory ',
          figure(bytes(claim.full_bytes), 'published_full_bytes', claim.full_bytes),
          ' with full fine-tuning → ',
          figure(bytes(claim.adapter_bytes), 'published_adapter_bytes', claim.adapter_bytes, 'adapter'),
          ` with LoRA (${claim.source}). Ours at batch 1, in the table below: ${bytes(full.training_bytes)} → ${bytes(adapter.training_bytes)}.`,
        ),
    );
  }

  renderTable(full, adapter) {
    const row = (label, fullKey, adapterKey, show = bytesWithGb) => h('tr', {}, h('th', { scope: 'row' }, label), cell(full, fullKey, 'full', show), cell(adapter, adapterKey, 'adapter', show));
    const params = (r) => `${compact(r.params_trainable)} of ${compact(r.params_total)} (${percent(r.params_trainable, r.params_total)})`;
    const rank = this.inputs.rank.value;
    fill(
      this.table,
      h('caption', {}, `${this.inputs.model.selectedOptions[0].text}, ${full.tenants === 1 ? '1 tenant' : `${int(full.tenants)} tenants`}, ${int(full.hot)} hot`),
      h(
        'thead',
        {},
        h('tr', {}, h('td'), h('th', { scope: 'col', class: 'full' }, modeOf('full').title), h('th', { scope: 'col', class: 'adapter' }, `${modeOf('adapter').title} (r=${rank} on ${this.targets})`)),
      ),
      h(
        'tbody',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, 'Trainable parameters'),
          cell(full, 'params_trainable', 'full', () => params(full)),
          cell(adapter, 'params_trainable', 'adapter', () => params(adapter)),
        ),
        row('Weights in memory', 'weights_bytes', 'weights_bytes'),
        row('Training memory (batch 1)', 'training_bytes', 'training_bytes'),
        row('File per tenant', 'checkpoint_bytes', 'checkpoint_bytes'),
        row(`Storage for ${int(full.tenants)} tenants`, 'storage_full_bytes', 'storage_adapter_bytes'),
        row(`Serving ${int(full.hot)} hot tenants`, 'serving_full_bytes', 'serving_adapter_bytes'),
        row('Cold load of one tenant', 'cold_load_full_seconds', 'cold_load_adapter_seconds', seconds),
      ),
    );
  }
}

function cell(report, key, mode, show) {
  const value = report[key];
  return h('td', { class: mode, title: Number.isInteger(value) ? int(value) : null, dataset: { mode, figure: key, value: String(value) } }, show(value));
}

/** 18874368 → "18.87M", 175221817344 → "175.2B": short enough for a phone (exact in the title). */
function compact(n) {
  return n < 1e6 ? int(n) : new Intl.NumberFormat('en-US', { notation: 'compact', maximumSignificantDigits: 4 }).format(n);
}

function figure(text, key, value, mode = 'full') {
  return h('strong', { dataset: { mode, figure: key, value: String(value) } }, text);
}

/** 1, 2, 5-ish round numbers so the slider lands on readable tenant counts (1,000 not 1,023). */
function niceRound(n) {
  if (n < 10) return Math.round(n);
  const mag = 10 ** Math.floor(Math.log10(n) - 1);
  return Math.round(n / mag) * mag;
}
