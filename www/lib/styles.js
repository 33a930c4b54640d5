// The widget's stylesheet (inside its shadow root, so the host page's CSS neither leaks in nor
// out). Colours meet WCAG AA contrast in light and dark; full vs adapter also differ by dash
// and position, not by colour alone.

export const STYLES = `
:host {
  display: block;
  --fg: #1b1c20; --muted: #575a63; --bg: #ffffff; --panel: #f3f4f7; --line: #d3d6dd;
  --full: #b0470c; --adapter: #155ea6; --focus: #1a5fd0; --error: #b00020; --ok: #1f6e35;
  color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  container-type: inline-size;
}
:host([hidden]) { display: none; }
@media (prefers-color-scheme: dark) {
  :host {
    --fg: #e9eaee; --muted: #aeb1ba; --bg: #17181c; --panel: #23252b; --line: #3b3e46;
    --full: #f29a5f; --adapter: #74b6f3; --focus: #8ab4ff; --error: #ff8f8f; --ok: #7fd69a;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.lab { background: var(--bg); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; }
h3 { font-size: 1.05rem; margin: 0 0 .5rem; }
h4 { font-size: .95rem; margin: 0 0 .4rem; }
section[data-panel] { border-top: 1px solid var(--line); padding-top: .9rem; margin-top: .9rem; }
.head { display: flex; flex-wrap: wrap; gap: .25rem 1rem; align-items: baseline; justify-content: space-between; }
.title { font-weight: 650; margin: 0; }
.backend { margin: 0; font-size: .9rem; padding: .1rem .5rem; border-radius: 999px; background: var(--panel); border: 1px solid var(--line); }
.backend[data-backend="webgpu"] { border-color: var(--ok); }
.muted, small, .hint, .backend-note { color: var(--muted); }
small { display: block; font-size: .82rem; }
.backend-note { margin: .3rem 0 0; font-size: .85rem; }
.status { display: flex; gap: .75rem; align-items: center; margin-top: .6rem; min-height: 1.6rem; font-size: .92rem; }
.status progress { flex: 0 0 9rem; height: .6rem; }
.status-text { flex: 1 1 auto; }
.error { margin-top: .6rem; border: 1px solid var(--error); border-left-width: 5px; border-radius: 6px; padding: .5rem .75rem; }
.error-text { color: var(--error); margin: 0; white-space: pre-wrap; }
.recover { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .4rem; }
button, .button-link, select, input, textarea { font: inherit; color: inherit; }
button, .button-link {
  cursor: pointer; border: 1px solid var(--line); background: var(--panel); border-radius: 6px;
  padding: .45rem .85rem; min-height: 2.5rem; text-decoration: none; display: inline-flex; align-items: center;
}
button.full { border-color: var(--full); }
button.adapter { border-color: var(--adapter); }
button:hover:not([aria-disabled="true"]) { background: var(--line); }
button[aria-disabled="true"] { opacity: .55; cursor: not-allowed; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
select, input[type=number], textarea { background: var(--bg); border: 1px solid var(--line); border-radius: 5px; padding: .3rem .45rem; }
textarea { width: 100%; resize: vertical; font-family: ui-monospace, monospace; font-size: .85rem; }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
.press-note { margin: .4rem 0 0; font-size: .9rem; color: var(--error); min-height: 1.3em; }
.press-note:empty { min-height: 0; margin: 0; }
.step-line { display: flex; gap: .75rem; align-items: center; margin: .6rem 0; font-size: .9rem; }
.step-line progress { flex: 1 1 auto; height: .7rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }

fieldset.data { border: 0; padding: 0; margin: 0; display: grid; gap: .35rem; }
fieldset.data legend { font-weight: 600; padding: 0; margin-bottom: .3rem; }
fieldset.knobs { border: 0; padding: 0; margin: 0 0 .6rem; }
fieldset.knobs legend { font-weight: 600; padding: 0; margin-bottom: .3rem; }
fieldset.knobs input { width: 4.5rem; }
.knob-cost { margin: .3rem 0 0; font-size: .88rem; }
.setup-link { margin: .4rem 0 0; font-size: .85rem; }
.sweep-view { margin-top: 1rem; }
.sweep-list { font-size: .88rem; margin: .3rem 0 0; padding-left: 1.4rem; }
.choice { display: flex; gap: .5rem; align-items: flex-start; }
.choice input { margin-top: .3rem; }
.choice small { display: inline; margin-left: .4rem; }
.own { display: grid; gap: .35rem; margin: .3rem 0 0 1.6rem; }
.note { margin: .2rem 0; font-size: .9rem; }
.notes { margin: 0; padding-left: 1.2rem; font-size: .88rem; color: var(--muted); }

.chart-figure, .bars-figure { margin: .8rem 0; max-width: 44rem; }
.chart { width: 100%; height: auto; display: block; }
.chart .grid, .log-bars .grid { stroke: var(--line); stroke-width: 1; }
.chart .axis { stroke: var(--muted); }
.chart .tick, .chart .label, .log-bars .tick, .log-bars .value, .log-bars .label { fill: var(--muted); font-size: 12px; }
.log-bars .label { fill: var(--fg); font-size: 13px; }
.series path { fill: none; stroke-width: 2.5; stroke-linejoin: round; }
.series.full path { stroke: var(--full); }
.series.adapter path { stroke: var(--adapter); stroke-dasharray: 7 4; }
.series.full circle { fill: var(--full); }
.series.adapter circle { fill: var(--adapter); }
.legend { list-style: none; display: flex; gap: 1.2rem; padding: 0; margin: .2rem 0 0; font-size: .88rem; }
.legend .swatch { display: inline-block; width: 1.6rem; margin-right: .4rem; vertical-align: middle; border-top: 3px solid; }
.legend .full .swatch { border-color: var(--full); }
.legend .adapter .swatch { border-color: var(--adapter); border-top-style: dashed; }

.table-scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-weight: 600; font-size: .85rem; color: var(--muted); }
tr.full th[scope=row], th.full { color: var(--full); }
tr.adapter th[scope=row], th.adapter { color: var(--adapter); }
caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
.samples { display: grid; gap: .5rem; margin-top: .6rem; grid-template-columns: repeat(auto-fit, minmax(15rem, 1fr)); }
.sample { margin: 0; }
.sample figcaption { font-size: .85rem; color: var(--muted); }
.sample pre { margin: .2rem 0 0; padding: .5rem; background: var(--panel); border-radius: 6px; white-space: pre-wrap; word-break: break-word; font-size: .85rem; min-height: 3rem; }
.sample.full pre { border-left: 4px solid var(--full); }
.sample.adapter pre { border-left: 4px dashed var(--adapter); }
.sample .prompt { color: var(--muted); }
.sample .format { margin: .2rem 0 0; font-size: .8rem; color: var(--muted); }
.sample .format.follows { color: var(--ok); }
.downloads { list-style: none; padding: 0; margin: .6rem 0 0; display: grid; gap: .4rem; font-size: .9rem; }
.downloads small { display: inline; }

.memory-grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); }
.mem-block { background: var(--panel); border-radius: 8px; padding: .6rem .75rem; }
.mem-block.full h4 { color: var(--full); }
.mem-block.adapter h4 { color: var(--adapter); }
.mem-rows { margin: 0; }
.mem-rows dt { font-size: .85rem; font-weight: 600; margin-top: .4rem; }
.mem-rows dd { margin: 0; }
.bar-row { display: grid; grid-template-columns: 4.8rem 1fr 7.5rem; gap: .4rem; align-items: center; font-size: .8rem; }
.bar-kind { color: var(--muted); }
.bar-track { height: .6rem; background: var(--bg); border-radius: 3px; overflow: hidden; }
.bar { display: block; height: 100%; }
.full .bar-row .bar { background: var(--full); }
.adapter .bar-row .bar { background: var(--adapter); }
.bar-row.predicted .bar { opacity: .5; }
.bar-value { font-variant-numeric: tabular-nums; }

.controls { display: grid; gap: .6rem 1rem; grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr)); align-items: start; }
.field { display: grid; gap: .2rem; font-size: .9rem; }
.field > select, .field > input { width: 100%; min-width: 0; }
.field.wide { grid-column: 1 / -1; }
.tenants { display: flex; gap: .6rem; align-items: flex-start; }
.slider { flex: 1 1 auto; }
.slider input { width: 100%; margin: .3rem 0 0; }
.tenants input[type=number] { width: 7rem; }
.marks { display: flex; justify-content: space-between; font-size: .75rem; color: var(--muted); padding: 0 2px; }
.lesson { background: var(--panel); border-radius: 8px; padding: .4rem .75rem; margin: .8rem 0; font-size: .92rem; }
.lesson p { margin: .35rem 0; }
.scale-table td[data-mode] { overflow-wrap: anywhere; }
.bars-figure figcaption { font-size: .82rem; color: var(--muted); }
.log-bars { width: 100%; height: auto; display: block; }
.lbar.full { fill: var(--full); }
.lbar.adapter { fill: var(--adapter); }
.scale.stale :is(.lesson, .scale-table, .bars-figure) { opacity: .35; }
.terms { font-size: .82rem; padding-left: 1.1rem; }
.terms li { margin: .3rem 0; }
details summary { cursor: pointer; margin: .4rem 0; }
.error-text[role=alert] { margin: .4rem 0; }

.tenant-list input[type=text] { width: 100%; min-width: 8rem; }
.import { display: block; margin: .6rem 0; font-size: .9rem; }
.serve-rows { display: grid; gap: .5rem; margin: .6rem 0; }
.serve-row { display: grid; grid-template-columns: 8rem minmax(0, 1fr) minmax(0, 1.4fr); gap: .5rem; align-items: start; font-size: .88rem; }
.serve-row .who { font-weight: 600; overflow-wrap: anywhere; }
.serve-row textarea { width: 100%; min-width: 0; font-family: ui-monospace, monospace; font-size: .82rem; }
.serve-row output { font-family: ui-monospace, monospace; font-size: .82rem; white-space: pre-wrap; overflow-wrap: anywhere; background: var(--panel); border-radius: 6px; padding: .3rem .45rem; min-height: 2.4rem; }

@container (max-width: 30rem) {
  .lab { padding: .7rem; }
  .bar-row { grid-template-columns: 4.2rem 1fr 6.5rem; }
  /* The SVGs scale down with the width: scale their text back up to stay readable. */
  .chart .tick, .chart .label, .log-bars .tick, .log-bars .value { font-size: 20px; }
  .log-bars .label { font-size: 20px; }
  .serve-row { grid-template-columns: 1fr; }
}
`;
