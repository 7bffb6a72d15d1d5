/**
 * The actions engine end to end below the tools: the policy decides, the person's secret
 * confirms, staff approve, the real Stripe SDK calls the fake Stripe exactly once, and the trail
 * records each step. SQLite and a real Postgres; "two processes" are two stores (two connection
 * pools or SQLite workers) on one database.
 */
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { confirmationKeysFrom, parseConfirmationToken } from '../../src/actions/confirmation-secret.js';
import { ActionsEngine, type ActionsEngineOptions, type ConfirmationMail, type Proposal, type Proposer } from '../../src/actions/engine.js';
import type { ActionsPolicy } from '../../src/actions/policy.js';
import { RequestStore } from '../../src/actions/requests.js';
import type { AuditStore } from '../../src/audit/audit-store.js';
import type { AuditTrail } from '../../src/audit/audit-trail.js';
import { PostgresAuditStore } from '../../src/audit/postgres-audit-store.js';
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.js';
import { FakeStripe } from '../../src/demo/fake-stripe/index.js';
import { DEMO } from '../../src/demo/fake-stripe/seed.js';
import { ToolError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { customerPrincipal, staffPrincipal } from '../../src/verify/principal.js';
import { TEST_AUDIT_KEYS, tempDirAfterAll, testTrail } from '../support/audit.js';
import { EXAMPLE_POLICY } from '../support/actions.js';
import { usePostgresServer } from '../support/postgres-server.js';

const postgres = usePostgresServer();
const tempDir = tempDirAfterAll('sbm-engine-');
const NOW = Math.floor(Date.now() / 1000);
const ALICE = customerPrincipal(DEMO.emails.alice, 'identity-token');
const BOB = customerPrincipal(DEMO.emails.bob, 'identity-token');
const AS_ALICE: Proposer = { principal: ALICE, caller: 'host:acme-bot', conversation: 'conv-1', surface: 'tools' };
const noSleep = async () => undefined;

function refundOf(charge: string, amount: number, overrides: Partial<Proposal> = {}): Proposal {
  return {
    kind: 'refund',
    customer_id: DEMO.customers.alice,
    email: DEMO.emails.alice,
    check: { kind: 'refund', amount, currency: 'usd', reason: 'duplicate', payment_created: NOW - 3600 },
    params: { charge, amount, currency: 'usd', reason: 'duplicate', payment_created: NOW - 3600 },
    preview: { summary: `Refund ${amount} cents`, when: 'in 5–10 business days' },
    ...overrides,
  };
}

type Kind = 'sqlite' | 'postgres';

describe.each<Kind>(['sqlite', 'postgres'])('actions engine (%s)', (kind) => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((item) => item.close()));
  });

  async function world(policy: ActionsPolicy = EXAMPLE_POLICY) {
    const target = kind === 'sqlite' ? join(tempDir(), 'audit.db') : await postgres().createDatabase();
    const fake = new FakeStripe({ now: NOW, actionFixtures: true });
    const stripe = new Stripe(DEMO.apiKey, { httpClient: Stripe.createFetchHttpClient((input, init) => fake.handle(new Request(input as string, init))), maxNetworkRetries: 0 });
    const invalidated: string[] = [];
    const waiting: string[] = [];
    /** One "process": its own store (connection pool or SQLite worker), trail and engine on the shared database. */
    const process = async (overrides: Partial<ActionsEngineOptions> = {}): Promise<{ engine: ActionsEngine; trail: AuditTrail; store: AuditStore }> => {
      const store = kind === 'sqlite' ? new SqliteAuditStore(target, TEST_AUDIT_KEYS) : new PostgresAuditStore(target, TEST_AUDIT_KEYS);
      await store.migrate();
      const trail = await testTrail(store);
      opened.push(trail);
      const engine = new ActionsEngine({
        requests: new RequestStore(store.sql, { keys: confirmationKeysFrom(TEST_AUDIT_KEYS) }),
        policy: () => policy,
        stripe,
        invalidateCustomer: async (id) => void invalidated.push(id),
        log: silentLogger(),
        tenantId: null,
        audit: trail,
        onAwaitingApproval: (request) => void waiting.push(request.id),
        execute: { sleep: noSleep },
        ...overrides,
      });
      return { engine, trail, store };
    };
    const refundCalls = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds');
    const actionRecords = async (trail: AuditTrail) => {
      await trail.flush();
      return (await trail.store.find({ limit: 100 })).filter((row) => row.kind === 'action').reverse();
    };
    return { fake, process, refundCalls, actionRecords, invalidated, waiting };
  }

  it('a customer proposes, confirms on the host button, and Stripe refunds once; the trail has each step and no secret', async () => {
    const { process, fake, refundCalls, actionRecords, invalidated } = await world();
    const { engine, trail } = await process();
    const proposed = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), AS_ALICE);
    expect(proposed.request).toMatchObject({ state: 'awaiting_confirmation', kind: 'refund', created_by: 'host:acme-bot', principal: 'customer' });
    const { secret } = parseConfirmationToken(proposed.confirmation!.token)!;
    // Bob cannot confirm alice's request even with her secret.
    expect(await engine.confirm(proposed.request.id, secret, 'host', { owner: BOB })).toEqual({ outcome: 'invalid' });
    expect(refundCalls()).toHaveLength(0);

    const confirmed = await engine.confirm(proposed.request.id, secret, 'host', { owner: ALICE, by: 'host:acme-bot', surface: 'tools' });
    expect(confirmed).toMatchObject({ outcome: 'confirmed', request: { state: 'done', confirmed_via: 'host' } });
    const refundId = confirmed.outcome === 'confirmed' ? confirmed.request.stripe_object_id : undefined;
    expect(refundId).toMatch(/^re_/);
    expect(refundCalls()).toHaveLength(1);
    expect(refundCalls()[0]!.idempotencyKey).toBe(`sbm-${proposed.request.id}`);
    expect(refundCalls()[0]!.params).toMatchObject({ charge: DEMO.actions.aliceDuplicateCharge, amount: '2900', reason: 'duplicate', metadata: { sbm_request: proposed.request.id } });
    const refund = await fake.handle(new Request(`https://api.stripe.com/v1/refunds/${refundId}`, { headers: { authorization: `Bearer ${DEMO.apiKey}` } }));
    expect(await refund.json()).toMatchObject({ amount: 2900, charge: DEMO.actions.aliceDuplicateCharge, status: 'succeeded' });
    expect(invalidated).toEqual([DEMO.customers.alice]);

    const steps = await actionRecords(trail);
    expect(steps.map((row) => [row.detail?.step, row.caller, row.detail?.channel ?? null])).toEqual([
      ['requested', 'host:acme-bot', null],
      ['confirmed', 'host:acme-bot', 'host'],
      ['executed', 'system', null],
    ]);
    expect(steps[2]!.detail).toMatchObject({ request: proposed.request.id, stripe_object: refundId, amount: 2900, currency: 'usd' });
    expect(steps.every((row) => row.email === DEMO.emails.alice && row.customer_ids[0] === DEMO.customers.alice)).toBe(true);
    expect(JSON.stringify(steps)).not.toContain(secret);
    // The same secret again changes nothing.
    expect(await engine.confirm(proposed.request.id, secret, 'host', { owner: ALICE })).toMatchObject({ outcome: 'already_decided', request: { state: 'done' } });
    expect(refundCalls()).toHaveLength(1);
  });

  it('four clicks at once, and two processes confirming at once, make one refund', async () => {
    const { process, refundCalls } = await world();
    const a = await process();
    const b = await process();
    const proposed = await a.engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), AS_ALICE);
    const { secret } = parseConfirmationToken(proposed.confirmation!.token)!;
    const results = await Promise.all([a.engine, b.engine, a.engine, b.engine].map((engine) => engine.confirm(proposed.request.id, secret, 'email')));
    expect(results.filter((r) => r.outcome === 'confirmed')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'already_decided')).toHaveLength(3);
    expect(refundCalls().filter((call) => call.status === 200)).toHaveLength(1);
    expect(await b.engine.requests.get(proposed.request.id)).toMatchObject({ state: 'done' });
  });

  it('Stripe answering 500 and then succeeding: one refund, under one idempotency key', async () => {
    const { process, fake, refundCalls } = await world();
    const { engine } = await process();
    fake.failNext({ status: 500, path: '/v1/refunds', method: 'POST', times: 1 });
    const proposed = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), AS_ALICE);
    const confirmed = await engine.confirm(proposed.request.id, parseConfirmationToken(proposed.confirmation!.token)!.secret, 'email');
    expect(confirmed).toMatchObject({ outcome: 'confirmed', request: { state: 'done' }, execution: { attempts: 2 } });
    expect(refundCalls().map((call) => call.status)).toEqual([500, 200]);
    expect(new Set(refundCalls().map((call) => call.idempotencyKey))).toEqual(new Set([`sbm-${proposed.request.id}`]));
    const refunds = fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/refunds' && r.status === 200);
    expect(refunds).toHaveLength(1);
  });

  it('above auto_approve a confirmed request waits for another staff key; the creator cannot approve; a denial keeps its note', async () => {
    const { process, refundCalls, actionRecords, waiting } = await world();
    const { engine, trail } = await process();
    // $74.00 is above the $50.00 auto-approve limit, within the $200.00 limit.
    const big = await engine.propose(refundOf(DEMO.actions.alicePartlyRefundedCharge, 7400), AS_ALICE);
    expect(big.approvalBecause).toEqual([expect.stringContaining('$50.00')]);
    const confirmed = await engine.confirm(big.request.id, parseConfirmationToken(big.confirmation!.token)!.secret, 'email');
    expect(confirmed).toMatchObject({ outcome: 'confirmed', request: { state: 'awaiting_approval' } });
    expect(waiting).toEqual([big.request.id]);
    expect(refundCalls()).toHaveLength(0);
    expect(await engine.approve(big.request.id, 'staff:lead', 'duplicate confirmed')).toMatchObject({ outcome: 'applied', request: { state: 'done', decided_by: 'staff:lead' } });
    expect(refundCalls()).toHaveLength(1);

    // A staff member's own request above the limit: their call was the confirmation, another key approves.
    const asStaff: Proposer = { principal: staffPrincipal('support'), caller: 'staff:support', conversation: undefined, surface: 'tools' };
    const own = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900, { check: { kind: 'refund', amount: 2900, currency: 'usd', reason: 'duplicate', payment_created: NOW - 20 * 86_400 } }), asStaff);
    expect(own.request).toMatchObject({ state: 'awaiting_approval', principal: 'staff', confirmed_via: 'staff' });
    expect(own.confirmation).toBeUndefined();
    expect(await engine.approve(own.request.id, 'staff:support')).toMatchObject({ outcome: 'own_request' });
    expect(await engine.deny(own.request.id, 'staff:lead', 'customer already got a credit')).toMatchObject({ outcome: 'applied', request: { state: 'denied', note: 'customer already got a credit' } });
    expect(refundCalls()).toHaveLength(1);
    const steps = (await actionRecords(trail)).map((row) => [row.detail?.request === big.request.id ? 'big' : 'own', row.detail?.step, row.caller, row.detail?.note ?? null]);
    expect(steps).toEqual([
      ['big', 'requested', 'host:acme-bot', null],
      ['big', 'confirmed', 'customer', null],
      ['big', 'approved', 'staff:lead', 'duplicate confirmed'],
      ['big', 'executed', 'system', null],
      ['own', 'requested', 'staff:support', null],
      ['own', 'confirmed', 'staff:support', null],
      ['own', 'denied', 'staff:lead', 'customer already got a credit'],
    ]);
  });

  it('the policy refuses before anything is created, and counts the customer’s earlier requests from the database', async () => {
    const { process } = await world();
    const { engine } = await process();
    const refusal = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 25_000), AS_ALICE).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ToolError);
    expect((refusal as ToolError).kind).toBe('refused');
    expect((refusal as ToolError).message).toContain('$200.00');
    expect(await engine.requests.listForCustomer(null, DEMO.customers.alice)).toHaveLength(0);

    // The first refund of 30 days is automatic; a second (another payment) needs staff.
    const first = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), AS_ALICE);
    await engine.confirm(first.request.id, parseConfirmationToken(first.confirmation!.token)!.secret, 'email');
    const second = await engine.propose(refundOf(DEMO.actions.alicePartlyRefundedCharge, 1000), AS_ALICE);
    expect(second.approvalBecause).toEqual([expect.stringContaining('2nd refund in 30 days')]);
    const confirmed = await engine.confirm(second.request.id, parseConfirmationToken(second.confirmation!.token)!.secret, 'email');
    expect(confirmed).toMatchObject({ outcome: 'confirmed', request: { state: 'awaiting_approval' } });
  });

  it('a key without Refunds: Write fails the confirmed request at once, in words the customer understands, and nothing is refunded', async () => {
    const { process, fake, refundCalls } = await world();
    const { engine } = await process();
    fake.restrictKey(DEMO.apiKey, ['rak_refund_write']);
    const proposed = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), AS_ALICE);
    const confirmed = await engine.confirm(proposed.request.id, parseConfirmationToken(proposed.confirmation!.token)!.secret, 'email');
    expect(confirmed).toMatchObject({ outcome: 'confirmed', request: { state: 'failed', failure_reason: expect.stringContaining('not allowed to do this yet') }, execution: { attempts: 1 } });
    expect(refundCalls().map((call) => call.status)).toEqual([403]);
    // Not left for the resumer: nothing happened on Stripe's side.
    expect((await engine.sweep()).resumed).toEqual([]);
  });

  it('an email matched without proof (VERIFY_MODE=trust-email) is confirmed only through the emailed link, never the host button', async () => {
    const { process, refundCalls } = await world();
    const typedAlice = customerPrincipal(DEMO.emails.alice, 'trust-email');
    const asTyped: Proposer = { principal: typedAlice, caller: 'host:acme-bot', conversation: 'conv-typed', surface: 'tools' };
    // No way to mail the link: nothing can prove the mailbox, so nothing is created.
    const { engine: mailless } = await process();
    await expect(mailless.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), asTyped)).rejects.toMatchObject({ kind: 'refused' });
    expect(await mailless.requests.listForCustomer(null, DEMO.customers.alice)).toEqual([]);

    const mails: ConfirmationMail[] = [];
    const { engine } = await process({ publicUrl: 'https://billing.example.com', sendConfirmation: async (mail) => void mails.push(mail) });
    const proposed = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), asTyped);
    expect(proposed).toMatchObject({ emailed: true, request: { state: 'awaiting_confirmation' } });
    expect(proposed.confirmation).toBeUndefined();
    const { requestId, secret } = parseConfirmationToken(mails[0]!.url.slice(mails[0]!.url.lastIndexOf('/') + 1))!;
    // Whoever typed alice's address cannot press a button with the link's secret either.
    expect(await engine.confirm(requestId, secret, 'host', { owner: typedAlice })).toEqual({ outcome: 'invalid' });
    expect(refundCalls()).toHaveLength(0);
    expect(await engine.confirm(requestId, secret, 'email')).toMatchObject({ outcome: 'confirmed', request: { state: 'done' } });
    expect(refundCalls()).toHaveLength(1);
  });

  it('a staff note with a NUL, a control character or a lone surrogate is kept as both databases can store it', async () => {
    const { process } = await world();
    const { engine } = await process();
    const asStaff: Proposer = { principal: staffPrincipal('support'), caller: 'staff:support', conversation: undefined, surface: 'tools' };
    const old = { check: { kind: 'refund' as const, amount: 2900, currency: 'usd', reason: 'duplicate', payment_created: NOW - 20 * 86_400 } };
    const denied = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900, old), asStaff);
    expect(await engine.deny(denied.request.id, 'staff:lead', 'no\u0000 thanks\u0007 \ud800')).toMatchObject({ outcome: 'applied', request: { state: 'denied' } });
    expect((await engine.requests.get(denied.request.id))?.note).toBe('no thanks \ufffd');
    const approved = await engine.propose(refundOf(DEMO.actions.alicePartlyRefundedCharge, 1000, old), asStaff);
    expect(await engine.approve(approved.request.id, 'staff:lead', 'ok\u0000')).toMatchObject({ outcome: 'applied', request: { state: 'done', note: 'ok' } });
  });

  it('a request a host key made is found for that host only; a staff-made one for any caller; another merchant’s for none', async () => {
    const { process } = await world();
    const { engine } = await process();
    const hostMade = (await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), AS_ALICE)).request;
    expect(await engine.findForCaller(hostMade.id, 'host:acme-bot')).toMatchObject({ id: hostMade.id });
    for (const caller of ['host:other-bot', 'staff:acme-bot', 'host:acme-bot2', undefined]) expect(await engine.findForCaller(hostMade.id, caller)).toBeUndefined();
    const asStaff: Proposer = { principal: staffPrincipal('support'), caller: 'staff:support', conversation: undefined, surface: 'tools' };
    const old = { check: { kind: 'refund' as const, amount: 1000, currency: 'usd', reason: 'duplicate', payment_created: NOW - 20 * 86_400 } };
    const staffMade = (await engine.propose(refundOf(DEMO.actions.alicePartlyRefundedCharge, 1000, old), asStaff)).request;
    for (const caller of ['host:acme-bot', 'host:other-bot', undefined]) expect(await engine.findForCaller(staffMade.id, caller)).toMatchObject({ id: staffMade.id });
    expect(await engine.findForCaller('req_unknown0000000000000000', 'host:acme-bot')).toBeUndefined();
    // Platform mode: the same table, another merchant's engine finds neither.
    const { engine: globex } = await process({ tenantId: 'globex' });
    expect(await globex.find(hostMade.id)).toBeUndefined();
    expect(await globex.findForCaller(hostMade.id, 'host:acme-bot')).toBeUndefined();
    expect(await globex.findForCaller(staffMade.id, 'staff:support')).toBeUndefined();
  });

  it('platform mode: one merchant’s sweep neither expires nor resumes another merchant’s requests (nor calls its own Stripe for them)', async () => {
    const target = kind === 'sqlite' ? join(tempDir(), 'audit.db') : await postgres().createDatabase();
    const store = kind === 'sqlite' ? new SqliteAuditStore(target, TEST_AUDIT_KEYS) : new PostgresAuditStore(target, TEST_AUDIT_KEYS);
    await store.migrate();
    const trail = await testTrail(store);
    opened.push(trail);
    let clock = Date.now();
    // Each merchant's engine on the one shared trail, with its own Stripe account.
    const merchant = (tenantId: string, fake: FakeStripe, failing: boolean) =>
      new ActionsEngine({
        requests: new RequestStore(store.sql, { keys: confirmationKeysFrom(TEST_AUDIT_KEYS), now: () => clock }),
        policy: () => EXAMPLE_POLICY,
        stripe: new Stripe(DEMO.apiKey, {
          httpClient: Stripe.createFetchHttpClient((input, init) => (failing ? Promise.reject(new Error('connection reset')) : fake.handle(new Request(input as string, init)))),
          maxNetworkRetries: 0,
        }),
        invalidateCustomer: async () => undefined,
        log: silentLogger(),
        tenantId,
        audit: trail,
        execute: { sleep: noSleep, delaysMs: [] },
      });
    const acmeStripe = new FakeStripe({ now: NOW, actionFixtures: true });
    const acme = merchant('acme', acmeStripe, false);
    // Globex's Stripe does not answer: its staff refund stays `executing`, for globex's resumer.
    const globex = merchant('globex', new FakeStripe({ now: NOW, actionFixtures: true }), true);
    const staffCall: Proposer = { principal: staffPrincipal('support'), caller: 'staff:support', conversation: undefined, surface: 'tools' };
    const quiet = await globex.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), staffCall);
    expect(quiet.request).toMatchObject({ tenant_id: 'globex', state: 'executing' });
    const unconfirmed = await globex.propose(refundOf(DEMO.actions.alicePartlyRefundedCharge, 1000), AS_ALICE);

    clock += 60 * 60_000;
    expect(await acme.sweep()).toEqual({ expired: [], resumed: [], reconcile: [] });
    expect(acmeStripe.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(await globex.requests.get(quiet.request.id)).toMatchObject({ state: 'executing' });
    expect(await globex.requests.get(unconfirmed.request.id)).toMatchObject({ state: 'awaiting_confirmation' });
    // Globex's own sweep does both.
    const swept = await globex.sweep();
    expect(swept.expired).toEqual([unconfirmed.request.id]);
    expect(swept.resumed.map((result) => result.request.id)).toEqual([quiet.request.id]);
  });

  it('asking again for the same payment replaces the unconfirmed request: the old link confirms nothing', async () => {
    const { process, refundCalls } = await world();
    const { engine } = await process();
    const first = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 1000), AS_ALICE);
    const second = await engine.propose(refundOf(DEMO.actions.aliceDuplicateCharge, 2900), AS_ALICE);
    expect(await engine.requests.get(first.request.id)).toMatchObject({ state: 'canceled', decided_by: 'superseded' });
    expect(await engine.confirm(first.request.id, parseConfirmationToken(first.confirmation!.token)!.secret, 'email')).toMatchObject({ outcome: 'already_decided' });
    // The replaced one does not count: the new one is still within auto_approve.
    expect(second.approvalBecause).toEqual([]);
    expect(await engine.confirm(second.request.id, parseConfirmationToken(second.confirmation!.token)!.secret, 'email')).toMatchObject({ request: { state: 'done' } });
    expect(refundCalls()).toHaveLength(1);
    expect(refundCalls()[0]!.params).toMatchObject({ amount: '2900' });
  });
});
