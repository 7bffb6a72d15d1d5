import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { AuditTrail } from '../../src/audit/audit-trail.js';
import { callEntry, storable } from '../../src/audit/call-entry.js';
import type { AuditEntry } from '../../src/audit/record.js';
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.js';
import { verifyChain } from '../../src/audit/verify-chain.js';
import { silentLogger } from '../../src/log.js';
import { isPlausibleEmail } from '../../src/verify/principal.js';
import { DEMO } from '../../src/demo/fake-stripe/index.js';
import { openTestStore, sampleEntry, tempDirAfterAll, testTrail } from '../support/audit.js';
import { STAFF, startHttpFixture } from '../support/http-harness.js';
import { panelSignIn } from '../support/panel.js';

/** What a visitor or a crash could do to the trail, and how it keeps going. */
const tempDir = tempDirAfterAll();

describe('text a visitor types cannot break the trail', () => {
  it('emails with control characters or lone surrogate halves are not emails', () => {
    for (const email of ['a\u0000b@example.com', 'a\u0007@example.com', 'a\ud800b@example.com', 'ok@exa\u001fmple.com']) expect(isPlausibleEmail(email), JSON.stringify(email)).toBe(false);
    expect(isPlausibleEmail('ana@example.com')).toBe(true);
  });

  it('every text field of a record is stored as given, so verification passes', async () => {
    const entry = callEntry({
      surface: 'tools',
      caller: 'host:bot\u0000',
      conversation: 'c',
      principal: { kind: 'customer', email: 'a\ud800b@example.com', verifiedBy: 'identity-token', issuer: 'https://id\u0000.example' },
      tool: 'get_x',
      failure: undefined,
      disclosed: [],
      write: undefined,
      email: 'a\ud800\u0000b@example.com',
      customerIds: ['cus_1\u0000'],
    });
    expect(entry.email).toBe(storable('a\ud800\u0000b@example.com'));
    expect(entry.email!.isWellFormed() && !entry.email!.includes('\u0000')).toBe(true);
    const store = await openTestStore('sqlite', { dir: tempDir() });
    await store.append([entry]);
    expect((await verifyChain(store)).ok).toBe(true);
    await store.close();
  });

  it('a record the database refuses is counted lost and logged; the records around it are written', async () => {
    const real = await openTestStore('sqlite', { dir: tempDir() });
    const poison = 'poison@example.com';
    // A database that refuses one record as invalid data (as Postgres refuses a NUL byte).
    const refusing: AuditStore = Object.assign(Object.create(real) as AuditStore, {
      append: async (entries: readonly AuditEntry[]) => {
        if (entries.some((entry) => entry.email === poison)) throw Object.assign(new Error('invalid byte sequence'), { code: '22021' });
        return real.append(entries);
      },
    });
    const logged: string[] = [];
    const log = silentLogger();
    log.error = ((_object: unknown, message: string) => void logged.push(message)) as typeof log.error;
    const trail = new AuditTrail({ store: refusing, log, bufferLimit: 100, required: false, flushDelayMs: 1 });
    await trail.start();
    for (const email of ['one@example.com', poison, 'three@example.com']) trail.record(sampleEntry({ email }));
    await trail.flush();
    expect(trail.status()).toMatchObject({ state: 'ok', pending: 0, written: 2, lost: 1 });
    expect(logged).toContain('audit trail: the database refused a record; it is counted lost');
    expect((await real.find({})).map((row) => row.email)).toEqual(['three@example.com', 'one@example.com']);
    trail.record(sampleEntry({ email: 'four@example.com' }));
    await trail.flush();
    expect(trail.status().written).toBe(3);
    await real.close();
  });
});

describe('the SQLite worker thread', () => {
  it('a worker that dies is started again: nothing hangs, and the records wait and are written', async () => {
    const store = (await openTestStore('sqlite', { dir: tempDir() })) as SqliteAuditStore;
    const trail = await testTrail(store);
    trail.record(sampleEntry({ email: 'before@example.com' }));
    await trail.flush();
    await (store as unknown as { worker: Worker }).worker.terminate();
    trail.record(sampleEntry({ email: 'after@example.com' }));
    await trail.flush();
    await expect.poll(async () => (await store.find({})).map((row) => row.email), { timeout: 10_000 }).toEqual(['after@example.com', 'before@example.com']);
    expect((await verifyChain(store)).ok).toBe(true);
    await trail.close();
  });
});

describe('AUDIT_REQUIRED covers staff look-ups too', () => {
  it('/v1/insight and the panel show no customer while the trail cannot be written, and do once it can', async () => {
    const real = await openTestStore('sqlite', { dir: tempDir() });
    let down = true;
    const unreachable = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const flaky: AuditStore = Object.assign(Object.create(real) as AuditStore, {
      migrate: () => (down ? unreachable() : real.migrate()),
      append: (entries: readonly AuditEntry[]) => (down ? unreachable() : real.append(entries)),
    });
    const trail = new AuditTrail({ store: flaky, log: silentLogger(), bufferLimit: 100, required: true, flushDelayMs: 1 });
    await trail.start();
    const fx = await startHttpFixture({}, { audit: trail });
    try {
      const insight = () => fetch(`${fx.url}/v1/insight?email=${DEMO.emails.carol}`, { headers: { authorization: `Bearer ${STAFF}` } });
      const refused = await insight();
      expect(refused.status).toBe(503);
      const body = await refused.text();
      expect(body).toContain('cannot record what it discloses');
      expect(body).not.toContain(DEMO.customers.carol);
      const cookie = await panelSignIn(fx.url, STAFF);
      const card = await (await fetch(`${fx.url}/panel/card?email=${DEMO.emails.carol}`, { headers: { cookie } })).text();
      expect(card).not.toContain(DEMO.customers.carol);
      down = false;
      await expect.poll(async () => (await insight()).status, { timeout: 15_000, interval: 200 }).toBe(200);
      const rows = await real.find({ email: DEMO.emails.carol });
      expect(rows.map((row) => [row.surface, row.outcome, row.reason])).toContainEqual(['insight', 'refused', 'audit_unavailable']);
      expect(rows.map((row) => [row.surface, row.outcome])).toContainEqual(['insight', 'ok']);
    } finally {
      await fx.close();
    }
  });
});
