// Registers <finetune-lab> as a side effect (define.js); the class is the package's main export.
export { FinetuneLab } from './finetune-lab.js';
