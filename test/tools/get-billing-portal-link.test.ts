import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { connectClient, errorText, structured, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

async function call(who: Who, args: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const session = await connectClient(who, { env });
  try {
    return await session.call('get_billing_portal_link', args);
  } finally {
    await session.close();
  }
}

const portalPosts = () => stripe.fake().requests.filter((r) => r.method === 'POST' && r.path === '/v1/billing_portal/sessions');

describe('get_billing_portal_link', () => {
  it('creates a session for the record with the live subscription and passes the configured options', async () => {
    const result = structured(
      await call({ customer: DEMO.emails.alice }, {}, { PORTAL_RETURN_URL: 'https://app.example.com/account', PORTAL_CONFIGURATION: DEMO.portalConfiguration }),
    );
    expect(result).toMatchInlineSnapshot(`
      {
        "created": "2026-09-21T14:13:20.000Z",
        "note": "This link is personal and short-lived: give it only to this customer, do not share or store it elsewhere, and create a new one if it has expired.",
        "opens": "home",
        "summary": "Billing portal link created.",
        "url": "https://billing.stripe.com/p/session/test_Fake000001tlpwu8",
      }
    `);
    // alice has two records; the portal opens on the one with the live Pro subscription.
    expect(portalPosts().map((r) => r.params)).toEqual([
      { customer: DEMO.customers.alice, return_url: 'https://app.example.com/account', configuration: DEMO.portalConfiguration },
    ]);
  });

  it('prefers an older record that has the live subscription over the newest record', async () => {
    const { store } = stripe.fake();
    store.subscriptions.get(DEMO.subscriptions.alice)!.status = 'canceled';
    store.subscriptions.get(DEMO.subscriptions.aliceUppercaseCanceled)!.status = 'active';
    structured(await call({ customer: DEMO.emails.alice }));
    expect(portalPosts().map((r) => r.params.customer)).toEqual([DEMO.customers.aliceUppercase]);
  });

  it('treats a PORTAL_CONFIGURATION that does not exist as the same set-up problem', async () => {
    const text = errorText(await call({ customer: DEMO.emails.alice }, {}, { PORTAL_CONFIGURATION: 'bpc_Missing' }));
    expect(text).toMatch(/billing portal is not set up/);
    expect(text).not.toMatch(/bpc_Missing/);
  });

  it('sends no return_url or configuration when none are set', async () => {
    structured(await call({ customer: DEMO.emails.carol }));
    expect(portalPosts().map((r) => r.params)).toEqual([{ customer: DEMO.customers.carol }]);
  });

  it('says the portal is not set up, without Stripe’s text, when the account has no portal configuration', async () => {
    stripe.fake().setPortalConfigured(false);
    const text = errorText(await call({ customer: DEMO.emails.alice }));
    expect(text).toMatch(/billing portal is not set up/);
    expect(text).not.toMatch(/dashboard\.stripe\.com|No configuration provided|bpc_/);
  });

  it('staff may pin the exact record with customer_id', async () => {
    structured(await call('staff', { customer_id: DEMO.customers.aliceUppercase }));
    expect(portalPosts().map((r) => r.params.customer)).toEqual([DEMO.customers.aliceUppercase]);
  });

  it('needs a verified customer', async () => {
    expect(errorText(await call('unverified'))).toMatch(/not been verified/);
    expect(portalPosts()).toEqual([]);
  });
});
