import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { commitmentOf, EMPTY_HEAD, problemWith, seal, unkeyedLinkOf, type ChainHead, type ChainKey } from '../../src/audit/chain.js';
import type { AuditEntry, AuditRow } from '../../src/audit/record.js';
import { sampleEntry, TEST_AUDIT_KEYS } from '../support/audit.js';

const KEYS = TEST_AUDIT_KEYS.keys;
const [NEWEST, OLDER] = KEYS as [ChainKey, ChainKey];

function callEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return sampleEntry({ conversation: 'c0ffee', disclosed: ['subscription', 'subscription.price'], email: 'ana@example.com', customer_ids: ['cus_Ana1'], ...overrides });
}

/** Checks rows in order, as verification does; the first problem, or undefined. */
function firstProblem(rows: readonly AuditRow[], keys: readonly ChainKey[] = KEYS): string | undefined {
  let previous: ChainHead = EMPTY_HEAD;
  for (const row of rows) {
    const problem = problemWith(row, previous, keys);
    if (problem) return problem;
    previous = { seq: row.seq, hash: row.hash };
  }
  return undefined;
}

function sealedChain(): AuditRow[] {
  return seal(EMPTY_HEAD, [
    callEntry(),
    callEntry({ email: 'ben@example.com', customer_ids: ['cus_Ben1', 'cus_Ben2'], tool: 'list_invoices', disclosed: ['invoices'] }),
    callEntry({ principal: 'staff', verified_by: null, issuer: null, caller: 'staff:alice', detail: { note: 'x' } }),
    callEntry({ outcome: 'refused', reason: 'not_verified', disclosed: [], email: null, customer_ids: [] }),
  ], NEWEST);
}

/** What erasure leaves of a row: no personal fields, no salt, everything else as it was. */
function erased(row: AuditRow): AuditRow {
  return { ...row, email: null, customer_ids: [], salt: null };
}

describe('audit hash chain', () => {
  it('numbers sealed rows after the head, links each to the one before, and verifies them', () => {
    const rows = sealedChain();
    expect(rows.map((row) => row.seq)).toEqual([1, 2, 3, 4]);
    expect(rows[0]!.prev_hash).toBe(EMPTY_HEAD.hash);
    expect(rows[2]!.prev_hash).toBe(rows[1]!.hash);
    expect(firstProblem(rows)).toBeUndefined();

    // A later batch continues from the head it is given.
    const last = rows[rows.length - 1]!;
    const more = seal({ seq: last.seq, hash: last.hash }, [callEntry({ at: '2026-03-02T00:00:00.000Z' })], NEWEST);
    expect(more[0]!.seq).toBe(5);
    expect(firstProblem([...rows, ...more])).toBeUndefined();
  });

  const nonPersonalChanges: Array<[string, Partial<AuditRow>]> = [
    ['at', { at: '2026-03-01T10:00:00.001Z' }],
    ['kind', { kind: 'erasure' }],
    ['tenant_id', { tenant_id: 't1' }],
    ['surface', { surface: 'panel' }],
    ['caller', { caller: 'host:other-bot' }],
    ['conversation', { conversation: 'beef' }],
    ['principal', { principal: 'unverified' }],
    ['verified_by', { verified_by: 'email-code' }],
    ['issuer', { issuer: 'https://evil.example.com' }],
    ['unverified', { unverified: true }],
    ['tool', { tool: 'get_customer' }],
    ['outcome', { outcome: 'error' }],
    ['reason', { reason: 'busy' }],
    ['disclosed (one category more)', { disclosed: ['subscription', 'subscription.price', 'payment_method.last4'] }],
    ['disclosed (one category fewer)', { disclosed: ['subscription'] }],
    ['write', { write: 'coupon_applied' }],
    ['detail', { detail: { note: 'y' } }],
    ['commitment', { commitment: 'a'.repeat(64) }],
  ];

  it.each(nonPersonalChanges)('detects a changed %s', (_field, change) => {
    const rows = sealedChain();
    // The third row carries a detail, so every field above is a real change there.
    const tampered = rows.map((row) => (row.seq === 3 ? { ...row, ...change } : row));
    expect(firstProblem(tampered)).toMatch(/^record 3/);
  });

  it("detects a changed email, a changed customer id, an added customer id and a dropped one, naming the record's personal fields", () => {
    const changes: Array<Partial<AuditRow>> = [
      { email: 'mallory@example.com' },
      { email: null },
      { customer_ids: ['cus_Ben1', 'cus_Mal1'] },
      { customer_ids: ['cus_Ben1', 'cus_Ben2', 'cus_Mal1'] },
      { customer_ids: ['cus_Ben1'] },
      { customer_ids: ['cus_Ben2', 'cus_Ben1'] },
    ];
    for (const change of changes) {
      const tampered = sealedChain().map((row) => (row.seq === 2 ? { ...row, ...change } : row));
      expect(firstProblem(tampered), JSON.stringify(change)).toBe("record 2's email or customer ids were changed");
    }
  });

  it('detects a rehashed row by the next row, which no longer follows it', () => {
    const rows = sealedChain();
    const forged = seal({ seq: 1, hash: rows[0]!.hash }, [{ ...callEntry(), disclosed: ['subscription'] }], NEWEST)[0]!;
    expect(firstProblem([rows[0]!, forged, rows[2]!, rows[3]!])).toBe('record 3 does not follow record 2');
  });

  it('detects swapped rows and a deleted middle row', () => {
    const rows = sealedChain();
    expect(firstProblem([rows[0]!, rows[2]!, rows[1]!, rows[3]!])).toBe('record 2 is missing (the next one is 3)');
    // Swapped contents under the original numbers do not verify either.
    const renumbered = [rows[0]!, { ...rows[2]!, seq: 2 }, { ...rows[1]!, seq: 3 }, rows[3]!];
    expect(firstProblem(renumbered)).toMatch(/^record 2 /);
    expect(firstProblem([rows[0]!, rows[1]!, rows[3]!])).toBe('record 3 is missing (the next one is 4)');
  });

  it('still verifies rows whose personal fields and salt were erased', () => {
    const rows = sealedChain();
    const afterErasure = rows.map((row) => (row.seq === 1 || row.seq === 2 ? erased(row) : row));
    expect(firstProblem(afterErasure)).toBeUndefined();
    // Erasure does not make the rest of the row editable.
    const tampered = afterErasure.map((row) => (row.seq === 2 ? { ...row, disclosed: [] } : row));
    expect(firstProblem(tampered)).toBe('record 2 was changed after it was written');
  });

  it('keeps an erased email from being confirmed by guessing it', () => {
    const [row] = seal(EMPTY_HEAD, [callEntry({ email: 'ana@example.com', customer_ids: ['cus_Ana1'] })], NEWEST);
    const [twin] = seal(EMPTY_HEAD, [callEntry({ email: 'ana@example.com', customer_ids: ['cus_Ana1'] })], NEWEST);
    // The commitment is salted: the same person's records commit differently, so there is no
    // dictionary from emails to commitments.
    expect(row!.commitment).not.toBe(twin!.commitment);
    // While the salt is kept, the commitment does check against the right guess and not a wrong one.
    expect(commitmentOf(row!.salt!, 'ana@example.com', ['cus_Ana1'])).toBe(row!.commitment);
    expect(commitmentOf(row!.salt!, 'bob@example.com', ['cus_Ana1'])).not.toBe(row!.commitment);

    const gone = erased(row!);
    expect(JSON.stringify(gone)).not.toContain('ana@example.com');
    expect(JSON.stringify(gone)).not.toContain('cus_Ana1');
    // Without the salt, no unsalted recomputation of the right guess reproduces the commitment.
    const guesses = [
      commitmentOf('', 'ana@example.com', ['cus_Ana1']),
      commitmentOf('00'.repeat(16), 'ana@example.com', ['cus_Ana1']),
      commitmentOf(twin!.salt!, 'ana@example.com', ['cus_Ana1']),
      createHash('sha256').update('ana@example.com').digest('hex'),
      createHash('sha256').update(JSON.stringify({ customer_ids: ['cus_Ana1'], email: 'ana@example.com' })).digest('hex'),
    ];
    for (const guess of guesses) expect(guess).not.toBe(gone.commitment);
  });

  it('flags personal fields that are present without their salt', () => {
    const rows = sealedChain();
    const withoutSalt = rows.map((row) => (row.seq === 2 ? { ...row, salt: null } : row));
    expect(firstProblem(withoutSalt)).toBe('record 2 has personal fields without their salt');
    // Restoring an email onto an erased row is caught the same way.
    const restored = rows.map((row) => (row.seq === 2 ? { ...erased(row), email: 'ben@example.com' } : row));
    expect(firstProblem(restored)).toBe('record 2 has personal fields without their salt');
    const restoredIds = rows.map((row) => (row.seq === 2 ? { ...erased(row), customer_ids: ['cus_Ben1'] } : row));
    expect(firstProblem(restoredIds)).toBe('record 2 has personal fields without their salt');
  });

  it('links each record under the newest key, naming it, and keeps verifying records linked under an older key of the ring', () => {
    const rows = sealedChain();
    expect(rows.every((row) => row.key_id === NEWEST.id)).toBe(true);
    const older = seal({ seq: 4, hash: rows[3]!.hash }, [callEntry()], OLDER);
    expect(firstProblem([...rows, ...older])).toBeUndefined();
    // Without the key a record names, it cannot be checked: that is a failure, naming the key id (never the key).
    expect(firstProblem([...rows, ...older], [NEWEST])).toBe(`record 5 is linked under audit key ${OLDER.id}, which is not among the keys held (AUDIT_KEY, or the key file)`);
  });

  it('does not take a link recomputed without the key: neither the unkeyed formula nor another key', () => {
    const rows = sealedChain();
    const changed = { ...rows[1]!, outcome: 'refused' as const, reason: 'not_verified' };
    expect(firstProblem([rows[0]!, { ...changed, hash: unkeyedLinkOf(changed) }])).toBe('record 2 was changed after it was written');
    const stranger: ChainKey = { id: NEWEST.id, key: Buffer.alloc(32, 99) };
    const [relinked] = seal({ seq: 1, hash: rows[0]!.hash }, [callEntry({ outcome: 'refused' })], stranger);
    expect(firstProblem([rows[0]!, relinked!])).toBe('record 2 was changed after it was written');
  });

  it('verifies records written before the chain was keyed (no key id) by their plain link', () => {
    const legacy = sealedChain().map((row) => ({ ...row, key_id: null }));
    let previous = EMPTY_HEAD;
    for (const row of legacy) {
      Object.assign(row, { prev_hash: previous.hash });
      row.hash = unkeyedLinkOf(row);
      previous = { seq: row.seq, hash: row.hash };
    }
    expect(firstProblem(legacy)).toBeUndefined();
    expect(firstProblem(legacy.map((row) => (row.seq === 2 ? { ...row, disclosed: [] } : row)))).toBe('record 2 was changed after it was written');
  });
});
