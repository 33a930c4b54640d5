// Paired horizontal bars on a log scale (SVG): full vs adapter for storage, serving and
// training memory. A log axis because the two differ by up to four orders of magnitude.

import { s, fill } from './dom.js';
import { bytes } from './format.js';

const W = 600;
const ROW = 46;
const LEFT = 120;
const RIGHT = 70;
const TOP = 8;
const AXIS = 26;

export class LogBars {
  constructor(title) {
    this.title = title;
    this.svg = s('svg', { class: 'log-bars', role: 'img' });
  }

  /** rows: [{label, full, adapter}] in bytes. */
  set(rows) {
    const values = rows.flatMap((r) => [r.full, r.adapter]).filter((v) => v > 0);
    const lo = Math.floor(Math.log10(Math.min(...values)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
    const x = (v) => LEFT + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (W - LEFT - RIGHT);
    const height = TOP + rows.length * ROW + AXIS;
    this.svg.setAttribute('viewBox', `0 0 ${W} ${height}`);
    const decades = [];
    // Label every decade when few, every third (kB, MB, GB…) when many.
    const every = hi - lo > 6 ? 3 : 1;
    for (let k = lo; k <= hi; k++) {
      const line = s('line', { x1: x(10 ** k), x2: x(10 ** k), y1: TOP, y2: height - AXIS, class: 'grid' });
      const text = (k - lo) % every === 0 ? s('text', { x: x(10 ** k), y: height - AXIS + 16, 'text-anchor': 'middle', class: 'tick' }, bytes(10 ** k)) : null;
      decades.push(line, text);
    }
    const bars = rows.map((r, i) => {
      const y = TOP + i * ROW;
      const one = (kind, v, dy) => [
        s('rect', { x: LEFT, y: y + dy, width: Math.max(1, x(v) - LEFT), height: 16, class: `lbar ${kind}` }),
        s('text', { x: x(v) + 4, y: y + dy + 12, class: 'value' }, bytes(v)),
      ];
      return [s('text', { x: LEFT - 8, y: y + 22, 'text-anchor': 'end', class: 'label' }, r.label), one('full', r.full, 2), one('adapter', r.adapter, 20)];
    });
    fill(this.svg, s('title', {}, this.title), decades, bars);
    const said = rows.map((r) => `${r.label}: full ${bytes(r.full)}, adapter ${bytes(r.adapter)}`).join('; ');
    this.svg.setAttribute('aria-label', `${this.title} (log scale). ${said}.`);
  }
}
