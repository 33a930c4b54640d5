import DefaultTheme from 'vitepress/theme';

export default {
  extends: DefaultTheme,
  enhanceApp() {
    // `vitepress build` renders each page in Node, which has no custom elements: register the
    // element in the browser only.
    if (!import.meta.env.SSR) import('finetune-lab/define');
  },
};
