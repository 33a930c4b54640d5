// The widget's tenants: the library of adapters (the shipped demos, every adapter trained or
// imported here, kept in this browser by library-store.js) and serving them together on the one
// base, or the three ways measured. The element (its `host`) holds the Lab; this decides what is
// served and kept, and shows it (serve-view.js).

import { ServeView } from './serve-view.js';
import { LibraryStore } from './library-store.js';
import { loadDemoAdapter } from './wasm.js';
import { isDeviceFailure } from './backend.js';
import { bytes, fileStem } from './format.js';
import { saveHuggingFaceZip } from './download.js';

export class Tenants {
  /** host: the element ({lab, mod, busy, status, say(), showError(), failRun(), emit(), updateButtons(), whenOpen(), isConnected}). */
  constructor(host) {
    this.host = host;
    this.view = new ServeView({
      action: (what) => this.action(what),
      import: (files) => this.importFiles(files),
      rename: (t) => this.rename(t),
      remove: (t) => this.remove(t),
      exportHf: (t) => saveHuggingFaceZip(host, t.bytes, `${fileStem(t.name)}-peft.zip`, (text) => this.view.notice(text)),
      persist: () => this.persist(),
      forgetAll: () => this.forgetAll(),
    });
    this.demos = null; // Promise, once the demos are asked for
    this.store = new LibraryStore();
    this.store.onChange(() => this.restore());
    this.syncing = Promise.resolve(); // restores, one after another
  }

  /** A Lab opened: serving's limits and the tasks' prompts, from the crate. */
  opened() {
    const { mod } = this.host;
    /** @type {import('./api/Limits').Limits} characters per row, tenants per batch */
    this.limits = mod.serveLimits();
    this.view.setMaxAdapters(this.limits.tenants - 1);
    this.view.setPrompts(mod.tasks());
    this.restore();
  }

  /**
   * The adapters kept in this browser into the library, and those deleted elsewhere out of it:
   * at open, and whenever another widget or tab changes what is kept. One at a time, so two
   * changes in a row never add a record twice.
   */
  restore() {
    this.syncing = this.syncing.then(async () => {
      if (!this.host.lab) return; // not open yet: opened() restores once the base is there to check against
      try {
        const { records, damaged } = await this.store.list();
        const ids = new Set(records.map((r) => r.id));
        for (const t of this.view.tenants.filter((t) => t.id && t.kept && !ids.has(t.id))) this.view.drop(t);
        const foreign = [];
        for (const r of records) {
          const shown = this.view.tenants.find((t) => t.id === r.id);
          if (shown) {
            shown.name = r.name;
            continue;
          }
          try {
            await this.host.lab.adapterInfo(r.bytes);
            this.view.add({ name: r.name, task: r.task, rank: r.rank, targets: r.targets, bytes: r.bytes, source: r.source, id: r.id, record: r, kept: true });
          } catch {
            foreign.push(r.name);
          }
        }
        this.view.render();
        const notes = [];
        if (foreign.length) notes.push(`Kept but not shown, as they do not fit this base: ${foreign.join(', ')}.`);
        if (damaged)
          notes.push(`${damaged} kept record${damaged > 1 ? 's' : ''} could not be read (damaged or edited by hand) and ${damaged > 1 ? 'are' : 'is'} left alone; "Forget all" clears them.`);
        if (notes.length) this.view.notice(notes.join(' '));
        await this.showUsage(records);
      } catch (e) {
        this.view.notice(`The adapters kept in this browser could not be read: ${e.message}.`);
      }
    });
    return this.syncing;
  }

  async showUsage(records = undefined) {
    records ??= (await this.store.list()).records;
    const { stored, estimate } = await this.store.usage(records);
    this.view.showStorage({ count: records.length, stored, estimate });
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

  /**
   * An adapter file into the library, checked against the base first (throws the reason); one
   * trained or imported is kept in this browser too, with what it is (`run`: {steps, before,
   * after} of the run that made it). A failure to keep it is said, and it stays in the library.
   */
  async add(bytes, name, source, run = undefined) {
    /** @type {import('./api/AdapterInfo').AdapterInfo} */
    const info = await this.host.lab.adapterInfo(bytes);
    const tenant = { name, task: info.task, rank: info.rank, targets: info.targets, bytes, source };
    if (source === 'demo') return this.view.add(tenant);
    /** @type {import('./library-store.js').AdapterRecord} */
    const record = {
      id: globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(36).slice(2)}`,
      name,
      bytes,
      task: info.task ?? null,
      rank: info.rank,
      alpha: info.alpha,
      targets: info.targets,
      steps: run?.steps ?? null,
      heldout_before: run?.before ?? null,
      heldout_after: run?.after ?? null,
      base_sha256: info.base_sha256,
      saved_at: new Date().toISOString(),
      source,
    };
    const added = this.view.add({ ...tenant, id: record.id, record });
    try {
      await this.store.put(record);
      added.kept = true;
    } catch (e) {
      added.kept = false;
      added.unkept = `"${name}" is not kept in this browser: ${e.message}. It stays in this library until the page closes; export it to keep it.`;
      this.view.notice(added.unkept);
    }
    this.view.render();
    await this.showUsage().catch(() => {});
    return added;
  }

  async rename(t) {
    if (!t.kept) return;
    try {
      await this.store.rename(t.id, t.name);
    } catch (e) {
      this.view.notice(`The new name is not kept: ${e.message}.`);
    }
  }

  async remove(t) {
    try {
      await this.store.remove(t.id);
      this.view.drop(t);
      await this.showUsage();
    } catch (e) {
      this.view.notice(`"${t.name}" could not be deleted: ${e.message}.`);
    }
  }

  async forgetAll() {
    try {
      await this.store.clear();
      for (const t of this.view.tenants.filter((t) => t.kept)) this.view.drop(t);
      this.view.notice('Forgot every adapter kept in this browser.');
      await this.showUsage();
    } catch (e) {
      this.view.notice(`Could not forget them: ${e.message}.`);
    }
  }

  /** Ask the browser to keep the library when space runs low: only ever from the reader's click. */
  async persist() {
    const storage = navigator.storage;
    if (!storage?.persist) return this.view.showPersisted('This browser cannot be asked to keep data.');
    const granted = await storage.persist().catch(() => false);
    this.view.showPersisted(granted ? 'The browser will keep them.' : 'The browser said no: it may clear them when space runs low (it often says yes once a site is bookmarked or installed).');
  }

  /**
   * Adapters the reader picked or dropped: .ftlab files, a PEFT adapter's .zip, or its
   * adapter_config.json with its adapter_model.safetensors. Each is checked; a refused one says
   * why and changes nothing.
   */
  async importFiles(files) {
    const refused = [];
    let imported = 0;
    try {
      await this.host.whenOpen();
    } catch (e) {
      return this.view.notice(`Not imported: the lab could not load (${e.message}).`);
    }
    const read = async (file) => new Uint8Array(await file.arrayBuffer());
    const config = files.find((f) => f.name === 'adapter_config.json');
    const weights = files.find((f) => f.name === 'adapter_model.safetensors');
    const jobs = files.filter((f) => f !== config && f !== weights).map((f) => ({ label: f.name, name: f.name.replace(/\.(ftlab|zip)$/i, ''), peft: /\.zip$/i.test(f.name), parts: [f] }));
    if (config && weights) jobs.push({ label: 'the PEFT adapter', name: 'imported PEFT adapter', peft: true, parts: [config, weights] });
    else if (config || weights) refused.push(`${(config ?? weights).name}: a PEFT adapter needs both adapter_config.json and adapter_model.safetensors`);
    for (const job of jobs) {
      try {
        const parts = await Promise.all(job.parts.map(read));
        const bytes = job.peft ? await this.host.lab.importPeft(...parts) : parts[0];
        const added = await this.add(bytes, job.name, 'imported');
        if (added.unkept) refused.push(added.unkept);
        imported++;
      } catch (e) {
        refused.push(`${job.label}: ${e.message}`);
      }
    }
    const said = imported ? `Imported ${imported} adapter${imported > 1 ? 's' : ''}.` : '';
    this.view.notice(refused.length ? `${said} Not imported — ${refused.join('; ')}`.trim() : said);
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
