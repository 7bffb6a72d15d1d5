// The fake Stripe (demo account) on a loopback port, in a process of its own, answering each
// request after STRIPE_LATENCY_MS ± STRIPE_JITTER_MS (uniform), as the real API would take about
// that long. It records method, path, status and start/end times of every request, so the bench
// can count Stripe requests and sequential rounds per tool call.
//
// Started by bench/stripe-load.mjs with fork(): it sends { url } over IPC once listening, and exits
// when the parent goes away (disconnect), so it never outlives the bench.
//
// With FAKE_RATE_LIMITS=global:25,endpoint:25,search:20 (requests per second; endpoint and search
// optional) the fake enforces Stripe's rate limits (FakeStripe's `rateLimits`: token buckets of
// one second's worth, 429 with Stripe-Rate-Limited-Reason). The limiter sees a request when its
// latency has passed, i.e. when it "reaches Stripe", so the jitter also blurs arrival times.
//
// Control API, under a path the Stripe SDK never uses:
//   GET  /__bench/requests    → { requests: [{ method, path, status, start, end }] } (ms on this
//                               process's clock; end is null while the request is in flight)
//   GET  /__bench/rate-limits → { limits, stats } — limits as configured (null without
//                               FAKE_RATE_LIMITS), stats: { limited, busiestSecond: { global,
//                               search, endpoint } } since the last reset (null without limits)
//   POST /__bench/reset       → forgets the recorded requests; with rate limits also starts them
//                               afresh (full buckets, zero stats: a new, identically seeded fake)
//
// With FAKE_ACTION_FIXTURES=1 the account also has the action tools' payments (DEMO.actions:
// alice's duplicate charge), and each request records `answered_at` (epoch ms, comparable with
// the bench's Date.now()) so a bench can time when Stripe made an object.
import { FakeStripe } from '../../dist/demo/fake-stripe/index.js';
import { serveFakeStripe } from '../../dist/demo/serve-fake-stripe.js';

const latencyMs = Number(process.env.STRIPE_LATENCY_MS ?? 150);
const jitterMs = Number(process.env.STRIPE_JITTER_MS ?? 20);
const CONTROL_PREFIX = '/__bench/';

const rateLimits = parseRateLimits(process.env.FAKE_RATE_LIMITS);
// One seed time for every instance, so a reset (new instance) serves exactly the same account.
const seededAt = Math.floor(Date.now() / 1000);
const actionFixtures = ['1', 'true', 'yes'].includes(process.env.FAKE_ACTION_FIXTURES ?? '');
const newFake = () => new FakeStripe({ now: seededAt, actionFixtures, ...(rateLimits ? { rateLimits } : {}) });
let fake = newFake();
let recorded = [];

/** "global:25,endpoint:25,search:20" → { global: 25, endpoint: 25, search: 20 }; unset → undefined. */
function parseRateLimits(spec) {
  if (!spec?.trim()) return undefined;
  const limits = {};
  for (const part of spec.split(',')) {
    const [name, value] = part.split(':').map((text) => text.trim());
    if (!['global', 'endpoint', 'search'].includes(name) || !(Number(value) > 0)) throw new Error(`FAKE_RATE_LIMITS: cannot read "${part}" (expected global:25,endpoint:25,search:20)`);
    limits[name] = Number(value);
  }
  if (limits.global === undefined) throw new Error('FAKE_RATE_LIMITS needs global:<requests per second>');
  return limits;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const delay = () => Math.max(0, latencyMs + (Math.random() * 2 - 1) * jitterMs);

async function control(request, path) {
  if (request.method === 'GET' && path === `${CONTROL_PREFIX}requests`) return Response.json({ requests: recorded });
  if (request.method === 'GET' && path === `${CONTROL_PREFIX}rate-limits`) return Response.json({ limits: rateLimits ?? null, stats: fake.rateLimitStats() ?? null });
  if (request.method === 'POST' && path === `${CONTROL_PREFIX}reset`) {
    recorded = [];
    // FakeStripe's limiter cannot be emptied; a fresh instance (same seed, same ids) can.
    if (rateLimits) fake = newFake();
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
    entry.answered_at = Date.now();
  }
}

// serveFakeStripe serves `fake.handle`; an object with only our wrapped handler is all it uses.
const served = await serveFakeStripe({ handle }, { hostname: '127.0.0.1', port: 0 });
process.send?.({ url: served.url });
process.on('disconnect', () => {
  setTimeout(() => process.exit(0), 1000).unref();
  served.close().finally(() => process.exit(0));
});
