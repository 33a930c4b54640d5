// The widget's status line (polite live region + progress bar) and its error box (an alert with
// recovery buttons). Every message a reader needs goes through here, so none is lost in a
// console.

import { h } from './dom.js';
import { bytes } from './format.js';

export class Status {
  constructor() {
    this.text = h('span', { class: 'status-text' }, 'Loading…');
    this.progress = h('progress', { max: 1, 'aria-label': 'Progress' });
    this.line = h('div', { class: 'status', role: 'status', 'aria-live': 'polite' }, this.text, this.progress);
    this.errorText = h('p', { class: 'error-text' });
    this.actions = h('div', { class: 'recover' });
    this.box = h('div', { class: 'error', role: 'alert', hidden: true }, this.errorText, this.actions);
    this.downloads = {};
  }

  /** `progress` 0..1, null for "busy, length unknown", undefined to leave the bar as it is. */
  say(text, progress) {
    this.text.textContent = text;
    if (progress === null) this.progress.removeAttribute('value');
    else if (progress !== undefined) this.progress.value = progress;
  }

  /** Before the lab loads: why it has not, and a button that loads it now. Returns a remover. */
  offer(text, label, onPress) {
    const button = h('button', { type: 'button', class: 'load-now', onclick: onPress }, label);
    this.say(text, 0);
    this.text.append(' ', button);
    return () => button.remove();
  }

  /** Shared download progress from wasm.js: {what: "module"|"base", got, total}. */
  download({ what, got, total }) {
    this.downloads[what] = { got, total };
    const all = Object.entries(this.downloads);
    const parts = all.map(([w, d]) => `${w === 'base' ? 'base model' : 'module'} ${bytes(d.got)}${d.total ? ` of ${bytes(d.total)}` : ''}`);
    const known = all.every(([, d]) => d.total);
    const sum = (key) => all.reduce((a, [, d]) => a + d[key], 0);
    this.say(`Downloading: ${parts.join(' · ')}`, known ? sum('got') / sum('total') : null);
  }

  /** Show an error; `buttons` are recovery actions ([] for bad input: the message is enough). */
  error(e, buttons = []) {
    this.errorText.textContent = e?.message ?? String(e);
    this.actions.replaceChildren(...buttons);
    this.box.hidden = false;
  }

  hideError() {
    this.box.hidden = true;
  }
}
