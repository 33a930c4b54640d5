#!/usr/bin/env node
// Builds the sites a course author would make with <finetune-lab> (the fixtures beside this
// file: VitePress, Docusaurus, MkDocs Material) from the npm tarball, as an author would: the
// generator installed from its registry, the tarball installed as a real package (not a link
// to www/), then the generator's own build. tests/e2e/sites.test.mjs serves what comes out.
//
//   node tests/sites/build.mjs vitepress|docusaurus|mkdocs|all [--tarball PATH] [--dev]
//
// Everything happens in a cache outside the clone (nothing is written into it), one folder per
// site: ${FINETUNE_LAB_CACHE:-$HOME/.cache/finetune-lab}/sites/<name>/. The generator's install
// (node_modules, or a Python virtual environment for MkDocs) is the slow part and is kept while
// the fixture's package.json and lockfile, or requirements.txt, are unchanged; the fixture's
// sources are copied in fresh and the tarball installed anew for every build, so a warm build
// costs only the build.
// One build of a site at a time: two at once would share its folder.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(HERE, '../..');
export const CACHE = join(process.env.FINETUNE_LAB_CACHE || join(homedir(), '.cache/finetune-lab'), 'sites');

// Per generator: how its dependencies install (`npm` or `venv`), which fixture files key that
// install, the build command (run in the site's folder) and the folder it writes the site to.
export const SITES = {
  vitepress: {
    install: 'npm',
    keyedBy: ['package.json', 'package-lock.json'],
    build: ['node_modules/.bin/vitepress', 'build', 'docs'],
    out: 'docs/.vitepress/dist',
    dev: (port) => ['node_modules/.bin/vitepress', 'dev', 'docs', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
  },
  docusaurus: {
    install: 'npm',
    keyedBy: ['package.json', 'package-lock.json'],
    build: ['node_modules/.bin/docusaurus', 'build', '--out-dir', 'build'],
    out: 'build',
  },
  mkdocs: {
    install: 'venv',
    keyedBy: ['requirements.txt'],
    // --strict: a warning (a missing file, a broken link) fails the build, as it should here.
    build: ['venv/bin/mkdocs', 'build', '--strict', '--site-dir', 'site'],
    out: 'site',
  },
};

// What survives from one build to the next in a site's folder: the install and its key, and the
// fixture's lockfile it was installed from (npm then reads the tree from it instead of resolving
// again). Everything else is the fixture's copy and the generator's output, made fresh each time.
const KEEP = new Set(['node_modules', 'venv', 'package-lock.json', '.install-key', '.tarball-key']);

// Child processes: no update checks over a network that may not be there, no browserslist or
// MkDocs end-of-life banners in the output.
const ENV = { ...process.env, NO_UPDATE_NOTIFIER: '1', BROWSERSLIST_IGNORE_OLD_DATA: '1', NO_MKDOCS_2_WARNING: '1' };

/**
 * Run `cmd` in `cwd`; throws on failure. Its output goes to our stderr (stdout is the CLI's
 * summary), or with `quiet` is kept and only its tail shown in the error.
 */
function run(cmd, cwd, { quiet = false } = {}) {
  const [file, ...args] = cmd;
  // stdout is always kept (package.sh's last line is the answer), and a build says a lot.
  const r = spawnSync(file, args, { cwd, env: ENV, stdio: ['ignore', 'pipe', quiet ? 'pipe' : 2], encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  if (!quiet) process.stderr.write(r.stdout);
  if (r.status !== 0) {
    const tail = quiet ? `\n${(r.stdout + r.stderr).trim().split('\n').slice(-30).join('\n')}` : '';
    throw new Error(`${cmd.join(' ')} (in ${cwd}) exited with ${r.status ?? r.signal}${tail}`);
  }
  return r.stdout;
}

function timed(fn) {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

const sha256 = (...parts) => createHash('sha256').update(parts.join('\0')).digest('hex');

function site(name) {
  if (!SITES[name]) throw new Error(`no site "${name}": one of ${Object.keys(SITES).join(', ')}`);
  return SITES[name];
}

/** The key of a site's install: its fixture's dependency files, and the runtime it built for. */
function installKey(name) {
  const { install, keyedBy } = SITES[name];
  const runtime = install === 'npm' ? `node ${process.versions.node.split('.')[0]}` : run(['python3', '--version'], ROOT, { quiet: true }).trim();
  return sha256(runtime, ...keyedBy.map((f) => `${f}\n${readFileSync(join(HERE, name, f), 'utf8')}`));
}

/**
 * Site `name`'s generator installed in its folder, made only when missing or keyed by other
 * dependency files. Returns {seconds, reused}.
 */
export function installGenerator(name, { quiet = false } = {}) {
  site(name);
  const work = join(CACHE, name);
  const key = installKey(name);
  const keyFile = join(work, '.install-key');
  if (existsSync(keyFile) && readFileSync(keyFile, 'utf8') === key) return { seconds: 0, reused: true };
  // A half-made or stale install goes whole: an install on top of another keeps what it no longer needs.
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  for (const f of SITES[name].keyedBy) cpSync(join(HERE, name, f), join(work, f));
  const seconds = timed(() => {
    if (SITES[name].install === 'npm') {
      // From the fixture's lockfile, so every install (a cold CI cache included) gets the same tree.
      run(['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error'], work, { quiet });
    } else {
      run(['python3', '-m', 'venv', 'venv'], work, { quiet });
      run(['venv/bin/pip', 'install', '--quiet', '-r', 'requirements.txt'], work, { quiet });
    }
  });
  writeFileSync(keyFile, key);
  return { seconds, reused: false };
}

/** The fixture's files copied over the site's folder, after removing the last build's copy and output. */
function copyFixture(name, work) {
  for (const entry of readdirSync(work)) if (!KEEP.has(entry)) rmSync(join(work, entry), { recursive: true, force: true });
  // Not an install someone made inside the fixture itself while trying it out.
  const fixture = join(HERE, name);
  cpSync(fixture, work, { recursive: true, filter: (src) => !/\/(node_modules|venv)(\/|$)/.test(src.slice(fixture.length)) });
}

/**
 * The tarball into the site: for npm sites, `npm install` of the file (what `npm install
 * finetune-lab` does from the registry); for MkDocs, its files unpacked into docs/finetune-lab/
 * (what EMBED.md tells a MkDocs author to do). Returns the seconds it took.
 */
function installTarball(name, work, tarball, quiet) {
  const digest = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  // webpack's persistent cache (Docusaurus keeps it in node_modules/.cache) trusts a package in
  // node_modules while its version is unchanged; a rebuilt tarball keeps the version, so a new
  // tarball empties that cache, or the site would be built from the last one's files.
  const keyFile = join(work, '.tarball-key');
  if (!existsSync(keyFile) || readFileSync(keyFile, 'utf8') !== digest) rmSync(join(work, 'node_modules/.cache'), { recursive: true, force: true });
  const seconds = timed(() => {
    if (SITES[name].install === 'npm') {
      run(['npm', 'install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', tarball], work, { quiet });
    } else {
      const unpacked = mkdtempSync(join(work, '.unpack-'));
      run(['tar', '-xzf', tarball, '-C', unpacked], work);
      renameSync(join(unpacked, 'package'), join(work, 'docs/finetune-lab'));
      rmSync(unpacked, { recursive: true, force: true });
    }
  });
  writeFileSync(keyFile, digest);
  return seconds;
}

/** The site's folder ready to build or serve: install (cached), fixture (fresh), tarball (fresh). */
export function prepareSite(name, tarball, { quiet = false } = {}) {
  site(name);
  tarball = resolve(tarball);
  if (!existsSync(tarball)) throw new Error(`no tarball at ${tarball}`);
  const work = join(CACHE, name);
  const install = installGenerator(name, { quiet });
  copyFixture(name, work);
  const tarballSeconds = installTarball(name, work, tarball, quiet);
  return { work, install, tarballSeconds };
}

/**
 * Build site `name` from `tarball`. Returns {name, dir: the built site to serve, seconds: the
 * build's, install: {seconds, reused}, tarballSeconds, work: the site's folder}. `quiet` keeps
 * the tools' output out of the way unless they fail (the tests use it).
 */
export function buildSite(name, tarball, { quiet = false } = {}) {
  const { work, install, tarballSeconds } = prepareSite(name, tarball, { quiet });
  const seconds = timed(() => run(SITES[name].build, work, { quiet }));
  const dir = join(work, SITES[name].out);
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`${name}: the build left no ${dir}/index.html`);
  return { name, dir, seconds, install, tarballSeconds, work };
}

/** A port free right now on 127.0.0.1 (the dev server is told to take exactly it). */
function freePort() {
  return new Promise((ok, bad) => {
    const probe = createServer().once('error', bad);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

/**
 * Start site `name`'s dev server (VitePress only) on a free port with `tarball` installed.
 * Resolves to {url, stop()} once it answers; stop() ends it and the processes it started.
 */
export async function startDev(name, tarball, { timeout = 120_000, quiet = false } = {}) {
  if (!site(name).dev) throw new Error(`${name} has no dev server here`);
  const { work } = prepareSite(name, tarball, { quiet });
  const port = await freePort();
  const [file, ...args] = SITES[name].dev(port);
  // A process group of its own, so stop() reaches esbuild's service too (by this group's id).
  const child = spawn(file, args, { cwd: work, env: ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  // Detached, it would outlive us if we ended without stop().
  const orphan = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  };
  process.once('exit', orphan);
  child.once('exit', () => process.off('exit', orphan));
  let output = '';
  const collect = (d) => (output = (output + d).slice(-20_000));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const url = `http://127.0.0.1:${port}/`;
  const stop = () =>
    new Promise((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) return ok();
      child.once('exit', () => ok());
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        ok();
      }
    });
  const deadline = Date.now() + timeout;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} dev exited with ${child.exitCode}:\n${output}`);
    const up = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { url, stop, output: () => output };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} dev did not answer at ${url} in ${timeout / 1000} s:\n${output}`);
    }
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/**
 * The tarball to build from: FINETUNE_LAB_TARBALL if set, else what scripts/package.sh packs
 * (it builds the WebAssembly first, reusing an earlier build; the last line it prints is the path).
 */
export function packageTarball() {
  if (process.env.FINETUNE_LAB_TARBALL) return resolve(process.env.FINETUNE_LAB_TARBALL);
  const out = run([join(ROOT, 'scripts/package.sh')], ROOT, { quiet: true });
  return out.trim().split('\n').at(-1);
}

const HELP = `Build the site-generator fixtures (tests/sites/<name>/) from the finetune-lab npm tarball.

  node tests/sites/build.mjs vitepress|docusaurus|mkdocs|all [--tarball PATH] [--dev]

  --tarball PATH  the package to install (default: $FINETUNE_LAB_TARBALL, else scripts/package.sh)
  --dev           VitePress only: start \`vitepress dev\` instead and print its URL (Ctrl-C stops it)

Works in \${FINETUNE_LAB_CACHE:-$HOME/.cache/finetune-lab}/sites/<name>/ (now ${CACHE}):
the generator's install is kept while the fixture's package.json / requirements.txt is unchanged.
Prints one line per site: its build time and the folder to serve.`;

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h') || args.length === 0) {
    console.log(HELP);
    process.exit(args.length === 0 ? 2 : 0);
  }
  const at = args.indexOf('--tarball');
  if (at >= 0) process.env.FINETUNE_LAB_TARBALL = args.splice(at, 2)[1];
  const dev = args.includes('--dev');
  const names = args.filter((a) => !a.startsWith('--'));
  const sites = names.includes('all') ? Object.keys(SITES) : names;
  const unknown = sites.filter((name) => !SITES[name]);
  if (unknown.length) {
    console.error(`no site ${unknown.join(', ')}: one of ${Object.keys(SITES).join(', ')}, all`);
    process.exit(2);
  }
  if (sites.length === 0 || (dev && (sites.length !== 1 || !SITES[sites[0]].dev))) {
    console.error(HELP);
    process.exit(2);
  }
  const tarball = packageTarball();
  if (dev) {
    const server = await startDev(sites[0], tarball);
    console.log(`${sites[0]} dev: ${server.url}  (Ctrl-C to stop)`);
    process.on('SIGINT', () => server.stop().then(() => process.exit(0)));
  } else {
    for (const name of sites) {
      const r = buildSite(name, tarball);
      const install = r.install.reused ? 'install reused' : `install ${r.install.seconds.toFixed(1)} s`;
      console.log(`${name}: built in ${r.seconds.toFixed(1)} s (${install}, tarball ${r.tarballSeconds.toFixed(1)} s) → ${r.dir}`);
    }
  }
}
