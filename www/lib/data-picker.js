// What to fine-tune on: a built-in task, the reader's own text (typed, pasted or a file), or
// the text of the page the widget sits in. Says why before a run would (empty, huge, a binary
// file by the crate's own rule); the crate checks the rest (too short) with its own message.

import { h, fill } from './dom.js';
import { int } from './format.js';

export class DataPicker {
  /**
   * tasks: [{name, title, description}] from the crate. `name` picks the initial choice.
   * maxChars: the most characters of a text a run uses (the crate's cap): longer ones are cut.
   * notText(text): the crate's reason a text is a binary file, or undefined.
   */
  constructor(tasks, name, maxChars, notText) {
    this.tasks = tasks;
    this.maxChars = maxChars;
    this.notText = notText;
    this.group = `data-${Math.random().toString(36).slice(2)}`; // radio group name, unique per widget
    const radio = (value, title, description) =>
      h(
        'label',
        { class: 'choice' },
        h('input', { type: 'radio', name: this.group, value, onchange: () => this.sync() }),
        h('span', {}, h('b', {}, title), description && h('small', {}, description)),
      );
    this.text = h('textarea', { id: 'own-text', rows: 6, spellcheck: 'false', placeholder: 'Paste or type a few thousand characters: notes, a story, code…', oninput: () => this.capTyped() });
    this.file = h('input', { id: 'own-file', type: 'file', accept: '.txt,.md,.csv,.json,.html,.js,.py,.rs,text/*', onchange: () => this.readFile() });
    this.own = h(
      'div',
      { class: 'own', hidden: true },
      h('label', { for: 'own-text' }, 'Your text'),
      this.text,
      h('label', { for: 'own-file', class: 'file-label' }, 'Or load a text file: '),
      this.file,
    );
    this.message = h('p', { class: 'note', 'aria-live': 'polite' });
    this.notes = h('ul', { class: 'notes', 'aria-live': 'polite' });
    this.el = h(
      'fieldset',
      { class: 'data' },
      h('legend', {}, 'Fine-tune on'),
      tasks.map((t) => radio(t.name, t.title, t.description)),
      radio('text', 'Your own text', 'type, paste or load a file'),
      radio('page', "This page's text", 'the lesson around this widget'),
      this.own,
      this.message,
      this.notes,
    );
    this.select(name);
  }

  select(name) {
    const radios = [...this.el.querySelectorAll('input[type=radio]')];
    (radios.find((r) => r.value === name) ?? radios[0]).checked = true;
    this.sync();
  }

  get value() {
    return this.el.querySelector('input[type=radio]:checked')?.value;
  }

  sync() {
    this.own.hidden = this.value !== 'text';
    this.say('');
  }

  say(text) {
    this.message.textContent = text;
  }

  /** The notes the crate returned about the data (cut, unknown characters…). */
  showNotes(notes) {
    fill(
      this.notes,
      (notes ?? []).map((n) => h('li', {}, n)),
    );
  }

  /**
   * → {key, options: {task} | {text}, label}, or throws an Error whose message the widget shows.
   * `key` identifies the data, so a cached "before" sample is reused only for the same data.
   */
  choice() {
    const value = this.value;
    if (value === 'page') {
      const text = this.cap(pageText(document.body)).text;
      if (!text.trim()) throw new Error('This page has no readable text outside the widget to train on.');
      return { key: `page:${text.length}:${hash(text)}`, options: { text }, label: "this page's text" };
    }
    if (value === 'text') {
      const text = this.text.value;
      if (!text.trim()) throw new Error('Your text is empty: type or paste some text, or load a text file.');
      return { key: `text:${text.length}:${hash(text)}`, options: { text }, label: 'your text' };
    }
    const task = this.tasks.find((t) => t.name === value);
    return { key: `task:${value}`, options: { task: value }, label: task?.title ?? value };
  }

  cap(text) {
    return text.length > this.maxChars ? { text: text.slice(0, this.maxChars), cut: text.length } : { text, cut: 0 };
  }

  capTyped() {
    const { text, cut } = this.cap(this.text.value);
    if (cut) this.text.value = text;
    this.say(cut ? `That was ${int(cut)} characters: only the first ${int(this.maxChars)} are kept.` : '');
  }

  async readFile() {
    const file = this.file.files?.[0];
    if (!file) return;
    // Read a little more than the cap allows: UTF-8 needs up to 4 bytes per character.
    const bytes = new Uint8Array(await file.slice(0, this.maxChars * 4).arrayBuffer());
    // UTF-16 with a byte-order mark (Windows editors save it) is text despite its NUL bytes.
    const encoding = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : 'utf-8';
    const decoded = new TextDecoder(encoding).decode(bytes);
    const why = this.notText(decoded);
    if (why) {
      this.file.value = '';
      this.say(`"${file.name}": ${why}`);
      return;
    }
    const { text, cut } = this.cap(decoded);
    this.text.value = text;
    const size = file.size > bytes.length || cut ? ` It was cut to the first ${int(this.maxChars)} characters.` : '';
    this.say(`Loaded "${file.name}" (${int(text.length)} characters).${size}`);
  }
}

/** The readable text of the page, skipping every <finetune-lab>, scripts and hidden elements, trimmed. */
export function pageText(root) {
  const skip = new Set(['finetune-lab', 'script', 'style', 'template', 'noscript', 'svg']);
  // innerText of an element that is not rendered is its whole text content: skip those first.
  const hidden = (el) => (el.checkVisibility ? !el.checkVisibility({ visibilityProperty: true }) : getComputedStyle(el).display === 'none');
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.nodeValue;
    if (node.nodeType !== Node.ELEMENT_NODE || skip.has(node.localName) || hidden(node)) return '';
    // innerText keeps the layout's line breaks and skips hidden text; use it where no widget is inside.
    if (!node.querySelector('finetune-lab')) return node.innerText ?? node.textContent;
    return [...node.childNodes].map(walk).join('\n');
  };
  return walk(root)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** A short fingerprint for cache keys (not security). */
function hash(text) {
  let x = 2166136261;
  for (let i = 0; i < text.length; i++) x = Math.imul(x ^ text.charCodeAt(i), 16777619);
  return (x >>> 0).toString(36);
}
