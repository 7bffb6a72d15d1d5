import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { callOnce, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

interface Method {
  type: string;
  description: string;
}
interface Account {
  customer_id: string;
  name?: string;
  email?: string;
  country?: string;
  tax_status?: string;
  default_payment_method: Method;
  subscriptions: Array<{ id: string; plan: string; status: string; payment_method: Method; payment_method_source: string }>;
}
interface Result {
  billing_accounts: Account[];
  summary: string;
}

const billingOf = (who: Who, args: Record<string, unknown> = {}) => callOnce<Result>(who, 'get_billing_info', args);

describe('get_billing_info', () => {
  it('shows name, email and the masked card each subscription is charged to', async () => {
    expect(await billingOf({ customer: DEMO.emails.erin })).toMatchInlineSnapshot(`
      {
        "billing_accounts": [
          {
            "customer_id": "cus_DemoErin",
            "default_payment_method": {
              "brand": "jcb",
              "description": "JCB ending in 0505, expires 11/2029",
              "exp": "11/2029",
              "last4": "0505",
              "type": "card",
            },
            "email": "erin@example.jp",
            "name": "Erin Tanaka",
            "subscriptions": [
              {
                "id": "sub_DemoErinJpy",
                "payment_method": {
                  "brand": "jcb",
                  "description": "JCB ending in 0505, expires 11/2029",
                  "exp": "11/2029",
                  "last4": "0505",
                  "type": "card",
                },
                "payment_method_source": "account default",
                "plan": "Pro (Japan)",
                "status": "active",
              },
            ],
          },
        ],
        "summary": "1 billing account.",
      }
    `);
  });

  it('says "no default payment method" instead of null (bob, on a trial without a card)', async () => {
    const result = await billingOf({ customer: DEMO.emails.bob });
    expect(result.summary).toBe('No default payment method on file.');
    expect(result.billing_accounts[0]!.default_payment_method).toEqual({ type: 'none', description: 'No default payment method.' });
    expect(result.billing_accounts[0]!.subscriptions[0]).toMatchObject({ id: DEMO.subscriptions.bob, status: 'trialing', payment_method: { type: 'none' } });
    expect(JSON.stringify(result)).not.toContain('null');
  });

  it("covers both of one person's records and follows Stripe's precedence (subscription method first)", async () => {
    const store = stripe.fake().store;
    const visa = store.paymentMethods.get(DEMO.paymentMethods.aliceVisa)!;
    store.paymentMethods.set('pm_DemoAliceMc', { ...visa, id: 'pm_DemoAliceMc', card: { ...visa.card!, brand: 'mastercard', last4: '5454', fingerprint: 'DemoFpAliceMc' } });
    const sub = store.subscriptions.get(DEMO.subscriptions.alice)!;
    store.subscriptions.set(sub.id, { ...sub, default_payment_method: 'pm_DemoAliceMc' });

    const result = await billingOf({ customer: DEMO.emails.alice });
    expect(result.billing_accounts.map((account) => account.customer_id)).toEqual([DEMO.customers.alice, DEMO.customers.aliceUppercase]);
    const [alice, aliceUpper] = result.billing_accounts;
    expect(alice!.default_payment_method.description).toBe('Visa ending in 4242, expires 12/2030');
    expect(alice!.subscriptions).toEqual([
      {
        id: DEMO.subscriptions.alice,
        plan: 'Pro',
        status: 'active',
        payment_method: expect.objectContaining({ brand: 'mastercard', last4: '5454' }),
        payment_method_source: 'subscription',
      },
    ]);
    // The old record's subscription is canceled: it is not listed, and it has no card.
    expect(aliceUpper).toMatchObject({ default_payment_method: { type: 'none' }, subscriptions: [] });
  });

  it('shows a legacy card source (default_source, no payment methods) masked: brand, last4 and expiry only', async () => {
    const result = await billingOf({ customer: DEMO.emails.heidi });
    expect(result).toMatchInlineSnapshot(`
      {
        "billing_accounts": [
          {
            "customer_id": "cus_DemoHeidi",
            "default_payment_method": {
              "brand": "visa",
              "description": "Visa ending in 1117, expires 07/2028",
              "exp": "07/2028",
              "last4": "1117",
              "type": "card",
            },
            "email": "heidi@example.com",
            "name": "Heidi Legacy",
            "subscriptions": [
              {
                "id": "sub_DemoHeidiStarter",
                "payment_method": {
                  "brand": "visa",
                  "description": "Visa ending in 1117, expires 07/2028",
                  "exp": "07/2028",
                  "last4": "1117",
                  "type": "card",
                },
                "payment_method_source": "account default",
                "plan": "Starter",
                "status": "active",
              },
            ],
          },
        ],
        "summary": "1 billing account.",
      }
    `);
    const text = JSON.stringify(result);
    for (const secret of ['DemoFpHeidiLegacyVisa', 'fingerprint', 'cvc', 'funding', DEMO.sources.heidiVisa]) expect(text).not.toContain(secret);
  });

  it('shows the country only, and a tax exemption in words', async () => {
    const store = stripe.fake().store;
    const alice = store.liveCustomer(DEMO.customers.alice)!;
    store.customers.set(alice.id, {
      ...alice,
      tax_exempt: 'exempt',
      address: { line1: '1 Hidden Lane', line2: 'Flat 9', city: 'Springfield', state: 'OR', postal_code: '97477', country: 'US' },
    });
    const [account] = (await billingOf({ customer: DEMO.emails.alice })).billing_accounts;
    expect(account).toMatchObject({ country: 'US', tax_status: 'Tax exempt.' });
    const text = JSON.stringify(account);
    for (const hidden of ['Hidden Lane', 'Flat 9', 'Springfield', '97477', '"OR"']) expect(text).not.toContain(hidden);
  });

  it('never leaks the fingerprint, metadata, phone or other customers', async () => {
    const result = JSON.stringify(await billingOf({ customer: DEMO.emails.alice }));
    for (const secret of [
      DEMO.secrets.aliceCardFingerprint,
      'fingerprint',
      'crm_note',
      DEMO.secrets.aliceMetadata.crm_note!,
      'enterprise-trial-upsell',
      '+15555550101',
      DEMO.emails.aliceWork,
      DEMO.emails.bobAlice,
      DEMO.customers.aliceWork,
      'Alice Worker',
    ]) {
      expect(result).not.toContain(secret);
    }
  });

  it('lets staff choose by email (all records) or customer_id (one record)', async () => {
    const byEmail = await billingOf('staff', { email: 'ALICE@example.com' });
    expect(byEmail.billing_accounts).toHaveLength(2);
    const byId = await billingOf('staff', { customer_id: DEMO.customers.carol });
    expect(byId.billing_accounts).toEqual([
      expect.objectContaining({
        customer_id: DEMO.customers.carol,
        email: DEMO.emails.carol,
        default_payment_method: expect.objectContaining({ description: 'Mastercard ending in 4444, expires 03/2027' }),
        subscriptions: [expect.objectContaining({ status: 'past_due', payment_method_source: 'account default' })],
      }),
    ]);
  });
});
