// The widget's training: full and adapter runs, the rank sweep, and the panels they fill (the
// LoRA knobs, the train panel, the sweep chart, the memory panel). The element (its `host`)
// holds the Lab and says when one is open; this decides what runs and shows it.

import { fineTune, score } from './run.js';
import { TrainPanel } from './train-panel.js';
import { AdapterKnobs } from './adapter-knobs.js';
import { SWEEP_RANKS, SweepView } from './sweep-view.js';
import { MemoryView } from './memory-view.js';
import { modeOf } from './modes.js';
import { bytes, loss, ms } from './format.js';
import { saveHuggingFaceZip } from './download.js';

export class Runs {
  /**
   * host: the element ({lab, mod, busy, picker, scale, runAttributes(), authored(), say(),
   * showError(), failRun(), emit(), updateButtons(), press(what), sweep(), isConnected}).
   */
  constructor(host) {
    this.host = host;
    this.train = new TrainPanel(
      (what) => host.press(what),
      (data, name) => saveHuggingFaceZip(host, data, name, (text) => this.train.notice(text)),
    );
    this.knobs = new AdapterKnobs((choice) => this.adapterChosen(choice));
    this.sweepView = new SweepView(() => host.sweep().catch(() => {}));
    this.memory = new MemoryView();
    this.before = null; // the base's score on the data last used: {heldout, sample, format, key}
    this.dataKey = null; // the data the results shown were trained on
    this.scoring = null; // the base's score being computed early (scoreBaseEarly)
    this.stopping = false;
    this.sweeping = false;
  }

  /** A Lab opened: the knobs start from the author's rank and targets, else the page's recipe. */
  opened({ rank, targets }) {
    const lab = this.host.lab;
    const rankRange = lab.settings.find((s) => s.name === 'rank');
    this.knobs.setDefaults({ rank: rank ?? lab.pageAdapter.rank, targets: targets ?? lab.pageAdapter.targets }, rankRange);
    // The scale panel keeps the LoRA paper's r = 4 on Wq, Wv (the lesson's GPT-3 figures) until
    // the author or the reader picks an adapter.
    this.knobsChanged({ scale: this.knobs.touched || rank != null || targets != null });
    this.scoreBaseEarly();
  }

  /** What the knobs' adapter costs, again: a run setting changed, or a Lab opened. */
  knobsChanged({ scale = false } = {}) {
    if (!this.host.lab) return;
    try {
      this.adapterChosen(this.knobs.choice(), { scale });
    } catch {
      // the author's targets are not a choice here: the knobs say so, and a run is refused with it
    }
  }

  /**
   * The adapter picked in the train panel: what the run it would start costs on this model (the
   * crate completes and checks it as it would the run, then predicts its memory), and the scale
   * panel follows it.
   */
  adapterChosen(choice, { scale = true } = {}) {
    const { host } = this;
    if (!host.lab) return;
    try {
      this.knobs.show(host.mod.predictRun(host.lab.shape, { ...host.runAttributes(), mode: 'adapter', ...choice }));
    } catch (e) {
      this.knobs.refuse(e.message); // a rank out of range, or a batch attribute: shown, not thrown
      return;
    }
    if (scale) host.scale?.follow(choice);
  }

  /**
   * Score the base on the data picked (its held-out loss and sample) in the background once the
   * Lab is open, and warm its pipelines up (`Lab.warmUp`) meanwhile: every run starts with both,
   * so a press goes straight to a first step that compiles nothing. Runs and serving wait for it,
   * so the worker holds one session at a time; a failure here is left for the run, which
   * computes it again and says what failed.
   */
  scoreBaseEarly() {
    const { host } = this;
    let data;
    try {
      data = host.picker.choice();
    } catch {
      return; // no text to train on yet
    }
    if (host.busy || this.scoring || this.before?.key === data.key) return;
    const lab = host.lab;
    this.scoring = (async () => {
      /** @type {import('./remote-lab.js').RemoteSession} */
      let session;
      let warming;
      try {
        session = await lab.start({ ...host.runAttributes(), ...data.options, mode: 'full' });
        const scored = score(session);
        // Sent once the held-out loss is on its way to the GPU, so that a training step's
        // pipelines (once a Lab) compile while the GPU computes it, even for a press already
        // waiting, whose first step would compile them with the GPU idle; caught at once.
        warming = lab.warmUp().catch(() => {});
        const before = await scored;
        if (host.lab === lab && this.before?.key !== data.key) this.before = { ...before, key: data.key };
        session.free();
        session = null;
      } catch {
        // the run computes the score again, and its first step compiles what the warm-up did not
      } finally {
        session?.free();
        await warming;
        this.scoring = null;
      }
    })();
  }

  /**
   * The same short adapter run at each of SWEEP_RANKS on the chosen targets, one after the
   * other, plotting each one's held-out loss against its trainable parameters. Stop ends it.
   * Resolves to the points ([{rank, params, heldout}]); finetune-sweep-done also says whether
   * Stop cut it short.
   */
  async sweep() {
    if (this.host.busy || this.sweeping) this.refuse('A run is already going: wait for it to finish, or press Stop.');
    const choice = this.knobs.choice();
    this.sweeping = true;
    this.stopping = false;
    this.sweepView.begin();
    const points = [];
    let stopped = false;
    try {
      for (const rank of SWEEP_RANKS) {
        // Stop may come between two ranks' runs, when none is going.
        if (this.stopping) {
          stopped = true;
          break;
        }
        const done = await this.run('adapter', { rank, targets: choice.targets }, { sweep: { rank, of: points.length + 1 } });
        if (done.stopped) {
          stopped = true;
          break;
        }
        const point = { rank, params: done.params_trainable, heldout: done.heldout_after };
        this.sweepView.add(point);
        points.push(point);
      }
    } finally {
      this.sweeping = false;
    }
    const ranks = points.map((p) => p.rank).join(', ') || 'none';
    this.host.say(stopped ? `Rank sweep stopped: ${points.length} of ${SWEEP_RANKS.length} ranks done (r = ${ranks}).` : `Rank sweep done: r = ${ranks}.`, points.length / SWEEP_RANKS.length);
    this.host.emit('finetune-sweep-done', { points, stopped });
    return points;
  }

  /**
   * A refused press or call: the reason beside the buttons, and thrown.
   * @returns {never}
   */
  refuse(text) {
    this.train.notice(text);
    throw new Error(text);
  }

  /**
   * Fine-tune in `mode` ("full" | "adapter"); resolves to the finetune-done detail. `settings`
   * (e.g. `{steps: 50}`) override the attributes; a value out of range is refused with a message.
   * A sweep's runs (`sweep`: {rank, of}) say so as they go and do not join the tenant library.
   */
  async run(mode, settings = {}, { sweep = null } = {}) {
    const { host } = this;
    if (host.busy || (this.sweeping && !sweep)) this.refuse('A run is already going: wait for it to finish, or press Stop.');
    let data;
    /** @type {import('./remote-lab.js').RemoteSession} */
    let session;
    host.busy = true; // from here: lab.start answers asynchronously, from the Lab's worker
    host.updateButtons();
    try {
      await this.scoring;
      data = host.picker.choice();
      // The crate checks every setting before anything is allocated, and throws why.
      const adapter = mode === 'adapter' ? this.knobs.choice() : {};
      session = await host.lab.start({ ...host.runAttributes(), ...adapter, ...settings, ...data.options, mode });
    } catch (e) {
      host.busy = false;
      if (e instanceof WebAssembly.RuntimeError) host.failRun(e);
      else host.showError(e);
      host.updateButtons();
      throw e;
    }
    const info = session.info;
    let steps = info.steps; // until a time budget, if any, sets the length (run.js)
    if (this.dataKey && this.dataKey !== data.key) this.clear('The data changed, so the earlier results were cleared: both runs compare on the same data.');
    const before = this.before?.key === data.key ? this.before : null;
    if (!sweep) this.stopping = false; // a sweep's Stop holds for its remaining runs
    host.status.hideError();
    host.updateButtons();
    this.train.begin(mode, steps);
    this.memory.reset(mode);
    const gpu = host.lab.backend === 'webgpu';
    const what = sweep ? `Rank sweep, r = ${sweep.rank} (${sweep.of} of ${SWEEP_RANKS.length})` : modeOf(mode).title;
    const hooks = {
      shouldStop: () => this.stopping,
      abandoned: () => !host.isConnected,
      onPhase: (phase) => {
        if (phase === 'start') {
          this.dataKey = data.key;
          this.train.started(mode, steps, info);
          host.picker.showNotes(info.notes);
        }
        if (phase === 'before') host.say(`Sampling and scoring the base model${gpu ? ' (the first GPU use compiles shaders: this can take a while)' : ''}…`, null);
        if (phase === 'first-step') host.say(`${what}: step 1 of ${steps}…`, null);
        if (phase === 'after') host.say('Scoring held-out text and sampling the fine-tuned model…', null);
      },
      onBefore: (b) => {
        if (!b.partial) this.before = { ...b, key: data.key };
        this.train.before(mode, b);
      },
      onStep: (d) => {
        if (d.steps !== steps) this.train.plan(mode, (steps = d.steps));
        this.train.step(mode, d);
        const warn = Number.isFinite(d.loss) ? '' : ' (not a number: training diverged)';
        const timing = d.timing ? ` · timing this device to fit the run to about ${info.budget.seconds} s` : '';
        host.say(`${what}: step ${d.step} of ${steps} · loss ${loss(d.loss)}${warn} · ${ms(d.ms_per_step)} per step${timing}`, d.step / steps);
        host.emit('finetune-progress', { mode, ...d });
      },
    };
    let r;
    try {
      r = await fineTune(host.lab, session, { before }, hooks);
    } catch (e) {
      host.failRun(e);
      throw e;
    } finally {
      host.busy = false;
      host.updateButtons();
    }
    return this.finish(mode, r, sweep);
  }

  finish(mode, r, sweep) {
    const { host } = this;
    this.train.finish(mode, r);
    if (!sweep && mode === 'adapter' && r.checkpoint) {
      const run = { steps: r.losses.length, before: r.before?.heldout ?? null, after: r.after?.heldout ?? null };
      host.tenants
        .add(r.checkpoint, `my ${(r.info?.data ?? 'text').replace(/^your /, '')} adapter`, 'trained', run)
        .catch((e) => host.tenants.view.notice(`This run's adapter could not join the library: ${e.message}`));
    }
    if (r.memory) this.memory.set(mode, r.memory, r.shared);
    const n = r.losses.length;
    host.say(
      r.after
        ? `Done: ${sweep ? `rank sweep r = ${sweep.rank}, ` : ''}${modeOf(mode).name}, ${n} step${n > 1 ? 's' : ''}${r.stopped ? ' (stopped)' : ''}, loss ${loss(r.losses[0])} → ${loss(r.losses.at(-1))}, held-out ${loss(r.before.heldout)} → ${loss(r.after.heldout)}; checkpoint ${bytes(r.checkpoint.length)}.`
        : `Stopped ${n ? `after ${n} step${n > 1 ? 's' : ''}` : 'before the first step'}.`,
      n / r.steps,
    );
    const detail = {
      mode,
      step: n,
      steps: r.steps,
      budget: r.info?.budget ?? null,
      params_trainable: r.info?.params_trainable,
      loss: r.losses.at(-1) ?? null,
      ms_per_step: r.ms_per_step ?? null,
      memory: r.memory ?? null,
      heldout_before: r.before?.heldout ?? null,
      heldout_after: r.after?.heldout ?? null,
      sample_after: r.after?.sample ?? null,
      format_after: r.after?.format ?? null,
      stopped: r.stopped,
      sweep_rank: sweep?.rank ?? null,
    };
    host.emit('finetune-done', detail);
    return detail;
  }

  /** Stop after the step in flight (the run then scores and samples what it has); a sweep ends there. */
  stop() {
    this.stopping = true;
    this.host.say('Stopping after this step…', null);
  }

  clear(message) {
    this.train.reset();
    this.train.notice('');
    this.memory.reset();
    this.before = null;
    this.dataKey = null;
    this.host.picker?.showNotes([]);
    this.host.status.hideError();
    this.host.say(message, 0);
  }

  dispose() {
    this.stopping = true;
    this.train.dispose();
    this.sweepView.dispose();
  }
}
