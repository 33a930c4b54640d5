// embed.html's script: the widget alone, configured from the query string (a file of its own, so
// that a strict Content-Security-Policy without 'unsafe-inline' runs it).
import './define.js';
import { SETUP_ATTRIBUTES } from './lib/attributes.js';
const params = new URLSearchParams(location.search);
const lab = document.createElement('finetune-lab');
for (const name of SETUP_ATTRIBUTES) {
  const value = params.get(name);
  if (value !== null) lab.setAttribute(name, value.slice(0, 200));
}
document.body.append(lab);
