// The scale panel runs the crate's memory model in the page: for the same question its figures
// must equal the native CLI's `finetune-lab scale --json`, and the lesson's figures must be
// readable at the slider's marks.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { setup, openPage, shot } from './helpers.mjs';

const TARGET = process.env.CARGO_TARGET_DIR ?? `${homedir()}/.cache/finetune-lab/target`;
const CLI = process.env.FINETUNE_LAB_BIN ?? `${TARGET}/debug/finetune-lab`;

let env;
let page;
let scale;

before(async () => {
  env = await setup({ webgpu: false });
  page = await openPage(env, 'embed.html?panels=scale&backend=cpu');
  // The panel needs the module only, not the base weights or a backend.
  scale = page.locator('finetune-lab section[data-panel="scale"]');
  await scale.locator('table.scale-table').waitFor({ timeout: 120_000 });
});

after(() => env?.close());

function cli(...args) {
  return JSON.parse(execFileSync(CLI, ['scale', ...args, '--json'], { encoding: 'utf8' }));
}

/** Every figure the panel shows for one mode, as {report key: number}. */
async function shown(mode) {
  const cells = scale.locator(`td[data-mode="${mode}"][data-figure]`);
  const out = {};
  for (const cell of await cells.all()) out[await cell.getAttribute('data-figure')] = Number(await cell.getAttribute('data-value'));
  return out;
}

test('GPT-3, 1,000 tenants: the panel equals `finetune-lab scale --json`, both modes', async () => {
  assert.ok(existsSync(CLI), `the native CLI is missing at ${CLI}: cargo build -p finetune-lab --bin finetune-lab (or set FINETUNE_LAB_BIN)`);
  await scale.getByLabel('Model', { exact: true }).selectOption('gpt3-175b');
  await scale.getByLabel('Precision', { exact: true }).selectOption('mixed16');
  await scale.getByLabel('Tenants, exact number').fill('1000');
  const common = ['--model', 'gpt3-175b', '--precision', 'mixed16', '--tenants', '1000'];
  const expected = { full: cli(...common, '--mode', 'full'), adapter: cli(...common, '--mode', 'adapter') };
  for (const mode of ['full', 'adapter']) {
    const figures = await shown(mode);
    assert.ok(Object.keys(figures).length >= 7, `${mode}: ${Object.keys(figures)}`);
    for (const [key, value] of Object.entries(figures)) assert.equal(value, expected[mode][key], `${mode} ${key}`);
  }
  // The models are named by the crate, with the published count where there is one.
  const labels = await scale.getByLabel('Model', { exact: true }).locator('option').allTextContents();
  assert.deepEqual(labels, ['Our tiny GPT (0.835M)', 'BERT-large (340M)', 'GPT-3 (175B)']);
  // The storage row is the lesson's point: 350 TB of copies against one base plus small files.
  assert.equal((await shown('full')).storage_full_bytes, 350_443_634_688_000);
  await shot(page, 'scale-gpt3-1000');
});

test("the lesson's figures at the slider's marks", async () => {
  await scale.getByLabel('Model', { exact: true }).selectOption('gpt3-175b');
  await scale.getByLabel('Precision', { exact: true }).selectOption('mixed16');
  const nominal = scale.locator('[data-figure="nominal_storage_full_bytes"]');
  const expected = { 0: '350 GB', 1: '3.5 TB (3,500 GB)', 3: '350 TB (350,000 GB)', 5: '35.0 PB (35,000,000 GB)' };
  for (const [mark, text] of Object.entries(expected)) {
    await scale.getByLabel('Tenants (fine-tuned models kept)').fill(mark);
    assert.equal(await scale.getByLabel('Tenants, exact number').inputValue(), String(10 ** Number(mark)));
    assert.equal(await nominal.textContent(), text, `at 10^${mark} tenants`);
  }
  assert.equal(await scale.locator('[data-figure="nominal_weights_bytes"]').textContent(), '350 GB');
  // The LoRA paper's own figure sits beside ours, and the note says why our count is 175.2B.
  assert.equal(await scale.locator('[data-figure="published_full_bytes"]').textContent(), '1.2 TB');
  assert.equal(await scale.locator('[data-figure="published_adapter_bytes"]').textContent(), '350 GB');
  assert.match(await scale.locator('.lesson').textContent(), /Our layout counts 175\.2B/);
  await shot(page, 'scale-gpt3-100k');
});

test("hot tenants: the CLI's default until edited, then the reader's, never more than the tenants", async () => {
  const hot = scale.getByLabel('Hot tenants (resident at once)');
  for (const tenants of ['3', '1000']) {
    await scale.getByLabel('Tenants, exact number').fill(tenants);
    assert.equal(Number(await hot.inputValue()), cli('--model', 'gpt3-175b', '--tenants', tenants).hot, `${tenants} tenants`);
  }
  await hot.fill('50');
  assert.equal((await shown('full')).serving_full_bytes, cli('--model', 'gpt3-175b', '--tenants', '1000', '--hot', '50').serving_full_bytes);
  await scale.getByLabel('Tenants, exact number').fill('20');
  assert.equal(await hot.inputValue(), '20');
  assert.ok(await scale.getByRole('alert').isHidden());
});

test('bad scale input shows a message and recovers', async () => {
  await scale.getByLabel('Tenants, exact number').fill('1000');
  await scale.getByLabel('Adapter rank r').fill('0');
  await scale.getByRole('alert').filter({ hasText: /rank/ }).waitFor();
  await scale.getByLabel('Adapter rank r').fill('4');
  assert.ok(await scale.getByRole('alert').isHidden());
  // Past what u64 byte counts hold for GPT-3: refused with the range, not wrapped.
  await scale.getByLabel('Tenants, exact number').fill('100000000');
  await scale
    .getByRole('alert')
    .filter({ hasText: /tenants from 1 to 10,000,000/ })
    .waitFor();
  await scale.getByLabel('Adapter rank r').fill('99999');
  await scale.getByLabel('Tenants, exact number').fill('1000');
  await scale
    .getByRole('alert')
    .filter({ hasText: /rank must be from 1 to 12288/ })
    .waitFor();
  await scale.getByLabel('Adapter rank r').fill('4');
  assert.ok(await scale.getByRole('alert').isHidden());
});

test('no console errors, no request off 127.0.0.1', () => {
  assert.deepEqual(page.problems(), []);
});
