/**
 * The panel's "Needs attention" box and GET /v1/insight show the failed payments that
 * get_payment_problem answers with, found by the same function (src/tools/lib/payment-problems.ts).
 * Its own file: the real HTTP server on loopback cannot share a file with msw's Stripe routing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { DECLINE_REASONS } from '../../src/stripe/decline-reasons.js';
import { STAFF, startHttpFixture, type HttpFixture } from '../support/http-harness.js';
import { panelSignIn } from '../support/panel.js';

const SELLER_TEXT = 'SELLER-TEXT The bank flagged this as fraud';

interface Problem {
  portal_url?: string;
  reason_code: string;
  reason: string;
  risk_level?: string;
}

describe('the panel and /v1/insight show the same problems', () => {
  let fx: HttpFixture;
  beforeAll(async () => {
    fx = await startHttpFixture();
  });
  afterAll(() => fx.close());

  it('payment_failures in /v1/insight equal the tool’s problems (without the portal link), and the panel lays them out', async () => {
    const store = fx.fake.store;
    const charge = store.charges.get(DEMO.charges.carolFailed)!;
    store.charges.set(charge.id, { ...charge, outcome: { ...charge.outcome!, reason: 'insufficient_funds', seller_message: SELLER_TEXT, risk_level: 'normal' } });

    const tool = (await (
      await fetch(`${fx.url}/v1/tools/get_payment_problem`, { method: 'POST', headers: { authorization: `Bearer ${STAFF}`, 'content-type': 'application/json' }, body: JSON.stringify({ email: DEMO.emails.carol }) })
    ).json()) as { is_error: boolean; result: { problems: Problem[] } };
    expect(tool.is_error).toBe(false);
    const withoutLinks = tool.result.problems.map(({ portal_url: _link, ...problem }) => problem);
    expect(withoutLinks).toHaveLength(1);

    const insight = (await (await fetch(`${fx.url}/v1/insight?email=${DEMO.emails.carol}`, { headers: { authorization: `Bearer ${STAFF}` } })).json()) as { overview: { payment_failures: Problem[] } };
    expect(insight.overview.payment_failures).toEqual(withoutLinks);
    expect(insight.overview.payment_failures[0]).toMatchObject({ reason_code: 'insufficient_funds', reason: DECLINE_REASONS.insufficient_funds!.reason, risk_level: 'normal' });

    const cookie = await panelSignIn(fx.url, STAFF);
    const html = await (await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } })).text();
    const box = html.slice(html.indexOf('data-testid="attention"'));
    expect(box).toContain('data-testid="payment-failure"');
    expect(box).toContain('Invoice CAROL-0002 for');
    expect(box).toContain(DECLINE_REASONS.insufficient_funds!.reason);
    expect(box).toContain('Stripe will try the card again on 2026-09-23.');
    expect(box).toContain('Risk level: normal.');
    expect(box).toContain('href="https://invoice.stripe.com/i/acct_1DemoFakeAccount/test_DemoCarolOpen"');
  });
});
