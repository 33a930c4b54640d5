// The rank sweep: the same short adapter run at r = 1, 2, 4, 8 and 16, and the held-out loss
// each one reaches against its trainable parameters. The LoRA paper's point (Hu et al. 2021,
// §7.2: on GPT-3, r = 1 on Wq, Wv already does well), measured on the reader's device.

import { h } from './dom.js';
import { LineChart } from './chart.js';
import { int, loss } from './format.js';

export const SWEEP_RANKS = [1, 2, 4, 8, 16];

export class SweepView {
  /** onSweep(): the button was pressed. */
  constructor(onSweep) {
    this.button = h('button', { type: 'button', class: 'sweep', onclick: onSweep }, `Rank sweep: r = ${SWEEP_RANKS.join(', ')}`);
    this.chart = new LineChart({
      title: 'Held-out loss after training, by the adapter’s trainable parameters',
      series: [{ key: 'sweep', name: 'held-out loss after the run', className: 'adapter' }],
      xLabel: 'trainable parameters',
      yLabel: 'held-out loss',
      empty: 'Press Rank sweep: each rank’s run adds a point.',
      per: 'rank',
    });
    this.list = h('ol', { class: 'sweep-list' });
    this.el = h('div', { class: 'sweep-view' }, h('h4', {}, 'How much rank is enough?'), this.button, this.chart.el, this.list);
  }

  begin() {
    this.chart.reset();
    this.list.replaceChildren();
  }

  add({ rank, params, heldout }) {
    this.chart.addPoint('sweep', params, heldout);
    this.list.append(h('li', { dataset: { rank, params, heldout } }, `r = ${rank}: ${int(params)} trainable parameters, held-out loss ${loss(heldout)}`));
  }

  dispose() {
    this.chart.dispose();
  }
}
