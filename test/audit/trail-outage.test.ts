/**
 * The audit trail while its Postgres goes away and comes back: the loss rule as a user of the
 * server sees it (calls keep answering, /readyz and /metrics say the trail is behind, records
 * are held and written in order once the database is back, lost ones are counted), the
 * fail-closed mode (AUDIT_REQUIRED refuses calls, records the refusals), and that the real
 * `serve` process survives its database connections being cut, idle or mid-write.
 */
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { conversationHash } from '../../src/audit/call-entry.js';
import { CHAIN_LOCK_KEY, PostgresAuditStore } from '../../src/audit/postgres-audit-store.js';
import type { AuditRow } from '../../src/audit/record.js';
import { verifyChain } from '../../src/audit/verify-chain.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { DEMO_CUSTOMER_EMAIL, DEMO_HOST_KEY, DEMO_IDENTITY_SECRET, DEMO_STAFF_KEY, mintIdentityToken } from '../../src/demo/demo-identity.js';
import { AUDIT_UNAVAILABLE_MESSAGE } from '../../src/tools/lib/run-tool.js';
import { openTestStore, TEST_AUDIT_KEY, TEST_AUDIT_KEYS, testTrail } from '../support/audit.js';
import { HOST_A, STAFF, startHttpFixture, type HttpFixture } from '../support/http-harness.js';
import { usePostgresServer } from '../support/postgres-server.js';
import { killedAfterEach, startServeDemo } from '../support/serve-process.js';

const postgres = usePostgresServer();

// Pause/resume restart a real server and the trail retries with a backoff of up to 5 s.
const CATCH_UP = { timeout: 20_000, interval: 100 };

interface ToolAnswer {
  is_error: boolean;
  result?: Record<string, unknown>;
  text?: string;
  error?: { kind: string; message: string };
}

/** A customer's call over plain JSON, as host-a with alice's identity token, in a named conversation. */
async function customerCall(fx: HttpFixture, tool: string, conversation: string): Promise<{ status: number; body: ToolAnswer; raw: string }> {
  const response = await fetch(`${fx.url}/v1/tools/${tool}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${HOST_A}`, 'x-customer-token': await fx.token(DEMO.emails.alice), 'x-conversation-id': conversation, 'content-type': 'application/json' },
    body: '{}',
  });
  const raw = await response.text();
  return { status: response.status, body: JSON.parse(raw) as ToolAnswer, raw };
}

async function readyz(url: string): Promise<{ status: number; body: { status: string; audit?: { state: string; pending: number; lost: number; problem?: string } } }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as never };
}

/** How the trail stores host-a's conversation id (the raw id is never kept). */
const hashOf = (conversation: string) => conversationHash(`host:host-a:${conversation}`);

/** Every row, oldest first. */
async function allRows(store: AuditStore): Promise<AuditRow[]> {
  return (await store.find({ limit: 10_000 })).reverse();
}

/** A trail whose log lines are kept, to see that losses are said out loud. */
async function loggedTrail(store: AuditStore, options: { bufferLimit: number; required?: boolean }): Promise<{ trail: AuditTrail; lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
  const trail = new AuditTrail({ store, log, bufferLimit: options.bufferLimit, required: options.required ?? false, flushDelayMs: 1 });
  await trail.start();
  return { trail, lines };
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Later resources first: the fixture before the trail it writes to.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** Polls `read` until `done` holds (or the catch-up time is over) and returns the last value: a crash ends the wait early. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + CATCH_UP.timeout;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, CATCH_UP.interval));
  }
}

/** Pauses Postgres for `during`, resuming it afterwards even when an assertion fails. */
async function withPostgresDown<T>(during: () => Promise<T>): Promise<T> {
  await postgres().pause();
  try {
    return await during();
  } finally {
    await postgres().resume();
  }
}

describe('an outage shorter than the buffer', () => {
  it('answers calls normally, says the trail is behind, then writes every held record in order', async () => {
    const store = await openTestStore('postgres', { postgres: postgres() });
    const trail = await testTrail(store);
    cleanups.push(() => trail.close());
    const fx = await startHttpFixture({}, { audit: trail });
    cleanups.push(() => fx.close());

    const before = await customerCall(fx, 'get_subscription_status', 'outage-0');
    expect(before.body.is_error).toBe(false);
    await expect.poll(() => trail.status().written, CATCH_UP).toBe(1);

    const N = 6;
    await withPostgresDown(async () => {
      for (let i = 1; i <= N; i += 1) {
        const answer = await customerCall(fx, 'get_subscription_status', `outage-${i}`);
        expect(answer.status).toBe(200);
        expect(answer.body, answer.raw).toMatchObject({ is_error: false, result: { subscriptions: expect.any(Array) } });
      }
      await expect.poll(() => trail.status(), CATCH_UP).toMatchObject({ state: 'behind', problem: 'unreachable', pending: N, written: 1, lost: 0 });
      // Not required: the server stays ready (calls answer), and says the trail is behind.
      const ready = await readyz(fx.url);
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', audit: { state: 'behind', pending: N, lost: 0, problem: 'unreachable' } });
    });

    await expect.poll(() => trail.status(), CATCH_UP).toMatchObject({ state: 'ok', pending: 0, written: N + 1, lost: 0 });
    expect((await readyz(fx.url)).body.audit).toEqual({ state: 'ok', pending: 0, lost: 0 });
    const rows = await allRows(store);
    expect(rows.map((row) => row.conversation)).toEqual([0, ...Array.from({ length: N }, (_, i) => i + 1)].map((i) => hashOf(`outage-${i}`)));
    for (const row of rows) {
      expect(row).toMatchObject({ kind: 'call', surface: 'tools', caller: 'host:host-a', tool: 'get_subscription_status', outcome: 'ok', email: DEMO.emails.alice });
      expect(row.disclosed.length).toBeGreaterThan(0);
    }
    expect(await verifyChain(store)).toMatchObject({ ok: true, records: N + 1, first_seq: 1, last_seq: N + 1 });
  });
});

describe('an outage longer than the buffer', () => {
  it('holds bufferLimit records, counts the rest as lost in status, /readyz, /metrics and the log, and writes the held ones', async () => {
    const store = await openTestStore('postgres', { postgres: postgres() });
    const { trail, lines } = await loggedTrail(store, { bufferLimit: 3 });
    cleanups.push(() => trail.close());
    const fx = await startHttpFixture({}, { audit: trail });
    cleanups.push(() => fx.close());

    await withPostgresDown(async () => {
      for (let i = 1; i <= 5; i += 1) {
        const answer = await customerCall(fx, 'get_subscription_status', `overflow-${i}`);
        expect(answer.body.is_error, answer.raw).toBe(false);
      }
      await expect.poll(() => trail.status(), CATCH_UP).toMatchObject({ state: 'behind', pending: 3, lost: 2, written: 0 });
      expect((await readyz(fx.url)).body.audit).toMatchObject({ state: 'behind', pending: 3, lost: 2 });
      const metrics = await (await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${STAFF}` } })).text();
      expect(metrics).toContain('sbm_audit_records_total{result="lost"} 2');
      expect(metrics).toContain('sbm_audit_records_pending 3');
      expect(metrics).toContain('sbm_audit_behind 1');
      // Never silently: the loss is logged, with the buffer that overflowed.
      expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: 'audit trail: buffer full, records lost', buffer: 3 }));
    });

    await expect.poll(() => trail.status(), CATCH_UP).toMatchObject({ state: 'ok', pending: 0, written: 3, lost: 2 });
    // The first three were held (in order); the two that found the buffer full are the lost ones.
    expect((await allRows(store)).map((row) => row.conversation)).toEqual([1, 2, 3].map((i) => hashOf(`overflow-${i}`)));
    expect(await verifyChain(store)).toMatchObject({ ok: true, records: 3 });
    const metrics = await (await fetch(`${fx.url}/metrics`, { headers: { authorization: `Bearer ${STAFF}` } })).text();
    expect(metrics).toContain('sbm_audit_records_total{result="lost"} 2');
    expect(metrics).toContain('sbm_audit_records_total{result="written"} 3');
    expect(metrics).toContain('sbm_audit_behind 0');
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'audit trail: database is back, writing held records' }));
  });
});

describe('stopping while Postgres is down', () => {
  it('counts the records it could not write as lost, and says so', async () => {
    const store = await openTestStore('postgres', { postgres: postgres() });
    const { trail, lines } = await loggedTrail(store, { bufferLimit: 100 });
    cleanups.push(() => trail.close());
    const fx = await startHttpFixture({}, { audit: trail });
    cleanups.push(() => fx.close());
    await withPostgresDown(async () => {
      for (const conversation of ['stop-1', 'stop-2']) expect((await customerCall(fx, 'get_subscription_status', conversation)).body.is_error).toBe(false);
      // As on SIGTERM: the server drains, then closes the trail, which cannot write what it holds.
      await fx.close();
      expect(trail.status()).toMatchObject({ pending: 0, written: 0, lost: 2 });
      expect(lines).toContainEqual(expect.objectContaining({ level: 50, msg: 'audit trail: records not written before shutdown are lost', lost: 2 }));
    });
  });
});

describe('AUDIT_REQUIRED', () => {
  it('refuses customer calls while Postgres is down, is unready, answers again after, and keeps the refusals', async () => {
    const store = await openTestStore('postgres', { postgres: postgres() });
    const trail = await testTrail(store, { required: true });
    cleanups.push(() => trail.close());
    const fx = await startHttpFixture({}, { audit: trail });
    cleanups.push(() => fx.close());

    const before = await customerCall(fx, 'get_billing_info', 'required-0');
    expect(before.body.is_error, before.raw).toBe(false);
    expect(before.raw).toContain(DEMO.customers.alice);

    await withPostgresDown(async () => {
      // The first call finds the trail idle and is refused when its record cannot be committed;
      // the second finds it behind and is refused before anything is looked up.
      for (const conversation of ['required-1', 'required-2']) {
        const refused = await customerCall(fx, 'get_billing_info', conversation);
        expect(refused.status).toBe(200);
        expect(refused.body).toEqual({ is_error: true, error: { kind: 'temporarily_unavailable', message: AUDIT_UNAVAILABLE_MESSAGE } });
        // Nothing of alice's billing in the answer.
        expect(refused.raw).not.toContain(DEMO.customers.alice);
        expect(refused.raw).not.toContain('last4');
      }
      const ready = await readyz(fx.url);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'not_ready', audit: { state: 'behind', problem: 'unreachable' } });
    });

    await expect.poll(async () => (await readyz(fx.url)).status, CATCH_UP).toBe(200);
    const after = await customerCall(fx, 'get_billing_info', 'required-3');
    expect(after.body.is_error, after.raw).toBe(false);
    expect(trail.status()).toMatchObject({ state: 'ok', pending: 0, lost: 0 });

    const byConversation = new Map((await allRows(store)).map((row) => [row.conversation, row]));
    expect(byConversation.size).toBe(4);
    for (const conversation of ['required-0', 'required-3']) {
      expect(byConversation.get(hashOf(conversation))).toMatchObject({ outcome: 'ok', reason: null, tool: 'get_billing_info' });
      expect(byConversation.get(hashOf(conversation))!.disclosed.length).toBeGreaterThan(0);
    }
    for (const conversation of ['required-1', 'required-2']) {
      expect(byConversation.get(hashOf(conversation))).toMatchObject({ outcome: 'refused', reason: 'audit_unavailable', disclosed: [], write: null, tool: 'get_billing_info', email: DEMO.emails.alice });
    }
    expect(await verifyChain(store)).toMatchObject({ ok: true, records: 4 });
  });

  it('answers calls as soon as the database is back, even when nothing was waiting to be written', async () => {
    // A store whose database is down from the start: the trail is behind with an empty queue.
    const url = await postgres().createDatabase();
    const store = new PostgresAuditStore(url, TEST_AUDIT_KEYS);
    let trail: AuditTrail | undefined;
    await withPostgresDown(async () => {
      trail = await testTrail(store, { required: true });
      expect(trail.status()).toMatchObject({ state: 'behind', pending: 0 });
    });
    cleanups.push(() => trail!.close());
    await expect.poll(() => trail!.status().state, CATCH_UP).toBe('ok');
    const fx = await startHttpFixture({}, { audit: trail });
    cleanups.push(() => fx.close());
    expect((await customerCall(fx, 'get_subscription_status', 'late-start')).body.is_error).toBe(false);
    expect(await verifyChain(store)).toMatchObject({ ok: true, records: 1 });
  });
});

describe('serve with DATABASE_URL when Postgres goes away mid-run', () => {
  const started = killedAfterEach();

  it('keeps serving with its pool connections cut, idle and mid-write, and catches up after', async () => {
    const databaseUrl = await postgres().createDatabase();
    const served = await startServeDemo({ DATABASE_URL: databaseUrl, AUDIT_KEY: TEST_AUDIT_KEY });
    started.push(served);
    const { url, child, exited } = served;

    const token = await mintIdentityToken(DEMO_CUSTOMER_EMAIL, DEMO_IDENTITY_SECRET, 600);
    const call = async (conversation: string) => {
      const response = await fetch(`${url}/v1/tools/get_subscription_status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${DEMO_HOST_KEY}`, 'x-customer-token': token, 'x-conversation-id': conversation, 'content-type': 'application/json' },
        body: '{}',
      });
      return (await response.json()) as ToolAnswer;
    };
    const readable = new PostgresAuditStore(databaseUrl, TEST_AUDIT_KEYS);
    cleanups.push(() => readable.close());
    const demoCalls = async () => (await readable.find({ limit: 1000 })).filter((row) => row.caller === 'host:demo-host').length;

    expect((await call('midrun-1')).is_error).toBe(false);
    // The self-check and midrun-1 are written: the pool now holds an idle connection.
    await expect.poll(demoCalls, CATCH_UP).toBe(2);

    // Hold the chain lock from outside, so the next write waits inside its transaction, its
    // connection checked out of the pool, when the server goes down.
    const blocker = new pg.Client({ connectionString: databaseUrl });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK_KEY]);
    expect((await call('midrun-2')).is_error).toBe(false);
    await expect
      .poll(async () => Number((await blocker.query(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`)).rows[0].n), CATCH_UP)
      .toBe(1);
    // A staff read meanwhile takes a second connection, which then waits idle in the pool.
    const staffRead = async () => fetch(`${url}/v1/audit?email=${DEMO_CUSTOMER_EMAIL}`, { headers: { authorization: `Bearer ${DEMO_STAFF_KEY}` } });
    const read = await staffRead();
    expect(read.status).toBe(200);
    expect(((await read.json()) as { records: unknown[] }).records).toHaveLength(2);

    // For a failure's message: who holds or waits for the chain lock just before the outage.
    const locksBefore = JSON.stringify((await blocker.query(`SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory'`)).rows);
    await withPostgresDown(async () => {
      // Cut connections: the process is still up and answering (the trail is not required).
      let lastAudit: unknown;
      const state = await until(
        async () => {
          if (child.exitCode !== null) return `exited ${child.exitCode}`;
          const audit = (await readyz(url).catch(() => undefined))?.body.audit;
          lastAudit = audit;
          return audit?.state ?? 'no answer';
        },
        (value) => value !== 'ok',
      );
      expect(state, `readyz audit ${JSON.stringify(lastAudit)}; advisory locks before the outage ${locksBefore}\n${served.stderr()}`).toBe('behind');
      expect((await call('midrun-3')).is_error).toBe(false);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await staffRead()).status).toBe(503);
    });
    await blocker.end().catch(() => undefined);

    await expect.poll(async () => (await readyz(url)).body.audit, CATCH_UP).toEqual({ state: 'ok', pending: 0, lost: 0 });
    expect(child.exitCode).toBeNull();
    expect((await call('midrun-4')).is_error).toBe(false);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The lost connections were logged, not thrown.
    expect(served.stderr()).toContain('audit trail: Postgres connection lost');
    expect(served.stderr()).not.toMatch(/Unhandled|uncaught/i);
    const conversations = (await readable.find({ limit: 1000 })).filter((row) => row.caller === 'host:demo-host' && row.conversation !== null).map((row) => row.conversation);
    expect(conversations.sort()).toEqual(['midrun-1', 'midrun-2', 'midrun-3', 'midrun-4'].map((id) => conversationHash(`host:demo-host:${id}`)).sort());
    expect(await verifyChain(readable)).toMatchObject({ ok: true, records: 5 });
  }, 60_000);
});
