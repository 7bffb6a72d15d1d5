// Enumeration by timing: how long verify_email_start takes to answer for an email that has a
// Stripe customer (a lookup and a mail follow) and for one that has none. Stripe answers with
// STRIPE_LATENCY_MS of delay and the mailer takes MAIL_LATENCY_MS, as real services would;
// neither may show up in the answer time.
// Run: npm run build && node bench/verify-start-timing.mjs   (RUNS=101 by default)
import { randomBytes } from 'node:crypto';
import { FakeStripe } from '../dist/demo/fake-stripe/index.js';
import { silentLogger } from '../dist/log.js';
import { createStripeClient } from '../dist/stripe/client.js';
import { findCustomersByEmail } from '../dist/stripe/find-customers.js';
import { EmailCodeVerifier } from '../dist/verify/email-codes.js';
import { GrantStore } from '../dist/verify/grants.js';
import { MemoryStore } from '../dist/verify/memory-store.js';

const runs = Number(process.env.RUNS ?? 101);
const stripeLatency = Number(process.env.STRIPE_LATENCY_MS ?? 80);
const mailLatency = Number(process.env.MAIL_LATENCY_MS ?? 250);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const fake = new FakeStripe();
const { stripe } = createStripeClient({
  apiKey: 'rk_test_fake_bench_00000000000000',
  fetch: async (input, init) => {
    await sleep(stripeLatency);
    return fake.handle(new Request(input, init));
  },
});
let mailed = 0;
const store = new MemoryStore();
const codes = new EmailCodeVerifier({
  store,
  grants: new GrantStore(store),
  secret: randomBytes(32),
  log: silentLogger(),
  customerExists: async (email) => (await findCustomersByEmail(stripe, email)).length > 0,
  sendCode: async () => {
    await sleep(mailLatency);
    mailed++;
  },
  // Limits off for the measurement only: each start is a fresh conversation and email budget.
  limits: { codeTtlMs: 600_000, maxAttempts: 5, resendCooldownMs: 1, codesPerEmailPerHour: 1e9, emailsPerConversationPerDay: 1e9 },
});

async function time(email, i) {
  const started = process.hrtime.bigint();
  const answer = await codes.start(`bench-${email}-${i}`, email);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, answer: JSON.stringify(answer) };
}

const samples = { existing: [], missing: [] };
const answers = new Set();
for (let i = 0; i < runs; i++) {
  // Interleaved, so drift in the machine's load hits both alike.
  for (const [kind, email] of [['existing', 'alice@example.com'], ['missing', 'nobody@example.com']]) {
    const { ms, answer } = await time(email, i);
    samples[kind].push(ms);
    answers.add(answer);
  }
}
await sleep(stripeLatency * 3 + mailLatency + 100);

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
console.table(
  Object.entries(samples).map(([email, values]) => ({
    email,
    runs: values.length,
    'median ms': pct(values, 50).toFixed(3),
    'p90 ms': pct(values, 90).toFixed(3),
    'max ms': Math.max(...values).toFixed(3),
  })),
);
console.log(`distinct answers: ${answers.size} (1 = byte-for-byte identical); mails sent: ${mailed} of ${runs} existing-email starts; Stripe latency ${stripeLatency} ms, mail latency ${mailLatency} ms`);
