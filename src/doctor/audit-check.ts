import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuditKeys } from '../audit/audit-key.js';
import { AuditDriverMissingError } from '../audit/audit-store.js';
import { auditDbPath, auditEnabled, auditKeysFor, openAuditStore } from '../audit/create-audit-trail.js';
import type { Settings } from '../config.js';
import { ConfigurationError } from '../errors.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { DoctorCheck } from './run-doctor.js';

const OPEN_TIMEOUT_MS = 5_000;
const base = { id: 'audit', title: 'Disclosure audit trail', affects: [] as string[] };

function where(backend: 'sqlite' | 'postgres', location: string): string {
  return backend === 'postgres' ? `Postgres at ${location}` : `SQLite file ${location}`;
}

interface KeyNote {
  note: string;
  warn?: string;
}

/** Where the chain's key comes from, and what to do about it (never the key). */
function keyNote(keys: AuditKeys, settings: Settings): KeyNote {
  const { source } = keys;
  if (source.kind === 'setting') return { note: `; chain keyed with AUDIT_KEY (${keys.keys.length === 1 ? '1 key' : `${keys.keys.length} keys`})` };
  if (source.kind === 'missing') return { note: `; its chain key will be generated into ${source.path} on first start (for production, set AUDIT_KEY from a secret store)` };
  let loose = false;
  try {
    loose = (statSync(source.path).mode & 0o077) !== 0;
  } catch {
    // Read a moment ago; gone now is the next start's concern.
  }
  if (loose) return { note: `; chain keyed with the key in ${source.path}, which other users can read`, warn: `chmod 600 ${source.path}, or move its content to a secret store and set AUDIT_KEY.` };
  if (settings.DATABASE_URL) {
    return { note: `; chain keyed with this machine's key file ${source.path}, not AUDIT_KEY: processes elsewhere link with keys of their own`, warn: `Set AUDIT_KEY to the same value on every process (keep this file's key in it, so older records still verify).` };
  }
  return { note: `; chain keyed with the generated key in ${source.path} (for production, move it to a secret store and set AUDIT_KEY)` };
}

/** Where checkpoints of the chain's head go besides the log (AUDIT_ANCHOR_FILE). */
function anchorNote(settings: Settings): KeyNote | undefined {
  const file = settings.AUDIT_ANCHOR_FILE;
  if (!file) return undefined;
  try {
    accessSync(existsSync(file) ? file : dirname(file), constants.W_OK);
    return { note: `; checkpoints appended to ${file}` };
  } catch {
    return { note: `; AUDIT_ANCHOR_FILE ${file} cannot be written, so checkpoints go to the log only`, warn: `Make ${file} (or its folder) writable by this user, or point AUDIT_ANCHOR_FILE elsewhere.` };
  }
}

/** The chain's key and checkpoints, as one note and the first fix. */
function chainNote(keys: AuditKeys, settings: Settings): KeyNote {
  const notes = [keyNote(keys, settings), anchorNote(settings)].filter((note) => note !== undefined);
  const warn = notes.find((note) => note.warn)?.warn;
  return { note: notes.map((note) => note.note).join(''), ...(warn ? { warn } : {}) };
}

/**
 * The trail `serve` would write: in a running server its live state (behind, lost records);
 * from the command line, whether its database opens and takes the schema.
 */
export async function auditCheck(runtime: ToolRuntime, settings: Settings, demo: boolean): Promise<DoctorCheck> {
  if (!auditEnabled(settings, 'serve')) {
    return { ...base, status: 'ok', detail: 'off (AUDIT=off): nothing records what the assistant shows to whom' };
  }
  const shared = settings.STORE_URL && !settings.DATABASE_URL
    ? { status: 'warn' as const, note: '; STORE_URL is set (several processes) but DATABASE_URL is not, so each process keeps its own trail file', fix: 'Set DATABASE_URL=postgres://… so every process writes one trail.' }
    : undefined;
  const trail = runtime.audit;
  if (trail) {
    const status = trail.status();
    // A merchant's staff (platform mode) are not shown where the platform keeps its database.
    const place = runtime.tenantId ? 'the audit trail' : where(status.backend, status.location);
    if (status.state === 'behind') {
      return {
        ...base,
        status: status.required ? 'fail' : 'warn',
        detail: `${place} cannot be written (${status.problem}): ${status.pending} records are waiting${status.lost > 0 ? `, ${status.lost} were lost` : ''}${status.required ? '; AUDIT_REQUIRED refuses billing answers meanwhile' : ''}`,
        fix: status.backend === 'postgres' ? 'Check that the Postgres in DATABASE_URL runs and accepts this user.' : 'Check the disk and the permissions of the audit file (AUDIT_DB).',
      };
    }
    if (status.lost > 0) {
      return { ...base, status: 'warn', detail: `${place}: ${status.lost} records were lost when the buffer (AUDIT_BUFFER) was full`, fix: 'Raise AUDIT_BUFFER or make the database more available.' };
    }
    // Platform mode: the trail is every merchant's; one merchant's status does not show its volume (nor its key).
    const written = runtime.tenantId ? 'recording' : `${status.written} records written`;
    const key = runtime.tenantId ? { note: '' } : chainNote(trail.store.auditKeys, settings);
    const fix = shared?.fix ?? key.warn;
    return { ...base, status: shared?.status ?? (key.warn ? 'warn' : 'ok'), detail: `${place}: ${written}${shared?.note ?? ''}${key.note}`, ...(fix ? { fix } : {}) };
  }
  // Doctor changes nothing: a trail file that does not exist yet is tried on a scratch file beside it, then removed.
  const file = settings.DATABASE_URL ? undefined : auditDbPath(settings, demo);
  const scratch = file !== undefined && !existsSync(file) ? scratchTrail(file) : undefined;
  try {
    const keys = auditKeysFor(settings, demo, false);
    const store = await openAuditStore(scratch ? { ...settings, AUDIT_DB: scratch.file } : settings, { demo, log: runtime.log, createKey: false });
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([store.migrate(), new Promise((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), OPEN_TIMEOUT_MS)))]).finally(() => clearTimeout(timer));
      const key = chainNote(keys, settings);
      const fix = shared?.fix ?? key.warn;
      const state = scratch ? `${where('sqlite', file!)} does not exist yet; serve creates it on start (its folder is writable)` : `${where(store.backend, store.location)} opens and is ready`;
      return { ...base, status: shared?.status ?? (key.warn ? 'warn' : 'ok'), detail: `${state}${shared?.note ?? ''}${key.note}`, ...(fix ? { fix } : {}) };
    } finally {
      await store.close().catch(() => undefined);
    }
  } catch (error) {
    // stdio does without a trail by default, so this stops only `serve`: a warning, not a failed tool.
    // A malformed AUDIT_KEY or key file: its message names it and the fix.
    if (error instanceof ConfigurationError) return { ...base, status: 'fail', detail: `\`serve\` will not start: ${error.message}`, fix: 'Fix AUDIT_KEY (label:base64 of 32 bytes, comma-separated, newest first), or the key file it names.' };
    if (error instanceof AuditDriverMissingError) return { ...base, status: 'warn', detail: '`serve` will not start: the better-sqlite3 package that keeps the trail in a SQLite file is not installed', fix: error.message };
    const code = String((error as { code?: unknown })?.code ?? 'error');
    return settings.DATABASE_URL
      ? { ...base, status: 'fail', detail: `the Postgres in DATABASE_URL did not answer (${code})`, fix: 'Check that Postgres runs, the URL is right and the user may create tables.' }
      : { ...base, status: 'fail', detail: `the audit file could not be opened (${code})`, fix: 'Check AUDIT_DB (or XDG_DATA_HOME) points at a writable folder.' };
  } finally {
    scratch?.remove();
  }
}

/**
 * A throw-away database in the folder the trail would be made in, and what removes it: its
 * files, and each folder opening it made (only if empty: another process may be starting there).
 */
function scratchTrail(file: string): { file: string; remove(): void } {
  const made: string[] = [];
  for (let folder = dirname(file); !existsSync(folder) && dirname(folder) !== folder; folder = dirname(folder)) made.push(folder);
  const scratch = join(dirname(file), `.doctor-${process.pid}-${randomBytes(4).toString('hex')}.db`);
  return {
    file: scratch,
    remove() {
      for (const suffix of ['', '-wal', '-shm', '-journal']) {
        try {
          rmSync(`${scratch}${suffix}`, { force: true });
        } catch {
          // Never made (its folder could not be).
        }
      }
      for (const folder of made) {
        try {
          rmdirSync(folder);
        } catch {
          // Not empty (or gone): someone else's now.
        }
      }
    },
  };
}
