/**
 * What happens around a request's life that no one clicks: a confirmed refund shows at once in
 * the customer's payment history (the cached answer is dropped), the timer's sweep expires an
 * unconfirmed request after 15 minutes and records it, and resumes an execution whose Stripe
 * answer went missing with the same idempotency key, so the customer gets one refund.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import { ActionsEngine } from '../../src/actions/engine.js';
import { QUIET_EXECUTION_MS, idempotencyKeyFor } from '../../src/actions/execute-request.js';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { FakeStripe, FakeStripeAccounts } from '../../src/demo/fake-stripe/index.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { silentLogger } from '../../src/log.js';
import { startPlatform } from '../../src/platform/serve-platform.js';
import { ALICE, EXAMPLE_POLICY, actionsFixtures, type ActionsFixture } from '../support/actions.js';
import { tempDirAfterAll } from '../support/audit.js';
import { testSettings } from '../support/mcp-harness.js';

const fixture = actionsFixtures();
const opened: ActionsFixture[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((fx) => fx.close()));
  vi.restoreAllMocks();
});
const tempDir = tempDirAfterAll('sbm-lifecycle-');

const DUPLICATE = DEMO.actions.aliceDuplicateCharge;
const CONFIRMATION_MINUTES = 15;

interface Payment {
  id: string;
  amount_refunded?: { amount: number; formatted: string };
  refund?: string;
}

/** alice asks for the duplicate charge back (within auto_approve: no staff approval). */
async function askForDuplicateRefund(fx: ActionsFixture): Promise<{ requestId: string; secret: string }> {
  const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: DUPLICATE, reason: 'duplicate' });
  expect(answer.body, JSON.stringify(answer.body)).toMatchObject({ is_error: false, result: { request: { state: 'awaiting_confirmation' } } });
  const parsed = parseConfirmationToken(answer.body.confirmation!.token);
  expect(parsed).toBeDefined();
  return { requestId: parsed!.requestId, secret: parsed!.secret };
}

async function duplicateInHistory(fx: ActionsFixture): Promise<Payment> {
  const answer = await fx.asCustomer(ALICE, 'get_payment_history');
  expect(answer.body.is_error).toBe(false);
  const payments = (answer.body.result as { payments: Payment[] }).payments;
  return payments.find((payment) => payment.id === DUPLICATE)!;
}

const chargeReads = (fx: ActionsFixture) => fx.fake.requests.filter((request) => request.method === 'GET' && request.path === '/v1/charges').length;
const refundsOf = (fx: ActionsFixture, charge: string) => [...fx.fake.store.refunds.values()].filter((refund) => refund.charge === charge);

describe('after the confirming click', () => {
  it('the refund shows at once in get_payment_history, though its answer was cached', async () => {
    const fx = await fixture();
    opened.push(fx);
    expect(await duplicateInHistory(fx)).not.toHaveProperty('amount_refunded');
    // Caching is on: asking again does not go to Stripe.
    const reads = chargeReads(fx);
    expect(await duplicateInHistory(fx)).not.toHaveProperty('amount_refunded');
    expect(chargeReads(fx)).toBe(reads);

    const { requestId, secret } = await askForDuplicateRefund(fx);
    const confirmed = await fx.runtime.actions!.confirm(requestId, secret, 'host');
    expect(confirmed).toMatchObject({ outcome: 'confirmed', execution: { outcome: 'done' } });

    // No stale answer: the very next call shows the money going back.
    expect(await duplicateInHistory(fx)).toMatchObject({ refund: 'Fully refunded.', amount_refunded: { amount: 4400, formatted: '$44.00' } });
  });
});

describe('the sweep', () => {
  it(`expires a request left unconfirmed for ${CONFIRMATION_MINUTES} minutes, records it, and the link no longer works`, async () => {
    let now = Date.now();
    const fx = await fixture({ clock: () => now });
    opened.push(fx);
    const engine = fx.runtime.actions!;
    const { requestId, secret } = await askForDuplicateRefund(fx);

    now += (CONFIRMATION_MINUTES - 1) * 60_000;
    expect((await engine.sweep()).expired).toEqual([]);
    now += 60_000 + 1_000;
    expect((await engine.sweep()).expired).toEqual([requestId]);
    expect(await engine.requests.get(requestId)).toMatchObject({ state: 'expired' });

    await fx.trail.flush();
    const steps = (await fx.trail.store.find({ email: ALICE, limit: 100 })).filter((row) => row.kind === 'action' && row.detail?.request === requestId).map((row) => row.detail!.step);
    expect(steps.sort()).toEqual(['expired', 'requested']);

    // The person's late click changes nothing, and Stripe was never asked.
    expect(await engine.confirm(requestId, secret, 'host')).toMatchObject({ outcome: 'expired' });
    expect(refundsOf(fx, DUPLICATE)).toEqual([]);
    expect((await engine.sweep()).expired).toEqual([]);
  });

  it('resumes an execution whose answer was lost, with the same idempotency key: one refund, done', async () => {
    let now = Date.now();
    const fx = await fixture({ clock: () => now, execute: { sleep: async () => undefined } });
    opened.push(fx);
    const engine = fx.runtime.actions!;
    const { requestId, secret } = await askForDuplicateRefund(fx);

    // Stripe makes the refund, but every answer is lost (the first call and its retries).
    fx.fake.dropNext({ method: 'POST', path: '/v1/refunds', afterExecution: true, times: 10 });
    const confirmed = await engine.confirm(requestId, secret, 'host');
    expect(confirmed).toMatchObject({ outcome: 'confirmed', execution: { outcome: 'unknown' } });
    expect(await engine.requests.get(requestId)).toMatchObject({ state: 'executing' });
    expect(refundsOf(fx, DUPLICATE)).toHaveLength(1);

    // Not quiet long enough yet: nobody takes it over (the first process may still be at it).
    expect((await engine.sweep()).resumed).toEqual([]);
    fx.fake.clearFailures();
    now += QUIET_EXECUTION_MS + 1_000;
    const swept = await engine.sweep();
    expect(swept.resumed.map((result) => result.outcome)).toEqual(['done']);

    const done = await engine.requests.get(requestId);
    const [refund] = refundsOf(fx, DUPLICATE);
    expect(refundsOf(fx, DUPLICATE)).toHaveLength(1);
    expect(done).toMatchObject({ state: 'done', stripe_object_id: refund!.id });
    const calls = fx.fake.requests.filter((request) => request.method === 'POST' && request.path === '/v1/refunds');
    expect(calls.length).toBeGreaterThan(1);
    expect(new Set(calls.map((call) => call.idempotencyKey))).toEqual(new Set([idempotencyKeyFor(requestId)]));
    expect(await duplicateInHistory(fx)).toMatchObject({ refund: 'Fully refunded.', amount_refunded: { amount: 4400 } });

    await fx.trail.flush();
    const steps = (await fx.trail.store.find({ email: ALICE, limit: 100 })).filter((row) => row.kind === 'action' && row.detail?.request === requestId).map((row) => row.detail!.step);
    expect(steps).toContain('executed');
    expect(steps.filter((step) => step === 'executed')).toHaveLength(1);
  });
});

/** The order in which engines' timers start and stop and trails close, from here on. */
function watchLifecycle(): string[] {
  const events: string[] = [];
  const start = ActionsEngine.prototype.start;
  const close = ActionsEngine.prototype.close;
  const trailClose = AuditTrail.prototype.close;
  vi.spyOn(ActionsEngine.prototype, 'start').mockImplementation(function (this: ActionsEngine, ...args) {
    events.push(`start ${this.tenantId ?? 'server'}`);
    return start.apply(this, args);
  });
  vi.spyOn(ActionsEngine.prototype, 'close').mockImplementation(async function (this: ActionsEngine) {
    await close.apply(this);
    events.push(`closed ${this.tenantId ?? 'server'}`);
  });
  vi.spyOn(AuditTrail.prototype, 'close').mockImplementation(function (this: AuditTrail, ...args) {
    events.push('trail close');
    return trailClose.apply(this, args);
  });
  return events;
}

describe('the timer', () => {
  it('runs while the HTTP server does, and stops before the trail closes on shutdown', async () => {
    const events = watchLifecycle();
    const fx = await fixture();
    expect(events).toEqual(['start server']);
    await fx.close();
    expect(events.slice(0, 3)).toEqual(['start server', 'closed server', 'trail close']);
  });

  it('runs for each merchant built in platform mode, and stops when it is dropped and before the trail closes', async () => {
    const events = watchLifecycle();
    const KEY = 'rk_test_fake_lifecycle_platform_00000000';
    const ADMIN = 'admin_secret_for_lifecycle_tests_0000000';
    const accounts = new FakeStripeAccounts();
    accounts.add(KEY, new FakeStripe({ now: Math.floor(Date.now() / 1000), actionFixtures: true }));
    const platform = await startPlatform({
      settings: testSettings({ PORT: '0', ADMIN_KEYS: `ops:${ADMIN}`, TENANT_KEY_SECRET: `k1:${Buffer.alloc(32, 7).toString('base64')}`, AUDIT_DB: join(tempDir(), 'platform.db') }),
      log: silentLogger(),
      fetch: (input, init) => accounts.handle(new Request(input, init)),
    });
    let acme = '';
    try {
      const create = async (name: string, settings: Record<string, unknown>) => {
        const response = await fetch(`${platform.url}/v1/admin/tenants`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name, stripe_api_key: KEY, settings }) });
        expect(response.status).toBe(201);
        return ((await response.json()) as { tenant: { id: string } }).tenant.id;
      };
      acme = await create('Acme', { actions: EXAMPLE_POLICY });
      const readOnly = await create('Read-only', {});
      expect((await platform.apps.get(acme))?.runtime.actions).toBeDefined();
      expect((await platform.apps.get(readOnly))?.runtime.actions).toBeUndefined();
      expect(events).toEqual([`start ${acme}`]);

      // Dropped (removed, idle or rebuilt): its timer stops.
      await platform.apps.forget(acme);
      await expect.poll(() => events).toContain(`closed ${acme}`);
      const again = (await platform.apps.get(acme))!;
      expect(again.runtime.actions).toBeDefined();
      expect(events.filter((event) => event === `start ${acme}`)).toHaveLength(2);
    } finally {
      await platform.close();
    }
    expect(events.slice(-2)).toEqual([`closed ${acme}`, 'trail close']);
  });
});
