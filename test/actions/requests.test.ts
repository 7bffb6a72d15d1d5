import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { confirmationKeysFrom, confirmationToken, parseConfirmationToken, type ConfirmationKeys } from '../../src/actions/confirmation-secret.js';
import { classifyStripeFailure, executeOnce, MISSING_PERMISSION_REASON, idempotencyKeyFor, resumeQuietExecutions, type StripeCall } from '../../src/actions/execute-request.js';
import { FINAL_STATES, REQUEST_STATES, type MoveName } from '../../src/actions/request-states.js';
import { RequestStore, type ActionRequest, type ExecutionClaim, type NewRequest } from '../../src/actions/requests.js';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { PostgresAuditStore } from '../../src/audit/postgres-audit-store.js';
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.js';
import { TEST_AUDIT_KEYS, tempDirAfterAll } from '../support/audit.js';
import { postgresSql, sqliteSql } from '../support/raw-sql.js';
import { usePostgresServer } from '../support/postgres-server.js';

const postgres = usePostgresServer();
const tempDir = tempDirAfterAll('sbm-actions-');
const KEYS: ConfirmationKeys = confirmationKeysFrom(TEST_AUDIT_KEYS);
const START = Date.parse('2026-12-06T10:00:00.000Z');
const MINUTE = 60_000;
const noSleep = async () => undefined;

function refundRequest(overrides: Partial<NewRequest> = {}): NewRequest {
  return {
    tenant_id: null,
    kind: 'refund',
    customer_id: 'cus_Ana1',
    email: 'ana@example.com',
    principal: 'customer',
    created_by: 'host:acme-bot',
    conversation: 'conv-secret-id-1',
    params: { charge: 'ch_1', amount: 1500, currency: 'usd', reason: 'duplicate' },
    preview: { text: 'Refund $15.00 of your payment of 2026-12-01 to your card ending 4242.' },
    ...overrides,
  };
}

/**
 * A stand-in for Stripe's create endpoint with its idempotency semantics: the first successful
 * answer to a key is saved and replayed; `effects` counts objects really made.
 */
function countingStripe(options: { delayMs?: number; failFirst?: number } = {}) {
  const saved = new Map<string, string>();
  const keys: string[] = [];
  let effects = 0;
  let failures = options.failFirst ?? 0;
  const call: StripeCall = async (_request, idempotencyKey) => {
    keys.push(idempotencyKey);
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (failures > 0) {
      failures--;
      throw new Stripe.errors.StripeAPIError({ type: 'api_error', statusCode: 500, message: 'An unknown error occurred' });
    }
    const replay = saved.get(idempotencyKey);
    if (replay) return { stripe_object_id: replay };
    effects++;
    const id = `re_${effects}`;
    saved.set(idempotencyKey, id);
    return { stripe_object_id: id };
  };
  return { call, keys, effects: () => effects };
}

type Kind = 'sqlite' | 'postgres';

describe.each<Kind>(['sqlite', 'postgres'])('action requests (%s)', (kind) => {
  const opened: AuditStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  /** One empty database; `open()` is another "process" on it (its own connection pool or SQLite worker). */
  async function freshDatabase() {
    const target = kind === 'sqlite' ? join(tempDir(), 'audit.db') : await postgres().createDatabase();
    let now = START;
    const clock = {
      now: () => now,
      advance: (ms: number) => {
        now += ms;
      },
    };
    const open = async (): Promise<RequestStore> => {
      const store = kind === 'sqlite' ? new SqliteAuditStore(target, TEST_AUDIT_KEYS) : new PostgresAuditStore(target, TEST_AUDIT_KEYS);
      opened.push(store);
      await store.migrate();
      return new RequestStore(store.sql, { keys: KEYS, now: clock.now });
    };
    /** Raw SQL around the stores, `$n` placeholders for both. */
    const sql = kind === 'sqlite' ? sqliteSql(target) : postgresSql(target);
    return { target, clock, open, sql };
  }

  it('a confirmation moves a request on once: within auto_approve to executing with a claim, above it to the approval queue', async () => {
    const { open } = await freshDatabase();
    const requests = await open();
    const { request, secret } = await requests.create(refundRequest());
    expect(request).toMatchObject({ state: 'awaiting_confirmation', state_version: 1, confirm_expires_at: '2026-12-06T10:15:00.000Z', claimed_at: null });
    expect(request.id).toMatch(/^req_[A-Za-z0-9_-]{22}$/);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The conversation is stored hashed.
    expect(request.conversation).toMatch(/^[0-9a-f]{32}$/);
    expect(parseConfirmationToken(confirmationToken(request.id, secret))).toEqual({ requestId: request.id, secret });

    const confirmed = await requests.confirm(request.id, secret, { channel: 'email', route: () => 'execute' });
    expect(confirmed).toMatchObject({ outcome: 'confirmed', request: { state: 'executing', state_version: 2, confirmed_via: 'email', claimed_at: '2026-12-06T10:00:00.000Z' } });
    expect(confirmed.outcome === 'confirmed' && confirmed.claim?.request.id).toBe(request.id);
    // The same secret again: used.
    expect(await requests.confirm(request.id, secret, { channel: 'email', route: () => 'execute' })).toMatchObject({ outcome: 'already_decided', request: { state: 'executing' } });

    // The Cancel button carries the secret too, and a canceled link confirms nothing.
    const canceled = await requests.create(refundRequest());
    expect(await requests.cancelWithSecret(canceled.request.id, canceled.secret)).toMatchObject({ outcome: 'canceled', request: { state: 'canceled', decided_by: 'customer' } });
    expect(await requests.confirm(canceled.request.id, canceled.secret, { channel: 'email', route: () => 'execute' })).toMatchObject({ outcome: 'already_decided', request: { state: 'canceled' } });

    const second = await requests.create(refundRequest());
    const waiting = await requests.confirm(second.request.id, second.secret, { channel: 'host', route: () => 'approval' });
    expect(waiting).toMatchObject({ outcome: 'confirmed', request: { state: 'awaiting_approval', confirmed_via: 'host' } });
    expect(waiting.outcome === 'confirmed' && waiting.claim).toBeUndefined();
    expect((await requests.listByState(null, 'awaiting_approval')).map((r) => r.id)).toEqual([second.request.id]);
    // The link is single-use: once it confirmed, its Cancel changes nothing (whoever holds the link later).
    expect(await requests.cancelWithSecret(second.request.id, second.secret)).toMatchObject({ outcome: 'already_decided', request: { state: 'awaiting_approval' } });
    expect(await requests.get(second.request.id)).toMatchObject({ state: 'awaiting_approval', state_version: 2 });
  });

  it('a wrong secret, another request\'s secret, a made-up id or another customer confirms nothing', async () => {
    const { open } = await freshDatabase();
    const requests = await open();
    const a = await requests.create(refundRequest());
    const b = await requests.create(refundRequest());
    const route = () => 'execute' as const;
    expect(await requests.confirm(a.request.id, b.secret, { channel: 'email', route })).toEqual({ outcome: 'invalid' });
    expect(await requests.confirm(a.request.id, `${a.secret.slice(0, -1)}${a.secret.endsWith('A') ? 'B' : 'A'}`, { channel: 'email', route })).toEqual({ outcome: 'invalid' });
    expect(await requests.confirm(a.request.id, '', { channel: 'email', route })).toEqual({ outcome: 'invalid' });
    expect(await requests.confirm('req_AAAAAAAAAAAAAAAAAAAAAA', a.secret, { channel: 'email', route })).toEqual({ outcome: 'invalid' });
    expect(await requests.confirm(a.request.id, a.secret, { channel: 'host', route, owner: { tenant_id: null, customer_id: 'cus_Ben1' } })).toEqual({ outcome: 'invalid' });
    expect(await requests.confirm(a.request.id, a.secret, { channel: 'host', route, owner: { tenant_id: 'tn_other', customer_id: 'cus_Ana1' } })).toEqual({ outcome: 'invalid' });
    expect(await requests.get(a.request.id)).toMatchObject({ state: 'awaiting_confirmation', state_version: 1 });
    // Staff-made requests have no secret to match.
    const staff = await requests.createByStaff(refundRequest({ created_by: 'staff:alice' }), 'approval');
    expect(await requests.confirm(staff.request.id, a.secret, { channel: 'email', route })).toEqual({ outcome: 'invalid' });
    expect(await requests.cancelWithSecret(a.request.id, b.secret)).toEqual({ outcome: 'invalid' });
    // The right one still works.
    expect(await requests.confirm(a.request.id, a.secret, { channel: 'host', route, owner: { tenant_id: null, customer_id: 'cus_Ana1' } })).toMatchObject({ outcome: 'confirmed' });
  });

  it('allows exactly the moves of the state table, each from its own states only', async () => {
    const { open, sql, clock } = await freshDatabase();
    const requests = await open();
    const attempts: Record<MoveName, (request: ActionRequest, secret: string) => Promise<boolean>> = {
      confirm_for_approval: async (r, secret) => (await requests.confirm(r.id, secret, { channel: 'email', route: () => 'approval' })).outcome === 'confirmed',
      confirm_and_execute: async (r, secret) => (await requests.confirm(r.id, secret, { channel: 'email', route: () => 'execute' })).outcome === 'confirmed',
      approve: async (r) => (await requests.approve(r.id, 'staff:bob')).outcome === 'applied',
      deny: async (r) => (await requests.deny(r.id, 'staff:bob', 'not eligible')).outcome === 'applied',
      cancel: async (r) => (await requests.cancel(r.id, 'customer')).outcome === 'applied',
      expire: async (r) => {
        // Past the confirmation's 15 minutes: only the unconfirmed expire.
        clock.advance(16 * MINUTE);
        try {
          return (await requests.expireStale(null)).includes(r.id);
        } finally {
          clock.advance(-16 * MINUTE);
        }
      },
      resume: async (r) => (await requests.resume(r)) !== undefined,
      // A claim that believes the row is executing: the database's compare-and-set is what refuses.
      succeed: async (r) => (await requests.finish({ request: { ...r, state: 'executing' } } as unknown as ExecutionClaim, { stripe_object_id: 're_1' })) !== undefined,
      fail: async (r) => (await requests.finish({ request: { ...r, state: 'executing' } } as unknown as ExecutionClaim, { failure_reason: 'no' })) !== undefined,
    };
    const applied: string[] = [];
    for (const state of REQUEST_STATES) {
      for (const [move, attempt] of Object.entries(attempts) as Array<[MoveName, (typeof attempts)[MoveName]]>) {
        const { request, secret } = await requests.create(refundRequest());
        await sql('UPDATE action_requests SET state = $1 WHERE id = $2', [state, request.id]);
        const before = (await requests.get(request.id))!;
        const ok = await attempt(before, secret);
        const after = (await requests.get(request.id))!;
        if (ok) {
          applied.push(`${state} -${move}-> ${after.state}`);
          expect(after.state_version).toBe(2);
        } else {
          expect(after).toEqual(before);
        }
      }
    }
    expect(applied.sort()).toEqual(
      [
        'awaiting_confirmation -confirm_for_approval-> awaiting_approval',
        'awaiting_confirmation -confirm_and_execute-> executing',
        'awaiting_confirmation -cancel-> canceled',
        'awaiting_confirmation -expire-> expired',
        'awaiting_approval -approve-> executing',
        'awaiting_approval -deny-> denied',
        'awaiting_approval -cancel-> canceled',
        'executing -resume-> executing',
        'executing -succeed-> done',
        'executing -fail-> failed',
      ].sort(),
    );
    expect([...FINAL_STATES].sort()).toEqual(['canceled', 'denied', 'done', 'expired', 'failed']);
  });

  it('a staff key cannot approve its own request; a denial keeps who and why', async () => {
    const { open } = await freshDatabase();
    const requests = await open();
    const own = await requests.createByStaff(refundRequest({ created_by: 'staff:alice' }), 'approval');
    expect(own.request).toMatchObject({ state: 'awaiting_approval', principal: 'staff', confirmed_via: 'staff' });
    expect(await requests.approve(own.request.id, 'staff:alice')).toMatchObject({ outcome: 'own_request' });
    const approved = await requests.approve(own.request.id, 'staff:bob', 'ok, duplicate charge');
    expect(approved).toMatchObject({ outcome: 'applied', request: { state: 'executing', decided_by: 'staff:bob', note: 'ok, duplicate charge' } });
    expect(approved.outcome === 'applied' && approved.claim?.request.state_version).toBe(2);

    const other = await requests.createByStaff(refundRequest({ created_by: 'staff:alice' }), 'approval');
    await requests.deny(other.request.id, 'staff:bob', 'outside the refund window');
    expect(await requests.get(other.request.id)).toMatchObject({ state: 'denied', decided_by: 'staff:bob', note: 'outside the refund window' });
    expect(await requests.approve('req_nope', 'staff:bob')).toEqual({ outcome: 'not_found' });

    const direct = await requests.createByStaff(refundRequest({ created_by: 'staff:alice' }), 'execute');
    expect(direct.claim?.request).toMatchObject({ state: 'executing', claimed_at: '2026-12-06T10:00:00.000Z' });
  });

  it('confirming twice at once makes one claim and one Stripe call', async () => {
    const { open } = await freshDatabase();
    const requests = await open();
    const stripe = countingStripe({ delayMs: 5 });
    const { request, secret } = await requests.create(refundRequest());
    const clicks = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        // The policy's route reads the database too: every click has read the row before any moves it.
        const route = async () => (await new Promise((resolve) => setTimeout(resolve, 20)), 'execute' as const);
        const result = await requests.confirm(request.id, secret, { channel: 'email', route });
        if (result.outcome === 'confirmed' && result.claim) await executeOnce(requests, result.claim, stripe.call, { sleep: noSleep });
        return result.outcome;
      }),
    );
    expect(clicks.sort()).toEqual(['already_decided', 'already_decided', 'already_decided', 'confirmed']);
    expect(stripe.keys).toEqual([idempotencyKeyFor(request.id)]);
    expect(await requests.get(request.id)).toMatchObject({ state: 'done', stripe_object_id: 're_1' });
  });

  it('two processes on one database confirming, approving and resuming at once make one Stripe call per request', async () => {
    const { open, clock } = await freshDatabase();
    const processes = [await open(), await open()];
    const stripe = countingStripe({ delayMs: 2 });
    const rounds = 8;
    for (let round = 0; round < rounds; round++) {
      const { request, secret } = await processes[0]!.create(refundRequest({ customer_id: `cus_${round}` }));
      // Each process gets two clicks on the same link.
      await Promise.all(
        [0, 1, 0, 1].map(async (p) => {
          const requests = processes[p]!;
          const route = async () => (await new Promise((resolve) => setTimeout(resolve, 5)), 'execute' as const);
          const result = await requests.confirm(request.id, secret, { channel: 'email', route });
          if (result.outcome === 'confirmed' && result.claim) await executeOnce(requests, result.claim, stripe.call, { sleep: noSleep });
        }),
      );
    }
    expect(stripe.effects()).toBe(rounds);
    expect(stripe.keys).toHaveLength(rounds);

    // Two staff members approving at once on two processes.
    const waiting = await processes[0]!.createByStaff(refundRequest({ created_by: 'staff:alice' }), 'approval');
    const approvals = await Promise.all(processes.map((requests, p) => requests.approve(waiting.request.id, `staff:approver${p}`)));
    const claims = approvals.flatMap((result) => (result.outcome === 'applied' && result.claim ? [result.claim] : []));
    expect(claims).toHaveLength(1);
    expect(approvals.map((result) => result.outcome).sort()).toEqual(['applied', 'not_allowed']);

    // A claim whose executor died: both processes' resumers wake at once; one takes it over.
    clock.advance(3 * MINUTE);
    const results = await Promise.all(processes.map((requests) => resumeQuietExecutions(requests, null, () => stripe.call, { sleep: noSleep })));
    expect(results.flatMap((result) => result.resumed).map((result) => result.outcome)).toEqual(['done']);
    expect(stripe.effects()).toBe(rounds + 1);
    expect(await processes[1]!.get(waiting.request.id)).toMatchObject({ state: 'done', stripe_object_id: `re_${rounds + 1}` });
  });

  it('Stripe answering 500 and then succeeding: one refund, the same idempotency key on both calls (through the Stripe SDK)', async () => {
    const { open } = await freshDatabase();
    const requests = await open();
    const seen: Array<{ key: string | null; body: string }> = [];
    const refunds = new Map<string, string>();
    let answer500 = 1;
    const fakeFetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const headers = new Headers(init?.headers);
      const key = headers.get('idempotency-key');
      seen.push({ key, body: String(init?.body ?? '') });
      if (answer500-- > 0) return Response.json({ error: { type: 'api_error', message: 'Something went wrong on our end' } }, { status: 500 });
      const id = refunds.get(key!) ?? `re_${refunds.size + 1}`;
      refunds.set(key!, id);
      return Response.json({ id, object: 'refund', amount: 1500, currency: 'usd', status: 'succeeded' });
    };
    const stripe = new Stripe('sk_test_requests', { httpClient: Stripe.createFetchHttpClient(fakeFetch), maxNetworkRetries: 0, telemetry: false });
    const call: StripeCall = async (request, idempotencyKey) => {
      const refund = await stripe.refunds.create({ charge: String(request.params.charge), amount: Number(request.params.amount) }, { idempotencyKey });
      return { stripe_object_id: refund.id };
    };
    const { request, secret } = await requests.create(refundRequest());
    const confirmed = await requests.confirm(request.id, secret, { channel: 'email', route: () => 'execute' });
    const delays: number[] = [];
    const result = await executeOnce(requests, (confirmed as { claim: ExecutionClaim }).claim, call, { sleep: async (ms) => void delays.push(ms) });
    expect(result).toMatchObject({ outcome: 'done', attempts: 2, request: { state: 'done', stripe_object_id: 're_1' } });
    expect(seen.map((s) => s.key)).toEqual([`sbm-${request.id}`, `sbm-${request.id}`]);
    expect(seen[0]!.body).toBe(seen[1]!.body);
    expect(refunds.size).toBe(1);
    expect(delays).toEqual([250]);
  });

  it('a definite refusal ends in failed with a safe reason, never Stripe\'s text', async () => {
    const { open } = await freshDatabase();
    const requests = await open();
    let calls = 0;
    const call: StripeCall = async () => {
      calls++;
      throw new Stripe.errors.StripeInvalidRequestError({ type: 'invalid_request_error', statusCode: 400, code: 'charge_already_refunded', message: 'Charge ch_1 (cus_Other) has already been refunded.' });
    };
    const { request, secret } = await requests.create(refundRequest());
    const confirmed = await requests.confirm(request.id, secret, { channel: 'email', route: () => 'execute' });
    const result = await executeOnce(requests, (confirmed as { claim: ExecutionClaim }).claim, call, { sleep: noSleep });
    expect(calls).toBe(1);
    expect(result).toMatchObject({ outcome: 'failed', request: { state: 'failed', failure_reason: 'This payment has already been refunded.' } });
    expect(await requests.get(request.id)).toMatchObject({ state: 'failed', failure_reason: 'This payment has already been refunded.', stripe_object_id: null });
  });

  it('retries that run out leave the request executing; the resumer finishes it with the same key, and leaves old ones for a person', async () => {
    const { open, clock } = await freshDatabase();
    const requests = await open();
    const stripe = countingStripe({ failFirst: 4 });
    const { request, secret } = await requests.create(refundRequest());
    const confirmed = await requests.confirm(request.id, secret, { channel: 'email', route: () => 'execute' });
    const first = await executeOnce(requests, (confirmed as { claim: ExecutionClaim }).claim, stripe.call, { sleep: noSleep });
    expect(first).toMatchObject({ outcome: 'unknown', attempts: 4 });
    expect(await requests.get(request.id)).toMatchObject({ state: 'executing' });

    // Not yet quiet: nobody takes it over.
    expect(await resumeQuietExecutions(requests, null, () => stripe.call, { sleep: noSleep })).toEqual({ resumed: [], reconcile: [] });
    clock.advance(3 * MINUTE);
    const resumed = await resumeQuietExecutions(requests, null, () => stripe.call, { sleep: noSleep });
    expect(resumed.resumed).toMatchObject([{ outcome: 'done', request: { state: 'done', state_version: 4 } }]);
    expect(new Set(stripe.keys)).toEqual(new Set([`sbm-${request.id}`]));
    expect(stripe.effects()).toBe(1);

    // Claimed a day ago and never finished: Stripe may have forgotten the key, so no call.
    const old = await requests.create(refundRequest());
    await requests.confirm(old.request.id, old.secret, { channel: 'email', route: () => 'execute' });
    clock.advance(24 * 60 * MINUTE);
    const calls = stripe.keys.length;
    const late = await resumeQuietExecutions(requests, null, () => stripe.call, { sleep: noSleep });
    expect(late.resumed).toEqual([]);
    expect(late.reconcile.map((r) => r.id)).toEqual([old.request.id]);
    expect(stripe.keys).toHaveLength(calls);
  });

  it('a confirmation older than 15 minutes is refused and the request expires; the sweeper expires the rest', async () => {
    const { open, clock } = await freshDatabase();
    const requests = await open();
    const onTime = await requests.create(refundRequest());
    const late = await requests.create(refundRequest());
    const forgotten = await requests.create(refundRequest());
    const canceledLate = await requests.create(refundRequest());
    const confirmedElsewhere = await requests.create(refundRequest());
    await requests.confirm(confirmedElsewhere.request.id, confirmedElsewhere.secret, { channel: 'email', route: () => 'approval' });
    clock.advance(15 * MINUTE - 1);
    expect(await requests.confirm(onTime.request.id, onTime.secret, { channel: 'email', route: () => 'approval' })).toMatchObject({ outcome: 'confirmed' });
    clock.advance(1);
    expect(await requests.confirm(late.request.id, late.secret, { channel: 'email', route: () => 'execute' })).toMatchObject({ outcome: 'expired', request: { state: 'expired' } });
    expect(await requests.confirm(late.request.id, late.secret, { channel: 'email', route: () => 'execute' })).toMatchObject({ outcome: 'expired' });
    // The link's Cancel, too late: the request expires on the click (not `canceled`), as the sweep would.
    expect(await requests.cancelWithSecret(canceledLate.request.id, canceledLate.secret)).toMatchObject({ outcome: 'expired', request: { state: 'expired', state_version: 2 } });
    expect(await requests.cancelWithSecret(canceledLate.request.id, canceledLate.secret)).toMatchObject({ outcome: 'expired', request: { state: 'expired', state_version: 2 } });
    expect(await requests.expireStale(null)).toEqual([forgotten.request.id]);
    expect(await requests.get(forgotten.request.id)).toMatchObject({ state: 'expired', state_version: 2 });
    expect(await requests.confirm(forgotten.request.id, forgotten.secret, { channel: 'email', route: () => 'execute' })).toMatchObject({ outcome: 'expired' });
    expect(await requests.get(confirmedElsewhere.request.id)).toMatchObject({ state: 'awaiting_approval' });
  });

  it('counts a customer\'s requests per kind and window from the database, as every process sees them', async () => {
    const { open, clock, sql } = await freshDatabase();
    const [one, two] = [await open(), await open()];
    const confirmed = async (input: NewRequest, route: 'execute' | 'approval' = 'approval') => {
      const { request, secret } = await one.create(input);
      await one.confirm(request.id, secret, { channel: 'email', route: () => route });
      return request;
    };
    const earliest = await confirmed(refundRequest());
    clock.advance(20 * 24 * 60 * MINUTE);
    await confirmed(refundRequest());
    await confirmed(refundRequest({ kind: 'credit' }));
    await confirmed(refundRequest({ customer_id: 'cus_Ben1' }));
    await confirmed(refundRequest({ tenant_id: 'tn_2' }));
    const unconfirmed = await one.create(refundRequest());
    const denied = await confirmed(refundRequest());
    await one.deny(denied.id, 'staff:bob', 'no');
    const count = (withinDays: number, extra: object = {}) => two.countForCustomer({ tenantId: null, customerId: 'cus_Ana1', kind: 'refund', withinDays, ...extra });
    // The earliest, the one 20 days later and the unconfirmed one; not the denied one, nor other kinds, customers or tenants.
    expect(await count(30)).toBe(3);
    expect(await count(10)).toBe(2);
    expect(await count(30, { excludeId: earliest.id })).toBe(2);
    expect(await count(30, { states: ['awaiting_approval'] })).toBe(2);
    expect(await count(30, { states: ['denied'] })).toBe(1);
    expect(await two.countForCustomer({ tenantId: 'tn_2', customerId: 'cus_Ana1', kind: 'refund', withinDays: 30 })).toBe(1);
    expect((await two.listForCustomer(null, 'cus_Ana1')).map((r) => r.id)).toContain(unconfirmed.request.id);
    // What the count reads is the table, not anything a process holds.
    await sql('DELETE FROM action_requests');
    expect(await count(30)).toBe(0);
  });

  it('never stores a confirmation secret in the clear', async () => {
    const { open, sql, target } = await freshDatabase();
    const requests = await open();
    const secrets: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { request, secret } = await requests.create(refundRequest());
      secrets.push(secret);
      if (i % 2 === 0) await requests.confirm(request.id, secret, { channel: 'email', route: () => (i === 0 ? 'execute' : 'approval') });
    }
    const forms = secrets.flatMap((secret) => {
      const bytes = Buffer.from(secret, 'base64url');
      return [secret, bytes.toString('hex'), bytes.toString('base64'), confirmationToken('x', secret).slice(2)];
    });
    const tables = (await sql(kind === 'sqlite' ? `SELECT name FROM sqlite_master WHERE type = 'table'` : `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`)).map((row) => String(row.name));
    expect(tables).toContain('action_requests');
    let dump = '';
    for (const table of tables) dump += JSON.stringify(await sql(`SELECT * FROM ${table}`));
    // The dump does hold the requests (and their HMACs).
    expect(dump).toContain('awaiting_approval');
    if (kind === 'sqlite') {
      // The file and its write-ahead log, byte for byte.
      const dir = dirname(target);
      for (const file of readdirSync(dir).filter((name) => name.startsWith('audit.db'))) dump += readFileSync(join(dir, file)).toString('latin1');
    }
    for (const form of forms) expect(dump.includes(form)).toBe(false);
  });
});

describe('classifyStripeFailure', () => {
  const raw = (type: string, statusCode: number, code?: string): Record<string, unknown> => ({ type, statusCode, code, message: 'Stripe text naming cus_Other' });
  it.each([
    ['a connection error', new Stripe.errors.StripeConnectionError(raw('api_error', 0)), { retry: true }],
    ['a 500', new Stripe.errors.StripeAPIError(raw('api_error', 500)), { retry: true }],
    ['a 429', new Stripe.errors.StripeRateLimitError(raw('invalid_request_error', 429, 'rate_limit')), { retry: true }],
    ['a 409 key in use', new Stripe.errors.StripeIdempotencyError(raw('idempotency_error', 409, 'idempotency_key_in_use')), { retry: true }],
    ['the key reused with other parameters', new Stripe.errors.StripeIdempotencyError(raw('idempotency_error', 400)), { retry: false, definite: false }],
    ['a missing permission', new Stripe.errors.StripePermissionError(raw('invalid_request_error', 403)), { retry: false, definite: true, reason: MISSING_PERMISSION_REASON }],
    ['a revoked key', new Stripe.errors.StripeAuthenticationError(raw('invalid_request_error', 401)), { retry: false, definite: false }],
    ['not a Stripe answer', new TypeError('x is undefined'), { retry: false, definite: false }],
    ['an already refunded charge', new Stripe.errors.StripeInvalidRequestError(raw('invalid_request_error', 400, 'charge_already_refunded')), { retry: false, definite: true, reason: 'This payment has already been refunded.' }],
    ['a refusal without a known code', new Stripe.errors.StripeCardError(raw('card_error', 402, 'something_new')), { retry: false, definite: true, reason: 'The billing system refused this request.' }],
    [
      'a card that declined a payment: the decline table’s words, never Stripe’s message',
      new Stripe.errors.StripeCardError({ ...raw('card_error', 402, 'card_declined'), decline_code: 'insufficient_funds' }),
      { retry: false, definite: true, reason: expect.stringMatching(/^The card was not charged: the card did not have enough funds or credit available for this payment\. Add funds/) },
    ],
    [
      'a decline that hints at a stolen card: told as a plain bank decline',
      new Stripe.errors.StripeCardError({ ...raw('card_error', 402, 'card_declined'), decline_code: 'rule' }),
      { retry: false, definite: true, reason: expect.stringMatching(/^The card was not charged: the bank declined the payment without giving a reason\./) },
    ],
  ])('%s', (_name, error, expected) => {
    expect(classifyStripeFailure(error)).toEqual(expected);
  });
});
