import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { connectClient, errorText, structured, type Who } from '../support/mcp-harness.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });

async function call(who: Who, args: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const session = await connectClient(who, { env });
  try {
    return await session.call('cancel_subscription', args);
  } finally {
    await session.close();
  }
}

const portalPosts = () => stripe.fake().requests.filter((r) => r.method === 'POST' && r.path === '/v1/billing_portal/sessions');

/** Cancellation is the customer's act in the portal: we never call Stripe's cancel or update endpoints. */
function expectNothingCanceled() {
  const writes = stripe.fake().requests.filter((r) => r.method === 'DELETE' || (r.method === 'POST' && r.path.startsWith('/v1/subscriptions')));
  expect(writes).toEqual([]);
}

describe('cancel_subscription', () => {
  it('creates a portal deep link to the cancel flow, redirecting back when a return URL is set', async () => {
    const result = structured(await call({ customer: DEMO.emails.alice }, {}, { PORTAL_RETURN_URL: 'https://app.example.com/account' }));
    expect(result).toMatchInlineSnapshot(`
      {
        "note": "Nothing has been canceled yet: the customer confirms on this page. If they confirm, the subscription stays active until the end of the period already paid for (2026-10-11) and then ends: nothing more is charged, and nothing is refunded for that period. This link is personal and short-lived: give it only to this customer, do not share or store it elsewhere, and create a new one if it has expired.",
        "outcome": "link_created",
        "subscription": {
          "id": "sub_DemoAlicePro",
          "plan": "Pro",
          "status": "active",
        },
        "summary": "Cancellation link created for \"Pro\".",
        "url": "https://billing.stripe.com/p/session/test_Fake000001tlpwu8/flow/subscription_cancel/sub_DemoAlicePro",
      }
    `);
    expect(portalPosts().map((r) => r.params)).toEqual([
      {
        customer: DEMO.customers.alice,
        return_url: 'https://app.example.com/account',
        flow_data: {
          type: 'subscription_cancel',
          subscription_cancel: { subscription: DEMO.subscriptions.alice },
          after_completion: { type: 'redirect', redirect: { return_url: 'https://app.example.com/account' } },
        },
      },
    ]);
    expect(stripe.fake().store.subscriptions.get(DEMO.subscriptions.alice)!.status).toBe('active');
    expectNothingCanceled();
  });

  it('goes back to the portal’s home after cancelling when no return URL is configured', async () => {
    structured(await call({ customer: DEMO.emails.carol }));
    expect(portalPosts().map((r) => r.params)).toEqual([
      {
        customer: DEMO.customers.carol,
        flow_data: { type: 'subscription_cancel', subscription_cancel: { subscription: DEMO.subscriptions.carol }, after_completion: { type: 'portal_homepage' } },
      },
    ]);
  });

  it('says a subscription already set to cancel is scheduled, instead of a link', async () => {
    const result = structured<{ outcome: string; note: string; url?: string }>(await call({ customer: DEMO.emails.dave }));
    expect(result.outcome).toBe('already_scheduled');
    expect(result.url).toBeUndefined();
    expect(result.note).toMatch(/already set to end on 2026-12-30/);
    expect(portalPosts()).toEqual([]);
  });

  it('says an ended subscription is already canceled when its id is given', async () => {
    const result = structured<{ outcome: string }>(await call({ customer: DEMO.emails.alice }, { subscription_id: DEMO.subscriptions.aliceUppercaseCanceled }));
    expect(result.outcome).toBe('already_canceled');
    expect(portalPosts()).toEqual([]);
  });

  it("answers another customer's subscription id exactly like a nonexistent one", async () => {
    const other = errorText(await call({ customer: DEMO.emails.alice }, { subscription_id: DEMO.subscriptions.carol }));
    const missing = errorText(await call({ customer: DEMO.emails.alice }, { subscription_id: 'sub_DoesNotExist' }));
    expect(other).toBe(missing);
    expect(other).toMatch(/No subscription with that id/);
    expect(portalPosts()).toEqual([]);
  });

  it('asks which subscription when there are several live ones, listing the plans', async () => {
    const { store } = stripe.fake();
    store.subscriptions.get(DEMO.subscriptions.aliceUppercaseCanceled)!.status = 'active';
    const text = errorText(await call({ customer: DEMO.emails.alice }));
    expect(text).toMatch(/2 current subscriptions/);
    expect(text).toContain(`"Pro" (${DEMO.subscriptions.alice}, active)`);
    expect(text).toContain(`"Starter" (${DEMO.subscriptions.aliceUppercaseCanceled}, active)`);
    expect(portalPosts()).toEqual([]);

    structured(await call({ customer: DEMO.emails.alice }, { subscription_id: DEMO.subscriptions.aliceUppercaseCanceled }));
    // The session is for the record that owns the chosen subscription.
    expect(portalPosts().map((r) => r.params.customer)).toEqual([DEMO.customers.aliceUppercase]);
  });

  it('gives a safe set-up message when there is no portal configuration', async () => {
    stripe.fake().setPortalConfigured(false);
    const text = errorText(await call({ customer: DEMO.emails.alice }));
    expect(text).toMatch(/billing portal is not set up/);
    expect(text).not.toMatch(/dashboard\.stripe\.com|No configuration provided/);
    expectNothingCanceled();
  });

  it('gives a safe message when the portal configuration has cancellation switched off', async () => {
    const configuration = stripe.fake().store.portalConfigurations.get(DEMO.portalConfiguration)!;
    configuration.features.subscription_cancel.enabled = false;
    const text = errorText(await call({ customer: DEMO.emails.alice }));
    expect(text).toMatch(/not set up to do this/);
    expect(text).not.toMatch(/bpc_|subscription_cancel/);
  });
});
