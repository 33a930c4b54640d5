// The widget's tenants: the library of adapters (the shipped demos, every adapter trained here,
// imported files) and serving them together on the one base, or the three ways measured. The
// element (its `host`) holds the Lab; this decides what is served and shows it (serve-view.js).

import { ServeView } from './serve-view.js';
import { loadDemoAdapter } from './wasm.js';
import { isDeviceFailure } from './backend.js';
import { bytes } from './format.js';

export class Tenants {
  /** host: the element ({lab, mod, busy, status, say(), showError(), failRun(), emit(), updateButtons(), whenOpen(), isConnected}). */
  constructor(host) {
    this.host = host;
    this.view = new ServeView(
      (what) => this.action(what),
      (files) => this.importFiles(files),
    );
    this.demos = null; // Promise, once the demos are asked for
  }

  /** A Lab opened: serving's limits and the tasks' prompts, from the crate. */
  opened() {
    const { mod } = this.host;
    /** @type {import('./api/Limits').Limits} characters per row, tenants per batch */
    this.limits = mod.serveLimits();
    this.view.setMaxAdapters(this.limits.tenants - 1);
    this.view.setPrompts(mod.tasks());
  }

  /**
   * The shipped demo adapters, one per built-in task, into the library: once, when the Serve
   * panel first comes into view or serving is asked for, whichever comes first (~100 kB).
   */
  loadDemos() {
    this.demos ??= (async () => {
      await this.host.whenOpen();
      for (const task of this.host.mod.tasks()) {
        try {
          const file = await loadDemoAdapter(task.name);
          if (file) await this.add(file, `${task.name} demo`, 'demo');
        } catch (e) {
          this.view.notice(`The ${task.name} demo adapter could not be loaded: ${e.message}`);
        }
      }
    })();
    this.demos.catch(() => (this.demos = null)); // the Lab did not open: asked again with the next open
    return this.demos;
  }

  /** An adapter file into the library, checked against the base first (throws the reason). */
  async add(bytes, name, source) {
    /** @type {import('./api/AdapterInfo').AdapterInfo} */
    const info = await this.host.lab.adapterInfo(bytes);
    this.view.add({ name, task: info.task, rank: info.rank, targets: info.targets, bytes, source });
  }

  /** Adapter files the reader picked: each checked; a refused one says why and changes nothing. */
  async importFiles(files) {
    const refused = [];
    try {
      await this.host.whenOpen();
    } catch (e) {
      return this.view.notice(`Not imported: the lab could not load (${e.message}).`);
    }
    for (const file of files) {
      try {
        await this.add(new Uint8Array(await file.arrayBuffer()), file.name.replace(/\.ftlab$/i, ''), 'imported');
      } catch (e) {
        refused.push(`${file.name}: ${e.message}`);
      }
    }
    this.view.notice(refused.length ? `Not imported — ${refused.join('; ')}` : `Imported ${files.length} adapter file${files.length > 1 ? 's' : ''}.`);
  }

  /** The Serve panel's buttons: its rows served together, or the three ways measured. */
  action(what) {
    const rows = this.view.requests();
    const selected = this.view.selected();
    const requests = rows.map((r) => ({ tenant: r.tenant === 0 ? 0 : this.view.tenants.indexOf(selected[r.tenant - 1]) + 1, prompt: r.prompt }));
    const job = what === 'compare' ? this.compare(requests) : this.serve(requests, {}, (texts) => this.view.showTexts(texts));
    job.catch(() => {}); // shown in the widget
  }

  /** Tenants named in `requests` → (adapter files in slot order, each request's slot). */
  slots(requests) {
    const library = this.view.tenants;
    const files = [];
    const slot = (tenant) => {
      if (tenant === 0 || tenant === 'base') return 0;
      const entry = typeof tenant === 'number' ? library[tenant - 1] : library.find((t) => t.name === tenant);
      if (!entry) throw new Error(`No tenant ${JSON.stringify(tenant)}: use 0 or "base", a tenant's name, or its place in the library (1 to ${library.length}).`);
      if (!files.includes(entry)) files.push(entry);
      return files.indexOf(entry) + 1;
    };
    const rows = requests.map((r) => ({ tenant: slot(r.tenant), prompt: String(r.prompt ?? '') }));
    return { files: files.map((t) => t.bytes), rows };
  }

  /**
   * Refuse a serving request: the reason shown in the Serve panel, and thrown.
   * @returns {never}
   */
  refuse(text) {
    this.view.notice(text);
    throw new Error(text);
  }

  /**
   * Run `work()` holding the Lab for serving (refused while a run is going). A trap or a device
   * failure ends like a failed run; any other error is shown as bad input.
   */
  async whileServing(work) {
    const { host } = this;
    if (host.busy) this.refuse('A run is going: wait for it to finish, or press Stop.');
    host.busy = true;
    host.updateButtons();
    this.view.setBusy(true);
    host.status.hideError();
    this.view.notice('');
    try {
      await host.runs.scoring;
      return await work();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || isDeviceFailure(e)) host.failRun(e);
      else host.showError(e);
      throw e;
    } finally {
      host.busy = false;
      host.updateButtons();
      this.view.setBusy(false);
    }
  }

  /** The Lab and the demos loaded first if need be: the demos are tenants an author's script may name. */
  async ready(requests) {
    if (!Array.isArray(requests)) this.refuse('Give the requests as an array of {tenant, prompt}.');
    try {
      await this.loadDemos();
    } catch (e) {
      this.refuse(`Could not serve: the lab could not load (${e.message}).`);
    }
  }

  /** `requests` on the library: `chars` checked (when given) and each request's tenant found; refuses with the reason. */
  plan(requests, chars) {
    try {
      if (chars != null) this.host.mod.checkServe(requests.length, chars);
      return this.slots(requests);
    } catch (e) {
      return this.refuse(e.message);
    }
  }

  /**
   * Serve `requests` ([{tenant, prompt}]: tenant 0 or "base" for the base alone, a tenant's
   * name, or its place in the library from 1) together, `chars` characters each (the crate's
   * default when absent), in one batched pass per character. Resolves to
   * [{tenant, prompt, text}] and fires finetune-serve-done.
   */
  async serve(requests, { chars = undefined } = {}, onStep = undefined) {
    await this.ready(requests);
    chars ??= this.limits.chars_default;
    const plan = this.plan(requests, chars);
    const { host } = this;
    const texts = await this.whileServing(async () => {
      const serving = await host.lab.serve(plan.files, plan.rows);
      try {
        for (let i = 1; i <= chars && host.isConnected; i++) {
          await serving.step();
          onStep?.(await serving.texts());
          host.say(`Serving ${plan.rows.length} rows together: character ${i} of ${chars}`, i / chars);
        }
        return await serving.texts();
      } finally {
        serving.free();
      }
    });
    host.say(`Served ${plan.rows.length} rows (${plan.files.length} adapters and the base) together, ${chars} characters each.`, 1);
    const outputs = requests.map((r, i) => ({ tenant: r.tenant, prompt: plan.rows[i].prompt, text: texts[i] }));
    host.emit('finetune-serve-done', { outputs, chars });
    return outputs;
  }

  /** The Serve panel's rows served the three ways and measured: resolves to the crate's report. */
  async compare(requests) {
    await this.ready(requests);
    const plan = this.plan(requests, null);
    const chars = this.limits.compare_chars;
    const { host } = this;
    return this.whileServing(async () => {
      host.say(`Measuring: the rows together, one at a time and as merged copies, ${chars} characters each…`, null);
      const report = await host.lab.serveThreeWays(plan.files, plan.rows, chars);
      this.view.showComparison(report);
      host.say(`Measured: together ${report.mixed.chars_per_s.toFixed(0)} characters/s holding ${bytes(report.mixed.bytes_measured)}; merged copies hold ${bytes(report.merged.bytes_measured)}.`, 1);
      return report;
    });
  }

  dispose() {
    this.view.dispose();
  }
}
