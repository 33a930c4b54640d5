#!/usr/bin/env node
// A script's usage is its header comment: the lines after the shebang that start with `#` or
// `//` (a Python script's docstring), up to the first that does not. Each of our scripts prints
// it for --help through here, so a script's usage is written once, where its code is read.
//
//   node scripts/usage.mjs SCRIPT
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The header comment of the script at `path`, without its comment markers. */
export function usage(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines[0].startsWith('#!')) lines.shift();
  const docstring = lines.join('\n').match(/^\s*"""([\s\S]*?)"""/);
  if (docstring) return docstring[1].trim();
  const header = [];
  for (const line of lines) {
    const comment = line.match(/^(#|\/\/) ?(.*)$/);
    if (!comment) break;
    header.push(comment[2]);
  }
  return header.join('\n').trim();
}

/** For a Node script: when its arguments ask for help, print its usage and exit. */
export function exitOnHelp(scriptURL, argv = process.argv.slice(2)) {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  console.log(usage(fileURLToPath(scriptURL)));
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  exitOnHelp(import.meta.url);
  if (!process.argv[2]) {
    console.error('usage: node scripts/usage.mjs SCRIPT');
    process.exit(2);
  }
  console.log(usage(process.argv[2]));
}
