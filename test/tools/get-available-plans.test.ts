import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { connectClient, errorText, callOnce, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

type Money = { amount: number; currency: string; formatted: string };
interface Plan {
  price_id: string;
  product: string;
  amount: Money;
  interval: string;
  current?: true;
}
interface Result {
  plans: Plan[];
  note?: string;
  summary: string;
}

const plansFor = (who: Who, args: Record<string, unknown> = {}) => callOnce<Result>(who, 'get_available_plans', args);

const currentOf = (result: Result) => result.plans.filter((plan) => plan.current).map((plan) => plan.price_id);

describe('which plans a customer may see', () => {
  const ids = (result: Result) => result.plans.map((plan) => plan.price_id).sort();

  it('shows only the plans the billing portal lets customers switch to: never a product made for one customer', async () => {
    const shown = ids(await plansFor({ customer: DEMO.emails.alice }));
    expect(shown).toEqual([DEMO.prices.starterMonthly, DEMO.prices.proMonthly, DEMO.prices.proYearly, DEMO.prices.teamMonthly, DEMO.prices.jpyMonthly].sort());
    expect(shown).not.toContain(DEMO.prices.enterpriseAcme);
  });

  it('PLAN_PRODUCTS overrides the portal', async () => {
    const session = await connectClient('unverified', { env: { PLAN_PRODUCTS: `${DEMO.products.pro},${DEMO.products.team}` } });
    const result = (await session.call('get_available_plans', {})).structuredContent as unknown as Result;
    await session.close();
    expect(ids(result)).toEqual([DEMO.prices.proMonthly, DEMO.prices.proYearly, DEMO.prices.teamMonthly].sort());
  });

  it('with neither, lists every active recurring price (doctor warns)', async () => {
    stripe.fake().setPortalConfigured(false);
    expect(ids(await plansFor('unverified'))).toContain(DEMO.prices.enterpriseAcme);
  });
});

describe('get_available_plans', () => {
  it('lists active recurring prices for an unverified visitor, cheapest product first, without marking anything', async () => {
    expect(await plansFor('unverified', { currency: 'USD' })).toMatchInlineSnapshot(`
      {
        "plans": [
          {
            "amount": {
              "amount": 1900,
              "currency": "usd",
              "formatted": "$19.00",
            },
            "interval": "month",
            "price_id": "price_DemoStarterMonthly",
            "product": "Starter",
          },
          {
            "amount": {
              "amount": 4900,
              "currency": "usd",
              "formatted": "$49.00",
            },
            "interval": "month",
            "price_id": "price_DemoProMonthly",
            "product": "Pro",
          },
          {
            "amount": {
              "amount": 49000,
              "currency": "usd",
              "formatted": "$490.00",
            },
            "interval": "year",
            "price_id": "price_DemoProYearly",
            "product": "Pro",
          },
          {
            "amount": {
              "amount": 9900,
              "currency": "usd",
              "formatted": "$99.00",
            },
            "interval": "month",
            "price_id": "price_DemoTeamMonthly",
            "product": "Team",
          },
        ],
        "summary": "4 plan prices on offer.",
      }
    `);
  });

  it('never offers inactive, legacy or one-time prices', async () => {
    const result = await plansFor('unverified');
    const ids = result.plans.map((plan) => plan.price_id);
    expect(ids).not.toContain(DEMO.prices.legacyMonthly);
    expect(ids).not.toContain(DEMO.prices.setupFee);
    expect(ids).toHaveLength(5);
    expect(JSON.stringify(result)).not.toMatch(/legacy|Setup fee/i);
  });

  it("marks the customer's current plan, across both of their records", async () => {
    expect(currentOf(await plansFor({ customer: DEMO.emails.alice }))).toEqual([DEMO.prices.proMonthly]);
    // A live subscription on the second (uppercase) record counts too.
    const store = stripe.fake().store;
    const canceled = store.subscriptions.get(DEMO.subscriptions.aliceUppercaseCanceled)!;
    store.subscriptions.set(canceled.id, { ...canceled, status: 'active', canceled_at: null, ended_at: null });
    expect(currentOf(await plansFor({ customer: DEMO.emails.alice })).sort()).toEqual([DEMO.prices.proMonthly, DEMO.prices.starterMonthly].sort());
  });

  it('does not mark a canceled subscription as current', async () => {
    // Only the uppercase record, whose only subscription is canceled.
    expect(currentOf(await plansFor('staff', { customer_id: DEMO.customers.aliceUppercase }))).toEqual([]);
  });

  it("puts a JPY customer's currency first, in whole yen", async () => {
    const result = await plansFor({ customer: DEMO.emails.erin });
    expect(result.plans[0]).toEqual({
      price_id: DEMO.prices.jpyMonthly,
      product: 'Pro (Japan)',
      amount: { amount: 2000, currency: 'jpy', formatted: '¥2,000' },
      interval: 'month',
      current: true,
    });
    expect(result.plans.slice(1).every((plan) => plan.amount.currency === 'usd')).toBe(true);
  });

  it('filters by currency, and says which currencies exist when none match', async () => {
    expect((await plansFor('unverified', { currency: 'jpy' })).plans.map((plan) => plan.price_id)).toEqual([DEMO.prices.jpyMonthly]);
    expect(await plansFor('unverified', { currency: 'eur' })).toEqual({ plans: [], summary: 'No plans are offered in EUR; prices exist in JPY, USD.' });
    const session = await connectClient('unverified');
    expect(errorText(await session.call('get_available_plans', { currency: 'euro' }))).toMatch(/currency/);
    await session.close();
  });

  it('says when the current plan is no longer offered', async () => {
    const store = stripe.fake().store;
    const sub = store.subscriptions.get(DEMO.subscriptions.frank)!;
    const legacy = store.prices.get(DEMO.prices.legacyMonthly)!;
    store.subscriptions.set(sub.id, { ...sub, items: { ...sub.items, data: [{ ...sub.items.data[0]!, price: legacy }] } });
    const result = await plansFor({ customer: DEMO.emails.frank });
    expect(currentOf(result)).toEqual([]);
    expect(result.note).toBe("The customer's current plan is not among the plans on offer, so it is not in this list.");
  });

  it('works for staff with and without a chosen customer', async () => {
    expect(currentOf(await plansFor('staff'))).toEqual([]);
    expect(currentOf(await plansFor('staff', { email: DEMO.emails.dave }))).toEqual([DEMO.prices.proYearly]);
    expect(currentOf(await plansFor('staff', { customer_id: DEMO.customers.carol }))).toEqual([DEMO.prices.starterMonthly]);
  });

  it('never leaks product metadata or anything about a customer beyond the current mark', async () => {
    const store = stripe.fake().store;
    const pro = store.products.get(DEMO.products.pro)!;
    store.products.set(pro.id, { ...pro, metadata: { margin: 'SECRET-MARGIN-80' } });
    const text = JSON.stringify(await plansFor({ customer: DEMO.emails.alice }));
    for (const secret of ['SECRET-MARGIN-80', DEMO.emails.alice, DEMO.customers.alice, DEMO.subscriptions.alice, 'crm_note']) expect(text).not.toContain(secret);
  });
});
