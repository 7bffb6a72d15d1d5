import type { AuditStore } from './audit-store.js';
import { EMPTY_HEAD, problemWith, type ChainHead } from './chain.js';
import type { Checkpoint } from './checkpoints.js';
import type { AuditRow } from './record.js';

export interface ChainReport {
  ok: boolean;
  records: number;
  first_seq: number | null;
  last_seq: number | null;
  /** Set when retention purged the chain's start: the anchor record it was checked from. */
  anchored_by: number | null;
  /**
   * The last of the records written before the chain was keyed (plain SHA-256 links, which anyone
   * who can write the database could recompute); null when every record is keyed.
   */
  unkeyed_through: number | null;
  /** With --anchors: how many checkpoints were checked, and how many named records retention has since purged. */
  checkpoints?: { checked: number; purged: number };
  /** The first record that does not check out, and why. */
  broken?: { seq: number; reason: string };
}

const PAGE = 5_000;

/**
 * Walks the whole chain in order. The first record must follow the genesis hash, or, after a
 * retention purge, the hash that the purge's anchor record names. Unkeyed records (written before
 * the chain was keyed) verify only before the first keyed one. With `checkpoints` (an anchor
 * file), every checkpointed record must still be there with the link it had then.
 */
export async function verifyChain(store: AuditStore, options: { checkpoints?: readonly Checkpoint[] } = {}): Promise<ChainReport> {
  const keys = store.auditKeys.keys;
  const checkpoints = new Map<number, Checkpoint[]>();
  for (const checkpoint of options.checkpoints ?? []) checkpoints.set(checkpoint.seq, [...(checkpoints.get(checkpoint.seq) ?? []), checkpoint]);
  let first: AuditRow | undefined;
  let previous: ChainHead | undefined;
  let anchor: { seq: number; hash: string } | undefined;
  let broken: ChainReport['broken'];
  const breaks = (seq: number, reason: string) => {
    if (!broken) broken = { seq, reason };
  };
  let records = 0;
  let unkeyedThrough: number | null = null;
  let lastKeyed: number | undefined;
  // Records whose personal fields are gone, and the records erasure notes say they erased.
  const withoutSalt: number[] = [];
  const erased = new Set<number>();
  for (let after = 0; ; ) {
    const rows = await store.page(after, PAGE);
    for (const row of rows) {
      records += 1;
      if (!first) first = row;
      // The first record's link is checked at the end, against genesis or an anchor; its content now.
      const problem = problemWith(row, previous ?? (row.seq === 1 ? EMPTY_HEAD : { seq: row.seq - 1, hash: row.prev_hash }), keys);
      if (problem) breaks(row.seq, problem);
      if (row.key_id !== null) lastKeyed = row.seq;
      else if (lastKeyed === undefined) unkeyedThrough = row.seq;
      // Only the records before keyed links began may be unkeyed: one after is a re-link without the key.
      else breaks(row.seq, `record ${row.seq} is unkeyed, after keyed record ${lastKeyed}: it was rewritten by someone without the audit key`);
      for (const checkpoint of checkpoints.get(row.seq) ?? []) {
        if (row.hash !== checkpoint.hash) breaks(row.seq, `record ${row.seq} is not the one checkpointed at ${checkpoint.at}: it, or a record before it, was changed, removed or re-linked since`);
      }
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
  // Checkpoints past the newest record: the newest records were deleted (a chain alone cannot show that).
  const newest = [...checkpoints.values()].flat().filter((checkpoint) => checkpoint.seq > (previous?.seq ?? 0)).sort((a, b) => a.seq - b.seq)[0];
  if (newest) breaks(newest.seq, `record ${newest.seq}, checkpointed at ${newest.at}, is gone: the newest records were deleted`);
  const purged = [...checkpoints.values()].flat().filter((checkpoint) => first !== undefined && checkpoint.seq < first.seq).length;
  return {
    ok: broken === undefined,
    records,
    first_seq: first?.seq ?? null,
    last_seq: previous?.seq ?? null,
    anchored_by: first && first.seq > 1 && anchor ? anchor.seq : null,
    unkeyed_through: unkeyedThrough,
    ...(options.checkpoints ? { checkpoints: { checked: options.checkpoints.length, purged } } : {}),
    ...(broken ? { broken } : {}),
  };
}
