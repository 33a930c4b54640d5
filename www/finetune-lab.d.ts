// Types for <finetune-lab> (finetune-lab.js). EMBED.md says what each attribute, event and
// method does; a test keeps this file's members and the element's the same.

/** "full": every weight trains; "adapter": the base is frozen and a LoRA adapter trains. */
export type Mode = 'full' | 'adapter';

/** Which projections a LoRA adapter adapts: the LoRA paper's Wq, Wv, all of attention, or every linear layer. */
export type Targets = 'q,v' | 'attn' | 'all' | string | string[];

/** Run settings that override the attributes for one run; the crate checks each (ranges: EMBED.md). */
export interface RunSettings {
  steps?: number;
  batch?: number;
  context?: number;
  sample?: number;
  seed?: number;
  rank?: number;
  alpha?: number;
  targets?: Targets;
  lr?: number;
}

/** Bytes per category: what the memory model predicts, and what the device's allocator measured. */
export interface MemoryFigures {
  predicted: Record<string, number>;
  /** null where the backend has no allocator report. */
  measured: Record<string, number> | null;
  /** The allocator's readings the measured figures come from. */
  samples: unknown;
}

/** A time budget that set a run's length from its first steps' times. */
export interface Budget {
  seconds: number;
  warmup_steps: number;
  timed_steps: number;
  min_steps: number;
  max_steps: number;
}

/** Whether a sample follows its built-in task's format. */
export interface FormatVerdict {
  follows: boolean;
  format: string;
  /** Why not, when it does not. */
  why?: string;
}

export interface FinetuneProgressDetail {
  mode: Mode;
  step: number;
  steps: number;
  /** true while a time budget's first steps are being timed (`steps` is then the budget's least). */
  timing: boolean;
  loss: number;
  ms_per_step: number;
  memory: MemoryFigures;
}

export interface FinetuneDoneDetail {
  mode: Mode;
  step: number;
  steps: number;
  budget: Budget | null;
  params_trainable: number;
  /** null when no step ran; NaN when training diverged. */
  loss: number | null;
  ms_per_step: number | null;
  memory: MemoryFigures | null;
  heldout_before: number | null;
  heldout_after: number | null;
  sample_after: string | null;
  format_after: FormatVerdict | null;
  stopped: boolean;
  /** The rank when the run is one of a rank sweep's, else null. */
  sweep_rank: number | null;
}

export interface SweepPoint {
  rank: number;
  params: number;
  heldout: number;
}

export interface FinetuneSweepDoneDetail {
  points: SweepPoint[];
  /** true when Stop ended the sweep before its last rank. */
  stopped: boolean;
}

/** A tenant: 0 or "base" for the base alone, a tenant's name in the library, or its place there from 1. */
export type Tenant = number | string;

export interface ServeRequest {
  tenant: Tenant;
  prompt: string;
}

export interface ServeOutput {
  tenant: Tenant;
  prompt: string;
  text: string;
}

export interface FinetuneServeDoneDetail {
  outputs: ServeOutput[];
  chars: number;
}

export interface FinetuneLabEventMap {
  'finetune-progress': CustomEvent<FinetuneProgressDetail>;
  'finetune-done': CustomEvent<FinetuneDoneDetail>;
  'finetune-sweep-done': CustomEvent<FinetuneSweepDoneDetail>;
  'finetune-serve-done': CustomEvent<FinetuneServeDoneDetail>;
}

export class FinetuneLab extends HTMLElement {
  /** Where the package's files are when a host moved them; set before the first widget loads. */
  static assetBase: string | null;

  // Attributes, reflected as properties (null when absent; setting null removes the attribute).
  /** "records" | "qa" | "verse" (the built-in tasks), "text" (the reader's own) or "page". */
  task: string | null;
  /** Comma-separated: data, train, memory, scale, serve. */
  panels: string | null;
  backend: 'auto' | 'cpu' | null;
  /** The run settings read back as numbers (null when absent or not a number). */
  steps: number | null;
  batch: number | null;
  context: number | null;
  sample: number | null;
  seed: number | null;
  rank: number | null;
  targets: string | null;
  load: 'visible' | 'interaction' | 'eager' | null;
  /** The `asset-base` attribute. */
  assetBase: string | null;

  /** Fine-tune; loads the lab first if it has not loaded. Resolves to the finetune-done detail; rejects with the reason (also shown). */
  run(mode: Mode, settings?: RunSettings): Promise<FinetuneDoneDetail>;
  /** The same adapter run at r = 1, 2, 4, 8, 16; resolves to the points. */
  sweep(): Promise<SweepPoint[]>;
  /** Stop after the step in flight (a sweep ends there). */
  stop(): void;
  /** Clear both runs' results; false (refused) while a run is going. */
  reset(message?: string): boolean;
  /** Serve `requests` together, `chars` characters each; loads the lab and the demo tenants first if need be. */
  serve(requests: ServeRequest[], options?: { chars?: number }): Promise<ServeOutput[]>;
  /** A URL of embed.html that opens a widget set up as this one is now. */
  settingsURL(): string;

  addEventListener<K extends keyof FinetuneLabEventMap>(type: K, listener: (this: FinetuneLab, event: FinetuneLabEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: FinetuneLab, event: HTMLElementEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof FinetuneLabEventMap>(type: K, listener: (this: FinetuneLab, event: FinetuneLabEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: FinetuneLab, event: HTMLElementEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'finetune-lab': FinetuneLab;
  }
}
