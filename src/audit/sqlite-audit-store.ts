import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AuditKeys } from './audit-key.js';
import { AuditDriverMissingError, type AuditStore, type SqlRunner } from './audit-store.js';
import type { ChainHead } from './chain.js';
import type { AuditEntry, AuditFilter, AuditRow } from './record.js';
import type { ErasureResult } from './sql-trail.js';
import type { SqliteReply, SqliteRequest, SqliteWorkerData } from './sqlite-worker.js';

type RequestBody = SqliteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * Where the worker's code is: next to this module in the build (dist/ or the bundle's chunks),
 * or, when the TypeScript sources run directly (vitest), the built copy in dist/.
 */
function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/audit/sqlite-worker.js', here) : new URL('./sqlite-worker.js', here);
}

/** The embedded trail: one SQLite file, written by a worker thread. */
export class SqliteAuditStore implements AuditStore {
  readonly backend = 'sqlite' as const;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private closed = false;
  readonly sql: SqlRunner = {
    backend: 'sqlite',
    placeholder: () => '?',
    all: (sql, params = []) => this.call({ op: 'all', sql, params: [...params] }),
    run: (sql, params = []) => this.call({ op: 'run', sql, params: [...params] }),
    batch: (statements) => this.call({ op: 'batch', statements: [...statements] }),
  };

  constructor(
    readonly location: string,
    readonly auditKeys: AuditKeys,
  ) {
    mkdirSync(dirname(location), { recursive: true, mode: 0o700 });
  }

  /** The worker, started on first use and again after it stopped (a crash must not hang the trail). */
  private running(): Worker {
    if (this.worker) return this.worker;
    // Only the key that links new records: the worker never verifies.
    const keys = this.auditKeys.keys.slice(0, 1).map(({ id, key }) => ({ id, key: key.toString('base64') }));
    // A small young generation: the worker's live heap is ~5 MB, and left alone V8 grows its
    // nursery to 32 MB of RSS. A young-generation cap cannot run the worker out of memory.
    const worker = new Worker(workerUrl(), {
      workerData: { file: this.location, keys } satisfies SqliteWorkerData,
      resourceLimits: { maxYoungGenerationSizeMb: 6 },
    });
    // The worker holds no timers of its own: it must not keep a finished process alive.
    worker.unref();
    worker.on('message', (reply: SqliteReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(reply.error.code === 'ERR_MODULE_NOT_FOUND' ? new AuditDriverMissingError() : Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    });
    const stopped = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const waiter of this.pending.values()) waiter.reject(error);
      this.pending.clear();
    };
    worker.on('error', (error) => stopped(Object.assign(error, { code: 'SQLITE_WORKER_FAILED' })));
    worker.on('exit', () => stopped(Object.assign(new Error('the audit trail worker stopped'), { code: 'SQLITE_WORKER_EXITED' })));
    return (this.worker = worker);
  }

  private call<T>(body: RequestBody): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the audit trail is closed'));
    const id = this.nextId++;
    const worker = this.running();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...body, id });
    });
  }

  migrate(): Promise<void> {
    return this.call({ op: 'migrate' });
  }

  append(entries: readonly AuditEntry[]): Promise<ChainHead> {
    return this.call({ op: 'append', entries: [...entries] });
  }

  find(filter: AuditFilter): Promise<AuditRow[]> {
    return this.call({ op: 'find', filter });
  }

  page(afterSeq: number, limit: number): Promise<AuditRow[]> {
    return this.call({ op: 'page', afterSeq, limit });
  }

  erase(email: string, tenantId?: string): Promise<ErasureResult> {
    return this.call({ op: 'erase', email, tenantId });
  }

  purgeBefore(cutoff: string): Promise<number> {
    return this.call({ op: 'purge', cutoff });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const worker = this.worker;
    if (worker) await this.call({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    await worker?.terminate();
  }
}
