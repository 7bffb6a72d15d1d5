import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { callOnce, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

type Money = { amount: number; currency: string; formatted: string };
interface Upcoming {
  subscription_id: string;
  date: string;
  subtotal: Money;
  discount?: Money;
  total: Money;
  credit_applied?: Money;
  amount_due: Money;
  lines: Array<{ description: string; amount: Money }>;
}
interface Result {
  upcoming: Upcoming[];
  notes?: string[];
  summary: string;
}

const upcomingOf = (who: Who, args: Record<string, unknown> = {}) => callOnce<Result>(who, 'get_upcoming_invoice', args);

describe('get_upcoming_invoice', () => {
  it('previews the next JPY invoice in whole yen', async () => {
    expect(await upcomingOf({ customer: DEMO.emails.erin })).toMatchInlineSnapshot(`
      {
        "summary": "Next invoice: ¥2,000 on 2026-10-01.",
        "upcoming": [
          {
            "amount_due": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
            "date": "2026-10-01T14:13:20.000Z",
            "lines": [
              {
                "amount": {
                  "amount": 2000,
                  "currency": "jpy",
                  "formatted": "¥2,000",
                },
                "description": "1 × Pro (Japan) (at ¥2,000 / month)",
                "period": {
                  "end": "2026-11-01T14:13:20.000Z",
                  "start": "2026-10-01T14:13:20.000Z",
                },
              },
            ],
            "subscription_id": "sub_DemoErinJpy",
            "subtotal": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
            "total": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
          },
        ],
      }
    `);
  });

  it('uses createPreview (no side effects), never the removed upcoming endpoint', async () => {
    const invoicesBefore = stripe.fake().store.invoices.size;
    await upcomingOf({ customer: DEMO.emails.erin });
    const paths = stripe.fake().requests.map((request) => `${request.method} ${request.path}`);
    expect(paths).toContain('POST /v1/invoices/create_preview');
    expect(paths.some((path) => path.includes('/v1/invoices/upcoming'))).toBe(false);
    expect(stripe.fake().store.invoices.size).toBe(invoicesBefore);
  });

  it('shows the discount and the account credit that reduce the amount due', async () => {
    const alice = await upcomingOf({ customer: DEMO.emails.alice });
    expect(alice.upcoming[0]).toMatchObject({
      subscription_id: DEMO.subscriptions.alice,
      subtotal: { formatted: '$49.00' },
      discount: { formatted: '$5.00' },
      total: { formatted: '$44.00' },
      amount_due: { formatted: '$44.00' },
    });
    const frank = await upcomingOf({ customer: DEMO.emails.frank });
    expect(frank.upcoming[0]).toMatchObject({ total: { formatted: '$19.00' }, credit_applied: { formatted: '$19.00' }, amount_due: { formatted: '$0.00' } });
    expect(frank.summary).toBe('Next invoice: $0.00 on 2026-09-26.');
  });

  it("turns Stripe's invoice_upcoming_none into a plain answer, not an error", async () => {
    const store = stripe.fake().store;
    const sub = store.subscriptions.get(DEMO.subscriptions.alice)!;
    store.subscriptions.set(sub.id, { ...sub, status: 'paused' });
    const result = await upcomingOf({ customer: DEMO.emails.alice });
    expect(result).toEqual({
      upcoming: [],
      notes: [`Subscription ${DEMO.subscriptions.alice} has no upcoming invoice.`],
      summary: 'No upcoming invoice.',
    });
    expect(stripe.fake().requests.find((request) => request.path === '/v1/invoices/create_preview')?.status).toBe(400);
  });

  it('says a subscription that cancels at period end has no further invoice (dave)', async () => {
    const result = await upcomingOf({ customer: DEMO.emails.dave });
    expect(result.upcoming).toEqual([]);
    expect(result.notes).toEqual([`Subscription ${DEMO.subscriptions.dave} is set to cancel at the end of its current period, so no further invoice is expected.`]);
  });

  it("previews every live subscription across one person's records, soonest first", async () => {
    const store = stripe.fake().store;
    const source = store.subscriptions.get(DEMO.subscriptions.frank)!;
    const item = source.items.data[0]!;
    store.subscriptions.set('sub_DemoAliceUpperSecond', {
      ...source,
      id: 'sub_DemoAliceUpperSecond',
      customer: DEMO.customers.aliceUppercase,
      discounts: [],
      items: { ...source.items, data: [{ ...item, id: 'si_DemoAliceUpperSecond', subscription: 'sub_DemoAliceUpperSecond' }] },
    });
    const result = await upcomingOf({ customer: DEMO.emails.alice });
    expect(result.upcoming.map((invoice) => invoice.subscription_id)).toEqual(['sub_DemoAliceUpperSecond', DEMO.subscriptions.alice]);
    expect(result.summary).toBe('Next invoice: $19.00 on 2026-09-26; 1 more subscription invoice upcoming.');
  });

  it('never leaks emails, account name or metadata from the preview', async () => {
    const result = JSON.stringify(await upcomingOf({ customer: DEMO.emails.alice }));
    for (const secret of [DEMO.emails.alice, 'Alice Example', 'Demo Merchant', 'crm_note', 'enterprise-trial-upsell', DEMO.emails.aliceWork, DEMO.emails.bobAlice]) {
      expect(result).not.toContain(secret);
    }
  });

  it('lets staff choose by email or customer_id', async () => {
    const byEmail = await upcomingOf('staff', { email: DEMO.emails.bob });
    // bob's trial ends in 10 days; the first real charge is the full Pro price.
    expect(byEmail.upcoming[0]).toMatchObject({ subscription_id: DEMO.subscriptions.bob, amount_due: { formatted: '$49.00' } });
    const byId = await upcomingOf('staff', { customer_id: DEMO.customers.aliceUppercase });
    expect(byId).toEqual({ upcoming: [], summary: 'No upcoming invoice: there is no current subscription.' });
  });
});
