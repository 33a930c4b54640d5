// The LoRA knobs: the adapter's rank and which projections it adapts, with what that choice
// costs on this model, from the crate's memory model: trainable parameters, the checkpoint file
// and training memory. The element passes the choice to each adapter run and to the scale panel;
// the crate checks it (the rank's range is the model's, from the crate's run settings).

import { h } from './dom.js';
import { bytes, int, percent } from './format.js';

// The choices a LoRA lesson asks about first: the paper's q,v, all of attention, every layer.
export const TARGET_CHOICES = [
  ['q,v', 'Wq, Wv (the LoRA paper)'],
  ['attn', 'Wq, Wk, Wv, Wo (attention)'],
  ['all', 'every linear layer'],
];

export class AdapterKnobs {
  /** onChange({rank, targets}): the choice changed (and is valid). */
  constructor(onChange) {
    this.onChange = onChange;
    this.touched = false; // the reader's choice, once made, outlives a reload of the module
    this.rank = h('input', { id: 'lora-rank', type: 'number', inputmode: 'numeric', oninput: () => this.changed() });
    this.targets = h(
      'select',
      { id: 'lora-targets', onchange: () => this.changed() },
      TARGET_CHOICES.map(([value, text]) => h('option', { value }, text)),
    );
    this.cost = h('p', { class: 'knob-cost', 'aria-live': 'polite' });
    this.el = h(
      'fieldset',
      { class: 'knobs' },
      h('legend', {}, 'LoRA adapter'),
      h('label', { for: 'lora-rank' }, 'Rank r '),
      this.rank,
      h('label', { for: 'lora-targets' }, ' on '),
      this.targets,
      this.cost,
    );
  }

  /** {rank, targets} as a run takes them (the rank as typed: the crate checks it); throws the
   * reason, also shown, when the author's targets are not a choice here. */
  choice() {
    if (this.refused) throw this.refuse(this.refused);
    return { rank: this.rank.value, targets: this.targets.value };
  }

  /** Show why the choice cannot run (the crate's message, or the targets refused): the Error to throw. */
  refuse(reason) {
    this.cost.textContent = reason;
    return new Error(reason);
  }

  /** Start from {rank, targets} (an author's attributes, else the crate's recipe for the page),
   * unless the reader chose already; `range` is the crate's rank setting ({min, max}) for this
   * model. Targets that are not a choice here are refused, by name. */
  setDefaults({ rank, targets }, range) {
    Object.assign(this.rank, { min: range.min, max: range.max });
    if (this.touched) return;
    this.rank.value = String(rank);
    const known = TARGET_CHOICES.some(([value]) => value === targets);
    this.targets.value = known ? targets : TARGET_CHOICES[0][0];
    this.refused = known ? null : `targets="${targets}" is not one of ${TARGET_CHOICES.map(([value]) => value).join(', ')}.`;
  }

  changed() {
    this.touched = true;
    this.refused = null;
    this.onChange(this.choice());
  }

  /**
   * What the choice costs, from the memory model's report for one adapter run of this model.
   * @param {import('./api/Report').Report} report
   */
  show(report) {
    this.cost.textContent = `${int(report.params_trainable)} trainable parameters (${percent(report.params_trainable, report.params_total)} of the model), a ${bytes(report.checkpoint_bytes)} checkpoint, ${bytes(report.training_bytes)} to train (predicted).`;
  }
}
