// The fake Stripe (demo account) on a loopback port, in a process of its own, answering each
// request after STRIPE_LATENCY_MS ± STRIPE_JITTER_MS (uniform), as the real API would take about
// that long. It records method, path, status and start/end times of every request, so the bench
// can count Stripe requests and sequential rounds per tool call.
//
// Started by bench/stripe-load.mjs with fork(): it sends { url } over IPC once listening, and exits
// when the parent goes away (disconnect), so it never outlives the bench.
//
// Control API, under a path the Stripe SDK never uses:
//   GET  /__bench/requests   → { requests: [{ method, path, status, start, end }] } (ms on this
//                              process's clock; end is null while the request is in flight)
//   POST /__bench/reset      → forgets the recorded requests
import { FakeStripe } from '../../dist/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../../dist/demo/serve-fake-stripe.js';

const latencyMs = Number(process.env.STRIPE_LATENCY_MS ?? 150);
const jitterMs = Number(process.env.STRIPE_JITTER_MS ?? 20);
const CONTROL_PREFIX = '/__bench/';

const fake = new FakeStripe();
let recorded = [];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const delay = () => Math.max(0, latencyMs + (Math.random() * 2 - 1) * jitterMs);

async function control(request, path) {
  if (request.method === 'GET' && path === `${CONTROL_PREFIX}requests`) return Response.json({ requests: recorded });
  if (request.method === 'POST' && path === `${CONTROL_PREFIX}reset`) {
    recorded = [];
    return Response.json({ ok: true });
  }
  return Response.json({ error: 'unknown bench control path' }, { status: 404 });
}

async function handle(request) {
  const path = new URL(request.url).pathname;
  if (path.startsWith(CONTROL_PREFIX)) return control(request, path);
  // Recorded on arrival (end: null until answered), so a request still in flight when the bench
  // reads the log is counted too.
  const entry = { method: request.method, path, status: 0, start: performance.now(), end: null };
  recorded.push(entry);
  await sleep(delay());
  try {
    const response = await fake.handle(request);
    entry.status = response.status;
    return response;
  } finally {
    // status stays 0 when the fake throws (a dropped connection).
    entry.end = performance.now();
  }
}

// serveFakeStripe serves `fake.handle`; an object with only our wrapped handler is all it uses.
const served = await serveFakeStripe({ handle }, { hostname: '127.0.0.1', port: 0 });
process.send?.({ url: served.url });
process.on('disconnect', () => {
  setTimeout(() => process.exit(0), 1000).unref();
  served.close().finally(() => process.exit(0));
});
