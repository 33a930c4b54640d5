// The element's attributes: their names, the choices of the ones that are not numbers, and the
// `load` attribute's wait. The numeric ones (the run settings) are checked by the crate when a
// run starts, with their ranges (run/settings.rs); these are the page's own.

export const PANELS = ['data', 'train', 'memory', 'scale', 'serve'];
// The run settings an author sets as attributes, passed to the crate as written when a run
// starts: it fills the defaults and refuses a value out of range with the setting's name and
// range.
export const RUN_ATTRIBUTES = ['steps', 'batch', 'context', 'sample', 'seed'];
// Where the LoRA knobs start (else the crate's recipe for the page): adapter runs only.
export const KNOB_ATTRIBUTES = ['rank', 'targets'];
// Attributes that act as soon as they change (the run settings change what the knobs predict).
export const LIVE_ATTRIBUTES = ['task', 'panels', 'backend', ...RUN_ATTRIBUTES];
/** The attributes that set a widget up: what a settings link carries and embed.html reads from its query string. */
export const SETUP_ATTRIBUTES = ['task', 'panels', 'backend', ...RUN_ATTRIBUTES, ...KNOB_ATTRIBUTES, 'load'];
/**
 * Every attribute the element reads: those and where its files are, which a link never carries
 * (it would let a link load another site's WebAssembly into the page).
 */
export const ATTRIBUTES = [...SETUP_ATTRIBUTES, 'asset-base'];
/** Those whose property reads back as a number. */
export const NUMBER_ATTRIBUTES = [...RUN_ATTRIBUTES, 'rank'];

const BACKENDS = ['auto', 'cpu'];
// When the module and the base (a few MB) download.
const LOAD = ['visible', 'interaction', 'eager'];
// Data that is not a built-in task: the reader's own text, or the page's.
const OWN_DATA = ['text', 'page'];

/**
 * Why `value` is not a choice for attribute `name` ("task", "panels", "backend"), or null when
 * it is (or is absent, or cannot be checked yet: the tasks come from the module, `mod`).
 */
export function checkChoice(name, value, mod) {
  if (value == null) return null;
  if (name === 'backend' && !BACKENDS.includes(value)) return `backend="${value}" is not one of ${BACKENDS.join(', ')}: using auto.`;
  if (name === 'panels') {
    const unknown = value
      .split(',')
      .map((p) => p.trim())
      .filter((p) => !PANELS.includes(p));
    if (unknown.length) return `panels="${value}": ${unknown.map((p) => `"${p}"`).join(', ')} is not a panel (${PANELS.join(', ')}): showing them all.`;
  }
  if (name === 'task' && mod) {
    const choices = [...mod.tasks().map((t) => t.name), ...OWN_DATA];
    if (!choices.includes(value)) return `task="${value}" is not one of ${choices.join(', ')}: using ${mod.defaultTask()}.`;
  }
  return null;
}

/**
 * When `el` should load, by its `load` attribute: at once for "eager"; on the first press, key
 * or focus inside the widget for "interaction"; for "visible" (the default) once the widget
 * comes within a screen's height of the viewport. Until then the page has fetched only our
 * scripts, and `status` offers a "Load now" button. → {promise, cancel}: `cancel` stops waiting
 * (the widget left the page, or a call loads it now) and removes every listener it added.
 */
export function whenWanted(el, status) {
  let how = el.getAttribute('load') ?? 'visible';
  if (!LOAD.includes(how)) {
    status.error(new Error(`load="${how}" is not one of ${LOAD.join(', ')}: loading when visible.`));
    how = 'visible';
  }
  const events = ['pointerdown', 'keydown', 'focusin'];
  let seen = null;
  let removeOffer = () => {};
  /** @type {(value?: unknown) => void} */
  let resolve = () => {};
  const promise = new Promise((ok) => (resolve = ok));
  const cancel = () => {
    seen?.disconnect();
    for (const type of events) el.removeEventListener(type, go);
    removeOffer();
  };
  const go = () => {
    cancel();
    resolve();
  };
  if (how === 'eager') {
    resolve();
    return { promise, cancel };
  }
  const text = how === 'visible' ? 'The lab (a few MB: the module and the model) loads when you scroll to it.' : 'The lab (a few MB: the module and the model) loads when you use it.';
  removeOffer = status.offer(text, 'Load now', go);
  if (how === 'interaction') {
    for (const type of events) el.addEventListener(type, go);
  } else {
    seen = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && go(), { rootMargin: '100% 0px' });
    seen.observe(el);
  }
  return { promise, cancel };
}
