/**
 * What happens around a request's life that no one clicks: a confirmed refund shows at once in
 * the customer's payment history (the cached answer is dropped), the timer's sweep expires an
 * unconfirmed request after 15 minutes and records it, and resumes an execution whose Stripe
 * answer went missing with the same idempotency key, so the customer gets one refund.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import { QUIET_EXECUTION_MS, idempotencyKeyFor } from '../../src/actions/execute-request.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { ALICE, actionsFixtures, type ActionsFixture } from '../support/actions.js';

const fixture = actionsFixtures();
const opened: ActionsFixture[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((fx) => fx.close()));
});

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
