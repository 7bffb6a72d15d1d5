// What a user installs and waits for, measured on the packed package, next to Stripe's own local
// MCP server. These are the figures the README quotes (size installed with and without the
// optional SQLite driver, `--help` time, start-up against Stripe's), so each is measured the way
// the README states it.
//
//  1. The tarball: `npm pack` of this checkout (as built by `npm run bench:startup`): its size,
//     its unpacked size and what that is made of (JavaScript, source maps, the rest).
//  2. Installed size: each install is `npm install <spec>` in an empty folder of its own, run by
//     npm in a process of its own, counted as the file bytes under that folder's node_modules
//     (symlinks as links):
//       - ours, the normal way (the optional better-sqlite3 driver included; whether its native
//         binary was downloaded prebuilt or compiled here, and whether it loads, is reported);
//       - ours with `--omit=optional` (no driver: what stdio needs);
//       - `@stripe/mcp@0.2.5`, the normal way. If npm refuses it (ERESOLVE), the conflict is
//         printed and it is installed again with `--legacy-peer-deps`, and the table says so;
//       - for comparison only: `@stripe/mcp@0.2.5 --legacy-peer-deps` (npm then skips the peer
//         dependencies of @stripe/agent-toolkit: openai, ai, @langchain/core, agents), and
//         `@stripe/mcp@latest` (0.3 and later forward every call to mcp.stripe.com, so it is not a
//         local server and is not timed: 0.2.5 is the last release that runs its tools locally).
//     Every install also gets `--no-audit --no-fund --prefer-offline --legacy-peer-deps=false
//     --ignore-scripts=false`, so that a user's npm config cannot change what "the normal way" is.
//  3. spawn -> `tools/list` answer over stdio (the wait a desktop client sees when it starts a
//     server), side by side in one run:
//       - ours, "after": this checkout, installed without the driver (the bundle is the same
//         file in both installs);
//       - ours, "before": the checkout in BEFORE_DIR (default /tmp/sbm-before-startup: see
//         docs/development.md — `git archive <commit>`, node_modules linked, `npm run build`),
//         packed and installed the same way; BEFORE_DIR=off leaves it out;
//       - each in customer and staff mode, on the demo account (`--demo`) and with a key: a fake
//         restricted key (rk_test_…) against the fake Stripe of bench/support/fake-stripe-server.mjs
//         on loopback (STRIPE_API_BASE; STRIPE_LATENCY_MS=60 ± 15), never the internet. Each
//         keyed server keeps its probe under an XDG_CACHE_HOME of its own, so after the warm-up it
//         starts from the kept probe, as a desktop client's second launch does;
//       - the floor: a minimal server on the same MCP SDK and zod (McpServer, one zod tool, stdio),
//         bundled by esbuild as ours is (minified ESM, Node 20), with none of our plugins;
//       - @stripe/mcp@0.2.5 (`--tools=all --api-key=sk_test_…`: it calls nothing at start-up).
//     All run as `node <bin>`, never through npx. Interleaved: each round runs every server once,
//     in an order rotated every round, so drift (disk cache, a busy machine) hits all of them
//     alike. Before the timed runs each answers once (not counted) with a preload that records
//     every outbound socket and DNS look-up and when: the table counts those made before the
//     tools/list answer (a server that needs the network to list would show up there) and after.
//  4. `--help`, spawn -> exit, next to a floor: `node -e 0` (starting Node and doing nothing), the
//     installed bundle's `--help`, and `node dist/cli.js --help`, rotated every round. The table
//     gives medians, each against the floor (× and + ms).
//
// Every timed child runs with a clean environment (PATH and HOME only), one at a time, and nothing
// is timed while an install runs; npm runs with the shell's environment minus the npm_* variables
// `npm run` adds. Sizes are in MB of 10^6 bytes, as npm prints them.
//
// Run: npm run bench:startup   (RUNS=11 start-ups and HELP_RUNS=51 `--help` runs of each;
// BENCH_MAX_SECONDS=900; BEFORE_DIR=<built checkout>|off). ONLY=size,startup,help picks tables: without `size` only the installs
// the timed tables run are made (ours without the driver; for `startup` also Stripe's the normal
// way), seconds instead of minutes. Needs the npm registry (and, for a prebuilt better-sqlite3,
// GitHub's release downloads).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { runGuarded, startFakeStripe, stopAll } from './support/processes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_CLI = join(ROOT, 'dist', 'cli.js');
const STRIPE_LOCAL = '@stripe/mcp@0.2.5';
const STRIPE_LATEST = '@stripe/mcp@latest';
const FAKE_KEY = 'sk_test_fake_bench_000000000000';
// What our servers get without --demo: a restricted key, as the README tells merchants to make.
const FAKE_RESTRICTED_KEY = 'rk_test_fake_bench_startup_000000000000';
const BEFORE_DIR = process.env.BEFORE_DIR === 'off' ? undefined : resolve(process.env.BEFORE_DIR ?? '/tmp/sbm-before-startup');
const PARTS = ['size', 'startup', 'help'];
const ONLY = new Set((process.env.ONLY ?? PARTS.join(',')).split(',').map((part) => part.trim()).filter(Boolean));
for (const part of ONLY) if (!PARTS.includes(part)) throw new Error(`ONLY: unknown table "${part}" (${PARTS.join(', ')})`);
const count = (name, fallback) => Math.max(1, Math.min(200, Number.parseInt(process.env[name] ?? String(fallback), 10) || fallback));
const RUNS = count('RUNS', 11);
const HELP_RUNS = count('HELP_RUNS', 51);
const DEADLINE = Date.now() + Number(process.env.BENCH_MAX_SECONDS ?? 900) * 1000;
const RUN_TIMEOUT_MS = 30_000;
const INSTALL_TIMEOUT_MS = 600_000;
// Pinned to npm's defaults, whatever the user's npm config says (see the header).
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--legacy-peer-deps=false', '--ignore-scripts=false'];

// Issue 25: spawn -> tools/list at most 0.85× @stripe/mcp@0.2.5, every mode, with and without --demo.
const TARGET_RATIO = 0.85;
const TARGET_HELP_MS = 150;
// Issue 25: at most 2.5 MB installed without the driver (it was 4.7 MB, 2.6 of it source maps).
const TARGET_SIZE_BYTES = 2.5 * 1000 * 1000;

const run = promisify(execFile);
// npm as a user's shell starts it: without the npm_config_*, npm_package_* and npm_lifecycle_*
// variables that `npm run bench:startup` sets for its script.
const npmEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
const live = new Set(); // pids of timed children still running
let workDir;

const benchStarted = performance.now();
const progress = (message) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);

function checkDeadline() {
  if (Date.now() > DEADLINE) throw new Error('the bench ran longer than BENCH_MAX_SECONDS; stopping (lower RUNS or HELP_RUNS)');
}

// ---------------------------------------------------------------------------------------------
// helpers

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (value) => Math.round(value);
const mb = (bytes) => Number((bytes / 1e6).toFixed(2));
const ratio = (value, base) => Number((value / base).toFixed(2));

/** Environment of a fresh shell: nothing of ours (no Stripe key, no Redis URL) leaks in. */
const cleanEnv = (extra = {}) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'silent', ...extra });

function killLive() {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function withTimeout(promise, label, timeoutMs = RUN_TIMEOUT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Total bytes (lstat: symlinks count as links, not their targets), files and packages under a folder. */
async function walk(path) {
  const totals = { bytes: 0, files: 0, packages: 0 };
  const stack = [path];
  while (stack.length) {
    const current = stack.pop();
    const info = await lstat(current);
    if (info.isDirectory()) {
      for (const entry of await readdir(current)) stack.push(join(current, entry));
      continue;
    }
    totals.bytes += info.size;
    totals.files += 1;
    // node_modules/<name>/package.json or node_modules/@scope/<name>/package.json
    if (/[\\/]node_modules[\\/](@[^\\/]+[\\/])?[^\\/@.][^\\/]*[\\/]package\.json$/.test(current)) totals.packages += 1;
  }
  return totals;
}

/** Where this checkout stands, so that the figures can be traced to a commit. */
function checkoutState() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString().trim();
    return dirty ? `${head} with uncommitted changes` : head;
  } catch {
    return 'not a git checkout';
  }
}

// ---------------------------------------------------------------------------------------------
// 1. pack, 2. install

async function pack(from = ROOT, name = 'pack') {
  const packDir = join(workDir, name);
  await mkdir(packDir, { recursive: true });
  // `npm run bench:startup` has just built (BEFORE_DIR was built by hand); packing with scripts
  // (prepack) would build again.
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: from, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, env: npmEnv() });
  const [info] = JSON.parse(packed.stdout);
  // Another build removing bundle/ while npm packs would give a package without its program.
  if (!info.files.some((file) => file.path === 'bundle/cli.js')) throw new Error(`npm pack of ${from} has no bundle/cli.js: a build was under way? Build, then run the bench again`);
  const kinds = { JavaScript: { files: 0, bytes: 0 }, 'source maps (.map)': { files: 0, bytes: 0 }, 'other (README, package.json, licences)': { files: 0, bytes: 0 } };
  for (const file of info.files) {
    const kind = file.path.endsWith('.map') ? 'source maps (.map)' : /\.(m|c)?js$/.test(file.path) ? 'JavaScript' : 'other (README, package.json, licences)';
    kinds[kind].files += 1;
    kinds[kind].bytes += file.size;
  }
  return { tarball: join(packDir, info.filename), bytes: info.size, unpackedBytes: info.unpackedSize, files: info.entryCount, kinds };
}

/** The lines of npm's output that explain a peer-dependency conflict (ERESOLVE). */
function peerConflict(stderr) {
  if (!/ERESOLVE/.test(stderr)) return '';
  return stderr
    .split('\n')
    .map((line) => line.replace(/^npm (error|ERR!)\s*/, '').trim())
    .filter((line) => /^(While resolving|Found|Could not resolve dependency|peer |Conflicting peer dependency)/.test(line))
    .slice(0, 8)
    .join('; ');
}

/**
 * `npm install <flags> <spec>` in an empty folder of its own. Resolves to the folder, the command
 * as a user would type it, npm's warnings, and why it failed (it does not throw: a refused install
 * is a finding).
 */
async function npmInstall(name, spec, flags = []) {
  const app = join(workDir, name);
  await mkdir(app, { recursive: true });
  await writeFile(join(app, 'package.json'), '{"name":"bench-empty-app","private":true}\n');
  const command = ['npm install', ...flags, spec.startsWith('/') ? '<tarball>' : spec].join(' ');
  const started = performance.now();
  try {
    const { stderr } = await run('npm', ['install', ...NPM_FLAGS, ...flags, spec], { cwd: app, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, env: npmEnv() });
    const warnings = stderr.split('\n').filter((line) => /^npm warn/i.test(line));
    return { name, app, command, ok: true, seconds: (performance.now() - started) / 1000, warnings };
  } catch (error) {
    const stderr = String(error.stderr ?? error.message);
    return { name, app, command, ok: false, seconds: (performance.now() - started) / 1000, conflict: peerConflict(stderr), error: stderr.trim().split('\n').slice(-6).join('\n') };
  }
}

/** Stripe's local server the normal way; with --legacy-peer-deps only if npm refuses that (ERESOLVE), and why. */
async function installStripeLocal() {
  const normal = await npmInstall('stripe', STRIPE_LOCAL);
  if (normal.ok || !normal.conflict) return { ...normal, needsLegacyPeerDeps: normal.ok ? 'no' : '?' };
  progress(`! ${normal.command} refused: ${normal.conflict}; installing again with --legacy-peer-deps`);
  const legacy = await npmInstall('stripe-retry', STRIPE_LOCAL, ['--legacy-peer-deps']);
  return { ...legacy, needsLegacyPeerDeps: `yes: ${normal.conflict}` };
}

async function binOf(app, packageName) {
  const pkgDir = join(app, 'node_modules', ...packageName.split('/'));
  const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
  const binField = typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin ?? {})[0];
  if (!binField) throw new Error(`${packageName} has no bin in its package.json`);
  return { cli: resolve(pkgDir, binField), version: pkg.version };
}

/** Whether the optional driver came in, how its native binary got there, and whether it loads. */
async function driverState(app) {
  const dir = join(app, 'node_modules', 'better-sqlite3');
  if (!existsSync(dir)) return { present: false, how: 'not installed', loads: false };
  // node-gyp leaves its object files under build/Release/obj*; a downloaded prebuilt has only the .node file.
  const compiled = existsSync(join(dir, 'build', 'Release', 'obj.target')) || existsSync(join(dir, 'build', 'Release', 'obj'));
  let loads = false;
  try {
    await run(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], { cwd: app, env: cleanEnv(), timeout: RUN_TIMEOUT_MS });
    loads = true;
  } catch {
    // reported as "does not load"
  }
  const build = existsSync(join(dir, 'build')) ? await walk(join(dir, 'build')) : { bytes: 0 };
  return { present: true, how: compiled ? 'compiled here from source (no prebuilt binary downloaded)' : 'prebuilt binary', loads, size: await walk(dir), buildBytes: build.bytes };
}

// ---------------------------------------------------------------------------------------------
// 3., 4. timings

/** Spawn -> initialize -> tools/list answered. Returns elapsed ms and the tool count. */
async function startToToolsList(cli, args, { env = {}, captureStderr = false, holdMs = 0 } = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, ...args],
    env: cleanEnv(env),
    stderr: captureStderr ? 'pipe' : 'ignore',
  });
  let stderr = '';
  if (captureStderr) transport.stderr?.on('data', (chunk) => (stderr += chunk.toString()));
  const client = new Client({ name: 'bench-startup', version: '1.0.0' });
  const started = performance.now();
  let elapsed;
  let listedAt;
  try {
    const tools = await withTimeout(
      (async () => {
        await client.connect(transport);
        if (transport.pid) live.add(transport.pid);
        const { tools } = await client.listTools();
        elapsed = performance.now() - started;
        listedAt = Date.now();
        if (holdMs) await new Promise((resolvePromise) => setTimeout(resolvePromise, holdMs));
        return tools;
      })(),
      `node ${cli} ${args.join(' ')}`,
    );
    return { elapsed, listedAt, tools: tools.length, stderr };
  } catch (error) {
    error.message += stderr ? `\n  stderr: ${stderr.trim()}` : '';
    throw error;
  } finally {
    const pid = transport.pid;
    await client.close().catch(() => {}); // ends stdin, then SIGTERM, then SIGKILL: waits for the exit
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited, as it should have
      }
      live.delete(pid);
    }
  }
}

/** Spawn -> exit of `node <args>`; the command must exit 0 (and print, when `mustPrint`). */
function spawnToExit(args, { mustPrint }) {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child.pid);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      const elapsed = performance.now() - started;
      clearTimeout(timer);
      live.delete(child.pid);
      if (code !== 0 || (mustPrint && !out.trim())) reject(new Error(`node ${args.join(' ')} exited ${code}: ${out.trim().slice(0, 500)}`));
      else resolvePromise(elapsed);
    });
  });
}

/** A preload that logs every outbound connection and DNS look-up (one line each) to NET_LOG. */
const NET_PRELOAD = `
const fs = require('node:fs');
const net = require('node:net');
const dns = require('node:dns');
const log = (what) => { try { fs.appendFileSync(process.env.BENCH_NET_LOG, Date.now() + ' ' + what + '\\n'); } catch {} };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = args[0];
  const target = Array.isArray(first) ? first[0] : first;
  if (target && typeof target === 'object' && target.path) return connect.apply(this, args); // local IPC socket
  log('connect ' + JSON.stringify(typeof target === 'object' ? { host: target.host, port: target.port } : args.slice(0, 2)));
  return connect.apply(this, args);
};
// The server's own moment of answering tools/list (its first stdout write of a tool list), so that
// what it does right after answering is not counted as before it.
const write = process.stdout.write;
let listed = false;
process.stdout.write = function (chunk, ...rest) {
  if (!listed && String(chunk).includes('"tools":[')) { listed = true; log('ANSWERED tools/list'); }
  return write.call(this, chunk, ...rest);
};
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6']) {
  const original = dns[name];
  dns[name] = function (host, ...rest) { log('dns.' + name + ' ' + host); return original.call(this, host, ...rest); };
  const promised = dns.promises[name];
  dns.promises[name] = function (host, ...rest) { log('dns.promises.' + name + ' ' + host); return promised.call(this, host, ...rest); };
}
`;

async function networkCheck(server) {
  const preload = join(workDir, 'net-preload.cjs');
  const logFile = join(workDir, `net-${server.key}.log`);
  await writeFile(preload, NET_PRELOAD);
  await writeFile(logFile, '');
  const { tools, listedAt } = await startToToolsList(server.cli, server.args, {
    env: { ...server.env, NODE_OPTIONS: `--require=${preload}`, BENCH_NET_LOG: logFile },
    captureStderr: true,
    // Long enough for a probe that waits for the list to go out, so the table shows it did.
    holdMs: server.env?.STRIPE_API_BASE ? 1_000 : 0,
  });
  const lines = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean).map((line) => line.slice(line.indexOf(' ') + 1));
  // Split where the server wrote its answer (a server whose stdout the preload cannot see: where the client got it).
  let answered = lines.indexOf('ANSWERED tools/list');
  if (answered < 0) {
    const stamps = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean).map((line) => Number(line.slice(0, line.indexOf(' '))));
    answered = stamps.filter((at) => at <= listedAt).length;
    return { tools, before: lines.slice(0, answered), after: lines.slice(answered) };
  }
  return { tools, before: lines.slice(0, answered), after: lines.slice(answered + 1) };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  workDir = await mkdtemp(join(tmpdir(), 'sbm-bench-startup-'));
  const npmVersion = (await run('npm', ['--version'], { env: npmEnv() })).stdout.trim();
  progress(`packing this checkout (${checkoutState()}) into ${workDir}`);
  const tarball = await pack();
  const wantBefore = BEFORE_DIR !== undefined && (ONLY.has('size') || ONLY.has('startup'));
  if (wantBefore && !existsSync(join(BEFORE_DIR, 'bundle', 'cli.js'))) throw new Error(`BEFORE_DIR=${BEFORE_DIR} has no bundle/cli.js: build it (see the header) or set BEFORE_DIR=off`);
  const beforeTarball = wantBefore ? await pack(BEFORE_DIR, 'pack-before') : undefined;

  const sizes = ONLY.has('size');
  const needStripe = sizes || ONLY.has('startup');
  progress(`installing, each into an empty folder of its own: ours without the optional driver${needStripe ? `, ${STRIPE_LOCAL}` : ''}${sizes ? `; for sizes only: ours the normal way (with the driver), ${STRIPE_LOCAL} --legacy-peer-deps, ${STRIPE_LATEST}` : ''}`);
  const skipped = { ok: false, skipped: true };
  const [oursLean, stripe, oursFull, stripeLegacy, stripeLatest, beforeLean] = await Promise.all([
    npmInstall('ours-lean', tarball.tarball, ['--omit=optional']),
    needStripe ? installStripeLocal() : skipped,
    sizes ? npmInstall('ours-full', tarball.tarball) : skipped,
    sizes ? npmInstall('stripe-legacy', STRIPE_LOCAL, ['--legacy-peer-deps']) : skipped,
    sizes ? npmInstall('stripe-latest', STRIPE_LATEST) : skipped,
    beforeTarball ? npmInstall('before-lean', beforeTarball.tarball, ['--omit=optional']) : skipped,
  ]);
  // Every install has ended (none throws), so no npm is left running when one failed.
  for (const install of [oursLean, stripe, oursFull, beforeLean].filter((install) => !install.skipped)) if (!install.ok) throw new Error(`${install.command} failed:\n${install.error}`);
  for (const install of [oursLean, stripe, oursFull, stripeLegacy, stripeLatest, beforeLean].filter((install) => !install.skipped)) {
    progress(`  ${install.command}: ${install.ok ? `${install.seconds.toFixed(0)} s` : `FAILED ${install.conflict || install.error}`}`);
    for (const warning of install.warnings ?? []) progress(`    ${warning}`);
  }
  const leanModules = (await readdir(join(oursLean.app, 'node_modules'))).filter((name) => !name.startsWith('.'));
  if (leanModules.length !== 1 || leanModules[0] !== 'stripe-billing-mcp') progress(`! our install without the driver brought more than itself: ${leanModules.join(', ')}`);
  const ours = await binOf(oursLean.app, 'stripe-billing-mcp');
  const stripeBin = needStripe ? await binOf(stripe.app, '@stripe/mcp') : undefined;
  const before = beforeLean.ok ? await binOf(beforeLean.app, 'stripe-billing-mcp') : undefined;
  checkDeadline();

  console.log(`\nstripe-billing-mcp ${checkoutState()}; Node ${process.version}, npm ${npmVersion}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
  const figures = { tarball, stripe, stripeBin };
  if (sizes) Object.assign(figures, await sizeTables({ oursFull, oursLean, stripe, stripeLegacy, stripeLatest, stripeBin, tarball, beforeLean, beforeTarball }));
  if (ONLY.has('startup')) Object.assign(figures, await startupTable(ours, stripeBin, before));
  if (ONLY.has('help')) Object.assign(figures, await helpTable(ours));
  printSummary(figures);
}

// 1., 2. The tarball and the installs' sizes.
async function sizeTables({ oursFull, oursLean, stripe, stripeLegacy, stripeLatest, stripeBin, tarball, beforeLean, beforeTarball }) {
  const driver = await driverState(oursFull.app);
  const size = {};
  for (const install of [oursFull, oursLean, stripe, stripeLegacy, stripeLatest, beforeLean]) if (install.ok) size[install.name] = await walk(join(install.app, 'node_modules'));
  const latestVersion = stripeLatest.ok ? (await binOf(stripeLatest.app, '@stripe/mcp')).version : '?';
  const base = size['ours-lean'].bytes;
  const sizeRow = (label, install, note = '') =>
    install.ok
      ? { install: label, command: install.command, packages: size[install.name].packages, files: size[install.name].files, MB: mb(size[install.name].bytes), '× ours without driver': ratio(size[install.name].bytes, base), note }
      : { install: label, command: install.command, packages: '-', files: '-', MB: '-', '× ours without driver': '-', note: `failed: ${install.conflict || install.error.split('\n').pop()}` };
  const sizeRows = [
    sizeRow('ours, without the driver', oursLean, 'stdio only; serve needs the driver, DATABASE_URL or AUDIT=off'),
    ...(beforeLean.ok ? [sizeRow('before (BEFORE_DIR), without the driver', beforeLean, `the same install, packed from ${BEFORE_DIR}`)] : []),
    sizeRow('ours, the normal way', oursFull, `better-sqlite3 ${driver.how}; ${driver.loads ? 'loads' : 'DOES NOT LOAD'}${driver.size ? ` (${mb(driver.size.bytes)} MB of it, ${mb(driver.buildBytes)} MB in its build folder)` : ''}`),
    sizeRow(`@stripe/mcp ${stripeBin.version}, the normal way`, stripe, `needs --legacy-peer-deps: ${stripe.needsLegacyPeerDeps}`),
    sizeRow(`@stripe/mcp 0.2.5 --legacy-peer-deps`, stripeLegacy, 'npm skips the peer dependencies (openai, ai, @langchain/core, agents)'),
    sizeRow(`@stripe/mcp ${latestVersion} (latest)`, stripeLatest, 'forwards to mcp.stripe.com: not a local server, not timed'),
  ];
  const tarballRows = (label, packed) => [
    { part: `${label}: tarball (.tgz)`, files: '', bytes: packed.bytes, MB: mb(packed.bytes), share: '' },
    { part: `${label}: unpacked`, files: packed.files, bytes: packed.unpackedBytes, MB: mb(packed.unpackedBytes), share: '100 %' },
    ...Object.entries(packed.kinds).map(([part, { files, bytes }]) => ({ part: `  ${part}`, files, bytes, MB: mb(bytes), share: `${Math.round((bytes / packed.unpackedBytes) * 100)} %` })),
  ];

  console.log('\nThe tarball (npm pack)');
  console.table([...(beforeTarball ? tarballRows('before', beforeTarball) : []), ...tarballRows(beforeTarball ? 'after' : 'this checkout', tarball)]);
  console.log('\nInstalled: file bytes under node_modules of an empty folder (symlinks as links), MB = 10^6 bytes');
  console.table(sizeRows);
  return { size, driver };
}

// The floor: what any server on the same MCP SDK and zod costs to list one tool over stdio.
const FLOOR_SOURCE = `import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
const server = new McpServer({ name: 'floor', version: '1.0.0' });
server.registerTool('echo', { description: 'Says it back.', inputSchema: { text: z.string() } }, ({ text }) => ({ content: [{ type: 'text', text }] }));
await server.connect(new StdioServerTransport());
`;

/** The floor server, bundled by esbuild the way scripts/bundle.mjs bundles ours (minus our plugins). */
async function buildFloor() {
  const outfile = join(workDir, 'floor', 'floor.mjs');
  await build({
    stdin: { contents: FLOOR_SOURCE, resolveDir: ROOT, loader: 'js', sourcefile: 'floor.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minify: true,
    outfile,
    banner: { js: "import { createRequire as __sbmCreateRequire } from 'node:module'; const require = __sbmCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  return outfile;
}

// 3. spawn -> tools/list, interleaved and rotated.
async function startupTable(ours, stripeBin, before) {
  const fake = await startFakeStripe({ STRIPE_LATENCY_MS: '60', STRIPE_JITTER_MS: '15' });
  const floorCli = await buildFloor();
  // Our servers with a key: the fake Stripe on loopback, each with a probe cache of its own.
  const keyed = async (name) => {
    const cache = join(workDir, `cache-${name}`);
    await mkdir(cache, { recursive: true });
    return { STRIPE_API_KEY: FAKE_RESTRICTED_KEY, STRIPE_API_BASE: fake.url, XDG_CACHE_HOME: cache };
  };
  const configs = [
    { key: 'customer --demo', args: ['--demo'] },
    { key: 'staff --demo', args: ['--demo', '--staff'] },
    { key: 'customer, key', args: [], keyed: true },
    { key: 'staff, key', args: ['--staff'], keyed: true },
  ];
  const servers = [
    { key: 'floor', label: 'floor: McpServer + one zod tool (esbuild bundle)', cli: floorCli, args: [] },
    { key: 'stripe', label: `@stripe/mcp@${stripeBin.version} --tools=all`, cli: stripeBin.cli, args: ['--tools=all', `--api-key=${FAKE_KEY}`] },
  ];
  for (const [side, bin] of [['before', before], ['after', ours]]) {
    if (!bin) continue;
    for (const config of configs) {
      const env = config.keyed ? await keyed(`${side}-${config.args.join('')}`) : { XDG_CACHE_HOME: join(workDir, `cache-${side}-demo`) };
      servers.push({ key: `${side} ${config.key}`, side, config: config.key, label: `${side}: ${config.key}`, cli: bin.cli, args: config.args, env });
    }
  }
  progress('warm-up of each server with the network recorder');
  const netRows = [];
  for (const server of servers) {
    const { tools, before: early, after: late } = await networkCheck(server);
    server.tools = tools;
    netRows.push({ server: server.label, tools, 'network before tools/list': early.length, 'after (1 s)': late.length, first: early[0] ?? late[0] ?? '' });
    if (early.length) progress(`! ${server.label} reached for the network before its tools/list answer: ${early.slice(0, 5).join('; ')}`);
  }
  for (const server of servers) server.times = [];
  for (let round = 0; round < RUNS; round++) {
    checkDeadline();
    progress(`spawn -> tools/list, round ${round + 1}/${RUNS}`);
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(round + i) % servers.length];
      const { elapsed, tools } = await startToToolsList(server.cli, server.args, { env: server.env });
      if (tools !== server.tools) progress(`! ${server.label}: ${tools} tools this run, ${server.tools} in the warm-up`);
      server.times.push(elapsed);
    }
  }
  await fake.stop();
  const medianOf = (key) => {
    const server = servers.find((candidate) => candidate.key === key);
    return server ? median(server.times) : undefined;
  };
  const stripeMedian = medianOf('stripe');
  const floorMedian = medianOf('floor');
  const startupRows = servers.map((server) => ({
    server: server.label,
    runs: server.times.length,
    tools: server.tools,
    'median ms': ms(median(server.times)),
    'min ms': ms(Math.min(...server.times)),
    'max ms': ms(Math.max(...server.times)),
    '× stripe (medians)': ratio(median(server.times), stripeMedian),
  }));
  const or = (value, format) => (value === undefined ? '-' : format(value));
  const sideBySide = configs.map((config) => {
    const beforeMs = medianOf(`before ${config.key}`);
    const afterMs = medianOf(`after ${config.key}`);
    return {
      'ours, mode': config.key,
      'before ms': or(beforeMs, ms),
      'after ms': ms(afterMs),
      'floor ms': ms(floorMedian),
      'stripe ms': ms(stripeMedian),
      'before × stripe': or(beforeMs, (value) => ratio(value, stripeMedian)),
      'after × stripe': ratio(afterMs, stripeMedian),
      'after × before': or(beforeMs, (value) => ratio(afterMs, value)),
      'floor × stripe': ratio(floorMedian, stripeMedian),
    };
  });
  console.log('\nNetwork during start (warm-up run, not timed; keyed servers reach only the fake Stripe on loopback)');
  console.table(netRows);
  console.log(`\nspawn -> tools/list over stdio (node <bin>, ${RUNS} runs each, interleaved and rotated)`);
  console.table(startupRows);
  console.log('\nspawn -> tools/list, side by side (medians of the runs above)');
  console.table(sideBySide);
  return { startupRows, sideBySide };
}

// 4. --help against the floor, rotated.
async function helpTable(ours) {
  const helpCommands = [
    { label: 'node -e 0 (floor: Node starting and exiting)', args: ['-e', '0'], mustPrint: false },
    { label: 'node <installed>/bundle/cli.js --help', args: [ours.cli, '--help'], mustPrint: true },
    { label: 'node dist/cli.js --help', args: [DIST_CLI, '--help'], mustPrint: true },
  ];
  for (const command of helpCommands) {
    await spawnToExit(command.args, command); // warm-up, not counted
    command.times = [];
  }
  for (let round = 0; round < HELP_RUNS; round++) {
    checkDeadline();
    for (let i = 0; i < helpCommands.length; i++) {
      const command = helpCommands[(round + i) % helpCommands.length];
      command.times.push(await spawnToExit(command.args, command));
    }
  }
  const floor = median(helpCommands[0].times);
  const helpRows = helpCommands.map((command) => ({
    command: command.label,
    runs: command.times.length,
    'median ms': ms(median(command.times)),
    'min ms': ms(Math.min(...command.times)),
    'max ms': ms(Math.max(...command.times)),
    '× floor': ratio(median(command.times), floor),
    '+ ms over floor': ms(median(command.times) - floor),
  }));
  console.log(`\nspawn -> exit (${HELP_RUNS} runs each, rotated)`);
  console.table(helpRows);
  return { helpRows, floor };
}

/** The targets, and the sentence the README quotes, from whichever tables ran. */
function printSummary({ tarball, stripe, stripeBin, size, driver, startupRows, sideBySide, helpRows, floor }) {
  const targets = [];
  if (sideBySide) {
    for (const row of sideBySide) targets.push({ target: `spawn -> tools/list vs Stripe: ${row['ours, mode']}`, measured: `${row['after × stripe']}x`, limit: `<= ${TARGET_RATIO}x`, met: row['after × stripe'] <= TARGET_RATIO });
  }
  if (helpRows) targets.push({ target: '--help, installed bundle (median)', measured: `${helpRows[1]['median ms']} ms`, limit: `<= ${TARGET_HELP_MS} ms`, met: helpRows[1]['median ms'] <= TARGET_HELP_MS });
  if (size) targets.push({ target: 'installed size without the driver', measured: `${mb(size['ours-lean'].bytes)} MB${size['before-lean'] ? ` (before: ${mb(size['before-lean'].bytes)} MB)` : ''}`, limit: `<= ${mb(TARGET_SIZE_BYTES)} MB`, met: size['ours-lean'].bytes <= TARGET_SIZE_BYTES });
  console.log('\nTargets');
  console.table(targets);

  const lines = [];
  if (size) {
    const maps = tarball.kinds['source maps (.map)'];
    lines.push(
      `npm pack: ${mb(tarball.bytes)} MB packed, ${mb(tarball.unpackedBytes)} MB unpacked (${mb(maps.bytes)} MB of it source maps).`,
      `Installed without the driver (--omit=optional): ${mb(size['ours-lean'].bytes)} MB in ${size['ours-lean'].packages} package; the normal way: ${mb(size['ours-full'].bytes)} MB in ${size['ours-full'].packages} (better-sqlite3 ${driver.how}).`,
      `@stripe/mcp ${stripeBin.version} the normal way: ${mb(size.stripe.bytes)} MB in ${size.stripe.packages} packages (needs --legacy-peer-deps: ${stripe.needsLegacyPeerDeps}).`,
    );
  }
  if (helpRows) lines.push(`--help: ${helpRows[1]['median ms']} ms median, against ${ms(floor)} ms for node -e 0 (+${helpRows[1]['+ ms over floor']} ms, ${helpRows[1]['× floor']}×).`);
  if (sideBySide) {
    const stripeMs = sideBySide[0]['stripe ms'];
    lines.push(`spawn -> tools/list: ${sideBySide.map((row) => `${row['after ms']} ms (${row['ours, mode']})`).join(', ')} against ${stripeMs} ms for @stripe/mcp ${stripeBin.version} and ${sideBySide[0]['floor ms']} ms for a minimal server on the same SDK and zod.`);
  }
  console.log('\nFor the README');
  for (const line of lines) console.log(`  ${line}`);
}

// Synchronous, so that it also runs on process.exit (Ctrl-C, the watchdog).
function cleanUp() {
  killLive();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  workDir = undefined;
}
process.once('exit', cleanUp);

await runGuarded({
  main,
  stop: async () => {
    cleanUp();
    await stopAll();
  },
  deadline: DEADLINE,
  progress,
  done: 'done; every child process stopped, temporary folders removed',
});
