// Platform mode (`serve --platform`, one server for many merchants) at a thousand tenants. The
// fake Stripe (bench/support/fake-stripe-server.mjs), every `serve --platform` process and
// Postgres (bench/support/postgres.mjs) run in processes of their own on loopback; this process
// is the admin client and the load generator. The fake accepts any rk_/sk_ test key on its one
// seeded demo account, so each tenant connects with a key of its own (its own Stripe budget,
// cache scope, bearer keys) and all see the same demo customers.
//
// One platform process with its tenant database and audit trail in SQLite (AUDIT_DB in a
// temporary folder) serves tables 1–3, in this order:
//   - TENANTS tenants are connected (POST /v1/admin/tenants with an ADMIN_KEYS key: the connect
//     probe asks Stripe which tools the key can use), CREATE_CONCURRENCY at a time. Every tenant
//     is connected with a webhook signing secret, as a platform would connect it: cached Stripe
//     reads then live up to 1 h (not CACHE_TTL_SECONDS), so "warm" stays warm for the whole run.
//   - Table 2, cold: the first COLD tenants make their first call (POST
//     /v1/tools/get_subscription_status, host key + identity token for alice@example.com),
//     COLD_CONCURRENCY at a time: the platform reads the key's tenant from the database, decrypts
//     its Stripe key, builds its app (runtime, tools listed from the stored connect probe, a fresh
//     probe started in the background) and the call reads Stripe through the tenant's empty cache.
//     Each tenant's second call follows at once (warm: in memory, cached). Then COLD_BUILD other
//     tenants' first request is GET /v1/tools (the app is built, Stripe is not called) followed by
//     their first tool call (app built, cache empty): the two parts of a cold call. The other
//     tenants then make their first call, CONCURRENCY at a time (cold under load). Once more than
//     3 s have passed, the COLD tenants call again (warm after idle: the platform reads a bearer
//     key's tenant and the tenant's row again when what it read is older than 3 s,
//     TENANT_REFRESH_MS).
//   - Table 1, memory: the server's resident set and V8 heap (its /metrics with the admin key:
//     sbm_process_resident_memory_bytes, sbm_nodejs_heap_size_used_bytes, …) on the fresh server,
//     after the tenants were connected (none loaded), after every tenant made one call (all
//     loaded, then idle), and (with table 3) once more after table 3's calls. Before each
//     reading the bench waits until the fake Stripe has no request in flight and the trail has
//     nothing pending, then makes the server run a full GC (it is started with --expose-gc and
//     bench/support/gc-on-signal.mjs: SIGUSR2 → gc()).
//   - Table 3, throughput: CONCURRENCY workers (closed loop) make warm calls for SECONDS,
//     round-robin over all tenants (every call goes to the next tenant); as a control, the same
//     load on CONCURRENCY tenants only (their rows stay in memory) for half as long. The two run in
//     ROUNDS interleaved rounds (order alternating), so that noise on the shared machine falls on
//     both alike; each row pools its rounds.
// Table 4 (shared): Postgres; two platform processes with the same DATABASE_URL and
//   TENANT_KEY_SECRET. SHARED_REPS times: a tenant is connected on process 1 and process 2 is
//   called with its host key at once, again every POLL_MS until it answers; the same tenant's host
//   key is rotated on process 1 and process 2 is polled with the old key until it refuses it;
//   the tenant is removed on process 1 and process 2 is polled until it refuses its key.
//
// Run: npm run bench:platform   (one part: ONLY=memory|cold|throughput|shared npm run bench:platform)
// Knobs (env): ONLY=memory,cold,throughput,shared TENANTS=1000 COLD=200 COLD_CONCURRENCY=4
//   COLD_BUILD=100 CREATE_CONCURRENCY=16 CONCURRENCY=16 SECONDS=10 ROUNDS=5 SHARED_REPS=3 POLL_MS=25
//   STRIPE_LATENCY_MS=150 STRIPE_JITTER_MS=20 PG_DURABLE=1 BENCH_MAX_SECONDS=300
import { send } from './support/http-client.mjs';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintIdentityToken } from '../dist/demo/demo-identity.js';
import { freePort, processStats, startFakeStripe, stopAll, runGuarded } from './support/processes.mjs';
import { startPostgres } from './support/postgres.mjs';

const PARTS = ['memory', 'cold', 'throughput', 'shared'];
const list = (value, fallback) => (value ?? fallback).split(',').map((item) => item.trim()).filter(Boolean);
const ONLY = new Set(list(process.env.ONLY, PARTS.join(',')));
for (const name of ONLY) if (!PARTS.includes(name)) throw new Error(`ONLY: unknown part "${name}" (${PARTS.join(', ')})`);
const wholeNumber = (name, fallback, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min} (got "${process.env[name]}")`);
  return value;
};
const TENANTS = wholeNumber('TENANTS', 1000);
const COLD = Math.min(wholeNumber('COLD', 200), TENANTS);
const COLD_BUILD = Math.min(wholeNumber('COLD_BUILD', 100, 0), TENANTS - COLD);
const COLD_CONCURRENCY = wholeNumber('COLD_CONCURRENCY', 4);
const CREATE_CONCURRENCY = wholeNumber('CREATE_CONCURRENCY', 16);
const CONCURRENCY = wholeNumber('CONCURRENCY', 16);
const SECONDS = Number(process.env.SECONDS ?? 10);
const ROUNDS = wholeNumber('ROUNDS', 5);
const SHARED_REPS = wholeNumber('SHARED_REPS', 3);
const POLL_MS = Number(process.env.POLL_MS ?? 25);
const LATENCY_MS = Number(process.env.STRIPE_LATENCY_MS ?? 150);
const JITTER_MS = Number(process.env.STRIPE_JITTER_MS ?? 20);
const PG_DURABLE = !['0', 'false', 'no'].includes(process.env.PG_DURABLE ?? '1');
const DEADLINE = Date.now() + Number(process.env.BENCH_MAX_SECONDS ?? 300) * 1000;
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
/** The platform's TENANT_REFRESH_MS (src/platform/tenants.ts): how long a process trusts a row it read. */
const TENANT_REFRESH_MS = 3_000;

// Fake credentials: they open nothing but the fake Stripe and the bench's own servers.
const ADMIN_KEY = 'bench_platform_admin_key_0000000000000';
const TENANT_KEY_SECRET = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const IDENTITY_SECRET = 'bench-identity-secret-at-least-32-bytes!!';
const TOOL = 'get_subscription_status';
const EMAIL = 'alice@example.com';
// The per-merchant call limit (6000/min by default) would refuse calls in the control of table 3
// (CONCURRENCY tenants share all the calls: ~100/s each); the check itself runs all the same.
const SERVER_SETTINGS = { HOST_CALLS_PER_MINUTE: '1000000' };

const benchStarted = performance.now();
const progress = (message) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// In platform mode a token names its merchant in `aud`: one token per tenant, minted once.
const tokens = new Map();
const tenantOfHostKey = new Map();
async function tokenFor(hostKey) {
  const tenantId = tenantOfHostKey.get(hostKey);
  if (!tokens.has(tenantId)) tokens.set(tenantId, await mintIdentityToken(EMAIL, IDENTITY_SECRET, 3600, tenantId));
  return tokens.get(tenantId);
}

function checkDeadline() {
  if (Date.now() > DEADLINE) throw new Error('the bench ran longer than BENCH_MAX_SECONDS; stopping (lower TENANTS, COLD or SECONDS)');
}

// Nearest-rank percentile: with 200 samples p99 is the 198th.
const percentile = (values, p) => {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
};
const round1 = (value) => Math.round(value * 10) / 10;
const mb = (bytes) => round1(bytes / 2 ** 20);

// ---------------------------------------------------------------------------------------------
// `serve --platform` processes. processes.mjs's startServe runs plain `serve`; these are tracked
// here the same way: SIGTERM on stop, SIGKILL if the bench exits without stopping them.

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const GC_PRELOAD = new URL('./support/gc-on-signal.mjs', import.meta.url).href;
const platformChildren = new Set();
const tempDirs = new Set();
process.once('exit', () => {
  for (const child of platformChildren) child.kill('SIGKILL');
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-platform-'));
  tempDirs.add(dir);
  return dir;
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

/** `node dist/cli.js serve --platform` with exactly these settings; resolves once /healthz answers. */
async function startPlatformServe(env) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--expose-gc', '--import', GC_PRELOAD, CLI, 'serve', '--platform'], {
    // A clean environment: settings from the shell must not change the figures.
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'silent',
      ADMIN_KEYS: `bench:${ADMIN_KEY}`,
      TENANT_KEY_SECRET,
      IDENTITY_SECRET,
      ...SERVER_SETTINGS,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  platformChildren.add(child);
  child.once('exit', () => platformChildren.delete(child));
  let spawnError;
  child.once('error', (error) => (spawnError = error));
  let stderrTail = '';
  child.stderr.on('data', (chunk) => (stderrTail = (stderrTail + chunk).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawnError) throw new Error(`serve --platform could not be started: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve --platform exited during start-up (${child.exitCode ?? child.signalCode}):\n${stderrTail.trim()}`);
    if (await fetch(`${url}/healthz`).then((response) => response.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`serve --platform did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${stderrTail.trim()}`);
    await sleep(20);
  }
  return { url, pid: child.pid, child, stop: () => stopChild(child) };
}

async function stopEverything() {
  await Promise.all([...platformChildren].map((child) => stopChild(child)));
  await stopAll();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// ---------------------------------------------------------------------------------------------
// HTTP. node:http with keep-alive rather than fetch, as in bench/stripe-load.mjs.


function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function admin(server, method, path, body) {
  const response = await send(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: parseJson(response.text), text: response.text };
}

/** Connects a merchant with a key of its own; resolves with its id and bearer keys. */
async function connectTenant(server, label) {
  const started = performance.now();
  const { status, body, text } = await admin(server, 'POST', '/v1/admin/tenants', {
    name: `Bench ${label}`,
    stripe_api_key: `rk_test_bench_tenant_${label}`,
    webhook_secret: `whsec_bench_tenant_${label}`,
  });
  if (status !== 201) throw new Error(`POST /v1/admin/tenants answered ${status}: ${text.slice(0, 300)}`);
  tenantOfHostKey.set(body.host_key, body.tenant.id);
  return { id: body.tenant.id, host: body.host_key, staff: body.staff_key, connectMs: performance.now() - started };
}

/** One customer's tool call as a chatbot host makes it. Resolves with latency and what failed (never throws). */
async function callTool(server, hostKey, conversation) {
  const started = performance.now();
  let status = 0;
  let error;
  try {
    const response = await send(`${server.url}/v1/tools/${TOOL}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hostKey}`, 'x-customer-token': await tokenFor(hostKey), 'x-conversation-id': conversation, 'content-type': 'application/json' },
      body: '{}',
    });
    status = response.status;
    const answer = parseJson(response.text);
    if (status !== 200) error = `HTTP ${status}${answer?.error ? ` (${answer.error.kind ?? answer.error})` : ''}`;
    else if (answer === undefined) error = 'answer is not JSON';
    else if (answer.is_error) error = `is_error (${answer.error?.kind})`;
  } catch (failure) {
    error = `request failed (${failure.code ?? failure.name})`;
  }
  return { ms: performance.now() - started, status, error };
}

/** Runs task(0 … count-1), `concurrency` at a time. */
async function pool(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const errorLog = new Map();
function noteError(where, error) {
  const key = `${where}: ${error}`;
  errorLog.set(key, (errorLog.get(key) ?? 0) + 1);
}

/** Waits until the fake Stripe has no request in flight and none arrived for 500 ms, and the trail has nothing pending. */
async function settle(server, stripe) {
  const deadline = Date.now() + 20_000;
  let lastCount = -1;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    const log = await stripe.requests();
    const ready = parseJson((await send(`${server.url}/readyz`)).text);
    const busy = log.some((request) => request.end === null) || (ready?.audit?.pending ?? 0) > 0;
    if (busy || log.length !== lastCount) quietSince = Date.now();
    lastCount = log.length;
    if (Date.now() - quietSince >= 500) return;
    await sleep(100);
  }
  progress('  (the server did not settle within 20 s; reading anyway)');
}

/** Resident set and heap after a full GC, from the server's /metrics; tenants loaded from /readyz. */
async function readMemory(server) {
  server.child.kill('SIGUSR2');
  // The signal is handled on the server's next event-loop turn; give it room before asking.
  await sleep(300);
  const { status, text } = await admin(server, 'GET', '/metrics');
  if (status !== 200) throw new Error(`/metrics answered ${status}: ${text.slice(0, 200)}`);
  const metric = (name) => {
    const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!match) throw new Error(`/metrics has no ${name}`);
    return Number(match[1]);
  };
  const ready = parseJson((await send(`${server.url}/readyz`)).text);
  return {
    rss: metric('sbm_process_resident_memory_bytes'),
    heapUsed: metric('sbm_nodejs_heap_size_used_bytes'),
    heapTotal: metric('sbm_nodejs_heap_size_total_bytes'),
    external: metric('sbm_nodejs_external_memory_bytes'),
    loaded: ready?.tenants_loaded,
    procRssMb: processStats(server.pid).rssMb,
    sockets: openSockets(server.pid),
  };
}

/** Sockets the process holds open (/proc/<pid>/fd): listening, clients', Stripe's, the database's. */
function openSockets(pid) {
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  return sockets;
}

// ---------------------------------------------------------------------------------------------
// Tables 1–3: one platform process on SQLite.

async function singleProcess(stripe, results) {
  const withMemory = ONLY.has('memory');
  const withCold = ONLY.has('cold');
  const withThroughput = ONLY.has('throughput');
  // Only the cold table needs no more than its COLD + COLD_BUILD tenants.
  const count = withMemory || withThroughput ? TENANTS : COLD + COLD_BUILD;
  const dir = tempDir();
  const server = await startPlatformServe({ AUDIT_DB: join(dir, 'platform.db'), STRIPE_API_BASE: stripe.url });
  progress(`serve --platform (SQLite) at ${server.url}, pid ${server.pid}`);
  try {
    const memory = [];
    if (withMemory) memory.push({ what: 'fresh server, no tenant', stored: 0, ...(await readMemory(server)) });

    progress(`connecting ${count} tenants, ${CREATE_CONCURRENCY} at a time`);
    const tenants = new Array(count);
    await stripe.reset();
    const connectStarted = performance.now();
    await pool(count, CREATE_CONCURRENCY, async (i) => {
      tenants[i] = await connectTenant(server, String(i).padStart(5, '0'));
    });
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const connectMs = tenants.map((tenant) => tenant.connectMs);
    results.connect = {
      tenants: count,
      concurrency: CREATE_CONCURRENCY,
      'tenants/s': round1(count / connectSeconds),
      'p50 ms': Math.round(percentile(connectMs, 50)),
      'p99 ms': Math.round(percentile(connectMs, 99)),
      'Stripe req/tenant': round1((await stripe.requests()).length / count),
      seconds: round1(connectSeconds),
    };
    progress(`  ${results.connect['tenants/s']} tenants/s, ${connectSeconds.toFixed(1)} s`);
    checkDeadline();

    if (withMemory) {
      await settle(server, stripe);
      memory.push({ what: `${count} tenants connected, none called`, stored: count, ...(await readMemory(server)) });
    }

    // Table 2: the first COLD tenants, first and second call; then everyone else's first call.
    const cold = { first: [], second: [], list: [], afterList: [], bulk: [], idle: [] };
    const coldCount = withCold ? COLD + COLD_BUILD : 0;
    let coldStripe = 0;
    let coldEnded = 0;
    if (withCold) {
      progress(`table 2: ${COLD} cold tenants, first and second call, ${COLD_CONCURRENCY} at a time`);
      await stripe.reset();
      await pool(COLD, COLD_CONCURRENCY, async (i) => {
        const first = await callTool(server, tenants[i].host, `cold-${i}`);
        const second = await callTool(server, tenants[i].host, `cold-${i}`);
        cold.first.push(first.ms);
        cold.second.push(second.ms);
        if (first.error) noteError('table 2, first call', first.error);
        if (second.error) noteError('table 2, second call', second.error);
      });
      await settle(server, stripe);
      coldStripe = (await stripe.requests()).length;
      checkDeadline();
      if (COLD_BUILD > 0) {
        progress(`table 2: ${COLD_BUILD} other cold tenants, GET /v1/tools first, then their first call, ${COLD_CONCURRENCY} at a time`);
        await pool(COLD_BUILD, COLD_CONCURRENCY, async (j) => {
          const i = COLD + j;
          const started = performance.now();
          const listed = await send(`${server.url}/v1/tools`, { headers: { authorization: `Bearer ${tenants[i].host}` } }).catch((error) => ({ status: 0, text: String(error.code ?? error) }));
          cold.list.push(performance.now() - started);
          if (listed.status !== 200) noteError('table 2, GET /v1/tools first', `HTTP ${listed.status}`);
          const first = await callTool(server, tenants[i].host, `cold-${i}`);
          cold.afterList.push(first.ms);
          if (first.error) noteError('table 2, first call after GET /v1/tools', first.error);
        });
        await settle(server, stripe);
        checkDeadline();
      }
      coldEnded = Date.now();
    }
    let bulkStripe = 0;
    if (count > coldCount && (withMemory || withThroughput)) {
      progress(`first call of ${coldCount ? 'the other ' : ''}${count - coldCount} tenants, ${CONCURRENCY} at a time`);
      await stripe.reset();
      await pool(count - coldCount, CONCURRENCY, async (j) => {
        const i = coldCount + j;
        const first = await callTool(server, tenants[i].host, `cold-${i}`);
        cold.bulk.push(first.ms);
        if (first.error) noteError('table 2, first call under load', first.error);
      });
      await settle(server, stripe);
      bulkStripe = (await stripe.requests()).length;
      checkDeadline();
    }
    if (withMemory) memory.push({ what: `${count} tenants, each called once, idle`, stored: count, ...(await readMemory(server)) });
    if (withCold) {
      // Past TENANT_REFRESH_MS since each cold tenant's last call: its rows are read again.
      const wait = coldEnded + TENANT_REFRESH_MS + 100 - Date.now();
      if (wait > 0) await sleep(wait);
      progress(`table 2: the ${COLD} tenants again, after more than ${TENANT_REFRESH_MS / 1000} s idle`);
      await stripe.reset();
      await pool(COLD, COLD_CONCURRENCY, async (i) => {
        const again = await callTool(server, tenants[i].host, `idle-${i}`);
        cold.idle.push(again.ms);
        if (again.error) noteError('table 2, warm after idle', again.error);
      });
      const idleStripe = (await stripe.requests()).length;
      const row = (what, values, concurrency, stripeRequests) => ({
        call: what,
        tenants: values.length,
        concurrency,
        'p50 ms': round1(percentile(values, 50)),
        'p99 ms': round1(percentile(values, 99)),
        'max ms': round1(Math.max(...values)),
        'Stripe req/tenant': stripeRequests,
      });
      results.cold = [
        row('cold: first call (app built, cache empty)', cold.first, COLD_CONCURRENCY, `${round1(coldStripe / COLD)} (both calls + background probe)`),
        row('warm: second call, right after', cold.second, COLD_CONCURRENCY, '(in the row above)'),
        ...(cold.list.length
          ? [
              row('cold, app only: first request is GET /v1/tools', cold.list, COLD_CONCURRENCY, '0 (no Stripe call; probe in background)'),
              row('…then first call (app built, cache empty)', cold.afterList, COLD_CONCURRENCY, ''),
            ]
          : []),
        row(`warm: after > ${TENANT_REFRESH_MS / 1000} s idle (rows read again)`, cold.idle, COLD_CONCURRENCY, round1(idleStripe / COLD)),
        ...(cold.bulk.length ? [row('cold: first call, the other tenants under load', cold.bulk, CONCURRENCY, `${round1(bulkStripe / cold.bulk.length)} (call + background probe)`)] : []),
      ];
    }
    if (withThroughput) {
      const everyone = tenants.map((tenant) => tenant.host);
      const newLoad = (label, hostKeys, seconds) => ({ label, hostKeys, seconds, next: 0, totals: { latencies: [], errors: 0, seconds: 0, cpuMs: 0, stripeRequests: 0, rssMb: 0 } });
      const loads = [
        newLoad(`round-robin over all ${count} tenants`, everyone, SECONDS / ROUNDS),
        newLoad(`control: ${Math.min(CONCURRENCY, count)} tenants (rows stay in memory)`, everyone.slice(0, CONCURRENCY), Math.max(1, SECONDS / 2 / ROUNDS)),
      ];
      progress(`table 3: ${ROUNDS} interleaved rounds of ${loads.map((load) => `${load.label} (${round1(load.seconds)} s)`).join(' and ')}, ${CONCURRENCY} workers`);
      for (let round = 0; round < ROUNDS; round++) {
        for (const load of round % 2 === 0 ? loads : [...loads].reverse()) await loadRound(server, stripe, load);
      }
      results.throughput = loads.map(loadRow);
      for (const row of results.throughput) progress(`  ${row.load}: ${row['calls/s']} calls/s, ${row.errors} errors`);
    }
    if (withMemory && withThroughput) {
      // Calls leave per-call state behind for a while (audit queue, call-limit windows, conversations): does it go?
      await settle(server, stripe);
      const calls = results.throughput.reduce((sum, row) => sum + row.calls, 0);
      memory.push({ what: `after table 3 (${calls} more calls), idle`, stored: count, perCall: true, ...(await readMemory(server)) });
    }
    if (withMemory) {
      const [fresh, connected, loaded] = memory;
      const perTenant = (after, before, field) => (field in after ? Math.round((after[field] - before[field]) / count / 102.4) / 10 : undefined);
      results.memory = memory.map((reading, index) => {
        const before = reading.perCall ? undefined : memory[index - 1];
        return {
          server: reading.what,
          'tenants loaded': reading.loaded,
          'RSS MB': mb(reading.rss),
          'heap used MB': mb(reading.heapUsed),
          'heap total MB': mb(reading.heapTotal),
          'external MB': mb(reading.external),
          'Δ RSS KB/tenant': before ? perTenant(reading, before, 'rss') : '',
          'Δ heap used KB/tenant': before ? perTenant(reading, before, 'heapUsed') : '',
          'VmRSS MB (/proc)': round1(reading.procRssMb),
          'open sockets': reading.sockets,
        };
      });
      results.memoryTotals = { fresh, connected, loaded, count };
    }
  } finally {
    await server.stop();
  }
}

/** One round of a load: CONCURRENCY workers, closed loop, for load.seconds; call i goes to tenant i mod the tenants. */
async function loadRound(server, stripe, load) {
  checkDeadline();
  await stripe.reset();
  const before = processStats(server.pid);
  const { hostKeys, totals } = load;
  const started = performance.now();
  const end = started + load.seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const i = load.next++;
      // A new conversation per pass over the tenants: no conversation nears its own call limit.
      const result = await callTool(server, hostKeys[i % hostKeys.length], `load-${Math.floor(i / hostKeys.length)}`);
      totals.latencies.push(result.ms);
      if (result.error) {
        totals.errors++;
        noteError(`table 3, ${load.label}`, result.error);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  totals.seconds += (performance.now() - started) / 1000;
  const after = processStats(server.pid);
  totals.cpuMs += after.cpuMs - before.cpuMs;
  totals.stripeRequests += (await stripe.requests()).length;
  totals.rssMb = after.rssMb;
}

function loadRow(load) {
  const { latencies, errors, seconds, cpuMs, stripeRequests, rssMb } = load.totals;
  const callsPerSecond = latencies.length / seconds;
  return {
    load: load.label,
    concurrency: CONCURRENCY,
    calls: latencies.length,
    'calls/s': Math.round(callsPerSecond),
    'p50 ms': round1(percentile(latencies, 50)),
    'p99 ms': round1(percentile(latencies, 99)),
    'calls/tenant': round1(latencies.length / load.hostKeys.length),
    // A tenant is called every (tenants ÷ calls/s) seconds; its rows are read again once they are 3 s old.
    'rows read again (est.)': `1 call in ${Math.max(1, Math.ceil(TENANT_REFRESH_MS / 1000 / (load.hostKeys.length / callsPerSecond)))}`,
    'Stripe req/call': Math.round((stripeRequests / latencies.length) * 1000) / 1000,
    'server CPU ms/call': Math.round((cpuMs / latencies.length) * 100) / 100,
    'RSS MB (no GC)': Math.round(rssMb),
    errors,
    seconds: round1(seconds),
  };
}

// ---------------------------------------------------------------------------------------------
// Table 4: two platform processes sharing one Postgres.

/** Calls until `done(result)`; resolves with the time from `since`, the attempts and the last result. */
async function pollUntil(server, hostKey, since, done, conversation) {
  const deadline = Date.now() + 15_000;
  for (let attempts = 1; ; attempts++) {
    // A conversation per attempt: polling must not run into the per-conversation call limit.
    const result = await callTool(server, hostKey, `${conversation}-${attempts}`);
    if (done(result)) return { ms: performance.now() - since, attempts, result };
    if (Date.now() > deadline) throw new Error(`process 2 did not change its answer within 15 s (last: HTTP ${result.status} ${result.error ?? ''})`);
    await sleep(POLL_MS);
  }
}

async function shared(stripe, results) {
  checkDeadline();
  progress(`table 4: Postgres (${PG_DURABLE ? 'durable defaults' : 'fsync off'}) and two serve --platform processes`);
  const postgres = await startPostgres({ durable: PG_DURABLE });
  const servers = [];
  try {
    const databaseUrl = await postgres.createDatabase('platform');
    // One after the other: the second finds the schema and the pepper the first made.
    for (let i = 0; i < 2; i++) servers.push(await startPlatformServe({ DATABASE_URL: databaseUrl, STRIPE_API_BASE: stripe.url }));
    const [p1, p2] = servers;
    const answered = (result) => result.status === 200 && !result.error;
    const refused = (result) => result.status === 401;
    const reps = { create: [], createAttempts: [], firstCall: [], rotatedOld: [], rotatedOldOnP1: [], rotatedNew: [], removed: [], removedOnP1: [] };
    for (let rep = 0; rep < SHARED_REPS; rep++) {
      checkDeadline();
      const tenant = await connectTenant(p1, `shared_${rep}`);
      const created = performance.now();
      const seen = await pollUntil(p2, tenant.host, created, answered, `new-${rep}`);
      reps.create.push(seen.ms);
      reps.createAttempts.push(seen.attempts);
      reps.firstCall.push(seen.result.ms);

      // Rotation: process 1 forgets the old key at once; process 2 when what it read is 3 s old.
      const rotation = await admin(p1, 'POST', `/v1/admin/tenants/${tenant.id}/keys/host/rotate`);
      tenantOfHostKey.set(rotation.body.key, tenant.id);
      if (rotation.status !== 200) throw new Error(`rotate answered ${rotation.status}: ${rotation.text.slice(0, 200)}`);
      const rotated = performance.now();
      reps.rotatedOldOnP1.push((await callTool(p1, tenant.host, `p1-old-${rep}`)).status);
      // The old key first: a call with the new key makes process 2 rebuild the tenant's app at
      // once, which would end the old key there early.
      reps.rotatedOld.push((await pollUntil(p2, tenant.host, rotated, refused, `old-${rep}`)).ms);
      const newKey = await callTool(p2, rotation.body.key, `shared-${rep}-new`);
      reps.rotatedNew.push(newKey.error ? newKey.error : 'answered');

      const removal = await admin(p1, 'DELETE', `/v1/admin/tenants/${tenant.id}`);
      if (removal.status !== 204) throw new Error(`DELETE answered ${removal.status}: ${removal.text.slice(0, 200)}`);
      const removed = performance.now();
      reps.removedOnP1.push((await callTool(p1, rotation.body.key, `p1-removed-${rep}`)).status);
      reps.removed.push((await pollUntil(p2, rotation.body.key, removed, refused, `removed-${rep}`)).ms);
      progress(`  rep ${rep + 1}: new tenant on process 2 after ${Math.round(reps.create.at(-1))} ms, old key refused after ${Math.round(reps.rotatedOld.at(-1))} ms, removed after ${Math.round(reps.removed.at(-1))} ms`);
    }
    const each = (values) => values.map((value) => Math.round(value)).join(', ');
    results.shared = [
      {
        'change on process 1': 'tenant connected (201 answered)',
        'process 2: until': 'it answers the new host key',
        'ms, each rep': each(reps.create),
        'max ms': Math.round(Math.max(...reps.create)),
        'process 2: attempts': reps.createAttempts.join(', '),
        'process 1 right after': '—',
        note: `of which the answering call (tenant's app built on process 2, cold cache): ${each(reps.firstCall)} ms`,
      },
      {
        'change on process 1': 'host key rotated (200 answered)',
        'process 2: until': 'it refuses the old key',
        'ms, each rep': each(reps.rotatedOld),
        'max ms': Math.round(Math.max(...reps.rotatedOld)),
        'process 2: attempts': `polled every ${POLL_MS} ms`,
        'process 1 right after': `old key: HTTP ${reps.rotatedOldOnP1.join(', ')}`,
        note: `new key on process 2 then: ${reps.rotatedNew.join(', ')}`,
      },
      {
        'change on process 1': 'tenant removed (204 answered)',
        'process 2: until': 'it refuses the key',
        'ms, each rep': each(reps.removed),
        'max ms': Math.round(Math.max(...reps.removed)),
        'process 2: attempts': `polled every ${POLL_MS} ms`,
        'process 1 right after': `HTTP ${reps.removedOnP1.join(', ')}`,
        note: '',
      },
    ];
    results.postgresVersion = postgres.version;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await postgres.stop();
  }
}

// ---------------------------------------------------------------------------------------------

function report(results) {
  const machine = `${cpus().length} cores (${cpus()[0]?.model?.trim() ?? 'unknown CPU'})`;
  if (results.connect) {
    console.log(`\nConnecting tenants: POST /v1/admin/tenants (connect probe against the fake Stripe included), ${results.connect.concurrency} at a time`);
    console.table([results.connect]);
  }
  if (results.memory) {
    const { fresh, connected, loaded, count } = results.memoryTotals;
    console.log(`\nTable 1: memory of one serve --platform process (SQLite), after a full GC; Δ = change from the row above ÷ ${count} tenants`);
    console.table(results.memory);
    const perLoaded = (field) => Math.round((loaded[field] - connected[field]) / count / 1024);
    console.log(
      `Per idle loaded tenant (one call made, app and cached reads held): ${perLoaded('heapUsed')} KB of heap, ${perLoaded('rss')} KB of RSS` +
        `; ${count} tenants connected but never called: ${Math.round((connected.heapUsed - fresh.heapUsed) / 1024)} KB of heap in all.`,
    );
  }
  if (results.cold) {
    console.log(`\nTable 2: first call of a cold tenant vs warm calls, POST /v1/tools/${TOOL} (host key + identity token), fake Stripe ${LATENCY_MS} ± ${JITTER_MS} ms per request`);
    console.table(results.cold);
  }
  if (results.throughput) {
    console.log(`\nTable 3: warm calls across tenants, ${CONCURRENCY} workers (closed loop), POST /v1/tools/${TOOL}; ${ROUNDS} interleaved rounds, ${SECONDS} s in all for the round-robin, ${round1(ROUNDS * Math.max(1, SECONDS / 2 / ROUNDS))} s for the control`);
    console.table(results.throughput);
  }
  if (results.shared) {
    console.log(`\nTable 4: two serve --platform processes sharing one Postgres (${results.postgresVersion}); ${SHARED_REPS} repetitions, times from process 1's answer`);
    console.table(results.shared);
  }
  if (errorLog.size) console.log(`\nErrors:\n  ${[...errorLog].map(([what, count]) => `${count} × ${what}`).join('\n  ')}`);

  const legend = [
    `\nThese figures come from a shared, noisy ${machine} machine: the fake Stripe, the server(s), Postgres and this load generator all run on it at once, so take the shape, not the digits; rerun before comparing two builds.`,
    `Every tenant has its own key on one fake Stripe (${LATENCY_MS} ± ${JITTER_MS} ms per request, uniform) and is connected with a webhook signing secret, so its cached reads live up to 1 h. Server settings besides the required ones: ${Object.entries(SERVER_SETTINGS).map(([name, value]) => `${name}=${value}`).join(' ')} (only so that the control row of table 3 is not refused; the check still runs). The audit trail is on (platform default), in the same database as the tenants.`,
  ];
  if (results.memory) {
    legend.push(
      'Table 1: RSS MB, heap used/total MB, external MB from the server\'s /metrics (sbm_process_resident_memory_bytes, sbm_nodejs_heap_size_used_bytes, sbm_nodejs_heap_size_total_bytes, sbm_nodejs_external_memory_bytes) read after a forced full GC; VmRSS from /proc/<pid>/status as a check; tenants loaded from /readyz (tenant apps in memory).',
      '  A loaded tenant holds its app (runtime: Stripe client, budget, tool availability with its probe and timer; identity-token verifier with its cache of verified tokens; HTTP app; bearer key digests), its cached Stripe reads for one customer, the bearer lookup cache entry and call-limit counters. open sockets: socket descriptors in /proc/<pid>/fd (the listener, database, keep-alive connections to the fake Stripe, one pool shared by all tenants, while they last). Heap used after GC is the figure to read: RSS does not shrink when the heap does, so its Δ includes heap growth that GC later freed. The row after table 3 has no per-tenant Δ: it shows what the load\'s calls left behind.',
    );
  }
  if (results.cold) {
    legend.push(
      `Table 2: latency at the load generator (request sent → answer read), nearest rank. The cold tenants are called ${COLD_CONCURRENCY} at a time (each worker: first call, then second call of the same tenant); p99 of ${COLD} samples is the ${Math.ceil(0.99 * COLD)}th.`,
      `  "cold, app only" splits a cold call in two on ${COLD_BUILD} other tenants: GET /v1/tools as the first request builds the tenant's app (bearer lookup, tenant row, decryption, runtime, tools listed from the stored connect probe; the fresh probe runs in the background, not waited for) and calls no Stripe; the tool call right after is then cold only in its cache (the Stripe round trips of ${TOOL}).`,
      '  Stripe req/tenant: requests the fake Stripe received during the row ÷ tenants; a first call sets off the tenant\'s background probe (doctor\'s permission probe), counted with it.',
      `  After > ${TENANT_REFRESH_MS / 1000} s idle: the platform re-reads a bearer key\'s tenant and the tenant\'s row (TENANT_REFRESH_MS), so such a call costs database reads but no Stripe request.`,
    );
  }
  if (results.throughput) {
    legend.push(
      `Table 3: closed loop, every worker sends its next call when the previous answer arrives. Round-robin: call i goes to tenant i mod the tenant count, so a tenant is called again after a whole pass (longer than ${TENANT_REFRESH_MS / 1000} s when calls/s < tenants ÷ ${TENANT_REFRESH_MS / 1000}): its bearer key and tenant row are read from the database again. The control row sends the same load to ${CONCURRENCY} tenants, whose rows stay in memory.`,
      '  server CPU ms/call: user + system CPU of the serve process during the row (/proc/<pid>/stat) ÷ calls; Stripe req/call should be 0 (every call a cache hit).',
    );
  }
  if (results.shared) {
    legend.push(
      `Table 4: ms from process 1\'s answer (201/200/204) to process 2\'s first answer that shows the change; process 2 is polled every ${POLL_MS} ms (a poll is a tool call with the key). A new key is found at once (nothing cached about it); a rotated or removed key is trusted until process 2\'s cached lookup of it is ${TENANT_REFRESH_MS / 1000} s old, so 0–${TENANT_REFRESH_MS / 1000} s depending on when it was last read. Process 1 (the one that made the change) forgets at once.`,
    );
  }
  console.log(legend.join('\n'));
}

async function main() {
  const results = {};
  const stripe = await startFakeStripe({ STRIPE_LATENCY_MS: String(LATENCY_MS), STRIPE_JITTER_MS: String(JITTER_MS) });
  progress(`fake Stripe at ${stripe.url}, ${LATENCY_MS} ± ${JITTER_MS} ms per request`);
  if (ONLY.has('memory') || ONLY.has('cold') || ONLY.has('throughput')) await singleProcess(stripe, results);
  if (ONLY.has('shared')) await shared(stripe, results);
  await stripe.stop();
  report(results);
}

await runGuarded({ main, stop: stopEverything, deadline: DEADLINE, progress });
