// The latency from the customer's confirming click to the refund existing on Stripe (issue 22's
// closing figure). Every part runs in a process of its own on loopback: the fake Stripe with the
// demo account and its action payments, answering each request after STRIPE_LATENCY_MS ±
// STRIPE_JITTER_MS (bench/support/fake-stripe-server.mjs, FAKE_ACTION_FIXTURES=1), and `serve`
// with an actions policy and its SQLite trail, as `npm run demo` runs it but against the fake over
// HTTP (STRIPE_API_BASE).
//
// Each of N rounds, one after another: the verified customer (alice, identity token) calls
// request_refund on her duplicate charge through /v1/tools (a partial refund of REFUND_CENTS, so
// N rounds fit in the $44.00 payment and each stays within auto_approve), then the host's Confirm
// button: POST /v1/requests/{id}/confirm with the answer's confirmation token. Timed from that
// click:
//   - answered: the confirm answer (it says `done`: the refund is made inline, within the click);
//   - on Stripe: when the fake Stripe answered the POST /v1/refunds that made it (its own clock,
//     epoch ms, the same machine's).
// At the end the charge's refunds are listed through the Stripe API (GET /v1/refunds?charge=…):
// there must be exactly one per round, each naming its request (metadata.sbm_request).
//
// Run: npm run bench:actions
// Knobs (env): ACTION_ROUNDS=50 STRIPE_LATENCY_MS=150 STRIPE_JITTER_MS=20 REFUND_CENTS=80
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO } from '../dist/demo/fake-stripe/index.js';
import { mintIdentityToken } from '../dist/demo/demo-identity.js';
import { runGuarded, startFakeStripe, startServe, stopAll } from './support/processes.mjs';

const ROUNDS = Number(process.env.ACTION_ROUNDS ?? 50);
const LATENCY_MS = Number(process.env.STRIPE_LATENCY_MS ?? 150);
const JITTER_MS = Number(process.env.STRIPE_JITTER_MS ?? 20);
const REFUND_CENTS = Number(process.env.REFUND_CENTS ?? 80);
const CHARGE = DEMO.actions.aliceDuplicateCharge;
const CHARGE_CENTS = 4400;
if (!(ROUNDS >= 1) || !(REFUND_CENTS >= 1) || ROUNDS * REFUND_CENTS > CHARGE_CENTS) {
  throw new Error(`ACTION_ROUNDS × REFUND_CENTS must fit in the $44.00 duplicate charge (got ${ROUNDS} × ${REFUND_CENTS})`);
}
const DEADLINE = Date.now() + (120 + ROUNDS * 10) * 1000;

// Fake credentials: they open nothing but the fake Stripe and this bench's own server.
const STRIPE_KEY = 'rk_test_fake_bench_actions_000000000000';
const HOST_KEY = 'bench_actions_host_key_0000000000000000';
const IDENTITY_SECRET = 'bench-identity-secret-at-least-32-bytes!!';
const AUDIT_KEY = `a1:${Buffer.alloc(32, 7).toString('base64')}`;
// Refunds within auto_approve and no per-customer count: every round is carried out at the click.
const POLICY = {
  refund: { enabled: true, reasons: ['duplicate', 'requested_by_customer'], max_age_days: 30, max_amount: { usd: 20000 }, auto_approve: { max_amount: { usd: 5000 }, max_age_days: 30 } },
};

const benchStarted = performance.now();
const progress = (message) => process.stderr.write(`[${((performance.now() - benchStarted) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function postJson(url, headers, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${url} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, json };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-actions-'));
  try {
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(POLICY));
    const stripe = await startFakeStripe({ STRIPE_LATENCY_MS: String(LATENCY_MS), STRIPE_JITTER_MS: String(JITTER_MS), FAKE_ACTION_FIXTURES: '1' });
    progress(`fake Stripe at ${stripe.url} (${LATENCY_MS} ± ${JITTER_MS} ms a request)`);
    const serve = await startServe({
      STRIPE_API_KEY: STRIPE_KEY,
      STRIPE_API_BASE: stripe.url,
      HOST_KEYS: `bench:${HOST_KEY}`,
      IDENTITY_SECRET,
      ACTIONS_POLICY: policyFile,
      AUDIT_DB: join(dir, 'audit.db'),
      AUDIT_KEY,
    });
    progress(`serve at ${serve.url}`);
    const token = await mintIdentityToken(DEMO.emails.alice, IDENTITY_SECRET, 3600);
    const headers = { authorization: `Bearer ${HOST_KEY}`, 'x-customer-token': token, 'x-conversation-id': 'bench-actions' };

    const answered = [];
    const onStripe = [];
    const proposeMs = [];
    const requestIds = [];
    for (let round = 1; round <= ROUNDS; round += 1) {
      if (Date.now() > DEADLINE) throw new Error(`past the deadline after ${round - 1} rounds`);
      const proposeStart = performance.now();
      const asked = await postJson(`${serve.url}/v1/tools/request_refund`, headers, { payment: CHARGE, amount: REFUND_CENTS, reason: 'duplicate' });
      proposeMs.push(performance.now() - proposeStart);
      if (asked.json.is_error || !asked.json.confirmation) throw new Error(`round ${round}: request_refund answered ${asked.status} ${JSON.stringify(asked.json.error ?? asked.json).slice(0, 300)}`);
      const { request_id: id, token: confirmation } = asked.json.confirmation;
      requestIds.push(id);

      const clickedAt = Date.now();
      const clickStart = performance.now();
      const confirmed = await postJson(`${serve.url}/v1/requests/${id}/confirm`, headers, { token: confirmation });
      answered.push(performance.now() - clickStart);
      const state = confirmed.json.request?.state;
      if (confirmed.status !== 200 || state !== 'done') throw new Error(`round ${round}: confirm answered ${confirmed.status} (state ${state ?? '—'}): ${JSON.stringify(confirmed.json).slice(0, 300)}`);

      // The POST /v1/refunds that made this round's refund: the one answered 200 after the click.
      let made;
      for (let attempt = 0; attempt < 50 && !made; attempt += 1) {
        made = (await stripe.requests()).find((entry) => entry.method === 'POST' && entry.path === '/v1/refunds' && entry.status === 200 && entry.answered_at >= clickedAt);
        if (!made) await sleep(20);
      }
      if (!made) throw new Error(`round ${round}: the fake Stripe recorded no refund after the click`);
      onStripe.push(made.answered_at - clickedAt);
      await fetch(`${stripe.url}/__bench/reset`, { method: 'POST' });
      if (round % 10 === 0 || round === ROUNDS) progress(`${round}/${ROUNDS} rounds`);
    }

    // Through the Stripe API, as the merchant would look: one refund per round, each naming its request.
    const listed = await fetch(`${stripe.url}/v1/refunds?charge=${CHARGE}&limit=100`, { headers: { authorization: `Bearer ${STRIPE_KEY}` } });
    const refunds = (await listed.json()).data ?? [];
    const ours = refunds.filter((refund) => requestIds.includes(refund.metadata?.sbm_request));
    const perRequest = new Set(ours.map((refund) => refund.metadata.sbm_request));
    const refundedCents = refunds.reduce((sum, refund) => sum + refund.amount, 0);

    const rows = [
      ['request_refund answer (before the click)', proposeMs],
      ['click → confirm answer (done)', answered],
      ['click → refund made on Stripe', onStripe],
    ].map(([label, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { label, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) };
    });
    const width = Math.max(...rows.map((row) => row.label.length));
    const ms = (value) => `${value.toFixed(0).padStart(6)} ms`;
    process.stdout.write(`\nAction latency: ${ROUNDS} sequential refunds of ${(REFUND_CENTS / 100).toFixed(2)} usd, fake Stripe at ${LATENCY_MS} ± ${JITTER_MS} ms a request (separate processes, loopback)\n\n`);
    process.stdout.write(`${'measure'.padEnd(width)}  ${'p50'.padStart(9)}  ${'p95'.padStart(9)}  ${'max'.padStart(9)}\n`);
    for (const row of rows) process.stdout.write(`${row.label.padEnd(width)}  ${ms(row.p50)}  ${ms(row.p95)}  ${ms(row.max)}\n`);
    process.stdout.write(`\nRefunds on the charge (GET /v1/refunds?charge=${CHARGE}): ${ours.length} made by the ${ROUNDS} confirmed requests (${perRequest.size} distinct), ${(refundedCents / 100).toFixed(2)} usd in all\n`);
    if (ours.length !== ROUNDS || perRequest.size !== ROUNDS) {
      process.exitCode = 1;
      process.stdout.write('MISMATCH: expected exactly one refund per confirmed request\n');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runGuarded({ main, stop: stopAll, deadline: DEADLINE, progress });
