// The little UI both bench pages share (bench/ours.html, bench/tfjs/index.html): a form, a live
// loss curve and the report as JSON. `window.bench(options)` runs without the form, for
// bench/browser.mjs; it resolves to the report.

const DEFAULTS = { mode: 'full', steps: 20, warmup: 3, batch: 16, context: 128, base: '/www/base/tiny.ftlab', text: '/bench/data/records.txt' };

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

/** Draw losses as a polyline in `svg` (viewBox 0 0 400 160), the y range fitted to the data. */
function drawLoss(svg, losses) {
  if (losses.length < 2) return;
  const [lo, hi] = [Math.min(...losses), Math.max(...losses)];
  const x = (i) => (400 * i) / (losses.length - 1);
  const y = (v) => 150 - (140 * (v - lo)) / (hi - lo || 1);
  svg.querySelector('polyline').setAttribute('points', losses.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' '));
  svg.querySelector('title').textContent = `loss from ${losses[0].toFixed(3)} to ${losses.at(-1).toFixed(3)} over ${losses.length} steps`;
}

export function mountBench({ title, backends, run }) {
  document.title = title;
  document.body.innerHTML = `
    <style>body { font: 15px system-ui, sans-serif; margin: 1.5em } label { margin-right: 1em }
      input[type=number] { width: 5em } svg { border: 1px solid #ccc } pre { font-size: 12px }</style>
    <h1>${title}</h1>
    <form>
      <label>backend <select name="backend">${backends.map((b) => `<option>${b}</option>`).join('')}</select></label>
      <label>mode <select name="mode"><option>full</option><option>adapter</option></select></label>
      ${['steps', 'warmup', 'batch', 'context'].map((k) => `<label>${k} <input name="${k}" type="number" min="0" value="${DEFAULTS[k]}"></label>`).join('')}
      <label>base <input name="base" value="${DEFAULTS.base}"></label>
      <label>text <input name="text" value="${DEFAULTS.text}"></label>
      <button type="submit">Run</button>
    </form>
    <p role="status">ready</p>
    <svg viewBox="0 0 400 160" width="400" height="160" role="img" aria-label="training loss per step">
      <title>training loss</title><polyline fill="none" stroke="currentColor" stroke-width="1.5"/></svg>
    <pre></pre>`;
  const [form, status, svg, pre] = ['form', '[role=status]', 'svg', 'pre'].map((s) => document.querySelector(s));

  window.bench = async (options) => {
    const o = { ...DEFAULTS, backend: backends[0], ...options };
    const base = await (await fetchOk(o.base)).arrayBuffer();
    const text = await (await fetchOk(o.text)).text();
    const losses = [];
    // TF.js reads every step's loss (no `read`); ours reads a batch of steps at once.
    const onStep = (step, loss, ms, read = 1) => {
      losses.push(loss);
      status.textContent = `step ${step}/${o.warmup + o.steps}: loss ${loss.toFixed(4)}, ${ms.toFixed(0)} ms`;
      console.debug(`bench: ${status.textContent}`); // bench/browser.mjs shows these as progress
      drawLoss(svg, losses);
      if (read) dispatchEvent(new CustomEvent('bench:step', { detail: { step, steps: read } })); // for bench/webgpu-calls.js
    };
    const report = await run({ ...o, base, text, onStep });
    pre.textContent = JSON.stringify({ ...report, losses: report.losses.map((v) => +v.toFixed(4)) }, null, 1);
    return report;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    for (const k of ['steps', 'warmup', 'batch', 'context']) data[k] = Number(data[k]);
    form.querySelector('button').disabled = true;
    try {
      const r = await window.bench(data);
      status.textContent = `done: ${r.ms_per_step.median.toFixed(1)} ms/step median on ${r.backend}`;
    } catch (e) {
      status.textContent = `failed: ${e.message}`;
    } finally {
      form.querySelector('button').disabled = false;
    }
  });
}
