// The reader's adapters kept in this browser, in IndexedDB: a record (the file's bytes and what
// it is) is written in one transaction, so a tab closed or killed mid-save leaves it whole or
// absent, never half-written, which files in the origin's private file system (OPFS) would only
// promise with a journal of our own. Every widget of an origin, in any tab, shares the one
// database; a BroadcastChannel tells the others when it changed. Nothing is opened, so nothing
// is created, until there is something to keep or the database already exists.

const NAME = 'finetune-lab';
const STORE = 'adapters';
const CHANNEL = 'finetune-lab-library';

/**
 * @typedef {{id: string, name: string, bytes: Uint8Array, task: string | null, rank: number, alpha: number,
 *   targets: string[], steps: number | null, heldout_before: number | null, heldout_after: number | null,
 *   base_sha256: string, saved_at: string, source: 'trained' | 'imported'}} AdapterRecord
 */

/** An IndexedDB request or transaction as a promise. */
function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = request.oncomplete = () => resolve(request.result);
    request.onerror = request.onabort = () => reject(request.error ?? new Error('the browser aborted the storage transaction'));
  });
}

/** A storage failure in the reader's words: full, or denied (a private window, blocked third-party storage). */
export function storageMessage(error) {
  const name = error?.name ?? '';
  if (name === 'QuotaExceededError') return "the browser's storage for this site is full: delete an adapter or two, or export and forget them";
  if (name === 'SecurityError' || name === 'InvalidStateError' || !globalThis.indexedDB)
    return 'this browser does not let the page keep data here (a private window, or storage blocked for embedded pages)';
  return error?.message ?? String(error);
}

/** Whether a stored value is a record we can use: a hand-edited or damaged one is reported, not loaded. */
function usable(r) {
  return r && typeof r.id === 'string' && typeof r.name === 'string' && r.bytes instanceof Uint8Array && r.bytes.length > 0 && Number.isInteger(r.rank);
}

export class LibraryStore {
  constructor() {
    this.db = null; // IDBDatabase, opened on first need
    this.channel = globalThis.BroadcastChannel ? new BroadcastChannel(CHANNEL) : null;
  }

  /** Call `fn` when another widget or tab changed the library. */
  onChange(fn) {
    if (this.channel) this.channel.onmessage = () => fn();
  }

  /** Whether the database exists already (asked without creating it). */
  async exists() {
    if (this.db) return true;
    if (!globalThis.indexedDB) return false;
    const list = await indexedDB.databases?.();
    return list ? list.some((d) => d.name === NAME) : false;
  }

  async open() {
    if (this.db) return this.db;
    try {
      const request = indexedDB.open(NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'id' });
      this.db = await done(request);
    } catch (e) {
      throw new Error(storageMessage(e));
    }
    this.db.onversionchange = () => (this.db.close(), (this.db = null));
    return this.db;
  }

  /** One transaction on the store; its writes land together or not at all. */
  async transact(mode, work) {
    const tx = (await this.open()).transaction(STORE, mode);
    let result;
    try {
      result = work(tx.objectStore(STORE));
      await done(tx);
    } catch (e) {
      if (!tx.error) tx.abort();
      throw new Error(storageMessage(e));
    }
    if (mode === 'readwrite') this.channel?.postMessage('changed');
    return result instanceof IDBRequest ? result.result : result;
  }

  /** {records, damaged}: every usable record oldest first, and how many stored values were not. */
  async list() {
    if (!(await this.exists())) return { records: [], damaged: 0 };
    const all = await this.transact('readonly', (store) => store.getAll());
    const records = all.filter(usable).sort((a, b) => String(a.saved_at).localeCompare(String(b.saved_at)));
    return { records, damaged: all.length - records.length };
  }

  /** @param {AdapterRecord} record */
  put(record) {
    return this.transact('readwrite', (store) => store.put(record));
  }

  async rename(id, name) {
    await this.transact('readwrite', (store) => {
      const get = store.get(id);
      get.onsuccess = () => get.result && store.put({ ...get.result, name });
    });
  }

  remove(id) {
    return this.transact('readwrite', (store) => store.delete(id));
  }

  /** Forget every record, and damaged values with them. */
  clear() {
    return this.transact('readwrite', (store) => store.clear());
  }

  /** The bytes our records hold, and the browser's own estimate for the origin ({usage, quota}, when it gives one). */
  async usage(records) {
    const stored = records.reduce((n, r) => n + r.bytes.length, 0);
    const estimate = await navigator.storage?.estimate?.().catch(() => null);
    return { stored, estimate: estimate ?? null };
  }

  close() {
    this.channel?.close();
    this.db?.close();
    this.db = null;
  }
}
