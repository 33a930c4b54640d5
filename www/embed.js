// embed.html's script: the widget alone, configured from the query string (a file of its own, so
// that a strict Content-Security-Policy without 'unsafe-inline' runs it).
import './finetune-lab.js';
const ALLOWED = ['task', 'steps', 'batch', 'context', 'panels', 'backend', 'sample', 'seed'];
const params = new URLSearchParams(location.search);
const lab = document.createElement('finetune-lab');
for (const name of ALLOWED) {
  const value = params.get(name);
  if (value !== null) lab.setAttribute(name, value.slice(0, 200));
}
document.body.append(lab);
