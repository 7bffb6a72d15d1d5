/**
 * The trail as the server uses it: records are queued and written in batches, so a tool call
 * never waits for the database. The loss rule: while the database cannot be written, up to
 * `bufferLimit` records wait in memory and are written, in order, once it is back; records
 * beyond that are counted as lost (metrics and a log line), never dropped silently. With
 * `required`, a call discloses only after its own record is committed.
 */
import type { Logger } from '../log.js';
import { AuditDriverMissingError, loggedDbError, type AuditStore } from './audit-store.js';
import type { Checkpointer } from './checkpoints.js';
import type { AuditEntry } from './record.js';

export interface AuditTrailOptions {
  store: AuditStore;
  log: Logger;
  /** AUDIT_BUFFER: records held while the database cannot be written. */
  bufferLimit: number;
  /** AUDIT_REQUIRED: fail closed. */
  required: boolean;
  batchSize?: number;
  /** How long a new record may wait for companions before a write starts. */
  flushDelayMs?: number;
  /** Told the chain's head after every write: checkpoints it to the log and AUDIT_ANCHOR_FILE. */
  checkpoints?: Checkpointer | undefined;
}

/** Why the trail cannot be written, in words safe for /readyz and doctor (the log has the detail). */
export type AuditProblem = 'unreachable' | 'driver_missing' | 'storage' | 'error';

export interface AuditStatus {
  backend: 'sqlite' | 'postgres';
  location: string;
  required: boolean;
  /** ok: written as calls happen; behind: records wait for a database that cannot be written. */
  state: 'ok' | 'behind';
  problem?: AuditProblem;
  pending: number;
  written: number;
  lost: number;
  last_written_at: string | null;
}

/** AUDIT_REQUIRED and the trail cannot be written: the call must not disclose. */
export class AuditUnavailableError extends Error {
  constructor() {
    super('the audit trail cannot be written');
    this.name = 'AuditUnavailableError';
  }
}

interface Queued {
  entry: AuditEntry;
  committed?: { resolve: () => void; reject: (error: Error) => void };
}

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5_000;
const LOSS_LOG_EVERY_MS = 10_000;

function problemOf(error: unknown): AuditProblem {
  if (error instanceof AuditDriverMissingError) return 'driver_missing';
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = error instanceof Error ? error.message : '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|57P0[1-3]|08\d\d\d)$/.test(code) || /timeout|terminat|connect/i.test(message)) return 'unreachable';
  if (/^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|WORKER)/.test(code) || /^(ENOSPC|EACCES|EROFS)$/.test(code)) return 'storage';
  return 'error';
}

/** A refused version of a call's record: it was not disclosed because the trail could not take it. */
function refusedForAudit(entry: AuditEntry): AuditEntry {
  return { ...entry, outcome: 'refused', reason: 'audit_unavailable', disclosed: [], write: entry.write };
}

export class AuditTrail {
  readonly required: boolean;
  private readonly queue: Queued[] = [];
  private readonly batchSize: number;
  private readonly flushDelayMs: number;
  private migrated = false;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private problem: AuditProblem | undefined;
  private written = 0;
  private lost = 0;
  private lostSinceLog = 0;
  private lastLossLog = 0;
  private lastWrittenAt: string | null = null;
  private closing = false;
  private closed: Promise<void> | undefined;

  constructor(private readonly options: AuditTrailOptions) {
    this.required = options.required;
    this.batchSize = options.batchSize ?? 500;
    // Fewer, larger batches cost far less per record; a fail-closed call waits for its batch, so not long.
    this.flushDelayMs = options.flushDelayMs ?? (options.required ? 2 : 25);
  }

  get store(): AuditStore {
    return this.options.store;
  }

  /**
   * Creates the schema. A missing driver is fatal (start-up names the fixes); an unreachable
   * database is not: records wait in the buffer and the schema is made when it is back.
   */
  async start(): Promise<void> {
    try {
      await this.options.store.migrate();
      this.migrated = true;
    } catch (error) {
      if (error instanceof AuditDriverMissingError) throw error;
      this.fail(error);
      this.schedule(this.retryMs);
    }
  }

  /** False while the database cannot be written (AUDIT_REQUIRED calls are refused then). */
  get writable(): boolean {
    return this.problem === undefined;
  }

  /** Queues a record; never throws and never waits. */
  record(entry: AuditEntry): void {
    // After close nothing will write it: counted, never silently dropped.
    if (this.closing || this.queue.length >= this.options.bufferLimit) {
      this.countLost(1);
      return;
    }
    this.queue.push({ entry });
    this.scheduleSoon();
  }

  /**
   * AUDIT_REQUIRED: resolves once this record is committed. While the trail cannot be written it
   * rejects at once, and the call's record is kept as refused (it disclosed nothing).
   */
  commit(entry: AuditEntry): Promise<void> {
    if (!this.writable || this.queue.length >= this.options.bufferLimit) {
      this.record(refusedForAudit(entry));
      return Promise.reject(new AuditUnavailableError());
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ entry, committed: { resolve, reject } });
      this.scheduleSoon();
    });
  }

  status(): AuditStatus {
    return {
      backend: this.options.store.backend,
      location: this.options.store.location,
      required: this.required,
      state: this.problem ? 'behind' : 'ok',
      ...(this.problem ? { problem: this.problem } : {}),
      pending: this.queue.length,
      written: this.written,
      lost: this.lost,
      last_written_at: this.lastWrittenAt,
    };
  }

  /** Writes what is queued now (tests, shutdown); resolves when written or when the database refuses. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0) {
      await (this.writing ??= this.writeBatch().finally(() => (this.writing = undefined)));
      if (this.problem) return;
    }
  }

  /** Stops: writes what it can within `deadlineMs`, counts the rest as lost, closes the database. Idempotent. */
  close(deadlineMs = 3_000): Promise<void> {
    return (this.closed ??= this.shutDown(deadlineMs));
  }

  private async shutDown(deadlineMs: number): Promise<void> {
    this.closing = true;
    clearTimeout(this.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))]);
    clearTimeout(timer);
    if (this.queue.length > 0) {
      this.options.log.error({ lost: this.queue.length }, 'audit trail: records not written before shutdown are lost');
      this.lost += this.queue.length;
      for (const queued of this.queue.splice(0)) queued.committed?.reject(new AuditUnavailableError());
      this.countLost(0);
    }
    // The newest records' head goes out before the process does.
    this.options.checkpoints?.close();
    await this.options.store.close();
  }

  private countLost(count: number): void {
    this.lost += count;
    this.lostSinceLog += count;
    const now = Date.now();
    if (this.lostSinceLog > 0 && (now - this.lastLossLog >= LOSS_LOG_EVERY_MS || this.closing)) {
      this.options.log.error({ lost: this.lostSinceLog, lost_total: this.lost, buffer: this.options.bufferLimit }, 'audit trail: buffer full, records lost');
      this.lostSinceLog = 0;
      this.lastLossLog = now;
    }
  }

  private scheduleSoon(): void {
    if (this.timer || this.writing || this.problem || this.closing) return;
    this.schedule(this.flushDelayMs);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing ??= this.writeBatch().finally(() => {
        this.writing = undefined;
        if (this.queue.length > 0 && !this.problem) this.scheduleSoon();
      });
    }, ms);
    // A pending write never keeps a finished process alive; close() flushes on shutdown.
    this.timer.unref();
  }

  private async writeBatch(): Promise<void> {
    const batch = this.queue.slice(0, this.batchSize);
    if (batch.length === 0 && !this.problem) return;
    try {
      // With nothing queued, a retry still checks the database, so AUDIT_REQUIRED calls resume.
      if (!this.migrated || batch.length === 0) {
        await this.options.store.migrate();
        this.migrated = true;
      }
      if (batch.length > 0) {
        const head = await this.options.store.append(batch.map((queued) => queued.entry));
        this.options.checkpoints?.written(head);
      }
    } catch (error) {
      // The database answered but refused the batch: find the record it refuses, so one bad record
      // cannot hold back every record after it.
      if (this.migrated && batch.length > 0 && problemOf(error) === 'error' && (await this.writeOneByOne(batch))) return;
      this.fail(error);
      // Calls waiting on their own record are refused; their records stay, as refusals.
      for (const queued of batch) {
        if (!queued.committed) continue;
        queued.committed.reject(new AuditUnavailableError());
        queued.entry = refusedForAudit(queued.entry);
        delete queued.committed;
      }
      if (!this.closing) this.schedule(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
      return;
    }
    this.queue.splice(0, batch.length);
    this.written += batch.length;
    if (batch.length > 0) this.lastWrittenAt = new Date().toISOString();
    for (const queued of batch) queued.committed?.resolve();
    if (this.problem) {
      this.options.log.info({ backend: this.options.store.backend, pending: this.queue.length }, 'audit trail: database is back, writing held records');
      this.problem = undefined;
      this.retryMs = RETRY_MIN_MS;
    }
  }

  /**
   * The batch again, a record at a time. A record the database itself refuses is counted lost and
   * logged (its call, if waiting on it, is refused); written ones are written. False when the
   * database stops answering meanwhile: what is left waits in the queue as usual.
   */
  private async writeOneByOne(batch: Queued[]): Promise<boolean> {
    let refused = 0;
    for (const queued of batch) {
      try {
        const head = await this.options.store.append([queued.entry]);
        this.options.checkpoints?.written(head);
        this.written += 1;
        queued.committed?.resolve();
      } catch (error) {
        if (problemOf(error) !== 'error') return false;
        refused += 1;
        queued.committed?.reject(new AuditUnavailableError());
        this.options.log.error({ err: loggedDbError(error), tool: queued.entry.tool }, 'audit trail: the database refused a record; it is counted lost');
      }
      // Done with this one either way; if the database stops answering, the rest stay queued.
      if (this.queue[0] === queued) this.queue.shift();
    }
    this.lost += refused;
    this.lastWrittenAt = new Date().toISOString();
    return true;
  }

  private fail(error: unknown): void {
    const problem = problemOf(error);
    const first = this.problem === undefined;
    this.problem = problem;
    if (first) {
      this.options.log.warn(
        { backend: this.options.store.backend, problem, err: loggedDbError(error), pending: this.queue.length },
        'audit trail: cannot write, holding records',
      );
    }
  }

}
