/**
 * cancel_subscription with the merchant's offer to stay (CANCEL_RETENTION_COUPON) and what
 * confirming does per the portal configuration: the flow Stripe receives (the fake checks it as
 * Stripe does, so a wrong shape fails the call) and the words the customer is given.
 */
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { errorText, structured, TEST_STRIPE_KEY } from '../support/mcp-harness.js';
import { flowOf, portalTool } from '../support/portal-tools.js';

const stripe = useFakeStripe({ now: 1_790_000_000 });
const RETENTION = { CANCEL_RETENTION_COUPON: DEMO.coupons.retention };

interface Answer {
  outcome: string;
  url?: string;
  note: string;
  summary: string;
  retention_offer?: string;
}

const { call, portalPosts, sessions } = portalTool('cancel_subscription', stripe);
const cancelFeature = () => stripe.fake().store.portalConfigurations.get(DEMO.portalConfiguration)!.features.subscription_cancel;

describe('cancel_subscription: the offer to stay', () => {
  it('sends the retention coupon in the cancel flow and says what the offer is', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, {}, RETENTION));
    expect(portalPosts().map((r) => r.params.flow_data)).toEqual([
      {
        type: 'subscription_cancel',
        subscription_cancel: { subscription: DEMO.subscriptions.alice, retention: { type: 'coupon_offer', coupon_offer: { coupon: DEMO.coupons.retention } } },
        after_completion: { type: 'portal_homepage' },
      },
    ]);
    // The session Stripe made carries the offer (the fake refuses an unknown coupon or a bad shape).
    expect(sessions().map((s) => s.flow?.subscription_cancel)).toEqual([
      { subscription: DEMO.subscriptions.alice, retention: { type: 'coupon_offer', coupon_offer: { coupon: DEMO.coupons.retention } } },
    ]);
    expect(answer.outcome).toBe('link_created');
    expect(answer.retention_offer).toBe('25% off for 3 months');
    expect(answer.note).toContain('the portal offers them 25% off for 3 months to stay');
    expect(answer.summary).toMatch(/offer to stay/);
  });

  it('without CANCEL_RETENTION_COUPON no offer is sent or mentioned', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }));
    expect(portalPosts().map((r) => flowOf(r).subscription_cancel)).toEqual([{ subscription: DEMO.subscriptions.alice }]);
    expect(sessions()[0]!.flow?.subscription_cancel?.retention).toBeNull();
    expect(answer.retention_offer).toBeUndefined();
    expect(answer.note).not.toMatch(/offer/);
  });

  it('describes an amount-off coupon in its currency and quotes the merchant’s name for it as data', async () => {
    const coupon = stripe.fake().store.coupons.get(DEMO.coupons.retention)!;
    Object.assign(coupon, { percent_off: null, amount_off: 1000, currency: 'usd', duration: 'once', duration_in_months: null, name: 'Stay "with" us' });
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, {}, RETENTION));
    expect(answer.retention_offer).toBe(`$10.00 off the next invoice (the merchant calls it ${JSON.stringify('Stay "with" us')})`);
  });

  it('a coupon that no longer exists or is no longer valid leaves the offer out, and the link still works', async () => {
    // Expired: Stripe marks a coupon past its redeem_by (or fully redeemed) valid: false.
    stripe.fake().store.coupons.get(DEMO.coupons.expired10)!.valid = false;
    for (const env of [{ CANCEL_RETENTION_COUPON: 'DEMO_GONE' }, { CANCEL_RETENTION_COUPON: DEMO.coupons.expired10 }]) {
      const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, {}, env));
      expect(answer.outcome).toBe('link_created');
      expect(answer.retention_offer).toBeUndefined();
    }
    expect(portalPosts().map((r) => flowOf(r).subscription_cancel)).toEqual([
      { subscription: DEMO.subscriptions.alice },
      { subscription: DEMO.subscriptions.alice },
    ]);
  });

  it('a key that cannot read coupons still sends the offer, undescribed, saying the portal shows its terms', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_coupon_read']);
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, {}, RETENTION));
    expect(sessions()[0]!.flow?.subscription_cancel?.retention?.coupon_offer?.coupon).toBe(DEMO.coupons.retention);
    expect(answer.retention_offer).toBe('a discount (the portal shows its terms)');
    expect(answer.note).toContain('the portal offers them a discount (the portal shows its terms) to stay');
  });

  it('an offer Stripe refuses (the coupon is gone and could not be checked) falls back to the plain cancel link', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_coupon_read']);
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }, {}, { CANCEL_RETENTION_COUPON: 'DEMO_GONE' }));
    expect(answer.outcome).toBe('link_created');
    expect(answer.retention_offer).toBeUndefined();
    expect(portalPosts().map((r) => [r.status >= 400, flowOf(r).subscription_cancel?.retention?.coupon_offer?.coupon])).toEqual([
      [true, 'DEMO_GONE'],
      [false, undefined],
    ]);
  });

  it("another customer's subscription is refused like an unknown one, offer or not", async () => {
    const other = errorText(await call({ customer: DEMO.emails.alice }, { subscription_id: DEMO.subscriptions.ivan }, RETENTION));
    const missing = errorText(await call({ customer: DEMO.emails.alice }, { subscription_id: 'sub_DoesNotExist' }, RETENTION));
    expect(other).toBe(missing);
    expect(portalPosts()).toEqual([]);
  });
});

describe('cancel_subscription: what confirming does, per the portal configuration', () => {
  it('at period end: active until the paid period ends, nothing refunded', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }));
    expect(answer.note).toContain('stays active until the end of the period already paid for (2026-10-11) and then ends');
    expect(answer.note).toContain('nothing is refunded');
  });

  it('a key that cannot read the portal configuration says the portal shows the timing', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_billing_portal_configuration_read']);
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }));
    expect(answer.note).toContain('the portal shows which before the customer confirms. The current period runs until 2026-10-11.');
  });

  it('immediately, without prorations: ends at once with no refund or credit', async () => {
    cancelFeature().mode = 'immediately';
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }));
    expect(answer.note).toContain('ends at once, with no refund or credit for the unused part');
  });

  it('immediately, with prorations: ends at once and the unused time becomes account credit, not a card refund', async () => {
    Object.assign(cancelFeature(), { mode: 'immediately', proration_behavior: 'create_prorations' });
    const answer = structured<Answer>(await call({ customer: DEMO.emails.alice }));
    expect(answer.note).toContain('ends at once, and the unused part of the period already paid for becomes a credit on their account');
    expect(answer.note).toContain('not a refund to the card');
  });

  it('a past-due customer (ivan) gets the cancel flow with the offer too', async () => {
    const answer = structured<Answer>(await call({ customer: DEMO.emails.ivan }, {}, RETENTION));
    expect(answer.url).toMatch(new RegExp(`/flow/subscription_cancel/${DEMO.subscriptions.ivan}$`));
    expect(sessions()[0]!.flow?.subscription_cancel?.retention?.coupon_offer?.coupon).toBe(DEMO.coupons.retention);
  });
});
