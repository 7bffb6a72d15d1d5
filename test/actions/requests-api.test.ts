/**
 * /v1/requests over real HTTP: the host's own Confirm button (host key + the same customer
 * identity as the tool call) and the approval queue for helpdesks (staff keys), on the fake
 * Stripe's action fixtures. What a host, a helpdesk and the customer would notice: who can
 * confirm, approve and deny, that an approval refunds exactly once, and the trail's records.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { actionsFixtures, ALICE, type ActionsFixture, type ToolAnswer } from '../support/actions.js';
import { HOST_A, HOST_B, STAFF } from '../support/http-harness.js';

const fixture = actionsFixtures();
const A = DEMO.actions;
const LEAD = 'staff_lead_secret_00000000000000000000';
let fx: ActionsFixture;
afterEach(async () => fx?.close());

const refundsOf = (charge: string) => [...fx.fake.store.refunds.values()].filter((refund) => refund.charge === charge);
const refundCalls = () => fx.fake.requests.filter((request) => request.method === 'POST' && request.path === '/v1/refunds');

interface Answer {
  status: number;
  body: { error?: string; message?: string; request?: Record<string, unknown> & { id: string; state: string }; requests?: Array<Record<string, unknown> & { id: string; state: string }>; state?: string };
  text: string;
}

async function call(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const response = await fetch(`${fx.url}/v1/requests${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Answer['body'], text };
}

/** The headers of alice's chat, exactly as asCustomer sends them for the tool call. */
const aliceChat = async () => ({ authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'conv-alice-example.com', 'x-customer-token': await fx.token(ALICE) });
const staffKey = (key: string) => ({ authorization: `Bearer ${key}` });

/** alice asks for what is left of her partly refunded payment ($74.00, above the $50.00 auto_approve). */
async function aliceAsksAboveAutoApprove(): Promise<{ answer: ToolAnswer; id: string; token: string; secret: string }> {
  const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: A.alicePartlyRefundedCharge, amount: null, reason: 'requested_by_customer' });
  expect(answer.body.is_error, JSON.stringify(answer.body.error)).toBe(false);
  const { request_id: id, token } = answer.body.confirmation!;
  return { answer, id, token, secret: parseConfirmationToken(token)!.secret };
}

/** A request of alice's confirmed by her host's button, now waiting for staff. */
async function waitingForApproval(): Promise<{ id: string; secret: string }> {
  const asked = await aliceAsksAboveAutoApprove();
  const confirmed = await call('POST', `/${asked.id}/confirm`, await aliceChat(), { token: asked.token });
  expect(confirmed.status, confirmed.text).toBe(200);
  expect(confirmed.body.request?.state).toBe('awaiting_approval');
  return { id: asked.id, secret: asked.secret };
}

async function actionRecords(id: string) {
  await fx.trail.flush();
  return (await fx.trail.store.find({ limit: 200 })).filter((row) => row.kind === 'action' && row.detail?.request === id).reverse();
}

describe("the host's own button", () => {
  it('confirms with the same customer identity; another customer, another conversation, a wrong token or id all get one 404 and change nothing', async () => {
    fx = await fixture();
    const { id, token, secret } = await aliceAsksAboveAutoApprove();
    const bob = { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'conv-bob', 'x-customer-token': await fx.token(DEMO.emails.bob) };
    // No customer token: a conversation that verified nobody.
    const otherConversation = { authorization: `Bearer ${HOST_A}`, 'x-conversation-id': 'conv-someone-else' };
    const wrongSecret = `${id}.${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const unknownId = `req_${'x'.repeat(22)}.${secret}`;
    const refused = [
      await call('POST', `/${id}/confirm`, bob, { token }),
      await call('POST', `/${id}/confirm`, otherConversation, { token }),
      await call('POST', `/${id}/confirm`, await aliceChat(), { token: wrongSecret }),
      await call('POST', `/req_${'x'.repeat(22)}/confirm`, await aliceChat(), { token: unknownId }),
      // The right token sent to another request's path.
      await call('POST', `/req_${'y'.repeat(22)}/confirm`, await aliceChat(), { token }),
      // Another chatbot (host key) holding alice's identity cannot press this one's button.
      await call('POST', `/${id}/confirm`, { authorization: `Bearer ${HOST_B}`, 'x-customer-token': await fx.token(DEMO.emails.alice) }, { token }),
    ];
    for (const answer of refused) expect({ status: answer.status, body: answer.body }).toEqual({ status: 404, body: refused[0]!.body });
    expect(refused[0]!.body.error).toBe('not_found');
    expect((await fx.runtime.actions!.requests.get(id))?.state).toBe('awaiting_confirmation');

    const confirmed = await call('POST', `/${id}/confirm`, await aliceChat(), { token });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.request).toMatchObject({ id, kind: 'refund', state: 'awaiting_approval', preview: { amount: { formatted: '$74.00' } } });
    expect(confirmed.body.request?.next).toMatch(/approve/i);
    expect(confirmed.text).not.toContain(secret);
    // Above auto_approve: confirmed, but nothing refunded before a staff approval.
    expect(refundCalls()).toHaveLength(0);

    const again = await call('POST', `/${id}/confirm`, await aliceChat(), { token });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'already_decided', request: { state: 'awaiting_approval' } });
    expect(again.text).not.toContain(secret);

    const steps = (await actionRecords(id)).map((row) => [row.detail?.step, row.caller, row.detail?.channel]);
    expect(steps).toEqual([
      ['requested', 'host:host-a', undefined],
      ['confirmed', 'host:host-a', 'host'],
    ]);
  });

  it('within auto_approve the click refunds at once, exactly once', async () => {
    fx = await fixture();
    const answer = await fx.asCustomer(ALICE, 'request_refund', { payment: A.aliceDuplicateCharge, amount: null, reason: 'duplicate' });
    const { request_id: id, token } = answer.body.confirmation!;
    const clicks = await Promise.all([0, 1, 2].map(async () => call('POST', `/${id}/confirm`, await aliceChat(), { token })));
    expect(clicks.map((click) => click.status).sort()).toEqual([200, 409, 409]);
    const won = clicks.find((click) => click.status === 200)!;
    expect(won.body.request).toMatchObject({ state: 'done' });
    expect(refundsOf(A.aliceDuplicateCharge)).toHaveLength(1);
    expect(won.body.request?.stripe_object_id).toBe(refundsOf(A.aliceDuplicateCharge)[0]!.id);
  });

  it('says 410 once the 15 minutes are over', async () => {
    fx = await fixture();
    const { id, token } = await aliceAsksAboveAutoApprove();
    const sql = fx.trail.store.sql;
    await sql.run(`UPDATE action_requests SET confirm_expires_at = ${sql.placeholder(1)} WHERE id = ${sql.placeholder(2)}`, [new Date(Date.now() - 1000).toISOString(), id]);
    const late = await call('POST', `/${id}/confirm`, await aliceChat(), { token });
    expect(late.status).toBe(410);
    expect(late.body).toMatchObject({ error: 'expired', request: { state: 'expired' } });
    expect(refundCalls()).toHaveLength(0);
  });

  it('cancels for the same customer only', async () => {
    fx = await fixture();
    const { id } = await aliceAsksAboveAutoApprove();
    const bob = { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.bob) };
    const notBob = await call('POST', `/${id}/cancel`, bob);
    expect(notBob.status).toBe(404);
    expect((await fx.runtime.actions!.requests.get(id))?.state).toBe('awaiting_confirmation');
    const canceled = await call('POST', `/${id}/cancel`, await aliceChat());
    expect(canceled.status).toBe(200);
    expect(canceled.body.request).toMatchObject({ state: 'canceled' });
    const again = await call('POST', `/${id}/cancel`, await aliceChat());
    expect(again.status).toBe(409);
    expect(again.body.request).toMatchObject({ state: 'canceled' });
  });

  it('answers 400, never 500, to malformed bodies; a staff key has nothing to confirm', async () => {
    fx = await fixture();
    const { id, token } = await aliceAsksAboveAutoApprove();
    const headers = await aliceChat();
    for (const body of ['{"token":', '[1,2]', '"text"', { token: 42 }, { token, extra: true }, { secret: token }]) {
      const answer = await call('POST', `/${id}/confirm`, headers, body);
      expect(answer.status, answer.text).toBe(400);
      expect(answer.body.error).toMatch(/malformed_json|bad_request/);
    }
    expect((await call('POST', `/${id}/confirm`, headers, { secret: token })).body.message).toContain('unknown field: secret');
    const badConversation = await call('POST', `/${id}/confirm`, { ...headers, 'x-conversation-id': 'not a valid id!' }, { token });
    expect(badConversation.status).toBe(400);
    expect(badConversation.body.error).toBe('bad_conversation_id');
    const asStaff = await call('POST', `/${id}/confirm`, staffKey(STAFF), { token });
    expect(asStaff.status).toBe(403);
    expect((await fx.runtime.actions!.requests.get(id))?.state).toBe('awaiting_confirmation');
  });
});

describe('the approval queue (staff keys)', () => {
  it('lists what waits, with why; a bad state is a 400 naming the allowed ones; host keys get 403', async () => {
    fx = await fixture();
    const { id, secret } = await waitingForApproval();
    const listed = await call('GET', '', staffKey(STAFF));
    expect(listed.status).toBe(200);
    expect(listed.body.state).toBe('awaiting_approval');
    expect(listed.body.requests).toHaveLength(1);
    expect(listed.body.requests![0]).toMatchObject({ id, state: 'awaiting_approval', email: ALICE, customer_id: DEMO.customers.alice, created_by: 'host:host-a', confirmed_via: 'host' });
    expect((listed.body.requests![0]!.approval_because as string[]).join(' ')).toMatch(/\$50\.00/);
    expect(listed.text).not.toContain(secret);

    expect((await call('GET', '?state=done', staffKey(STAFF))).body.requests).toEqual([]);
    const bad = await call('GET', '?state=pending', staffKey(STAFF));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('awaiting_approval');
    expect(bad.body.message).toContain('canceled');
    expect((await call('GET', `/${id}`, staffKey(STAFF))).body.request).toMatchObject({ id, state: 'awaiting_approval' });
    expect((await call('GET', `/req_${'z'.repeat(22)}`, staffKey(STAFF))).status).toBe(404);

    const host = { authorization: `Bearer ${HOST_A}` };
    for (const [method, path, body] of [
      ['GET', '', undefined],
      ['GET', `/${id}`, undefined],
      ['POST', `/${id}/approve`, {}],
      ['POST', `/${id}/deny`, { note: 'no' }],
    ] as const) {
      expect((await call(method, path, host, body)).status, `${method} ${path}`).toBe(403);
    }
    expect((await fx.runtime.actions!.requests.get(id))?.state).toBe('awaiting_approval');
    expect(refundCalls()).toHaveLength(0);
  });

  it('an approval refunds at once and exactly once, however many clicks; the trail names the approver', async () => {
    fx = await fixture();
    const { id } = await waitingForApproval();
    const before = refundsOf(A.alicePartlyRefundedCharge).length;
    const approvals = await Promise.all([call('POST', `/${id}/approve`, staffKey(STAFF), { note: 'duplicate confirmed in the CRM' }), call('POST', `/${id}/approve`, staffKey(LEAD), {})]);
    expect(approvals.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const won = approvals.find((answer) => answer.status === 200)!;
    expect(won.body.request).toMatchObject({ id, state: 'done' });
    const lost = approvals.find((answer) => answer.status === 409)!;
    expect(lost.body).toMatchObject({ error: 'not_awaiting_approval' });

    const refunds = refundsOf(A.alicePartlyRefundedCharge);
    expect(refunds).toHaveLength(before + 1);
    const made = refunds.find((refund) => refund.id === won.body.request?.stripe_object_id);
    expect(made?.amount).toBe(A.alicePartlyRefundedAmounts.left);
    expect(refundCalls()).toHaveLength(1);
    expect(fx.fake.store.charges.get(A.alicePartlyRefundedCharge)?.amount_refunded).toBe(A.alicePartlyRefundedAmounts.amount);

    const steps = (await actionRecords(id)).map((row) => row.detail?.step);
    expect(steps).toEqual(['requested', 'confirmed', 'approved', 'executed']);
    const approved = (await actionRecords(id)).find((row) => row.detail?.step === 'approved')!;
    expect(approved.caller).toBe(won.body.request?.decided_by);
    expect(approved.surface).toBe('tools');
    expect((await call('GET', '?state=done', staffKey(STAFF))).body.requests?.map((request) => request.id)).toEqual([id]);
  });

  it('a deny needs a note and records it; nothing is refunded', async () => {
    fx = await fixture();
    const { id } = await waitingForApproval();
    for (const body of [{}, { note: '   ' }, { note: 'x'.repeat(501) }, { note: 7 }, '{not json', { note: 'ok', approve: true }]) {
      const answer = await call('POST', `/${id}/deny`, staffKey(STAFF), body);
      expect(answer.status, answer.text).toBe(400);
    }
    expect((await call('POST', `/${id}/approve`, staffKey(STAFF), { note: 'y'.repeat(501) })).status).toBe(400);
    expect((await fx.runtime.actions!.requests.get(id))?.state).toBe('awaiting_approval');

    const denied = await call('POST', `/${id}/deny`, staffKey(STAFF), { note: 'Already refunded by bank transfer.' });
    expect(denied.status).toBe(200);
    expect(denied.body.request).toMatchObject({ state: 'denied', decided_by: 'staff:support', note: 'Already refunded by bank transfer.' });
    expect(refundCalls()).toHaveLength(0);
    const record = (await actionRecords(id)).find((row) => row.detail?.step === 'denied');
    expect(record).toMatchObject({ caller: 'staff:support', outcome: 'refused', detail: { note: 'Already refunded by bank transfer.' } });

    const late = await call('POST', `/${id}/approve`, staffKey(LEAD), {});
    expect(late.status).toBe(409);
    expect(late.body.request).toMatchObject({ state: 'denied' });
    // The customer's own view says so, with the note.
    const status = await fx.asCustomer(ALICE, 'get_request_status', { request: id });
    expect(JSON.stringify(status.body.result)).toContain('Already refunded by bank transfer.');
  });

  it('a staff key cannot approve a request it created; another staff key can', async () => {
    fx = await fixture();
    const made = await fx.asStaff('request_refund', { email: ALICE, payment: A.alicePartlyRefundedCharge, amount: null, reason: 'requested_by_customer' });
    expect(made.body.is_error, JSON.stringify(made.body.error)).toBe(false);
    const id = (made.body.result!.request as { id: string; state: string }).id;
    expect((made.body.result!.request as { state: string }).state).toBe('awaiting_approval');

    const own = await call('POST', `/${id}/approve`, staffKey(STAFF), {});
    expect(own.status).toBe(403);
    expect(own.body.error).toBe('own_request');
    expect(own.body.message).toMatch(/created this request/);
    expect(refundCalls()).toHaveLength(0);

    const other = await call('POST', `/${id}/approve`, staffKey(LEAD), {});
    expect(other.status).toBe(200);
    expect(other.body.request).toMatchObject({ state: 'done', created_by: 'staff:support', decided_by: 'staff:lead' });
    expect(refundCalls()).toHaveLength(1);
  });
});

describe('without an actions policy', () => {
  it('answers 404 actions_off, naming ACTIONS_POLICY, to hosts and staff alike', async () => {
    fx = await fixture({ policy: undefined });
    for (const [method, path, headers, body] of [
      ['GET', '', staffKey(STAFF), undefined],
      ['POST', `/req_${'x'.repeat(22)}/approve`, staffKey(STAFF), {}],
      ['POST', `/req_${'x'.repeat(22)}/confirm`, { authorization: `Bearer ${HOST_B}` }, { token: 'x' }],
    ] as const) {
      const answer = await call(method, path, headers, body);
      expect(answer.status).toBe(404);
      expect(answer.body.error).toBe('actions_off');
      expect(answer.body.message).toContain('ACTIONS_POLICY');
    }
    // And the key guard still comes first.
    expect((await fetch(`${fx.url}/v1/requests`)).status).toBe(401);
  });
});
