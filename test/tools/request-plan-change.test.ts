/**
 * request_plan_change through /v1/tools: the policy refuses a change charging above max_amount
 * (nothing stored), a change within auto_approve is carried out once the person confirms and
 * charges exactly the previewed amount, a larger one waits for staff, another customer's
 * subscription is refused, and a price changed between the preview and the confirmation is
 * caught: the request fails with a safe reason and the subscription is left as it was.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionsPolicy } from '../../src/actions/policy.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { actionsFixtures, ALICE, EXAMPLE_POLICY, type ActionsFixture } from '../support/actions.js';
import { confirmAsHost, expectNoSecretForModel, requestOf, storedRequests } from '../support/action-tools.js';

const fixture = actionsFixtures();
let fx: ActionsFixture;
afterEach(async () => fx?.close());

/** Plan changes up to $150 charged at once; up to $100 need no staff approval. */
const policy = (autoMax = 10_000): ActionsPolicy => ({ ...EXAMPLE_POLICY, plan_change: { enabled: true, max_amount: { usd: 15_000 }, auto_approve: { max_amount: { usd: autoMax } } } });

/** The demo portal bills changes at once, as most merchants who sell upgrades do. */
async function start(options: { policy?: ActionsPolicy } = {}): Promise<ActionsFixture> {
  const started = await fixture({ policy: options.policy ?? policy() });
  started.fake.store.portalConfigurations.get(DEMO.portalConfiguration)!.features.subscription_update.proration_behavior = 'always_invoice';
  return started;
}

const aliceSub = () => fx.fake.store.subscriptions.get(DEMO.subscriptions.alice)!;
const priceOf = (subscription: string) => fx.fake.store.subscriptions.get(subscription)!.items.data[0]!.price.id;
const invoicesOfAlice = () => [...fx.fake.store.invoices.values()].filter((invoice) => invoice.customer === DEMO.customers.alice);

describe('request_plan_change', () => {
  it('is refused by the policy above max_amount, with the reason, and creates no request', async () => {
    fx = await start({ policy: { ...EXAMPLE_POLICY, plan_change: { enabled: true, max_amount: { usd: 100 } } } });
    const answer = await fx.asCustomer(ALICE, 'request_plan_change', { price: DEMO.prices.teamMonthly, quantity: null, subscription: null });
    expect(answer.body.error?.kind).toBe('refused');
    expect(answer.body.error?.message).toMatch(/\$1\.00/);
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
    expect(priceOf(DEMO.subscriptions.alice)).toBe(DEMO.prices.proMonthly);
  });

  it('within auto_approve: the confirmation switches the plan and charges exactly the previewed amount', async () => {
    fx = await start();
    const invoicesBefore = invoicesOfAlice().length;
    const answer = await fx.asCustomer(ALICE, 'request_plan_change', { price: DEMO.prices.teamMonthly, quantity: null, subscription: null });
    const request = requestOf(answer);
    expectNoSecretForModel(answer);
    const previewed = request.preview.amount as { amount: number; formatted: string };
    expect(previewed.amount).toBeGreaterThan(0);
    expect(request.preview.summary).toMatch(new RegExp(`^Switch "Pro" to "Team": \\${previewed.formatted} is charged now; then \\$99\\.00 per month`));
    expect(request.state).toBe('awaiting_confirmation');
    expect(priceOf(DEMO.subscriptions.alice)).toBe(DEMO.prices.proMonthly);

    const confirmed = await confirmAsHost(fx, ALICE, answer);
    expect(confirmed.outcome === 'confirmed' && confirmed.request.state).toBe('done');
    expect(priceOf(DEMO.subscriptions.alice)).toBe(DEMO.prices.teamMonthly);
    const made = invoicesOfAlice();
    expect(made).toHaveLength(invoicesBefore + 1);
    const invoice = fx.fake.store.invoices.get(aliceSub().latest_invoice as string)!;
    expect(invoice.billing_reason).toBe('subscription_update');
    expect(invoice.amount_due).toBe(previewed.amount);
    expect(invoice.amount_paid).toBe(previewed.amount);
    expect(invoice.status).toBe('paid');
  });

  it('above auto_approve: confirmed, then waits for a staff approval, the plan unchanged', async () => {
    fx = await start({ policy: policy(0) });
    const answer = await fx.asCustomer(ALICE, 'request_plan_change', { price: DEMO.prices.teamMonthly, quantity: null, subscription: null });
    const confirmed = await confirmAsHost(fx, ALICE, answer);
    expect(confirmed.outcome === 'confirmed' && confirmed.request.state).toBe('awaiting_approval');
    expect(priceOf(DEMO.subscriptions.alice)).toBe(DEMO.prices.proMonthly);
  });

  it("refuses another customer's subscription, creating nothing", async () => {
    fx = await start();
    const answer = await fx.asCustomer(ALICE, 'request_plan_change', { price: DEMO.prices.teamMonthly, quantity: null, subscription: DEMO.subscriptions.bob });
    expect(answer.body.error).toEqual({ kind: 'not_found', message: expect.stringContaining('No subscription with that id was found on this account') });
    expect(await storedRequests(fx, DEMO.customers.bob)).toEqual([]);
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
    expect(priceOf(DEMO.subscriptions.bob)).not.toBe(DEMO.prices.teamMonthly);
  });

  it('a price changed between the preview and the confirmation: failed with a safe reason, nothing charged or changed', async () => {
    fx = await start();
    const answer = await fx.asCustomer(ALICE, 'request_plan_change', { price: DEMO.prices.teamMonthly, quantity: null, subscription: null });
    expect(requestOf(answer).state).toBe('awaiting_confirmation');
    const invoicesBefore = invoicesOfAlice().length;
    const latestBefore = aliceSub().latest_invoice;
    fx.fake.store.prices.get(DEMO.prices.teamMonthly)!.unit_amount = 12_900;

    const confirmed = await confirmAsHost(fx, ALICE, answer);
    const failed = confirmed.outcome === 'confirmed' ? confirmed.request : undefined;
    expect(failed?.state).toBe('failed');
    expect(failed?.failure_reason).toBe('The price changed since the preview; nothing was charged. Ask for a new preview.');
    expect(priceOf(DEMO.subscriptions.alice)).toBe(DEMO.prices.proMonthly);
    expect(invoicesOfAlice()).toHaveLength(invoicesBefore);
    expect(aliceSub().latest_invoice).toBe(latestBefore);

    // The customer's status answer says it in the same words.
    const status = await fx.asCustomer(ALICE, 'get_request_status', { request: failed!.id });
    expect(JSON.stringify(status.body.result)).toContain('The price changed since the preview; nothing was charged.');
  });

  it('staff mode: a change within auto_approve is carried out by the staff call itself', async () => {
    fx = await start();
    const answer = await fx.asStaff('request_plan_change', { email: ALICE, price: DEMO.prices.teamMonthly, quantity: null, subscription: null });
    const request = requestOf(answer);
    expect(request.state).toBe('done');
    expect(request.stripe_object_id).toBe(DEMO.subscriptions.alice);
    expect(priceOf(DEMO.subscriptions.alice)).toBe(DEMO.prices.teamMonthly);
    expect(fx.fake.store.invoices.get(aliceSub().latest_invoice as string)!.amount_paid).toBe((request.preview.amount as { amount: number; formatted: string }).amount);
  });

  it('refuses a change to the plan the subscription is already on', async () => {
    fx = await start();
    const answer = await fx.asCustomer(ALICE, 'request_plan_change', { price: DEMO.prices.proMonthly, quantity: null, subscription: null });
    expect(answer.body.error).toEqual({ kind: 'refused', message: expect.stringMatching(/already on this plan/) });
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
  });
});
