/**
 * The trail's hash chain. Each record's hash covers its non-personal fields, the previous
 * record's hash and a salted commitment to its personal fields (email, customer ids). Erasure
 * deletes the personal fields and the salt but keeps the commitment, so the chain still
 * verifies and an erased email cannot be confirmed by guessing it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditEntry, AuditRow } from './record.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** Stable JSON: keys sorted at every depth, so both databases hash byte-identical text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonical(member)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function commitmentOf(salt: string, email: string | null, customerIds: readonly string[]): string {
  return createHmac('sha256', Buffer.from(salt, 'hex')).update(JSON.stringify([email, customerIds])).digest('hex');
}

/**
 * The hash of a record: every field but the personal ones, which enter through the commitment.
 * The fields go in a fixed order as one JSON array (fast, and the same bytes in both databases);
 * only `detail`, a free-form object, is canonicalised with sorted keys.
 */
export function hashOf(row: Omit<AuditRow, 'hash' | 'email' | 'customer_ids' | 'salt'>): string {
  const sealed = JSON.stringify([
    row.seq,
    row.at,
    row.kind,
    row.tenant_id,
    row.surface,
    row.caller,
    row.conversation,
    row.principal,
    row.verified_by,
    row.issuer,
    row.unverified,
    row.tool,
    row.outcome,
    row.reason,
    row.disclosed,
    row.write,
    row.detail === null ? null : canonical(row.detail),
    row.commitment,
  ]);
  return createHash('sha256').update(row.prev_hash).update('\n').update(sealed).digest('hex');
}

/** Gives entries their places after `head`, in order. Runs inside the database's lock. */
export function seal(head: ChainHead, entries: readonly AuditEntry[]): AuditRow[] {
  let previous = head;
  // One draw from the system's random source for the whole batch.
  const salts = randomBytes(16 * entries.length);
  return entries.map((entry, index) => {
    const salt = salts.subarray(index * 16, index * 16 + 16).toString('hex');
    const commitment = commitmentOf(salt, entry.email, entry.customer_ids);
    const unsealed = { ...entry, seq: previous.seq + 1, salt, commitment, prev_hash: previous.hash };
    const row: AuditRow = { ...unsealed, hash: hashOf(unsealed) };
    previous = { seq: row.seq, hash: row.hash };
    return row;
  });
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Why one stored row does not check out, or undefined when it does. */
export function problemWith(row: AuditRow, expectedPrevious: ChainHead): string | undefined {
  if (row.seq !== expectedPrevious.seq + 1) return `record ${expectedPrevious.seq + 1} is missing (the next one is ${row.seq})`;
  if (!sameHex(row.prev_hash, expectedPrevious.hash)) return `record ${row.seq} does not follow record ${expectedPrevious.seq}`;
  if (row.salt === null) {
    if (row.email !== null || row.customer_ids.length > 0) return `record ${row.seq} has personal fields without their salt`;
  } else if (!sameHex(commitmentOf(row.salt, row.email, row.customer_ids), row.commitment)) {
    return `record ${row.seq}'s email or customer ids were changed`;
  }
  if (!sameHex(hashOf(row), row.hash)) return `record ${row.seq} was changed after it was written`;
  return undefined;
}
