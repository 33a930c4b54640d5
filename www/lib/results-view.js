// The numbers of each run (steps, loss, held-out loss, speed, trainable parameters) and what
// the model writes before and after. One column per mode, so it fits a phone. Model output goes
// in as text nodes only.

import { h, fill } from './dom.js';
import { int, loss, ms, percent } from './format.js';
import { MODES } from './modes.js';

const AFTER = { full: 'After full fine-tuning', adapter: 'After training the LoRA adapter' };

// [label, figure key, value of a run, text of a run]. data-figure/data-value let tests read
// exact numbers.
const ROWS = [
  ['Steps', 'steps', (r) => r.steps ?? 0, (r) => `${r.steps ?? 0} of ${r.planned}${r.stopped ? ' (stopped)' : ''}`],
  ['Training loss (first → last step)', 'loss_last', (r) => r.last, (r) => r.first != null && `${loss(r.first)} → ${loss(r.last)}`],
  ['Held-out loss (base → after)', 'heldout_after', (r) => r.heldoutAfter, (r) => r.heldoutBefore != null && `${loss(r.heldoutBefore)} → ${r.heldoutAfter == null ? '…' : loss(r.heldoutAfter)}`],
  ['Time per step (median)', 'ms_per_step', (r) => r.msPerStep, (r) => r.msPerStep != null && ms(r.msPerStep)],
  [
    'Trainable parameters',
    'params_trainable',
    (r) => r.info?.params_trainable,
    (r) => r.info && `${int(r.info.params_trainable)} of ${int(r.info.params_total)} (${percent(r.info.params_trainable, r.info.params_total)})`,
  ],
];

export class ResultsView {
  constructor() {
    this.runs = {}; // mode → {steps, planned, first, last, heldoutBefore, heldoutAfter, msPerStep, info, sample, format, stopped}
    this.before = null; // {prompt, sample, format}
    this.table = h('table', { class: 'runs' });
    this.samples = h('div', { class: 'samples' });
    this.el = h('div', { class: 'results' }, h('div', { class: 'table-scroll' }, this.table), this.samples);
    this.render();
  }

  /** Merge fields into a mode's column and redraw. */
  update(mode, fields) {
    this.runs[mode] = { ...this.runs[mode], ...fields };
    this.render();
  }

  setBefore(before) {
    this.before = before;
    this.render();
  }

  reset(mode) {
    if (mode) delete this.runs[mode];
    else [this.runs, this.before] = [{}, null];
    this.render();
  }

  render() {
    const cell = (mode, key, value, text) => {
      const r = this.runs[mode];
      if (!r) return h('td', { class: 'muted' }, key === 'steps' ? 'not run yet' : '');
      const v = value(r);
      return h('td', { dataset: v == null ? {} : { mode, figure: key, value: String(v) } }, text(r) || '—');
    };
    fill(
      this.table,
      h('caption', { class: 'sr-only' }, 'Runs so far'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('td'),
          MODES.map(({ mode, title }) => h('th', { scope: 'col', class: mode }, title)),
        ),
      ),
      h(
        'tbody',
        {},
        ROWS.map(([label, key, value, text]) =>
          h(
            'tr',
            {},
            h('th', { scope: 'row' }, label),
            MODES.map(({ mode }) => cell(mode, key, value, text)),
          ),
        ),
      ),
    );
    const sample = (title, text, format, mode) =>
      h(
        'figure',
        { class: `sample ${mode}` },
        h('figcaption', {}, title),
        h('pre', { dataset: { sample: mode } }, h('span', { class: 'prompt' }, this.before.prompt), text),
        format && verdict(format, mode),
      );
    fill(
      this.samples,
      this.before && [
        sample(`Before: the base model continues “${short(this.before.prompt)}”`, this.before.sample, this.before.format, 'before'),
        MODES.filter(({ mode }) => this.runs[mode]?.sample != null).map(({ mode }) => sample(AFTER[mode], this.runs[mode].sample, this.runs[mode].format, mode)),
      ],
    );
  }
}

/** Whether a sample follows the task's format (the crate's check), and the rule it was held to. */
function verdict({ follows, format, why }, mode) {
  const text = follows ? `✓ In the task's format: ${format}.` : `✗ Not yet in the task's format: ${why}. (The format: ${format}.)`;
  return h('p', { class: `format ${follows ? 'follows' : 'not'}`, dataset: { format: mode, follows: String(follows) } }, text);
}

function short(text) {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 40 ? `${one.slice(0, 40)}…` : one;
}
