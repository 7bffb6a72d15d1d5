/**
 * The trail's SQL, written once for both databases. A store supplies a transaction that holds
 * the chain lock (SQLite: BEGIN IMMEDIATE; Postgres: an advisory transaction lock) and the
 * dialect's placeholder; everything that extends the chain reads the head inside that lock.
 */
import { eraseRequests, requestCustomerIds } from '../actions/erase-requests.js';
import type { BatchStatement } from './audit-store.js';
import { EMPTY_HEAD, seal, type ChainHead, type ChainKey } from './chain.js';
import { systemEntry, type AuditEntry, type AuditFilter, type AuditRow } from './record.js';
import { fromColumns, INSERT_COLUMNS, limitOf, META_TABLE_SQL, MIGRATIONS, namesCustomer, quotedCustomer, toColumns, whereOf } from './schema.js';

type Params = ReadonlyArray<string | number | null>;

export interface SqlTx {
  all(sql: string, params?: Params): Promise<Array<Record<string, unknown>>>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(sql: string, params?: Params): Promise<number>;
}

export interface SqlDialect {
  backend: 'sqlite' | 'postgres';
  placeholder(n: number): string;
}

// Each INSERT stays well under both databases' parameter limits (SQLite 32766, Postgres 65535),
// and sealing one chunk takes about a millisecond.
const ROWS_PER_INSERT = 100;
// About 0.15 ms of hashing between two turns of the event loop.
const ROWS_PER_SEAL = 10;

/** A batch of plain statements inside the store's transaction (see SqlRunner.batch). */
export async function runBatch(tx: SqlTx, statements: ReadonlyArray<BatchStatement>): Promise<void> {
  for (const statement of statements) {
    const changed = await tx.run(statement.sql, statement.params);
    if (statement.oneRow && changed !== 1) throw Object.assign(new Error('the row changed since it was read'), { code: 'STALE_WRITE' });
  }
}

export async function migrate(tx: SqlTx, dialect: SqlDialect): Promise<void> {
  await tx.run(META_TABLE_SQL);
  const [current] = await tx.all(`SELECT value FROM audit_meta WHERE key = 'schema_version'`);
  let version = current ? Number(current.value) : 0;
  for (const migration of MIGRATIONS) {
    if (migration.version <= version) continue;
    for (const statement of migration[dialect.backend]) await tx.run(statement);
    version = migration.version;
  }
  const p = dialect.placeholder;
  await tx.run(`DELETE FROM audit_meta WHERE key = 'schema_version'`);
  await tx.run(`INSERT INTO audit_meta (key, value) VALUES ('schema_version', ${p(1)})`, [String(version)]);
}

async function headOf(tx: SqlTx): Promise<ChainHead> {
  const [last] = await tx.all('SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1');
  return last ? { seq: Number(last.seq), hash: String(last.hash) } : EMPTY_HEAD;
}

/**
 * Seals entries under `key` after the current head (or `head`, when given) and inserts them; call
 * inside the chain lock. Resolves to the head they leave.
 */
export async function appendEntries(tx: SqlTx, dialect: SqlDialect, key: ChainKey, entries: readonly AuditEntry[], head?: ChainHead): Promise<ChainHead> {
  let previous = head ?? (await headOf(tx));
  if (entries.length === 0) return previous;
  const width = INSERT_COLUMNS.length;
  // Sealed a chunk at a time, so hashing never holds the event loop for long (Postgres runs on it).
  for (let start = 0; start < entries.length; start += ROWS_PER_INSERT) {
    const chunk: AuditRow[] = [];
    for (let at = start; at < Math.min(start + ROWS_PER_INSERT, entries.length); at += ROWS_PER_SEAL) {
      // A tool call that arrives meanwhile waits for one small slice of hashing, not the batch.
      if (at > start) await new Promise((resolve) => setImmediate(resolve));
      const sealed = seal(previous, entries.slice(at, Math.min(at + ROWS_PER_SEAL, start + ROWS_PER_INSERT)), key);
      chunk.push(...sealed);
      previous = { seq: sealed.at(-1)!.seq, hash: sealed.at(-1)!.hash };
    }
    const values = chunk.map((_, r) => `(${INSERT_COLUMNS.map((__, c) => dialect.placeholder(r * width + c + 1)).join(', ')})`);
    await tx.run(`INSERT INTO audit_records (${INSERT_COLUMNS.join(', ')}) VALUES ${values.join(', ')}`, chunk.flatMap(toColumns));
  }
  return previous;
}

export async function findRows(tx: SqlTx, dialect: SqlDialect, filter: AuditFilter): Promise<AuditRow[]> {
  const where = whereOf(filter, dialect);
  const rows = await tx.all(`SELECT * FROM audit_records ${where.sql} ORDER BY seq DESC LIMIT ${limitOf(filter)}`, where.params);
  return rows.map(fromColumns);
}

export async function pageRows(tx: SqlTx, dialect: SqlDialect, afterSeq: number, limit: number): Promise<AuditRow[]> {
  const p = dialect.placeholder;
  const rows = await tx.all(`SELECT * FROM audit_records WHERE seq > ${p(1)} ORDER BY seq LIMIT ${p(2)}`, [afterSeq, limit]);
  return rows.map(fromColumns);
}

/** What an erasure changed: trail records, and the person's action requests (src/actions/erase-requests.ts). */
export interface ErasureResult {
  /** Trail records whose personal fields were removed. */
  records: number;
  /** Action requests blanked, the canceled ones included. */
  requests: number;
  /** Ids of the waiting requests the erasure canceled first (ids name no one). */
  canceled_requests: string[];
  /** Ids of requests being carried out at Stripe: left as they are; erase again once they finish. */
  requests_in_flight: string[];
}

/**
 * Erasure: the email's records and every record naming one of their customers lose their
 * personal fields, and so do the person's action requests (waiting ones canceled first), in the
 * one transaction the caller holds.
 */
export async function eraseEmail(tx: SqlTx, dialect: SqlDialect, key: ChainKey, email: string, tenantId?: string): Promise<ErasureResult> {
  const p = dialect.placeholder;
  // Platform mode: one merchant's data-subject request erases that merchant's records only.
  const ofTenant = (n: number) => (tenantId === undefined ? '' : ` AND tenant_id = ${p(n)}`);
  const tenant = tenantId === undefined ? [] : [tenantId];
  const named = await tx.all(`SELECT customer_ids FROM audit_records WHERE email = ${p(1)} AND customer_ids IS NOT NULL${ofTenant(2)}`, [email, ...tenant]);
  // The customers the person's records name, and those their requests name: a customer id known
  // from either is theirs in both tables.
  const customers = [...new Set([...named.flatMap((row) => JSON.parse(String(row.customer_ids)) as string[]), ...(await requestCustomerIds(tx, dialect, email, tenantId))])];
  const clauses = [`email = ${p(1)}`, ...customers.map((_, i) => namesCustomer(dialect, p(i + 2)))];
  const erased = (
    await tx.all(
      `UPDATE audit_records SET email = NULL, customer_ids = NULL, salt = NULL WHERE salt IS NOT NULL AND (${clauses.join(' OR ')})${ofTenant(customers.length + 2)} RETURNING seq`,
      [email, ...customers.map(quotedCustomer), ...tenant],
    )
  )
    .map((row) => Number(row.seq))
    .sort((a, b) => a - b);
  const requests = await eraseRequests(tx, dialect, { email, customers, tenantId });
  // The note names the records it erased (never whose): verification refuses personal fields
  // removed from any record that no such note names. The requests it canceled are named by id,
  // so the trail shows why they ended.
  if (erased.length > 0 || requests.erased > 0) {
    await appendEntries(tx, dialect, key, [
      systemEntry('erasure', { records: erased.length, erased, ...(requests.erased > 0 ? { requests: requests.erased, canceled_requests: requests.canceled } : {}) }, tenantId ?? null),
    ]);
  }
  return { records: erased.length, requests: requests.erased, canceled_requests: requests.canceled, requests_in_flight: requests.in_flight };
}

/**
 * Retention: deletes the oldest run of records written before `cutoff` (stopping at the first
 * younger one, so nothing younger goes) and appends an anchor naming the last deleted record's
 * hash, which the first remaining record follows.
 */
export async function purgeBefore(tx: SqlTx, dialect: SqlDialect, key: ChainKey, cutoff: string): Promise<number> {
  const p = dialect.placeholder;
  const [younger] = await tx.all(`SELECT MIN(seq) AS seq FROM audit_records WHERE at >= ${p(1)}`, [cutoff]);
  const stopBefore = younger?.seq === null || younger?.seq === undefined ? Number.MAX_SAFE_INTEGER : Number(younger.seq);
  const [through] = await tx.all(`SELECT seq, hash FROM audit_records WHERE seq < ${p(1)} ORDER BY seq DESC LIMIT 1`, [stopBefore]);
  if (!through) return 0;
  // The head before the delete: when every record goes, the anchor still follows the last one
  // (read after the delete, an empty table would restart the chain at #1 and reuse numbers).
  const head = await headOf(tx);
  const purged = await tx.run(`DELETE FROM audit_records WHERE seq <= ${p(1)}`, [Number(through.seq)]);
  await appendEntries(tx, dialect, key, [systemEntry('anchor', { purged_through: Number(through.seq), purged_through_hash: String(through.hash), purged, cutoff })], head);
  return purged;
}
