import type { AuditKeys } from './audit-key.js';
import type { ChainHead } from './chain.js';
import type { AuditEntry, AuditFilter, AuditRow } from './record.js';
import type { ErasureResult } from './sql-trail.js';

/**
 * Where the trail is kept: the embedded SQLite file or Postgres. Every write that extends the
 * chain (append, the erasure note, the retention anchor) takes the chain head inside the
 * database's own lock, so several processes write one chain.
 */
type Params = ReadonlyArray<string | number | null>;

export interface BatchStatement {
  sql: string;
  params?: Params;
  oneRow?: boolean;
}

/** Plain statements on the same database, for the platform's tenant tables. */
export interface SqlRunner {
  readonly backend: 'sqlite' | 'postgres';
  placeholder(n: number): string;
  all(sql: string, params?: Params): Promise<Array<Record<string, unknown>>>;
  /** Resolves to the number of rows changed. */
  run(sql: string, params?: Params): Promise<number>;
  /**
   * Statements in order, in one transaction: all or none. A statement marked `oneRow` must change
   * exactly one row, else the whole batch is undone and rejects with code STALE_WRITE (someone
   * changed that row since it was read).
   */
  batch(statements: ReadonlyArray<BatchStatement>): Promise<void>;
}

export interface AuditStore {
  readonly backend: 'sqlite' | 'postgres';
  /** The same database for other tables (tenants). */
  readonly sql: SqlRunner;
  /** Where, without credentials: a file path or host/database. */
  readonly location: string;
  /** The keys the chain is linked under (the first links new records) and where they came from. */
  readonly auditKeys: AuditKeys;
  /** Creates or upgrades the schema; safe to run from several processes at once. */
  migrate(): Promise<void>;
  /** Appends records in order, in one transaction; resolves to the chain's head right after them. */
  append(entries: readonly AuditEntry[]): Promise<ChainHead>;
  /** Matching records, newest first. */
  find(filter: AuditFilter): Promise<AuditRow[]>;
  /** Records in chain order after `afterSeq`, for verification and export. */
  page(afterSeq: number, limit: number): Promise<AuditRow[]>;
  /**
   * Deletes the personal fields (email, customer ids, salt) of every record of this email, and
   * of every record naming a customer id those records (or the person's action requests) named;
   * in the same transaction cancels the person's waiting action requests and blanks their
   * requests' personal fields (src/actions/erase-requests.ts); appends an erasure note. The old
   * bytes go from the database's files too (SQLite: secure_delete, then the -wal emptied;
   * Postgres: both tables vacuumed).
   */
  erase(email: string, tenantId?: string): Promise<ErasureResult>;
  /** Deletes the oldest records before `cutoff` (from the files too, as erase) and appends an anchor that verification starts from. */
  purgeBefore(cutoff: string): Promise<number>;
  close(): Promise<void>;
}

/** The driver is an optional dependency: without it, say the three ways forward. */
export class AuditDriverMissingError extends Error {
  constructor() {
    super(
      'The audit trail needs the better-sqlite3 package, which is not installed. Install it (npm install better-sqlite3@12), ' +
        'or keep the trail in Postgres (DATABASE_URL=postgres://…), or turn the trail off (AUDIT=off).',
    );
    this.name = 'AuditDriverMissingError';
  }
}


/**
 * A database error as the log shows it. `db_code` (ECONNREFUSED, 57P01, SQLITE_FULL), not `code`:
 * the logger redacts every `code` field, which is where verification codes would sit.
 */
export function loggedDbError(error: unknown): { db_code: string | undefined; message: string } {
  const code = (error as { code?: unknown })?.code;
  return { db_code: typeof code === 'string' ? code : undefined, message: error instanceof Error ? error.message : String(error) };
}
