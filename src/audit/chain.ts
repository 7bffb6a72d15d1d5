/**
 * The trail's hash chain. Each record's link covers its non-personal fields, the previous
 * record's link and a salted commitment to its personal fields (email, customer ids). Erasure
 * deletes the personal fields and the salt but keeps the commitment, so the chain still
 * verifies and an erased email cannot be confirmed by guessing it.
 *
 * A link is an HMAC under a key that is not in the database (AUDIT_KEY, or the generated key
 * file), named by its id in the record: whoever can write the database but does not hold the key
 * cannot re-link records after changing one. Records written before the chain was keyed carry no
 * key id and a plain SHA-256 link; they still verify, as unkeyed.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuditEntry, AuditRow } from './record.js';

/** One key of the chain: its id (stored with every record it links) and its bytes (never stored). */
export interface ChainKey {
  id: string;
  key: Buffer;
}

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

type Linked = Omit<AuditRow, 'hash' | 'email' | 'customer_ids' | 'salt'>;

/**
 * What a link seals: every field but the personal ones, which enter through the commitment.
 * The fields go in a fixed order as one JSON array (fast, and the same bytes in both databases);
 * only `detail`, a free-form object, is canonicalised with sorted keys.
 */
function sealedFields(row: Linked): string {
  return JSON.stringify([
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
}

/** The link of a record written before the chain was keyed: anyone can compute it. */
export function unkeyedLinkOf(row: Linked): string {
  return createHash('sha256').update(row.prev_hash).update('\n').update(sealedFields(row)).digest('hex');
}

/** A keyed link: HMAC-SHA-256 under the key the record names, over that key id too. */
function keyedLinkOf(row: Linked, key: Buffer): string {
  return createHmac('sha256', key).update(`sbm-audit-link\n${row.key_id ?? ''}\n`).update(row.prev_hash).update('\n').update(sealedFields(row)).digest('hex');
}

/** Gives entries their places after `head`, in order, linked under `key`. Runs inside the database's lock. */
export function seal(head: ChainHead, entries: readonly AuditEntry[], key: ChainKey): AuditRow[] {
  let previous = head;
  // One draw from the system's random source for the whole batch.
  const salts = randomBytes(16 * entries.length);
  return entries.map((entry, index) => {
    const salt = salts.subarray(index * 16, index * 16 + 16).toString('hex');
    const commitment = commitmentOf(salt, entry.email, entry.customer_ids);
    const unsealed = { ...entry, seq: previous.seq + 1, salt, commitment, prev_hash: previous.hash, key_id: key.id };
    const row: AuditRow = { ...unsealed, hash: keyedLinkOf(unsealed, key.key) };
    previous = { seq: row.seq, hash: row.hash };
    return row;
  });
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Why one stored row does not check out, or undefined when it does. `keys` are the chain keys
 * held (AUDIT_KEY, newest first); an unkeyed row checks against the plain SHA-256 link (whether
 * an unkeyed row may stand where it is, is the walk's question: see verifyChain).
 */
export function problemWith(row: AuditRow, expectedPrevious: ChainHead, keys: readonly ChainKey[]): string | undefined {
  if (row.seq !== expectedPrevious.seq + 1) return `record ${expectedPrevious.seq + 1} is missing (the next one is ${row.seq})`;
  if (!sameHex(row.prev_hash, expectedPrevious.hash)) return `record ${row.seq} does not follow record ${expectedPrevious.seq}`;
  if (row.salt === null) {
    if (row.email !== null || row.customer_ids.length > 0) return `record ${row.seq} has personal fields without their salt`;
  } else if (!sameHex(commitmentOf(row.salt, row.email, row.customer_ids), row.commitment)) {
    return `record ${row.seq}'s email or customer ids were changed`;
  }
  let link: string;
  if (row.key_id === null) {
    link = unkeyedLinkOf(row);
  } else {
    const key = keys.find((candidate) => candidate.id === row.key_id);
    if (!key) return `record ${row.seq} is linked under audit key ${row.key_id}, which is not among the keys held (AUDIT_KEY, or the key file)`;
    link = keyedLinkOf(row, key.key);
  }
  if (!sameHex(link, row.hash)) return `record ${row.seq} was changed after it was written`;
  return undefined;
}
