/**
 * The fake's plan change (POST /v1/subscriptions/:id with items): billed as its preview of the
 * same change says, so request_plan_change's "charge what was previewed" is tested against
 * Stripe's behaviour and not the fake's whims.
 */
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../src/demo/fake-stripe/index.js';
import { useFakeStripe } from './support/fake-stripe-msw.js';
import { TEST_STRIPE_KEY } from './support/mcp-harness.js';

const NOW = 1_790_000_000;
const stripe = useFakeStripe({ now: NOW });
const sdk = () => new Stripe(TEST_STRIPE_KEY, { maxNetworkRetries: 0 });
const store = () => stripe.fake().store;
const SUB = DEMO.subscriptions.alice;

describe('fake Stripe: subscription update with items', () => {
  it('always_invoice: changes the item and makes and charges an invoice of the amount the preview gave', async () => {
    const item = store().subscriptions.get(SUB)!.items.data[0]!.id;
    const details = { items: [{ id: item, price: DEMO.prices.teamMonthly, quantity: 1 }], proration_behavior: 'always_invoice' as const, proration_date: NOW - 60 };
    const preview = await sdk().invoices.createPreview({ customer: DEMO.customers.alice, subscription: SUB, subscription_details: details });
    expect(preview.amount_due).toBeGreaterThan(0);

    const updated = await sdk().subscriptions.update(SUB, details);
    expect(updated.items.data[0]!.price.id).toBe(DEMO.prices.teamMonthly);
    const invoice = await sdk().invoices.retrieve(updated.latest_invoice as string);
    expect(invoice.billing_reason).toBe('subscription_update');
    expect(invoice.amount_due).toBe(preview.amount_due);
    expect(invoice.status).toBe('paid');
    expect(invoice.amount_paid).toBe(preview.amount_due);
  });

  it('create_prorations: changes the item and bills nothing now', async () => {
    const before = store().subscriptions.get(SUB)!.latest_invoice;
    const item = store().subscriptions.get(SUB)!.items.data[0]!.id;
    const updated = await sdk().subscriptions.update(SUB, { items: [{ id: item, price: DEMO.prices.teamMonthly }], proration_behavior: 'create_prorations' });
    expect(updated.items.data[0]!.price.id).toBe(DEMO.prices.teamMonthly);
    expect(updated.latest_invoice).toBe(before);
  });

  it('refuses unknown item parameters and unknown items like Stripe, changing nothing', async () => {
    const item = store().subscriptions.get(SUB)!.items.data[0]!.id;
    await expect(sdk().subscriptions.update(SUB, { items: [{ id: item, price: DEMO.prices.teamMonthly, bogus: 1 } as Stripe.SubscriptionUpdateParams.Item] })).rejects.toMatchObject({ statusCode: 400 });
    await expect(sdk().subscriptions.update(SUB, { items: [{ id: 'si_missing', price: DEMO.prices.teamMonthly }] })).rejects.toMatchObject({ statusCode: 400 });
    expect(store().subscriptions.get(SUB)!.items.data[0]!.price.id).toBe(DEMO.prices.proMonthly);
  });
});
