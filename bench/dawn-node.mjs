// Dawn (npm's `webgpu`) in Node as a page's `navigator.gpu`, and our module loaded from www/pkg
// onto it, with the browser benchmark's call counter: what bench/dawn.mjs and
// bench/kernel-times.mjs share.

import { readFileSync } from 'node:fs';

const ROOT = new URL('../', import.meta.url);

/**
 * Dawn as `navigator.gpu`, on the Vulkan driver that `icd` names if given (without a GPU,
 * SwiftShader's, which Debian's chromium-common ships: Dawn refuses Mesa 22.3's lavapipe for a
 * missing feature). Returns Dawn's GPU object.
 */
export async function dawnAsNavigator(icd) {
  // Read by the Vulkan loader when Dawn first creates an instance, so set before `create()`.
  if (icd) process.env.VK_ICD_FILENAMES = icd;
  process.env.XDG_RUNTIME_DIR ??= '/tmp'; // Dawn's Linux window-system probe asks for it
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create([]);
  // wgpu finds `navigator.gpu` as a page has it: through a `Window` in the global scope, whose
  // getters web-sys calls from the prototypes. Node has neither, so give it both.
  class Navigator {
    get gpu() {
      return gpu;
    }
  }
  const navigator = new Navigator();
  class Window {
    get navigator() {
      return navigator;
    }
  }
  Object.assign(globalThis, { Window, Navigator });
  Object.setPrototypeOf(globalThis, Window.prototype);
  return gpu;
}

/**
 * The browser benchmark's call counter (bench/webgpu-calls.js) on Dawn's prototypes, as on a
 * page's. Returns `stepDone(step, steps)`, which closes a step's record as a page's
 * `bench:step` event does.
 */
export async function countCalls() {
  const events = new EventTarget();
  Object.assign(globalThis, { self: globalThis, addEventListener: events.addEventListener.bind(events) });
  await import('./webgpu-calls.js');
  return (step, steps) => events.dispatchEvent(new CustomEvent('bench:step', { detail: { step, steps } }));
}

/** The module built in www/pkg (scripts/build-wasm.sh), initialised, and the shipped base model. */
export async function loadModule() {
  const mod = await import(new URL('www/pkg/finetune_lab.js', ROOT));
  await mod.default({ module_or_path: readFileSync(new URL('www/pkg/finetune_lab_bg.wasm', ROOT)) });
  const base = new Uint8Array(readFileSync(new URL('www/base/tiny.ftlab', ROOT)));
  return { mod, base };
}
