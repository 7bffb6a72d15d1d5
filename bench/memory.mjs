// Memory under steady warm load: does the server's RSS level off, or keep what the load made it
// take? N conversations at a time call tools over /v1/tools and /mcp (alternating), each
// conversation M calls and then a new one takes its place (new conversation ids, as a live
// chatbot has), for MINUTES minutes. The fake Stripe, each server and this load generator are
// separate processes; RSS comes from /proc/<pid>/status, the heap from the server's /metrics.
//
// Prints RSS (and heap used / heap total / external) every SAMPLE_SECONDS, then a table: RSS after
// 1 minute, at the end, and their ratio (the target: the end within 20 % of the first minute).
// With BEFORE_DIR (a build of the code to compare with, as for bench:http) both servers run at
// the same time under the same load, each with its own N conversations.
//
// Run: npm run bench:memory                 (10 minutes)
//      MINUTES=2 npm run bench:memory       (a quick check; say so when quoting it)
// Knobs (env): MINUTES=10 N=50 M=20 SAMPLE_SECONDS=30 BEFORE_DIR= AFTER_DIR=<this checkout>
//   STRIPE_LATENCY_MS=150 STRIPE_JITTER_MS=20 HEAP_SNAPSHOTS=1 (the servers run with
//   --heapsnapshot-signal=SIGUSR2; the bench takes one after 1 minute and one at the end, and
//   prints where they are: compare them in Chrome DevTools → Memory)
//   AFTER_NODE_ARGS="--max-old-space-size=160" (node flags for the "after" server only, to try a setting
//   side by side: BEFORE_DIR and AFTER_DIR may be the same build)
// The servers run with the call limits raised (HOST_CALLS_PER_MINUTE, CONVERSATION_CALLS_PER_MINUTE:
// the defaults would refuse most of this load) and otherwise serve's defaults: the read cache's
// 60 s TTL (entries expire and are fetched again), the audit trail on (SQLite), the memory store.
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { post, send } from './support/http-client.mjs';
import { processStats, startFakeStripe, stopAll } from './support/processes.mjs';
import { startServeFrom, THIS_CHECKOUT } from './support/serve-build.mjs';
import { mintIdentityToken } from '../dist/demo/demo-identity.js';

const MINUTES = Number(process.env.MINUTES ?? 10);
const N = Number(process.env.N ?? 50);
const M = Number(process.env.M ?? 20);
const SAMPLE_SECONDS = Number(process.env.SAMPLE_SECONDS ?? 30);
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
const tokens = new Map(await Promise.all(EMAILS.map(async (email) => [email, await mintIdentityToken(email, IDENTITY_SECRET, 24 * 3600)])));

/** The server's heap figures from its Prometheus metrics (prom-client's default process metrics). */
async function heapOf(target) {
  const { text } = await send(`${target.url}/metrics`, { headers: { authorization: `Bearer ${STAFF_KEY}` } });
  const value = (name) => Number(new RegExp(`^sbm_${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
  const space = (name) => Number(new RegExp(`^sbm_nodejs_heap_space_size_total_bytes\\{space="${name}"\\} ([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { heapUsed: value('nodejs_heap_size_used_bytes'), heapTotal: value('nodejs_heap_size_total_bytes'), external: value('nodejs_external_memory_bytes'), oldSpace: space('old'), newSpace: space('new') };
}

async function sample(target) {
  const { rssMb } = processStats(target.pid);
  const heap = await heapOf(target);
  return { at: Math.round(elapsed()), rss: Math.round(rssMb), heapUsed: mb(heap.heapUsed), heapTotal: mb(heap.heapTotal), oldSpace: mb(heap.oldSpace), newSpace: mb(heap.newSpace), external: mb(heap.external) };
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
    const snapshotDir = HEAP_SNAPSHOTS ? (await import('node:fs')).mkdtempSync(`/tmp/bench-memory-${name}-`) : undefined;
    const extraArgs = name === 'after' ? (process.env.AFTER_NODE_ARGS ?? '').split(' ').filter(Boolean) : [];
    const server = await startServeFrom(dir, env, { nodeArgs: [...(HEAP_SNAPSHOTS ? ['--heapsnapshot-signal=SIGUSR2'] : []), ...extraArgs], cwd: snapshotDir });
    targets.push({ name, dir, snapshotDir, counts: { calls: 0, errors: 0 }, samples: [], ...server });
  }
  for (const target of targets) target.samples.push({ ...(await sample(target)), calls: 0 });
  progress(`started: ${targets.map((target) => `${target.name} RSS ${target.samples[0].rss} MB`).join(', ')}; load for ${MINUTES} min`);
  const deadline = performance.now() + MINUTES * 60_000;
  const load = targets.flatMap((target) => Array.from({ length: N }, () => slot(target, deadline, target.counts)));
  let snapshotTaken = false;
  while (performance.now() < deadline) {
    await sleep(Math.min(SAMPLE_SECONDS * 1000, deadline - performance.now()));
    for (const target of targets) {
      const figures = { ...(await sample(target)), calls: target.counts.calls };
      target.samples.push(figures);
      progress(`${target.name}: RSS ${figures.rss} MB, heap ${figures.heapUsed}/${figures.heapTotal} MB (old space ${figures.oldSpace}, new space ${figures.newSpace}), external ${figures.external} MB, ${figures.calls} calls, ${target.counts.errors} errors`);
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

  // RSS after 1 minute of load: the sample nearest to 60 s after the load began.
  const table = targets.map((target) => {
    const base = target.samples[0].at;
    const atMinute = target.samples.reduce((best, s) => (Math.abs(s.at - base - 60) < Math.abs(best.at - base - 60) ? s : best));
    const last = target.samples.at(-1);
    return {
      server: target.name,
      'RSS at start MB': target.samples[0].rss,
      'RSS after 1 min MB': atMinute.rss,
      [`RSS after ${MINUTES} min MB`]: last.rss,
      'end / 1 min': (last.rss / atMinute.rss).toFixed(2),
      'peak RSS MB': Math.round(processStats(target.pid).peakRssMb),
      'heap used end MB': last.heapUsed,
      'heap total end MB': last.heapTotal,
      calls: target.counts.calls,
      'calls/s': Math.round(target.counts.calls / (MINUTES * 60)),
      errors: target.counts.errors,
    };
  });
  console.table(table);
  console.log(`${N} conversations at a time per server (${M} calls each, then a new conversation), /v1/tools and /mcp alternating, ${MINUTES} min, fake Stripe at ${process.env.STRIPE_LATENCY_MS ?? 150} ms in its own process, ${cpus().length} cores, Node ${process.version}.`);
  if (HEAP_SNAPSHOTS) for (const target of targets) console.log(`${target.name}: heap snapshots in ${target.snapshotDir}: ${readdirSync(target.snapshotDir).join(', ')}`);
} finally {
  for (const target of targets) await target.stop();
  await stripe.stop();
  await stopAll();
}
