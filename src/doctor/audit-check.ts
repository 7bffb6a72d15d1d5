import { AuditDriverMissingError } from '../audit/audit-store.js';
import { auditEnabled, openAuditStore } from '../audit/create-audit-trail.js';
import type { Settings } from '../config.js';
import type { ToolRuntime } from '../tools/lib/context.js';
import type { DoctorCheck } from './run-doctor.js';

const OPEN_TIMEOUT_MS = 5_000;
const base = { id: 'audit', title: 'Disclosure audit trail', affects: [] as string[] };

function where(backend: 'sqlite' | 'postgres', location: string): string {
  return backend === 'postgres' ? `Postgres at ${location}` : `SQLite file ${location}`;
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
    // Platform mode: the trail is every merchant's; one merchant's status does not show its volume.
    const written = runtime.tenantId ? 'recording' : `${status.written} records written`;
    return { ...base, status: shared?.status ?? 'ok', detail: `${place}: ${written}${shared?.note ?? ''}`, ...(shared ? { fix: shared.fix } : {}) };
  }
  try {
    const store = await openAuditStore(settings, { demo, log: runtime.log });
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([store.migrate(), new Promise((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), OPEN_TIMEOUT_MS)))]).finally(() => clearTimeout(timer));
      return { ...base, status: shared?.status ?? 'ok', detail: `${where(store.backend, store.location)} opens and is ready${shared?.note ?? ''}`, ...(shared ? { fix: shared.fix } : {}) };
    } finally {
      await store.close().catch(() => undefined);
    }
  } catch (error) {
    // stdio does without a trail by default, so this stops only `serve`: a warning, not a failed tool.
    if (error instanceof AuditDriverMissingError) return { ...base, status: 'warn', detail: '`serve` will not start: the better-sqlite3 package that keeps the trail in a SQLite file is not installed', fix: error.message };
    const code = String((error as { code?: unknown })?.code ?? 'error');
    return settings.DATABASE_URL
      ? { ...base, status: 'fail', detail: `the Postgres in DATABASE_URL did not answer (${code})`, fix: 'Check that Postgres runs, the URL is right and the user may create tables.' }
      : { ...base, status: 'fail', detail: `the audit file could not be opened (${code})`, fix: 'Check AUDIT_DB (or XDG_DATA_HOME) points at a writable folder.' };
  }
}
