import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { pinClock } from '../support/pin-clock.js';
import { connectClient, errorText, structured, type Who } from '../support/mcp-harness.js';

const NOW = 1_790_000_000;
const stripe = useFakeStripe({ now: NOW });

pinClock(NOW);

async function overview(who: Who, args: Record<string, unknown> = {}) {
  const session = await connectClient(who);
  try {
    return await session.call('get_customer_overview', args);
  } finally {
    await session.close();
  }
}


describe('get_customer_overview', () => {
  it('shows a past-due customer everything at once, with the unpaid invoice’s link', async () => {
    // Why it failed comes from the decline-code table (src/stripe/decline-reasons.ts): pin carol's code.
    const declined = stripe.fake().store.charges.get(DEMO.charges.carolFailed)!;
    stripe.fake().store.charges.set(declined.id, { ...declined, outcome: { ...declined.outcome!, reason: 'card_declined' } });
    const result = structured(await overview({ customer: DEMO.emails.carol }));
    expect(result).toMatchInlineSnapshot(`
      {
        "attention": [
          "Invoice "CAROL-0002" for $19.00 ("Starter", past due) is past due: 2 payment attempts failed, the last on 2026-09-16. The card was declined by the bank. Contact the bank that issued the card, or use another card: update it in the billing portal, or pay the invoice from its payment page. Pay it at https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoCarolOpen. (get_payment_problem gives a link to update the card.)",
        ],
        "balances": [],
        "customer": {
          "customer_ids": [
            "cus_DemoCarol",
          ],
          "customer_since": "2026-03-05T14:13:20.000Z",
          "email": "carol@example.com",
          "name": "Carol Danvers",
        },
        "payment_method": {
          "brand": "mastercard",
          "description": "Mastercard ending in 4444, expires 03/2027",
          "exp": "03/2027",
          "last4": "4444",
          "type": "card",
        },
        "payment_problems": [
          {
            "amount": {
              "amount": 1900,
              "currency": "usd",
              "formatted": "$19.00",
            },
            "date": "2026-09-16T15:13:20.000Z",
            "detail": "The card was declined by the bank.",
            "kind": "failed",
          },
        ],
        "recent_invoices": [
          {
            "amount_remaining": {
              "amount": 1900,
              "currency": "usd",
              "formatted": "$19.00",
            },
            "created": "2026-09-16T14:13:20.000Z",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoCarolOpen",
            "id": "in_DemoCarolOpen",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct_1DemoFakeAccount/test_DemoCarolOpen/pdf",
            "number": "CAROL-0002",
            "status": "open",
            "total": {
              "amount": 1900,
              "currency": "usd",
              "formatted": "$19.00",
            },
          },
          {
            "created": "2026-08-17T14:13:20.000Z",
            "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoCarol0001",
            "id": "in_DemoCarol0001",
            "invoice_pdf": "https://pay.stripe.com/invoice/acct_1DemoFakeAccount/test_DemoCarol0001/pdf",
            "number": "CAROL-0001",
            "status": "paid",
            "total": {
              "amount": 1900,
              "currency": "usd",
              "formatted": "$19.00",
            },
          },
        ],
        "subscriptions": [
          {
            "discounts": [],
            "id": "sub_DemoCarolPastDue",
            "next_payment": {
              "amount": {
                "amount": 1900,
                "currency": "usd",
                "formatted": "$19.00",
              },
              "breakdown": {
                "amount_due": {
                  "amount": 1900,
                  "currency": "usd",
                  "formatted": "$19.00",
                },
                "discounts": [],
                "lines": [
                  {
                    "amount": {
                      "amount": 1900,
                      "currency": "usd",
                      "formatted": "$19.00",
                    },
                    "description": "1 × Starter (at $19.00 / month)",
                  },
                ],
                "tax_note": "No tax is included in this amount.",
              },
              "date": "2026-10-16T14:13:20.000Z",
            },
            "note": "Payment failed; Stripe is retrying. Updating the payment method in the billing portal fixes it.",
            "plan": "Starter",
            "price": "$19.00 per month",
            "status": "past_due",
          },
        ],
        "summary": ""Starter" (past due); next invoice $19.00 on 2026-10-16; 1 item needs attention.",
        "upcoming_invoice": {
          "amount_due": {
            "amount": 1900,
            "currency": "usd",
            "formatted": "$19.00",
          },
          "date": "2026-10-16T14:13:20.000Z",
        },
      }
    `);
  });

  it('merges every record of the customer, and never leaks metadata or card fingerprints', async () => {
    const result = structured<{ customer: { customer_ids: string[] }; payment_problems: Array<{ kind: string }> }>(await overview({ customer: DEMO.emails.alice }));
    expect(result.customer.customer_ids).toEqual([DEMO.customers.alice, DEMO.customers.aliceUppercase]);
    expect(result.payment_problems.map((problem) => problem.kind)).toEqual(['failed', 'refunded']);
    const text = JSON.stringify(result);
    expect(text).not.toContain(DEMO.secrets.aliceCardFingerprint);
    expect(text).not.toContain('VIP - internal only');
    expect(text).not.toContain('enterprise-trial-upsell');
    expect(text).not.toContain(DEMO.customers.aliceWork);
  });

  it('makes one request per topic, all in one parallel round after finding the customer', async () => {
    await overview({ customer: DEMO.emails.frank });
    const paths = stripe.fake().requests.map((r) => `${r.method} ${r.path}`).filter((p) => !p.includes('/v1/customers/search') && p !== 'GET /v1/customers');
    expect(paths.sort()).toEqual(
      [
        'GET /v1/charges',
        `GET /v1/customers/${DEMO.customers.frank}`,
        `GET /v1/customers/${DEMO.customers.frank}/balance_transactions`,
        'GET /v1/invoices',
        'GET /v1/invoices',
        'GET /v1/prices',
        'GET /v1/subscriptions',
        'POST /v1/invoices/create_preview',
      ].sort(),
    );
  });

  it('shows credit and the next invoice', async () => {
    const result = structured<{ balances: unknown; upcoming_invoice?: unknown; attention: string[] }>(await overview({ customer: DEMO.emails.frank }));
    expect(result.balances).toEqual([{ kind: 'credit', amount: { amount: 2500, currency: 'usd', formatted: '$25.00' } }]);
    expect(result.upcoming_invoice).toEqual({ date: '2026-09-26T14:13:20.000Z', amount_due: { amount: 0, currency: 'usd', formatted: '$0.00' } });
    expect(result.attention).toEqual([]);
  });

  it('says there is nothing upcoming for a subscription set to cancel, and flags a trial without a card', async () => {
    const dave = structured<{ upcoming_invoice?: unknown; summary: string }>(await overview({ customer: DEMO.emails.dave }));
    expect(dave.upcoming_invoice).toBeUndefined();
    expect(dave.summary).toMatch(/nothing upcoming/);
    const bob = structured<{ payment_method: { type: string }; attention: string[] }>(await overview({ customer: DEMO.emails.bob }));
    expect(bob.payment_method.type).toBe('none');
    expect(bob.attention).toEqual([expect.stringMatching(/No payment method on file.*before the trial ends on 2026-10-01/)]);
  });

  it("follows Stripe's payment-method precedence like get_billing_info: subscription method, then account default, then a legacy card", async () => {
    type Result = { payment_method: { type: string; description: string }; attention: string[] };
    const heidi = structured<Result>(await overview({ customer: DEMO.emails.heidi }));
    expect(heidi.payment_method).toEqual({ type: 'card', brand: 'visa', last4: '1117', exp: '07/2028', description: 'Visa ending in 1117, expires 07/2028' });
    expect(heidi.attention).toEqual([]);

    const store = stripe.fake().store;
    const sub = store.subscriptions.get(DEMO.subscriptions.frank)!;
    store.subscriptions.set(sub.id, { ...sub, default_payment_method: DEMO.paymentMethods.frankVisa });
    const customer = store.liveCustomer(DEMO.customers.frank)!;
    // Only the subscription names the card, so the overview can show it only by following the subscription.
    store.customers.set(customer.id, { ...customer, invoice_settings: { ...customer.invoice_settings, default_payment_method: null } });
    const frank = structured<Result>(await overview({ customer: DEMO.emails.frank }));
    expect(frank.payment_method.description).toBe('Visa ending in 5556, expires 04/2030');
    // Expanded in the subscriptions list: no extra request for the subscription's own method.
    expect(stripe.fake().requests.some((r) => r.path.startsWith('/v1/payment_methods'))).toBe(false);
  });

  it('works for staff by email and refuses an unverified visitor', async () => {
    const staff = structured<{ customer: { customer_ids: string[] } }>(await overview('staff', { email: DEMO.emails.erin }));
    expect(staff.customer.customer_ids).toEqual([DEMO.customers.erin]);
    expect(errorText(await overview('unverified'))).toMatch(/not been verified/);
  });
});
