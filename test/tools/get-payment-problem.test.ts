/**
 * get_payment_problem: why a payment failed, in our words from the decline-code table (never the
 * issuer's text to a customer), how much is due, when Stripe retries, and a portal link opened on
 * updating the card. (The panel's "Needs attention" box and /v1/insight: get-payment-problem-surfaces.test.ts.)
 *
 * The demo's past-due customer is carol (a past_due Starter subscription, its open invoice tried
 * twice, a failed charge). Other failures are made per test in `fake.store`.
 */
import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { DECLINE_REASONS } from '../../src/stripe/decline-reasons.js';
import { useFakeStripe } from '../support/fake-stripe-msw.js';
import { connectClient, structured, TEST_STRIPE_KEY, type Who } from '../support/mcp-harness.js';
import { pinClock } from '../support/pin-clock.js';

const NOW = 1_790_000_000;
const DAY = 86_400;
const stripe = useFakeStripe({ now: NOW });
pinClock(NOW);

interface Problem {
  kind: string;
  what: string;
  subscription?: { id: string; plan: string; status: string };
  invoice?: { id: string; number?: string };
  failed_at?: string;
  attempts?: number;
  amount_due?: { amount: number; currency: string; formatted: string };
  next_retry_at?: string;
  retry_note: string;
  reason_code: string;
  reason: string;
  what_to_do: string;
  pay_url?: string;
  portal_url?: string;
  seller_message?: string;
  risk_level?: string;
}
interface Result {
  problems: Problem[];
  portal_note?: string;
  notices?: string[];
  summary: string;
}

const ISSUER_TEXT = 'ISSUER-TEXT Your card was reported stolen, call 555-0100';
const SELLER_TEXT = 'SELLER-TEXT The bank flagged this as fraud';

async function call(who: Who, args: Record<string, unknown> = {}, env: Record<string, string> = {}) {
  const session = await connectClient(who, { env });
  try {
    const result = await session.call('get_payment_problem', args);
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    return { result: structured<Result>(result), text };
  } finally {
    await session.close();
  }
}

const portalPosts = () => stripe.fake().requests.filter((r) => r.method === 'POST' && r.path === '/v1/billing_portal/sessions');

/** carol's failed charge, declined with `code`, carrying issuer and seller text no customer may read. */
function declineCarolWith(code: string, riskLevel = 'normal') {
  const store = stripe.fake().store;
  const charge = store.charges.get(DEMO.charges.carolFailed)!;
  store.charges.set(charge.id, {
    ...charge,
    failure_code: 'card_declined',
    failure_message: ISSUER_TEXT,
    outcome: { ...charge.outcome!, reason: code, seller_message: SELLER_TEXT, risk_level: riskLevel },
  });
}

/** A failed charge for `customer` at `created`, as Stripe records a declined card. */
function failedCharge(id: string, customer: string, created: number, amount: number, code: string): Stripe.Charge {
  const template = stripe.fake().store.charges.get(DEMO.charges.carolFailed)!;
  const charge: Stripe.Charge = {
    ...structuredClone(template),
    id,
    customer,
    created,
    amount,
    failure_code: 'card_declined',
    failure_message: ISSUER_TEXT,
    outcome: { ...template.outcome!, reason: code, seller_message: SELLER_TEXT },
  };
  stripe.fake().store.charges.set(id, charge);
  return charge;
}

describe('get_payment_problem: the decline-code table', () => {
  it.each(Object.keys(DECLINE_REASONS))('%s: our plain words, never the issuer’s or Stripe’s text', async (code) => {
    declineCarolWith(code);
    const { result, text } = await call({ customer: DEMO.emails.carol });
    const entry = DECLINE_REASONS[code]!;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ reason: entry.reason, what_to_do: entry.whatToDo, reason_code: entry.shownAs ?? code });
    const everything = JSON.stringify(result) + text;
    for (const secret of ['ISSUER-TEXT', 'SELLER-TEXT', '555-0100', 'seller_message', 'risk_level']) expect(everything).not.toContain(secret);
    // Risk-related declines are worded as a plain decline: no accusation reaches the customer.
    expect(everything).not.toMatch(/fraud|stolen|lost card|pick ?up/i);
  });
});

describe('get_payment_problem', () => {
  it('explains carol’s past-due subscription: what, when, why, how much, next retry, and both links', async () => {
    declineCarolWith('card_declined');
    const { result, text } = await call({ customer: DEMO.emails.carol }, {}, { PORTAL_RETURN_URL: 'https://app.example.com/billing' });
    expect(result).toMatchInlineSnapshot(`
      {
        "portal_note": "This link is personal and short-lived: give it only to this customer, do not share or store it elsewhere, and create a new one if it has expired.",
        "problems": [
          {
            "amount_due": {
              "amount": 1900,
              "currency": "usd",
              "formatted": "$19.00",
            },
            "attempts": 2,
            "failed_at": "2026-09-16T15:13:20.000Z",
            "invoice": {
              "id": "in_DemoCarolOpen",
              "number": "CAROL-0002",
            },
            "kind": "subscription",
            "next_retry_at": "2026-09-23T14:13:20.000Z",
            "pay_url": "https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoCarolOpen",
            "portal_url": "https://billing.stripe.com/p/session/test_Fake000001tlpwu8/flow/payment_method_update",
            "reason": "The card was declined by the bank.",
            "reason_code": "card_declined",
            "retry_note": "Stripe will try the card again on 2026-09-23.",
            "subscription": {
              "id": "sub_DemoCarolPastDue",
              "plan": "Starter",
              "status": "past_due",
            },
            "what": "Invoice "CAROL-0002" for $19.00 ("Starter", past due) is past due: 2 payment attempts failed, the last on 2026-09-16.",
            "what_to_do": "Contact the bank that issued the card, or use another card: update it in the billing portal, or pay the invoice from its payment page.",
          },
        ],
        "summary": "1 payment problem: Invoice "CAROL-0002" for $19.00 ("Starter", past due) is past due: 2 payment attempts failed, the last on 2026-09-16.",
      }
    `);
    expect(text).toContain('Update the card: https://billing.stripe.com/');
    expect(text).toContain('Pay the invoice: https://invoice.stripe.com/');
    // The flow Stripe is asked for: updating the card, for carol's record, back to the merchant's page.
    expect(portalPosts().map((r) => r.params)).toEqual([
      {
        customer: DEMO.customers.carol,
        return_url: 'https://app.example.com/billing',
        flow_data: { type: 'payment_method_update', after_completion: { type: 'redirect', redirect: { return_url: 'https://app.example.com/billing' } } },
      },
    ]);
    expect(stripe.fake().store.portalSessions.get([...stripe.fake().store.portalSessions.keys()][0]!)!.flow).toMatchObject({ type: 'payment_method_update' });
  });

  it('opens the portal home after the card update when no return URL is set', async () => {
    await call({ customer: DEMO.emails.carol });
    expect(portalPosts().map((r) => r.params)).toEqual([{ customer: DEMO.customers.carol, flow_data: { type: 'payment_method_update', after_completion: { type: 'portal_homepage' } } }]);
  });

  it('says in one line when nothing is wrong, and makes no portal link', async () => {
    // alice: her one failed payment (40 days ago) was paid the next day.
    const { result, text } = await call({ customer: DEMO.emails.alice });
    expect(result).toEqual({ problems: [], summary: 'No failed payments: nothing is overdue and no recent payment failed.' });
    // The text a person (or a text-only model) reads: that one line, before the JSON copy of the result.
    expect(text.split('\n')[0]).toBe('No failed payments: nothing is overdue and no recent payment failed.');
    expect(portalPosts()).toEqual([]);
  });

  it('an unpaid subscription: Stripe has stopped retrying', async () => {
    const store = stripe.fake().store;
    store.subscriptions.get(DEMO.subscriptions.carol)!.status = 'unpaid';
    store.invoices.get(DEMO.invoices.carolOpen)!.next_payment_attempt = null;
    const [problem] = (await call({ customer: DEMO.emails.carol })).result.problems;
    expect(problem).toMatchObject({ kind: 'subscription', subscription: { status: 'unpaid' }, amount_due: { formatted: '$19.00' } });
    expect(problem).not.toHaveProperty('next_retry_at');
    expect(problem!.retry_note).toMatch(/will not try again automatically/);
    expect(problem!.what).toContain('"Starter", unpaid');
  });

  it('an incomplete subscription: the first payment failed and is never retried', async () => {
    const store = stripe.fake().store;
    store.subscriptions.get(DEMO.subscriptions.carol)!.status = 'incomplete';
    store.invoices.get(DEMO.invoices.carolOpen)!.next_payment_attempt = null;
    declineCarolWith('authentication_required');
    const [problem] = (await call({ customer: DEMO.emails.carol })).result.problems;
    expect(problem).toMatchObject({ subscription: { status: 'incomplete' }, reason_code: 'authentication_required', pay_url: expect.stringMatching(/^https:\/\/invoice\.stripe\.com\//) });
    expect(problem!.retry_note).toMatch(/within 23 hours/);
    expect(problem!.what_to_do).toMatch(/payment page/);
  });

  it('a past_due subscription whose invoice cannot be matched still names the failure', async () => {
    declineCarolWith('card_declined');
    stripe.fake().store.invoices.get(DEMO.invoices.carolOpen)!.status = 'paid';
    const [problem] = (await call({ customer: DEMO.emails.carol })).result.problems;
    expect(problem).toMatchObject({ kind: 'subscription', reason_code: 'card_declined', amount_due: { formatted: '$19.00' }, failed_at: '2026-09-16T15:13:20.000Z' });
    expect(problem).not.toHaveProperty('invoice');
  });

  it('an open invoice with failed attempts (no subscription): the next retry date and the amount', async () => {
    const store = stripe.fake().store;
    const template = store.invoices.get(DEMO.invoices.carolOpen)!;
    // A shallow copy: structuredClone would strip the line items' Stripe.Decimal quantities.
    store.invoices.set('in_FrankOpen', {
      ...template,
      id: 'in_FrankOpen',
      customer: DEMO.customers.frank,
      number: 'FRANK-0002',
      parent: null,
      created: NOW - 3 * DAY,
      amount_due: 5000,
      amount_remaining: 5000,
      attempt_count: 1,
      next_payment_attempt: NOW + 4 * DAY,
      hosted_invoice_url: 'https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_FrankOpen',
    });
    failedCharge('ch_FrankFailed', DEMO.customers.frank, NOW - 3 * DAY + 3600, 5000, 'expired_card');
    const { result } = await call({ customer: DEMO.emails.frank });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({
      kind: 'invoice',
      invoice: { id: 'in_FrankOpen', number: 'FRANK-0002' },
      attempts: 1,
      amount_due: { amount: 5000, formatted: '$50.00' },
      next_retry_at: '2026-09-25T14:13:20.000Z',
      retry_note: 'Stripe will try the card again on 2026-09-25.',
      reason_code: 'expired_card',
      reason: 'The card has expired.',
      pay_url: 'https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_FrankOpen',
    });
    expect(portalPosts().map((r) => r.params.customer)).toEqual([DEMO.customers.frank]);
  });

  it('a recent failed one-off payment counts until a payment of it succeeds; an old one does not', async () => {
    failedCharge('ch_FrankRecent', DEMO.customers.frank, NOW - 2 * DAY, 9900, 'insufficient_funds');
    failedCharge('ch_FrankOld', DEMO.customers.frank, NOW - 45 * DAY, 7700, 'insufficient_funds');
    const before = (await call({ customer: DEMO.emails.frank })).result;
    expect(before.problems).toEqual([
      expect.objectContaining({ kind: 'payment', what: 'A payment of $99.00 on 2026-09-19 failed.', reason_code: 'insufficient_funds', retry_note: expect.stringMatching(/does not retry a one-off payment/) }),
    ]);
    expect(before.problems[0]).not.toHaveProperty('pay_url');

    const store = stripe.fake().store;
    const paid = structuredClone(store.charges.get('ch_DemoAliceWork0001')!);
    store.charges.set('ch_FrankPaidAfter', { ...paid, id: 'ch_FrankPaidAfter', customer: DEMO.customers.frank, created: NOW - DAY, amount: 9900 });
    expect((await call({ customer: DEMO.emails.frank })).result.problems).toEqual([]);
  });

  it('staff see the seller message (quoted) and the risk level; customers never do', async () => {
    declineCarolWith('fraudulent', 'elevated');
    const staff = (await call('staff', { email: DEMO.emails.carol })).result.problems[0]!;
    expect(staff).toMatchObject({ reason_code: 'fraudulent', seller_message: JSON.stringify(SELLER_TEXT), risk_level: 'elevated' });
    const customer = (await call({ customer: DEMO.emails.carol })).result.problems[0]!;
    expect(customer.reason_code).toBe('generic_decline');
    expect(customer).not.toHaveProperty('seller_message');
    expect(customer).not.toHaveProperty('risk_level');
  });

  it('without the portal permission, answers without the link and says so', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_billing_portal_session_write']);
    const { result, text } = await call({ customer: DEMO.emails.carol });
    expect(result.problems[0]).not.toHaveProperty('portal_url');
    expect(result.problems[0]!.pay_url).toMatch(/^https:\/\/invoice\.stripe\.com\//);
    expect(result.notices).toEqual([expect.stringMatching(/^Not shown: the billing-portal link to update the card\. The Stripe key lacks the “.*” permission/)]);
    expect(text).toContain('Not shown: the billing-portal link to update the card.');
  });

  it('without charge read, still names the overdue invoice, with the reason left out and said so', async () => {
    stripe.fake().restrictKey(TEST_STRIPE_KEY, ['rak_charge_read']);
    const { result } = await call({ customer: DEMO.emails.carol });
    expect(result.problems[0]).toMatchObject({ invoice: { number: 'CAROL-0002' }, reason_code: 'unknown', reason: 'The payment did not go through.' });
    expect(result.notices).toEqual([expect.stringMatching(/^Not shown: why a payment failed/)]);
  });

  it('without a billing portal set up, answers with the payment page and a note instead of failing', async () => {
    stripe.fake().setPortalConfigured(false);
    const { result } = await call({ customer: DEMO.emails.carol });
    expect(result.problems[0]).not.toHaveProperty('portal_url');
    expect(result.problems[0]!.pay_url).toBeDefined();
    expect(result.portal_note).toMatch(/No billing-portal link could be made/);
    expect(JSON.stringify(result)).not.toMatch(/dashboard\.stripe\.com|No configuration provided/);
  });
});

describe('get_payment_problem never reads another customer', () => {
  it('ignores staff arguments in customer mode: alice asking about carol gets alice’s answer', async () => {
    const { result } = await call({ customer: DEMO.emails.alice }, { email: DEMO.emails.carol, customer_id: DEMO.customers.carol });
    expect(result.problems).toEqual([]);
    const touched = stripe.fake().requests.filter((r) => JSON.stringify(r.params).includes(DEMO.customers.carol) || r.path.includes(DEMO.customers.carol));
    expect(touched).toEqual([]);
  });

  it('bob’s failures (and the look-alike bob.alice’s) never appear for alice', async () => {
    const store = stripe.fake().store;
    failedCharge('ch_BobFailed', DEMO.customers.bob, NOW - DAY, 4321, 'insufficient_funds');
    failedCharge('ch_BobAliceFailed', DEMO.customers.bobAlice, NOW - DAY, 1234, 'expired_card');
    store.subscriptions.get(DEMO.subscriptions.bobAlice)!.status = 'past_due';
    // bob's failure is real: his own answer shows it.
    expect((await call({ customer: DEMO.emails.bob })).result.problems).toEqual([expect.objectContaining({ amount_due: expect.objectContaining({ amount: 4321 }) })]);

    const before = stripe.fake().requests.length;
    const { result, text } = await call({ customer: DEMO.emails.alice });
    expect(result.problems).toEqual([]);
    const aliceReads = stripe.fake().requests.slice(before);
    expect(aliceReads.filter((r) => r.params.customer !== undefined).map((r) => r.params.customer)).toEqual(expect.arrayContaining([DEMO.customers.alice]));
    expect(aliceReads.every((r) => r.params.customer === undefined || ([DEMO.customers.alice, DEMO.customers.aliceUppercase] as string[]).includes(r.params.customer as string))).toBe(true);
    const everything = JSON.stringify(result) + text;
    for (const foreign of ['43.21', '12.34', 'ch_Bob', DEMO.customers.bob, DEMO.customers.bobAlice, DEMO.subscriptions.bobAlice]) expect(everything).not.toContain(foreign);
  });
});
