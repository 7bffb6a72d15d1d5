// Startup, measured on what a user installs, next to Stripe's own local MCP server.
//
//  1. spawn -> `tools/list` answer over stdio (the wait a desktop client sees when it starts a
//     server), for OUR packed server (installed from `npm pack` into an empty folder, staff and
//     customer mode, demo account) and for `@stripe/mcp@0.2.5` (installed from the npm registry
//     into its own folder). Both run as `node <bin>`, never through npx. Runs are interleaved:
//     each round runs the three servers once, in an order rotated every round, so drift (disk
//     cache, a busy machine) hits all of them alike.
//  2. `--help` of the installed bundle, and of `node dist/cli.js --help` for comparison.
//  3. Installed size: our install's node_modules against Stripe's.
//
// Before the timed runs, each server answers once (a warm-up, not counted) with a preload that
// records every outbound socket and DNS look-up: a server that needs the network to start would
// show up there.
//
// Run: npm run bench:startup   (RUNS=7 by default)
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFile, spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST_CLI = join(ROOT, 'dist', 'cli.js');
const STRIPE_PACKAGE = '@stripe/mcp@0.2.5';
const FAKE_KEY = 'sk_test_fake_bench_000000000000';
const RUNS = Math.max(1, Math.min(100, Number.parseInt(process.env.RUNS ?? '7', 10) || 7));
const RUN_TIMEOUT_MS = 30_000;
const INSTALL_TIMEOUT_MS = 300_000;

const TARGET_RATIO = 0.45;
const TARGET_HELP_MS = 150;
const TARGET_SIZE_BYTES = 10 * 1024 * 1024;

const run = promisify(execFile);
const live = new Set(); // child pids still running
let workDir;

// ---------------------------------------------------------------------------------------------
// helpers

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const ms = (value) => Math.round(value);
const mb = (bytes) => (bytes / 1024 / 1024).toFixed(2);

/** Environment of a fresh shell: nothing of ours (no Stripe key, no Redis URL) leaks in. */
const cleanEnv = (extra = {}) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'silent', ...extra });

function killAll() {
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

// ---------------------------------------------------------------------------------------------
// install both servers

async function installOurs() {
  const packDir = join(workDir, 'pack');
  const app = join(workDir, 'ours');
  await mkdir(packDir, { recursive: true });
  await mkdir(app, { recursive: true });
  // `npm run bench:startup` has just built; packing with scripts would build again.
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: ROOT, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024 });
  const [info] = JSON.parse(packed.stdout);
  const tarball = join(packDir, info.filename);
  await writeFile(join(app, 'package.json'), '{"name":"bench-empty-app","private":true}\n');
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: app, timeout: INSTALL_TIMEOUT_MS });
  const installed = (await readdir(join(app, 'node_modules'))).filter((name) => !name.startsWith('.'));
  if (installed.length !== 1 || installed[0] !== 'stripe-billing-mcp') {
    console.warn(`! our install brought more than itself into node_modules: ${installed.join(', ')}`);
  }
  return { app, cli: join(app, 'node_modules', 'stripe-billing-mcp', 'bundle', 'cli.js'), tarballBytes: info.size, unpackedBytes: info.unpackedSize };
}

async function installStripe() {
  const prefix = join(workDir, 'stripe');
  await mkdir(prefix, { recursive: true });
  await run('npm', ['install', '--prefix', prefix, '--legacy-peer-deps', '--no-audit', '--no-fund', STRIPE_PACKAGE], { cwd: prefix, timeout: INSTALL_TIMEOUT_MS });
  const pkgDir = join(prefix, 'node_modules', '@stripe', 'mcp');
  const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8'));
  const binField = typeof pkg.bin === 'string' ? pkg.bin : (pkg.bin?.mcp ?? Object.values(pkg.bin ?? {})[0]);
  if (!binField) throw new Error(`${STRIPE_PACKAGE} has no bin in its package.json`);
  return { app: prefix, cli: resolve(pkgDir, binField), version: pkg.version };
}

// ---------------------------------------------------------------------------------------------
// measurements

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

/** Spawn -> exit of `node <cli> --help`. */
function helpTime(cli) {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, '--help'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (code !== 0 || !out.trim()) reject(new Error(`node ${cli} --help exited ${code}: ${out.trim().slice(0, 500)}`));
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
  console.log(`Installing our packed package and ${STRIPE_PACKAGE} into ${workDir} ...`);
  const [ours, stripe] = await Promise.all([installOurs(), installStripe()]);
  console.log(`  ours:   node ${ours.cli}`);
  console.log(`  stripe: node ${stripe.cli} --tools=all --api-key=${FAKE_KEY}  (@stripe/mcp ${stripe.version})`);

  const servers = [
    { key: 'ours-customer', label: 'ours (customer) --demo', cli: ours.cli, args: ['--demo'] },
    { key: 'stripe', label: `${STRIPE_PACKAGE} --tools=all`, cli: stripe.cli, args: ['--tools=all', `--api-key=${FAKE_KEY}`] },
    { key: 'ours-staff', label: 'ours (staff) --demo --staff', cli: ours.cli, args: ['--demo', '--staff'] },
  ];

  // Warm-up (not timed) with the network recorder: every server must answer without the network.
  const netRows = [];
  for (const server of servers) {
    const { tools, attempts } = await networkCheck(server);
    server.tools = tools;
    netRows.push({ server: server.label, tools, 'network attempts before tools/list': attempts.length, first: attempts[0] ?? '' });
    if (attempts.length) console.warn(`! ${server.label} reached for the network while starting: ${attempts.slice(0, 5).join('; ')}`);
  }

  // 1. spawn -> tools/list, interleaved and rotated.
  for (const server of servers) server.times = [];
  for (let round = 0; round < RUNS; round++) {
    for (let i = 0; i < servers.length; i++) {
      const server = servers[(round + i) % servers.length];
      const { elapsed, tools } = await startToToolsList(server.cli, server.args);
      if (tools !== server.tools) console.warn(`! ${server.label}: ${tools} tools this run, ${server.tools} in the warm-up`);
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
    'ours/stripe (medians)': Number((median(server.times) / stripeMedian).toFixed(2)),
  }));

  // 2. --help, installed bundle against dist, alternating.
  const help = { bundle: [], dist: [] };
  await helpTime(ours.cli); // warm-up
  await helpTime(DIST_CLI);
  for (let round = 0; round < RUNS; round++) {
    const order = round % 2 ? ['dist', 'bundle'] : ['bundle', 'dist'];
    for (const which of order) help[which].push(await helpTime(which === 'bundle' ? ours.cli : DIST_CLI));
  }
  const helpRows = [
    { command: 'node <installed>/bundle/cli.js --help', runs: RUNS, 'median ms': ms(median(help.bundle)), 'min ms': ms(Math.min(...help.bundle)), 'max ms': ms(Math.max(...help.bundle)) },
    { command: 'node dist/cli.js --help', runs: RUNS, 'median ms': ms(median(help.dist)), 'min ms': ms(Math.min(...help.dist)), 'max ms': ms(Math.max(...help.dist)) },
  ];

  // 3. Installed size.
  const ourSize = await walk(join(ours.app, 'node_modules'));
  const stripeSize = await walk(join(stripe.app, 'node_modules'));
  const sizeRows = [
    { install: 'ours (npm pack -> npm install)', packages: ourSize.packages, files: ourSize.files, bytes: ourSize.bytes, MB: mb(ourSize.bytes) },
    { install: STRIPE_PACKAGE, packages: stripeSize.packages, files: stripeSize.files, bytes: stripeSize.bytes, MB: mb(stripeSize.bytes) },
  ];

  console.log('\nNetwork during start (warm-up run, not timed)');
  console.table(netRows);
  console.log(`\nspawn -> tools/list over stdio (node <bin>, ${RUNS} runs each, interleaved)`);
  console.table(startupRows);
  console.log(`\n--help (${RUNS} runs each, alternating)`);
  console.table(helpRows);
  console.log(`\nInstalled node_modules (file bytes; symlinks counted as links); our tarball ${tarballInfo(ours)}`);
  console.table(sizeRows);

  const worstRatio = Math.max(...startupRows.filter((row) => !row.server.startsWith('@stripe')).map((row) => row['ours/stripe (medians)']));
  console.log('\nTargets');
  console.table([
    { target: 'spawn -> tools/list vs Stripe (worst of our modes)', measured: `${worstRatio}x`, limit: `<= ${TARGET_RATIO}x`, met: worstRatio <= TARGET_RATIO },
    { target: '--help, installed bundle (median)', measured: `${helpRows[0]['median ms']} ms`, limit: `<= ${TARGET_HELP_MS} ms`, met: helpRows[0]['median ms'] <= TARGET_HELP_MS },
    { target: 'installed size', measured: `${mb(ourSize.bytes)} MB`, limit: `<= ${mb(TARGET_SIZE_BYTES)} MB`, met: ourSize.bytes <= TARGET_SIZE_BYTES },
  ]);
  console.log(`\nNode ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);
}

const tarballInfo = (ours) => `${mb(ours.tarballBytes)} MB packed, ${mb(ours.unpackedBytes)} MB unpacked`;

async function cleanUp() {
  killAll();
  if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => {});
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await cleanUp();
    process.exit(130);
  });
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
