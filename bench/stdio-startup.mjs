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
//     server): ours (installed without the driver; the bundle is the same file in both installs)
//     in customer and staff mode on the demo account, and @stripe/mcp@0.2.5. Both run as
//     `node <bin>`, never through npx. Interleaved: each round runs the three once, in an order
//     rotated every round, so drift (disk cache, a busy machine) hits all of them alike. Before
//     the timed runs each answers once (not counted) with a preload that records every outbound
//     socket and DNS look-up: a server that needs the network to start would show up there.
//  4. `--help`, spawn -> exit, next to a floor: `node -e 0` (starting Node and doing nothing), the
//     installed bundle's `--help`, and `node dist/cli.js --help`, rotated every round. The table
//     gives medians, each against the floor (× and + ms).
//
// Every timed child runs with a clean environment (PATH and HOME only), one at a time, and nothing
// is timed while an install runs; npm runs with the shell's environment minus the npm_* variables
// `npm run` adds. Sizes are in MB of 10^6 bytes, as npm prints them.
//
// Run: npm run bench:startup   (RUNS=11 start-ups and HELP_RUNS=51 `--help` runs of each;
// BENCH_MAX_SECONDS=900). ONLY=size,startup,help picks tables: without `size` only the installs
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
import { runGuarded, stopAll } from './support/processes.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_CLI = join(ROOT, 'dist', 'cli.js');
const STRIPE_LOCAL = '@stripe/mcp@0.2.5';
const STRIPE_LATEST = '@stripe/mcp@latest';
const FAKE_KEY = 'sk_test_fake_bench_000000000000';
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

const TARGET_RATIO = 0.45;
const TARGET_HELP_MS = 150;
const TARGET_SIZE_BYTES = 10 * 1000 * 1000;

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

async function pack() {
  const packDir = join(workDir, 'pack');
  await mkdir(packDir, { recursive: true });
  // `npm run bench:startup` has just built; packing with scripts (prepack) would build again.
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: ROOT, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, env: npmEnv() });
  const [info] = JSON.parse(packed.stdout);
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
async function startToToolsList(cli, args, { env = {}, captureStderr = false } = {}) {
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
  try {
    const tools = await withTimeout(
      (async () => {
        await client.connect(transport);
        if (transport.pid) live.add(transport.pid);
        return (await client.listTools()).tools;
      })(),
      `node ${cli} ${args.join(' ')}`,
    );
    return { elapsed: performance.now() - started, tools: tools.length, stderr };
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
const log = (what) => { try { fs.appendFileSync(process.env.BENCH_NET_LOG, what + '\\n'); } catch {} };
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const first = args[0];
  const target = Array.isArray(first) ? first[0] : first;
  if (target && typeof target === 'object' && target.path) return connect.apply(this, args); // local IPC socket
  log('connect ' + JSON.stringify(typeof target === 'object' ? { host: target.host, port: target.port } : args.slice(0, 2)));
  return connect.apply(this, args);
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
  const { tools } = await startToToolsList(server.cli, server.args, {
    env: { NODE_OPTIONS: `--require=${preload}`, BENCH_NET_LOG: logFile },
    captureStderr: true,
  });
  const attempts = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean);
  return { tools, attempts };
}

// ---------------------------------------------------------------------------------------------

async function main() {
  workDir = await mkdtemp(join(tmpdir(), 'sbm-bench-startup-'));
  const npmVersion = (await run('npm', ['--version'], { env: npmEnv() })).stdout.trim();
  progress(`packing this checkout (${checkoutState()}) into ${workDir}`);
  const tarball = await pack();

  const sizes = ONLY.has('size');
  const needStripe = sizes || ONLY.has('startup');
  progress(`installing, each into an empty folder of its own: ours without the optional driver${needStripe ? `, ${STRIPE_LOCAL}` : ''}${sizes ? `; for sizes only: ours the normal way (with the driver), ${STRIPE_LOCAL} --legacy-peer-deps, ${STRIPE_LATEST}` : ''}`);
  const skipped = { ok: false, skipped: true };
  const [oursLean, stripe, oursFull, stripeLegacy, stripeLatest] = await Promise.all([
    npmInstall('ours-lean', tarball.tarball, ['--omit=optional']),
    needStripe ? installStripeLocal() : skipped,
    sizes ? npmInstall('ours-full', tarball.tarball) : skipped,
    sizes ? npmInstall('stripe-legacy', STRIPE_LOCAL, ['--legacy-peer-deps']) : skipped,
    sizes ? npmInstall('stripe-latest', STRIPE_LATEST) : skipped,
  ]);
  // Every install has ended (none throws), so no npm is left running when one failed.
  for (const install of [oursLean, stripe, oursFull].filter((install) => !install.skipped)) if (!install.ok) throw new Error(`${install.command} failed:\n${install.error}`);
  for (const install of [oursLean, stripe, oursFull, stripeLegacy, stripeLatest].filter((install) => !install.skipped)) {
    progress(`  ${install.command}: ${install.ok ? `${install.seconds.toFixed(0)} s` : `FAILED ${install.conflict || install.error}`}`);
    for (const warning of install.warnings ?? []) progress(`    ${warning}`);
  }
  const leanModules = (await readdir(join(oursLean.app, 'node_modules'))).filter((name) => !name.startsWith('.'));
  if (leanModules.length !== 1 || leanModules[0] !== 'stripe-billing-mcp') progress(`! our install without the driver brought more than itself: ${leanModules.join(', ')}`);
  const ours = await binOf(oursLean.app, 'stripe-billing-mcp');
  const stripeBin = needStripe ? await binOf(stripe.app, '@stripe/mcp') : undefined;
  checkDeadline();

  console.log(`\nstripe-billing-mcp ${checkoutState()}; Node ${process.version}, npm ${npmVersion}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
  const figures = { tarball, stripe, stripeBin };
  if (sizes) Object.assign(figures, await sizeTables({ oursFull, oursLean, stripe, stripeLegacy, stripeLatest, stripeBin, tarball }));
  if (ONLY.has('startup')) figures.startupRows = await startupTable(ours, stripeBin);
  if (ONLY.has('help')) Object.assign(figures, await helpTable(ours));
  printSummary(figures);
}

// 1., 2. The tarball and the installs' sizes.
async function sizeTables({ oursFull, oursLean, stripe, stripeLegacy, stripeLatest, stripeBin, tarball }) {
  const driver = await driverState(oursFull.app);
  const size = {};
  for (const install of [oursFull, oursLean, stripe, stripeLegacy, stripeLatest]) if (install.ok) size[install.name] = await walk(join(install.app, 'node_modules'));
  const latestVersion = stripeLatest.ok ? (await binOf(stripeLatest.app, '@stripe/mcp')).version : '?';
  const base = size['ours-lean'].bytes;
  const sizeRow = (label, install, note = '') =>
    install.ok
      ? { install: label, command: install.command, packages: size[install.name].packages, files: size[install.name].files, MB: mb(size[install.name].bytes), '× ours without driver': ratio(size[install.name].bytes, base), note }
      : { install: label, command: install.command, packages: '-', files: '-', MB: '-', '× ours without driver': '-', note: `failed: ${install.conflict || install.error.split('\n').pop()}` };
  const sizeRows = [
    sizeRow('ours, without the driver', oursLean, 'stdio only; serve needs the driver, DATABASE_URL or AUDIT=off'),
    sizeRow('ours, the normal way', oursFull, `better-sqlite3 ${driver.how}; ${driver.loads ? 'loads' : 'DOES NOT LOAD'}${driver.size ? ` (${mb(driver.size.bytes)} MB of it, ${mb(driver.buildBytes)} MB in its build folder)` : ''}`),
    sizeRow(`@stripe/mcp ${stripeBin.version}, the normal way`, stripe, `needs --legacy-peer-deps: ${stripe.needsLegacyPeerDeps}`),
    sizeRow(`@stripe/mcp 0.2.5 --legacy-peer-deps`, stripeLegacy, 'npm skips the peer dependencies (openai, ai, @langchain/core, agents)'),
    sizeRow(`@stripe/mcp ${latestVersion} (latest)`, stripeLatest, 'forwards to mcp.stripe.com: not a local server, not timed'),
  ];
  const tarballRows = [
    { part: 'tarball (.tgz)', files: '', bytes: tarball.bytes, MB: mb(tarball.bytes), share: '' },
    { part: 'unpacked', files: tarball.files, bytes: tarball.unpackedBytes, MB: mb(tarball.unpackedBytes), share: '100 %' },
    ...Object.entries(tarball.kinds).map(([part, { files, bytes }]) => ({ part: `  ${part}`, files, bytes, MB: mb(bytes), share: `${Math.round((bytes / tarball.unpackedBytes) * 100)} %` })),
  ];

  console.log('\nThe tarball (npm pack)');
  console.table(tarballRows);
  console.log('\nInstalled: file bytes under node_modules of an empty folder (symlinks as links), MB = 10^6 bytes');
  console.table(sizeRows);
  return { size, driver };
}

// 3. spawn -> tools/list, interleaved and rotated.
async function startupTable(ours, stripeBin) {
  const servers = [
    { key: 'ours-customer', label: 'ours (customer) --demo', cli: ours.cli, args: ['--demo'] },
    { key: 'stripe', label: `@stripe/mcp@${stripeBin.version} --tools=all`, cli: stripeBin.cli, args: ['--tools=all', `--api-key=${FAKE_KEY}`] },
    { key: 'ours-staff', label: 'ours (staff) --demo --staff', cli: ours.cli, args: ['--demo', '--staff'] },
  ];
  progress('warm-up of each server with the network recorder');
  const netRows = [];
  for (const server of servers) {
    const { tools, attempts } = await networkCheck(server);
    server.tools = tools;
    netRows.push({ server: server.label, tools, 'network attempts before tools/list': attempts.length, first: attempts[0] ?? '' });
    if (attempts.length) progress(`! ${server.label} reached for the network while starting: ${attempts.slice(0, 5).join('; ')}`);
  }
  for (const server of servers) server.times = [];
  for (let round = 0; round < RUNS; round++) {
    checkDeadline();
    progress(`spawn -> tools/list, round ${round + 1}/${RUNS}`);
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(round + i) % servers.length];
      const { elapsed, tools } = await startToToolsList(server.cli, server.args);
      if (tools !== server.tools) progress(`! ${server.label}: ${tools} tools this run, ${server.tools} in the warm-up`);
      server.times.push(elapsed);
    }
  }
  const stripeMedian = median(servers.find((server) => server.key === 'stripe').times);
  const startupRows = servers.map((server) => ({
    server: server.label,
    runs: server.times.length,
    tools: server.tools,
    'median ms': ms(median(server.times)),
    'min ms': ms(Math.min(...server.times)),
    'max ms': ms(Math.max(...server.times)),
    '× stripe (medians)': ratio(median(server.times), stripeMedian),
  }));
  console.log('\nNetwork during start (warm-up run, not timed)');
  console.table(netRows);
  console.log(`\nspawn -> tools/list over stdio (node <bin>, ${RUNS} runs each, interleaved and rotated)`);
  console.table(startupRows);
  return startupRows;
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
function printSummary({ tarball, stripe, stripeBin, size, driver, startupRows, helpRows, floor }) {
  const targets = [];
  if (startupRows) {
    const worstRatio = Math.max(...startupRows.filter((row) => row.server.startsWith('ours')).map((row) => row['× stripe (medians)']));
    targets.push({ target: 'spawn -> tools/list vs Stripe (worst of our modes)', measured: `${worstRatio}x`, limit: `<= ${TARGET_RATIO}x`, met: worstRatio <= TARGET_RATIO });
  }
  if (helpRows) targets.push({ target: '--help, installed bundle (median)', measured: `${helpRows[1]['median ms']} ms`, limit: `<= ${TARGET_HELP_MS} ms`, met: helpRows[1]['median ms'] <= TARGET_HELP_MS });
  if (size) targets.push({ target: 'installed size without the driver', measured: `${mb(size['ours-lean'].bytes)} MB`, limit: `<= ${mb(TARGET_SIZE_BYTES)} MB`, met: size['ours-lean'].bytes <= TARGET_SIZE_BYTES });
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
  if (startupRows) lines.push(`spawn -> tools/list: ${startupRows[0]['median ms']} ms (customer) and ${startupRows[2]['median ms']} ms (staff) against ${startupRows[1]['median ms']} ms for @stripe/mcp ${stripeBin.version}.`);
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
