// The WebAssembly module trains through Dawn, the WebGPU inside Chromium, in Node (bench/dawn.mjs
// with npm's `webgpu`), here on SwiftShader's Vulkan driver from Debian's chromium-common: the
// run takes the WebGPU path, its loss curve follows the CPU path's, and its WebGPU calls per step
// are counted; a step replayed kernel by kernel (bench/kernel-times.mjs) accounts for every
// dispatch; every shader compiles there into a pipeline, each timed (bench/compile-times.mjs); and
// the base's sample runs on a copy on the CPU while the Lab's warm-up leaves a run's first step
// nothing to compile (bench/warm-up.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Run one of bench/'s Dawn scripts on SwiftShader with `args` and `--json`: its report, the last line it prints. */
function benchReport(script, ...args) {
  const out = execFileSync(process.execPath, [`${ROOT}bench/${script}`, '--icd', ICD, ...args, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out.trim().split('\n').at(-1));
}

test('the module trains through Dawn and follows the CPU path', { timeout: 300_000 }, () => {
  assert.ok(existsSync(ICD), `${ICD} is missing: apt-get install chromium (its chromium-common ships SwiftShader's Vulkan driver)`);
  const report = benchReport('dawn.mjs', '--steps', '3', '--warmup', '1');
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

test('a step replayed kernel by kernel accounts for every dispatch', { timeout: 300_000 }, () => {
  const report = benchReport('kernel-times.mjs', '--repeats', '1');
  const top = report.kernels.slice(0, 3).map((k) => `${k.name} ${((100 * k.ms) / report.ms).toFixed(0)}%`);
  console.log(`# Dawn ${report.mode} step replayed kernel by kernel: ${report.dispatches} dispatches, ${report.ms.toFixed(0)} ms; ${top.join(', ')}`);
  assert.ok(Number.isFinite(report.loss), JSON.stringify(report));
  assert.equal(
    report.kernels.reduce((n, k) => n + k.dispatches, 0),
    report.dispatches,
  );
  // Full fine-tuning's q, k and v run as one operation on a software adapter.
  assert.ok(
    report.kernels.some((k) => k.name === 'shaders/matmul_three.wgsl'),
    JSON.stringify(report.kernels),
  );
  assert.ok(
    report.kernels.every((k) => k.ms > 0 && k.largest <= k.ms),
    JSON.stringify(report.kernels),
  );
});

test('every shader compiles through Dawn, each timed', { timeout: 300_000 }, () => {
  const report = benchReport('compile-times.mjs', '--repeats', '1');
  const shaders = readdirSync(`${ROOT}shaders`).filter((f) => f.endsWith('.wgsl'));
  assert.deepEqual(report.results.map((r) => `${r.shader}.wgsl`).sort(), shaders.sort());
  assert.ok(
    report.results.every((r) => r.ms > 0),
    JSON.stringify(report.results),
  );
  const slowest = [...report.results].sort((a, b) => b.ms - a.ms).slice(0, 3);
  console.log(
    `# Dawn compiles ${shaders.length} shaders in ${report.results.reduce((t, r) => t + r.ms, 0).toFixed(0)} ms; slowest ${slowest.map((r) => `${r.shader} ${r.ms.toFixed(0)} ms`).join(', ')}`,
  );
});

test("the base's sample runs on the CPU, and the Lab's warm-up leaves a run's first step nothing to compile", { timeout: 300_000 }, () => {
  const [cold, warm] = [benchReport('warm-up.mjs', '--steps', '2', '--warm-up', 'none'), benchReport('warm-up.mjs', '--steps', '2')];
  const { chars, ms, dispatches, readbacks } = cold.sampling;
  console.log(`# Dawn scoring the base: held-out loss ${cold.heldout_ms.toFixed(0)} ms, ${chars}-character sample ${ms.toFixed(0)} ms (${dispatches} dispatches, ${readbacks} readbacks)`);
  assert.ok(chars > 0 && readbacks > 0, 'the sample reads the model back');
  assert.equal(dispatches, 0, 'nothing of the sample runs on the GPU');
  const first = (r) => `${r.steps[0].ms.toFixed(0)} ms, ${r.steps[0].pipelines_created} pipelines created`;
  const at = (r) => `${r.first_step_at_ms.toFixed(0)} ms after the Lab opened`;
  console.log(`# Dawn first adapter step after scoring the base: ${first(cold)}, ${at(cold)}; with a warm-up during the scoring (${warm.warm_up_ms.toFixed(0)} ms) ${first(warm)}, ${at(warm)}`);
  assert.ok(cold.steps[0].pipelines_created > 0, JSON.stringify(cold));
  assert.equal(warm.steps[0].pipelines_created, 0, JSON.stringify(warm));
  assert.ok(
    [cold, warm].every((r) => r.steps[1].pipelines_created === 0),
    'a second step compiles nothing either way',
  );
});
