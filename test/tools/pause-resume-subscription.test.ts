/**
 * pause_subscription and resume_subscription through /v1/tools: the policy refuses a pause
 * beyond max_days (nothing stored), a short pause is carried out once the person confirms, a
 * long one waits for staff, resume ends a pause, and another customer's subscription is refused.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { actionsFixtures, ALICE, type ActionsFixture } from '../support/actions.js';
import { confirmAsHost, expectNoSecretForModel, requestOf, storedRequests } from '../support/action-tools.js';

const fixture = actionsFixtures();
let fx: ActionsFixture;
afterEach(async () => fx?.close());

const pauseOf = (subscription: string) => fx.fake.store.subscriptions.get(subscription)?.pause_collection ?? null;
const DAY = 86_400;

describe('pause_subscription', () => {
  it('is refused by the policy beyond max_days, with the reason, and creates no request', async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'pause_subscription', { subscription_id: null, days: 120 });
    expect(answer.body.error?.kind).toBe('refused');
    expect(answer.body.error?.message).toMatch(/90 days/);
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
  });

  it('within auto_approve: the confirmation pauses collection until the date, with the policy’s behaviour', async () => {
    fx = await fixture();
    const before = Math.floor(Date.now() / 1000);
    const answer = await fx.asCustomer(ALICE, 'pause_subscription', { subscription_id: null, days: 10 });
    const request = requestOf(answer);
    expect(request.preview.summary).toMatch(/^Pause billing of "Pro" for 10 days: invoices made during the pause are voided/);
    const resumes = new Date((before + 10 * DAY) * 1000).toISOString().slice(0, 10);
    expect(request.preview.when).toBe(`Billing resumes by itself on ${resumes}`);
    expectNoSecretForModel(answer);
    expect(pauseOf(DEMO.subscriptions.alice)).toBeNull();

    await confirmAsHost(fx, ALICE, answer);
    const paused = pauseOf(DEMO.subscriptions.alice);
    expect(paused?.behavior).toBe('void');
    expect(paused?.resumes_at).toBeGreaterThanOrEqual(before + 10 * DAY);
    expect(paused?.resumes_at).toBeLessThan(before + 10 * DAY + 60);

    // Already paused: refused, nothing new stored.
    const again = await fx.asCustomer(ALICE, 'pause_subscription', { subscription_id: DEMO.subscriptions.alice, days: 5 });
    expect(again.body.error).toEqual({ kind: 'refused', message: expect.stringMatching(/already paused until/) });
    expect(await storedRequests(fx, DEMO.customers.alice)).toHaveLength(1);
  });

  it('above auto_approve: confirmed, then waits for a staff approval', async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'pause_subscription', { subscription_id: null, days: 60 });
    const confirmed = await confirmAsHost(fx, ALICE, answer);
    expect(confirmed.outcome === 'confirmed' && confirmed.request.state).toBe('awaiting_approval');
    expect(pauseOf(DEMO.subscriptions.alice)).toBeNull();
  });

  it("refuses another customer's subscription, creating nothing", async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'pause_subscription', { subscription_id: DEMO.subscriptions.bob, days: 10 });
    expect(answer.body.error).toEqual({ kind: 'not_found', message: expect.stringContaining('No subscription with that id was found on this account') });
    expect(await storedRequests(fx, DEMO.customers.bob)).toEqual([]);
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
    expect(pauseOf(DEMO.subscriptions.bob)).toBeNull();
  });

  it('refuses a subscription that is not active', async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(DEMO.emails.carol, 'pause_subscription', { subscription_id: DEMO.subscriptions.carol, days: 10 });
    expect(answer.body.error).toEqual({ kind: 'refused', message: expect.stringMatching(/Only an active subscription can be paused; "Starter" is past due/) });
    expect(await storedRequests(fx, DEMO.customers.carol)).toEqual([]);
  });

  it('staff mode: a short pause is carried out by the staff call itself', async () => {
    fx = await fixture();
    const answer = await fx.asStaff('pause_subscription', { email: ALICE, subscription_id: null, days: 7 });
    expect(requestOf(answer).state).toBe('done');
    expect(pauseOf(DEMO.subscriptions.alice)?.behavior).toBe('void');
  });
});

describe('resume_subscription', () => {
  it('refuses a subscription that is not paused, creating nothing', async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'resume_subscription', { subscription_id: null });
    expect(answer.body.error).toEqual({ kind: 'refused', message: expect.stringMatching(/is not paused/) });
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
  });

  it('ends a pause once the person confirms (resuming is never limited by the policy)', async () => {
    fx = await fixture();
    await fx.asStaff('pause_subscription', { email: ALICE, subscription_id: null, days: 7 });
    expect(pauseOf(DEMO.subscriptions.alice)).not.toBeNull();
    const answer = await fx.asCustomer(ALICE, 'resume_subscription', { subscription_id: null });
    const request = requestOf(answer);
    expect(request).toMatchObject({ kind: 'resume', state: 'awaiting_confirmation' });
    expectNoSecretForModel(answer);
    const confirmed = await confirmAsHost(fx, ALICE, answer);
    expect(confirmed.outcome === 'confirmed' && confirmed.request.state).toBe('done');
    expect(pauseOf(DEMO.subscriptions.alice)).toBeNull();
  });

  it("refuses another customer's subscription, even a paused one", async () => {
    fx = await fixture();
    await fx.asStaff('pause_subscription', { email: DEMO.emails.bob, subscription_id: null, days: 7 });
    expect(pauseOf(DEMO.subscriptions.bob)).not.toBeNull();
    const answer = await fx.asCustomer(ALICE, 'resume_subscription', { subscription_id: DEMO.subscriptions.bob });
    expect(answer.body.error?.kind).toBe('not_found');
    expect(await storedRequests(fx, DEMO.customers.alice)).toEqual([]);
    expect(pauseOf(DEMO.subscriptions.bob)).not.toBeNull();
  });
});
