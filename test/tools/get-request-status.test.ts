/**
 * get_request_status: the customer's own requests, newest first, with the outcome once decided
 * (the refund's id, a denial's note); another customer's request reads exactly as an unknown id.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { actionsFixtures, ALICE, type ActionsFixture, type ToolAnswer } from '../support/actions.js';
import { confirmAsHost, modelVisible, requestOf } from '../support/action-tools.js';

const fixture = actionsFixtures();
let fx: ActionsFixture;
afterEach(async () => fx?.close());

type Listed = { id: string; kind: string; state: string; next: string; note?: string; stripe_object_id?: string };
const listed = (answer: ToolAnswer) => {
  expect(answer.body.is_error, JSON.stringify(answer.body.error)).toBe(false);
  return answer.body.result!.requests as Listed[];
};

describe('get_request_status', () => {
  it("lists the customer's requests newest first, with each outcome once decided", async () => {
    fx = await fixture();
    const refund = await fx.asCustomer(ALICE, 'request_refund', { payment: DEMO.actions.aliceDuplicateCharge, amount: 1000, reason: 'duplicate' });
    await confirmAsHost(fx, ALICE, refund);
    const credit = await fx.asCustomer(ALICE, 'request_credit', { amount: 500, currency: null, reason: 'outage' });
    await confirmAsHost(fx, ALICE, credit);
    const denied = await fx.runtime.actions!.deny(requestOf(credit).id, 'staff:lead', 'Credits are for outages over an hour');
    expect(denied.outcome).toBe('applied');
    const pause = await fx.asCustomer(ALICE, 'pause_subscription', { subscription_id: null, days: 5 });

    const requests = listed(await fx.asCustomer(ALICE, 'get_request_status', { request: null }));
    expect(requests.map((request) => [request.id, request.kind, request.state])).toEqual([
      [requestOf(pause).id, 'pause', 'awaiting_confirmation'],
      [requestOf(credit).id, 'credit', 'denied'],
      [requestOf(refund).id, 'refund', 'done'],
    ]);
    expect(requests[1]).toMatchObject({ note: 'Credits are for outages over an hour', next: expect.stringContaining('"Credits are for outages over an hour"') });
    const made = [...fx.fake.store.refunds.values()].find((item) => item.charge === DEMO.actions.aliceDuplicateCharge);
    expect(requests[2]?.stripe_object_id).toBe(made?.id);
  });

  it("answers another customer's request id exactly as an unknown one", async () => {
    fx = await fixture();
    const carols = await fx.asCustomer(DEMO.emails.carol, 'request_credit', { amount: 500, currency: null, reason: 'outage' });
    const id = requestOf(carols).id;
    const foreign = await fx.asCustomer(ALICE, 'get_request_status', { request: id });
    const unknown = await fx.asCustomer(ALICE, 'get_request_status', { request: 'req_AAAAAAAAAAAAAAAAAAAAAA' });
    expect(foreign.body.error?.kind).toBe('not_found');
    expect(foreign.body).toEqual(unknown.body);
    expect(modelVisible(foreign)).not.toContain('Credit');
    expect(listed(await fx.asCustomer(ALICE, 'get_request_status', {}))).toEqual([]);
    // Carol herself sees it.
    expect(listed(await fx.asCustomer(DEMO.emails.carol, 'get_request_status', { request: id })).map((request) => request.id)).toEqual([id]);
  });

  it("staff see a customer's requests by email", async () => {
    fx = await fixture();
    const credit = await fx.asCustomer(ALICE, 'request_credit', { amount: 500, currency: null, reason: 'outage' });
    const requests = listed(await fx.asStaff('get_request_status', { email: ALICE }));
    expect(requests.map((request) => request.id)).toEqual([requestOf(credit).id]);
  });
});
