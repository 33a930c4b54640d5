// Checkpoint downloads: the bytes a tenant would store after each run, as real files with their
// real sizes (a whole model for full fine-tuning, the adapter alone for LoRA), and each as the
// .zip of its Hugging Face directory (a transformers model, a PEFT adapter), made on request.

import { h, fill } from './dom.js';
import { bytes, int } from './format.js';

const FILES = {
  full: { title: 'Full model file', name: 'finetuned-full.ftlab', hf: 'transformers model', why: 'every weight: one whole copy per tenant', when: 'after a full run' },
  adapter: { title: 'Adapter file', name: 'finetuned-adapter.ftlab', hf: 'PEFT adapter', why: 'only the LoRA matrices: the base is shared', when: 'after an adapter run' },
};

/** Hand `data` to the reader as a download named `name`. */
export function saveFile(data, name, type = 'application/octet-stream') {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // after the browser has started saving it
}

/**
 * `data` (a model or adapter file) as the .zip of its Hugging Face directory, made by the
 * element's Lab and saved as `name`; a failure is said through `say`.
 */
export async function saveHuggingFaceZip(host, data, name, say) {
  try {
    await host.whenOpen();
    saveFile(await host.lab.huggingFaceZip(data), name, 'application/zip');
  } catch (e) {
    say(`Not exported: ${e.message}.`);
  }
}

export class Downloads {
  /** onHf(data, name): the .zip of `data`'s Hugging Face directory, saved as `name`. */
  constructor(onHf) {
    this.onHf = onHf;
    this.urls = {}; // mode → object URL, revoked when replaced
    this.list = h('ul', { class: 'downloads' });
    this.el = h('div', {}, this.list);
    this.render();
  }

  /** bytes: the Uint8Array from session.checkpoint(). */
  set(mode, data) {
    this.revoke(mode);
    this.urls[mode] = { url: URL.createObjectURL(new Blob([data], { type: 'application/octet-stream' })), size: data.length, data };
    this.render();
  }

  reset() {
    for (const mode of Object.keys(this.urls)) this.revoke(mode);
    this.render();
  }

  revoke(mode) {
    if (this.urls[mode]) URL.revokeObjectURL(this.urls[mode].url);
    delete this.urls[mode];
  }

  render() {
    fill(
      this.list,
      Object.entries(FILES).map(([mode, f]) => {
        const file = this.urls[mode];
        if (!file) return h('li', { class: mode }, h('span', { class: 'muted' }, `${f.title}: ${f.when}.`));
        return h(
          'li',
          { class: mode },
          h('a', { href: file.url, download: f.name, class: 'button-link', dataset: { mode } }, `Download ${f.title.toLowerCase()}`),
          ' ',
          h('span', { dataset: { figure: `checkpoint_${mode}_bytes`, value: String(file.size) } }, `${bytes(file.size)} (${int(file.size)} bytes)`),
          h('small', {}, ` — ${f.why}`),
          ' ',
          h('button', { type: 'button', class: 'export-hf', dataset: { mode }, onclick: () => this.onHf(file.data, f.name.replace('.ftlab', '-hf.zip')) }, `As a ${f.hf} (.zip)`),
        );
      }),
    );
  }
}
