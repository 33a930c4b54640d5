// When things break the widget explains and offers a way back, and the page stays alive: the
// module missing, WebGPU failing to start, the GPU device lost in the middle of a run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, openPage, ready, runVia, inWorkers } from './helpers.mjs';

const SMALL = 'embed.html?steps=2&batch=2&context=32&sample=0&panels=train';
let env;

before(async () => {
  env = await setup({ webgpu: true });
});

after(() => env?.close());

test('module missing: "could not load the module", then Try again recovers', { timeout: 240_000 }, async () => {
  const wasm = (u) => u.pathname === '/pkg/finetune_lab_bg.wasm';
  const page = await openPage(env, SMALL, { allowErrors: [/status of 404/], routes: [[wasm, (r) => r.fulfill({ status: 404, body: 'not found' })]] });
  const widget = page.locator('finetune-lab');
  const alert = widget.locator('.error[role=alert]');
  await alert.waitFor();
  assert.match(await alert.textContent(), /could not load the module/);
  await page.unroute(wasm);
  await widget.getByRole('button', { name: 'Try again' }).click();
  await widget.locator('.backend[data-backend]').waitFor({ timeout: 180_000 });
  assert.ok(await alert.isHidden());
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('WebGPU granted but failing to start: the CPU path, and the label says why', { timeout: 240_000 }, async () => {
  // The page's probe gets the real adapter; the backend, in the Lab's worker, gets none.
  const noAdapter = () => {
    GPU.prototype.requestAdapter = () => Promise.resolve(null);
  };
  const page = await openPage(env, SMALL, { routes: [inWorkers(noAdapter)] });
  const widget = await ready(page, 0, 180_000);
  assert.match(await widget.locator('.backend').textContent(), /^CPU fallback: WebGPU could not start/);
  assert.match(await widget.locator('.backend-note').textContent(), /WebGPU failed to start/);
  const done = await runVia(widget, 'adapter');
  assert.equal(done.step, 2);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});

test('GPU device lost mid-run: reported, then Restart on CPU trains', { timeout: 420_000 }, async () => {
  // In the Lab's worker, keep every device it opens, and destroy them when the page says so.
  const destroyOnCall = () => {
    const real = GPUAdapter.prototype.requestDevice;
    const devices = [];
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const device = await real.apply(this, args);
      devices.push(device);
      return device;
    };
    new BroadcastChannel('finetune-lab-test').onmessage = () => devices.forEach((d) => d.destroy());
  };
  // A readback on the destroyed device can end in a panic inside burn (cubecl) before our
  // Result sees an error; the panic hook logs it. Allowed here, not required.
  const page = await openPage(env, SMALL, { routes: [inWorkers(destroyOnCall)], allowErrors: [/^panicked at .*readback/, /^unreachable$/] });
  const widget = await ready(page, 0, 180_000);
  assert.equal(await widget.locator('.backend').getAttribute('data-backend'), 'webgpu');
  const outcome = await widget.evaluate(async (el) => {
    const run = el.run('full', { steps: 50 });
    // Two seconds in, SwiftShader is still scoring the base model (tens of seconds).
    await new Promise((ok) => setTimeout(ok, 2000));
    new BroadcastChannel('finetune-lab-test').postMessage('destroy');
    return run.then(
      (d) => `finished: ${d.step}`,
      (e) => `failed: ${e.message}`,
    );
  });
  assert.match(outcome, /^failed: /);
  const alert = widget.locator('.error[role=alert]');
  assert.match(await alert.textContent(), /GPU device was lost|GPU device failed/);
  await widget.getByRole('button', { name: 'Restart on CPU' }).click();
  await widget.locator('.backend[data-backend="cpu"]').waitFor({ timeout: 120_000 });
  const done = await runVia(widget, 'adapter');
  assert.equal(done.step, 2);
  assert.deepEqual(page.problems(), []);
  await page.context().close();
});
