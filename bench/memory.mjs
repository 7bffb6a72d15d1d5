// Memory under steady warm load: does the server's RSS level off, or keep what the load made it
// take? N conversations at a time call tools over /v1/tools and /mcp (alternating), each
// conversation M calls and then a new one takes its place (new conversation ids, as a live
// chatbot has), for MINUTES minutes. The fake Stripe, each server and this load generator are
// separate processes.
//
// What RSS is made of comes from two places: /proc/<pid>/status (RSS, and its anonymous and
// file-backed parts) and bench/support/memory-probe.mjs, preloaded into each server (node
// --import), which writes every thread's process.memoryUsage() and V8 heap figures each second:
// the main thread's heap, the audit trail's SQLite worker's heap, external memory and Buffers
// (arrayBuffers). "native" is what is left of the anonymous RSS: malloc (glibc arenas, SQLite,
// V8's own malloc), thread stacks, compiled code outside the heap spaces.
//
// Prints one line per server every SAMPLE_SECONDS, then two tables: RSS after 1 minute, at the
// end and their ratio (the target: the end within 20 % of the first minute), with the highest
// sample of the first and of the last minute (RSS is a sawtooth: one sample may fall on a peak or
// a trough); and what RSS was made of at those two moments.
// With BEFORE_DIR (a build of the code to compare with, as for bench:http) both servers run at
// the same time under the same load, each with its own N conversations.
//
// Run: npm run bench:memory                 (10 minutes)
//      MINUTES=2 npm run bench:memory       (a quick check; say so when quoting it)
// Knobs (env): MINUTES=10 N=50 M=20 SAMPLE_SECONDS=10 BEFORE_DIR= AFTER_DIR=<this checkout>
//   STRIPE_LATENCY_MS=150 STRIPE_JITTER_MS=20 HEAP_SNAPSHOTS=1 (the servers run with
//   --heapsnapshot-signal=SIGUSR2; the bench takes one after 1 minute and one at the end, and
//   prints where they are: compare them in Chrome DevTools → Memory)
//   BEFORE_NODE_ARGS= AFTER_NODE_ARGS="--max-old-space-size=160" (node flags for one server, to
//   try a setting side by side: BEFORE_DIR and AFTER_DIR may be the same build)
//   BEFORE_ENV= AFTER_ENV="CACHE_MAX_MB=16 AUDIT=off" (settings for one server only)
// The servers run with the call limits raised (HOST_CALLS_PER_MINUTE, CONVERSATION_CALLS_PER_MINUTE:
// the defaults would refuse most of this load) and otherwise serve's defaults: the read cache's
// 60 s TTL (entries expire and are fetched again), the audit trail on (SQLite), the memory store.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { post } from './support/http-client.mjs';
import { processStats, startFakeStripe, stopAll } from './support/processes.mjs';
import { startServeFrom, THIS_CHECKOUT } from './support/serve-build.mjs';
import { mintIdentityToken } from '../dist/demo/demo-identity.js';

const MINUTES = Number(process.env.MINUTES ?? 10);
const N = Number(process.env.N ?? 50);
const M = Number(process.env.M ?? 20);
const SAMPLE_SECONDS = Number(process.env.SAMPLE_SECONDS ?? 10);
const HEAP_SNAPSHOTS = ['1', 'true', 'yes'].includes(process.env.HEAP_SNAPSHOTS ?? '');
const STRIPE_KEY = 'rk_test_fake_bench_0000000000000000';
const HOST_KEY = 'bench_host_key_000000000000000000000';
const STAFF_KEY = 'bench_staff_key_00000000000000000000';
const IDENTITY_SECRET = 'bench-identity-secret-at-least-32-bytes!!';
const EMAILS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.jp', 'frank@example.com', 'heidi@example.com'];
const TOOLS = ['get_subscription_status', 'get_upcoming_invoice', 'get_invoice_history', 'get_payment_history', 'get_billing_info', 'get_credit_balance', 'get_available_plans', 'get_customer_overview'];

const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const progress = (message) => process.stderr.write(`[${elapsed().toFixed(0).padStart(4)}s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes) => Math.round(bytes / 1024 / 1024);
const PROBE = fileURLToPath(new URL('./support/memory-probe.mjs', import.meta.url));
/** "A=1 B=2" → { A: '1', B: '2' } */
const settingsOf = (text = '') => Object.fromEntries(text.split(/\s+/).filter(Boolean).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const tokens = new Map(await Promise.all(EMAILS.map(async (email) => [email, await mintIdentityToken(email, IDENTITY_SECRET, 24 * 3600)])));

/** RSS and its anonymous and file-backed (the node binary, shared libraries) parts, in bytes, from /proc. */
function rssOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') };
}

/** What the probe last wrote for each of the server's threads: the main thread first. */
function threadsOf(target) {
  const prefix = 'probe.';
  return readdirSync(target.probeDir)
    .filter((name) => name.startsWith(prefix) && !name.endsWith('.tmp'))
    .map((name) => JSON.parse(readFileSync(join(target.probeDir, name), 'utf8')))
    .sort((a, b) => a.threadId - b.threadId);
}

/** One sample of a server, in MB. */
function sample(target) {
  const proc = rssOf(target.pid);
  const [main, ...workers] = threadsOf(target);
  const workerHeap = workers.reduce((sum, worker) => sum + worker.heapTotal, 0);
  // Buffers and typed arrays: arrayBuffers is process-wide (each thread reports all of them).
  const buffers = main.arrayBuffers;
  return {
    at: Math.round(elapsed()),
    rss: mb(proc.rss),
    fileBacked: mb(proc.file),
    heapUsed: mb(main.heapUsed),
    live: mb(main.liveAfterFullGc),
    fullGcs: main.fullGcs,
    heapTotal: mb(main.heapTotal),
    oldSpace: mb(main.spaces.old_space ?? 0),
    newSpace: mb(main.spaces.new_space ?? 0),
    external: mb(main.external),
    buffers: mb(buffers),
    workerHeap: mb(workerHeap),
    v8Malloced: mb(main.malloced + workers.reduce((sum, worker) => sum + worker.malloced, 0)),
    workerNewSpace: mb(workers.reduce((sum, worker) => sum + (worker.spaces.new_space ?? 0), 0)),
    workerLive: mb(workers.reduce((sum, worker) => sum + worker.liveAfterFullGc, 0)),
    workers: workers.length,
    // The rest of the anonymous memory: malloc (SQLite, V8's own, glibc arenas), stacks, code.
    native: mb(proc.anon - main.heapTotal - workerHeap - buffers),
  };
}

let conversationsStarted = 0;
/** One conversation slot: conversations one after another, M calls each, until the deadline. */
async function slot(target, deadline, counts) {
  while (performance.now() < deadline) {
    const id = conversationsStarted++;
    const email = EMAILS[id % EMAILS.length];
    const conversation = `mem-${target.name}-${id}`;
    for (let call = 0; call < M && performance.now() < deadline; call++) {
      const tool = TOOLS[(id + call) % TOOLS.length];
      const headers = { authorization: `Bearer ${HOST_KEY}`, 'x-customer-token': tokens.get(email), 'x-conversation-id': conversation, 'content-type': 'application/json' };
      try {
        const response =
          call % 2 === 0
            ? await post(`${target.url}/v1/tools/${tool}`, headers, '{}')
            : await post(`${target.url}/mcp`, { ...headers, accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }));
        counts.calls++;
        if (response.status !== 200 || /"is_error":true|"isError":true/.test(response.text)) counts.errors++;
      } catch {
        counts.calls++;
        counts.errors++;
      }
    }
  }
}

const stripe = await startFakeStripe({ STRIPE_LATENCY_MS: process.env.STRIPE_LATENCY_MS ?? '150', STRIPE_JITTER_MS: process.env.STRIPE_JITTER_MS ?? '20' });
const env = {
  STRIPE_API_KEY: STRIPE_KEY,
  STRIPE_API_BASE: stripe.url,
  HOST_KEYS: `bench:${HOST_KEY}`,
  STAFF_KEYS: `bench:${STAFF_KEY}`,
  IDENTITY_SECRET,
  HOST_CALLS_PER_MINUTE: '1000000',
  CONVERSATION_CALLS_PER_MINUTE: '100000',
};
const builds = [...(process.env.BEFORE_DIR ? [['before', process.env.BEFORE_DIR]] : []), ['after', process.env.AFTER_DIR ?? THIS_CHECKOUT]];
const targets = [];
try {
  for (const [name, dir] of builds) {
    const snapshotDir = HEAP_SNAPSHOTS ? mkdtempSync(join(tmpdir(), `bench-memory-${name}-`)) : undefined;
    const probeDir = mkdtempSync(join(tmpdir(), `bench-memory-probe-${name}-`));
    const nodeArgs = [`--import=${PROBE}`, ...(HEAP_SNAPSHOTS ? ['--heapsnapshot-signal=SIGUSR2'] : []), ...(process.env[`${name.toUpperCase()}_NODE_ARGS`] ?? '').split(' ').filter(Boolean)];
    const serverEnv = { ...env, ...settingsOf(process.env[`${name.toUpperCase()}_ENV`]), MEMORY_PROBE_FILE: join(probeDir, 'probe') };
    const server = await startServeFrom(dir, serverEnv, { nodeArgs, cwd: snapshotDir });
    targets.push({ name, dir, snapshotDir, probeDir, counts: { calls: 0, errors: 0 }, samples: [], ...server });
  }
  await sleep(1_100); // the probe's first figures from every thread (the audit worker starts with the server)
  for (const target of targets) target.samples.push({ ...sample(target), calls: 0 });
  progress(`started: ${targets.map((target) => `${target.name} RSS ${target.samples[0].rss} MB`).join(', ')}; load for ${MINUTES} min`);
  const deadline = performance.now() + MINUTES * 60_000;
  const load = targets.flatMap((target) => Array.from({ length: N }, () => slot(target, deadline, target.counts)));
  let snapshotTaken = false;
  while (performance.now() < deadline) {
    await sleep(Math.min(SAMPLE_SECONDS * 1000, deadline - performance.now()));
    for (const target of targets) {
      const figures = { ...sample(target), calls: target.counts.calls };
      target.samples.push(figures);
      progress(
        `${target.name}: RSS ${figures.rss} MB = heap ${figures.heapTotal} (used ${figures.heapUsed}, live after the last full GC ${figures.live}, ${figures.fullGcs} full GCs; old ${figures.oldSpace}, new ${figures.newSpace}) + worker heap ${figures.workerHeap} (new space ${figures.workerNewSpace}, live ${figures.workerLive}) + buffers ${figures.buffers} + native ${figures.native} (of which V8's own malloc ${figures.v8Malloced}) + file-backed ${figures.fileBacked}; external ${figures.external}; ${figures.calls} calls, ${target.counts.errors} errors`,
      );
    }
    if (HEAP_SNAPSHOTS && !snapshotTaken && elapsed() >= 60) {
      snapshotTaken = true;
      for (const target of targets) target.signal('SIGUSR2');
    }
  }
  await Promise.all(load);
  if (HEAP_SNAPSHOTS) {
    for (const target of targets) target.signal('SIGUSR2');
    await sleep(15_000);
  }

  // After 1 minute of load: the sample nearest to 60 s after the load began. RSS follows V8's
  // sawtooth (garbage piles up between full collections), so one sample can fall on a peak or a
  // trough: the highest sample of minute 1 and of the last minute say whether the peaks still climb.
  const moments = targets.map((target) => {
    const base = target.samples[0].at;
    const atMinute = target.samples.reduce((best, s) => (Math.abs(s.at - base - 60) < Math.abs(best.at - base - 60) ? s : best));
    const highest = (from, to) => Math.max(...target.samples.filter((s) => s.at - base > from && s.at - base <= to).map((s) => s.rss));
    const end = target.samples.at(-1).at - base;
    return { target, atMinute, last: target.samples.at(-1), peakMinute1: highest(0, 60), peakLastMinute: highest(end - 60, end) };
  });
  console.log('\nRSS under load (MB)');
  console.table(
    moments.map(({ target, atMinute, last, peakMinute1, peakLastMinute }) => ({
      server: target.name,
      'at start': target.samples[0].rss,
      'after 1 min': atMinute.rss,
      [`after ${MINUTES} min`]: last.rss,
      'end / 1 min': (last.rss / atMinute.rss).toFixed(2),
      'highest in min 1': peakMinute1,
      'highest in last min': peakLastMinute,
      'last / first': (peakLastMinute / peakMinute1).toFixed(2),
      'peak (VmHWM)': Math.round(processStats(target.pid).peakRssMb),
      'calls/s': Math.round(target.counts.calls / (MINUTES * 60)),
      errors: target.counts.errors,
    })),
  );
  console.log(`What RSS is made of (MB), after 1 min → after ${MINUTES} min`);
  const parts = [
    ['live heap (after the last full GC)', 'live'],
    ['heap used (main thread)', 'heapUsed'],
    ['heap committed (main thread)', 'heapTotal'],
    ['  of which old space', 'oldSpace'],
    ['  of which new space', 'newSpace'],
    ['external (V8)', 'external'],
    ['Buffers / ArrayBuffers', 'buffers'],
    ['worker threads\' heaps', 'workerHeap'],
    ['native (malloc, stacks, code)', 'native'],
    ['file-backed (binary, libraries)', 'fileBacked'],
    ['RSS', 'rss'],
  ];
  console.table(Object.fromEntries(parts.map(([label, field]) => [label, Object.fromEntries(moments.map(({ target, atMinute, last }) => [target.name, `${atMinute[field]} → ${last[field]}`]))])));
  console.log(`${N} conversations at a time per server (${M} calls each, then a new conversation), /v1/tools and /mcp alternating, ${MINUTES} min, fake Stripe at ${process.env.STRIPE_LATENCY_MS ?? 150} ms in its own process, ${cpus().length} cores, Node ${process.version}.`);
  for (const name of ['BEFORE', 'AFTER']) {
    for (const knob of ['NODE_ARGS', 'ENV']) if (process.env[`${name}_${knob}`]) console.log(`${name.toLowerCase()}: ${name}_${knob}=${process.env[`${name}_${knob}`]}`);
  }
  if (HEAP_SNAPSHOTS) for (const target of targets) console.log(`${target.name}: heap snapshots in ${target.snapshotDir}: ${readdirSync(target.snapshotDir).join(', ')}`);
} finally {
  for (const target of targets) {
    await target.stop();
    rmSync(target.probeDir, { recursive: true, force: true });
  }
  await stripe.stop();
  await stopAll();
}
