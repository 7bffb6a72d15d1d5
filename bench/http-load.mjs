// Warm CPU per call over HTTP: N concurrent conversations × M tool calls, over /v1/tools and /mcp,
// against `serve` processes whose caches are warm (every customer × tool answered once before
// anything is measured). The fake Stripe, each server and this load generator are separate
// processes on loopback ports; server CPU per call is the server process's own CPU time
// (utime + stime from /proc/<pid>/stat) over the row, divided by the calls answered.
//
// Side by side in one run: this checkout's build ("after"), and with BEFORE_DIR a build of the
// code to compare with ("before": `git archive <commit> | tar -x -C <dir>`, node_modules linked,
// `npm run build`), plus a floor: a bare Hono app on @hono/node-server (the same adapter) that
// answers every call with a canned copy of a real answer, i.e. what HTTP and JSON alone cost;
// and for /mcp a second floor, the MCP SDK's own cost (bench/support/mcp-sdk-floor.mjs): per call a
// fresh stateless McpServer with one zod-typed tool + the SDK's web-standard Streamable HTTP
// transport, as the SDK documents stateless servers (the product answers a lone tools/call without
// them), the tool answering a saved copy of a real answer. Column
// `beyond floor µs`: a build's CPU per call minus the floor of its transport (the MCP SDK floor
// for /mcp, the Hono floor for /v1/tools), i.e. what our own code adds.
// Rows are interleaved round by round, in rotated order; the table shows medians over rounds.
//
// Run: npm run bench:http
//      BEFORE_DIR=/tmp/sbm-before npm run bench:http
//      BEFORE_DIR=/tmp/sbm-before HEAD_DIR=/tmp/sbm-head npm run bench:http   (a third build, e.g. the last commit: rows `head`, column `× head`)
// Knobs (env): BEFORE_DIR= HEAD_DIR= AFTER_DIR=<this checkout> N=50 (conversations, a list: 50,500) M=60 (calls each per row)
//   ROUNDS=3 TRANSPORTS=/v1/tools,/mcp FLOOR=1 (0: neither floor) SDK_FLOOR=1 (0: no MCP SDK floor)
//   MCP_FLOOR_VALIDATOR=default (the SDK floor's servers each build the SDK's default Ajv validator)
//   STRIPE_LATENCY_MS=0 AUDIT LOG_LEVEL (passed to serve)
//   PROFILE=1: the servers (and the MCP SDK floor) run with --cpu-prof; after the rows, each one's top owners and
//   functions by self time are printed (profiling slows the server: read its CPU figures as
//   relative only).
//
// The servers run with the call limits raised (HOST_CALLS_PER_MINUTE=1000000,
// CONVERSATION_CALLS_PER_MINUTE=100000: the defaults, 6,000 per host key and 60 per conversation a
// minute, would refuse most of this load) and CACHE_TTL_SECONDS=3600 (no entry expires during the
// run, so every measured call is warm). Everything else is serve's default (audit trail on, SQLite).
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

if (process.env.HTTP_LOAD_ROLE === 'floor') {
  await serveFloor();
} else {
  await main();
}

/** The floor: Hono on @hono/node-server answering canned bodies (process of its own, forked). */
async function serveFloor() {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const answers = JSON.parse(process.env.FLOOR_ANSWERS);
  const app = new Hono();
  app.use('*', async (c, next) => {
    c.header('Cache-Control', 'no-store');
    await next();
  });
  const answer = (path) => async (c) => {
    await c.req.text();
    return c.body(answers[path].body, 200, { 'content-type': answers[path].contentType });
  };
  app.post('/v1/tools/:name', answer('/v1/tools'));
  app.post('/mcp', answer('/mcp'));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => process.send({ url: `http://127.0.0.1:${info.port}` }));
  process.on('disconnect', () => server.close(() => process.exit(0)));
}

async function main() {
  const { post } = await import('./support/http-client.mjs');
  const { processStats, startFakeStripe, startForked, stopAll } = await import('./support/processes.mjs');
  const { startServeFrom, THIS_CHECKOUT } = await import('./support/serve-build.mjs');
  const { summarizeProfile } = await import('./support/cpu-profile.mjs');
  const { mintIdentityToken } = await import('../dist/demo/demo-identity.js');

  const NS = (process.env.N ?? process.env.NS ?? '50').split(',').map(Number);
  const M = Number(process.env.M ?? 60);
  const ROUNDS = Number(process.env.ROUNDS ?? 3);
  const TRANSPORTS = (process.env.TRANSPORTS ?? '/v1/tools,/mcp').split(',');
  const FLOOR = process.env.FLOOR !== '0';
  const SDK_FLOOR = FLOOR && process.env.SDK_FLOOR !== '0' && TRANSPORTS.includes('/mcp');
  const SDK_FLOOR_NAME = 'floor: MCP SDK stateless, one tool';
  const PROFILE = ['1', 'true', 'yes'].includes(process.env.PROFILE ?? '');
  const LATENCY_MS = Number(process.env.STRIPE_LATENCY_MS ?? 0);
  const STRIPE_KEY = 'rk_test_fake_bench_0000000000000000';
  const HOST_KEY = 'bench_host_key_000000000000000000000';
  const IDENTITY_SECRET = 'bench-identity-secret-at-least-32-bytes!!';
  const EMAILS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.jp', 'frank@example.com', 'heidi@example.com'];
  const TOOLS = ['get_subscription_status', 'get_upcoming_invoice', 'get_invoice_history', 'get_payment_history', 'get_billing_info', 'get_credit_balance', 'get_available_plans', 'get_customer_overview'];
  const PASS_THROUGH = ['AUDIT', 'DATABASE_URL', 'CACHE_MAX_MB', 'LOG_LEVEL'];

  const started = performance.now();
  const progress = (message) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
  const tokens = new Map(await Promise.all(EMAILS.map(async (email) => [email, await mintIdentityToken(email, IDENTITY_SECRET, 3600)])));
  const percentile = (sorted, p) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  const median = (values) => percentile([...values].sort((a, b) => a - b), 50);

  /** One call as a chatbot host makes it; resolves to { ms, ok, text }. */
  async function callTool(url, transport, tool, email, conversationId) {
    const headers = { authorization: `Bearer ${HOST_KEY}`, 'x-customer-token': tokens.get(email), 'x-conversation-id': conversationId, 'content-type': 'application/json' };
    const call =
      transport === '/mcp'
        ? { url: `${url}/mcp`, headers: { ...headers, accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } }) }
        : { url: `${url}/v1/tools/${tool}`, headers, body: '{}' };
    const begun = performance.now();
    try {
      const response = await post(call.url, call.headers, call.body);
      const answer = JSON.parse(response.text);
      const ok = response.status === 200 && (transport === '/mcp' ? !answer.error && !answer.result?.isError : !answer.is_error);
      return { ms: performance.now() - begun, ok, text: response.text };
    } catch {
      return { ms: performance.now() - begun, ok: false, text: '' };
    }
  }

  /** N conversations × M calls against one server; its CPU time from /proc around the row. */
  async function loadRow(target, transport, n) {
    const before = processStats(target.pid);
    const latencies = [];
    let errors = 0;
    const rowStarted = performance.now();
    await Promise.all(
      Array.from({ length: n }, async (_, index) => {
        const email = EMAILS[index % EMAILS.length];
        for (let call = 0; call < M; call++) {
          const result = await callTool(target.url, transport, TOOLS[(index + call) % TOOLS.length], email, `load-${index}`);
          latencies.push(result.ms);
          if (!result.ok) errors++;
        }
      }),
    );
    const seconds = (performance.now() - rowStarted) / 1000;
    const after = processStats(target.pid);
    latencies.sort((a, b) => a - b);
    return { callsPerSecond: latencies.length / seconds, cpuUs: ((after.cpuMs - before.cpuMs) * 1000) / latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, rssMb: after.rssMb };
  }

  const profileRoot = PROFILE ? mkdtempSync(join(tmpdir(), 'bench-http-prof-')) : undefined;
  const stripe = await startFakeStripe({ STRIPE_LATENCY_MS: String(LATENCY_MS), STRIPE_JITTER_MS: '0' });
  const env = {
    STRIPE_API_KEY: STRIPE_KEY,
    STRIPE_API_BASE: stripe.url,
    HOST_KEYS: `bench:${HOST_KEY}`,
    IDENTITY_SECRET,
    HOST_CALLS_PER_MINUTE: '1000000',
    CONVERSATION_CALLS_PER_MINUTE: '100000',
    CACHE_TTL_SECONDS: '3600',
    ...Object.fromEntries(PASS_THROUGH.filter((name) => process.env[name]).map((name) => [name, process.env[name]])),
  };
  const builds = [
    ...(process.env.BEFORE_DIR ? [['before', process.env.BEFORE_DIR]] : []),
    ...(process.env.HEAD_DIR ? [['head', process.env.HEAD_DIR]] : []),
    ['after', process.env.AFTER_DIR ?? THIS_CHECKOUT],
  ];
  const targets = [];
  let floorChild;
  let sdkFloor;
  try {
    for (const [name, dir] of builds) {
      const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(profileRoot, name)}`] : [];
      targets.push({ name, dir, ...(await startServeFrom(dir, env, { nodeArgs })) });
    }
    // Warm: every customer × tool once on each transport, then one unmeasured row for the JIT.
    for (const target of targets) {
      for (const transport of TRANSPORTS) {
        for (const email of EMAILS) {
          for (const tool of TOOLS) {
            const result = await callTool(target.url, transport, tool, email, 'warm');
            if (!result.ok) throw new Error(`${target.name}: warm-up call ${tool} for ${email} over ${transport} failed: ${result.text.slice(0, 300)}`);
          }
        }
        await loadRow(target, transport, Math.max(...NS));
      }
      progress(`${target.name} (${target.dir}) warm`);
    }
    if (FLOOR) {
      const answers = {};
      for (const transport of ['/v1/tools', '/mcp']) {
        const result = await callTool(targets.at(-1).url, transport, 'get_subscription_status', EMAILS[0], 'floor');
        answers[transport] = { body: result.text, contentType: 'application/json' };
      }
      floorChild = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, HTTP_LOAD_ROLE: 'floor', FLOOR_ANSWERS: JSON.stringify(answers) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const { url } = await new Promise((resolve, reject) => {
        floorChild.once('message', resolve);
        floorChild.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
      });
      const floor = { name: 'floor', dir: 'Hono + @hono/node-server, canned answer', url, pid: floorChild.pid };
      for (const transport of TRANSPORTS) await loadRow(floor, transport, Math.max(...NS));
      targets.push(floor);
      if (SDK_FLOOR) {
        // The same saved /mcp answer, as the tool's result: the SDK wraps it in JSON-RPC itself.
        const { result } = JSON.parse(answers['/mcp'].body);
        const execArgv = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${join(profileRoot, 'sdk-floor')}`] : undefined;
        sdkFloor = await startForked(fileURLToPath(new URL('./support/mcp-sdk-floor.mjs', import.meta.url)), { FLOOR_MCP_RESULT: JSON.stringify(result) }, 'the MCP SDK floor', { execArgv });
        const target = { name: SDK_FLOOR_NAME, dir: 'McpServer + WebStandardStreamableHTTPServerTransport on Hono', url: sdkFloor.ready.url, pid: sdkFloor.child.pid, transports: ['/mcp'] };
        const check = await callTool(target.url, '/mcp', 'get_subscription_status', EMAILS[0], 'floor');
        if (!check.ok || JSON.parse(check.text).result?.structuredContent === undefined) throw new Error(`the MCP SDK floor's answer is not a tool result: ${check.text.slice(0, 300)}`);
        progress(`MCP SDK floor up: answers ${check.text.length} bytes to get_subscription_status (ours: ${answers['/mcp'].body.length})`);
        await loadRow(target, '/mcp', Math.max(...NS));
        targets.push(target);
      }
    }
    const servesTransport = (target, transport) => !target.transports || target.transports.includes(transport);

    const results = new Map();
    for (let round = 0; round < ROUNDS; round++) {
      for (const n of NS) {
        for (const transport of TRANSPORTS) {
          // Rotated each round, so no server always runs first (or right after another's GC).
          const order = targets.map((_, i) => targets[(i + round) % targets.length]).filter((target) => servesTransport(target, transport));
          for (const target of order) {
            const key = `${transport}|${n}|${target.name}`;
            const row = await loadRow(target, transport, n);
            results.set(key, [...(results.get(key) ?? []), row]);
            progress(`round ${round + 1}/${ROUNDS} ${transport} N=${n} ${target.name}: ${Math.round(row.cpuUs)} µs/call, ${Math.round(row.callsPerSecond)} calls/s, p99 ${row.p99.toFixed(1)} ms, ${row.errors} errors`);
          }
        }
      }
    }

    const table = [];
    for (const transport of TRANSPORTS) {
      for (const n of NS) {
        const cpuOf = (name) => (results.has(`${transport}|${n}|${name}`) ? median(results.get(`${transport}|${n}|${name}`).map((row) => row.cpuUs)) : undefined);
        const beforeCpu = cpuOf('before');
        const headCpu = cpuOf('head');
        // What our code adds: the floor of this transport (the MCP SDK's for /mcp when measured).
        const floorCpu = cpuOf(transport === '/mcp' && SDK_FLOOR ? SDK_FLOOR_NAME : 'floor');
        for (const target of targets) {
          if (!servesTransport(target, transport)) continue;
          const rows = results.get(`${transport}|${n}|${target.name}`);
          const cpu = median(rows.map((row) => row.cpuUs));
          table.push({
            transport,
            N: n,
            server: target.name,
            'server CPU µs/call': Math.round(cpu),
            '× before': beforeCpu ? (cpu / beforeCpu).toFixed(2) : '',
            ...(headCpu ? { '× head': (cpu / headCpu).toFixed(2) } : {}),
            ...(FLOOR ? { 'beyond floor µs': floorCpu !== undefined && !target.name.startsWith('floor') ? Math.round(cpu - floorCpu) : '' } : {}),
            'calls/s': Math.round(median(rows.map((row) => row.callsPerSecond))),
            'p50 ms': median(rows.map((row) => row.p50)).toFixed(1),
            'p99 ms': median(rows.map((row) => row.p99)).toFixed(1),
            errors: rows.reduce((sum, row) => sum + row.errors, 0),
            'RSS MB': Math.round(rows.at(-1).rssMb),
          });
        }
      }
    }
    console.table(table);
    console.log(`${ROUNDS} rounds of N conversations × ${M} calls per server and transport (medians; errors summed), warm caches, fake Stripe at ${LATENCY_MS} ms in its own process, ${cpus().length} cores, Node ${process.version}.`);
    if (FLOOR) console.log(`beyond floor µs: a build's server CPU per call minus ${SDK_FLOOR ? "the MCP SDK floor's for /mcp (ours beyond the SDK) and " : ''}the Hono floor's${SDK_FLOOR ? ' for /v1/tools' : ''} (ours beyond HTTP and JSON), medians.`);
    console.log('server CPU: the server process\'s user + system time over the row (/proc/<pid>/stat) per call; the load generator is this process, the fake Stripe another.');
    if (PROFILE) console.log('PROFILE=1: the servers ran with --cpu-prof, which slows them; compare the CPU figures with each other only.');
  } finally {
    if (floorChild?.connected) floorChild.disconnect();
    await sdkFloor?.stop();
    for (const target of targets) await target.stop?.();
    await stripe.stop();
    await stopAll();
  }

  if (PROFILE) {
    for (const name of [...builds.map(([build]) => build), ...(SDK_FLOOR ? ['sdk-floor'] : [])]) {
      const dir = join(profileRoot, name);
      const file = readdirSync(dir).find((entry) => entry.endsWith('.cpuprofile'));
      if (!file) continue;
      const summary = summarizeProfile(join(dir, file));
      console.log(`\n${name}: CPU profile of the server process (${Math.round(summary.totalMs)} ms of samples, start-up and warm-up included), ${join(dir, file)}`);
      console.table(summary.owners.slice(0, 10));
      console.table(summary.functions.slice(0, 25));
    }
  }
}
