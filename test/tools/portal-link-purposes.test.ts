/**
 * get_billing_portal_link with a `purpose`: each opens the portal on its own flow, and the fake
 * Stripe checks every flow_data as Stripe does (a wrong shape or subscription fails the call), so
 * a passing call here is a link Stripe would make. A flow the merchant switched off falls back to
 * the portal's home with words saying so; another customer's subscription is refused.
 */
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { makeSubscriptionItem } from '../../src/demo/fake-stripe/factories.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { errorText, structured } from '../support/mcp-harness.js';
import { flowOf, portalTool } from '../support/portal-tools.js';

const NOW = 1_790_000_000;
const stripe = useFakeStripe({ now: NOW });
const RETURN = { PORTAL_RETURN_URL: 'https://app.example.com/account' };

interface Answer {
  url: string;
  opens: string;
  note: string;
  summary: string;
}

const { call, portalPosts, sessions } = portalTool('get_billing_portal_link', stripe);
const features = () => stripe.fake().store.portalConfigurations.get(DEMO.portalConfiguration)!.features;
const flows = () => sessions().map((session) => session.flow);
const redirect = { type: 'redirect', redirect: { return_url: RETURN.PORTAL_RETURN_URL } };

describe('get_billing_portal_link: each purpose opens its flow, valid for Stripe', () => {
  it('update_payment_method: the payment_method_update flow, back to the merchant’s page', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.ivan }, { purpose: 'update_payment_method' }, RETURN));
    expect(portalPosts().map((r) => r.params)).toEqual([
      { customer: DEMO.customers.ivan, return_url: RETURN.PORTAL_RETURN_URL, flow_data: { type: 'payment_method_update', after_completion: redirect } },
    ]);
    expect(flows()[0]).toMatchObject({ type: 'payment_method_update', after_completion: { type: 'redirect', redirect: { return_url: RETURN.PORTAL_RETURN_URL } } });
    expect(answer.opens).toBe('update_payment_method');
    expect(answer.url).toMatch(/\/flow\/payment_method_update$/);
  });

  it('update_billing_details: the customer_update flow (type only), and says an issued invoice cannot change', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { purpose: 'update_billing_details' }));
    expect(portalPosts().map((r) => r.params.flow_data)).toEqual([{ type: 'customer_update', after_completion: { type: 'portal_homepage' } }]);
    expect(flows()[0]).toMatchObject({ type: 'customer_update', customer_update: {}, after_completion: { type: 'portal_homepage' } });
    expect(answer.opens).toBe('update_billing_details');
    expect(answer.note).toContain('invoice already issued (finalized) cannot be changed');
    expect(answer.note).toContain('invoices issued from now on');
    // The demo portal lets customers change email and address, not tax ids.
    expect(answer.note).toContain('The merchant lets customers change: email, billing address.');
    expect(answer.note).toContain('Tax ids cannot be changed here');
  });

  it('update_billing_details names tax ids when the portal allows them', async () => {
    features().customer_update.allowed_updates = ['address', 'tax_id'];
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { purpose: 'update_billing_details' }));
    expect(answer.note).toContain('change: billing address, tax ids (such as a VAT number).');
    expect(answer.note).not.toContain('Tax ids cannot');
  });

  it('change_plan: the subscription_update flow for the customer’s only current subscription', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { purpose: 'change_plan' }, RETURN));
    expect(portalPosts().map((r) => r.params.flow_data)).toEqual([
      { type: 'subscription_update', subscription_update: { subscription: DEMO.subscriptions.alice }, after_completion: redirect },
    ]);
    expect(flows()[0]?.subscription_update).toEqual({ subscription: DEMO.subscriptions.alice });
    expect(answer.opens).toBe('change_plan');
    expect(answer.url).toMatch(new RegExp(`/flow/subscription_update/${DEMO.subscriptions.alice}$`));
  });

  it('change_plan with several current subscriptions asks which, then opens the chosen one on its own record', async () => {
    stripe.fake().store.subscriptions.get(DEMO.subscriptions.aliceUppercaseCanceled)!.status = 'active';
    expect(errorText(await call({ customer: DEMO.emails.alice }, { purpose: 'change_plan' }))).toMatch(/2 current subscriptions; ask which one and pass its subscription_id/);
    expect(portalPosts()).toEqual([]);
    structured(await call({ customer: DEMO.emails.alice }, { purpose: 'change_plan', subscription_id: DEMO.subscriptions.aliceUppercaseCanceled }));
    expect(portalPosts().map((r) => [r.params.customer, flowOf(r).subscription_update?.subscription])).toEqual([
      [DEMO.customers.aliceUppercase, DEMO.subscriptions.aliceUppercaseCanceled],
    ]);
  });

  it('change_plan on a subscription with several items: the portal home, saying the merchant’s team makes the change', async () => {
    const sub = stripe.fake().store.subscriptions.get(DEMO.subscriptions.alice)!;
    const first = sub.items.data[0]!;
    sub.items.data.push(
      makeSubscriptionItem({ id: 'si_AliceExtra', subscription: sub.id, created: NOW, price: stripe.fake().store.prices.get(DEMO.prices.starterMonthly)!, quantity: 1, currentPeriodStart: first.current_period_start, currentPeriodEnd: first.current_period_end }),
    );
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { purpose: 'change_plan' }));
    expect(answer.opens).toBe('home');
    expect(answer.note).toMatch(/several items, which the billing portal cannot change: the merchant’s team makes this change/);
    expect(portalPosts().map((r) => r.params.flow_data)).toEqual([undefined]);
  });

  it('cancel: the same flow as cancel_subscription, with the merchant’s offer to stay', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { purpose: 'cancel' }, { CANCEL_RETENTION_COUPON: DEMO.coupons.retention }));
    expect(portalPosts().map((r) => r.params.flow_data)).toEqual([
      {
        type: 'subscription_cancel',
        subscription_cancel: { subscription: DEMO.subscriptions.alice, retention: { type: 'coupon_offer', coupon_offer: { coupon: DEMO.coupons.retention } } },
        after_completion: { type: 'portal_homepage' },
      },
    ]);
    expect(flows()[0]?.subscription_cancel?.retention?.coupon_offer?.coupon).toBe(DEMO.coupons.retention);
    expect(answer.opens).toBe('cancel');
    expect(answer.note).toContain('the portal offers them 25% off for 3 months to stay');
    expect(answer.note).toContain('stays active until the end of the period already paid for');
  });

  it('cancel on a subscription already set to end: the home page, where that is undone', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.dave }, { purpose: 'cancel' }));
    expect(answer.opens).toBe('home');
    expect(answer.note).toMatch(/already set to end on 2026-12-30/);
    expect(portalPosts().map((r) => r.params.flow_data)).toEqual([undefined]);
  });

  it('no purpose (or null) opens the portal home, as before', async () => {
    for (const args of [{}, { purpose: null, subscription_id: null }]) {
      expect(structured<Answer>(await call({ customer: DEMO.emails.carol }, args)).opens).toBe('home');
    }
    expect(portalPosts().map((r) => r.params.flow_data)).toEqual([undefined, undefined]);
  });
});

describe('get_billing_portal_link: a flow the merchant has not enabled', () => {
  const cases: Array<[string, (f: Stripe.BillingPortal.Configuration.Features) => void, RegExp]> = [
    ['update_payment_method', (f) => (f.payment_method_update.enabled = false), /not enabled updating the payment method/],
    ['update_billing_details', (f) => (f.customer_update.enabled = false), /not enabled changing billing details/],
    ['change_plan', (f) => (f.subscription_update.enabled = false), /not enabled changing plans/],
    ['cancel', (f) => (f.subscription_cancel.enabled = false), /not enabled cancelling subscriptions/],
  ];
  it.each(cases)('%s: says so and gives the home link instead, without Stripe’s text', async (purpose, disable, words) => {
    disable(features());
    const result = await call({ customer: DEMO.emails.alice }, { purpose });
    const answer = structured<Answer>(result);
    expect(answer.opens).toBe('home');
    expect(answer.note).toMatch(words);
    expect(answer.note).toContain('opens the portal’s home page instead');
    // The refused flow, then the home session the customer gets.
    expect(portalPosts().map((r) => [r.status >= 400, r.params.flow_data === undefined])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(answer.url).not.toContain('/flow/');
    expect(JSON.stringify(result)).not.toMatch(/bpc_|disabled in the portal configuration|flow_data/);
  });
});

describe('get_billing_portal_link: only the customer’s own subscriptions', () => {
  it.each(['change_plan', 'cancel'])("%s: another customer's subscription id is refused exactly like an unknown one", async (purpose) => {
    const other = errorText(await call({ customer: DEMO.emails.alice }, { purpose, subscription_id: DEMO.subscriptions.ivan }));
    const missing = errorText(await call({ customer: DEMO.emails.alice }, { purpose, subscription_id: 'sub_DoesNotExist' }));
    expect(other).toBe(missing);
    expect(other).toMatch(/No subscription with that id/);
    expect(portalPosts()).toEqual([]);
  });

  it('rejects a purpose that is not one of the four', async () => {
    expect(errorText(await call({ customer: DEMO.emails.alice }, { purpose: 'delete_account' }))).toMatch(/purpose/);
    expect(portalPosts()).toEqual([]);
  });
});
