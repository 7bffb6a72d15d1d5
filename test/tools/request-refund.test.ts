/**
 * request_refund through /v1/tools, on the fake Stripe's action fixtures: the policy refuses
 * (nothing stored), a refund within auto_approve is carried out once the person confirms, one
 * above it waits for staff, another customer's payment is refused, and what is left to refund
 * is what Stripe says is left.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { actionsFixtures, ALICE, type ActionsFixture } from '../support/actions.js';
import { confirmAsHost, expectNoSecretForModel, requestOf, storedRequests } from '../support/action-tools.js';

const fixture = actionsFixtures();
const A = DEMO.actions;
let fx: ActionsFixture;
afterEach(async () => fx?.close());

const refundsOf = (charge: string) => [...fx.fake.store.refunds.values()].filter((refund) => refund.charge === charge);

describe('request_refund', () => {
  it('is refused by the policy with a reason the model can relay, and creates no request', async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: A.aliceDuplicateCharge, reason: 'fraudulent' });
    expect(answer.body.is_error).toBe(true);
    expect(answer.body.error?.kind).toBe('refused');
    expect(answer.body.error?.message).toMatch(/reason/i);
    expect(answer.body.confirmation).toBeUndefined();
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
  });

  it('within auto_approve: waits for the person, then the confirmation refunds once and leaves the right remainder', async () => {
    fx = await fixture();
    // $74.00 is left of the $99.00 payment: asking $80.00 is refused, naming what is left.
    const tooMuch = await fx.asCustomer(ALICE, 'request_refund', { payment: A.alicePartlyRefundedCharge, amount: 8000, reason: 'requested_by_customer' });
    expect(tooMuch.body.error?.kind).toBe('refused');
    expect(tooMuch.body.error?.message).toContain('$74.00');
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);

    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: A.alicePartlyRefundedCharge, amount: 2000, reason: 'requested_by_customer' });
    const request = requestOf(answer);
    expect(request).toMatchObject({ kind: 'refund', state: 'awaiting_confirmation' });
    expect(request.preview.summary).toMatch(/^Refund \$20\.00 of your \$99\.00 payment of \d{4}-\d\d-\d\d to the Visa card ending 4242$/);
    expect(request.preview.when).toMatch(/5–10 business days/);
    expect(request.next).toMatch(/confirm/i);
    expectNoSecretForModel(answer);
    // Nothing happened before the person confirmed.
    expect(refundsOf(A.alicePartlyRefundedCharge)).toHaveLength(1);

    const confirmed = await confirmAsHost(fx, ALICE, answer);
    expect(confirmed.outcome).toBe('confirmed');
    const refunds = refundsOf(A.alicePartlyRefundedCharge);
    expect(refunds.map((refund) => refund.amount).sort()).toEqual([2000, 2500]);
    expect(fx.fake.store.charges.get(A.alicePartlyRefundedCharge)?.amount_refunded).toBe(4500);

    const status = await fx.asCustomer(ALICE, 'get_request_status', { request: request.id });
    const done = (status.body.result!.requests as Array<{ state: string; stripe_object_id?: string; next: string }>)[0]!;
    expect(done.state).toBe('done');
    expect(refunds.map((refund) => refund.id)).toContain(done.stripe_object_id);
    expect(done.next).toContain(done.stripe_object_id!);

    // $54.00 is left now.
    const again = await fx.asCustomer(ALICE, 'request_refund', { payment: A.alicePartlyRefundedCharge, amount: 6000, reason: 'requested_by_customer' });
    expect(again.body.error?.message).toContain('$54.00');
  });

  it('by payment intent, in full by default: the refund is made on that payment', async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: A.aliceDuplicatePaymentIntent, amount: null, reason: 'duplicate' });
    expect(requestOf(answer).preview.amount?.formatted).toBe('$44.00');
    await confirmAsHost(fx, ALICE, answer);
    const [refund] = refundsOf(A.aliceDuplicateCharge);
    expect(refund).toMatchObject({ amount: 4400, reason: 'duplicate', payment_intent: A.aliceDuplicatePaymentIntent });
  });

  it("by invoice: refunds the charge that paid it; one older than the policy's max_age_days is refused", async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.invoices.alicePaid[2], reason: 'requested_by_customer' });
    const paidBy = DEMO.charges.alicePaid[2];
    expect(requestOf(answer).preview).toMatchObject({ amount: { formatted: '$44.00' }, subject: expect.stringContaining(paidBy) });
    await confirmAsHost(fx, ALICE, answer);
    expect(refundsOf(paidBy).map((refund) => refund.amount)).toEqual([4400]);

    const old = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.invoices.alicePaid[0], reason: 'requested_by_customer' });
    expect(old.body.error?.kind).toBe('refused');
    expect(old.body.error?.message).toMatch(/30 days/);
    expect(refundsOf(DEMO.charges.alicePaid[0])).toEqual([]);
  });

  it('above auto_approve: confirmed, then waits for a staff approval without touching Stripe', async () => {
    fx = await fixture();
    // $74.00 > the $50.00 auto-approve limit.
    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: A.alicePartlyRefundedCharge, reason: 'requested_by_customer' });
    const request = requestOf(answer);
    expect(request.preview.amount?.formatted).toBe('$74.00');
    expect(request.approval_because?.join(' ')).toMatch(/\$50\.00|auto|staff/i);
    expectNoSecretForModel(answer);
    const confirmed = await confirmAsHost(fx, ALICE, answer);
    expect(confirmed.outcome === 'confirmed' && confirmed.request.state).toBe('awaiting_approval');
    expect(refundsOf(A.alicePartlyRefundedCharge)).toHaveLength(1);
  });

  it.each([
    ["carol's charge", 'ch_DemoCarol0001'],
    ["bob alice's charge", 'ch_DemoBobAlice0001'],
    ["carol's invoice by id", DEMO.invoices.carolPaid],
    ['an unknown charge', 'ch_DoesNotExist'],
    ['an unknown payment intent', 'pi_DoesNotExist'],
  ])('refuses %s explicitly, creating nothing', async (_label, payment) => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment, reason: 'duplicate' });
    expect(answer.body.error).toEqual({ kind: 'not_found', message: expect.stringContaining("not on this customer's account") });
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
    expect(await storedRequests(fx, DEMO.customers.carol)).toEqual([]);
  });

  it("refuses another customer's payment intent", async () => {
    fx = await fixture();
    // carol asks for alice's duplicate payment.
    const answer = await fx.asCustomer(DEMO.emails.carol, 'request_refund', { payment: A.aliceDuplicatePaymentIntent, reason: 'duplicate' });
    expect(answer.body.error?.kind).toBe('not_found');
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
    expect(refundsOf(A.aliceDuplicateCharge)).toEqual([]);
  });

  it('refuses a payment that failed or is refunded in full', async () => {
    fx = await fixture();
    const failed = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.charges.aliceFailed, reason: 'duplicate' });
    expect(failed.body.error?.message).toMatch(/did not go through/);
    const refunded = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.charges.aliceRefunded, reason: 'duplicate' });
    expect(refunded.body.error?.message).toMatch(/already been refunded in full/);
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
  });

  it('staff mode: within auto_approve the staff call refunds at once; above it waits for another staff member', async () => {
    fx = await fixture();
    const within = await fx.asStaff('request_refund', { email: ALICE, payment: A.aliceDuplicateCharge, amount: 2000, reason: 'duplicate' });
    expect(within.body.confirmation).toBeUndefined();
    const done = requestOf(within);
    expect(done.state).toBe('done');
    expect(refundsOf(A.aliceDuplicateCharge).map((refund) => [refund.id, refund.amount])).toEqual([[done.stripe_object_id, 2000]]);

    const above = await fx.asStaff('request_refund', { email: ALICE, payment: A.alicePartlyRefundedCharge, reason: 'requested_by_customer' });
    const waiting = requestOf(above);
    expect(waiting.state).toBe('awaiting_approval');
    expect(waiting.next).toMatch(/another staff member/);
    expect(refundsOf(A.alicePartlyRefundedCharge)).toHaveLength(1);
  });
});
