// What the disclosure audit trail costs a tool call, and how fast it writes. Postgres (a
// throw-away cluster, bench/support/postgres.mjs), the fake Stripe, every `serve` process and every
// in-process measurement run in processes of their own on loopback.
//
// Table 1 (added latency per call): three `serve` processes against one fake Stripe, the trail
//   off (AUDIT=off), in SQLite (AUDIT_DB in a temporary folder) and in Postgres (DATABASE_URL).
//   Each gets the same warm calls (POST /v1/tools/get_subscription_status, every demo customer
//   already cached, so no call waits on Stripe) from this process, CALLS calls per round at a
//   fixed concurrency (closed loop). The rounds interleave the servers, in a rotated order each
//   round, so that noise on the shared machine falls on all alike; the latencies of all rounds are
//   pooled. Added = trail on − trail off. A fourth server, a second one with the trail off (A/A
//   control, CONTROL=0 drops it), is measured the same way: its "added" figures are the noise
//   floor. After the table the servers are stopped (SIGTERM: the trail writes what is queued) and
//   the rows in each database are counted.
// Table 2 (the call's own cost of recording): in a fresh process per row, RECORDS timed calls of
//   `trail.record(callEntry(facts))` (dist/audit/…) while the trail writes to SQLite or Postgres in
//   the background, in bursts of RECORD_BURST records per event-loop turn (so the writes run in
//   between; past half the buffer the loop waits, untimed, so that no record is dropped). Also
//   `callEntry(facts)` alone (no trail), the part a call pays whether or not anything is kept.
// Table 3 (sustained records/s): in a fresh process per run, THROUGHPUT_RECORDS records queued
//   into an AuditTrail (the server's batch size and flush delay) at once, then trail.flush() until
//   status().pending is 0: records/s from the first record() to the last committed row; the rows
//   are counted in the database afterwards. THROUGHPUT_REPS runs per database, alternating, each
//   into a fresh database.
//
// Run: npm run bench:audit   (one table: ONLY=latency|record|throughput npm run bench:audit)
// Knobs (env): ONLY=latency,record,throughput BACKENDS=sqlite,postgres CONCURRENCY=1,8 CALLS=1000
//   (per round and server) ROUNDS=8 CONTROL=1 WARMUP=500 RECORDS=200000 RECORD_BURST=100
//   THROUGHPUT_RECORDS=100000 THROUGHPUT_REPS=3 PG_DURABLE=1 (0: the tests' fsync=off,
//   synchronous_commit=off, full_page_writes=off) BENCH_MAX_SECONDS=900
import { post } from './support/http-client.mjs';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processStats, startFakeStripe, startServe, stopAll, runGuarded } from './support/processes.mjs';
import { startPostgres } from './support/postgres.mjs';

const PARTS = ['latency', 'record', 'throughput'];
const ALL_BACKENDS = ['sqlite', 'postgres'];
const list = (value, fallback) => (value ?? fallback).split(',').map((item) => item.trim()).filter(Boolean);
const ONLY = new Set(list(process.env.ONLY, PARTS.join(',')));
for (const name of ONLY) if (!PARTS.includes(name)) throw new Error(`ONLY: unknown table "${name}" (${PARTS.join(', ')})`);
const BACKENDS = list(process.env.BACKENDS, ALL_BACKENDS.join(','));
for (const name of BACKENDS) if (!ALL_BACKENDS.includes(name)) throw new Error(`BACKENDS: unknown database "${name}" (${ALL_BACKENDS.join(', ')})`);
const CONCURRENCY = list(process.env.CONCURRENCY, '1,8').map(Number);
const CALLS = Number(process.env.CALLS ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const CONTROL = !['0', 'false', 'no'].includes(process.env.CONTROL ?? '1');
const WARMUP = Number(process.env.WARMUP ?? 500);
const RECORDS = Number(process.env.RECORDS ?? 200_000);
const RECORD_BURST = Number(process.env.RECORD_BURST ?? 100);
const THROUGHPUT_RECORDS = Number(process.env.THROUGHPUT_RECORDS ?? 100_000);
const THROUGHPUT_REPS = Number(process.env.THROUGHPUT_REPS ?? 3);
const PG_DURABLE = !['0', 'false', 'no'].includes(process.env.PG_DURABLE ?? '1');
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 900);
const DEADLINE = Date.now() + MAX_SECONDS * 1000;
const CHILD_TIMEOUT_MS = 300_000;
// The issue's targets.
const TARGET_ADDED_P99_MS = 0.2;
const TARGET_RECORDS_PER_SECOND = 5_000;
// The server's default AUDIT_BUFFER: what table 2's trail holds while it writes.
const AUDIT_BUFFER = 10_000;

// Fake credentials: they open nothing but the fake Stripe and the bench's own servers.
const STRIPE_KEY = 'rk_test_fake_bench_0000000000000000';
const HOST_KEY = 'bench_host_key_000000000000000000000';
const IDENTITY_SECRET = 'bench-identity-secret-at-least-32-bytes!!';
const TOOL = 'get_subscription_status';
const EMAILS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.jp', 'frank@example.com', 'heidi@example.com'];

const benchStarted = performance.now();
const progress = (message) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function checkDeadline() {
  if (Date.now() > DEADLINE) throw new Error('the bench ran longer than BENCH_MAX_SECONDS; stopping (lower CALLS, ROUNDS, RECORDS or THROUGHPUT_RECORDS)');
}

// Nearest-rank percentile of an ascending array.
const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
const ascending = (values) => Float64Array.from(values).sort();
const median = (values) => percentile(ascending(values), 50);
const fixed = (value, digits) => Number(value.toFixed(digits));
const signed = (value, digits) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
const spread = (values, digits) => `${signed(Math.min(...values), digits)} … ${signed(Math.max(...values), digits)}`;

/** Rows of the trail in a database: the SQLite file (opened read-only) or a Postgres URL. */
async function countRows(backend, target) {
  if (backend === 'sqlite') {
    const { default: Sqlite } = await import('better-sqlite3');
    const db = new Sqlite(target, { readonly: true, fileMustExist: true });
    try {
      return Number(db.prepare('SELECT count(*) AS n FROM audit_records').get().n);
    } finally {
      db.close();
    }
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: target });
  await client.connect();
  try {
    return Number((await client.query('SELECT count(*) AS n FROM audit_records')).rows[0].n);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Tables 2 and 3 run here, in a process forked from this file (BENCH_AUDIT_CHILD names the job):
// a fresh heap per row, and no HTTP or child-process bookkeeping of the parent's in the timings.

/** The facts a warm customer call of get_subscription_status hands callEntry(), 1000 conversations × the demo customers. */
async function callFacts() {
  const { ALL_TOOLS } = await import('../dist/tools/registry.js');
  const tool = ALL_TOOLS.find((candidate) => candidate.name === TOOL);
  return Array.from({ length: 1000 }, (_, i) => ({
    surface: 'tools',
    caller: 'host:bench',
    conversation: `bench-conversation-${i}`,
    principal: { kind: 'customer', email: EMAILS[i % EMAILS.length], verifiedBy: 'identity-token' },
    tool: TOOL,
    failure: undefined,
    disclosed: tool.discloses,
    write: tool.writes,
    email: EMAILS[i % EMAILS.length],
    customerIds: [`cus_bench${String(i % EMAILS.length).padStart(10, '0')}`],
  }));
}

async function openTrail(backend, target, bufferLimit) {
  const { AuditTrail } = await import('../dist/audit/audit-trail.js');
  const { silentLogger } = await import('../dist/log.js');
  // A key of the bench's own: the chain is linked under it as under AUDIT_KEY.
  const { auditKeysFromSetting } = await import('../dist/audit/audit-key.js');
  const keys = auditKeysFromSetting(`bench:${Buffer.alloc(32, 9).toString('base64')}`);
  let store;
  if (backend === 'sqlite') {
    const { SqliteAuditStore } = await import('../dist/audit/sqlite-audit-store.js');
    store = new SqliteAuditStore(target, keys);
  } else {
    const { PostgresAuditStore } = await import('../dist/audit/postgres-audit-store.js');
    store = new PostgresAuditStore(target, keys);
  }
  // The server's batch size and flush delay (AuditTrail's defaults), as createAuditTrail makes it.
  const trail = new AuditTrail({ store, log: silentLogger(), bufferLimit, required: false });
  await trail.start();
  if (!trail.writable) throw new Error(`the ${backend} trail cannot be written: ${JSON.stringify(trail.status())}`);
  return trail;
}

/** flush() until nothing is pending; fails if the database refuses. */
async function drain(trail) {
  while (trail.status().pending > 0) {
    await trail.flush();
    if (!trail.writable) throw new Error(`the trail stopped writing: ${JSON.stringify(trail.status())}`);
  }
}

/** Table 2: per-call time of record(callEntry()) (or callEntry() alone, backend "none"), µs. */
async function measureRecord({ backend, target, records, warmup, burst }) {
  const { callEntry } = await import('../dist/audit/call-entry.js');
  const facts = await callFacts();
  const trail = backend === 'none' ? undefined : await openTrail(backend, target, AUDIT_BUFFER);
  const samples = new Float64Array(records);
  let sink;
  let waits = 0;
  const run = async (count, timed) => {
    for (let i = 0; i < count; ) {
      const end = Math.min(count, i + burst);
      if (trail) {
        for (; i < end; i++) {
          const started = performance.now();
          trail.record(callEntry(facts[i % facts.length]));
          if (timed) samples[i] = performance.now() - started;
        }
      } else {
        for (; i < end; i++) {
          const started = performance.now();
          sink = callEntry(facts[i % facts.length]);
          if (timed) samples[i] = performance.now() - started;
        }
      }
      // Between bursts the trail's writes run; past half its buffer, wait for them (untimed).
      await nextTurn();
      while (trail && trail.status().pending > AUDIT_BUFFER / 2) {
        waits++;
        await sleep(1);
      }
    }
  };
  await run(warmup, false);
  const started = performance.now();
  await run(records, true);
  const seconds = (performance.now() - started) / 1000;
  if (trail) await drain(trail);
  const status = trail?.status();
  await trail?.close();
  const sorted = samples.sort();
  const us = (p) => fixed(percentile(sorted, p) * 1000, 2);
  return {
    sink: sink ? 1 : 0,
    records,
    p50: us(50),
    p90: us(90),
    p99: us(99),
    p999: us(99.9),
    max: fixed(sorted[sorted.length - 1] * 1000, 0),
    offered: Math.round(records / seconds),
    waits,
    written: status?.written,
    lost: status?.lost,
    rows: trail ? await countRows(backend, target) : undefined,
    expected: warmup + records,
  };
}

/** Table 3: THROUGHPUT_RECORDS queued at once, written to the last. */
async function measureThroughput({ backend, target, records }) {
  const { callEntry } = await import('../dist/audit/call-entry.js');
  const facts = await callFacts();
  // Room for every record: none may be counted lost.
  const trail = await openTrail(backend, target, records + 1);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < records; i++) trail.record(callEntry(facts[i % facts.length]));
  const queuedMs = performance.now() - started;
  await drain(trail);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const status = trail.status();
  await trail.close();
  return { seconds, queuedMs, written: status.written, lost: status.lost, rows: await countRows(backend, target), cpuMs: (cpu.user + cpu.system) / 1000 };
}

async function childMain(job) {
  try {
    const result = job.part === 'record' ? await measureRecord(job) : await measureThroughput(job);
    process.send({ ok: true, result }, () => process.exit(0));
  } catch (error) {
    process.send({ ok: false, error: error.stack ?? String(error) }, () => process.exit(1));
  }
}

const childProcesses = new Set();

/** Runs one job in a forked copy of this file; resolves with its result. */
function inChild(job) {
  checkDeadline();
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_AUDIT_CHILD: JSON.stringify(job) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    childProcesses.add(child);
    let answer;
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.once('message', (message) => (answer = message));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      childProcesses.delete(child);
      if (answer?.ok) resolve(answer.result);
      else reject(new Error(`${job.part} (${job.backend}) failed: ${answer?.error ?? `the process exited (${code ?? signal})`}`));
    });
  });
}

process.once('exit', () => {
  for (const child of childProcesses) child.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------
// Table 1: added latency per warm call, three servers measured in interleaved rounds.


/** One warm call; resolves with its latency (ms) and what failed, if anything (never throws). */
async function callTool(server, tokens, index, conversationId) {
  const headers = {
    authorization: `Bearer ${HOST_KEY}`,
    'x-customer-token': tokens[index % tokens.length],
    'x-conversation-id': conversationId,
    'content-type': 'application/json',
  };
  const started = performance.now();
  let error;
  try {
    const response = await post(`${server.url}/v1/tools/${TOOL}`, headers, '{}');
    if (response.status !== 200) error = `HTTP ${response.status}`;
    else if (JSON.parse(response.text).is_error) error = 'is_error';
  } catch (failure) {
    error = `request failed (${failure.code ?? failure.name})`;
  }
  return { ms: performance.now() - started, error };
}

/** `calls` calls by `concurrency` workers, each sending its next call when the previous answer arrived. */
async function load(server, tokens, { calls, concurrency, label }) {
  const latencies = [];
  const errors = new Map();
  let next = 0;
  const worker = async (id) => {
    while (next < calls) {
      const index = next++;
      const result = await callTool(server, tokens, index, `${label}-${id}`);
      latencies.push(result.ms);
      if (result.error) errors.set(result.error, (errors.get(result.error) ?? 0) + 1);
    }
  };
  const before = processStats(server.pid);
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, id) => worker(id)));
  const seconds = (performance.now() - started) / 1000;
  const cpuMs = processStats(server.pid).cpuMs - before.cpuMs;
  return { latencies, seconds, cpuMs, errors };
}

async function latencyTable(tempDir, postgres) {
  const { mintIdentityToken } = await import('../dist/demo/demo-identity.js');
  const tokens = await Promise.all(EMAILS.map((email) => mintIdentityToken(email, IDENTITY_SECRET, 3600)));
  const stripe = await startFakeStripe({ STRIPE_LATENCY_MS: '0', STRIPE_JITTER_MS: '0' });
  progress(`fake Stripe at ${stripe.url}`);
  const configs = [{ name: 'off', settings: { AUDIT: 'off' } }];
  // A second trail-off server, measured like the others: its "added" figures are the noise floor.
  if (CONTROL) configs.push({ name: 'off (A/A)', control: true, settings: { AUDIT: 'off' } });
  if (BACKENDS.includes('sqlite')) {
    const file = join(tempDir, 'latency.db');
    configs.push({ name: 'SQLite', backend: 'sqlite', target: file, settings: { AUDIT_DB: file } });
  }
  if (BACKENDS.includes('postgres')) {
    const url = await postgres.createDatabase('latency');
    configs.push({ name: 'Postgres', backend: 'postgres', target: url, settings: { DATABASE_URL: url } });
  }
  for (const config of configs) {
    config.server = await startServe({
      STRIPE_API_KEY: STRIPE_KEY,
      STRIPE_API_BASE: stripe.url,
      HOST_KEYS: `bench:${HOST_KEY}`,
      IDENTITY_SECRET,
      // Warm stays warm: nothing expires, and no call limit refuses the bench's calls.
      CACHE_TTL_SECONDS: '3600',
      HOST_CALLS_PER_MINUTE: '1000000',
      CONVERSATION_CALLS_PER_MINUTE: '100000',
      ...config.settings,
    });
    config.sent = 0;
    // Each customer's first call fills the cache (the only calls that reach Stripe); then WARMUP
    // untimed calls warm the server's code paths and the trail's connection.
    for (let i = 0; i < EMAILS.length; i++) {
      const result = await callTool(config.server, tokens, i, 'warmup');
      if (result.error) throw new Error(`warm-up call for ${EMAILS[i]} on the server with the trail ${config.name}: ${result.error}`);
    }
    const warm = await load(config.server, tokens, { calls: WARMUP, concurrency: Math.max(...CONCURRENCY), label: 'warmup' });
    if (warm.errors.size) throw new Error(`warm-up on the server with the trail ${config.name}: ${[...warm.errors].map(([kind, n]) => `${n} × ${kind}`).join(', ')}`);
    config.sent += EMAILS.length + WARMUP;
    progress(`serve with the trail ${config.name} at ${config.server.url}, warm`);
  }
  await stripe.reset();

  const rows = [];
  const errorLog = [];
  for (const concurrency of CONCURRENCY) {
    const results = new Map(configs.map((config) => [config, []]));
    for (let round = 0; round < ROUNDS; round++) {
      checkDeadline();
      // A rotated order each round: no configuration always runs first or right after another.
      const order = configs.map((_, i) => configs[(i + round) % configs.length]);
      progress(`table 1: concurrency ${concurrency}, round ${round + 1}/${ROUNDS}: ${order.map((config) => config.name).join(' → ')}`);
      for (const config of order) {
        // A moment for the previous server's trail to finish its last batch.
        await sleep(100);
        const result = await load(config.server, tokens, { calls: CALLS, concurrency, label: `c${concurrency}-r${round}` });
        config.sent += CALLS;
        results.get(config).push(result);
      }
    }
    const summary = (config) => {
      const runs = results.get(config);
      const all = ascending(runs.flatMap((run) => run.latencies));
      const errors = new Map();
      for (const run of runs) for (const [kind, n] of run.errors) errors.set(kind, (errors.get(kind) ?? 0) + n);
      return {
        p50: percentile(all, 50),
        p99: percentile(all, 99),
        roundP99: runs.map((run) => percentile(ascending(run.latencies), 99)),
        roundP50: runs.map((run) => percentile(ascending(run.latencies), 50)),
        callsPerSecond: all.length / runs.reduce((sum, run) => sum + run.seconds, 0),
        cpuUsPerCall: (runs.reduce((sum, run) => sum + run.cpuMs, 0) * 1000) / all.length,
        calls: all.length,
        errors,
      };
    };
    const off = summary(configs[0]);
    for (const config of configs) {
      const figures = config === configs[0] ? off : summary(config);
      const isOff = config === configs[0];
      for (const [kind, n] of figures.errors) errorLog.push(`table 1, trail ${config.name}, concurrency ${concurrency}: ${n} × ${kind}`);
      rows.push({
        concurrency,
        trail: config.name,
        calls: figures.calls,
        'calls/s': Math.round(figures.callsPerSecond),
        'p50 ms': fixed(figures.p50, 3),
        'p99 ms': fixed(figures.p99, 3),
        'added p50 ms': isOff ? '' : signed(figures.p50 - off.p50, 3),
        'added p99 ms': isOff ? '' : signed(figures.p99 - off.p99, 3),
        'added p99 by round ms': isOff ? '' : spread(figures.roundP99.map((p99, i) => p99 - off.roundP99[i]), 3),
        'calls/s vs off': isOff ? '' : `${signed((figures.callsPerSecond / off.callsPerSecond - 1) * 100, 1)} %`,
        'server CPU µs/call': Math.round(figures.cpuUsPerCall),
        'added CPU µs/call': isOff ? '' : signed(figures.cpuUsPerCall - off.cpuUsPerCall, 0),
        errors: [...figures.errors.values()].reduce((a, b) => a + b, 0),
      });
    }
  }
  const stripeRequests = (await stripe.requests()).length;

  // SIGTERM: each server writes what its trail still holds, then the rows are counted.
  await Promise.all(configs.map((config) => config.server.stop()));
  await stripe.stop();
  const written = [];
  for (const config of configs.filter((candidate) => candidate.backend)) {
    const rowsInDb = await countRows(config.backend, config.target);
    written.push(`${config.name}: ${rowsInDb} rows for ${config.sent} calls${rowsInDb === config.sent ? '' : ' (MISMATCH)'}`);
  }
  return { rows, errorLog, stripeRequests, written };
}

// ---------------------------------------------------------------------------------------------
// Table 2: the record() call itself.

async function recordTable(tempDir, postgres) {
  const rows = [];
  const jobs = [{ name: 'none (callEntry only)', backend: 'none' }];
  if (BACKENDS.includes('sqlite')) jobs.push({ name: 'SQLite', backend: 'sqlite', target: join(tempDir, 'record.db') });
  if (BACKENDS.includes('postgres')) jobs.push({ name: 'Postgres', backend: 'postgres', target: await postgres.createDatabase('record') });
  for (const job of jobs) {
    progress(`table 2: ${RECORDS} × record(callEntry()), trail ${job.name}`);
    const result = await inChild({ part: 'record', backend: job.backend, target: job.target, records: RECORDS, warmup: Math.min(RECORDS, 20_000), burst: RECORD_BURST });
    rows.push({
      trail: job.name,
      calls: result.records,
      'p50 µs': result.p50,
      'p90 µs': result.p90,
      'p99 µs': result.p99,
      'p99.9 µs': result.p999,
      'max µs': result.max,
      'offered calls/s': result.offered,
      'buffer waits': result.waits,
      lost: result.lost ?? '',
      'rows written': result.rows === undefined ? '' : result.rows === result.expected ? result.rows : `${result.rows} (expected ${result.expected})`,
    });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Table 3: sustained records/s.

async function throughputTable(tempDir, postgres) {
  const runs = new Map(BACKENDS.map((backend) => [backend, []]));
  for (let rep = 0; rep < THROUGHPUT_REPS; rep++) {
    // Alternating, starting with the other database each repetition.
    const order = rep % 2 === 0 ? BACKENDS : [...BACKENDS].reverse();
    for (const backend of order) {
      const target = backend === 'sqlite' ? join(tempDir, `throughput-${rep}.db`) : await postgres.createDatabase(`throughput_${rep}`);
      progress(`table 3: ${THROUGHPUT_RECORDS} records into ${backend}, run ${rep + 1}/${THROUGHPUT_REPS}`);
      const result = await inChild({ part: 'throughput', backend, target, records: THROUGHPUT_RECORDS });
      progress(`  ${Math.round(THROUGHPUT_RECORDS / result.seconds)} records/s`);
      runs.get(backend).push(result);
    }
  }
  return BACKENDS.map((backend) => {
    const results = runs.get(backend);
    const rates = results.map((result) => THROUGHPUT_RECORDS / result.seconds);
    const rowsOk = results.every((result) => result.rows === THROUGHPUT_RECORDS && result.written === THROUGHPUT_RECORDS);
    return {
      database: backend === 'sqlite' ? 'SQLite' : 'Postgres',
      records: THROUGHPUT_RECORDS,
      runs: results.length,
      'records/s (median)': Math.round(median(rates)),
      'records/s (min … max)': `${Math.round(Math.min(...rates))} … ${Math.round(Math.max(...rates))}`,
      'seconds (median)': fixed(median(results.map((result) => result.seconds)), 2),
      'queueing ms (median)': fixed(median(results.map((result) => result.queuedMs)), 0),
      'trail process CPU ms/1k records': fixed(median(results.map((result) => (result.cpuMs / THROUGHPUT_RECORDS) * 1000)), 1),
      lost: results.reduce((sum, result) => sum + result.lost, 0),
      'rows counted': rowsOk ? `${THROUGHPUT_RECORDS} each run` : results.map((result) => result.rows).join(', '),
      [`≥ ${TARGET_RECORDS_PER_SECOND}/s`]: Math.min(...rates) >= TARGET_RECORDS_PER_SECOND ? 'yes' : 'no',
    };
  });
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const tempDir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
  // Also when the watchdog or a signal ends the bench before the finally below.
  process.once('exit', () => rmSync(tempDir, { recursive: true, force: true }));
  let postgres;
  try {
    if (BACKENDS.includes('postgres')) {
      postgres = await startPostgres({ durable: PG_DURABLE });
      progress(`${postgres.version} at 127.0.0.1:${postgres.port} (${PG_DURABLE ? 'default durability' : 'fsync, synchronous_commit and full_page_writes off'})`);
    }
    const latency = ONLY.has('latency') ? await latencyTable(tempDir, postgres) : undefined;
    const record = ONLY.has('record') ? await recordTable(tempDir, postgres) : undefined;
    const throughput = ONLY.has('throughput') ? await throughputTable(tempDir, postgres) : undefined;
    report({ latency, record, throughput, postgres });
  } finally {
    await postgres?.stop();
    rmSync(tempDir, { recursive: true, force: true });
  }
}

function report({ latency, record, throughput, postgres }) {
  if (latency) {
    console.log(
      `\nTable 1: added latency per warm call, POST /v1/tools/${TOOL}, one serve process per row, all running at once; ${CALLS} calls per round and server, ${ROUNDS} rounds interleaved, the servers in a rotated order each round (a → b → c, b → c → a, …), all rounds pooled`,
    );
    console.table(latency.rows);
    for (const concurrency of CONCURRENCY) {
      const rows = latency.rows.filter((row) => row.concurrency === concurrency && row['added p99 ms'] !== '');
      const verdicts = rows.filter((row) => row.trail !== 'off (A/A)').map((row) => `${row.trail} ${row['added p99 ms']} ms (${Number(row['added p99 ms']) <= TARGET_ADDED_P99_MS ? 'met' : 'missed'})`);
      const control = rows.find((row) => row.trail === 'off (A/A)');
      console.log(
        `Concurrency ${concurrency}, target p99 added ≤ ${TARGET_ADDED_P99_MS} ms: ${verdicts.join(', ')}` +
          (control ? `; noise floor (a second trail-off server against the first): p99 ${control['added p99 ms']} ms, ${control['added p99 by round ms']} by round.` : '.'),
      );
    }
    console.log(`Rows in each database after the servers stopped (warm-up included): ${latency.written.join('; ')}. Stripe requests during the measured rounds: ${latency.stripeRequests} (warm cache).`);
    if (latency.errorLog.length) console.log(`Errors:\n  ${latency.errorLog.join('\n  ')}`);
  }
  if (record) {
    console.log(`\nTable 2: the call's own cost of recording: trail.record(callEntry(facts)) timed one by one, ${RECORDS} calls in bursts of ${RECORD_BURST} per event-loop turn while the trail writes in the background (a fresh process per row, after ${Math.min(RECORDS, 20_000)} untimed calls)`);
    console.table(record);
  }
  if (throughput) {
    console.log(`\nTable 3: sustained records/s: ${THROUGHPUT_RECORDS} records queued into an AuditTrail at once, first record() → status().pending 0 (batches of 500, the server's); a fresh process and a fresh database per run, the databases alternating`);
    console.table(throughput);
  }

  const legend = [`\n${cpus().length} cores, shared by the load generator, the servers, Postgres and the fake Stripe.`];
  if (postgres) legend.push(`Postgres: ${postgres.version}, a throw-away cluster on loopback, ${PG_DURABLE ? "durability at Postgres's defaults (fsync, synchronous_commit, full_page_writes on: every batch's commit waits for its WAL flush)" : 'fsync, synchronous_commit and full_page_writes off (PG_DURABLE=0)'}. SQLite: WAL, synchronous=NORMAL (the trail's settings: a commit does not wait for fsync), in ${tmpdir()}.`);
  if (latency) {
    legend.push(
      'Columns of table 1:',
      `  p50/p99 ms: latency at the load generator (request sent → answer read), nearest rank over all ${ROUNDS} rounds pooled; closed loop: each of the "concurrency" workers sends its next call when its previous answer arrived.`,
      '  added p50/p99 ms: the same percentile minus the trail-off server\'s; by round: the smallest and largest of that difference taken round by round (each round\'s p99 against the same round\'s off), a measure of the noise.',
      '  calls/s: calls ÷ the seconds spent in that server\'s rounds; vs off: relative to the trail-off server.',
      '  Verdicts: "met" means the pooled p99 difference is ≤ the target; a difference (of either sign) no larger than the A/A row\'s says only that this machine cannot resolve the added latency at that level. The CPU columns, less noisy than the tail, show the cost that does not fade with more rounds.',
      '  server CPU µs/call: user + system CPU time of the serve process (/proc/<pid>/stat, clock-tick resolution) during its rounds ÷ calls, the SQLite worker thread and the pg client included; Postgres\'s own CPU is not in it.',
    );
  }
  if (record) {
    legend.push(
      'Columns of table 2:',
      '  p50 … max µs: wall time of one record(callEntry(facts)) (or callEntry alone) on the calling thread, performance.now() around each call, GC pauses included.',
      '  offered calls/s: calls ÷ the wall time of the timed loop, yields and buffer waits included; buffer waits: 1 ms sleeps taken because more than half the buffer (AUDIT_BUFFER default 10000) was pending; lost must be 0.',
    );
  }
  if (throughput) legend.push('  Table 3: queueing ms: time to make and queue every record (callEntry + record); trail process CPU: the bench process\'s CPU time (seal, SQL building, the SQLite worker or pg driver) per 1000 records; rows counted: rows in the database after close.');
  console.log(legend.join('\n'));
}

if (process.env.BENCH_AUDIT_CHILD) {
  await childMain(JSON.parse(process.env.BENCH_AUDIT_CHILD));
} else {
  const stop = async () => {
    for (const child of childProcesses) child.kill('SIGKILL');
    await stopAll();
  };
  await runGuarded({ main, stop, deadline: DEADLINE, progress, done: 'done; every child process stopped, Postgres stopped, temporary folders removed' });
}
