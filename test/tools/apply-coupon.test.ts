import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { ALL_TOOLS, selectTools } from '../../src/tools/registry.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { pinClock } from '../support/pin-clock.js';
import { connectClient, errorText, structured, testRuntime, type Who } from '../support/mcp-harness.js';

const NOW = 1_790_000_000;
const stripe = useFakeStripe({ now: NOW });

pinClock(NOW);

interface Result {
  outcome: string;
  code: string;
  discount: string;
  subscription: { id: string; plan: string };
  next_invoice?: { date: string; before: { formatted: string }; after: { formatted: string } };
  note: string;
}

async function apply(who: Who, args: Record<string, unknown>, env: Record<string, string> = {}) {
  const session = await connectClient(who, { env });
  try {
    return await session.call('apply_coupon', args);
  } finally {
    await session.close();
  }
}

const updates = () => stripe.fake().requests.filter((r) => r.method === 'POST' && /^\/v1\/subscriptions\/[^/]+$/.test(r.path));
const discountsOf = (subscription: string) => stripe.fake().store.subscriptions.get(subscription)!.discounts;

describe('apply_coupon', () => {
  it('applies a promotion code, keeps the existing discount, and reports the next invoice before and after', async () => {
    const result = structured<Result>(await apply({ customer: DEMO.emails.alice }, { code: ' welcome20 ' }));
    expect(result).toMatchInlineSnapshot(`
      {
        "code": "WELCOME20",
        "discount": "20% off for 3 months",
        "next_invoice": {
          "after": {
            "amount": 3520,
            "currency": "usd",
            "formatted": "$35.20",
          },
          "before": {
            "amount": 4400,
            "currency": "usd",
            "formatted": "$44.00",
          },
          "date": "2026-10-11T14:13:20.000Z",
        },
        "note": "Applied. The next invoice on 2026-10-11 goes from $44.00 to $35.20.",
        "outcome": "applied",
        "subscription": {
          "id": "sub_DemoAlicePro",
          "plan": "Pro",
        },
        "summary": "WELCOME20 applied to \"Pro\": 20% off for 3 months.",
      }
    `);
    expect(updates()).toHaveLength(1);
    expect(updates()[0]!.path).toBe(`/v1/subscriptions/${DEMO.subscriptions.alice}`);
    expect(updates()[0]!.params).toEqual({
      discounts: [{ discount: DEMO.discounts.aliceLoyal5 }, { promotion_code: DEMO.promotionCodes.WELCOME20.id }],
    });
    expect(updates()[0]!.idempotencyKey).toMatch(new RegExp(`^apply_coupon:${DEMO.subscriptions.alice}:${DEMO.promotionCodes.WELCOME20.id}:[\\w-]{16}:[\\w-]{8}$`));
    expect(discountsOf(DEMO.subscriptions.alice)).toHaveLength(2);
  });

  it('the next question in the same conversation sees the new discount, with no webhook needed', async () => {
    const session = await connectClient({ customer: DEMO.emails.alice });
    const upcoming = async () => structured<{ upcoming: Array<{ amount_due: { formatted: string } }> }>(await session.call('get_upcoming_invoice')).upcoming[0]!.amount_due.formatted;
    expect(await upcoming()).toBe('$44.00');
    expect((await session.call('apply_coupon', { code: 'WELCOME20' })).isError).toBeFalsy();
    expect(await upcoming()).toBe('$35.20');
    await session.close();
  });

  it('says a code is already applied instead of applying it again', async () => {
    structured(await apply({ customer: DEMO.emails.alice }, { code: 'WELCOME20' }));
    const again = structured<Result>(await apply({ customer: DEMO.emails.alice }, { code: 'WELCOME20' }));
    expect(again.outcome).toBe('already_applied');
    expect(updates()).toHaveLength(1);
  });

  it('applies a code again after it was removed, instead of replaying the first answer', async () => {
    expect(structured<Result>(await apply({ customer: DEMO.emails.alice }, { code: 'WELCOME20' })).outcome).toBe('applied');
    // The merchant removes the code in the dashboard; the customer asks for it again.
    const sub = stripe.fake().store.subscriptions.get(DEMO.subscriptions.alice)!;
    stripe.fake().store.subscriptions.set(sub.id, { ...sub, discounts: [DEMO.discounts.aliceLoyal5] });
    expect(structured<Result>(await apply({ customer: DEMO.emails.alice }, { code: 'WELCOME20' })).outcome).toBe('applied');
    expect(updates()).toHaveLength(2);
    expect(stripe.fake().requests.filter((r) => r.method === 'POST' && r.path === `/v1/subscriptions/${sub.id}`).map((r) => r.status)).toEqual([200, 200]);
    expect(discountsOf(DEMO.subscriptions.alice)).toHaveLength(2);
  });

  it('applies once when the same call arrives twice at the same moment (idempotency key)', async () => {
    const session = await connectClient({ customer: DEMO.emails.alice });
    try {
      await Promise.all([session.call('apply_coupon', { code: 'WELCOME20' }), session.call('apply_coupon', { code: 'WELCOME20' })]);
    } finally {
      await session.close();
    }
    expect(discountsOf(DEMO.subscriptions.alice)).toHaveLength(2);
    expect(stripe.fake().store.promotionCodes.get(DEMO.promotionCodes.WELCOME20.id)!.times_redeemed).toBe(1);
  });

  it.each([
    ['EXPIRED10', DEMO.emails.alice, /^That code has expired\.$/],
    ['FIRSTTIME', DEMO.emails.alice, /only for first-time customers/],
    ['BIGSPEND', DEMO.emails.alice, /at least \$1,000\.00; the "Pro" subscription is \$49\.00/],
    ['MAXED', DEMO.emails.alice, /maximum number of times/],
    ['INACTIVE', DEMO.emails.alice, /isn't valid/],
    ['NOSUCHCODE', DEMO.emails.alice, /isn't valid/],
    ['ALICEONLY', DEMO.emails.frank, /isn't valid/],
  ])('refuses %s with a specific, safe reason and changes nothing', async (code, email, reason) => {
    const text = errorText(await apply({ customer: email }, { code }));
    expect(text).toMatch(reason);
    expect(text).not.toMatch(/promo_|cus_|DEMO_/);
    expect(updates()).toEqual([]);
  });

  it("gives a code restricted to another customer the same answer as an unknown code", async () => {
    const restricted = errorText(await apply({ customer: DEMO.emails.frank }, { code: 'ALICEONLY' }));
    const unknown = errorText(await apply({ customer: DEMO.emails.frank }, { code: 'NOSUCHCODE' }));
    expect(restricted).toBe(unknown);
  });

  it('lets the customer a code is restricted to use it', async () => {
    const result = structured<Result>(await apply({ customer: DEMO.emails.alice }, { code: 'ALICEONLY' }));
    expect(result.outcome).toBe('applied');
    expect(result.discount).toBe('15% off the next invoice');
  });

  it('accepts a first-time code from a customer who has not paid yet', async () => {
    const result = structured<Result>(await apply({ customer: DEMO.emails.bob }, { code: 'FIRSTTIME' }));
    expect(result.outcome).toBe('applied');
    expect(updates()[0]!.params).toEqual({ discounts: [{ promotion_code: DEMO.promotionCodes.FIRSTTIME.id }] });
  });

  it('accepts a raw coupon id only when COUPON_ALLOWLIST names it', async () => {
    expect(errorText(await apply({ customer: DEMO.emails.frank }, { code: DEMO.coupons.welcome20 }))).toMatch(/isn't valid/);
    expect(updates()).toEqual([]);

    const result = structured<Result>(await apply({ customer: DEMO.emails.frank }, { code: DEMO.coupons.welcome20 }, { COUPON_ALLOWLIST: DEMO.coupons.welcome20 }));
    expect(result.outcome).toBe('applied');
    expect(result.discount).toBe('20% off for 3 months');
    expect(updates().map((r) => r.params)).toEqual([{ discounts: [{ coupon: DEMO.coupons.welcome20 }] }]);
  });

  it("answers another customer's subscription id exactly like a nonexistent one", async () => {
    const other = errorText(await apply({ customer: DEMO.emails.alice }, { code: 'WELCOME20', subscription_id: DEMO.subscriptions.frank }));
    const missing = errorText(await apply({ customer: DEMO.emails.alice }, { code: 'WELCOME20', subscription_id: 'sub_DoesNotExist' }));
    expect(other).toBe(missing);
    expect(updates()).toEqual([]);
  });

  it('stops looking codes up after five that did not work, per customer and per conversation', async () => {
    const runtime = testRuntime({ WRITE_TOOLS: 'all' });
    const session = await connectClient({ customer: DEMO.emails.alice }, { runtime, conversation: 'guessing' });
    const lookups = () => stripe.fake().requests.filter((r) => r.path === '/v1/promotion_codes').length;
    for (const guess of ['GUESS1', 'GUESS2', 'EXPIRED10', 'GUESS3', 'MAXED']) expect((await session.call('apply_coupon', { code: guess })).isError).toBe(true);
    const before = lookups();
    // Even a valid code is now refused, without asking Stripe, so guesses teach nothing.
    const refused = await session.call('apply_coupon', { code: 'WELCOME20' });
    expect(errorText(refused)).toMatch(/Too many codes were tried/);
    expect(lookups()).toBe(before);
    expect(updates()).toHaveLength(0);
    await session.close();
    // Another conversation of the same customer is held back as well.
    const other = await connectClient({ customer: DEMO.emails.alice }, { runtime, conversation: 'another-chat' });
    expect(errorText(await other.call('apply_coupon', { code: 'WELCOME20' }))).toMatch(/Too many codes/);
    await other.close();
    // So is another customer in the guessing conversation; another customer elsewhere is not.
    const sameChat = await connectClient({ customer: DEMO.emails.carol }, { runtime, conversation: 'guessing' });
    expect(errorText(await sameChat.call('apply_coupon', { code: 'WELCOME20' }))).toMatch(/Too many codes/);
    await sameChat.close();
    const elsewhere = await connectClient({ customer: DEMO.emails.carol }, { runtime, conversation: 'carol-chat' });
    expect(errorText(await elsewhere.call('apply_coupon', { code: 'NOSUCHCODE' }))).toMatch(/isn't valid/);
    await elsewhere.close();
  });

  it('counts guesses sent in parallel: at most five are looked up', async () => {
    const session = await connectClient({ customer: DEMO.emails.alice }, { conversation: 'parallel-guesses' });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => session.call('apply_coupon', { code: `GUESS${i}` })));
    await session.close();
    expect(results.every((result) => result.isError)).toBe(true);
    expect(stripe.fake().requests.filter((r) => r.path === '/v1/promotion_codes').length).toBeLessThanOrEqual(5);
  });

  it('rejects codes with characters no code has', async () => {
    expect(errorText(await apply({ customer: DEMO.emails.alice }, { code: 'WELCOME 20' }))).toMatch(/Invalid arguments/);
    expect(errorText(await apply({ customer: DEMO.emails.alice }, { code: 'x'.repeat(65) }))).toMatch(/Invalid arguments/);
  });

  it('is not listed unless WRITE_TOOLS enables it', async () => {
    const session = await connectClient({ customer: DEMO.emails.alice }, { tools: selectTools({ allowlist: [], writeTools: [] }, ALL_TOOLS) });
    try {
      const names = (await session.client.listTools()).tools.map((tool) => tool.name);
      expect(names).not.toContain('apply_coupon');
      expect(names).not.toContain('resend_invoice');
      expect(names).toEqual(expect.arrayContaining(['get_billing_portal_link', 'cancel_subscription', 'get_customer_overview']));
    } finally {
      await session.close();
    }
    const enabled = selectTools({ allowlist: [], writeTools: ['apply_coupon'] }, ALL_TOOLS).map((tool) => tool.name);
    expect(enabled).toContain('apply_coupon');
    expect(enabled).not.toContain('resend_invoice');
  });
});
