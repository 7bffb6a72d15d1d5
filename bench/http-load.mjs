// Load: N concurrent conversations × M tool calls each over HTTP (/v1/tools, host key +
// customer token) against the demo Stripe account, answered in-process (STRIPE_LATENCY_MS adds
// a delay per Stripe request). Bounded: N×M calls per row, then it stops.
// Run: npm run bench:http   (NS=1,50,500 M=10 STRIPE_LATENCY_MS=0)
import { FakeStripe } from '../dist/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../dist/demo/demo-identity.js';
import { loadSettings } from '../dist/config.js';
import { startHttpServer } from '../dist/http/serve.js';
import { silentLogger } from '../dist/log.js';
import { createRuntime } from '../dist/runtime.js';
import { ALL_TOOLS, selectTools } from '../dist/tools/registry.js';
import { createIdentityTokenVerifier } from '../dist/verify/identity-token.js';

const NS = (process.env.NS ?? '1,50,500').split(',').map(Number);
const M = Number(process.env.M ?? 10);
const latency = Number(process.env.STRIPE_LATENCY_MS ?? 0);
const HOST_KEY = 'bench_host_key_00000000000000000000';
const SECRET = 'bench-identity-secret-at-least-32-bytes!!';
const EMAILS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'erin@example.jp', 'frank@example.com'];
const TOOLS = ['get_subscription_status', 'get_invoice_history', 'get_billing_info', 'get_customer_overview', 'get_payment_history'];

const fake = new FakeStripe();
// The load generator is one address opening up to N connections at once: over the per-client cap on purpose.
const settings = loadSettings({ STRIPE_API_KEY: 'rk_test_fake_bench_000000000000000', HOST_KEYS: `bench:${HOST_KEY}`, IDENTITY_SECRET: SECRET, PORT: '0', LOG_LEVEL: 'silent', MAX_CONNECTIONS_PER_CLIENT: '2048' });
const runtime = createRuntime({
  settings,
  log: silentLogger(),
  fetch: async (input, init) => {
    if (latency) await new Promise((resolve) => setTimeout(resolve, latency));
    return fake.handle(new Request(input, init));
  },
});
const server = await startHttpServer({ settings, runtime, tools: selectTools({ allowlist: [], writeTools: [] }, ALL_TOOLS), verifier: createIdentityTokenVerifier(settings) });
const tokens = await Promise.all(EMAILS.map((email) => mintIdentityToken(email, SECRET, 3600)));

async function conversation(index, latencies, failures) {
  const token = tokens[index % tokens.length];
  for (let call = 0; call < M; call++) {
    const tool = TOOLS[(index + call) % TOOLS.length];
    const started = performance.now();
    try {
      const response = await fetch(`${server.url}/v1/tools/${tool}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${HOST_KEY}`, 'x-customer-token': token, 'x-conversation-id': `c${index}`, 'content-type': 'application/json' },
        body: '{}',
      });
      const body = await response.json();
      if (response.status !== 200 || body.is_error) failures.count++;
    } catch {
      failures.count++;
    }
    latencies.push(performance.now() - started);
  }
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const rows = [];
for (const n of NS) {
  const latencies = [];
  const failures = { count: 0 };
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, (_, index) => conversation(index, latencies, failures)));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  rows.push({
    N: n,
    M,
    calls: latencies.length,
    'calls/s': Math.round(latencies.length / seconds),
    'p50 ms': pct(latencies, 50).toFixed(1),
    'p99 ms': pct(latencies, 99).toFixed(1),
    errors: failures.count,
    'RSS MB': Math.round(process.memoryUsage().rss / 1024 / 1024),
  });
}
console.table(rows);
console.log(`Stripe latency per request: ${latency} ms (in-process fake). Server and load generator share one process on ${(await import('node:os')).cpus().length} cores.`);
console.log('Latency is measured at the client: it includes connecting and queueing in the shared event loop, so a conversation\'s first call (a new connection) makes the p99 at large N.');
await server.close();
