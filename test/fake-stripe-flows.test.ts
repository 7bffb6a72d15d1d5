/**
 * The fake Stripe's side of issue 23 — portal deep links (`flow_data`) checked as Stripe checks
 * them, invoice previews of a subscription change with prorations on a `proration_date`,
 * paying an invoice (with Stripe's test-card declines), and the demo's declined customer —
 * through the real `stripe` SDK routed by msw, so what passes here is what the tools will see.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { makeCardPaymentMethod, makePortalConfiguration, makeSubscriptionItem } from '../src/demo/fake-stripe/factories.js';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { failure, useFakeStripe } from './support/fake-stripe-msw.js';

const NOW = 1_790_000_000;
const DAY = 86_400;
const KEY = 'rk_test_fake_flows_wxyz';
const stripeApi = useFakeStripe({ now: NOW });
const sdk = () => new Stripe(KEY, { maxNetworkRetries: 0 });
const store = () => stripeApi.fake().store;

const S = DEMO.subscriptions;
const P = DEMO.prices;
const itemOf = (subscription: string) => store().subscriptions.get(subscription)!.items.data[0]!.id;

type FlowData = Stripe.BillingPortal.SessionCreateParams.FlowData;
type CancelParams = NonNullable<FlowData['subscription_cancel']>;
type ConfirmParams = NonNullable<FlowData['subscription_update_confirm']>;
const session = (flow_data: FlowData, customer: string = DEMO.customers.alice, extra: Partial<Stripe.BillingPortal.SessionCreateParams> = {}) =>
  sdk().billingPortal.sessions.create({ customer, flow_data, ...extra });
const refused = (flow_data: FlowData, customer: string = DEMO.customers.alice, extra: Partial<Stripe.BillingPortal.SessionCreateParams> = {}) =>
  failure(session(flow_data, customer, extra));
const features = () => store().portalConfigurations.get(DEMO.portalConfiguration)!.features;

describe('portal flows: every type, checked as Stripe checks it', () => {
  it('customer_update (API 2026-08-26) opens the details page, and takes no hash of its own', async () => {
    const made = await session({ type: 'customer_update', after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'Saved.' } } });
    expect(made.flow).toEqual({
      type: 'customer_update',
      after_completion: { type: 'hosted_confirmation', hosted_confirmation: { custom_message: 'Saved.' }, redirect: null },
      customer_update: {},
      subscription_cancel: null,
      subscription_pause: null,
      subscription_update: null,
      subscription_update_confirm: null,
    });
    expect(made.url).toMatch(/\/flow\/customer_update$/);
    const extra = await refused({ type: 'customer_update', customer_update: { allowed_updates: ['address'] } } as FlowData);
    expect([extra.code, extra.param]).toEqual(['parameter_unknown', 'flow_data[customer_update]']);
  });

  it('payment_method_update, for the customer of the session; after_completion defaults to the portal home', async () => {
    const made = await session({ type: 'payment_method_update' }, DEMO.customers.ivan);
    expect(made.customer).toBe(DEMO.customers.ivan);
    expect(made.flow).toMatchObject({ type: 'payment_method_update', after_completion: { type: 'portal_homepage', redirect: null, hosted_confirmation: null } });
  });

  it('refuses each customer-level flow the portal configuration disables', async () => {
    features().customer_update.enabled = false;
    features().payment_method_update.enabled = false;
    for (const type of ['customer_update', 'payment_method_update'] as const) {
      const error = await refused({ type });
      expect([error.statusCode, error.param], type).toEqual([400, 'flow_data[type]']);
      expect(error.message).toMatch(new RegExp(`The ${type} flow cannot be used .* disabled in the portal configuration`));
    }
  });

  it('subscription_cancel with the merchant’s retention coupon', async () => {
    const made = await session({
      type: 'subscription_cancel',
      subscription_cancel: { subscription: S.alice, retention: { type: 'coupon_offer', coupon_offer: { coupon: DEMO.coupons.retention } } },
      after_completion: { type: 'redirect', redirect: { return_url: 'https://merchant.example/done' } },
    });
    expect(made.flow?.subscription_cancel).toEqual({ subscription: S.alice, retention: { type: 'coupon_offer', coupon_offer: { coupon: DEMO.coupons.retention } } });
    expect(made.flow?.after_completion).toEqual({ type: 'redirect', redirect: { return_url: 'https://merchant.example/done' }, hosted_confirmation: null });
    expect(made.url).toMatch(new RegExp(`/flow/subscription_cancel/${S.alice}$`));
  });

  it('subscription_cancel: missing fields, an unknown coupon, another customer’s subscription, cancellation disabled', async () => {
    const missingHash = await refused({ type: 'subscription_cancel' });
    expect([missingHash.code, missingHash.param]).toEqual(['parameter_missing', 'flow_data[subscription_cancel]']);
    // (An empty hash is not sent at all, so the subscription is missing next to a retention offer.)
    const missingSubscription = await refused({
      type: 'subscription_cancel',
      subscription_cancel: { retention: { type: 'coupon_offer', coupon_offer: { coupon: DEMO.coupons.retention } } } as CancelParams,
    });
    expect([missingSubscription.code, missingSubscription.param]).toEqual(['parameter_missing', 'flow_data[subscription_cancel][subscription]']);
    const missingCoupon = await refused({
      type: 'subscription_cancel',
      subscription_cancel: { subscription: S.alice, retention: { type: 'coupon_offer' } as NonNullable<CancelParams['retention']> },
    });
    expect(missingCoupon.param).toBe('flow_data[subscription_cancel][retention][coupon_offer]');
    const unknownCoupon = await refused({ type: 'subscription_cancel', subscription_cancel: { subscription: S.alice, retention: { type: 'coupon_offer', coupon_offer: { coupon: 'NOPE' } } } });
    expect([unknownCoupon.statusCode, unknownCoupon.code, unknownCoupon.param]).toEqual([404, 'resource_missing', 'flow_data[subscription_cancel][retention][coupon_offer][coupon]']);
    const theirs = await refused({ type: 'subscription_cancel', subscription_cancel: { subscription: S.carol } });
    expect([theirs.statusCode, theirs.param]).toEqual([400, 'flow_data[subscription_cancel][subscription]']);
    expect(theirs.message).toMatch(/does not belong to the customer/);
    features().subscription_cancel.enabled = false;
    const off = await refused({ type: 'subscription_cancel', subscription_cancel: { subscription: S.alice } });
    expect([off.statusCode, off.param]).toEqual([400, 'flow_data[type]']);
  });

  it('subscription_update needs the subscription, the customer’s own, and plan switching on with products', async () => {
    const made = await session({ type: 'subscription_update', subscription_update: { subscription: S.alice } });
    expect(made.flow?.subscription_update).toEqual({ subscription: S.alice });
    const missing = await refused({ type: 'subscription_update' });
    expect(missing.param).toBe('flow_data[subscription_update]');
    const theirs = await refused({ type: 'subscription_update', subscription_update: { subscription: S.bob } });
    expect(theirs.param).toBe('flow_data[subscription_update][subscription]');
    // A configuration without products to switch to: Stripe refuses the flow.
    const bare = makePortalConfiguration({ id: 'bpc_NoSwitching', created: NOW, isDefault: false, cancelEnabled: true });
    store().portalConfigurations.set(bare.id, bare);
    const off = await refused({ type: 'subscription_update', subscription_update: { subscription: S.alice } }, DEMO.customers.alice, { configuration: bare.id });
    expect([off.statusCode, off.param]).toEqual([400, 'flow_data[type]']);
    expect(off.message).toMatch(/subscription_update flow cannot be used/);
  });

  it('subscription_update_confirm echoes the one item, price, quantity and discount it was given', async () => {
    const made = await session({
      type: 'subscription_update_confirm',
      subscription_update_confirm: { subscription: S.alice, items: [{ id: itemOf(S.alice), price: P.teamMonthly }], discounts: [{ coupon: DEMO.coupons.retention }] },
    });
    expect(made.flow?.subscription_update_confirm).toEqual({
      subscription: S.alice,
      items: [{ id: itemOf(S.alice), price: P.teamMonthly }],
      discounts: [{ coupon: DEMO.coupons.retention, promotion_code: null }],
    });
    expect(made.url).toMatch(new RegExp(`/flow/subscription_update_confirm/${S.alice}$`));
  });

  it('subscription_update_confirm refuses what the portal could not confirm', async () => {
    const confirm = (body: Partial<ConfirmParams>, customer: string = DEMO.customers.alice) =>
      refused({ type: 'subscription_update_confirm', subscription_update_confirm: { subscription: S.alice, items: [{ id: itemOf(S.alice), price: P.teamMonthly }], ...body } as ConfirmParams }, customer);
    const base = 'flow_data[subscription_update_confirm]';
    expect((await confirm({ items: undefined } as never)).param).toBe(`${base}[items]`);
    expect((await confirm({ items: [{ price: P.teamMonthly } as ConfirmParams['items'][number]] })).param).toBe(`${base}[items][0][id]`);
    expect((await confirm({ items: [{ id: itemOf(S.alice) }] })).param).toBe(`${base}[items][0]`);
    const notOffered = await confirm({ items: [{ id: itemOf(S.alice), price: P.enterpriseAcme }] });
    expect([notOffered.param, notOffered.message]).toEqual([`${base}[items][0][price]`, expect.stringMatching(/not one of the prices/)]);
    const quantity = await confirm({ items: [{ id: itemOf(S.alice), price: P.teamMonthly, quantity: 3 }] });
    expect(quantity.param).toBe(`${base}[items][0][quantity]`);
    expect((await confirm({ items: [{ id: itemOf(S.carol), price: P.teamMonthly }] })).param).toBe(`${base}[items][0][id]`);
    expect((await confirm({ subscription: S.carol, items: [{ id: itemOf(S.carol), price: P.teamMonthly }] })).message).toMatch(/does not belong to the customer/);
    expect((await confirm({ discounts: [{ coupon: 'NOPE' }] })).param).toBe(`${base}[discounts][0][coupon]`);
    // Stripe's portal cannot update a subscription with several items.
    const sub = store().subscriptions.get(S.alice)!;
    sub.items.data.push(makeSubscriptionItem({ id: 'si_Second', subscription: S.alice, created: NOW, price: store().prices.get(P.starterMonthly)!, quantity: 1, currentPeriodStart: NOW - DAY, currentPeriodEnd: NOW + DAY }));
    expect((await confirm({})).message).toMatch(/multiple items/);
    features().subscription_update.enabled = false;
    sub.items.data.pop();
    expect((await confirm({})).param).toBe('flow_data[type]');
  });

  it('a hash for another flow type, and bad after_completion, are refused', async () => {
    const mismatch = await refused({ type: 'payment_method_update', subscription_cancel: { subscription: S.alice } });
    expect([mismatch.statusCode, mismatch.param]).toEqual([400, 'flow_data[subscription_cancel]']);
    const noRedirect = await refused({ type: 'payment_method_update', after_completion: { type: 'redirect' } });
    expect([noRedirect.code, noRedirect.param]).toEqual(['parameter_missing', 'flow_data[after_completion][redirect]']);
    const stray = await refused({ type: 'payment_method_update', after_completion: { type: 'portal_homepage', redirect: { return_url: 'https://merchant.example' } } });
    expect(stray.param).toBe('flow_data[after_completion][redirect]');
    const badType = await refused({ type: 'payment_method_update', after_completion: { type: 'somewhere' } });
    expect(badType.param).toBe('flow_data[after_completion][type]');
    const badFlow = await refused({ type: 'subscription_resume' });
    expect(badFlow.param).toBe('flow_data[type]');
  });
});

/** Stripe's invoice arithmetic: lines make the subtotal, discounts come off, the balance applies. */
function expectAddsUp(invoice: Stripe.Invoice): void {
  const lines = invoice.lines.data.reduce((sum, line) => sum + line.amount, 0);
  const discounts = invoice.total_discount_amounts!.reduce((sum, d) => sum + d.amount, 0);
  expect(lines).toBe(invoice.subtotal);
  expect(invoice.subtotal - discounts).toBe(invoice.total);
  expect(invoice.amount_due).toBe(Math.max(0, invoice.total + invoice.starting_balance));
  for (const line of invoice.lines.data) expect(Number.isInteger(line.amount)).toBe(true);
}

const preview = (subscription: string, details: Stripe.InvoiceCreatePreviewParams.SubscriptionDetails, extra: Partial<Stripe.InvoiceCreatePreviewParams> = {}) =>
  sdk().invoices.createPreview({ subscription, subscription_details: { proration_date: NOW, ...details }, ...extra });
const amounts = (invoice: Stripe.Invoice) =>
  invoice.lines.data.map((l) => [l.amount, l.parent?.subscription_item_details?.proration, l.pricing?.price_details?.price]);

describe('invoice previews of a subscription change', () => {
  it('an upgrade: credit for the unused time, charge for the remaining time, the $5 discount off', async () => {
    // alice: Pro $49 monthly, 10 of 30 days used → 2/3 of the period left; LOYAL5 $5 off.
    const invoice = await preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.teamMonthly }], proration_behavior: 'always_invoice' });
    expect(amounts(invoice)).toEqual([
      [-3267, true, P.proMonthly],
      [6600, true, P.teamMonthly],
    ]);
    expect(invoice.lines.data.map((l) => l.description)).toEqual([expect.stringMatching(/^Unused time on Pro after /), expect.stringMatching(/^Remaining time on Team after /)]);
    expect(invoice.lines.data.every((l) => l.period.start === NOW)).toBe(true);
    expect([invoice.subtotal, invoice.total, invoice.amount_due]).toEqual([3333, 2833, 2833]);
    expect(invoice.total_discount_amounts).toEqual([{ amount: 500, discount: DEMO.discounts.aliceLoyal5 }]);
    expect(invoice.billing_reason).toBe('subscription_update');
    expect(invoice.parent?.subscription_details?.subscription_proration_date).toBe(NOW);
    expectAddsUp(invoice);
  });

  it('create_prorations previews the next renewal: prorations plus the next period at the new price; none leaves prorations out', async () => {
    const next = await preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.teamMonthly }], proration_behavior: 'create_prorations' });
    expect(amounts(next)).toEqual([
      [-3267, true, P.proMonthly],
      [6600, true, P.teamMonthly],
      [9900, false, P.teamMonthly],
    ]);
    expect(next.created).toBe(NOW + 20 * DAY);
    expectAddsUp(next);
    const none = await preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.teamMonthly }], proration_behavior: 'none' });
    expect(amounts(none)).toEqual([[9900, false, P.teamMonthly]]);
    expectAddsUp(none);
  });

  it('a downgrade credits the difference: nothing due, the credit left on the balance', async () => {
    // alice+work: Team $99, 15 of 30 days used → Starter $19.
    const invoice = await preview(S.aliceWork, { items: [{ id: itemOf(S.aliceWork), price: P.starterMonthly }], proration_behavior: 'always_invoice' });
    expect(amounts(invoice)).toEqual([
      [-4950, true, P.teamMonthly],
      [950, true, P.starterMonthly],
    ]);
    expect([invoice.total, invoice.amount_due, invoice.ending_balance]).toEqual([-4000, 0, -4000]);
    expectAddsUp(invoice);
  });

  it('an interval change (month → year) resets the cycle: the year charged now, minus the credit', async () => {
    const invoice = await preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.proYearly }], proration_behavior: 'create_prorations' });
    expect(amounts(invoice)).toEqual([
      [-3267, true, P.proMonthly],
      [49000, false, P.proYearly],
    ]);
    const yearly = invoice.lines.data[1]!;
    expect([yearly.period.start, new Date(yearly.period.end * 1000).getUTCFullYear() - new Date(NOW * 1000).getUTCFullYear()]).toEqual([NOW, 1]);
    expect([invoice.created, invoice.billing_reason, invoice.amount_due]).toEqual([NOW, 'subscription_update', 45233]);
    expectAddsUp(invoice);
  });

  it('a percent discount comes off every line, the credit included', async () => {
    // bob.alice: Starter $19, 5 of 30 days used, with the 25% retention coupon applied.
    await sdk().subscriptions.update(S.bobAlice, { discounts: [{ coupon: DEMO.coupons.retention }] });
    const invoice = await preview(S.bobAlice, { items: [{ id: itemOf(S.bobAlice), price: P.proMonthly }], proration_behavior: 'always_invoice' });
    expect(amounts(invoice)).toEqual([
      [-1583, true, P.starterMonthly],
      [4083, true, P.proMonthly],
    ]);
    expect(invoice.lines.data.map((l) => l.discount_amounts?.map((d) => d.amount))).toEqual([[-396], [1021]]);
    expect([invoice.subtotal, invoice.total_discount_amounts![0]!.amount, invoice.total, invoice.amount_due]).toEqual([2500, 625, 1875, 1875]);
    expectAddsUp(invoice);
  });

  it('a zero-decimal currency prorates to whole yen', async () => {
    // erin: ¥2,000 monthly, 20 of 30 days used; one seat → three, on an odd second.
    const at = NOW + 12_345;
    const invoice = await sdk().invoices.createPreview({
      subscription: S.erin,
      subscription_details: { items: [{ id: itemOf(S.erin), quantity: 3 }], proration_behavior: 'always_invoice', proration_date: at },
    });
    const factor = (NOW + 10 * DAY - at) / (30 * DAY);
    expect(invoice.currency).toBe('jpy');
    expect(amounts(invoice)).toEqual([
      [-Math.round(2000 * factor), true, P.jpyMonthly],
      [Math.round(6000 * factor), true, P.jpyMonthly],
    ]);
    expect(invoice.lines.data[1]!.description).toMatch(/^Remaining time on 3 × Pro \(Japan\) after/);
    expectAddsUp(invoice);
  });

  it('a subscription with two items: only the changed item is prorated, the renewal bills both', async () => {
    const sub = store().subscriptions.get(S.heidi)!;
    const first = sub.items.data[0]!;
    sub.items.data.push(makeSubscriptionItem({ id: 'si_HeidiSeats', subscription: S.heidi, created: NOW, price: store().prices.get(P.teamMonthly)!, quantity: 2, currentPeriodStart: first.current_period_start, currentPeriodEnd: first.current_period_end }));
    const invoice = await preview(S.heidi, { items: [{ id: first.id, price: P.proMonthly }], proration_behavior: 'create_prorations' });
    // heidi: 12 of 30 days used → 18/30 left.
    expect(amounts(invoice)).toEqual([
      [-1140, true, P.starterMonthly],
      [2940, true, P.proMonthly],
      [4900, false, P.proMonthly],
      [19800, false, P.teamMonthly],
    ]);
    expect(invoice.amount_due).toBe(-1140 + 2940 + 4900 + 19800);
    expectAddsUp(invoice);
    const removed = await preview(S.heidi, { items: [{ id: 'si_HeidiSeats', deleted: true }], proration_behavior: 'always_invoice' });
    expect(amounts(removed)).toEqual([[-11880, true, P.teamMonthly]]);
    const added = await preview(S.heidi, { items: [{ price: P.starterMonthly, quantity: 2 }], proration_behavior: 'always_invoice' });
    expect(amounts(added)).toEqual([[2280, true, P.starterMonthly]]);
  });

  it('refuses unknown parameters, items and prices, and another customer’s subscription', async () => {
    const unknown = await failure(preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.teamMonthly }], foo: 1 } as Stripe.InvoiceCreatePreviewParams.SubscriptionDetails));
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'subscription_details[foo]']);
    const item = await failure(preview(S.alice, { items: [{ id: itemOf(S.carol), price: P.teamMonthly }] }));
    expect([item.statusCode, item.param]).toEqual([400, 'subscription_details[items][0][id]']);
    const inactive = await failure(preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.legacyMonthly }] }));
    expect(inactive.message).toMatch(/inactive/);
    const oneTime = await failure(preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.setupFee }] }));
    expect(oneTime.param).toBe('subscription_details[items][0][price]');
    const currency = await failure(preview(S.alice, { items: [{ id: itemOf(S.alice), price: P.jpyMonthly }] }));
    expect(currency.message).toMatch(/jpy/);
    const theirs = await failure(preview(S.carol, { items: [{ id: itemOf(S.carol), price: P.teamMonthly }] }, { customer: DEMO.customers.alice }));
    expect([theirs.statusCode, theirs.param]).toEqual([400, 'subscription']);
  });

  it('without subscription_details it still previews the plain renewal', async () => {
    const plain = await sdk().invoices.createPreview({ subscription: S.alice });
    expect(amounts(plain)).toEqual([[4900, false, P.proMonthly]]);
  });
});

describe('paying an invoice', () => {
  const ivanInvoice = () => store().invoices.get(DEMO.invoices.ivanOpen)!;
  const giveIvanAGoodCard = (last4 = '4242', expYear = 2031) => {
    const pm = makeCardPaymentMethod({ id: `pm_IvanNew${last4}`, customer: DEMO.customers.ivan, created: NOW, card: { brand: 'visa', last4, expMonth: 1, expYear, fingerprint: 'fpIvanNew' } });
    store().paymentMethods.set(pm.id, pm);
    store().liveCustomer(DEMO.customers.ivan)!.invoice_settings.default_payment_method = pm.id;
    return pm.id;
  };

  it('a declining card: 402 card_error with the decline code; the invoice stays open with one more attempt', async () => {
    const error = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen));
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    expect([error.statusCode, error.code, error.decline_code, error.message]).toEqual([402, 'card_declined', 'insufficient_funds', 'Your card has insufficient funds.']);
    const chargeId = (error.raw as { charge?: string }).charge!;
    const charge = await sdk().charges.retrieve(chargeId);
    expect(charge).toMatchObject({
      status: 'failed',
      amount: 4900,
      customer: DEMO.customers.ivan,
      failure_code: 'card_declined',
      outcome: { network_status: 'declined_by_network', reason: 'insufficient_funds', risk_level: 'normal', type: 'issuer_declined', seller_message: 'The bank returned the decline code `insufficient_funds`.' },
    });
    const invoice = await sdk().invoices.retrieve(DEMO.invoices.ivanOpen);
    expect([invoice.status, invoice.attempt_count, invoice.amount_paid]).toEqual(['open', 2, 0]);
    expect(store().subscriptions.get(S.ivan)!.status).toBe('past_due');
  });

  it('after the card is updated it pays: invoice paid, subscription active again', async () => {
    const pm = giveIvanAGoodCard();
    const paid = await sdk().invoices.pay(DEMO.invoices.ivanOpen);
    expect([paid.status, paid.amount_paid, paid.amount_remaining, paid.attempt_count, paid.next_payment_attempt, paid.status_transitions.paid_at]).toEqual(['paid', 4900, 0, 2, null, NOW]);
    const charges = await sdk().charges.list({ customer: DEMO.customers.ivan, limit: 100 });
    expect(charges.data.filter((c) => c.payment_method === pm).map((c) => [c.status, c.amount])).toEqual([['succeeded', 4900]]);
    expect(store().subscriptions.get(S.ivan)!.status).toBe('active');
    const again = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen));
    expect([again.statusCode, again.message]).toEqual([400, 'Invoice is already paid']);
  });

  it('each of Stripe’s test-card declines, and an expired card', async () => {
    for (const [last4, code, decline] of [
      ['0002', 'card_declined', 'generic_decline'],
      ['9987', 'card_declined', 'lost_card'],
      ['0069', 'expired_card', 'expired_card'],
      ['0119', 'processing_error', 'processing_error'],
    ] as const) {
      giveIvanAGoodCard(last4);
      const error = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen));
      expect([error.code, error.decline_code], last4).toEqual([code, decline]);
    }
    giveIvanAGoodCard('4242', 2020);
    expect((await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen))).decline_code).toBe('expired_card');
    expect(ivanInvoice().attempt_count).toBe(1 + 5);
  });

  it('is idempotent: a replayed success charges once, a replayed decline counts one attempt', async () => {
    const declined1 = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen, {}, { idempotencyKey: 'rq_9:pay' }));
    const declined2 = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen, {}, { idempotencyKey: 'rq_9:pay' }));
    expect((declined2.raw as { charge?: string }).charge).toBe((declined1.raw as { charge?: string }).charge);
    expect(ivanInvoice().attempt_count).toBe(2);

    giveIvanAGoodCard();
    const chargesBefore = store().charges.size;
    const first = await sdk().invoices.pay(DEMO.invoices.ivanOpen, {}, { idempotencyKey: 'rq_10:pay' });
    const replay = await sdk().invoices.pay(DEMO.invoices.ivanOpen, {}, { idempotencyKey: 'rq_10:pay' });
    expect(replay).toEqual(first);
    expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(store().charges.size).toBe(chargesBefore + 1);
  });

  it('paid_out_of_band marks it paid without a charge; someone else’s card is refused; unknown parameters too', async () => {
    const chargesBefore = store().charges.size;
    const outOfBand = await sdk().invoices.pay(DEMO.invoices.daveSendInvoice, { paid_out_of_band: true });
    expect(outOfBand.status).toBe('paid');
    expect(store().charges.size).toBe(chargesBefore);
    const theirs = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen, { payment_method: DEMO.paymentMethods.aliceVisa }));
    expect([theirs.statusCode, theirs.param]).toEqual([400, 'payment_method']);
    const unknown = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen, { amount: 1 } as Stripe.InvoicePayParams));
    expect([unknown.code, unknown.param]).toEqual(['parameter_unknown', 'amount']);
  });

  it('needs invoice write permission', async () => {
    stripeApi.fake().restrictKey(KEY, ['rak_invoice_write']);
    const error = await failure(sdk().invoices.pay(DEMO.invoices.ivanOpen));
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
    expect(ivanInvoice().attempt_count).toBe(1);
  });
});

describe('the demo’s declined customer and retention offer', () => {
  it('ivan is found by email, past due, with what get_payment_problem needs', async () => {
    const found = await sdk().customers.list({ email: DEMO.emails.ivan });
    expect(found.data.map((c) => c.id)).toEqual([DEMO.customers.ivan]);
    const subscriptions = await sdk().subscriptions.list({ customer: DEMO.customers.ivan });
    expect(subscriptions.data.map((s) => [s.id, s.status, s.latest_invoice])).toEqual([[S.ivan, 'past_due', DEMO.invoices.ivanOpen]]);
    const open = await sdk().invoices.list({ customer: DEMO.customers.ivan, status: 'open' });
    expect(open.data.map((i) => [i.id, i.amount_due, i.attempt_count, i.next_payment_attempt])).toEqual([
      [DEMO.invoices.ivanOpen, DEMO.ivanDecline.amount, 1, NOW + DEMO.ivanDecline.nextAttemptInDays * DAY],
    ]);
    expect(open.data[0]!.hosted_invoice_url).toMatch(/^https:\/\/invoice\.stripe\.com\//);
    const charges = await sdk().charges.list({ customer: DEMO.customers.ivan });
    const failed = charges.data.filter((c) => c.status === 'failed');
    expect(failed.map((c) => [c.id, c.failure_code, c.outcome?.reason, c.outcome?.risk_level, c.created])).toEqual([
      [DEMO.charges.ivanDeclined, 'card_declined', 'insufficient_funds', 'normal', NOW - 3 * DAY + 3600],
    ]);
    const card = await sdk().paymentMethods.retrieve(DEMO.paymentMethods.ivanDeclining);
    expect(card.card?.last4).toBe('9995');
  });

  it('the retention coupon is 25% off for 3 months, and the cancel flow offers it', async () => {
    const coupon = await sdk().coupons.retrieve(DEMO.coupons.retention);
    expect([coupon.percent_off, coupon.duration, coupon.duration_in_months, coupon.valid]).toEqual([25, 'repeating', 3, true]);
    const made = await session(
      { type: 'subscription_cancel', subscription_cancel: { subscription: S.ivan, retention: { type: 'coupon_offer', coupon_offer: { coupon: coupon.id } } } },
      DEMO.customers.ivan,
    );
    expect(made.flow?.subscription_cancel?.retention?.coupon_offer?.coupon).toBe(DEMO.coupons.retention);
  });

  it('other demo records keep their shape: carol’s old failed charge has no decline detail', async () => {
    const carol = await sdk().charges.retrieve(DEMO.charges.carolFailed);
    expect([carol.failure_code, carol.outcome?.reason, carol.outcome?.seller_message]).toEqual(['card_declined', 'card_declined', 'The bank did not return any further details with this decline.']);
  });
});

