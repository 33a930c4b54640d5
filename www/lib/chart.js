// A hand-written SVG line chart: a few series of (x, y) points, `addPoint` and `reset`, redrawn
// at most once per animation frame. The SVG's accessible name summarises what it shows.

import { s, h, fill } from './dom.js';

const W = 600;
const H = 240;
const PAD = { left: 56, right: 12, top: 12, bottom: 34 };

export class LineChart {
  /**
   * series: [{key, name, className}]; className picks the stroke colour in the stylesheet.
   * `empty` is shown before the first point; `per` names what each point is ("step").
   */
  constructor({ title, series, xLabel, yLabel, empty = 'No runs yet: the loss of each step appears here.', per = 'step' }) {
    this.title = title;
    this.empty = empty;
    this.per = per;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.series = series.map((d) => ({ ...d, points: [] }));
    this.xMax = 1;
    this.frame = 0;
    this.svg = s('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', class: 'chart' });
    const legend = h(
      'ul',
      { class: 'legend' },
      this.series.map((d) => h('li', { class: d.className }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), d.name)),
    );
    this.el = h('figure', { class: 'chart-figure' }, this.svg, legend);
    this.draw();
  }

  /** Widen the x axis in advance (e.g. to the planned number of steps). */
  setXMax(x) {
    this.xMax = Math.max(1, x);
    this.schedule();
  }

  addPoint(key, x, y) {
    if (!Number.isFinite(y)) return; // a NaN loss is reported in the text, not drawn
    this.series.find((d) => d.key === key).points.push([x, y]);
    this.schedule();
  }

  /** Clear one series, or all. */
  reset(key) {
    for (const d of this.series) if (!key || d.key === key) d.points = [];
    this.schedule();
  }

  dispose() {
    cancelAnimationFrame(this.frame);
    this.frame = 0; // else schedule() would wait forever for the cancelled frame
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw() {
    const all = this.series.flatMap((d) => d.points);
    const xMax = Math.max(this.xMax, ...all.map((p) => p[0]));
    let [lo, hi] = all.length ? [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))] : [0, 1];
    const margin = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 0.5;
    [lo, hi] = [lo - margin, hi + margin];
    const x = (v) => PAD.left + ((v - 1) / Math.max(1, xMax - 1)) * (W - PAD.left - PAD.right);
    const y = (v) => H - PAD.bottom - ((v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);

    const yTicks = ticks(lo, hi, 4);
    // As many decimals as the tick spacing needs: "8", "7.5", "2.25".
    const decimals = yTicks.length > 1 ? Math.max(0, -Math.floor(Math.log10(yTicks[1] - yTicks[0]) + 1e-9)) : 1;
    const grid = yTicks.map((t) => [
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(t), y2: y(t), class: 'grid' }),
      s('text', { x: PAD.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, t.toFixed(decimals)),
    ]);
    const xTicks = ticks(1, xMax, 5)
      .filter((t) => Number.isInteger(t))
      .map((t) => s('text', { x: x(t), y: H - PAD.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, t));
    const lines = this.series.map((d) => {
      const path = d.points.map(([a, b], i) => `${i ? 'L' : 'M'}${x(a).toFixed(1)},${y(b).toFixed(1)}`).join('');
      // Dots keep a 3-step run visible; the dash tells the series apart without colour.
      const dots = d.points.length <= 40 ? d.points.map(([a, b]) => s('circle', { cx: x(a), cy: y(b), r: 3 })) : [];
      return s('g', { class: `series ${d.className}` }, s('path', { d: path }), dots);
    });
    fill(
      this.svg,
      s('title', {}, this.title),
      grid,
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom, class: 'axis' }),
      xTicks,
      s('text', { x: (W + PAD.left) / 2, y: H - 4, 'text-anchor': 'middle', class: 'label' }, this.xLabel),
      s('text', { x: 12, y: H / 2, transform: `rotate(-90 12 ${H / 2})`, 'text-anchor': 'middle', class: 'label' }, this.yLabel),
      lines,
      !all.length && s('text', { x: (W + PAD.left) / 2, y: H / 2, 'text-anchor': 'middle', class: 'label' }, this.empty),
    );
    this.svg.setAttribute('aria-label', this.summary());
  }

  /** "Training loss per step. Full: 3.214 → 2.871 over 20 steps. Adapter: no data yet." */
  summary() {
    const parts = this.series.map((d) => {
      const p = d.points;
      if (!p.length) return `${d.name}: no data yet.`;
      return `${d.name}: ${p[0][1].toFixed(3)} → ${p.at(-1)[1].toFixed(3)} over ${p.length} ${this.per}${p.length > 1 ? 's' : ''}.`;
    });
    return `${this.title}. ${parts.join(' ')}`;
  }
}

/** About `count` round values covering [lo, hi]. */
function ticks(lo, hi, count) {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((m) => m >= raw);
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toFixed(10)));
  return out;
}
