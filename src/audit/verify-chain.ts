import type { AuditStore } from './audit-store.js';
import { EMPTY_HEAD, problemWith, type ChainHead } from './chain.js';
import type { AuditRow } from './record.js';

export interface ChainReport {
  ok: boolean;
  records: number;
  first_seq: number | null;
  last_seq: number | null;
  /** Set when retention purged the chain's start: the anchor record it was checked from. */
  anchored_by: number | null;
  /** The first record that does not check out, and why. */
  broken?: { seq: number; reason: string };
}

const PAGE = 5_000;

/**
 * Walks the whole chain in order. The first record must follow the genesis hash, or, after a
 * retention purge, the hash that the purge's anchor record names.
 */
export async function verifyChain(store: AuditStore): Promise<ChainReport> {
  let first: AuditRow | undefined;
  let previous: ChainHead | undefined;
  let anchor: { seq: number; hash: string } | undefined;
  let broken: ChainReport['broken'];
  let records = 0;
  // Records whose personal fields are gone, and the records erasure notes say they erased.
  const withoutSalt: number[] = [];
  const erased = new Set<number>();
  for (let after = 0; ; ) {
    const rows = await store.page(after, PAGE);
    for (const row of rows) {
      records += 1;
      if (!first) first = row;
      // The first record's link is checked at the end, against genesis or an anchor; its content now.
      const problem = problemWith(row, previous ?? (row.seq === 1 ? EMPTY_HEAD : { seq: row.seq - 1, hash: row.prev_hash }));
      if (problem && !broken) broken = { seq: row.seq, reason: problem };
      if (row.salt === null) withoutSalt.push(row.seq);
      if (row.kind === 'erasure' && Array.isArray(row.detail?.erased)) for (const seq of row.detail.erased as unknown[]) erased.add(Number(seq));
      if (row.kind === 'anchor' && Number(row.detail?.purged_through) === first.seq - 1) {
        anchor = { seq: row.seq, hash: String(row.detail?.purged_through_hash) };
      }
      previous = { seq: row.seq, hash: row.hash };
    }
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]!.seq;
  }
  const wiped = withoutSalt.find((seq) => !erased.has(seq));
  if (wiped !== undefined && (!broken || wiped < broken.seq)) broken = { seq: wiped, reason: `record ${wiped}'s personal fields were removed, but no erasure note names it` };
  if (first && first.seq > 1) {
    const reason = !anchor
      ? `records before ${first.seq} were deleted, and no retention anchor accounts for them`
      : anchor.hash !== first.prev_hash
        ? `record ${first.seq} does not follow the records that retention anchor ${anchor.seq} says were purged`
        : undefined;
    if (reason) broken = { seq: first.seq, reason };
  }
  return {
    ok: broken === undefined,
    records,
    first_seq: first?.seq ?? null,
    last_seq: previous?.seq ?? null,
    anchored_by: first && first.seq > 1 && anchor ? anchor.seq : null,
    ...(broken ? { broken } : {}),
  };
}
