import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { closedAfterEach, startHttpFixture, HOST_A, STAFF, type HttpFixture } from '../support/http-harness.js';
import { useRedisServer } from '../support/redis-server.js';

const WEBHOOK_SECRET = 'whsec_test_fake_webhook_secret_000000000000';
const signer = new Stripe('sk_test_fake_signer_only_never_sent_00000');

interface SubscriptionStatus {
  is_error: boolean;
  result: { subscriptions: Array<{ id: string; cancel_at_period_end: boolean; note: string }> };
}

async function subscriptionStatus(fx: HttpFixture, email: string = DEMO.emails.dave): Promise<SubscriptionStatus['result']['subscriptions'][number]> {
  const response = await fetch(`${fx.url}/v1/tools/get_subscription_status`, {
    method: 'POST',
    headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(email), 'x-conversation-id': 'webhook-test', 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await response.json()) as SubscriptionStatus;
  expect(body.is_error).toBe(false);
  return body.result.subscriptions[0]!;
}

/** Dave's yearly plan stops being set to cancel, as if he undid it in the portal. */
function undoDavesCancellation(fake: FakeStripe): Stripe.Subscription {
  const sub = fake.store.subscriptions.get(DEMO.subscriptions.dave)!;
  const changed = { ...sub, cancel_at_period_end: false };
  fake.store.subscriptions.set(sub.id, changed);
  return changed;
}

function subscriptionEvent(id: string, subscription: Stripe.Subscription, created = Math.floor(Date.now() / 1000)) {
  return JSON.stringify({ id, object: 'event', type: 'customer.subscription.updated', created, data: { object: subscription, previous_attributes: {} } });
}

async function deliver(fx: HttpFixture, payload: string, signature: string | null = signer.webhooks.generateTestHeaderString({ payload, secret: WEBHOOK_SECRET })): Promise<Response> {
  return fetch(`${fx.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) }, body: payload });
}

const requestsDuring = async <T>(fake: FakeStripe, action: () => Promise<T>): Promise<[T, number]> => {
  const before = fake.requests.length;
  const result = await action();
  return [result, fake.requests.length - before];
};

describe('POST /webhooks/stripe keeps cached answers fresh', () => {
  let fx: HttpFixture;
  beforeAll(async () => {
    fx = await startHttpFixture({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET });
  });
  afterAll(async () => {
    await fx.close();
  });

  it('answers a repeated question from the cache, and the next answer after a signed event shows the change', async () => {
    expect((await subscriptionStatus(fx)).cancel_at_period_end).toBe(true);
    const [warm, requests] = await requestsDuring(fx.fake, () => subscriptionStatus(fx));
    expect(warm.cancel_at_period_end).toBe(true);
    expect(requests).toBe(0);

    const changed = undoDavesCancellation(fx.fake);
    expect((await subscriptionStatus(fx)).cancel_at_period_end).toBe(true);
    const response = await deliver(fx, subscriptionEvent('evt_dave_undo_1', changed));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true });
    expect((await subscriptionStatus(fx)).cancel_at_period_end).toBe(false);
  });

  it('refuses a missing or wrong signature with 400 and invalidates nothing', async () => {
    const sub = fx.fake.store.subscriptions.get(DEMO.subscriptions.carol)!;
    await subscriptionStatus(fx, DEMO.emails.carol);
    fx.fake.store.subscriptions.set(sub.id, { ...sub, status: 'active' });
    const payload = subscriptionEvent('evt_forged_1', { ...sub, status: 'active' });
    const forged = signer.webhooks.generateTestHeaderString({ payload, secret: 'whsec_someone_else_0000000000000000' });
    for (const signature of [null, forged, 't=1,v1=deadbeef']) {
      const response = await deliver(fx, payload, signature);
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error: 'bad_signature' });
      expect(text).not.toContain(WEBHOOK_SECRET);
    }
    // Nothing was invalidated: the answer is still the cached one, with no Stripe request.
    const [status, requests] = await requestsDuring(fx.fake, () => subscriptionStatus(fx, DEMO.emails.carol));
    expect(status.note).toMatch(/Payment failed/);
    expect(requests).toBe(0);
  });

  it('handles a replayed event id once', async () => {
    const sub = fx.fake.store.subscriptions.get(DEMO.subscriptions.bob)!;
    const payload = subscriptionEvent('evt_bob_replayed', sub);
    expect((await deliver(fx, payload)).status).toBe(200);
    await subscriptionStatus(fx, DEMO.emails.bob);
    const replay = await deliver(fx, payload);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ received: true, duplicate: true });
    const [, requests] = await requestsDuring(fx.fake, () => subscriptionStatus(fx, DEMO.emails.bob));
    expect(requests).toBe(0);
  });

  it('a late, older event never brings old data back: events only say "re-read"', async () => {
    const before = fx.fake.store.subscriptions.get(DEMO.subscriptions.alice)!;
    const newer = { ...before, cancel_at_period_end: true };
    fx.fake.store.subscriptions.set(before.id, newer);
    expect((await deliver(fx, subscriptionEvent('evt_alice_newer', newer))).status).toBe(200);
    expect((await subscriptionStatus(fx, DEMO.emails.alice)).cancel_at_period_end).toBe(true);
    // Stripe delivers the event of an earlier change only now, its payload still saying "renews".
    expect((await deliver(fx, subscriptionEvent('evt_alice_older', before, Math.floor(Date.now() / 1000) - 600))).status).toBe(200);
    expect((await subscriptionStatus(fx, DEMO.emails.alice)).cancel_at_period_end).toBe(true);
  });

  it('an email change clears the old and the new address; a new customer clears a cached "no customer"', async () => {
    const nobody = DEMO.emails.nobody;
    const asNobody = async () =>
      (await (
        await fetch(`${fx.url}/v1/tools/get_subscription_status`, {
          method: 'POST',
          headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(nobody), 'x-conversation-id': 'webhook-nobody', 'content-type': 'application/json' },
          body: '{}',
        })
      ).json()) as { is_error: boolean };
    expect((await asNobody()).is_error).toBe(true);
    const frank = fx.fake.store.customers.get(DEMO.customers.frank) as Stripe.Customer;
    await subscriptionStatus(fx, DEMO.emails.frank);
    fx.fake.store.customers.set(frank.id, { ...frank, email: nobody });
    const payload = JSON.stringify({ id: 'evt_frank_email', object: 'event', type: 'customer.updated', created: 1, data: { object: { ...frank, email: nobody }, previous_attributes: { email: frank.email } } });
    expect((await deliver(fx, payload)).status).toBe(200);
    expect((await asNobody()).is_error).toBe(false);
    const response = await fetch(`${fx.url}/v1/tools/get_subscription_status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.frank), 'x-conversation-id': 'webhook-frank', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(((await response.json()) as { is_error: boolean }).is_error).toBe(true);
  });

  it('events that name no customer (a detached card, a refund) still reach the customer they belong to', async () => {
    const call = async (tool: string, email: string) => {
      const response = await fetch(`${fx.url}/v1/tools/${tool}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(email), 'x-conversation-id': 'webhook-owner', 'content-type': 'application/json' },
        body: '{}',
      });
      return JSON.stringify(await response.json());
    };
    const event = (id: string, type: string, object: Record<string, unknown>) => JSON.stringify({ id, object: 'event', type, created: 1, data: { object, previous_attributes: {} } });

    expect(await call('get_billing_info', DEMO.emails.dave)).toContain('ending in');
    const dave = fx.fake.store.customers.get(DEMO.customers.dave) as Stripe.Customer;
    fx.fake.store.customers.set(dave.id, { ...dave, invoice_settings: { ...dave.invoice_settings, default_payment_method: null } });
    const pm = fx.fake.store.paymentMethods.get(DEMO.paymentMethods.daveVisa)!;
    fx.fake.store.paymentMethods.set(pm.id, { ...pm, customer: null });
    expect((await deliver(fx, event('evt_pm_detached', 'payment_method.detached', { id: pm.id, object: 'payment_method', customer: null }))).status).toBe(200);
    const after = await call('get_billing_info', DEMO.emails.dave);
    expect(after).not.toContain('ending in');
    expect(after).toContain('No default payment method');

    const chargeId = DEMO.charges.alicePaid[0];
    const refundOf = async () => (JSON.parse(await call('get_payment_history', DEMO.emails.alice)) as { result: { payments: Array<{ id: string; refund?: string }> } }).result.payments.find((p) => p.id === chargeId)?.refund;
    expect(await refundOf()).toBeUndefined();
    const charge = fx.fake.store.charges.get(chargeId)!;
    fx.fake.store.charges.set(chargeId, { ...charge, refunded: true, amount_refunded: charge.amount });
    expect((await deliver(fx, event('evt_refund_1', 'refund.created', { id: 're_DemoRefund1', object: 'refund', charge: chargeId }))).status).toBe(200);
    expect(await refundOf()).toBe('Fully refunded.');
  });

  it('answers 404 when no signing secret is configured', async () => {
    const plain = await startHttpFixture();
    try {
      const response = await deliver(plain, subscriptionEvent('evt_unconfigured', fx.fake.store.subscriptions.get(DEMO.subscriptions.dave)!));
      expect(response.status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});

describe('without webhooks', () => {
  it('a change shows once CACHE_TTL_SECONDS have passed', async () => {
    const fx = await startHttpFixture({ CACHE_TTL_SECONDS: '1' });
    try {
      expect((await subscriptionStatus(fx)).cancel_at_period_end).toBe(true);
      undoDavesCancellation(fx.fake);
      expect((await subscriptionStatus(fx)).cancel_at_period_end).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await subscriptionStatus(fx)).cancel_at_period_end).toBe(false);
    } finally {
      await fx.close();
    }
  });
});

describe('two processes sharing Redis', () => {
  const redis = useRedisServer();
  const fixtures = closedAfterEach();

  it('share cached answers, and an event that reached one makes the other show the change', async () => {
    const fake = new FakeStripe({ now: 1_790_000_000 });
    const env = { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, STORE_URL: redis().url, VERIFY_SECRET: 'verify-secret-for-tests-at-least-32-bytes' };
    const [a, b] = [await startHttpFixture(env, { fake }), await startHttpFixture(env, { fake })];
    fixtures.push(a, b);
    expect((await subscriptionStatus(a)).cancel_at_period_end).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [fromB, requests] = await requestsDuring(fake, () => subscriptionStatus(b));
    expect(fromB.cancel_at_period_end).toBe(true);
    expect(requests).toBe(0);

    const changed = undoDavesCancellation(fake);
    expect((await deliver(b, subscriptionEvent('evt_shared_1', changed))).status).toBe(200);
    expect((await subscriptionStatus(a)).cancel_at_period_end).toBe(false);
    // The replay reaching the other process is still the same event.
    expect(await (await deliver(a, subscriptionEvent('evt_shared_1', changed))).json()).toEqual({ received: true, duplicate: true });
    // Either process's status says webhooks work and when the last verified event came.
    const status = (await (await fetch(`${a.url}/v1/status`, { headers: { authorization: `Bearer ${STAFF}` } })).json()) as { cache: Record<string, unknown>; checks: Array<{ id: string; detail: string }> };
    expect(status.cache).toMatchObject({ kind: 'redis', webhooks: true, status: 'ok' });
    expect(Date.now() - Date.parse(String(status.cache.last_event_at))).toBeLessThan(60_000);
    expect(status.checks.find((check) => check.id === 'cache')!.detail).toMatch(/last verified event/);
  });
});
