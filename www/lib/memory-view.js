// Memory per category, predicted by the memory model vs measured from the device's allocator,
// for the full and the adapter run side by side. Bars share one linear scale across both runs,
// so the adapter's missing gradients and optimizer state are visible at a glance.

import { h, fill } from './dom.js';
import { bytes } from './format.js';
import { MODES } from './modes.js';

/** @typedef {import('./api/Report').Report} Report */
/** @typedef {import('./api/MeasuredMemory').MeasuredMemory} MeasuredMemory */
/** @typedef {import('./api/RunMemory').RunMemory} RunMemory */

/**
 * [label, predicted key, measured key, why]: keys of the crate's types, which tsc checks.
 * @type {Array<[string, keyof Report | null, keyof MeasuredMemory, string]>}
 */
const ROWS = [
  ['Weights', 'weights_bytes', 'weights_bytes', 'every parameter, frozen or not'],
  ['Gradients', 'grads_bytes', 'grads_bytes', 'one per trainable parameter'],
  ['Optimizer state', 'optimizer_bytes', 'optimizer_bytes', "AdamW's two moments per trainable parameter"],
  ['Activations', 'activations_bytes', 'activations_bytes', 'kept by the forward pass for backward'],
  ['Other (allocator overhead)', null, 'allocator_overhead_bytes', 'padding and pages reserved but unused; not modelled'],
  ['Total (training / peak)', 'training_bytes', 'peak_bytes', 'predicted sum vs highest in-use figure seen'],
];

// Where the measured figures come from (the crate's `measure::Source`), said above them.
const SOURCES = {
  pool: "Measured: burn's memory pool on the GPU, sampled at each phase of a step.",
  heap: "Measured: what each phase of a step added to the worker's heap, where the CPU path keeps its tensors; the peak is the heap's own.",
  none: 'Measured: not measurable here. Predicted figures only.',
};

export class MemoryView {
  constructor() {
    this.data = {}; // mode → {predicted, measured, shared}
    this.body = h('div', { class: 'memory-grid' });
    this.el = h('div', { class: 'memory' }, h('p', { class: 'hint' }, 'Bytes on the device during one training step: what the memory model predicts vs what was measured.'), this.body);
    this.render();
  }

  /** memory: session.memory() → {predicted, measured | null}. shared: other runs were on the device. */
  /** @param {RunMemory} memory */
  set(mode, memory, shared = false) {
    this.data[mode] = { ...memory, shared };
    this.render();
  }

  reset(mode) {
    if (mode) delete this.data[mode];
    else this.data = {};
    this.render();
  }

  render() {
    const values = Object.values(this.data).flatMap((d) => ROWS.flatMap(([, p, m]) => [p && d.predicted?.[p], d.measured?.[m]]));
    const max = Math.max(1, ...values.filter(Number.isFinite));
    fill(
      this.body,
      MODES.map(({ mode, title }) => this.block(mode, title, this.data[mode], max)),
    );
  }

  block(mode, title, data, max) {
    if (!data) return h('section', { class: `mem-block ${mode}` }, h('h4', {}, title), h('p', { class: 'muted' }, 'Not run yet.'));
    const measured = data.measured;
    return h(
      'section',
      { class: `mem-block ${mode}`, dataset: { mode } },
      h('h4', {}, title),
      h('p', { class: 'muted' }, SOURCES[measured?.source ?? 'none']),
      data.shared && h('p', { class: 'muted' }, 'Another run shared the device while this one was measured: its figures include that run.'),
      h(
        'dl',
        { class: 'mem-rows' },
        ROWS.map(([label, pKey, mKey, why]) => [
          h('dt', { title: why }, label),
          h(
            'dd',
            {},
            bar('predicted', pKey ? data.predicted?.[pKey] : null, max, pKey ? null : 'not modelled', pKey),
            measured && bar('measured', measured[mKey], max, measured.source === 'heap' ? 'not attributable on the heap' : null, mKey),
          ),
        ]),
      ),
    );
  }
}

function bar(kind, value, max, missing, key) {
  const ok = Number.isFinite(value);
  const width = ok ? Math.max(0.5, (100 * value) / max) : 0;
  return h(
    'div',
    { class: `bar-row ${kind}` },
    h('span', { class: 'bar-kind' }, kind),
    h('span', { class: 'bar-track', 'aria-hidden': 'true' }, widthOf(h('span', { class: 'bar' }), width)),
    h('span', { class: 'bar-value', dataset: ok ? { figure: `${kind}.${key}`, value: String(value) } : {} }, ok ? bytes(value) : (missing ?? '—')),
  );
}

/** Set a bar's width through the CSSOM: a style attribute would be refused by a strict CSP. */
function widthOf(el, percent) {
  el.style.width = `${percent.toFixed(2)}%`;
  return el;
}
