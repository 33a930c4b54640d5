// The training panel: the four buttons, the step counter, the loss chart of both runs, the
// table of results with samples, and the checkpoint downloads. It only displays; the element
// decides what runs.

import { h } from './dom.js';
import { LineChart } from './chart.js';
import { ResultsView } from './results-view.js';
import { Downloads } from './download.js';
import { MODES, modeOf } from './modes.js';

export class TrainPanel {
  /** onClick(what): "full" | "adapter" | "stop" | "reset"; onHf(data, name): a checkpoint for Hugging Face. */
  constructor(onClick, onHf) {
    const button = (label, what) => h('button', { type: 'button', class: what, 'aria-disabled': 'true', onclick: () => onClick(what) }, label);
    this.buttons = {
      full: button('Fine-tune full', 'full'),
      adapter: button('Fine-tune adapter', 'adapter'),
      stop: button('Stop', 'stop'),
      reset: button('Reset', 'reset'),
    };
    // Why a press did nothing: kept apart from the status line, which each step overwrites.
    this.note = h('p', { class: 'press-note', 'aria-live': 'polite' });
    this.counter = h('span', {}, '');
    this.bar = h('progress', { max: 1, value: 0, 'aria-label': 'Training progress' });
    this.chart = new LineChart({
      title: 'Training loss per step',
      series: MODES.map(({ mode, title }) => ({ key: mode, name: title, className: mode })),
      xLabel: 'step',
      yLabel: 'loss',
    });
    this.results = new ResultsView();
    this.files = new Downloads(onHf);
    this.el = h(
      'div',
      {},
      h('div', { class: 'buttons' }, Object.values(this.buttons)),
      this.note,
      h('div', { class: 'step-line' }, this.counter, this.bar),
      this.chart.el,
      this.results.el,
      h('h4', {}, 'Checkpoints'),
      this.files.el,
    );
  }

  /**
   * Disabled buttons stay focusable (aria-disabled) so a press can say why nothing happens. The
   * Fine-tune buttons are live before the lab has loaded: a press loads it, then runs.
   */
  setButtons({ busy }) {
    const off = { full: busy, adapter: busy, stop: !busy, reset: busy };
    for (const [name, button] of Object.entries(this.buttons)) button.setAttribute('aria-disabled', String(off[name]));
  }

  notice(text) {
    this.note.textContent = text;
  }

  /** A new run of `mode`: clear its earlier curve and row. */
  begin(mode, steps) {
    this.notice('');
    this.chart.reset(mode);
    this.results.reset(mode);
    this.chart.setXMax(steps);
    this.bar.value = 0;
    this.first = undefined;
  }

  started(mode, steps, info) {
    this.results.update(mode, { planned: steps, steps: 0, info });
  }

  /** The run's length, decided from its first steps' times. */
  plan(mode, steps) {
    this.chart.setXMax(steps);
    this.results.update(mode, { planned: steps });
  }

  before(mode, before) {
    this.results.setBefore(before);
    this.results.update(mode, { heldoutBefore: before.heldout });
  }

  step(mode, d) {
    this.first ??= d.loss;
    this.chart.addPoint(mode, d.step, d.loss);
    this.results.update(mode, { steps: d.step, first: this.first, last: d.loss, msPerStep: d.ms_per_step });
    this.counter.textContent = `${modeOf(mode).title}: step ${d.step} of ${d.steps}`;
    this.bar.value = d.step / d.steps;
  }

  finish(mode, r) {
    this.results.update(mode, { stopped: r.stopped, heldoutAfter: r.after?.heldout, sample: r.after?.sample, format: r.after?.format });
    if (r.checkpoint) this.files.set(mode, r.checkpoint);
  }

  reset() {
    this.chart.reset();
    this.results.reset();
    this.files.reset();
    this.counter.textContent = '';
    this.bar.value = 0;
  }

  dispose() {
    this.chart.dispose();
    this.files.reset();
  }
}
