import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { makeSubscriptionItem } from '../../src/demo/fake-stripe/factories.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { connectClient, errorText, structured, TEST_STRIPE_KEY, type Who } from '../support/mcp-harness.js';
import { pinClock } from '../support/pin-clock.js';

const NOW = 1_790_000_000;
const stripe = useFakeStripe({ now: NOW });
pinClock(NOW);

const S = DEMO.subscriptions;
const P = DEMO.prices;
const store = () => stripe.fake().store;
const sdk = () => new Stripe(TEST_STRIPE_KEY, { maxNetworkRetries: 0 });
const itemOf = (subscription: string) => store().subscriptions.get(subscription)!.items.data[0]!.id;
const portal = () => store().portalConfigurations.get(DEMO.portalConfiguration)!;
type Behavior = 'always_invoice' | 'create_prorations' | 'none';
const prorateBy = (behavior: Behavior) => {
  portal().features.subscription_update.proration_behavior = behavior;
};

interface Money {
  amount: number;
  currency: string;
  formatted: string;
}
interface Preview {
  billed: 'now' | 'next_invoice';
  lines: Array<{ description: string; amount: Money; proration: boolean }>;
  subtotal: Money;
  discounts: Array<{ name: string; amount: Money }>;
  tax?: Money;
  total: Money;
  account_balance?: Money;
  credit_kept?: Money;
  amount_due: Money;
}
interface Answer {
  outcome: 'link_created' | 'no_change' | 'made_by_merchant';
  proration_date: number;
  proration_behavior: Behavior;
  charged_now?: Money;
  credited_now?: Money;
  new_recurring?: { amount: Money; interval: string; next_date: string };
  preview?: Preview;
  url?: string;
  note: string;
  summary: string;
}

async function call(who: Who, args: Record<string, unknown>, env: Record<string, string> = {}) {
  const session = await connectClient(who, { env });
  try {
    return await session.call('preview_plan_change', args);
  } finally {
    await session.close();
  }
}

const portalPosts = () => stripe.fake().requests.filter((r) => r.method === 'POST' && r.path === '/v1/billing_portal/sessions');

/** The structured lines add up to the amounts they claim, in integer minor units. */
function expectAddsUp(preview: Preview) {
  const sum = (amounts: Money[]) => amounts.reduce((total, entry) => total + entry.amount, 0);
  expect(sum(preview.lines.map((line) => line.amount))).toBe(preview.subtotal.amount);
  expect(preview.subtotal.amount + sum(preview.discounts.map((d) => d.amount)) + (preview.tax?.amount ?? 0)).toBe(preview.total.amount);
  expect(preview.total.amount + (preview.account_balance?.amount ?? 0) + (preview.credit_kept?.amount ?? 0)).toBe(preview.amount_due.amount);
}

/** The fake's own preview of the same change at the same proration_date, compared to the cent. */
async function expectAgreesWithStripe(answer: Answer, subscription: string, item: { id: string; price: string; quantity: number }) {
  const invoice = await sdk().invoices.createPreview({
    subscription,
    subscription_details: {
      items: [item],
      proration_behavior: answer.proration_behavior,
      ...(answer.proration_behavior === 'none' ? {} : { proration_date: answer.proration_date }),
    },
  });
  const preview = answer.preview!;
  expect(preview.lines.map((line) => [line.amount.amount, line.proration])).toEqual(
    invoice.lines.data.map((line) => [line.amount, line.parent?.subscription_item_details?.proration ?? false]),
  );
  expect([preview.subtotal.amount, preview.total.amount, preview.amount_due.amount]).toEqual([invoice.subtotal, invoice.total, invoice.amount_due]);
  expect(preview.discounts.map((d) => -d.amount.amount)).toEqual((invoice.total_discount_amounts ?? []).filter((d) => d.amount !== 0).map((d) => d.amount));
  expect(preview.amount_due.currency).toBe(invoice.currency);
  expectAddsUp(preview);
  return invoice;
}

/** The one portal session made: its flow names exactly this subscription, item, price and quantity. */
function expectConfirmFlow(customer: string, subscription: string, item: { id: string; price: string; quantity: number }) {
  const posts = portalPosts();
  expect(posts).toHaveLength(1);
  expect(posts[0]!.params).toMatchObject({
    customer,
    flow_data: { type: 'subscription_update_confirm', subscription_update_confirm: { subscription, items: [{ id: item.id, price: item.price, quantity: String(item.quantity) }] } },
  });
}

describe('preview_plan_change', () => {
  it('an upgrade with a discount: charged now, to the cent as Stripe previews it, with a link that confirms exactly that price', async () => {
    prorateBy('always_invoice');
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { price: P.teamMonthly }));
    expect(answer.proration_date).toBe(NOW);
    expect(answer.outcome).toBe('link_created');
    expect(answer.url).toMatch(new RegExp(`/flow/subscription_update_confirm/${S.alice}$`));
    const item = { id: itemOf(S.alice), price: P.teamMonthly, quantity: 1 };
    await expectAgreesWithStripe(answer, S.alice, item);
    // Pro $49 → Team $99 with 2/3 of the month left, LOYAL5 $5 off (test/fake-stripe-flows.test.ts).
    expect(answer.preview!.discounts).toEqual([{ name: '$5 off forever', amount: { amount: -500, currency: 'usd', formatted: '-$5.00' } }]);
    expect(answer.charged_now?.formatted).toBe('$28.33');
    expect(answer.new_recurring).toMatchObject({ amount: { formatted: '$99.00' }, interval: 'month' });
    expect(answer.note).toMatch(/\$28\.33 is charged now/);
    expectConfirmFlow(DEMO.customers.alice, S.alice, item);
    // Only a preview and a portal session: the subscription itself is untouched.
    expect(store().subscriptions.get(S.alice)!.items.data[0]!.price.id).toBe(P.proMonthly);
  });

  it('a downgrade states the credit: nothing charged now, the credit kept on the account', async () => {
    prorateBy('always_invoice');
    const answer = structured<Answer>(await call({ customer: DEMO.emails.aliceWork }, { price: P.starterMonthly }));
    const item = { id: itemOf(S.aliceWork), price: P.starterMonthly, quantity: 1 };
    await expectAgreesWithStripe(answer, S.aliceWork, item);
    expect(answer.charged_now).toBeUndefined();
    expect(answer.credited_now?.formatted).toBe('$40.00');
    expect(answer.note).toMatch(/Nothing is charged now\. \$40\.00 of credit for the unused time is kept on the account/);
    expectConfirmFlow(DEMO.customers.aliceWork, S.aliceWork, item);
  });

  it('with prorations added to the next invoice, a downgrade says the credit comes off that invoice', async () => {
    prorateBy('create_prorations');
    const answer = structured<Answer>(await call({ customer: DEMO.emails.aliceWork }, { price: P.starterMonthly }));
    await expectAgreesWithStripe(answer, S.aliceWork, { id: itemOf(S.aliceWork), price: P.starterMonthly, quantity: 1 });
    expect(answer.preview!.billed).toBe('next_invoice');
    expect(answer.charged_now).toBeUndefined();
    expect(answer.credited_now?.formatted).toBe('$40.00');
    expect(answer.note).toMatch(/a credit of \$40\.00 for the unused time comes off the next invoice/);
    // Team $99 → Starter $19 on the next invoice: −$40.00 + $19.00 leaves $21.00 of credit.
    expect(answer.preview!.credit_kept?.formatted).toBe('$21.00');
    expect(answer.note).toMatch(/which will be \$0\.00\. The remaining \$21\.00 of credit stays on the account/);
  });

  it('an interval change (month → year) bills the year now minus the credit, and renews in a year', async () => {
    prorateBy('create_prorations');
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { price: P.proYearly }));
    const item = { id: itemOf(S.alice), price: P.proYearly, quantity: 1 };
    const invoice = await expectAgreesWithStripe(answer, S.alice, item);
    expect(answer.preview!.billed).toBe('now');
    expect(answer.charged_now?.amount).toBe(invoice.amount_due);
    expect(answer.new_recurring).toMatchObject({ interval: 'year', amount: { formatted: '$490.00' } });
    expect(answer.new_recurring!.next_date.slice(0, 4)).toBe(String(new Date(NOW * 1000).getUTCFullYear() + 1));
    expectConfirmFlow(DEMO.customers.alice, S.alice, item);
  });

  it('a zero-decimal currency: whole yen, formatted without decimals, with a quantity the portal allows', async () => {
    prorateBy('always_invoice');
    const japan = portal().features.subscription_update.products!.find((p) => p.prices.includes(P.jpyMonthly))!;
    japan.adjustable_quantity = { enabled: true, minimum: 1, maximum: 10 };
    const answer = structured<Answer>(await call({ customer: DEMO.emails.erin }, { price: P.jpyMonthly, quantity: 3 }));
    const item = { id: itemOf(S.erin), price: P.jpyMonthly, quantity: 3 };
    await expectAgreesWithStripe(answer, S.erin, item);
    expect(answer.preview!.amount_due.currency).toBe('jpy');
    expect(answer.charged_now!.formatted).toMatch(/^¥[\d,]+$/);
    expect(answer.new_recurring!.amount.formatted).toBe('¥6,000');
    expectConfirmFlow(DEMO.customers.erin, S.erin, item);
  });

  it('refuses a quantity the portal does not let the customer change', async () => {
    const text = errorText(await call({ customer: DEMO.emails.erin }, { price: P.jpyMonthly, quantity: 3 }));
    expect(text).toMatch(/cannot be changed by the customer/);
    expect(portalPosts()).toEqual([]);
  });

  it('a subscription with two items: the preview still answers, and the merchant’s team makes the change instead of a link', async () => {
    prorateBy('create_prorations');
    const sub = store().subscriptions.get(S.heidi)!;
    const first = sub.items.data[0]!;
    sub.items.data.push(
      makeSubscriptionItem({ id: 'si_HeidiSeats', subscription: S.heidi, created: NOW, price: store().prices.get(P.teamMonthly)!, quantity: 2, currentPeriodStart: first.current_period_start, currentPeriodEnd: first.current_period_end }),
    );
    const answer = structured<Answer>(await call({ customer: DEMO.emails.heidi }, { price: P.proMonthly }));
    await expectAgreesWithStripe(answer, S.heidi, { id: first.id, price: P.proMonthly, quantity: 1 });
    expect(answer.outcome).toBe('made_by_merchant');
    expect(answer.url).toBeUndefined();
    expect(answer.note).toMatch(/2 items; the preview changes the "Starter" item only\. The billing portal cannot change a subscription with several items, so the merchant’s team/);
    // The recurring amount is the whole subscription's: Pro $49 plus 2 × Team $99.
    expect(answer.new_recurring!.amount.formatted).toBe('$247.00');
    expect(portalPosts()).toEqual([]);
  });

  it('the same plan as now changes nothing, and asks Stripe for no preview', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { price: P.proMonthly }));
    expect(answer.outcome).toBe('no_change');
    expect(answer.summary).toMatch(/nothing changes/);
    expect(stripe.fake().requests.filter((r) => r.path === '/v1/invoices/create_preview')).toEqual([]);
    expect(portalPosts()).toEqual([]);
  });

  it('refuses prices the customer may not pick, as get_available_plans does', async () => {
    for (const price of [P.enterpriseAcme, P.legacyMonthly, P.setupFee, 'price_DoesNotExist']) {
      const text = errorText(await call({ customer: DEMO.emails.alice }, { price }));
      expect(text, price).toMatch(/not one of the plans this customer may choose/);
    }
    expect(errorText(await call({ customer: DEMO.emails.alice }, { price: P.jpyMonthly }))).toMatch(/priced in JPY but this subscription is billed in USD/);
    expect(portalPosts()).toEqual([]);
  });

  it('explains that the portal configuration does not offer plan changes', async () => {
    portal().features.subscription_update.enabled = false;
    const text = errorText(await call({ customer: DEMO.emails.alice }, { price: P.teamMonthly }));
    expect(text).toMatch(/does not offer plan changes \(switching plans is turned off/);
    expect(text).not.toMatch(/bpc_|subscription_update/);
    expect(portalPosts()).toEqual([]);
  });

  it('says an ended subscription cannot change plan, without asking Stripe', async () => {
    const text = errorText(await call({ customer: DEMO.emails.alice }, { price: P.teamMonthly, subscription: S.aliceUppercaseCanceled }));
    expect(text).toMatch(/has ended, so its plan cannot be changed/);
    expect(stripe.fake().requests.filter((r) => r.path === '/v1/invoices/create_preview')).toEqual([]);
  });

  it("refuses another customer's subscription exactly like a nonexistent one", async () => {
    const other = errorText(await call({ customer: DEMO.emails.alice }, { price: P.teamMonthly, subscription: S.carol }));
    const missing = errorText(await call({ customer: DEMO.emails.alice }, { price: P.teamMonthly, subscription: 'sub_DoesNotExist' }));
    expect(other).toBe(missing);
    expect(other).toMatch(/No subscription with that id/);
    expect(stripe.fake().requests.filter((r) => r.path === '/v1/invoices/create_preview')).toEqual([]);
    expect(portalPosts()).toEqual([]);
  });

  it('a percent discount comes off the credit and the charge alike, as Stripe previews it', async () => {
    prorateBy('always_invoice');
    await sdk().subscriptions.update(S.bobAlice, { discounts: [{ coupon: DEMO.coupons.retention }] });
    const answer = structured<Answer>(await call({ customer: DEMO.emails.bobAlice }, { price: P.proMonthly }));
    await expectAgreesWithStripe(answer, S.bobAlice, { id: itemOf(S.bobAlice), price: P.proMonthly, quantity: 1 });
    // Starter $19 → Pro $49 with 25 of 30 days left: $25.00 of prorations, 25% off.
    expect([answer.preview!.subtotal.formatted, answer.preview!.discounts[0]!.amount.formatted, answer.charged_now!.formatted]).toEqual(['$25.00', '-$6.25', '$18.75']);
  });

  it('with the portal not prorating, says nothing is charged or credited now and the new price starts at renewal', async () => {
    prorateBy('none');
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, { price: P.teamMonthly }));
    await expectAgreesWithStripe(answer, S.alice, { id: itemOf(S.alice), price: P.teamMonthly, quantity: 1 });
    expect(answer.preview!.lines.every((line) => !line.proration)).toBe(true);
    expect([answer.charged_now, answer.credited_now]).toEqual([undefined, undefined]);
    expect(answer.note).toMatch(/Nothing is charged or credited for the current period/);
  });
});
