/**
 * The fake Stripe's write side for issue 22's action tools — refunds, customer balance
 * transactions, pause_collection — and Stripe's idempotency semantics, through the real `stripe`
 * SDK (routed by msw), so what passes here is what the action tools will see.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEMO, FakeStripe, IDEMPOTENCY_KEY_TTL_SECONDS, ROUTE_PERMISSIONS } from '../src/demo/fake-stripe/index.js';
import { failure, useFakeStripe } from './support/fake-stripe-msw.js';

const NOW = 1_790_000_000;
const KEY = 'rk_test_fake_actions_wxyz';
const stripeApi = useFakeStripe({ now: NOW, actionFixtures: true });
const sdk = (options: { maxNetworkRetries?: number } = {}) => new Stripe(KEY, { maxNetworkRetries: options.maxNetworkRetries ?? 0 });
const A = DEMO.actions;


const charge = (id: string) => stripeApi.fake().store.charges.get(id)!;
const refundCount = () => stripeApi.fake().store.refunds.size;
const refundPosts = () => stripeApi.fake().requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds');

describe('the demo account has refundable payments', () => {
  it('alice was charged twice for her latest Pro payment, 90 seconds apart', async () => {
    const charges = await sdk().charges.list({ customer: DEMO.customers.alice, limit: 100 });
    const original = charges.data.find((c) => c.id === DEMO.charges.alicePaid[2])!;
    const duplicate = charges.data.find((c) => c.id === A.aliceDuplicateCharge)!;
    expect([duplicate.amount, duplicate.currency, duplicate.status, duplicate.amount_refunded]).toEqual([original.amount, 'usd', 'succeeded', 0]);
    expect(duplicate.created - original.created).toBe(90);
    expect(duplicate.payment_intent).toBe(A.aliceDuplicatePaymentIntent);
  });

  it('a partly refunded payment shows its refund, and the fully refunded one has its refund object', async () => {
    const partly = await sdk().charges.retrieve(A.alicePartlyRefundedCharge, { expand: ['refunds'] });
    expect([partly.amount, partly.amount_refunded, partly.refunded]).toEqual([9900, 2500, false]);
    expect(partly.refunds!.data.map((r) => [r.id, r.amount])).toEqual([[A.alicePartialRefund, 2500]]);
    const full = await sdk().refunds.list({ charge: DEMO.charges.aliceRefunded });
    expect(full.data.map((r) => [r.id, r.amount, r.reason])).toEqual([[DEMO.refunds.aliceRefunded, 9900, 'requested_by_customer']]);
  });

  it('is off by default, so the read-only fixtures keep their shape', async () => {
    const plain = new FakeStripe({ now: NOW });
    expect(plain.store.charges.has(A.aliceDuplicateCharge)).toBe(false);
    expect(plain.store.charges.has(A.alicePartlyRefundedCharge)).toBe(false);
    expect(plain.store.charges.get(DEMO.charges.aliceRefunded)).toMatchObject({ amount_refunded: 9900, refunded: true });
  });
});

describe('refunds', () => {
  it('refunds a whole charge: the refund as Stripe returns it, and the charge updated', async () => {
    const refund = await sdk().refunds.create({ charge: A.aliceDuplicateCharge, reason: 'duplicate', metadata: { request: 'rq_1' } });
    expect(refund).toMatchObject({
      object: 'refund',
      amount: 4400,
      currency: 'usd',
      charge: A.aliceDuplicateCharge,
      payment_intent: A.aliceDuplicatePaymentIntent,
      customer: DEMO.customers.alice,
      reason: 'duplicate',
      status: 'succeeded',
      metadata: { request: 'rq_1' },
      created: NOW,
    });
    expect(refund.id).toMatch(/^re_/);
    const after = await sdk().charges.retrieve(A.aliceDuplicateCharge);
    expect([after.amount_refunded, after.refunded]).toEqual([4400, true]);
    // Since 2022-11-15 a charge's refunds are returned only when expanded.
    expect(after.refunds).toBeUndefined();
    const expanded = await sdk().charges.list({ customer: DEMO.customers.alice, expand: ['data.refunds'], limit: 100 });
    expect(expanded.data.find((c) => c.id === A.aliceDuplicateCharge)!.refunds!.data.map((r) => r.id)).toEqual([refund.id]);
    expect((await sdk().charges.retrieve(A.aliceDuplicateCharge, { expand: ['refunds'] })).refunds!.data.map((r) => r.id)).toEqual([refund.id]);
  });

  it('a partial refund leaves the right remainder, until nothing is left', async () => {
    const first = await sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 2400, reason: 'requested_by_customer' });
    expect(first.amount).toBe(2400);
    expect(charge(A.alicePartlyRefundedCharge)).toMatchObject({ amount_refunded: 4900, refunded: false });
    const rest = await sdk().refunds.create({ charge: A.alicePartlyRefundedCharge });
    expect([rest.amount, rest.reason]).toEqual([5000, null]);
    expect(charge(A.alicePartlyRefundedCharge)).toMatchObject({ amount_refunded: 9900, refunded: true });
    const listed = await sdk().charges.retrieve(A.alicePartlyRefundedCharge, { expand: ['refunds'] });
    expect(listed.refunds!.data.map((r) => r.amount)).toEqual([5000, 2400, 2500]);
  });

  it('refuses more than is left with Stripe\'s 400 amount error, and changes nothing', async () => {
    const error = await failure(sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 7401 }));
    expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect([error.statusCode, error.code, error.param]).toEqual([400, 'amount_too_large', 'amount']);
    expect(error.message).toBe('Refund amount ($74.01) is greater than unrefunded amount on charge ($74.00)');
    expect(charge(A.alicePartlyRefundedCharge).amount_refunded).toBe(2500);
    expect(refundCount()).toBe(2); // the two seeded refunds only

    const yen = await failure(sdk().refunds.create({ charge: 'ch_DemoErin0001', amount: 3000 }));
    expect(yen.message).toBe('Refund amount (¥3,000) is greater than unrefunded amount on charge (¥2,000)');
  });

  it('refuses a charge that was already refunded with charge_already_refunded', async () => {
    const error = await failure(sdk().refunds.create({ charge: DEMO.charges.aliceRefunded }));
    expect([error.statusCode, error.code, error.type]).toEqual([400, 'charge_already_refunded', 'StripeInvalidRequestError']);
    expect(error.message).toBe(`Charge ${DEMO.charges.aliceRefunded} has already been refunded.`);
    const failed = await failure(sdk().refunds.create({ charge: DEMO.charges.aliceFailed }));
    expect([failed.statusCode, failed.code]).toEqual([400, 'charge_not_refundable']);
  });

  it('refunds by payment intent, and 404s an unknown one', async () => {
    const refund = await sdk().refunds.create({ payment_intent: A.alicePartlyRefundedPaymentIntent, amount: 100 });
    expect([refund.charge, refund.payment_intent, refund.amount]).toEqual([A.alicePartlyRefundedCharge, A.alicePartlyRefundedPaymentIntent, 100]);
    const missing = await failure(sdk().refunds.create({ payment_intent: 'pi_nope' }));
    expect([missing.statusCode, missing.code, missing.param, missing.message]).toEqual([404, 'resource_missing', 'payment_intent', "No such payment_intent: 'pi_nope'"]);
    const mismatch = await failure(sdk().refunds.create({ charge: A.aliceDuplicateCharge, payment_intent: A.alicePartlyRefundedPaymentIntent }));
    expect(mismatch.statusCode).toBe(400);
  });

  it('validates reason, amount, unknown parameters and the charge itself', async () => {
    const reason = await failure(sdk().refunds.create({ charge: A.aliceDuplicateCharge, reason: 'changed_mind' as Stripe.RefundCreateParams.Reason }));
    expect([reason.statusCode, reason.code, reason.param]).toEqual([400, 'parameter_invalid_string', 'reason']);
    expect(reason.message).toMatch(/must be one of duplicate, fraudulent, requested_by_customer/);
    const zero = await failure(sdk().refunds.create({ charge: A.aliceDuplicateCharge, amount: 0 }));
    expect([zero.code, zero.param]).toEqual(['parameter_invalid_integer', 'amount']);
    const unknown = await failure(sdk().refunds.create({ charge: A.aliceDuplicateCharge, note: 'x' } as Stripe.RefundCreateParams));
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'note']);
    const neither = await failure(sdk().refunds.create({ amount: 100 }));
    expect(neither.statusCode).toBe(400);
    const noCharge = await failure(sdk().refunds.create({ charge: 'ch_nope' }));
    expect([noCharge.statusCode, noCharge.code]).toEqual([404, 'resource_missing']);
    expect(refundCount()).toBe(2);
  });

  it('lists refunds newest first, filtered by charge or payment intent, page by page; retrieves one', async () => {
    const fake = stripeApi.fake();
    const a = await sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 100 });
    fake.advanceClock(60);
    const b = await sdk().refunds.create({ charge: A.aliceDuplicateCharge, amount: 200 });
    fake.advanceClock(60);
    const c = await sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 300 });

    const all = await sdk().refunds.list();
    expect(all.data.map((r) => r.id)).toEqual([c.id, b.id, a.id, A.alicePartialRefund, DEMO.refunds.aliceRefunded]);
    const byCharge = await sdk().refunds.list({ charge: A.alicePartlyRefundedCharge });
    expect(byCharge.data.map((r) => r.id)).toEqual([c.id, a.id, A.alicePartialRefund]);
    const byIntent = await sdk().refunds.list({ payment_intent: A.aliceDuplicatePaymentIntent });
    expect(byIntent.data.map((r) => r.id)).toEqual([b.id]);

    const page1 = await sdk().refunds.list({ limit: 2 });
    expect([page1.data.map((r) => r.id), page1.has_more]).toEqual([[c.id, b.id], true]);
    const page2 = await sdk().refunds.list({ limit: 2, starting_after: b.id });
    expect(page2.data.map((r) => r.id)).toEqual([a.id, A.alicePartialRefund]);
    const auto: string[] = [];
    for await (const refund of sdk().refunds.list({ limit: 2 })) auto.push(refund.id);
    expect(auto).toHaveLength(5);

    expect((await sdk().refunds.retrieve(b.id)).amount).toBe(200);
    const withCharge = await sdk().refunds.retrieve(b.id, { expand: ['charge'] });
    expect((withCharge.charge as Stripe.Charge).amount_refunded).toBe(200);
    const missing = await failure(sdk().refunds.retrieve('re_nope'));
    expect([missing.statusCode, missing.message]).toEqual([404, "No such refund: 're_nope'"]);
  });
});

describe('customer balance transactions', () => {
  it('a negative amount is a credit: customer.balance goes down, and the list shows it first', async () => {
    const credit = await sdk().customers.createBalanceTransaction(DEMO.customers.alice, {
      amount: -500,
      currency: 'usd',
      description: 'Credit for the outage',
      metadata: { request: 'rq_2' },
    });
    expect(credit).toMatchObject({
      object: 'customer_balance_transaction',
      amount: -500,
      currency: 'usd',
      customer: DEMO.customers.alice,
      description: 'Credit for the outage',
      ending_balance: -500,
      type: 'adjustment',
      metadata: { request: 'rq_2' },
    });
    expect(credit.id).toMatch(/^cbtxn_/);
    expect(((await sdk().customers.retrieve(DEMO.customers.alice)) as Stripe.Customer).balance).toBe(-500);
    const list = await sdk().customers.listBalanceTransactions(DEMO.customers.alice);
    expect(list.data.map((t) => t.id)).toEqual([credit.id]);
    expect((await sdk().customers.retrieveBalanceTransaction(DEMO.customers.alice, credit.id)).amount).toBe(-500);
  });

  it('adds to an existing balance (frank has $25.00 of credit) and keeps its history', async () => {
    const more = await sdk().customers.createBalanceTransaction(DEMO.customers.frank, { amount: -1000, currency: 'usd' });
    expect(more.ending_balance).toBe(DEMO.frankBalance - 1000);
    expect(((await sdk().customers.retrieve(DEMO.customers.frank)) as Stripe.Customer).balance).toBe(-3500);
    const list = await sdk().customers.listBalanceTransactions(DEMO.customers.frank);
    expect(list.data.map((t) => t.id)).toEqual([more.id, 'cbtxn_DemoFrankApplied', 'cbtxn_DemoFrankCredit']);
    const debit = await sdk().customers.createBalanceTransaction(DEMO.customers.frank, { amount: 300, currency: 'usd' });
    expect(debit.ending_balance).toBe(-3200);
  });

  it('refuses a missing currency, another currency than the balance\'s, and unknown customers', async () => {
    const missing = await failure(sdk().customers.createBalanceTransaction(DEMO.customers.alice, { amount: -500 } as Stripe.CustomerCreateBalanceTransactionParams));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'currency']);
    const other = await failure(sdk().customers.createBalanceTransaction(DEMO.customers.erin, { amount: -500, currency: 'usd' }));
    expect([other.statusCode, other.param]).toEqual([400, 'currency']);
    expect((await sdk().customers.createBalanceTransaction(DEMO.customers.erin, { amount: -500, currency: 'jpy' })).ending_balance).toBe(-500);
    const nobody = await failure(sdk().customers.createBalanceTransaction('cus_nope', { amount: -1, currency: 'usd' }));
    expect(nobody.statusCode).toBe(404);
    const deleted = await failure(sdk().customers.createBalanceTransaction(DEMO.customers.grace, { amount: -1, currency: 'usd' }));
    expect(deleted.statusCode).toBe(404);
    const notHers = await failure(sdk().customers.retrieveBalanceTransaction(DEMO.customers.alice, 'cbtxn_DemoFrankCredit'));
    expect(notHers.statusCode).toBe(404);
  });
});

describe('pause_collection on subscriptions', () => {
  const resumesAt = NOW + 30 * 86_400;

  it('pauses collection until a date, shows it on retrieve and list, and unsets it with ""', async () => {
    const paused = await sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: { behavior: 'void', resumes_at: resumesAt } });
    expect(paused.pause_collection).toEqual({ behavior: 'void', resumes_at: resumesAt });
    expect(paused.status).toBe('active'); // Stripe does not switch the status to paused
    expect((await sdk().subscriptions.retrieve(DEMO.subscriptions.alice)).pause_collection).toEqual({ behavior: 'void', resumes_at: resumesAt });
    const listed = await sdk().subscriptions.list({ customer: DEMO.customers.alice });
    expect(listed.data[0]!.pause_collection).toEqual({ behavior: 'void', resumes_at: resumesAt });

    const indefinitely = await sdk().subscriptions.update(DEMO.subscriptions.frank, { pause_collection: { behavior: 'keep_as_draft' } });
    expect(indefinitely.pause_collection).toEqual({ behavior: 'keep_as_draft', resumes_at: null });

    const resumed = await sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: '' });
    expect(resumed.pause_collection).toBeNull();
    expect((await sdk().subscriptions.retrieve(DEMO.subscriptions.alice)).pause_collection).toBeNull();
  });

  it('refuses an unknown behaviour, a resume date in the past, unknown keys and canceled subscriptions', async () => {
    const behaviour = await failure(sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: { behavior: 'skip' as 'void' } }));
    expect([behaviour.code, behaviour.param]).toEqual(['parameter_invalid_string', 'pause_collection[behavior]']);
    const past = await failure(sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: { behavior: 'void', resumes_at: NOW - 1 } }));
    expect([past.statusCode, past.param]).toEqual([400, 'pause_collection[resumes_at]']);
    const unknown = await failure(sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: { behavior: 'void', until: 1 } as Stripe.SubscriptionUpdateParams.PauseCollection }));
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'pause_collection[until]']);
    const missing = await failure(sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: { resumes_at: resumesAt } as Stripe.SubscriptionUpdateParams.PauseCollection }));
    expect([missing.code, missing.param]).toEqual(['parameter_missing', 'pause_collection[behavior]']);
    // Inside any ''-able parameter, an error names the full bracketed path.
    const nested = await failure(sdk().subscriptions.update(DEMO.subscriptions.alice, { discounts: [{ coupon: DEMO.coupons.welcome20, foo: 'x' } as Stripe.SubscriptionUpdateParams.Discount] }));
    expect([nested.code, nested.param]).toEqual(['parameter_unknown', 'discounts[0][foo]']);
    const range = await failure(sdk().refunds.list({ created: { gte: 'soon' as unknown as number } }));
    expect([range.code, range.param]).toEqual(['parameter_invalid_integer', 'created[gte]']);
    const canceled = await failure(sdk().subscriptions.update(DEMO.subscriptions.aliceUppercaseCanceled, { pause_collection: { behavior: 'void' } }));
    expect(canceled.statusCode).toBe(400);
    expect(stripeApi.fake().store.subscriptions.get(DEMO.subscriptions.alice)!.pause_collection).toBeNull();
  });
});

describe('idempotency', () => {
  const refundDuplicate = (idempotencyKey: string, params: Partial<Stripe.RefundCreateParams> = {}, client = sdk()) =>
    client.refunds.create({ charge: A.aliceDuplicateCharge, reason: 'duplicate', ...params }, { idempotencyKey });

  it('the same key and parameters return the first refund, marked as a replay; one refund is made', async () => {
    const first = await refundDuplicate('rq_1:refund');
    const again = await refundDuplicate('rq_1:refund');
    expect(again.id).toBe(first.id);
    const { lastResponse: _first, ...firstBody } = first;
    const { lastResponse: _again, ...againBody } = again;
    expect(againBody).toEqual(firstBody);
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(refundCount()).toBe(3);
    expect(charge(A.aliceDuplicateCharge).amount_refunded).toBe(4400);
  });

  it('the same key with other parameters, or on another endpoint, is a 400 idempotency_error', async () => {
    await refundDuplicate('rq_2:refund', { amount: 1000 });
    const other = await failure(refundDuplicate('rq_2:refund', { amount: 2000 }));
    expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect([other.statusCode, other.type]).toEqual([400, 'StripeIdempotencyError']);
    expect(other.message).toMatch(/^Keys for idempotent requests can only be used with the same parameters they were first used with/);
    const elsewhere = await failure(sdk().customers.createBalanceTransaction(DEMO.customers.alice, { amount: -1000, currency: 'usd' }, { idempotencyKey: 'rq_2:refund' }));
    expect(elsewhere).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(charge(A.aliceDuplicateCharge).amount_refunded).toBe(1000);
    expect(((await sdk().customers.retrieve(DEMO.customers.alice)) as Stripe.Customer).balance).toBe(0);
  });

  it('a refusal that happened while executing is saved and replayed too', async () => {
    const first = await failure(sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 8000 }, { idempotencyKey: 'rq_3:refund' }));
    expect(first.code).toBe('amount_too_large');
    const replayed = await failure(sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 8000 }, { idempotencyKey: 'rq_3:refund' }));
    expect([replayed.code, replayed.message]).toEqual([first.code, first.message]);
    expect(replayed.headers?.['idempotent-replayed']).toBe('true');
  });

  it('a request refused before executing (bad parameters) saves nothing: the key can still be used', async () => {
    const bad = await failure(refundDuplicate('rq_4:refund', { reason: 'whim' as Stripe.RefundCreateParams.Reason }));
    expect(bad.code).toBe('parameter_invalid_string');
    const good = await refundDuplicate('rq_4:refund');
    expect(good.amount).toBe(4400);
  });

  it('keys expire after 24 hours: the same key then executes again', async () => {
    const fake = stripeApi.fake();
    const params = { charge: A.alicePartlyRefundedCharge, amount: 1000 };
    const first = await sdk().refunds.create(params, { idempotencyKey: 'rq_5:refund' });
    fake.advanceClock(IDEMPOTENCY_KEY_TTL_SECONDS - 1);
    expect((await sdk().refunds.create(params, { idempotencyKey: 'rq_5:refund' })).id).toBe(first.id);
    fake.advanceClock(1);
    const later = await sdk().refunds.create(params, { idempotencyKey: 'rq_5:refund' });
    expect(later.id).not.toBe(first.id);
    expect(later.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(charge(A.alicePartlyRefundedCharge).amount_refunded).toBe(2500 + 2000);
  });

  it('a concurrent request with a key still in flight gets 409 idempotency_key_in_use; afterwards, the replay', async () => {
    const hold = stripeApi.fake().holdNext({ path: '/v1/refunds', method: 'POST' });
    const first = refundDuplicate('rq_6:refund');
    await hold.reached;
    const concurrent = await failure(refundDuplicate('rq_6:refund'));
    expect(concurrent.statusCode).toBe(409);
    // The SDK raises a 409 as StripeAPIError (and retries it by itself when allowed to).
    expect([concurrent.code, concurrent.type, concurrent.rawType]).toEqual(['idempotency_key_in_use', 'StripeAPIError', 'invalid_request_error']);
    expect(concurrent.message).toMatch(/^There is currently another in-progress request using this Idempotent Key/);
    expect(refundCount()).toBe(2); // the first has not executed yet
    hold.release();
    const done = await first;
    expect((await refundDuplicate('rq_6:refund')).id).toBe(done.id);
    expect(refundCount()).toBe(3);
  });

  it('Stripe answers 500 and then succeeds: one refund, made with the same idempotency key', async () => {
    stripeApi.fake().failNext({ status: 500, path: '/v1/refunds', method: 'POST' });
    const down = await failure(refundDuplicate('rq_7:refund'));
    expect([down.statusCode, down.type]).toEqual([500, 'StripeAPIError']);
    expect(refundCount()).toBe(2);
    const retried = await refundDuplicate('rq_7:refund');
    expect(retried.amount).toBe(4400);
    expect(refundCount()).toBe(3);
    expect(refundPosts().map((r) => [r.status, r.idempotencyKey])).toEqual([
      [500, 'rq_7:refund'],
      [200, 'rq_7:refund'],
    ]);
  });

  it('the SDK\'s own retry after a 500 reuses its automatic key: one refund', async () => {
    stripeApi.fake().failNext({ status: 500, path: '/v1/refunds', method: 'POST' });
    const refund = await sdk({ maxNetworkRetries: 1 }).refunds.create({ charge: A.aliceDuplicateCharge });
    expect(refund.amount).toBe(4400);
    const posts = refundPosts();
    expect(posts.map((r) => r.status)).toEqual([500, 200]);
    expect(posts[0]!.idempotencyKey).toEqual(expect.any(String));
    expect(posts[1]!.idempotencyKey).toBe(posts[0]!.idempotencyKey);
    expect(refundCount()).toBe(3);
  });

  it('a refund made but whose answer was lost (dropped or 502 after executing) is replayed on retry, never repeated', async () => {
    const fake = stripeApi.fake();
    fake.dropNext({ path: '/v1/refunds', method: 'POST', afterExecution: true });
    const lost = await failure(refundDuplicate('rq_8:refund'));
    expect(lost).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(refundCount()).toBe(3); // it was made
    const retried = await refundDuplicate('rq_8:refund');
    expect(retried.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(refundCount()).toBe(3);

    fake.failNext({ status: 502, path: '/v1/refunds', method: 'POST', afterExecution: true });
    const gateway = await failure(sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 500 }, { idempotencyKey: 'rq_9:refund' }));
    expect(gateway.statusCode).toBe(502);
    expect(charge(A.alicePartlyRefundedCharge).amount_refunded).toBe(3000);
    const replay = await sdk().refunds.create({ charge: A.alicePartlyRefundedCharge, amount: 500 }, { idempotencyKey: 'rq_9:refund' });
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(charge(A.alicePartlyRefundedCharge).amount_refunded).toBe(3000);
  });

  it('holds for every POST: a credit and a pause are applied once', async () => {
    const credit = () => sdk().customers.createBalanceTransaction(DEMO.customers.alice, { amount: -700, currency: 'usd' }, { idempotencyKey: 'rq_10:credit' });
    const [a, b] = [await credit(), await credit()];
    expect(b.id).toBe(a.id);
    expect(((await sdk().customers.retrieve(DEMO.customers.alice)) as Stripe.Customer).balance).toBe(-700);

    const pause = (behavior: 'void' | 'mark_uncollectible') =>
      sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: { behavior } }, { idempotencyKey: 'rq_11:pause' });
    await pause('void');
    expect((await pause('void')).lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(await failure(pause('mark_uncollectible'))).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
  });
});

describe('permissions', () => {
  it('declares Stripe\'s restricted-key permission for each new endpoint', () => {
    expect(ROUTE_PERMISSIONS).toMatchObject({
      'POST /v1/refunds': 'rak_refund_write',
      'GET /v1/refunds': 'rak_refund_read',
      'GET /v1/refunds/:id': 'rak_refund_read',
      'GET /v1/charges/:id': 'rak_charge_read',
      'POST /v1/customers/:id/balance_transactions': 'rak_customer_balance_transaction_write',
      'GET /v1/customers/:id/balance_transactions/:transaction': 'rak_customer_balance_transaction_read',
      'POST /v1/subscriptions/:id': 'rak_subscription_write',
    });
  });

  it.each([
    ['rak_refund_write', () => sdk().refunds.create({ charge: A.aliceDuplicateCharge })],
    ['rak_refund_read', () => sdk().refunds.list()],
    ['rak_refund_read', () => sdk().refunds.retrieve(A.alicePartialRefund)],
    ['rak_customer_balance_transaction_write', () => sdk().customers.createBalanceTransaction(DEMO.customers.alice, { amount: -1, currency: 'usd' })],
    ['rak_subscription_write', () => sdk().subscriptions.update(DEMO.subscriptions.alice, { pause_collection: { behavior: 'void' } })],
  ] as const)('without %s: 403 naming it, and nothing changes', async (permission, call) => {
    stripeApi.fake().restrictKey(KEY, [permission]);
    const error = await failure(call());
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(error.statusCode).toBe(403);
    expect(error.message).toContain(`'${permission}'`);
    expect(refundCount()).toBe(2);
    expect(charge(A.aliceDuplicateCharge).amount_refunded).toBe(0);
    expect(stripeApi.fake().store.subscriptions.get(DEMO.subscriptions.alice)!.pause_collection).toBeNull();
  });

  it('expanding a refund\'s charge also needs charge read', async () => {
    stripeApi.fake().restrictKey(KEY, ['rak_charge_read']);
    const refund = await sdk().refunds.retrieve(A.alicePartialRefund);
    expect(refund.charge).toBe(A.alicePartlyRefundedCharge);
    const error = await failure(sdk().refunds.retrieve(A.alicePartialRefund, { expand: ['charge'] }));
    expect(error.message).toContain("'rak_charge_read'");
  });
});
