// A soak: what two `serve` processes behind one Redis and one Postgres do over minutes of steady
// chat traffic. Every part runs in a process of its own on loopback: the fake Stripe answering
// after STRIPE_LATENCY_MS ± STRIPE_JITTER_MS (bench/support/fake-stripe-server.mjs), a throw-away
// redis-server and Postgres cluster in temporary folders (bench/support/processes.mjs,
// bench/support/postgres.mjs), two `serve` processes sharing them (STORE_URL, VERIFY_SECRET,
// DATABASE_URL: one audit trail), and the load generator (bench/support/soak-load.mjs), which
// also receives the servers' code emails over SMTP. This process starts them, samples the
// servers' RSS every 5 s (/proc) and reports.
//
// The load: SOAK_CONVERSATIONS chat slots, each running one conversation after another for
// SOAK_MINUTES: the tool list, an identity token or an email-code verification, then 3–8
// customer tools picked by weight, a think time before each call, half the conversations over
// /v1/tools and half over /mcp, the requests alternating between the two servers.
//
// Every SOAK_REPORT_SECONDS and at the end it prints: tool calls, errors by kind, connection
// resets (ECONNRESET, apart from the errors), p50/p99, each server's RSS and its slope (least
// squares over the samples so far, MB/min), the lines the servers logged at warn and above, and
// audit records against answered calls. A call is answered when the server ran the tool (a
// refusal included): each such call writes one record. At the end the load stops, every call in
// flight is answered, each server's trail is drained
// (/readyz shows nothing pending), the servers stop (SIGTERM), and the rows of the Postgres trail
// are counted: they must equal the answered calls. The figures never change the exit code; a
// harness failure (a process that would not start, a load generator that died) does.
//
// Run: npm run bench:soak   (a quick check: SOAK_MINUTES=0.5 npm run bench:soak)
// Knobs (env): SOAK_MINUTES=10 SOAK_CONVERSATIONS=100 SOAK_THINK_MS=500-1500 SOAK_CALLS=3-8
//   SOAK_CODE_SHARE=0.2 (conversations that verify by email code, while an address has codes
//   left this hour) SOAK_MCP_SHARE=0.5 SOAK_REPORT_SECONDS=30 STRIPE_LATENCY_MS=150
//   STRIPE_JITTER_MS=20 PG_DURABLE=1. Server settings in PASS_THROUGH below go to the serve
//   processes when set here.
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { send } from './support/http-client.mjs';
import { startPostgres } from './support/postgres.mjs';
import { processStats, runGuarded, startFakeStripe, startForked, startRedis, startServe, stopAll } from './support/processes.mjs';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
if (!(MINUTES > 0)) throw new Error(`SOAK_MINUTES must be a number of minutes above 0 (got "${process.env.SOAK_MINUTES}")`);
const REPORT_MS = Number(process.env.SOAK_REPORT_SECONDS ?? 30) * 1000;
const SAMPLE_MS = 5_000;
const LATENCY_MS = Number(process.env.STRIPE_LATENCY_MS ?? 150);
const JITTER_MS = Number(process.env.STRIPE_JITTER_MS ?? 20);
const PG_DURABLE = !['0', 'false', 'no'].includes(process.env.PG_DURABLE ?? '1');
// Start-up, the drain and the stop on top of the soak itself.
const DEADLINE = Date.now() + (MINUTES * 60 + 300) * 1000;
const DRAIN_TIMEOUT_MS = 30_000;
const LOAD_GENERATOR = fileURLToPath(new URL('./support/soak-load.mjs', import.meta.url));
// Settings that change what is measured (including those other changes add: keep-alive,
// connections per client, the audit key): taken from the bench's environment when set.
const PASS_THROUGH = ['CACHE_TTL_SECONDS', 'CACHE_MAX_MB', 'STRIPE_RATE_LIMIT', 'CALLER_STRIPE_SHARE', 'HOST_CALLS_PER_MINUTE', 'CONVERSATION_CALLS_PER_MINUTE', 'AUDIT_BUFFER', 'AUDIT_KEY', 'KEEP_ALIVE_SECONDS', 'MAX_CONNECTIONS_PER_CLIENT'];
const passedThrough = Object.fromEntries(PASS_THROUGH.filter((name) => process.env[name]).map((name) => [name, process.env[name]]));

// Fake credentials: they open nothing but the fake Stripe and the bench's own servers. Two
// chatbot hosts (host keys), each under its own per-host call limit.
const STRIPE_KEY = 'rk_test_fake_bench_0000000000000000';
const HOST_KEYS = { 'web-widget': 'bench_soak_host_key_web_0000000000000', 'help-center': 'bench_soak_host_key_help_000000000000' };
const IDENTITY_SECRET = 'bench-identity-secret-at-least-32-bytes!!';
const VERIFY_SECRET = 'bench-verify-secret-at-least-32-bytes!!!!';
// One chain key for both processes, as the README asks of several processes on one database.
const AUDIT_KEY = `a1:${Buffer.alloc(32, 9).toString('base64')}`;

const benchStarted = performance.now();
const progress = (message) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round1 = (value) => (value === null || value === undefined ? '—' : Math.round(value * 10) / 10);
const signed2 = (value) => (value === null ? '—' : `${value >= 0 ? '+' : ''}${value.toFixed(2)}`);
const clock = (ms) => `${Math.floor(ms / 60_000)}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

/** Least-squares slope of y over x; null with fewer than two distinct x. */
function slope(points) {
  if (points.length < 2) return null;
  const meanX = points.reduce((sum, { x }) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, { y }) => sum + y, 0) / points.length;
  const sxx = points.reduce((sum, { x }) => sum + (x - meanX) ** 2, 0);
  return sxx === 0 ? null : points.reduce((sum, { x, y }) => sum + (x - meanX) * (y - meanY), 0) / sxx;
}

/** Sends the load generator a message and resolves with its reply's stats. */
function ask(load, message, replyType, timeoutMs) {
  const { child } = load;
  return new Promise((resolve, reject) => {
    if (!child.connected) {
      reject(new Error(`the load generator is gone (${child.exitCode ?? child.signalCode ?? 'disconnected'}):\n${load.stderrTail()}`));
      return;
    }
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (reply) => {
      if (reply.type !== replyType) return;
      cleanup();
      resolve(reply.stats);
    };
    const onExit = (code, signal) => {
      cleanup();
      reject(new Error(`the load generator exited (${code ?? signal}):\n${load.stderrTail()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the load generator did not answer "${message.type}" within ${timeoutMs / 1000} s:\n${load.stderrTail()}`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(message);
  });
}

/** Polls /readyz until the server's trail has nothing pending; resolves with { pending, lost }. */
async function drainTrail(server) {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  for (;;) {
    const audit = JSON.parse((await send(`${server.url}/readyz`)).text).audit;
    if (!audit) throw new Error(`${server.name}: /readyz shows no audit trail (is DATABASE_URL set?)`);
    if (audit.pending === 0 || Date.now() > deadline) return { pending: audit.pending, lost: audit.lost };
    await sleep(100);
  }
}

/** Records of tool calls in the Postgres trail, by surface. */
async function auditRows(db) {
  const { rows } = await db.query("SELECT surface, count(*)::int AS n FROM audit_records WHERE kind = 'call' GROUP BY surface");
  const bySurface = Object.fromEntries(rows.map((row) => [row.surface, row.n]));
  return { total: rows.reduce((sum, row) => sum + row.n, 0), bySurface };
}

// What the servers logged at warn and above (their LOG_LEVEL), by level and message: a reset
// or an error the clients saw may or may not have a line here. Messages only, never fields.
const LEVELS = { 40: 'warn', 50: 'error', 60: 'fatal' };
const serverLog = new Map();
function countLogLine(server, text) {
  let entry;
  try {
    entry = JSON.parse(text);
  } catch {
    entry = { level: 50, msg: `(not JSON) ${text.slice(0, 60)}` };
  }
  // The error's name says which failure it was (a busy budget, a timeout); its text stays out.
  const key = `${LEVELS[entry.level] ?? entry.level}: ${entry.msg}${entry.err?.name ? ` (${entry.err.name})` : ''}`;
  const counts = serverLog.get(key) ?? { A: 0, B: 0 };
  counts[server]++;
  serverLog.set(key, counts);
}
const serverLogCount = () => [...serverLog.values()].reduce((sum, { A, B }) => sum + A + B, 0);

// ---------------------------------------------------------------------------------------------
// The running report: one line every SOAK_REPORT_SECONDS.

const COLUMNS = [
  ['time', 6],
  ['calls', 8],
  ['calls/s', 8],
  ['answered', 9],
  ['errors', 7],
  ['resets', 7],
  ['p50 ms', 7],
  ['p99 ms', 7],
  ['Stripe req', 11],
  ['RSS A MB', 9],
  ['RSS B MB', 9],
  ['A MB/min', 9],
  ['B MB/min', 9],
  ['audit rows', 11],
  ['server log', 11],
];
const line = (values) => COLUMNS.map(([, width], i) => String(values[i]).padStart(width)).join(' ');
const errorCount = (stats) => Object.values(stats.errors).reduce((sum, n) => sum + n, 0);

async function main() {
  progress(`starting Postgres (${PG_DURABLE ? 'durable' : 'fsync off'}), redis-server, the fake Stripe (${LATENCY_MS} ± ${JITTER_MS} ms) and the load generator`);
  const postgres = await startPostgres({ durable: PG_DURABLE });
  stopPostgres = () => postgres.stop();
  const databaseUrl = await postgres.createDatabase('soak');
  const redis = await startRedis();
  const stripe = await startFakeStripe({ STRIPE_LATENCY_MS: String(LATENCY_MS), STRIPE_JITTER_MS: String(JITTER_MS) });
  const load = await startForked(LOAD_GENERATOR, {}, 'the load generator');
  const env = {
    STRIPE_API_KEY: STRIPE_KEY,
    STRIPE_API_BASE: stripe.url,
    HOST_KEYS: Object.entries(HOST_KEYS).map(([name, key]) => `${name}:${key}`).join(','),
    IDENTITY_SECRET,
    STORE_URL: redis.url,
    VERIFY_SECRET,
    DATABASE_URL: databaseUrl,
    SMTP_URL: load.ready.smtpUrl,
    MAIL_FROM: 'billing@soak.example',
    MERCHANT_NAME: 'Soak Shop',
    AUDIT_KEY,
    ...passedThrough,
  };
  const servers = [];
  for (const name of ['A', 'B']) {
    progress(`starting serve ${name}`);
    servers.push({ name, ...(await startServe({ ...env, LOG_LEVEL: 'warn' }, { onLogLine: (text) => countLogLine(name, text) })) });
  }
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await soak({ stripe, load, servers, db });
  } finally {
    await db.end();
  }
}

async function soak({ stripe, load, servers, db }) {
  const rss = servers.map(() => []);
  const firstStats = servers.map((server) => processStats(server.pid));
  const soakStarted = Date.now();
  const sample = () => servers.forEach((server, i) => rss[i].push({ x: (Date.now() - soakStarted) / 60_000, y: processStats(server.pid).rssMb }));
  const slopes = () => rss.map((points) => slope(points));
  await stripe.reset();
  sample();
  // A server that died has no /proc entry: the next report fails the bench with that error.
  let samplerError;
  const sampler = setInterval(() => {
    try {
      sample();
    } catch (error) {
      samplerError ??= error;
    }
  }, SAMPLE_MS);
  sampler.unref(); // never what keeps the bench alive, whatever stops it
  let stripeRequests = 0;
  const readStripe = async () => {
    const count = (await stripe.requests()).length;
    await stripe.reset();
    stripeRequests += count;
    return count;
  };

  progress(`soaking: ${process.env.SOAK_CONVERSATIONS ?? 100} conversations for ${MINUTES} min`);
  console.log(`\nSoak: ${process.env.SOAK_CONVERSATIONS ?? 100} conversations, ${MINUTES} min, 2 serve processes on one Redis and one Postgres, fake Stripe ${LATENCY_MS} ± ${JITTER_MS} ms; a line every ${REPORT_MS / 1000} s (calls/s, p50/p99 and Stripe requests of that interval; the rest so far)`);
  console.log(line(COLUMNS.map(([name]) => name)));
  load.child.send({ type: 'start', servers: servers.map((server) => server.url), hostKeys: Object.values(HOST_KEYS), identitySecret: IDENTITY_SECRET });
  const end = soakStarted + MINUTES * 60_000;
  let lastReport = soakStarted;
  let errorsBefore = {};
  const report = async (stats) => {
    const now = Date.now();
    if (samplerError) throw new Error(`a serve process could not be read (did it exit?): ${samplerError.message}`);
    sample();
    const stripeCount = await readStripe();
    const audit = await auditRows(db);
    const latest = rss.map((points) => points.at(-1).y);
    const [slopeA, slopeB] = slopes();
    console.log(
      line([clock(now - soakStarted), stats.calls, Math.round(stats.interval.calls / ((now - lastReport) / 1000)), stats.answered, errorCount(stats), stats.resets, round1(stats.interval.p50), round1(stats.interval.p99), stripeCount, round1(latest[0]), round1(latest[1]), signed2(slopeA), signed2(slopeB), audit.total, serverLogCount()]),
    );
    const newErrors = Object.entries(stats.errors)
      .map(([kind, n]) => [kind, n - (errorsBefore[kind] ?? 0)])
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => `${kind} ×${n}`);
    if (newErrors.length) console.log(`       errors in this interval: ${newErrors.join('; ')}`);
    errorsBefore = stats.errors;
    lastReport = now;
  };
  while (Date.now() + 1000 < end) {
    await sleep(Math.min(lastReport + REPORT_MS, end) - Date.now());
    if (Date.now() + 1000 < end) await report(await ask(load, { type: 'report' }, 'report', 10_000));
  }

  progress('finishing: no new calls; waiting for the calls in flight');
  const stats = await ask(load, { type: 'finish' }, 'finished', 90_000);
  const soakMs = Date.now() - soakStarted;
  await report(stats);
  clearInterval(sampler);
  const lastStats = servers.map((server) => processStats(server.pid));

  progress('draining the servers\' audit trails, then stopping them (SIGTERM)');
  const trails = [];
  for (const server of servers) trails.push(await drainTrail(server));
  await Promise.all(servers.map((server) => server.stop()));
  const audit = await auditRows(db);

  console.log(`\nTotals over ${(soakMs / 60_000).toFixed(2)} min`);
  console.table([
    {
      conversations: stats.conversations,
      'by token / code': `${stats.tokenConversations} / ${stats.codeConversations}`,
      'codes verified': stats.codesVerified,
      'tool lists': stats.lists,
      calls: stats.calls,
      'calls/s': round1(stats.calls / (soakMs / 1000)),
      answered: stats.answered,
      ok: stats.ok,
      errors: errorCount(stats),
      'resets (ECONNRESET)': stats.resets,
      'p50 ms': round1(stats.all.p50),
      'p99 ms': round1(stats.all.p99),
      'Stripe req': stripeRequests,
    },
  ]);
  console.log('\nErrors by kind (refusals included; resets apart)');
  if (errorCount(stats) === 0) console.log('  none');
  else console.table(Object.entries(stats.errors).map(([kind, count]) => ({ kind, count })));
  if (stats.strayMails) console.log(`  ${stats.strayMails} code email(s) arrived that no conversation was waiting for`);

  console.log('\nServer log lines at warn and above (LOG_LEVEL=warn), by message');
  if (serverLog.size === 0) console.log('  none');
  else console.table([...serverLog].map(([message, { A, B }]) => ({ message, 'serve A': A, 'serve B': B })));

  console.log('\nServers');
  const slopeList = slopes();
  console.table(
    servers.map((server, i) => ({
      process: `serve ${server.name} (pid ${server.pid})`,
      'RSS start MB': round1(firstStats[i].rssMb),
      'RSS end MB': round1(lastStats[i].rssMb),
      'peak RSS MB': round1(lastStats[i].peakRssMb),
      'RSS slope MB/min': signed2(slopeList[i]),
      'CPU s': round1((lastStats[i].cpuMs - firstStats[i].cpuMs) / 1000),
      'trail pending / lost': `${trails[i].pending} / ${trails[i].lost}`,
    })),
  );

  console.log('\nAudit records (Postgres, after the drain and stop) against answered calls');
  console.table(
    ['tools', 'mcp'].map((surface) => ({
      surface: surface === 'tools' ? '/v1/tools' : '/mcp',
      'answered calls': stats.answeredBySurface[surface],
      'audit records': audit.bySurface[surface] ?? 0,
    })).concat([{ surface: 'all', 'answered calls': stats.answered, 'audit records': audit.total }]),
  );
  const equal = audit.total === stats.answered && ['tools', 'mcp'].every((surface) => (audit.bySurface[surface] ?? 0) === stats.answeredBySurface[surface]);
  console.log(equal ? '  equal: every answered call left exactly one record.' : `  NOT EQUAL: ${audit.total - stats.answered} record(s) more than answered calls.`);

  console.log(
    [
      '',
      `${cpus().length} cores shared by every process; think time ${process.env.SOAK_THINK_MS ?? '500-1500'} ms before each call; ${process.env.SOAK_CALLS ?? '3-8'} tool calls per conversation after verifying.`,
      ...(Object.keys(passedThrough).length ? [`Server settings from the environment: ${Object.entries(passedThrough).map(([name, value]) => `${name}=${value}`).join(' ')}.`] : []),
      'calls: tool calls sent (verify_email_* and get_verification_status included; tool lists apart). answered: the server ran the tool and answered with its result or its refusal — each writes one audit record.',
      'errors: calls not answered with a result (refusals by kind, HTTP errors, timeouts) and failed tool lists; resets: requests that ended in ECONNRESET (counted only there).',
      `p50/p99: latency of every call that got an HTTP answer, at the load generator. RSS: VmRSS of each serve process (/proc), sampled every ${SAMPLE_MS / 1000} s; slope: least squares over all samples since the soak began, so the first minutes (caches filling) weigh in.`,
      'audit rows (running lines): records already committed to Postgres, which trail the answers by a batch. server log: lines both servers wrote at warn and above so far.',
    ].join('\n'),
  );
}

let stopPostgres = async () => {};
await runGuarded({
  main,
  stop: async () => {
    await stopAll();
    await stopPostgres();
  },
  deadline: DEADLINE,
  progress,
});
