#!/usr/bin/env node
// The README's table of current figures, written from bench/results/current.json (each figure's
// value, unit, the command that measures it and the date it was measured) between the markers
// `<!-- figures: scripts/figures.mjs -->` and `<!-- /figures -->`. Running it again changes nothing.
//
//   node scripts/figures.mjs                 rewrite the table in README.md
//   node scripts/figures.mjs --check         exit 1 when README.md's table is not what it would write
//   node scripts/figures.mjs --log FILE      first take new values from a test run's output (its
//                                            `# ` lines; --log may repeat), dated today or --date
//                                            YYYY-MM-DD: the output of
//                                            node --test tests/e2e/sites.test.mjs tests/e2e/defaults.test.mjs
//
// Figures the build computes (parameters, checkpoint, predicted memory, the base) are held to the
// built module by tests/e2e/docs.test.mjs; edit current.json when the model changes.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { exitOnHelp } from './usage.mjs';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const CURRENT = `${ROOT}bench/results/current.json`;
export const README = `${ROOT}README.md`;
export const BEGIN = '<!-- figures: scripts/figures.mjs -->';
export const END = '<!-- /figures -->';

/** 1494173 → "1,494,173"; a pair → "834,560 / 73,728". */
function number(value) {
  return [value]
    .flat()
    .map((v) => v.toLocaleString('en-US'))
    .join(' / ');
}

/** The Markdown table for the figures of current.json, markers included. */
export function table(current) {
  const rows = current.figures.map((f) => `| ${f.figure} | ${number(f.value)}${f.unit ? ` ${f.unit}` : ''} | \`${f.command}\` |`);
  return [BEGIN, '| figure | value | from |', '| --- | --- | --- |', ...rows, END].join('\n');
}

/** `readme` with the text between the markers (markers included) replaced by `tableText`. */
export function rewrite(readme, tableText) {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END, begin);
  if (begin < 0 || end < 0) throw new Error(`README.md has no ${BEGIN} … ${END} markers`);
  return readme.slice(0, begin) + tableText + readme.slice(end + END.length);
}

/**
 * The values a test run's output states, by figure id: `# ` lines of sites.test.mjs (our page's
 * first visits and first step) and of defaults.test.mjs (the default run's ms/step on each task:
 * their median).
 */
export function fromLog(text) {
  const found = {};
  const cpu = text.match(/^# our page: first visit (\d+) B on the wire up to the first trained step; navigation → first trained step (\d+) ms \(CPU path\)/m);
  if (cpu) Object.assign(found, { 'first-visit-cpu': Number(cpu[1]), 'first-step-cpu': Number(cpu[2]) });
  const gpu = text.match(/^# our page: WebGPU \(SwiftShader\) .*; first visit (\d+) B on the wire up to its first step/m);
  if (gpu) found['first-visit-webgpu'] = Number(gpu[1]);
  const runs = [...text.matchAll(/^# (?:records|qa|verse): full \d+ steps at (\d+) ms .*; adapter \d+ steps at (\d+) ms/gm)];
  if (runs.length) {
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    found['ms-per-step-cpu'] = [median(runs.map((r) => Number(r[1]))), median(runs.map((r) => Number(r[2])))];
  }
  return found;
}

/** current.json as it is kept: two-space JSON, arrays of numbers on one line. */
export function serialise(current) {
  return JSON.stringify(current, null, 2).replace(/\[\s+([-\d.,\s]+?)\s+\]/g, (_, xs) => `[${xs.split(/,\s*/).join(', ')}]`) + '\n';
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  exitOnHelp(import.meta.url);
  const { values: a } = parseArgs({ options: { check: { type: 'boolean' }, log: { type: 'string', multiple: true }, date: { type: 'string' } } });
  const current = JSON.parse(readFileSync(CURRENT, 'utf8'));
  if (a.log) {
    const date = a.date ?? new Date().toISOString().slice(0, 10);
    const found = fromLog(a.log.map((file) => readFileSync(file, 'utf8')).join('\n'));
    if (!Object.keys(found).length) throw new Error(`no figures found in ${a.log.join(', ')}`);
    for (const f of current.figures) {
      if (!(f.id in found)) continue;
      console.log(`${f.id}: ${number(f.value)} (${f.measured}) → ${number(found[f.id])} (${date})`);
      Object.assign(f, { value: found[f.id], measured: date });
    }
    writeFileSync(CURRENT, serialise(current));
  }
  const readme = readFileSync(README, 'utf8');
  const next = rewrite(readme, table(current));
  if (a.check) {
    if (next !== readme) {
      console.error('README.md: the figures table is not what scripts/figures.mjs writes; run it');
      process.exit(1);
    }
  } else if (next !== readme) {
    writeFileSync(README, next);
    console.log('README.md: figures table rewritten');
  } else console.log('README.md: figures table unchanged');
}
