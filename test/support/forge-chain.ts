/**
 * What someone who can write the trail's database, but does not hold its key, can do: change a
 * record and re-link records with the chain's unkeyed formula, which the source code shows.
 */
import { commitmentOf, unkeyedLinkOf } from '../../src/audit/chain.js';
import { fromColumns } from '../../src/audit/schema.js';
import type { Sql } from './raw-sql.js';

export interface Forgery {
  /** The record turned from an `ok` disclosure into `refused` for mallory (its commitment recomputed with the salt in its row). */
  change: number;
  /** Re-link from this record on (default: the changed one) … */
  relinkFrom?: number;
  /** … through this one (default: the last). */
  relinkThrough?: number;
  /** Also blank the key ids of the re-linked records, so they pass for ones written before the chain was keyed. */
  claimUnkeyed: boolean;
}

/** The attack from the report, done with plain SQL. */
export async function rewriteAndRelink(sql: Sql, forgery: Forgery): Promise<void> {
  const rows = await sql('SELECT * FROM audit_records ORDER BY seq');
  const from = forgery.relinkFrom ?? forgery.change;
  const through = forgery.relinkThrough ?? Number.MAX_SAFE_INTEGER;
  const hasKeyIds = rows.length > 0 && 'key_id' in rows[0]!;
  let previous: string | undefined;
  for (const row of rows) {
    const seq = Number(row.seq);
    if (seq < from || seq > through) {
      previous = String(row.hash);
      continue;
    }
    if (seq === forgery.change) {
      Object.assign(row, { outcome: 'refused', reason: 'not_verified', disclosed: '[]', email: 'mallory@example.com' });
      const customerIds = row.customer_ids ? (JSON.parse(String(row.customer_ids)) as string[]) : [];
      row.commitment = commitmentOf(String(row.salt), String(row.email), customerIds);
    }
    row.prev_hash = previous ?? '0'.repeat(64);
    // The chain's own unkeyed formula, which the source code shows anyone.
    row.hash = unkeyedLinkOf(fromColumns(row));
    previous = String(row.hash);
    await sql('UPDATE audit_records SET outcome = $1, reason = $2, disclosed = $3, email = $4, commitment = $5, prev_hash = $6, hash = $7 WHERE seq = $8', [
      String(row.outcome),
      row.reason === null ? null : String(row.reason),
      String(row.disclosed),
      row.email === null ? null : String(row.email),
      String(row.commitment),
      String(row.prev_hash),
      String(row.hash),
      seq,
    ]);
    if (hasKeyIds && forgery.claimUnkeyed) await sql('UPDATE audit_records SET key_id = NULL WHERE seq = $1', [seq]);
  }
}
