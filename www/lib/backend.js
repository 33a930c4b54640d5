// Which backend to train on, and the label that says so. WebGPU when the browser grants an
// adapter (a software fallback one too: headless Chromium only has SwiftShader), else the CPU.

let detected = null;

/**
 * → {kind: "webgpu"|"cpu", label, note?}. `preference` is the element's `backend` attribute:
 * "cpu" forces the CPU path; anything else ("auto") asks for WebGPU. Detected once per page.
 */
export function detectBackend(preference = 'auto') {
  if (preference === 'cpu') return Promise.resolve({ kind: 'cpu', label: 'CPU (backend="cpu")' });
  detected ??= probe();
  return detected;
}

async function probe() {
  const cpu = (why) => ({ kind: 'cpu', label: 'CPU fallback: no WebGPU', note: why });
  if (!navigator.gpu) return cpu('This browser has no WebGPU (navigator.gpu is missing).');
  let adapter;
  try {
    adapter = await navigator.gpu.requestAdapter();
  } catch (e) {
    return cpu(`The WebGPU adapter request failed: ${e.message}`);
  }
  if (!adapter) return cpu('The browser offers WebGPU but granted no adapter (blocklisted or disabled).');
  // Chromium has adapter.info; older builds had requestAdapterInfo() and adapter.isFallbackAdapter.
  const older = /** @type {any} */ (adapter);
  const info = adapter.info ?? (await older.requestAdapterInfo?.().catch(() => null)) ?? {};
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || info.description || 'unnamed adapter';
  const fallback = Boolean(older.isFallbackAdapter || info.isFallbackAdapter);
  return {
    kind: 'webgpu',
    label: `WebGPU: ${name}${fallback ? ' (software fallback adapter)' : ''}`,
    fallback,
    // A software adapter emulates the GPU on the CPU and can be slower than our CPU path.
    note: fallback ? 'This WebGPU adapter is software (no GPU found): it can be much slower than the CPU path.' : undefined,
  };
}

/** The label after WebGPU was found but could not start. */
export function gpuFailed(error) {
  return { kind: 'cpu', label: 'CPU fallback: WebGPU could not start', note: `WebGPU failed to start, so this runs on the CPU: ${error.message ?? error}` };
}

/** Errors that mean the device (or the wasm instance) is gone, not that the input was bad. */
export function isDeviceFailure(error) {
  return error instanceof WebAssembly.RuntimeError || /device|lost|gpu|webgpu|unreachable|memory access/i.test(String(error?.message ?? error));
}
