// The two ways to fine-tune, as every panel names them: `mode` is the crate's name ("full",
// "adapter"), `title` heads a column or a legend, `name` reads inside a sentence.

export const MODES = [
  { mode: 'full', title: 'Full fine-tuning', name: 'full fine-tuning' },
  { mode: 'adapter', title: 'LoRA adapter', name: 'LoRA adapter' },
];

/** The entry for `mode`. */
export function modeOf(mode) {
  return MODES.find((m) => m.mode === mode);
}
