import { MIGRATIONS } from '../../src/audit/schema.js';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditStore } from '../../src/audit/audit-store.js';
import { PostgresAuditStore } from '../../src/audit/postgres-audit-store.js';
import type { AuditRow } from '../../src/audit/record.js';
import { SqliteAuditStore } from '../../src/audit/sqlite-audit-store.js';
import { verifyChain } from '../../src/audit/verify-chain.js';
import { TEST_AUDIT_KEYS, tempDirAfterAll, sampleEntry } from '../support/audit.js';
import { postgresSql, sqliteSql } from '../support/raw-sql.js';
import { usePostgresServer } from '../support/postgres-server.js';

const postgres = usePostgresServer();
const tempDir = tempDirAfterAll();

const entry = sampleEntry;

type Kind = 'sqlite' | 'postgres';

/** One empty database (a SQLite file or a Postgres database) that tests open stores on and reach with raw SQL. */
interface TestDatabase {
  /** A new store on this database, schema not yet made; closed after the test. */
  open(): AuditStore;
  /** A fresh store with its schema made. */
  store(): Promise<AuditStore>;
  /** Raw SQL around the store, `$1`-style placeholders for both databases. */
  sql(text: string, params?: ReadonlyArray<string | number | null>): Promise<Array<Record<string, unknown>>>;
}

describe.each<Kind>(['sqlite', 'postgres'])('audit store (%s)', (kind) => {
  const opened: AuditStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function freshDatabase(): Promise<TestDatabase> {
    const target = kind === 'sqlite' ? join(tempDir(), 'audit.db') : await postgres().createDatabase();
    const open = () => {
      const store = kind === 'sqlite' ? new SqliteAuditStore(target, TEST_AUDIT_KEYS) : new PostgresAuditStore(target, TEST_AUDIT_KEYS);
      opened.push(store);
      return store;
    };
    const sql = kind === 'sqlite' ? sqliteSql(target) : postgresSql(target);
    return {
      open,
      sql,
      store: async () => {
        const store = open();
        await store.migrate();
        return store;
      },
    };
  }

  async function allRows(store: AuditStore): Promise<AuditRow[]> {
    return store.page(0, 10_000);
  }

  const seqs = (rows: readonly AuditRow[]) => rows.map((row) => row.seq);

  it('finds records by email, customer, time, conversation and surface, newest first, at most the limit', async () => {
    const store = await (await freshDatabase()).store();
    await store.append([
      entry({ at: '2026-03-01T09:00:00.000Z', email: 'ana@example.com', customer_ids: ['cus_Ana1'], conversation: 'conv-a' }), // 1
      entry({ at: '2026-03-01T10:00:00.000Z', email: 'ben@example.com', customer_ids: ['cus_Ben1'], surface: 'tools' }), // 2
      entry({ at: '2026-03-02T09:00:00.000Z', email: 'ana@example.com', customer_ids: ['cus_Ana1', 'cus_Ana2'], conversation: 'conv-a', surface: 'stdio' }), // 3
      entry({ at: '2026-03-02T10:00:00.000Z', surface: 'panel', principal: 'staff', caller: 'panel:alice', customer_ids: ['cus_Ana10'] }), // 4
    ]);
    await store.append([
      entry({ at: '2026-03-03T09:00:00.000Z', email: 'ana@example.com', customer_ids: ['cus_Ana1'], conversation: 'conv-b', surface: 'insight' }), // 5
    ]);

    expect(seqs(await store.find({ email: 'ana@example.com' }))).toEqual([5, 3, 1]);
    expect(seqs(await store.find({ email: 'nobody@example.com' }))).toEqual([]);
    // A customer id matches whole ids only: cus_Ana1 is not cus_Ana10.
    expect(seqs(await store.find({ customer: 'cus_Ana1' }))).toEqual([5, 3, 1]);
    expect(seqs(await store.find({ customer: 'cus_Ana2' }))).toEqual([3]);
    expect(seqs(await store.find({ customer: 'cus_Ana10' }))).toEqual([4]);
    // Stripe ids are case-sensitive, in both databases (SQLite's LIKE would not be).
    expect(seqs(await store.find({ customer: 'cus_ana1' }))).toEqual([]);
    expect(seqs(await store.find({ customer: 'cus_Ana_' }))).toEqual([]);
    expect(seqs(await store.find({ since: '2026-03-02T09:00:00.000Z' }))).toEqual([5, 4, 3]);
    expect(seqs(await store.find({ conversation: 'conv-a' }))).toEqual([3, 1]);
    expect(seqs(await store.find({ surfaces: ['stdio', 'mcp', 'tools'] }))).toEqual([3, 2, 1]);
    expect(seqs(await store.find({ surfaces: [] }))).toEqual([]);
    expect(seqs(await store.find({ email: 'ana@example.com', since: '2026-03-02T00:00:00.000Z', surfaces: ['stdio'] }))).toEqual([3]);
    expect(seqs(await store.find({ limit: 2 }))).toEqual([5, 4]);
    expect(seqs(await store.find({ email: 'ana@example.com', limit: 1 }))).toEqual([5]);

    // What comes back is what was written.
    const [third] = await store.find({ customer: 'cus_Ana2' });
    expect(third).toMatchObject({ email: 'ana@example.com', customer_ids: ['cus_Ana1', 'cus_Ana2'], conversation: 'conv-a', surface: 'stdio', disclosed: ['subscription'], unverified: false, detail: null });
  });

  it('verifies an empty trail and an intact one', async () => {
    const store = await (await freshDatabase()).store();
    expect(await verifyChain(store)).toEqual({ ok: true, records: 0, first_seq: null, last_seq: null, anchored_by: null, unkeyed_through: null });
    await store.append([entry({ email: 'ana@example.com', customer_ids: ['cus_Ana1'] }), entry({ detail: { anything: [1, { b: 2, a: 1 }] } })]);
    await store.append([entry({ unverified: true, verified_by: 'trust-email', email: 'ben@example.com' })]);
    expect(await verifyChain(store)).toEqual({ ok: true, records: 3, first_seq: 1, last_seq: 3, anchored_by: null, unkeyed_through: null });
  });

  const tamperings: Array<[string, string, RegExp]> = [
    ['what it disclosed', `UPDATE audit_records SET disclosed = '["payment_method.last4"]' WHERE seq = 3`, /record 3 was changed/],
    ['its outcome', `UPDATE audit_records SET outcome = 'refused', reason = 'not_verified' WHERE seq = 3`, /record 3 was changed/],
    ['its email', `UPDATE audit_records SET email = 'mallory@example.com' WHERE seq = 3`, /record 3's email or customer ids/],
    ['its customer ids', `UPDATE audit_records SET customer_ids = '["cus_Mal1"]' WHERE seq = 3`, /record 3's email or customer ids/],
    // What an erasure does, done by hand to hide whose data a call showed: no erasure note names it.
    ['personal fields (wiped as an erasure would)', 'UPDATE audit_records SET email = NULL, customer_ids = NULL, salt = NULL WHERE seq = 3', /record 3's personal fields were removed, but no erasure note names it/],
  ];

  it.each(tamperings)('names the record whose %s was changed in the database', async (_what, update, reason) => {
    const db = await freshDatabase();
    const store = await db.store();
    await store.append([1, 2, 3, 4, 5].map((n) => entry({ email: `p${n}@example.com`, customer_ids: [`cus_P${n}`] })));
    await db.sql(update);
    const report = await verifyChain(store);
    expect(report.ok).toBe(false);
    expect(report.broken?.seq).toBe(3);
    expect(report.broken?.reason).toMatch(reason);
  });

  it("one merchant's erasure (platform mode) leaves the same email at another merchant alone", async () => {
    const db = await freshDatabase();
    const store = await db.store();
    await store.append([
      entry({ tenant_id: 'ten_alpha', email: 'ana@example.com', customer_ids: ['cus_A1'] }),
      entry({ tenant_id: 'ten_beta', email: 'ana@example.com', customer_ids: ['cus_B1'] }),
    ]);
    expect((await store.erase('ana@example.com', 'ten_alpha')).records).toBe(1);
    const rows = await store.find({ limit: 10 });
    expect(rows.filter((row) => row.kind === 'call').map((row) => [row.tenant_id, row.email])).toEqual([
      ['ten_beta', 'ana@example.com'],
      ['ten_alpha', null],
    ]);
    expect(rows.find((row) => row.kind === 'erasure')).toMatchObject({ tenant_id: 'ten_alpha', detail: { records: 1, erased: [1] } });
    expect((await verifyChain(store)).ok).toBe(true);
  });

  it("erases a person's email, customer ids and salt, and those of records naming their customers, and still verifies", async () => {
    const db = await freshDatabase();
    const store = await db.store();
    await store.append([
      entry({ email: 'ana@example.com', customer_ids: ['cus_Ana1'] }), // 1
      entry({ email: 'ben@example.com', customer_ids: ['cus_Ben1'] }), // 2
      entry({ email: 'ana@example.com', customer_ids: ['cus_Ana1', 'cus_Ana2'], conversation: 'conv-a' }), // 3
      entry({ principal: 'staff', caller: 'staff:alice', customer_ids: ['cus_Ana2'] }), // 4: a staff look-up of Ana's second customer
      entry({ principal: 'staff', caller: 'staff:alice', customer_ids: ['cus_Ana10'] }), // 5: someone else
      entry({ outcome: 'refused', reason: 'not_verified', disclosed: [] }), // 6
    ]);

    expect((await store.erase('ana@example.com')).records).toBe(3);

    const rows = await allRows(store);
    const bySeq = new Map(rows.map((row) => [row.seq, row]));
    for (const seq of [1, 3, 4]) expect(bySeq.get(seq), `record ${seq}`).toMatchObject({ email: null, customer_ids: [], salt: null });
    // Everything else about an erased record stays: what was shown, when, where.
    expect(bySeq.get(3)).toMatchObject({ conversation: 'conv-a', tool: 'get_subscription', disclosed: ['subscription'] });
    expect(bySeq.get(2)).toMatchObject({ email: 'ben@example.com', customer_ids: ['cus_Ben1'] });
    expect(bySeq.get(2)!.salt).not.toBeNull();
    expect(bySeq.get(5)).toMatchObject({ customer_ids: ['cus_Ana10'] });
    expect(bySeq.get(5)!.salt).not.toBeNull();
    // The note says an erasure happened and how much, never whose.
    expect(rows.at(-1)).toMatchObject({ seq: 7, kind: 'erasure', email: null, customer_ids: [], detail: { records: 3 } });

    expect(await verifyChain(store)).toMatchObject({ ok: true, records: 7, last_seq: 7 });
    expect(await store.find({ email: 'ana@example.com' })).toEqual([]);
    expect(await store.find({ customer: 'cus_Ana1' })).toEqual([]);
    const table = JSON.stringify(await db.sql('SELECT * FROM audit_records'));
    expect(table).not.toContain('ana@example.com');
    expect(table).not.toContain('"cus_Ana1"');
    expect(table).not.toContain('cus_Ana2');
    expect(table).toContain('ben@example.com');

    // A second erasure of the same person finds nothing left and writes no note.
    expect((await store.erase('ana@example.com')).records).toBe(0);
    expect(await verifyChain(store)).toMatchObject({ ok: true, records: 7 });
  });

  /** Six records: the first three before 2020-03-01, then a younger one, then an older straggler. */
  async function oldTrail(store: AuditStore): Promise<void> {
    await store.append([
      entry({ at: '2020-01-01T00:00:00.000Z', email: 'a@example.com' }), // 1
      entry({ at: '2020-01-02T00:00:00.000Z', email: 'b@example.com' }), // 2
      entry({ at: '2020-01-03T00:00:00.000Z', email: 'c@example.com' }), // 3
      entry({ at: '2020-04-01T00:00:00.000Z', email: 'd@example.com' }), // 4
      entry({ at: '2020-01-04T00:00:00.000Z', email: 'e@example.com' }), // 5: older, but after a younger record
      entry({ at: '2020-05-01T00:00:00.000Z', email: 'f@example.com' }), // 6
    ]);
  }

  it('purges only the oldest run of records before the cutoff and anchors the chain where they were', async () => {
    const store = await (await freshDatabase()).store();
    await oldTrail(store);

    expect(await store.purgeBefore('2020-03-01T00:00:00.000Z')).toBe(3);

    const rows = await allRows(store);
    expect(seqs(rows)).toEqual([4, 5, 6, 7]);
    expect(rows.map((row) => row.email)).toEqual(['d@example.com', 'e@example.com', 'f@example.com', null]);
    expect(rows[3]).toMatchObject({ kind: 'anchor', detail: { purged_through: 3, purged: 3, cutoff: '2020-03-01T00:00:00.000Z' } });
    expect(await verifyChain(store)).toEqual({ ok: true, records: 4, first_seq: 4, last_seq: 7, anchored_by: 7, unkeyed_through: null });

    // Nothing older than the cutoff is left at the start: a second purge with it does nothing.
    expect(await store.purgeBefore('2020-03-01T00:00:00.000Z')).toBe(0);
    expect(seqs(await allRows(store))).toEqual([4, 5, 6, 7]);
  });

  it('reports first records deleted without an anchor as broken', async () => {
    const db = await freshDatabase();
    const store = await db.store();
    await oldTrail(store);
    await db.sql('DELETE FROM audit_records WHERE seq <= 2');
    const report = await verifyChain(store);
    expect(report.ok).toBe(false);
    expect(report.broken?.seq).toBe(3);
    expect(report.broken?.reason).toMatch(/before 3 were deleted/);
    expect(report.anchored_by).toBeNull();
  });

  it('reports records deleted past what the retention anchor accounts for as broken', async () => {
    const db = await freshDatabase();
    const store = await db.store();
    await oldTrail(store);
    await store.purgeBefore('2020-03-01T00:00:00.000Z');
    await db.sql('DELETE FROM audit_records WHERE seq = 4');
    const report = await verifyChain(store);
    expect(report.ok).toBe(false);
    expect(report.broken?.seq).toBe(5);
  });

  it('verifies from the newest anchor after a second purge removes the first anchor', async () => {
    const store = await (await freshDatabase()).store();
    await oldTrail(store);
    await store.purgeBefore('2020-03-01T00:00:00.000Z'); // deletes 1–3, anchor 7 (written now)
    await store.append([entry({ at: '2999-01-01T00:00:00.000Z', email: 'g@example.com' }), entry({ at: '2999-01-02T00:00:00.000Z' })]); // 8, 9

    // A cutoff later than the first anchor: 4–7 go, the anchor with them.
    expect(await store.purgeBefore('2998-01-01T00:00:00.000Z')).toBe(4);

    const rows = await allRows(store);
    expect(seqs(rows)).toEqual([8, 9, 10]);
    expect(rows[2]).toMatchObject({ kind: 'anchor', detail: { purged_through: 7, purged: 4 } });
    expect(await verifyChain(store)).toEqual({ ok: true, records: 3, first_seq: 8, last_seq: 10, anchored_by: 10, unkeyed_through: null });
  });

  it('keeps numbering after a purge that leaves nothing but its anchor', async () => {
    const store = await (await freshDatabase()).store();
    await store.append([entry({ at: '2020-01-01T00:00:00.000Z' }), entry({ at: '2020-01-02T00:00:00.000Z' })]);

    // Every record, even the newest, is older than this cutoff.
    expect(await store.purgeBefore('2999-01-01T00:00:00.000Z')).toBe(2);
    await store.append([entry({ email: 'later@example.com' })]);

    const rows = await allRows(store);
    // Record numbers are never reused: #1 and #2 were purged, so the anchor is #3.
    expect(seqs(rows)).toEqual([3, 4]);
    expect(rows[0]).toMatchObject({ kind: 'anchor', detail: { purged_through: 2 } });
    expect(await verifyChain(store)).toEqual({ ok: true, records: 2, first_seq: 3, last_seq: 4, anchored_by: 3, unkeyed_through: null });
  });

  it('writes one chain from two stores appending to the same database at once', async () => {
    const db = await freshDatabase();
    const first = await db.store();
    const second = await db.store();
    const batch = (writer: string, n: number) => [0, 1, 2].map((i) => entry({ caller: `host:${writer}`, tool: `batch-${n}`, reason: `${writer}-${n}-${i}` }));
    await Promise.all(
      Array.from({ length: 20 }, (_, n) => [first.append(batch('one', n)), second.append(batch('two', n))]).flat(),
    );

    const rows = await allRows(first);
    expect(seqs(rows)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    const written = rows.map((row) => row.reason);
    expect(new Set(written).size).toBe(120);
    for (const writer of ['one', 'two']) {
      for (let n = 0; n < 20; n++) {
        // Each batch is one transaction: its records sit together, in order.
        const at = written.indexOf(`${writer}-${n}-0`);
        expect(at, `${writer}-${n}`).toBeGreaterThanOrEqual(0);
        expect(written.slice(at, at + 3)).toEqual([`${writer}-${n}-0`, `${writer}-${n}-1`, `${writer}-${n}-2`]);
      }
    }
    expect(await verifyChain(second)).toEqual({ ok: true, records: 120, first_seq: 1, last_seq: 120, anchored_by: null, unkeyed_through: null });
  });

  it('makes the schema once however often, and however concurrently, migrate runs', async () => {
    const db = await freshDatabase();
    const first = db.open();
    const second = db.open();
    await Promise.all([first.migrate(), second.migrate(), first.migrate()]);
    await first.append([entry({ email: 'ana@example.com' })]);
    await Promise.all([second.migrate(), second.migrate()]);
    await first.migrate();

    expect(seqs(await second.find({ email: 'ana@example.com' }))).toEqual([1]);
    expect(await db.sql(`SELECT key, value FROM audit_meta`)).toEqual([{ key: 'schema_version', value: String(MIGRATIONS.at(-1)!.version) }]);
    expect(await verifyChain(second)).toMatchObject({ ok: true, records: 1 });
  });
});
