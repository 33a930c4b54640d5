// Registers <finetune-lab>. The one module of the package with a side effect: a plain page loads
// it with a module script; a bundled site imports it in the browser only (EMBED.md).
import { FinetuneLab } from './finetune-lab.js';

const defined = customElements.get('finetune-lab');
if (!defined) {
  customElements.define('finetune-lab', FinetuneLab);
} else if (defined !== FinetuneLab) {
  // A second copy of the package on the page (two versions, or one bundled and one from a CDN):
  // the first definition stays, and the widgets on the page are that copy's.
  console.warn(`finetune-lab: <finetune-lab> is already defined by another copy of the package; this one (${import.meta.url}) is not used.`);
}

export { FinetuneLab };
