/** @type {import('@docusaurus/types').Config} */
const config = {
  title: 'Fine-tuning, in the page',
  url: 'https://example.com',
  baseUrl: '/',
  presets: [['classic', { docs: false, blog: false }]],
};

export default config;
