import { defineConfig } from 'vitepress';

export default defineConfig({
  title: 'Fine-tuning, in the page',
  vue: {
    template: {
      compilerOptions: {
        // <finetune-lab> is a custom element, not a Vue component: Vue leaves it to the browser.
        isCustomElement: (tag) => tag === 'finetune-lab',
      },
    },
  },
  vite: {
    // The dev server pre-bundles dependencies into one file and would leave the widget's
    // WebAssembly, weights and worker (each found beside its module) behind.
    optimizeDeps: { exclude: ['finetune-lab'] },
  },
});
