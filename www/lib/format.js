// Number formatting shared by the panels. Bytes, seconds and medians are the crate's own
// (decimal units, as the lesson writes "350 GB"), so the page and the CLI print the same.

let crate = null;

/** Called once the wasm module is loaded: its `formatBytes`, `formatSeconds` and `median`. */
export function useCrateFormats(exports) {
  crate = exports;
}

export function bytes(n) {
  if (n == null || !Number.isFinite(n)) return '—';
  return crate ? crate.formatBytes(n) : `${int(n)} B`;
}

/** The same figure in whole GB with thousands separators, as the lesson gives it: "3,500 GB". */
export function gigabytes(n) {
  return `${int(Math.round(n / 1e9))} GB`;
}

/** "3.5 TB (3,500 GB)" from a terabyte up; plain "350 GB" below. */
export function bytesWithGb(n) {
  return n >= 1e12 ? `${bytes(n)} (${gigabytes(n)})` : bytes(n);
}

export function int(n) {
  return Math.round(n).toLocaleString('en-US');
}

export function percent(part, whole) {
  const p = (100 * part) / whole;
  return `${p >= 10 ? p.toFixed(0) : p >= 0.1 ? p.toFixed(1) : p.toPrecision(2)}%`;
}

export function ms(n) {
  return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** "5.4 ms", "50.0 s", "4.2 min": the crate's format_seconds. */
export function seconds(s) {
  return crate.formatSeconds(s);
}

export function loss(x) {
  return Number.isFinite(x) ? x.toFixed(3) : String(x);
}

/** A tenant's name as a file name's stem: anything but letters, digits, dots and dashes becomes a dash. */
export function fileStem(name) {
  return name.replace(/[^\w.-]+/g, '-');
}

/** The crate's median, as the CLI's reports take it. */
export function median(values) {
  return crate.median(values);
}
