/**
 * The SQLite trail's worker thread: better-sqlite3 is synchronous, so every statement runs here,
 * off the server's event loop. Requests are handled one at a time, in the order they arrive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { BatchStatement } from './audit-store.js';
import { appendEntries, eraseEmail, findRows, migrate, pageRows, purgeBefore, runBatch, type SqlDialect, type SqlTx } from './sql-trail.js';
import type { ChainKey } from './chain.js';
import type { AuditEntry, AuditFilter } from './record.js';

export type SqliteRequest =
  | { id: number; op: 'migrate' }
  | { id: number; op: 'append'; entries: AuditEntry[] }
  | { id: number; op: 'find'; filter: AuditFilter }
  | { id: number; op: 'page'; afterSeq: number; limit: number }
  | { id: number; op: 'erase'; email: string; tenantId?: string | undefined }
  | { id: number; op: 'purge'; cutoff: string }
  | { id: number; op: 'all'; sql: string; params: Array<string | number | null> }
  | { id: number; op: 'run'; sql: string; params: Array<string | number | null> }
  | { id: number; op: 'batch'; statements: BatchStatement[] }
  | { id: number; op: 'close' };

export type SqliteReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { message: string; code?: string } };

/** What the worker starts with: the file, and the chain keys (base64) it links records under. */
export interface SqliteWorkerData {
  file: string;
  keys: Array<{ id: string; key: string }>;
}

const dialect: SqlDialect = { backend: 'sqlite', placeholder: () => '?' };

async function open(file: string): Promise<Database.Database> {
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(file);
  // Several processes may share the file: wait for another's write lock instead of failing. First:
  // two processes opening a new file at once both switch it to WAL, and without a timeout the
  // second switch fails at once with "database is locked".
  db.pragma('busy_timeout = 5000');
  // WAL: readers never wait for the writer; NORMAL is durable across process crashes in WAL mode.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Erased and purged values are overwritten with zeros where they lay, not left in freed space.
  db.pragma('secure_delete = ON');
  return db;
}

/**
 * After an erase or a purge: copies every page into the main file and empties the -wal, which
 * still holds the old versions of the changed pages. A reader (another process mid-query) can
 * keep it from finishing; then the caller is told, and running the command again completes it.
 */
function emptyWriteAheadLog(db: Database.Database): void {
  const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  if (result && result.busy !== 0) {
    throw Object.assign(new Error('the change is committed, but another connection kept SQLite from emptying its write-ahead log (the -wal file), which may still hold the old values: run the command again'), { code: 'SQLITE_BUSY' });
  }
}

// Compiling a statement costs more than running it: batches reuse theirs (one per batch size).
const statements = new Map<string, Database.Statement>();

function prepared(db: Database.Database, sql: string): Database.Statement {
  let statement = statements.get(sql);
  if (!statement) {
    if (statements.size >= 500) statements.clear();
    statement = db.prepare(sql);
    statements.set(sql, statement);
  }
  return statement;
}

function txOf(db: Database.Database): SqlTx {
  return {
    all: async (sql, params = []) => prepared(db, sql).all(...params) as Array<Record<string, unknown>>,
    run: async (sql, params = []) => prepared(db, sql).run(...params).changes,
  };
}

/** BEGIN IMMEDIATE takes SQLite's write lock first: the chain head cannot move under us. */
async function locked<T>(db: Database.Database, work: (tx: SqlTx) => Promise<T>): Promise<T> {
  db.exec('BEGIN IMMEDIATE');
  try {
    const value = await work(txOf(db));
    db.exec('COMMIT');
    return value;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/** The key new records are linked under; a store opened without one (doctor) writes nothing. */
function signer(key: ChainKey | undefined): ChainKey {
  if (!key) throw Object.assign(new Error('the audit trail has no key to link records with: set AUDIT_KEY'), { code: 'AUDIT_NO_KEY' });
  return key;
}

async function handle(db: Database.Database, key: ChainKey | undefined, request: SqliteRequest): Promise<unknown> {
  switch (request.op) {
    case 'migrate':
      return locked(db, (tx) => migrate(tx, dialect));
    case 'append':
      return locked(db, (tx) => appendEntries(tx, dialect, signer(key), request.entries));
    case 'find':
      return findRows(txOf(db), dialect, request.filter);
    case 'page':
      return pageRows(txOf(db), dialect, request.afterSeq, request.limit);
    case 'erase': {
      const erased = await locked(db, (tx) => eraseEmail(tx, dialect, signer(key), request.email, request.tenantId));
      // Also when nothing was left to erase: running erase again finishes an earlier one.
      emptyWriteAheadLog(db);
      return erased;
    }
    case 'purge': {
      const purged = await locked(db, (tx) => purgeBefore(tx, dialect, signer(key), request.cutoff));
      emptyWriteAheadLog(db);
      return purged;
    }
    case 'all':
      return txOf(db).all(request.sql, request.params);
    case 'run':
      return txOf(db).run(request.sql, request.params);
    case 'batch':
      return locked(db, (tx) => runBatch(tx, request.statements));
    case 'close':
      db.close();
      return undefined;
  }
}

if (parentPort) {
  const port = parentPort;
  const data = workerData as SqliteWorkerData;
  const opened = open(data.file);
  const first = data.keys[0];
  const key: ChainKey | undefined = first ? { id: first.id, key: Buffer.from(first.key, 'base64') } : undefined;
  // A missing driver is answered to each request below, not thrown as an unhandled rejection.
  opened.catch(() => undefined);
  let queue: Promise<unknown> = Promise.resolve();
  port.on('message', (request: SqliteRequest) => {
    queue = queue
      .then(() => opened)
      .then((db) => handle(db, key, request))
      .then(
        (value) => port.postMessage({ id: request.id, ok: true, value } satisfies SqliteReply),
        (error: unknown) => {
          const { message, code } = error as { message?: string; code?: string };
          port.postMessage({ id: request.id, ok: false, error: { message: String(message ?? error), ...(code ? { code } : {}) } } satisfies SqliteReply);
        },
      );
  });
}
