import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { callOnce, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

interface Payment {
  id: string;
  status: string;
  amount: { amount: number; formatted: string };
  payment_method?: { description: string };
  failure_reason?: string;
  refund?: string;
  amount_refunded?: { formatted: string };
  receipt_url?: string;
  receipt_note?: string;
}
interface Result {
  payments: Payment[];
  more_available: boolean;
  summary: string;
}

const paymentsOf = (who: Who, args: Record<string, unknown> = {}) => callOnce<Result>(who, 'get_payment_history', args);

describe('get_payment_history', () => {
  it('shows a JPY payment in whole yen with only the masked card', async () => {
    expect(await paymentsOf({ customer: DEMO.emails.erin }, { limit: 1 })).toMatchInlineSnapshot(`
      {
        "more_available": true,
        "payments": [
          {
            "amount": {
              "amount": 2000,
              "currency": "jpy",
              "formatted": "¥2,000",
            },
            "date": "2026-09-01T15:13:20.000Z",
            "description": "Subscription update",
            "id": "ch_DemoErin0002",
            "payment_method": {
              "brand": "jcb",
              "description": "JCB ending in 0505, expires 11/2029",
              "exp": "11/2029",
              "last4": "0505",
              "type": "card",
            },
            "receipt_url": "https://pay.stripe.com/receipts/payment/test_DemoErin0002",
            "status": "succeeded",
          },
        ],
        "summary": "1 payment, newest first.",
      }
    `);
  });

  it("merges all of one person's records, newest first, and explains failures and refunds", async () => {
    // A payment on the older uppercase record must show up too.
    const older = structuredClone(stripe.fake().store.charges.get(DEMO.charges.alicePaid[0])!);
    stripe.fake().store.charges.set('ch_DemoAliceUpperPaid', { ...older, id: 'ch_DemoAliceUpperPaid', customer: DEMO.customers.aliceUppercase, created: 1_700_000_000 });
    const result = await paymentsOf({ customer: DEMO.emails.alice });
    expect(result.payments.map((payment) => payment.id)).toEqual([
      DEMO.charges.alicePaid[2],
      DEMO.charges.alicePaid[1],
      DEMO.charges.aliceFailed,
      DEMO.charges.alicePaid[0],
      DEMO.charges.aliceRefunded,
      'ch_DemoAliceUpperPaid',
    ]);
    expect(result.summary).toBe('6 payments, newest first (1 failed, 1 refunded).');

    const failed = result.payments.find((payment) => payment.id === DEMO.charges.aliceFailed)!;
    expect(failed).toMatchObject({ status: 'failed', receipt_note: 'No receipt link for this payment.' });
    expect(failed.failure_reason).toMatch(/^"Your card was declined\."/);
    expect(failed).not.toHaveProperty('receipt_url');

    const refunded = result.payments.find((payment) => payment.id === DEMO.charges.aliceRefunded)!;
    expect(refunded).toMatchObject({ refund: 'Fully refunded.', amount_refunded: { formatted: '$99.00' } });
  });

  it('says a partial refund is partial, and a pending payment has no failure reason', async () => {
    const store = stripe.fake().store;
    const paid = store.charges.get(DEMO.charges.alicePaid[2])!;
    store.charges.set(paid.id, { ...paid, amount_refunded: 1000, refunded: false });
    const first = store.charges.get(DEMO.charges.alicePaid[1])!;
    store.charges.set(first.id, { ...first, status: 'pending', receipt_url: null });
    const result = await paymentsOf({ customer: DEMO.emails.alice }, { limit: 2 });
    expect(result.payments[0]).toMatchObject({ refund: 'Partly refunded.', amount_refunded: { formatted: '$10.00' } });
    expect(result.payments[1]).toMatchObject({ status: 'pending', receipt_note: 'No receipt link for this payment.' });
    expect(result.payments[1]).not.toHaveProperty('failure_reason');
    expect(result.more_available).toBe(true);
  });

  it('gives customers the customer-facing decline message, never the merchant-facing one', async () => {
    const customerView = await paymentsOf({ customer: DEMO.emails.carol });
    const reason = customerView.payments.find((payment) => payment.status === 'failed')!.failure_reason!;
    expect(reason).toMatch(/^"Your card has insufficient funds\."/);
    expect(reason).not.toMatch(/bank did not return/);
    expect(JSON.stringify(customerView)).not.toMatch(/card_declined|insufficient_funds|issuer_declined/);
  });

  it('never leaks the fingerprint, card country, network data, metadata or other emails', async () => {
    const store = stripe.fake().store;
    const charge = store.charges.get(DEMO.charges.alicePaid[2])!;
    const card = charge.payment_method_details!.card!;
    store.charges.set(charge.id, {
      ...charge,
      metadata: { order_note: 'SECRET-ORDER-NOTE' },
      payment_method_details: { type: 'card', card: { ...card, iin: '424242', network_transaction_id: 'NTID-SECRET-1', issuer: 'Secret Bank' } as Stripe.Charge.PaymentMethodDetails.Card },
    });
    const result = JSON.stringify(await paymentsOf({ customer: DEMO.emails.alice }, { limit: 24 }));
    for (const secret of [DEMO.secrets.aliceCardFingerprint, 'fingerprint', 'SECRET-ORDER-NOTE', '424242', 'NTID-SECRET-1', 'Secret Bank', '"US"', 'funding', DEMO.emails.alice, DEMO.emails.aliceWork, DEMO.emails.bobAlice]) {
      expect(result).not.toContain(secret);
    }
    expect(result).toContain('Visa ending in 4242, expires 12/2030');
  });

  it('lets staff choose by email or customer_id, and shows staff the seller message', async () => {
    const byEmail = await paymentsOf('staff', { email: DEMO.emails.carol });
    expect(byEmail.payments.map((payment) => payment.id)).toContain(DEMO.charges.carolFailed);
    expect(byEmail.payments.find((payment) => payment.status === 'failed')!.failure_reason).toMatch(/bank did not return any further details/);
    const byId = await paymentsOf('staff', { customer_id: DEMO.customers.aliceWork });
    expect(byId.payments.map((payment) => payment.id)).toEqual(['ch_DemoAliceWork0001']);
    expect(byId.payments[0]!.payment_method!.description).toBe('American Express ending in 8431, expires 06/2029');
  });

  it('answers no payments plainly', async () => {
    expect(await paymentsOf({ customer: DEMO.emails.bob })).toEqual({ payments: [], more_available: false, summary: 'No payments found.' });
  });
});
