// The WebAssembly module trains through Dawn, the WebGPU inside Chromium, in Node (bench/dawn.mjs
// with npm's `webgpu`), here on SwiftShader's Vulkan driver from Debian's chromium-common: the
// run takes the WebGPU path, its loss curve follows the CPU path's, and its WebGPU calls per step
// are counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

test('the module trains through Dawn and follows the CPU path', { timeout: 300_000 }, () => {
  assert.ok(existsSync(ICD), `${ICD} is missing: apt-get install chromium (its chromium-common ships SwiftShader's Vulkan driver)`);
  const out = execFileSync(process.execPath, [`${ROOT}bench/dawn.mjs`, '--icd', ICD, '--steps', '3', '--warmup', '1', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const report = JSON.parse(out.trim().split('\n').at(-1));
  assert.equal(report.backend, 'webgpu');
  assert.match(report.adapter.description, /SwiftShader/);
  for (const r of report.results) {
    console.log(
      `# Dawn ${r.mode} ${r.batch} x ${r.context}: ${r.ms_per_step.median.toFixed(0)} ms/step, ${r.dispatches} dispatches, ${r.submits} submits, ${r.readbacks} readbacks; ${r.max_diff_from_cpu.toExponential(2)} from the CPU path`,
    );
    assert.equal(r.losses.length, 4);
    assert.ok(r.losses.every(Number.isFinite), JSON.stringify(r.losses));
    assert.ok(r.max_diff_from_cpu <= 1e-4, `${r.mode}: ${r.max_diff_from_cpu}`);
    assert.ok(r.dispatches > 0 && r.readbacks > 0 && r.readbacks <= 1, JSON.stringify(r)); // one readback a step at most
  }
});
