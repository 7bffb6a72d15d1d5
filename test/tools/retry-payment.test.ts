/**
 * retry_payment through /v1/tools, on the demo's ivan (past due; his Visa …9995 declines with
 * insufficient funds): a card that still declines ends the request `failed` in plain words after
 * one attempt; once the card is updated, the confirmation pays the open invoice exactly once and
 * the subscription is active again. The policy can turn it off or cap it, and a customer can
 * never pay (or learn of) another customer's invoice.
 */
import type Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionsPolicy } from '../../src/actions/policy.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { actionsFixtures, ALICE, EXAMPLE_POLICY, type ActionsFixture } from '../support/actions.js';
import { confirmAsHost, expectNoSecretForModel, modelVisible, requestOf, storedRequests } from '../support/action-tools.js';

const fixture = actionsFixtures();
let fx: ActionsFixture;
afterEach(async () => fx?.close());

const IVAN = DEMO.emails.ivan;
const RETRIES: ActionsPolicy = { ...EXAMPLE_POLICY, retry_payment: { enabled: true } };

const openInvoice = () => fx.fake.store.invoices.get(DEMO.invoices.ivanOpen)!;
const payCalls = () => fx.fake.requests.filter((call) => call.method === 'POST' && call.path === `/v1/invoices/${DEMO.invoices.ivanOpen}/pay`);

/** What the billing portal does when ivan adds a working card: a new default payment method. */
function updateIvansCard(): void {
  const declining = fx.fake.store.paymentMethods.get(DEMO.paymentMethods.ivanDeclining)!;
  const good: Stripe.PaymentMethod = { ...declining, id: 'pm_IvanNewVisa4242', card: { ...declining.card!, last4: '4242', fingerprint: 'IvanNewVisa' } };
  fx.fake.store.paymentMethods.set(good.id, good);
  const ivan = fx.fake.store.customers.get(DEMO.customers.ivan) as Stripe.Customer;
  ivan.invoice_settings.default_payment_method = good.id;
}

describe('retry_payment', () => {
  it('a card that still declines: failed once, in plain words (never the issuer’s text), and not retried', async () => {
    fx = await fixture({ policy: RETRIES });
    const before = openInvoice().attempt_count;
    const answer = await fx.asCustomer(IVAN, 'retry_payment', { invoice: null });
    const request = requestOf(answer);
    expect(request.kind).toBe('retry_payment');
    expect(request.preview.summary).toBe(`Pay $49.00 now for invoice ${openInvoice().number} with the Visa ending in 9995`);
    expect(request.state).toBe('awaiting_confirmation');
    expectNoSecretForModel(answer);
    expect(payCalls()).toEqual([]);

    const confirmed = await confirmAsHost(fx, IVAN, answer);
    expect(confirmed.outcome).toBe('confirmed');
    const failed = confirmed.outcome === 'confirmed' ? confirmed.request : undefined;
    expect(failed?.state).toBe('failed');
    expect(failed?.failure_reason).toMatch(/not charged: the card did not have enough funds/);
    // Stripe's message for the decline is the issuer's text: it stays out.
    expect(failed?.failure_reason).not.toMatch(/Your card has insufficient funds/i);
    // One attempt: a decline is definite, and the same key would only replay it.
    expect(payCalls().map((call) => call.status)).toEqual([402]);
    expect(openInvoice()).toMatchObject({ status: 'open', attempt_count: before + 1 });
    expect(fx.fake.store.subscriptions.get(DEMO.subscriptions.ivan)?.status).toBe('past_due');
  });

  it('after the card is updated: the confirmation pays the invoice exactly once, and the subscription is active again', async () => {
    fx = await fixture({ policy: RETRIES });
    updateIvansCard();
    const answer = await fx.asCustomer(IVAN, 'retry_payment', { invoice: openInvoice().number });
    expect(requestOf(answer).preview.summary).toMatch(/with the Visa ending in 4242$/);
    const confirmed = await confirmAsHost(fx, IVAN, answer);
    expect(confirmed.outcome === 'confirmed' && confirmed.request).toMatchObject({ state: 'done', stripe_object_id: DEMO.invoices.ivanOpen });
    // A second click is not a second payment.
    const again = await confirmAsHost(fx, IVAN, answer);
    expect(again.outcome).toBe('already_decided');
    expect(payCalls().map((call) => call.status)).toEqual([200]);
    expect(openInvoice()).toMatchObject({ status: 'paid', amount_remaining: 0 });
    expect(fx.fake.store.subscriptions.get(DEMO.subscriptions.ivan)?.status).toBe('active');
  });

  it('is not offered when the policy leaves it off, and creates nothing', async () => {
    fx = await fixture({ policy: EXAMPLE_POLICY });
    const answer = await fx.asCustomer(IVAN, 'retry_payment', { invoice: null });
    expect(answer.status).toBe(404);
    expect(await storedRequests(fx, DEMO.customers.ivan)).toEqual([]);
    expect(payCalls()).toEqual([]);
  });

  it('above the policy’s max_amount: refused with the reason, and no request', async () => {
    fx = await fixture({ policy: { ...EXAMPLE_POLICY, retry_payment: { enabled: true, max_amount: { usd: 1000 } } } });
    const answer = await fx.asCustomer(IVAN, 'retry_payment', { invoice: null });
    expect(answer.body.error?.kind).toBe('refused');
    expect(answer.body.error?.message).toMatch(/above \$10\.00/);
    expect(await storedRequests(fx, DEMO.customers.ivan)).toEqual([]);
  });

  it("another customer's invoice, by id or number, is answered like an unknown one and never paid", async () => {
    fx = await fixture({ policy: RETRIES });
    const unknown = await fx.asCustomer(ALICE, 'retry_payment', { invoice: 'NOPE-0001' });
    for (const invoice of [DEMO.invoices.ivanOpen, openInvoice().number!]) {
      const answer = await fx.asCustomer(ALICE, 'retry_payment', { invoice });
      expect(answer.body.error?.kind).toBe('not_found');
      expect(answer.body.error?.message).toBe(unknown.body.error?.message);
      expect(modelVisible(answer)).not.toContain('49.00');
    }
    expect(await storedRequests(fx, DEMO.customers.ivan)).toEqual([]);
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
    expect(payCalls()).toEqual([]);
  });

  it('an invoice that is already paid is refused', async () => {
    fx = await fixture({ policy: RETRIES });
    const answer = await fx.asCustomer(IVAN, 'retry_payment', { invoice: DEMO.invoices.ivanPaid });
    expect(answer.body.error?.kind).toBe('refused');
    expect(answer.body.error?.message).toMatch(/already paid/);
    expect(await storedRequests(fx, DEMO.customers.ivan)).toEqual([]);
  });

  it('staff mode: the staff call pays at once', async () => {
    fx = await fixture({ policy: RETRIES });
    updateIvansCard();
    const answer = await fx.asStaff('retry_payment', { email: IVAN, invoice: null });
    expect(requestOf(answer)).toMatchObject({ state: 'done', stripe_object_id: DEMO.invoices.ivanOpen });
    expect(payCalls().map((call) => call.status)).toEqual([200]);
    expect(openInvoice().status).toBe('paid');
  });
});
