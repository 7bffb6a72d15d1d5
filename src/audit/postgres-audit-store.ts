import pg from 'pg';
import { signingKey, type AuditKeys } from './audit-key.js';
import type { AuditStore, SqlRunner } from './audit-store.js';
import type { ChainHead } from './chain.js';
import type { AuditEntry, AuditFilter, AuditRow } from './record.js';
import { appendEntries, eraseEmail, findRows, migrate, pageRows, purgeBefore, runBatch, type ErasureResult, type SqlDialect, type SqlTx } from './sql-trail.js';

const dialect: SqlDialect = { backend: 'postgres', placeholder: (n) => `$${n}` };

// One key for the whole trail: every process appends under it, so chain order is commit order.
export const CHAIN_LOCK_KEY = 0x5b_4d_41_75; // "SBMAu"

/** host:port/database, never the user or password. */
export function postgresLocation(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
}

function txOf(client: pg.PoolClient | pg.Pool): SqlTx {
  return {
    all: async (sql, params = []) => (await client.query(sql, [...params])).rows as Array<Record<string, unknown>>,
    run: async (sql, params = []) => (await client.query(sql, [...params])).rowCount ?? 0,
  };
}

/** The trail in Postgres (DATABASE_URL): every process writes one chain. */
export class PostgresAuditStore implements AuditStore {
  readonly backend = 'postgres' as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  readonly sql: SqlRunner = {
    backend: 'postgres',
    placeholder: dialect.placeholder,
    all: (sql, params) => txOf(this.pool).all(sql, params),
    run: (sql, params) => txOf(this.pool).run(sql, params),
    batch: (statements) => this.locked((tx) => runBatch(tx, statements)),
  };

  constructor(
    url: string,
    readonly auditKeys: AuditKeys,
    onError: (error: Error) => void = () => undefined,
  ) {
    this.location = postgresLocation(url);
    this.pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 3_000, idleTimeoutMillis: 30_000, query_timeout: 15_000 });
    // An idle connection that the server drops emits here; unhandled, it would end the process.
    this.pool.on('error', onError);
  }

  private async locked<T>(work: (tx: SqlTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A checked-out client has no pool listener: a connection cut mid-transaction (the server
    // stopping) would emit an unhandled 'error' and end the process. The query rejects as well.
    let lost: Error | undefined;
    const onLost = (error: Error) => {
      lost ??= error;
    };
    client.on('error', onLost);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [CHAIN_LOCK_KEY]);
      const value = await work(txOf(client));
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onLost);
      // A broken connection goes, not back to the pool.
      client.release(lost);
    }
  }

  migrate(): Promise<void> {
    return this.locked((tx) => migrate(tx, dialect));
  }

  append(entries: readonly AuditEntry[]): Promise<ChainHead> {
    return this.locked((tx) => appendEntries(tx, dialect, signingKey(this.auditKeys), entries));
  }

  /**
   * An UPDATE or DELETE leaves the old row versions, personal fields and all, in the table's
   * pages until a vacuum removes them. VACUUM runs outside a transaction, after the change commits.
   */
  private async vacuum(tables: ReadonlyArray<'audit_records' | 'action_requests'> = ['audit_records']): Promise<void> {
    await this.pool.query(`VACUUM ${tables.join(', ')}`);
  }

  find(filter: AuditFilter): Promise<AuditRow[]> {
    return findRows(txOf(this.pool), dialect, filter);
  }

  page(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return pageRows(txOf(this.pool), dialect, afterSeq, limit);
  }

  async erase(email: string, tenantId?: string): Promise<ErasureResult> {
    const erased = await this.locked((tx) => eraseEmail(tx, dialect, signingKey(this.auditKeys), email, tenantId));
    // Also when nothing was left to erase: running erase again finishes an earlier one. The
    // requests' blanked rows leave old versions (with the email) just as the records' do.
    await this.vacuum(['audit_records', 'action_requests']);
    return erased;
  }

  async purgeBefore(cutoff: string): Promise<number> {
    const purged = await this.locked((tx) => purgeBefore(tx, dialect, signingKey(this.auditKeys), cutoff));
    if (purged > 0) await this.vacuum();
    return purged;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
