// What the read-through cache saves and costs, with a Stripe that takes STRIPE_LATENCY_MS per
// request. The fake Stripe, each `serve` process, redis-server and this load generator are
// separate processes on loopback ports, so the figures are the server's own (CPU and RSS come
// from /proc of the serve process).
//
// Table 1 (per customer question): for each question → tool, the first call on a freshly started
//   server (cold) and the same call again (warm): Stripe requests, sequential Stripe rounds,
//   latency; without and with webhooks (STRIPE_WEBHOOK_SECRET).
// Table 2 (load): N concurrent conversations × M calls each, rotating through the tools and the
//   demo customers, on a fresh server per row: throughput, latency, Stripe requests and server
//   CPU per call, RSS, errors; over /v1/tools and /mcp, without and with webhooks, plus two
//   processes sharing one Redis.
// Table 3 (burst): a cold start under Stripe's own rate limits. The fake Stripe (a process of its
//   own) enforces a sandbox's limits (global 25/s, 25/s per endpoint, 20 searches/s: 429 with
//   Stripe-Rate-Limited-Reason); two serve processes share one Redis (STORE_URL, so one Stripe
//   request budget) and 60 conversations × 5 calls all start at once on empty caches. Once with
//   the servers' budget as configured (STRIPE_RATE_LIMIT unset: 25/s for an rk_test_ key), once
//   with STRIPE_RATE_LIMIT=1000: Stripe 429s drawn, the fake's busiest second, busy answers.
// Table 4 (cold caches): two serve processes on one Redis, a fake Stripe enforcing a sandbox's
//   limits at 60 ± 15 ms, 100 conversations over 8 customers starting together on empty caches,
//   3 questions each with 1–2 s between them (as people type); once as is, once with the Redis
//   flushed once every first question is answered. With BEFORE_DIR (another checkout, built), each
//   row runs that build and this one side by side.
//
// Table 2's throughput rows raise the servers' call limits (HOST_CALLS_PER_MINUTE,
// CONVERSATION_CALLS_PER_MINUTE) so they measure the server; one row keeps the defaults and shows
// what they cap.
//
// Run: npm run bench:stripe   (only the burst: ONLY=burst npm run bench:stripe)
//      BEFORE_DIR=/tmp/sbm-before ONLY=coldcache npm run bench:stripe
// Knobs (env): ONLY=cold,load,burst,coldcache (which tables) STRIPE_LATENCY_MS=150 STRIPE_JITTER_MS=20 REPS=5
//   COLD_CUSTOMERS=alice@example.com LOAD=50x20,500x20 (conversations x calls; the Redis row uses
//   the last) BURST=60x5 BURST_LIMITS=global:25,endpoint:25,search:20 BENCH_MAX_SECONDS=600
//   COLDCACHE=100x3 COLDCACHE_LATENCY_MS=60 COLDCACHE_JITTER_MS=15 COLDCACHE_RUNS=2 BEFORE_DIR=
//   Table 4 diagnostics: COLDCACHE_TRACE=/tmp/trace writes each row's calls and the fake's request
//   log to /tmp/trace-<run>-<build>-<cold|flush>.json; COLDCACHE_PRIME=1 makes one call per process and
//   flushes Redis before the row, so the row measures cold caches on processes past their first call.
//   Server settings in PASS_THROUGH below go to the serve processes when set here.
import { post } from './support/http-client.mjs';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { mintIdentityToken } from '../dist/demo/demo-identity.js';
import { processStats, redisCommand, startFakeStripe, startRedis, startServe, stopAll, runGuarded } from './support/processes.mjs';

const LATENCY_MS = Number(process.env.STRIPE_LATENCY_MS ?? 150);
const JITTER_MS = Number(process.env.STRIPE_JITTER_MS ?? 20);
const REPS = Number(process.env.REPS ?? 5);
const COLD_CUSTOMERS = (process.env.COLD_CUSTOMERS ?? 'alice@example.com').split(',');
const LOAD = (process.env.LOAD ?? '50x20,500x20').split(',').map((spec) => {
  const [conversations, calls] = spec.split('x').map(Number);
  return { conversations, calls };
});
const TABLES = ['cold', 'load', 'burst', 'coldcache'];
const ONLY = new Set((process.env.ONLY ?? TABLES.join(',')).split(',').map((name) => name.trim()).filter(Boolean));
for (const name of ONLY) if (!TABLES.includes(name)) throw new Error(`ONLY: unknown table "${name}" (${TABLES.join(', ')})`);
const [BURST_CONVERSATIONS, BURST_CALLS] = (process.env.BURST ?? '60x5').split('x').map(Number);
// Stripe's limits for a sandbox account, as the fake enforces them in table 3.
const BURST_LIMITS = process.env.BURST_LIMITS ?? 'global:25,endpoint:25,search:20';
const [COLDCACHE_CONVERSATIONS, COLDCACHE_QUESTIONS] = (process.env.COLDCACHE ?? '100x3').split('x').map(Number);
const COLDCACHE_LATENCY_MS = Number(process.env.COLDCACHE_LATENCY_MS ?? 60);
const COLDCACHE_JITTER_MS = Number(process.env.COLDCACHE_JITTER_MS ?? 15);
// The target holds "in every run": each run is the four rows (cold start and flush, before and after) again.
const COLDCACHE_RUNS = Number(process.env.COLDCACHE_RUNS ?? 2);
// The "before" build for table 4: a checkout of the commit to compare with, built (npm run build).
const BEFORE_CLI = process.env.BEFORE_DIR ? join(resolve(process.env.BEFORE_DIR), 'dist', 'cli.js') : undefined;
const DEADLINE = Date.now() + Number(process.env.BENCH_MAX_SECONDS ?? 600) * 1000;
// Server settings that change what is measured: taken from the bench's environment when set, so
// a row can be rerun with another TTL or limit. Everything else is fixed (startServe's clean env).
const PASS_THROUGH = ['AUDIT', 'DATABASE_URL', 'CACHE_TTL_SECONDS', 'CACHE_MAX_MB', 'STRIPE_RATE_LIMIT', 'CALLER_STRIPE_SHARE', 'HOST_CALLS_PER_MINUTE', 'CONVERSATION_CALLS_PER_MINUTE'];
const passedThrough = Object.fromEntries(PASS_THROUGH.filter((name) => process.env[name]).map((name) => [name, process.env[name]]));
// Throughput rows measure the server, not its limits per host key, conversation and client address
// (defaults 6,000 and 60 calls a minute, 256 connections: 500 conversations × 20 calls from one host
// key on one address would hit the first and the last).
const RAISED_CALL_LIMITS = { HOST_CALLS_PER_MINUTE: '1000000', CONVERSATION_CALLS_PER_MINUTE: '100000', MAX_CONNECTIONS_PER_CLIENT: '2048' };

// Fake credentials: they open nothing but the fake Stripe and the bench's own servers.
const STRIPE_KEY = 'rk_test_fake_bench_0000000000000000';
const HOST_KEY = 'bench_host_key_000000000000000000000';
const IDENTITY_SECRET = 'bench-identity-secret-at-least-32-bytes!!';
const VERIFY_SECRET = 'bench-verify-secret-at-least-32-bytes!!!!';
const WEBHOOK_SECRET = 'whsec_bench_00000000000000000000000000';

const QUESTIONS = [
  ['What plan am I on?', 'get_subscription_status'],
  ['When is my next payment?', 'get_upcoming_invoice'],
  ['Show my last invoices', 'get_invoice_history'],
  ['Did my payment go through?', 'get_payment_history'],
  ['Which card is on file?', 'get_billing_info'],
  ['Do I have credit?', 'get_credit_balance'],
  ['Which plans are there?', 'get_available_plans'],
  ['Give me an overview', 'get_customer_overview'],
];
const TOOLS = QUESTIONS.map(([, tool]) => tool);
const EMAILS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.jp', 'frank@example.com', 'heidi@example.com'];
// Table 4's 8 customers.
const COLDCACHE_EMAILS = [...EMAILS, 'alice+work@example.com'];

const benchStarted = performance.now();
const progress = (message) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const tokens = new Map(await Promise.all([...new Set([...EMAILS, ...COLDCACHE_EMAILS, ...COLD_CUSTOMERS, 'bob.alice@example.com'])].map(async (email) => [email, await mintIdentityToken(email, IDENTITY_SECRET, 3600)])));

function checkDeadline() {
  if (Date.now() > DEADLINE) throw new Error('the bench ran longer than BENCH_MAX_SECONDS; stopping (lower LOAD or REPS)');
}

function serveEnv(stripe, { webhooks, redis, settings = {} }) {
  return {
    STRIPE_API_KEY: STRIPE_KEY,
    STRIPE_API_BASE: stripe.url,
    HOST_KEYS: `bench:${HOST_KEY}`,
    IDENTITY_SECRET,
    ...passedThrough,
    ...settings,
    ...(webhooks ? { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } : {}),
    ...(redis ? { STORE_URL: redis.url, VERIFY_SECRET } : {}),
  };
}


// Digits (retry-after seconds) are blurred so that one kind of refusal is counted as one kind.
const blur = (message) => String(message).slice(0, 100).replace(/\d+/g, 'N');

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * One tool call as a chatbot host makes it, over the plain JSON API or MCP (tools/call, JSON
 * answer). Resolves with the latency and, when the call failed, what failed (never throws).
 */
async function callTool({ server, transport, tool, email, conversationId }) {
  const headers = {
    authorization: `Bearer ${HOST_KEY}`,
    'x-customer-token': tokens.get(email),
    'x-conversation-id': conversationId,
    'content-type': 'application/json',
  };
  const call =
    transport === '/mcp'
      ? {
          url: `${server.url}/mcp`,
          headers: { ...headers, accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }),
        }
      : { url: `${server.url}/v1/tools/${tool}`, headers, body: '{}' };
  const started = performance.now();
  let error;
  let status = 0;
  try {
    const response = await post(call.url, call.headers, call.body);
    status = response.status;
    const answer = parseJson(response.text);
    if (status !== 200) error = `HTTP ${status}${answer?.error?.kind ? ` (${answer.error.kind}: "${blur(answer.error.message)}")` : ''}`;
    else if (answer === undefined) error = 'answer is not JSON';
    else if (transport === '/mcp') {
      if (answer.error) error = `JSON-RPC error ${answer.error.code}`;
      // A refused MCP call has only its text to say why.
      else if (answer.result?.isError) error = `MCP isError: "${blur(answer.result.content?.[0]?.text)}"`;
    } else if (answer.is_error) error = `is_error (${answer.error?.kind})`;
  } catch (failure) {
    error = `request failed (${failure.code ?? failure.name})`;
  }
  return { ms: performance.now() - started, status, error };
}

/** Depth of each request in the longest chain of requests that each start after the previous one ended. */
function chainDepths(requests) {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  const depths = [];
  sorted.forEach((request, i) => {
    let depth = 1;
    for (let j = 0; j < i; j++) if (sorted[j].end !== null && sorted[j].end <= request.start) depth = Math.max(depth, depths[j] + 1);
    depths.push(depth);
  });
  return sorted.map((request, i) => ({ ...request, round: depths[i] }));
}
const stripeRounds = (requests) => Math.max(0, ...chainDepths(requests).map((request) => request.round));

/** "1: GET /v1/customers/search, GET /v1/customers → 2: GET /v1/subscriptions ×2": what a call asked, round by round. */
function describeRounds(requests) {
  const rounds = new Map();
  for (const { round, method, path } of chainDepths(requests)) {
    const counts = rounds.get(round) ?? new Map();
    counts.set(`${method} ${path}`, (counts.get(`${method} ${path}`) ?? 0) + 1);
    rounds.set(round, counts);
  }
  return [...rounds.entries()]
    .sort(([a], [b]) => a - b)
    .map(([round, counts]) => `${round}: ${[...counts].map(([what, n]) => (n > 1 ? `${what} ×${n}` : what)).join(', ')}`)
    .join(' → ');
}

// Nearest-rank percentile: with 5 samples p50 is the 3rd and p99 the slowest.
const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
};
const range = (values) => (Math.min(...values) === Math.max(...values) ? values[0] : `${Math.min(...values)}–${Math.max(...values)}`);
const round1 = (value) => Math.round(value * 10) / 10;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const errorLog = [];

// ---------------------------------------------------------------------------------------------
// Table 1: cold and warm, one question at a time on a fresh server.

async function coldWarm(stripe, email, question, tool, webhooks) {
  const phases = { cold: { requests: [], rounds: [], ms: [] }, warm: { requests: [], rounds: [], ms: [] } };
  let errors = 0;
  let coldLog;
  for (let rep = 0; rep < REPS; rep++) {
    checkDeadline();
    const server = await startServe(serveEnv(stripe, { webhooks }));
    try {
      // The start-up permission probe has finished once /healthz answers: forget its requests.
      await stripe.reset();
      for (const [phase, figures] of Object.entries(phases)) {
        const result = await callTool({ server, transport: '/v1/tools', tool, email, conversationId: `cold-${rep}` });
        const log = await stripe.requests();
        await stripe.reset();
        if (phase === 'cold') coldLog ??= log;
        figures.requests.push(log.length);
        figures.rounds.push(stripeRounds(log));
        figures.ms.push(result.ms);
        if (result.error) {
          errors++;
          errorLog.push(`table 1, ${tool} ${phase} (${email}, webhooks ${webhooks ? 'yes' : 'no'}): ${result.error}`);
        }
      }
    } finally {
      await server.stop();
    }
  }
  const { cold, warm } = phases;
  return {
    row: {
      question,
      tool,
      ...(COLD_CUSTOMERS.length > 1 ? { customer: email } : {}),
      webhooks: webhooks ? 'yes' : 'no',
      'cold Stripe req': range(cold.requests),
      'cold rounds': range(cold.rounds),
      'cold p50 ms': Math.round(percentile(cold.ms, 50)),
      'cold p99 ms': Math.round(percentile(cold.ms, 99)),
      'warm Stripe req': range(warm.requests),
      'warm rounds': range(warm.rounds),
      'warm p50 ms': round1(percentile(warm.ms, 50)),
      'warm p99 ms': round1(percentile(warm.ms, 99)),
      errors,
    },
    coldLog,
  };
}

// ---------------------------------------------------------------------------------------------
// Table 2: load on fresh server(s) per row, so every row starts with an empty cache.

async function loadRow(stripe, { transport, webhooks, conversations, calls, processes = 1, shareRedis = false, callLimits = 'raised' }) {
  checkDeadline();
  const label = `${transport} webhooks=${webhooks ? 'yes' : 'no'} ${processes > 1 ? `${processes} processes + Redis ` : ''}${conversations}×${calls}${callLimits === 'default' ? ' (default call limits)' : ''}`;
  // Call limits set in the bench's environment win over the raised ones.
  const settings = callLimits === 'raised' ? RAISED_CALL_LIMITS : {};
  progress(`table 2: ${label}`);
  const redis = shareRedis ? await startRedis() : undefined;
  const servers = [];
  try {
    for (let i = 0; i < processes; i++) servers.push(await startServe(serveEnv(stripe, { webhooks, redis, settings: { ...settings, ...passedThrough } })));
    await stripe.reset();
    const before = servers.map((server) => processStats(server.pid));
    const latencies = [];
    const errors = new Map();
    let tooMany = 0;
    const conversation = async (index) => {
      // One conversation is one customer, spread over the processes as a load balancer would.
      const email = EMAILS[index % EMAILS.length];
      const server = servers[index % servers.length];
      for (let call = 0; call < calls; call++) {
        const result = await callTool({ server, transport, tool: TOOLS[(index + call) % TOOLS.length], email, conversationId: `load-${index}` });
        latencies.push(result.ms);
        if (result.status === 429) tooMany++;
        if (result.error) errors.set(result.error, (errors.get(result.error) ?? 0) + 1);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: conversations }, (_, index) => conversation(index)));
    const seconds = (performance.now() - started) / 1000;
    const after = servers.map((server) => processStats(server.pid));
    const stripeRequests = (await stripe.requests()).length;
    const cpuMs = after.reduce((sum, stats, i) => sum + stats.cpuMs - before[i].cpuMs, 0);
    const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
    for (const [kind, count] of errors) errorLog.push(`table 2, ${label}: ${count} × ${kind}`);
    progress(`  ${Math.round(latencies.length / seconds)} calls/s, ${stripeRequests} Stripe requests, ${errorCount} errors, ${seconds.toFixed(1)} s`);
    return {
      transport,
      webhooks: webhooks ? 'yes' : 'no',
      processes: `${processes}${shareRedis ? ' + Redis' : ''}`,
      'call limits': callLimits,
      conversations,
      'calls/conv': calls,
      'calls/s': Math.round(latencies.length / seconds),
      'ok/s': Math.round((latencies.length - errorCount) / seconds),
      'p50 ms': round1(percentile(latencies, 50)),
      'p99 ms': Math.round(percentile(latencies, 99)),
      'Stripe req/call': Math.round((stripeRequests / latencies.length) * 1000) / 1000,
      'CPU ms/call': Math.round((cpuMs / latencies.length) * 100) / 100,
      'RSS MB': after.map((stats) => Math.round(stats.rssMb)).join('+'),
      'peak RSS MB': after.map((stats) => Math.round(stats.peakRssMb)).join('+'),
      errors: errorCount,
      '429s': tooMany,
      seconds: round1(seconds),
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Table 3: a cold burst over two processes sharing one Redis, against a rate-limited fake Stripe.

async function burstRow(stripe, { budget, settings }) {
  checkDeadline();
  const label = `burst, ${budget}`;
  progress(`table 3: ${label}, ${BURST_CONVERSATIONS}×${BURST_CALLS}`);
  const redis = await startRedis();
  const servers = [];
  try {
    for (let i = 0; i < 2; i++) servers.push(await startServe(serveEnv(stripe, { webhooks: false, redis, settings })));
    // The start-up probes' requests leave the servers' shared window (1.1 s) before the burst;
    // the reset then gives the fake full buckets and zero stats.
    await sleep(1200);
    await stripe.reset();
    const latencies = [];
    const busyKinds = new Map();
    const otherErrors = new Map();
    let conversationsRefused = 0;
    const conversation = async (index) => {
      // As in table 2: one customer per conversation, the tools in rotation, alternate processes.
      const email = EMAILS[index % EMAILS.length];
      const server = servers[index % servers.length];
      let refused = false;
      for (let call = 0; call < BURST_CALLS; call++) {
        const result = await callTool({ server, transport: '/v1/tools', tool: TOOLS[(index + call) % TOOLS.length], email, conversationId: `burst-${index}` });
        latencies.push(result.ms);
        // Busy refusals by message: the Stripe budget's and the call limits' say different things.
        const isBusy = result.status === 429 || /\bbusy\b/.test(result.error ?? '');
        refused ||= isBusy;
        const kinds = isBusy ? busyKinds : otherErrors;
        if (result.error) kinds.set(result.error, (kinds.get(result.error) ?? 0) + 1);
      }
      if (refused) conversationsRefused++;
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: BURST_CONVERSATIONS }, (_, index) => conversation(index)));
    const seconds = (performance.now() - started) / 1000;
    const log = await stripe.requests();
    const { stats } = await stripe.rateLimits();
    const sum = (counts) => [...counts.values()].reduce((a, b) => a + b, 0);
    const [busy, otherCount] = [sum(busyKinds), sum(otherErrors)];
    for (const [kind, count] of [...busyKinds, ...otherErrors]) errorLog.push(`table 3, ${label}: ${count} × ${kind}`);
    progress(`  ${stats.limited} Stripe 429s, busiest second ${stats.busiestSecond.global}, ${busy} busy, ${otherCount} other errors, ${seconds.toFixed(1)} s`);
    return {
      budget,
      'Stripe req': log.length,
      'Stripe 429s': stats.limited,
      'busiest s global': stats.busiestSecond.global,
      'busiest s endpoint': stats.busiestSecond.endpoint,
      'busiest s search': stats.busiestSecond.search,
      calls: latencies.length,
      answered: latencies.length - busy - otherCount,
      busy,
      'conv. with busy': conversationsRefused,
      'other errors': otherCount,
      'p50 ms': Math.round(percentile(latencies, 50)),
      'p99 ms': Math.round(percentile(latencies, 99)),
      seconds: round1(seconds),
    };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
  }
}


// ---------------------------------------------------------------------------------------------
// Table 4: cold caches. Two processes on one Redis, people asking 3 questions 1–2 s apart.

/** One Redis command over a raw connection (FLUSHALL): the bench needs no Redis client. */
async function coldCacheRow(stripe, { build, cli, flush, run }) {
  checkDeadline();
  const label = `cold caches, run ${run}, ${build}${flush ? ', Redis flushed mid-run' : ''}`;
  progress(`table 4: ${label}, ${COLDCACHE_CONVERSATIONS}×${COLDCACHE_QUESTIONS}`);
  const redis = await startRedis();
  const servers = [];
  try {
    for (let i = 0; i < 2; i++) servers.push(await startServe(serveEnv(stripe, { webhooks: false, redis }), { cli }));
    if (process.env.COLDCACHE_PRIME) {
      for (const server of servers) await callTool({ server, transport: '/v1/tools', tool: 'get_customer_overview', email: 'bob.alice@example.com', conversationId: 'prime' });
      await redisCommand(redis.url, 'FLUSHALL');
    }
    // The start-up probes' requests leave the shared window before the conversations start.
    await sleep(1200);
    await stripe.reset();
    const calls = [];
    let flushedAt;
    let flushedWall;
    let answered = 0;
    const conversation = async (index) => {
      const email = COLDCACHE_EMAILS[index % COLDCACHE_EMAILS.length];
      // A load balancer knows nothing of customers: each customer's conversations reach both processes.
      const server = servers[Math.floor(index / COLDCACHE_EMAILS.length) % servers.length];
      for (let question = 0; question < COLDCACHE_QUESTIONS; question++) {
        if (question > 0) await sleep(1000 + Math.random() * 1000);
        const startedAt = performance.now();
        const wallStart = Date.now();
        const result = await callTool({ server, transport: '/v1/tools', tool: TOOLS[(index + question) % TOOLS.length], email, conversationId: `coldcache-${index}` });
        calls.push({ ...result, index, question, wallStart, afterFlush: flushedAt !== undefined && startedAt >= flushedAt });
        // Mid-run: once every conversation's first question is answered, Redis loses everything.
        if (++answered === COLDCACHE_CONVERSATIONS && flush) {
          await redisCommand(redis.url, 'FLUSHALL');
          flushedAt = performance.now();
          flushedWall = Date.now();
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: COLDCACHE_CONVERSATIONS }, (_, index) => conversation(index)));
    const seconds = (performance.now() - started) / 1000;
    const log = await stripe.requests();
    const { stats } = await stripe.rateLimits();
    if (process.env.COLDCACHE_TRACE) writeFileSync(`${process.env.COLDCACHE_TRACE}-${run}-${build}-${flush ? 'flush' : 'cold'}.json`, JSON.stringify({ flushedWall, calls, log }));
    const busy = (call) => call.status === 429 || /\bbusy\b/.test(call.error ?? '');
    const errors = new Map();
    for (const call of calls) if (call.error) errors.set(call.error, (errors.get(call.error) ?? 0) + 1);
    for (const [kind, count] of errors) errorLog.push(`table 4, ${label}: ${count} × ${kind}`);
    const after = calls.filter((call) => call.afterFlush);
    const row = {
      run,
      build,
      'Redis flush': flush ? 'after the 1st questions' : 'no',
      calls: calls.length,
      busy: calls.filter(busy).length,
      'conv. with busy': new Set(calls.filter(busy).map((call) => call.index)).size,
      'other errors': calls.filter((call) => call.error && !busy(call)).length,
      'p50 ms': Math.round(percentile(calls.map((call) => call.ms), 50)),
      'p99 ms': Math.round(percentile(calls.map((call) => call.ms), 99)),
      'after flush: calls / busy / p99 ms': flush ? `${after.length} / ${after.filter(busy).length} / ${after.length ? Math.round(percentile(after.map((call) => call.ms), 99)) : '-'}` : '',
      'Stripe req': log.length,
      'Stripe 429s': stats.limited,
      seconds: round1(seconds),
    };
    progress(`  ${row.busy} busy, p99 ${row['p99 ms']} ms, ${row['Stripe req']} Stripe requests, ${row['Stripe 429s']} Stripe 429s`);
    // For the before/after summary: the cold start is the row without a flush; after a flush, the calls started after it.
    const figures = flush
      ? { p99: after.length ? Math.round(percentile(after.map((call) => call.ms), 99)) : undefined, busy: after.filter(busy).length }
      : { p99: row['p99 ms'], busy: row.busy };
    Object.defineProperty(row, 'figures', { value: figures, enumerable: false });
    return row;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await redis.stop();
  }
}

async function coldCacheTable(rows) {
  const stripe = await startFakeStripe({ STRIPE_LATENCY_MS: String(COLDCACHE_LATENCY_MS), STRIPE_JITTER_MS: String(COLDCACHE_JITTER_MS), FAKE_RATE_LIMITS: BURST_LIMITS });
  progress(`rate-limited fake Stripe at ${stripe.url} (${BURST_LIMITS} per second), ${COLDCACHE_LATENCY_MS} ± ${COLDCACHE_JITTER_MS} ms per request`);
  const builds = [...(BEFORE_CLI ? [{ build: 'before', cli: BEFORE_CLI }] : []), { build: BEFORE_CLI ? 'after' : 'this build', cli: undefined }];
  try {
    for (let run = 1; run <= COLDCACHE_RUNS; run++) {
      for (const flush of [false, true]) for (const { build, cli } of builds) rows.push(await coldCacheRow(stripe, { build, cli, flush, run }));
    }
  } finally {
    await stripe.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const stripeEnv = { STRIPE_LATENCY_MS: String(LATENCY_MS), STRIPE_JITTER_MS: String(JITTER_MS) };
  const coldRows = [];
  const coldPaths = [];
  const loadRows = [];
  const burstRows = [];
  const coldCacheRows = [];

  if (ONLY.has('cold') || ONLY.has('load')) {
    const stripe = await startFakeStripe(stripeEnv);
    progress(`fake Stripe at ${stripe.url}, ${LATENCY_MS} ± ${JITTER_MS} ms per request`);
    if (ONLY.has('cold')) await coldTable(stripe, coldRows, coldPaths);
    if (ONLY.has('load')) await loadTable(stripe, loadRows);
    await stripe.stop();
  }
  if (ONLY.has('burst')) {
    const stripe = await startFakeStripe({ ...stripeEnv, FAKE_RATE_LIMITS: BURST_LIMITS });
    progress(`rate-limited fake Stripe at ${stripe.url} (${BURST_LIMITS} per second), ${LATENCY_MS} ± ${JITTER_MS} ms per request`);
    const configured = passedThrough.STRIPE_RATE_LIMIT ? `STRIPE_RATE_LIMIT=${passedThrough.STRIPE_RATE_LIMIT}` : 'STRIPE_RATE_LIMIT unset (25/s)';
    burstRows.push(await burstRow(stripe, { budget: configured, settings: {} }));
    burstRows.push(await burstRow(stripe, { budget: 'STRIPE_RATE_LIMIT=1000', settings: { STRIPE_RATE_LIMIT: '1000' } }));
    await stripe.stop();
  }
  if (ONLY.has('coldcache')) await coldCacheTable(coldCacheRows);
  report({ coldRows, coldPaths, loadRows, burstRows, coldCacheRows });
}

async function coldTable(stripe, coldRows, coldPaths) {
  for (const webhooks of [false, true]) {
    for (const email of COLD_CUSTOMERS) {
      for (const [question, tool] of QUESTIONS) {
        progress(`table 1: ${tool} for ${email}, webhooks ${webhooks ? 'yes' : 'no'}, ${REPS} fresh servers`);
        const { row, coldLog } = await coldWarm(stripe, email, question, tool, webhooks);
        coldRows.push(row);
        if (!webhooks) coldPaths.push({ tool, ...(COLD_CUSTOMERS.length > 1 ? { customer: email } : {}), 'cold call: Stripe requests by round': describeRounds(coldLog) });
      }
    }
  }
}

async function loadTable(stripe, loadRows) {
  for (const transport of ['/v1/tools', '/mcp']) {
    for (const webhooks of [false, true]) {
      for (const size of LOAD) loadRows.push(await loadRow(stripe, { transport, webhooks, ...size }));
    }
  }
  // The shared-cache row: the largest load, split over two processes that share one Redis.
  loadRows.push(await loadRow(stripe, { transport: '/v1/tools', webhooks: true, ...LOAD.at(-1), processes: 2, shareRedis: true }));
  // What the default call limits cap: the largest load from one host key, limits as shipped.
  loadRows.push(await loadRow(stripe, { transport: '/v1/tools', webhooks: false, ...LOAD.at(-1), callLimits: 'default' }));
}

/** Per run: cold start and after a flush, p99 and busy, one column per build, and after ÷ before. */
function coldCacheSummary(rows) {
  const summary = [];
  const runs = [...new Set(rows.map((row) => row.run))];
  for (const [phase, flush] of [['cold start', false], ['after a flush', true]]) {
    for (const run of runs) {
      const of = (build) => rows.find((row) => row.run === run && row.build === build && (row['Redis flush'] !== 'no') === flush)?.figures;
      const [before, after] = [of('before'), of('after') ?? of('this build')];
      const met = after !== undefined && after.p99 <= 2000 && after.busy === 0 ? 'yes' : 'no';
      summary.push(
        before
          ? {
              phase,
              run,
              'before p99 ms': before.p99,
              'after p99 ms': after?.p99,
              'after ÷ before': after?.p99 && before.p99 ? Math.round((after.p99 / before.p99) * 100) / 100 : '-',
              'before busy': before.busy,
              'after busy': after?.busy,
              'after meets target': met,
            }
          : { phase, run, 'p99 ms': after?.p99, busy: after?.busy, 'meets target': met },
      );
    }
  }
  return summary;
}

function report({ coldRows, coldPaths, loadRows, burstRows, coldCacheRows }) {
  if (coldRows.length) {
    console.log(`\nTable 1: per customer question, /v1/tools, cold (first call on a fresh server) and warm (the same call right after); ${REPS} repetitions`);
    console.table(coldRows);
    console.log('\nTable 1b: what each cold call asked Stripe (first repetition, no webhooks), grouped by sequential round');
    console.table(coldPaths);
  }
  if (loadRows.length) {
    console.log('\nTable 2: load, a fresh server (empty cache) per row; conversations rotate through the 8 tools and the 7 demo customers');
    console.table(loadRows);
  }
  if (burstRows.length) {
    console.log(
      `\nTable 3: burst, ${BURST_CONVERSATIONS} conversations × ${BURST_CALLS} calls started at once on /v1/tools, 2 fresh processes sharing one fresh Redis (STORE_URL, VERIFY_SECRET), empty caches; the fake Stripe enforces ${BURST_LIMITS} per second`,
    );
    console.table(burstRows);
  }
  if (coldCacheRows.length) {
    console.log(
      `\nTable 4: cold caches, ${COLDCACHE_CONVERSATIONS} conversations over ${COLDCACHE_EMAILS.length} customers starting together, ${COLDCACHE_QUESTIONS} questions each 1–2 s apart, on /v1/tools; 2 fresh processes sharing one fresh Redis (STORE_URL), empty caches; the fake Stripe enforces ${BURST_LIMITS} per second and answers in ${COLDCACHE_LATENCY_MS} ± ${COLDCACHE_JITTER_MS} ms${BEFORE_CLI ? `; before = ${process.env.BEFORE_DIR}` : ''}`,
    );
    console.table(coldCacheRows);
    console.log('\nTable 4b: the targets, before beside after (p99 ≤ 2,000 ms and 0 busy in every run); cold start = the row without a flush, after a flush = the calls started after FLUSHALL');
    console.table(coldCacheSummary(coldCacheRows));
  }
  if (errorLog.length) console.log(`\nErrors:\n  ${errorLog.join('\n  ')}`);

  const ttlSeconds = Number(process.env.CACHE_TTL_SECONDS ?? 60);
  console.log(`\n${cpus().length} cores; fake Stripe latency ${LATENCY_MS} ± ${JITTER_MS} ms (uniform) per request; cache TTL without webhooks: ${ttlSeconds} s (CACHE_TTL_SECONDS), with webhooks: up to 1 h.`);
  if (Object.keys(passedThrough).length) console.log(`Server settings from the environment: ${Object.entries(passedThrough).map(([name, value]) => `${name}=${value}`).join(' ')}.`);
  if (loadRows.length && Math.max(...loadRows.map((row) => row.seconds)) < ttlSeconds) {
    console.log(`Every load row ended before the ${ttlSeconds} s TTL, so no entry expired and "webhooks yes/no" differ only by chance there; a longer row or a smaller CACHE_TTL_SECONDS shows what the TTL costs.`);
  }
  const legend = [];
  if (coldRows.length || loadRows.length) {
    legend.push(
      'Columns of tables 1 and 2:',
      '  Stripe req: requests the fake Stripe received during the call (a range when repetitions differ).',
      '  rounds: the longest chain of those requests in which each starts after the previous one ended, i.e. the Stripe round trips the caller waited for one after another.',
      `  p50/p99 ms: latency at the load generator (request sent → answer read), nearest rank, errors included; with ${REPS} repetitions p99 is the slowest.`,
      `  call limits: "raised" rows run with ${Object.entries(RAISED_CALL_LIMITS).map(([name, value]) => `${name}=${value}`).join(' ')} so they measure the server; the "default" row keeps the shipped limits (one host key: 6,000 calls a minute, so 100 calls/s; one conversation: 60 a minute; one client address: 256 open connections), so its HTTP 429s (host key) and connection resets (a 257th connection from the load generator's one address) are those limits, not the server.`,
      '  calls/s: calls answered per second of wall time for the row; every call counted, errors included; ok/s: the same without errors. Closed loop: each conversation sends its next call as soon as the previous answer arrives (no think time), so at 500 conversations latency ≈ 500 ÷ calls/s.',
      '  Stripe req/call: Stripe requests during the row ÷ calls (the cold misses of a fresh cache, shared by the whole row).',
      '  CPU ms/call: user + system CPU time of the serve process(es) during the row (/proc/<pid>/stat) ÷ calls.',
      '  RSS MB / peak RSS MB: VmRSS / VmHWM of each serve process (/proc/<pid>/status) at the end of the row, "a+b" for two processes.',
      '  seconds: wall time of the row.',
      '  errors: calls not answered 200 with a successful result (HTTP status ≠ 200, is_error / isError, JSON-RPC error, timeout); 429s: of those, HTTP 429 (/mcp answers a refused call 200 with isError: see Errors).',
      `  The load generator runs in its own process on the same ${cpus().length} cores as the server(s) and the fake Stripe, so the load rows are bounded by the machine, not only by the server.`,
    );
  }
  if (burstRows.length) {
    legend.push(
      'Columns of table 3:',
      `  budget: the servers' STRIPE_RATE_LIMIT (their Stripe request budget, shared through Redis; one host key may use CALLER_STRIPE_SHARE = ${passedThrough.CALLER_STRIPE_SHARE ?? 80} % of it). The per-endpoint (25/s) and search (20/s) budgets apply whatever STRIPE_RATE_LIMIT says, so 1000 lifts only the global one.`,
      '  Stripe req: requests the fake Stripe received during the burst, 429s and retries included.',
      '  Stripe 429s: requests the fake refused because a rate limit was hit (its limiter\'s count; the target is 0).',
      '  busiest s global / endpoint / search: the most requests that reached the fake within any one second (refused ones included), all together, to the busiest endpoint, to search; Stripe refuses what goes past its limits.',
      '  calls: tool calls made; answered: answered 200 with a result; busy: refused as busy (HTTP 429, the Stripe budget or a call limit was full); conv. with busy: conversations that got at least one; other errors: any other failure (see Errors).',
      '  p50/p99 ms: latency of every call at the load generator, busy answers and errors included; seconds: wall time of the burst.',
      '  Closed loop as in table 2: a conversation sends its next call as soon as an answer arrives, a busy one included (no waiting for Retry-After).',
    );
  }
  if (coldCacheRows.length) {
    legend.push(
      'Columns of table 4:',
      '  busy: calls refused as busy (HTTP 429 or an answer saying busy); conv. with busy: conversations that got at least one; other errors: any other failure (see Errors).',
      '  p50/p99 ms: latency of every call at the load generator (think time excluded); after flush: the calls started after FLUSHALL, their busy answers and p99.',
      '  Stripe req / Stripe 429s: requests the fake Stripe received during the row, and those it refused for its rate limits.',
    );
  }
  console.log(legend.join('\n'));
}

await runGuarded({ main, stop: stopAll, deadline: DEADLINE, progress });
